//! What a file says about its dynamic linking, for `--print` and `--json`.

use serde::Serialize;

use crate::consts::*;
use crate::ctx::{Class, Endian};
use crate::error::Result;
use crate::view::Elf;

/// The dynamic-linking facts of one file (`--print`, `--json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Always `elf`.
    pub format: &'static str,
    /// `ELF32` or `ELF64`.
    pub class: &'static str,
    /// `little` or `big`.
    pub endian: &'static str,
    /// The machine's usual name (`x86_64`, `aarch64`, …).
    pub machine: &'static str,
    /// `executable`, `pie-executable`, `static-pie`, `shared-library` or `relocatable`/`other`.
    pub kind: &'static str,
    /// PT_INTERP.
    pub interpreter: Option<String>,
    /// DT_SONAME.
    pub soname: Option<String>,
    /// DT_RPATH, split at colons.
    pub rpath: Option<Vec<String>>,
    /// DT_RUNPATH, split at colons.
    pub runpath: Option<Vec<String>>,
    /// DT_NEEDED, in order.
    pub needed: Vec<String>,
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl Summary {
    /// The summary of a parsed file.
    pub fn of(elf: &Elf) -> Result<Summary> {
        let path = |s: Option<&[u8]>| -> Option<Vec<String>> {
            s.map(|s| {
                crate::edit::split_rpath(s)
                    .iter()
                    .map(|p| text(p))
                    .collect()
            })
        };
        let kind = match elf.ehdr.e_type {
            ET_EXEC => "executable",
            ET_DYN if elf.find_phdr(PT_INTERP).is_some() => "pie-executable",
            ET_DYN if elf.is_static_pie() => "static-pie",
            ET_DYN => "shared-library",
            1 => "relocatable",
            _ => "other",
        };
        Ok(Summary {
            format: "elf",
            class: if elf.ctx.class == Class::Elf64 {
                "ELF64"
            } else {
                "ELF32"
            },
            endian: if elf.ctx.endian == Endian::Little {
                "little"
            } else {
                "big"
            },
            machine: machine_name(elf.ehdr.e_machine),
            kind,
            interpreter: elf.interpreter().map(text),
            soname: elf.soname()?.map(text),
            rpath: path(elf.rpath()?),
            runpath: path(elf.runpath()?),
            needed: elf.needed()?.into_iter().map(text).collect(),
        })
    }
}
