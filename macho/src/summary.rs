//! What `--print` and `--json` show about each slice: file type, install name, dependencies,
//! rpaths and signature.

use crate::command::DylibKind;
use crate::consts::*;
use crate::plan::existing_signature;
use crate::sign::Kind;
use crate::view::MachO;

/// A dependency command.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Dependency {
    /// `load`, `weak`, `reexport`, `upward` or `lazy`.
    pub kind: &'static str,
    /// The library's install name.
    pub name: String,
}

/// What one slice is and what it links against.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// Architecture name.
    pub arch: String,
    /// `object`, `executable`, `dylib`, `bundle`, `dylinker`, `dylib stub`, `dsym` or `other`.
    pub filetype: &'static str,
    /// The install name (LC_ID_DYLIB).
    pub id: Option<String>,
    /// Dependencies, in load-command order.
    pub dependencies: Vec<Dependency>,
    /// LC_RPATH paths, in order.
    pub rpaths: Vec<String>,
    /// `linker-signed`, `ad-hoc`, `identity`, `unreadable` or None.
    pub signature: Option<String>,
}

fn s(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl Summary {
    /// The summary of one parsed slice.
    pub fn of(m: &MachO) -> Summary {
        let dependencies = m
            .dylibs()
            .into_iter()
            .filter_map(|d| {
                let kind = match d.kind {
                    DylibKind::Id => return None,
                    DylibKind::Load => "load",
                    DylibKind::Weak => "weak",
                    DylibKind::Reexport => "reexport",
                    DylibKind::Upward => "upward",
                    DylibKind::Lazy => "lazy",
                };
                Some(Dependency {
                    kind,
                    name: s(&d.name),
                })
            })
            .collect();
        let signature = match (m.code_signature(), existing_signature(m)) {
            (None, _) => None,
            (Some(_), None) => Some("unreadable".into()),
            (Some(_), Some(e)) => Some(
                match e.kind {
                    Kind::LinkerSigned => "linker-signed",
                    Kind::AdHoc => "ad-hoc",
                    Kind::Identity => "identity",
                }
                .into(),
            ),
        };
        Summary {
            arch: m.arch(),
            filetype: match m.header().filetype {
                MH_OBJECT => "object",
                MH_EXECUTE => "executable",
                MH_DYLIB => "dylib",
                MH_BUNDLE => "bundle",
                MH_DYLINKER => "dylinker",
                MH_DYLIB_STUB => "dylib stub",
                MH_DSYM => "dsym",
                _ => "other",
            },
            id: m.install_name().map(s),
            dependencies,
            rpaths: m.rpaths().into_iter().map(|(_, p)| s(p)).collect(),
            signature,
        }
    }
}
