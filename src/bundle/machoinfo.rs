//! What the macOS resolver needs to know about one Mach-O file, per architecture: its kind,
//! install name, dependencies with their command kind, LC_RPATHs and minimum macOS version.

use std::path::Path;

use anyhow::{Context, Result};
use shenzi_macho::{Command, DylibKind, VersionMinKind};

/// A macOS version: (major, minor, patch).
pub type Version = (u32, u32, u32);

/// How an image names a library it depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DepKind {
    /// LC_LOAD_DYLIB.
    Load,
    /// LC_LOAD_WEAK_DYLIB: missing is fine.
    Weak,
    /// LC_REEXPORT_DYLIB.
    Reexport,
    /// LC_LOAD_UPWARD_DYLIB.
    Upward,
    /// LC_LAZY_LOAD_DYLIB (obsolete).
    Lazy,
}

/// One architecture of a Mach-O file.
#[derive(Debug, Clone)]
pub struct Slice {
    /// `arm64`, `x86_64`, …
    pub arch: String,
    /// MH_EXECUTE, MH_DYLIB, MH_BUNDLE, …
    pub filetype: u32,
    pub install_name: Option<String>,
    pub deps: Vec<(DepKind, String)>,
    pub rpaths: Vec<String>,
    /// Minimum macOS version as (major, minor, patch), from LC_BUILD_VERSION or
    /// LC_VERSION_MIN_MACOSX.
    pub minos: Option<Version>,
}

/// A Mach-O file: its slices (one for a thin file).
#[derive(Debug, Clone)]
pub struct MachInfo {
    pub fat: bool,
    pub slices: Vec<Slice>,
}

const PLATFORM_MACOS: u32 = 1;
const PLATFORM_MACCATALYST: u32 = 6;

/// Whether the bytes start like a Mach-O file (thin or fat).
pub fn is_macho(head: &[u8]) -> bool {
    shenzi_macho::is_macho(head)
}

/// Whether the file at `path` starts like a Mach-O file (reads 4 bytes).
pub fn is_macho_file(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && is_macho(&magic)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `xxxx.yy.zz` nibbles of a Mach-O version field.
fn version(v: u32) -> Version {
    (v >> 16, (v >> 8) & 0xff, v & 0xff)
}

impl MachInfo {
    /// Reads the file at `path`; errors say what is wrong, the caller names the file.
    pub fn read(path: &Path) -> Result<MachInfo> {
        let data = std::fs::read(path).context("cannot read it")?;
        MachInfo::parse(&data)
    }

    pub fn parse(data: &[u8]) -> Result<MachInfo> {
        let mut slices = Vec::new();
        for (_, bytes) in shenzi_macho::slices(data)? {
            let m = shenzi_macho::MachO::parse(bytes)?;
            let mut deps = Vec::new();
            let mut install_name = None;
            for d in m.dylibs() {
                let kind = match d.kind {
                    DylibKind::Id => {
                        install_name = Some(text(&d.name));
                        continue;
                    }
                    DylibKind::Load => DepKind::Load,
                    DylibKind::Weak => DepKind::Weak,
                    DylibKind::Reexport => DepKind::Reexport,
                    DylibKind::Upward => DepKind::Upward,
                    DylibKind::Lazy => DepKind::Lazy,
                };
                deps.push((kind, text(&d.name)));
            }
            let rpaths = m.rpaths().into_iter().map(|(_, p)| text(p)).collect();
            let mut minos = None;
            for lc in m.commands() {
                let found = match lc.command() {
                    Command::BuildVersion(b)
                        if b.platform == PLATFORM_MACOS || b.platform == PLATFORM_MACCATALYST =>
                    {
                        Some(b.minos)
                    }
                    Command::VersionMin(VersionMinKind::MacOs, v) => Some(v.version),
                    _ => None,
                };
                if let Some(v) = found {
                    minos = minos.max(Some(version(v)));
                }
            }
            slices.push(Slice {
                arch: m.arch(),
                filetype: m.header().filetype,
                install_name,
                deps,
                rpaths,
                minos,
            });
        }
        Ok(MachInfo {
            fat: shenzi_macho::is_fat(data),
            slices,
        })
    }

    /// The slice of this architecture (the only one of a thin file, whatever its arch).
    pub fn slice(&self, arch: &str) -> Option<&Slice> {
        self.slices.iter().find(|s| s.arch == arch)
    }

    /// Highest minimum macOS version over the slices.
    pub fn minos(&self) -> Option<Version> {
        self.slices.iter().filter_map(|s| s.minos).max()
    }
}

/// `11.0` or `10.9.2` from a version triple (patch shown only when not zero).
pub fn version_text(v: Version) -> String {
    if v.2 == 0 {
        format!("{}.{}", v.0, v.1)
    } else {
        format!("{}.{}.{}", v.0, v.1, v.2)
    }
}

/// Parses `11`, `11.0` or `10.9.2`.
pub fn parse_version(s: &str) -> Option<Version> {
    let mut it = s.trim().split('.');
    let a = it.next()?.parse().ok()?;
    let b = it.next().map_or(Some(0), |x| x.parse().ok())?;
    let c = it.next().map_or(Some(0), |x| x.parse().ok())?;
    it.next().is_none().then_some((a, b, c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(version(0x000b_0000), (11, 0, 0));
        assert_eq!(version(0x000a_0902), (10, 9, 2));
        assert_eq!(parse_version("11.0"), Some((11, 0, 0)));
        assert_eq!(parse_version("14"), Some((14, 0, 0)));
        assert_eq!(parse_version("x"), None);
        assert_eq!(version_text((10, 9, 0)), "10.9");
    }
}
