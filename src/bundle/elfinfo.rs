//! What the resolver needs to know about one ELF file: its machine, soname, needed libraries,
//! search paths and the glibc / libstdc++ symbol versions it requires.

use std::path::Path;

use anyhow::{Context, Result};
use shenzi_elf::{Class, Elf, RunPathTag};

#[derive(Debug, Clone, Default)]
pub struct ElfInfo {
    pub machine: u16,
    pub is64: bool,
    pub soname: Option<String>,
    pub needed: Vec<String>,
    /// The run path the loader uses (DT_RUNPATH wins over DT_RPATH), split at colons.
    pub run_path: Vec<String>,
    /// Which tag holds it; `None` without a run path.
    pub run_path_tag: Option<RunPathTag>,
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
        let run_path = elf.run_path()?;
        let mut info = ElfInfo {
            machine: elf.header().e_machine,
            is64: elf.ctx().class == Class::Elf64,
            soname: elf.soname()?.map(text),
            needed: elf.needed()?.into_iter().map(text).collect(),
            run_path: run_path
                .map(|r| r.entries().into_iter().map(text).collect())
                .unwrap_or_default(),
            run_path_tag: run_path.map(|r| r.tag),
            glibc: None,
            glibcxx: None,
        };
        for need in elf.version_needs()? {
            for name in need.versions.iter().map(|v| text(v)) {
                if let Some(v) = name.strip_prefix("GLIBC_").and_then(parse_version::<2>) {
                    info.glibc = info.glibc.max(Some((v[0], v[1])));
                } else if let Some(v) = name.strip_prefix("GLIBCXX_").and_then(parse_version::<3>) {
                    info.glibcxx = info.glibcxx.max(Some((v[0], v[1], v[2])));
                }
            }
        }
        Ok(info)
    }

    /// DT_RPATH entries, when DT_RPATH is the run path (searched first, inherited by what the
    /// object loads).
    pub fn rpath(&self) -> &[String] {
        match self.run_path_tag {
            Some(RunPathTag::Rpath) => &self.run_path,
            _ => &[],
        }
    }

    /// DT_RUNPATH entries (searched after LD_LIBRARY_PATH, for this object only).
    pub fn runpath(&self) -> &[String] {
        match self.run_path_tag {
            Some(RunPathTag::Runpath) => &self.run_path,
            _ => &[],
        }
    }
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
