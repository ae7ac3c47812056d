//! What the resolver needs to know about one ELF file: its machine, soname, needed libraries,
//! search paths and the glibc / libstdc++ symbol versions it requires.

use std::path::Path;

use anyhow::{Context, Result};
use shenzi_elf::consts::{DT_NEEDED, DT_RPATH, DT_RUNPATH, DT_SONAME};
use shenzi_elf::{Class, Elf};

#[derive(Debug, Clone, Default)]
pub struct ElfInfo {
    pub machine: u16,
    pub is64: bool,
    pub soname: Option<String>,
    pub needed: Vec<String>,
    pub rpath: Vec<String>,
    pub runpath: Vec<String>,
    pub has_rpath_tag: bool,
    pub has_runpath_tag: bool,
    /// Highest `GLIBC_x.y` required, as (x, y).
    pub glibc: Option<(u32, u32)>,
    /// Highest `GLIBCXX_x.y.z` required.
    pub glibcxx: Option<(u32, u32, u32)>,
}

/// Whether the file starts with the ELF magic (cheap: reads 4 bytes).
pub fn is_elf_file(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && shenzi_elf::is_elf(&magic)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn split(list: Option<&&[u8]>) -> Vec<String> {
    match list {
        Some(s) if !s.is_empty() => s.split(|&b| b == b':').map(text).collect(),
        _ => Vec::new(),
    }
}

fn parse_version<const N: usize>(s: &str) -> Option<[u32; N]> {
    let mut out = [0u32; N];
    let mut parts = s.split('.');
    for (i, slot) in out.iter_mut().enumerate() {
        match parts.next() {
            Some(p) => *slot = p.parse().ok()?,
            None if i > 0 => break,
            None => return None,
        }
    }
    Some(out)
}

impl ElfInfo {
    pub fn read(path: &Path) -> Result<ElfInfo> {
        let file =
            std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        // SAFETY: read-only map of a file the bundler only reads; a concurrent writer could
        // change bytes under us, which the parser tolerates (bounds-checked).
        let map = unsafe { memmap2::Mmap::map(&file) }
            .with_context(|| format!("cannot map {}", path.display()))?;
        ElfInfo::parse(&map).with_context(|| format!("{}: not a usable ELF file", path.display()))
    }

    pub fn parse(data: &[u8]) -> Result<ElfInfo> {
        let elf = Elf::parse(data)?;
        let rpath = elf.dyn_strings(DT_RPATH)?;
        let runpath = elf.dyn_strings(DT_RUNPATH)?;
        let mut info = ElfInfo {
            machine: elf.ehdr.e_machine,
            is64: elf.ctx.class == Class::Elf64,
            soname: elf.dyn_strings(DT_SONAME)?.first().map(|s| text(s)),
            needed: elf
                .dyn_strings(DT_NEEDED)?
                .iter()
                .map(|s| text(s))
                .collect(),
            rpath: split(rpath.first()),
            runpath: split(runpath.first()),
            has_rpath_tag: !rpath.is_empty(),
            has_runpath_tag: !runpath.is_empty(),
            glibc: None,
            glibcxx: None,
        };
        for name in version_needs(&elf) {
            if let Some(v) = name.strip_prefix("GLIBC_").and_then(parse_version::<2>) {
                info.glibc = info.glibc.max(Some((v[0], v[1])));
            } else if let Some(v) = name.strip_prefix("GLIBCXX_").and_then(parse_version::<3>) {
                info.glibcxx = info.glibcxx.max(Some((v[0], v[1], v[2])));
            }
        }
        Ok(info)
    }
}

/// The `vna_name` strings of `.gnu.version_r` (symbol versions this file needs).
fn version_needs(elf: &Elf) -> Vec<String> {
    let mut out = Vec::new();
    let data = elf.data;
    let get = |off: u64, len: u64| -> Option<&[u8]> {
        data.get(off as usize..off.checked_add(len)? as usize)
    };
    for vf in &elf.verneed {
        let Some(rec_off) = vf.field.checked_sub(4) else {
            continue;
        };
        let Some(rec) = get(rec_off, 16) else {
            continue;
        };
        let cnt = elf.ctx.u16(&rec[2..]) as u64;
        let Some(mut aux) = rec_off.checked_add(elf.ctx.u32(&rec[8..]) as u64) else {
            continue;
        };
        for _ in 0..cnt.min(256) {
            let Some(a) = get(aux, 16) else { break };
            if let Ok(name) = elf.dynstr_at(elf.ctx.u32(&a[8..]) as u64) {
                out.push(text(name));
            }
            let next = elf.ctx.u32(&a[12..]) as u64;
            if next == 0 {
                break;
            }
            match aux.checked_add(next) {
                Some(n) => aux = n,
                None => break,
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse() {
        assert_eq!(parse_version::<2>("2.34"), Some([2, 34]));
        assert_eq!(parse_version::<3>("3.4"), Some([3, 4, 0]));
        assert_eq!(parse_version::<2>("PRIVATE"), None);
    }

    #[test]
    fn reads_a_system_library() {
        // The test binary itself links libc and needs at least one GLIBC_ version.
        let exe = std::env::current_exe().unwrap();
        let info = ElfInfo::read(&exe).unwrap();
        assert!(info.needed.iter().any(|n| n.starts_with("libc.so")));
        assert!(info.glibc.is_some());
    }
}
