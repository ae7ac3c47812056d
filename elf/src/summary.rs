//! What a file says about its dynamic linking, for `--print` and `--json`.

use serde::Serialize;

use crate::consts::*;
use crate::ctx::{Class, Endian};
use crate::error::Result;
use crate::view::Elf;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub format: &'static str,
    pub class: &'static str,
    pub endian: &'static str,
    pub machine: &'static str,
    /// `executable`, `pie-executable`, `static-pie`, `shared-library` or `relocatable`/`other`.
    pub kind: &'static str,
    pub interpreter: Option<String>,
    pub soname: Option<String>,
    /// DT_RPATH, split at colons.
    pub rpath: Option<Vec<String>>,
    /// DT_RUNPATH, split at colons.
    pub runpath: Option<Vec<String>>,
    pub needed: Vec<String>,
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl Summary {
    pub fn of(elf: &Elf) -> Result<Summary> {
        let path = |tag| -> Result<Option<Vec<String>>> {
            Ok(elf.dyn_strings(tag)?.first().map(|s| {
                crate::edit::split_rpath(s)
                    .iter()
                    .map(|p| text(p))
                    .collect()
            }))
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
            soname: elf.dyn_strings(DT_SONAME)?.first().map(|s| text(s)),
            rpath: path(DT_RPATH)?,
            runpath: path(DT_RUNPATH)?,
            needed: elf
                .dyn_strings(DT_NEEDED)?
                .iter()
                .map(|s| text(s))
                .collect(),
        })
    }
}
