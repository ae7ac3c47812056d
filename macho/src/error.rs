//! Typed errors for reading, editing and signing Mach-O files.

use std::fmt;

/// Everything that can go wrong while reading or rewriting a Mach-O file.
///
/// Messages are written for the person at the terminal: they say what is wrong and, where it
/// helps, at which offset.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not a Mach-O (thin or fat) file.
    NotMachO,
    /// A structure claims bytes beyond the end of the file (or an arithmetic overflow).
    Truncated {
        /// The structure.
        what: &'static str,
        /// Where it starts.
        offset: u64,
        /// How many bytes it claims.
        len: u64,
        /// The length of the file (or of the enclosing structure).
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
    /// The new load commands do not fit and growing was forbidden.
    NoRoom {
        /// Architecture name of the slice.
        arch: String,
        /// Bytes the load commands need after the header.
        need: u64,
        /// Bytes there are.
        room: u64,
    },
    /// A request names an rpath the file does not have.
    RpathNotFound {
        /// Architecture name of the slice.
        arch: String,
        /// The path asked for.
        path: String,
    },
    /// A request would create a second LC_RPATH with the same path.
    RpathDuplicate {
        /// Architecture name of the slice.
        arch: String,
        /// The path.
        path: String,
    },
    /// `--id` on a file that is not a dynamic library.
    NotADylib {
        /// Architecture name of the slice.
        arch: String,
    },
    /// An invariant of this crate does not hold (a check of its own output failed, a step
    /// found what an earlier one should have prevented): a bug here, never the input's fault.
    Internal(String),
}

/// A result with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotMachO => write!(f, "not a Mach-O file (bad magic)"),
            Error::Truncated {
                what,
                offset,
                len,
                file_len,
            } => write!(
                f,
                "truncated or malformed Mach-O: {what} at offset {offset:#x} (+{len:#x} bytes) \
                 lies beyond the end of the file ({file_len:#x} bytes)"
            ),
            Error::Malformed { what, detail } => write!(f, "malformed Mach-O: {what}: {detail}"),
            Error::Unsupported(m) => write!(f, "{m}"),
            Error::NoRoom { arch, need, room } => write!(
                f,
                "the updated load commands do not fit ({arch}): they need {need} bytes after the \
                 header and there are {room}; growing was not allowed (--no-grow)"
            ),
            Error::RpathNotFound { arch, path } => {
                write!(f, "no LC_RPATH load command with path: {path} ({arch})")
            }
            Error::RpathDuplicate { arch, path } => {
                write!(
                    f,
                    "would duplicate path, file already has LC_RPATH for: {path} ({arch})"
                )
            }
            Error::NotADylib { arch } => {
                write!(
                    f,
                    "not a dynamic library ({arch}): it has no install name to set"
                )
            }
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

pub(crate) fn truncated(what: &'static str, offset: u64, len: u64, file_len: usize) -> Error {
    Error::Truncated {
        what,
        offset,
        len,
        file_len: file_len as u64,
    }
}
