//! Typed errors for reading and rewriting ELF files.

use std::fmt;

/// Everything that can go wrong while reading or rewriting an ELF file.
///
/// Messages are written for the person at the terminal: they say what is wrong and, where it
/// helps, at which file offset.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not an ELF file at all.
    NotElf,
    /// A structure claims bytes beyond the end of the file (or an arithmetic overflow).
    Truncated {
        /// The structure.
        what: &'static str,
        /// Where it starts.
        offset: u64,
        /// How many bytes it claims.
        len: u64,
        /// The file's length.
        file_len: u64,
    },
    /// A field holds a value that cannot be right.
    Malformed {
        /// The structure or field.
        what: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// The file is valid, but the request cannot be carried out on it.
    Unsupported(String),
    /// The edit needs more room than the file has and growing was forbidden.
    NoRoom(String),
    /// A request names something the file does not have (e.g. an rpath entry).
    NotFound(String),
    /// The edit needs a table the file does not have; holds its usual section name
    /// (`.dynamic`, `.dynstr`, `.dynsym`, `.gnu.version`, `.interp`).
    MissingTable(&'static str),
    /// `--build-resolution-cache` on a file whose cache note differs from what would be built
    /// (patchelf 0.19 refuses to rebuild a cache in place).
    CacheAlreadyPresent,
    /// An invariant of this crate does not hold (a check of its own output failed, a step
    /// found what an earlier one should have prevented): a bug here, never the input's fault.
    Internal(String),
}

/// A result with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotElf => write!(f, "not an ELF file (bad magic)"),
            Error::Truncated {
                what,
                offset,
                len,
                file_len,
            } => write!(
                f,
                "truncated or malformed ELF: {what} at offset {offset:#x} (+{len:#x} bytes) \
                 lies beyond the end of the file ({file_len:#x} bytes)"
            ),
            Error::Malformed { what, detail } => write!(f, "malformed ELF: {what}: {detail}"),
            Error::Unsupported(m) => write!(f, "{m}"),
            Error::NoRoom(m) => write!(f, "{m}"),
            Error::NotFound(m) => write!(f, "{m}"),
            Error::MissingTable(name) => {
                let what = match *name {
                    ".dynamic" => "dynamic section (statically linked): nothing to edit there",
                    ".dynstr" => "dynamic string table (DT_STRTAB/DT_STRSZ) to hold names",
                    ".dynsym" => "dynamic symbol table whose size can be found",
                    ".gnu.version" => "symbol version table",
                    ".interp" => {
                        "program interpreter (PT_INTERP): a static executable or a shared library"
                    }
                    _ => "such table",
                };
                write!(f, "the file has no {what} ({name})")
            }
            Error::CacheAlreadyPresent => write!(
                f,
                "--build-resolution-cache: a resolution cache note is already present; rebuild \
                 from an unpatched binary"
            ),
            Error::Internal(m) => write!(f, "internal error (a bug in shenzi): {m}"),
        }
    }
}

impl std::error::Error for Error {}

pub(crate) fn malformed(what: &'static str, detail: impl Into<String>) -> Error {
    Error::Malformed {
        what,
        detail: detail.into(),
    }
}
