//! `shenzi floor`: the oldest system each binary can run on — the newest `GLIBC_x.y` (and
//! `GLIBCXX_x.y.z`) version an ELF file requires, the minimum macOS version of every Mach-O
//! slice — with optional limits to check against, as a wheel build needs to.
//!
//! The facts come from the bundler's readers, so `shenzi floor` and a bundle's reported floor
//! agree by construction.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, Context, Result};

use crate::bundle::elfinfo::{is_elf_file, ElfInfo};
use crate::bundle::machoinfo::{is_macho_file, version_text, MachInfo, Version};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Fail if a file needs a newer glibc than this (e.g. 2.17).
    #[arg(long, value_name = "2.XX")]
    pub min_glibc: Option<String>,
    /// Fail if a Mach-O slice needs a newer macOS than this (e.g. 11.0).
    #[arg(long, value_name = "X.Y")]
    pub min_macos: Option<String>,
    /// Print one JSON object per file.
    #[arg(long)]
    pub json: bool,
    /// ELF or Mach-O files (thin or fat).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// What one file needs.
enum Floor {
    Elf {
        glibc: Option<(u32, u32)>,
        glibcxx: Option<(u32, u32, u32)>,
    },
    /// (arch, minimum macOS) per slice.
    MachO(Vec<(String, Option<Version>)>),
}

/// `2.17` → (2, 17); `11` or `11.0` or `10.9.2` → a macOS version triple.
fn parse_numbers(s: &str, min: usize, max: usize) -> Option<Vec<u32>> {
    let parts: Vec<u32> = s
        .split('.')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    (min..=max).contains(&parts.len()).then_some(parts)
}

fn parse_glibc(s: &str) -> Result<(u32, u32)> {
    match parse_numbers(s, 2, 2).as_deref() {
        Some(&[a, b]) => Ok((a, b)),
        _ => Err(anyhow!("--min-glibc {s}: expected a version like 2.17")),
    }
}

fn parse_macos(s: &str) -> Result<Version> {
    let p = parse_numbers(s, 1, 3).ok_or_else(|| anyhow!("--min-macos {s}: expected X.Y"))?;
    let at = |i: usize| p.get(i).copied().unwrap_or(0);
    Ok((at(0), at(1), at(2)))
}

fn read(path: &Path) -> Result<Floor> {
    if is_elf_file(path) {
        let info = ElfInfo::read(path)?;
        Ok(Floor::Elf {
            glibc: info.glibc,
            glibcxx: info.glibcxx,
        })
    } else if is_macho_file(path) {
        let info = MachInfo::read(path)
            .with_context(|| format!("{}: not a usable Mach-O file", path.display()))?;
        Ok(Floor::MachO(
            info.slices.into_iter().map(|s| (s.arch, s.minos)).collect(),
        ))
    } else {
        std::fs::metadata(path).with_context(|| format!("cannot open {}", path.display()))?;
        Err(anyhow!("{}: neither ELF nor Mach-O", path.display()))
    }
}

fn text3(v: (u32, u32, u32)) -> String {
    format!("{}.{}.{}", v.0, v.1, v.2)
}

fn print(path: &Path, floor: &Floor, json: bool) {
    let file = path.display().to_string();
    match floor {
        Floor::Elf { glibc, glibcxx } if json => {
            let v = serde_json::json!({
                "file": file,
                "format": "elf",
                "glibc": glibc.map(|(a, b)| format!("{a}.{b}")),
                "glibcxx": glibcxx.map(text3),
            });
            println!("{v}");
        }
        Floor::Elf { glibc, glibcxx } => {
            let mut parts = Vec::new();
            if let Some((a, b)) = glibc {
                parts.push(format!("glibc {a}.{b}"));
            }
            if let Some(v) = glibcxx {
                parts.push(format!("GLIBCXX {}", text3(*v)));
            }
            if parts.is_empty() {
                parts.push("no versioned glibc symbols".into());
            }
            println!("{file}: {}", parts.join(", "));
        }
        Floor::MachO(slices) if json => {
            let slices: Vec<_> = slices
                .iter()
                .map(|(arch, v)| serde_json::json!({"arch": arch, "macos": v.map(version_text)}))
                .collect();
            let v = serde_json::json!({"file": file, "format": "macho", "slices": slices});
            println!("{v}");
        }
        Floor::MachO(slices) => {
            let parts: Vec<String> = slices
                .iter()
                .map(|(arch, v)| match v {
                    Some(v) => format!("macOS {} ({arch})", version_text(*v)),
                    None => format!("no minimum macOS version ({arch})"),
                })
                .collect();
            println!("{file}: {}", parts.join(", "));
        }
    }
}

/// The limits `floor` breaks, as sentences.
fn violations(floor: &Floor, glibc: Option<(u32, u32)>, macos: Option<Version>) -> Vec<String> {
    let mut out = Vec::new();
    match floor {
        Floor::Elf {
            glibc: Some(need), ..
        } => {
            if let Some(limit) = glibc.filter(|l| need > l) {
                out.push(format!(
                    "needs glibc {}.{}, newer than --min-glibc {}.{}",
                    need.0, need.1, limit.0, limit.1
                ));
            }
        }
        Floor::Elf { .. } => {}
        Floor::MachO(slices) => {
            for (arch, need) in slices {
                if let (Some(need), Some(limit)) = (need, macos) {
                    if *need > limit {
                        out.push(format!(
                            "{arch} needs macOS {}, newer than --min-macos {}",
                            version_text(*need),
                            version_text(limit)
                        ));
                    }
                }
            }
        }
    }
    out
}

pub fn run(args: Args) -> Result<ExitCode> {
    let glibc = args.min_glibc.as_deref().map(parse_glibc).transpose()?;
    let macos = args.min_macos.as_deref().map(parse_macos).transpose()?;
    let mut ok = true;
    for file in &args.files {
        match read(file) {
            Ok(floor) => {
                print(file, &floor, args.json);
                for v in violations(&floor, glibc, macos) {
                    eprintln!("shenzi: {}: {v}", file.display());
                    ok = false;
                }
            }
            Err(e) => {
                eprintln!("shenzi: {e:#}");
                ok = false;
            }
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse() {
        assert_eq!(parse_glibc("2.17").unwrap(), (2, 17));
        assert!(parse_glibc("2").is_err());
        assert!(parse_glibc("2.x").is_err());
        assert!(parse_glibc("2.17.1").is_err());
        assert_eq!(parse_macos("11").unwrap(), (11, 0, 0));
        assert_eq!(parse_macos("10.9.2").unwrap(), (10, 9, 2));
        assert!(parse_macos("").is_err());
    }

    #[test]
    fn limits() {
        let elf = Floor::Elf {
            glibc: Some((2, 28)),
            glibcxx: None,
        };
        assert!(violations(&elf, Some((2, 28)), None).is_empty());
        assert_eq!(violations(&elf, Some((2, 17)), None).len(), 1);
        let mac = Floor::MachO(vec![
            ("x86_64".into(), Some((10, 12, 0))),
            ("arm64".into(), Some((11, 0, 0))),
        ]);
        assert!(violations(&mac, None, Some((11, 0, 0))).is_empty());
        let v = violations(&mac, None, Some((10, 13, 0)));
        assert_eq!(v, ["arm64 needs macOS 11.0, newer than --min-macos 10.13"]);
    }
}
