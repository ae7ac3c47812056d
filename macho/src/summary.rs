//! What `--print` and `--json` show about each slice: file type, install name, dependencies,
//! rpaths and signature.

use crate::consts::*;
use crate::error::Result;
use crate::layout::existing_signature;
use crate::view::MachO;

/// A dependency command.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Dependency {
    /// `load`, `weak`, `reexport`, `upward` or `lazy`.
    pub kind: &'static str,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub arch: String,
    pub filetype: &'static str,
    pub id: Option<String>,
    pub dependencies: Vec<Dependency>,
    pub rpaths: Vec<String>,
    /// `linker-signed`, `ad-hoc`, `identity`, `unreadable` or None.
    pub signature: Option<String>,
}

fn s(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl Summary {
    pub fn of(m: &MachO) -> Result<Summary> {
        let dylibs = m.dylibs()?;
        let dependencies = dylibs
            .iter()
            .filter(|d| d.cmd != LC_ID_DYLIB)
            .map(|d| Dependency {
                kind: match d.cmd {
                    LC_LOAD_WEAK_DYLIB => "weak",
                    LC_REEXPORT_DYLIB => "reexport",
                    LC_LOAD_UPWARD_DYLIB => "upward",
                    LC_LAZY_LOAD_DYLIB => "lazy",
                    _ => "load",
                },
                name: s(&d.name),
            })
            .collect();
        let signature = match (m.code_signature()?, existing_signature(m)) {
            (None, _) => None,
            (Some(_), None) => Some("unreadable".into()),
            (Some(_), Some(e)) => Some(
                match e.kind {
                    crate::sign::Kind::LinkerSigned => "linker-signed",
                    crate::sign::Kind::AdHoc => "ad-hoc",
                    crate::sign::Kind::Identity => "identity",
                }
                .into(),
            ),
        };
        Ok(Summary {
            arch: m.arch(),
            filetype: match m.header.filetype {
                MH_OBJECT => "object",
                MH_EXECUTE => "executable",
                MH_DYLIB => "dylib",
                MH_BUNDLE => "bundle",
                0x7 => "dylinker",
                0x9 => "dylib stub",
                0xa => "dsym",
                _ => "other",
            },
            id: dylibs
                .iter()
                .find(|d| d.cmd == LC_ID_DYLIB)
                .map(|d| s(&d.name)),
            dependencies,
            rpaths: m.rpaths()?.into_iter().map(|(_, p)| s(&p)).collect(),
            signature,
        })
    }
}
