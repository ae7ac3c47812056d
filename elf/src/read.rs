//! What a file says about its dynamic linking, read the way the loader reads it: needed
//! libraries, soname, run path (DT_RUNPATH wins over DT_RPATH), version needs, and a cheap peek
//! at the header of bytes that may be an ELF file.

use crate::consts::*;
use crate::ctx::{Class, Ctx, Endian};
use crate::error::Result;
use crate::headers::Ehdr;
use crate::view::Elf;

/// The tag a run path is stored under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunPathTag {
    /// DT_RPATH: searched before `LD_LIBRARY_PATH`, and inherited by the libraries it loads.
    Rpath,
    /// DT_RUNPATH: searched after `LD_LIBRARY_PATH`, for this object's own needs only.
    Runpath,
}

/// The run path the loader uses for an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunPath<'a> {
    /// Where it is stored.
    pub tag: RunPathTag,
    /// The colon-separated list, as stored.
    pub value: &'a [u8],
}

impl<'a> RunPath<'a> {
    /// The entries of the list (none for an empty value).
    pub fn entries(&self) -> Vec<&'a [u8]> {
        if self.value.is_empty() {
            return Vec::new();
        }
        self.value.split(|&b| b == b':').collect()
    }
}

/// One library that versioned symbols are needed from, with the version names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionNeed<'a> {
    /// File offset of the `.gnu.version_r` record.
    pub offset: u64,
    /// The library (`vn_file`).
    pub file: &'a [u8],
    /// The versions needed from it (`vna_name`), e.g. `GLIBC_2.34`; those that cannot be read
    /// are left out.
    pub versions: Vec<&'a [u8]>,
}

/// What the first bytes of a file say, without parsing further.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ident {
    /// 32- or 64-bit.
    pub class: Class,
    /// Byte order.
    pub endian: Endian,
    /// `e_type` (ET_EXEC, ET_DYN, …).
    pub e_type: u16,
    /// `e_machine` (EM_X86_64, …).
    pub machine: u16,
}

/// Reads the ELF header at the start of `bytes` (64 bytes are enough for either class); `None`
/// when the bytes are not an ELF header.
pub fn peek(bytes: &[u8]) -> Option<Ident> {
    let (ctx, h): (Ctx, Ehdr) = Ehdr::parse(bytes).ok()?;
    Some(Ident {
        class: ctx.class,
        endian: ctx.endian,
        e_type: h.e_type,
        machine: h.e_machine,
    })
}

impl<'a> Elf<'a> {
    /// The first string of a dynamic tag.
    fn first_string(&self, tag: u64) -> Result<Option<&'a [u8]>> {
        Ok(self.dyn_strings(tag)?.first().copied())
    }

    /// DT_NEEDED entries, in order.
    pub fn needed(&self) -> Result<Vec<&'a [u8]>> {
        self.dyn_strings(DT_NEEDED)
    }

    /// DT_SONAME.
    pub fn soname(&self) -> Result<Option<&'a [u8]>> {
        self.first_string(DT_SONAME)
    }

    /// DT_RPATH, whether or not it is used.
    pub fn rpath(&self) -> Result<Option<&'a [u8]>> {
        self.first_string(DT_RPATH)
    }

    /// DT_RUNPATH.
    pub fn runpath(&self) -> Result<Option<&'a [u8]>> {
        self.first_string(DT_RUNPATH)
    }

    /// The run path the loader uses: DT_RUNPATH when present (DT_RPATH is then ignored), else
    /// DT_RPATH.
    pub fn run_path(&self) -> Result<Option<RunPath<'a>>> {
        if let Some(value) = self.runpath()? {
            return Ok(Some(RunPath {
                tag: RunPathTag::Runpath,
                value,
            }));
        }
        Ok(self.rpath()?.map(|value| RunPath {
            tag: RunPathTag::Rpath,
            value,
        }))
    }

    /// The libraries versioned symbols come from (`.gnu.version_r`), with the versions.
    pub fn version_needs(&self) -> Result<Vec<VersionNeed<'a>>> {
        self.verneed
            .iter()
            .map(|v| {
                Ok(VersionNeed {
                    offset: v.field - 4,
                    file: self.dynstr_at(v.name)?,
                    versions: v
                        .versions
                        .iter()
                        .flatten()
                        .filter_map(|&o| self.dynstr_at(o).ok())
                        .collect(),
                })
            })
            .collect()
    }
}
