//! The result of planning one thin image, as data: the final load commands, how the image
//! makes room for them, where the code signature goes, and the new length. [`crate::emit`]
//! turns a [`SliceLayout`] into bytes and [`SliceLayout::plan`] into the report `--dry-run`
//! prints, so both always agree.

use crate::command::LoadCommand;
use crate::grow_object::Growth;
use crate::shift::{Linkedit, ShiftLayout};
use crate::sign::Params;

/// How the image makes room for its load commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Placement {
    /// Nothing changes.
    Unchanged,
    /// The commands fit before the first section.
    InPlace,
    /// A linked image shifts.
    Shift(ShiftLayout),
    /// An object file's data moves.
    GrowObject(Growth),
}

/// Where the new code signature goes and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SignatureAt {
    pub offset: u64,
    /// The bytes LC_CODE_SIGNATURE reserves (the signature is zero-padded to it).
    pub size: u64,
    pub params: Params,
    pub label: &'static str,
}

/// A planned slice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SliceLayout {
    pub arch: String,
    pub placement: Placement,
    /// The load commands as they are written, every offset final.
    pub commands: Vec<LoadCommand>,
    /// Bytes the header and load commands need, and the room before the first section.
    pub need: u64,
    pub room: u64,
    pub signature: Option<SignatureAt>,
    pub old_len: u64,
    pub new_len: u64,
    pub warnings: Vec<String>,
}

/// How a slice is rewritten.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "layout")]
pub enum Layout {
    /// Nothing changes.
    Unchanged,
    /// The new load commands fit before the first section.
    InPlace,
    /// The file grows by `delta` bytes after the load commands (a linked image shifts; an
    /// object file's data moves).
    Shift {
        /// Bytes inserted.
        delta: u64,
    },
}

/// The plan for one slice, as `--dry-run` reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct SlicePlan {
    /// Architecture name.
    pub arch: String,
    /// How the slice is rewritten.
    #[serde(flatten)]
    pub layout: Layout,
    /// Bytes the header and load commands need.
    pub commands_need: u64,
    /// Bytes before the first section.
    pub commands_room: u64,
    /// "linker-signed ad-hoc" or "ad-hoc", or None when the slice is not signed afterwards.
    pub signature: Option<String>,
    /// Length of the slice before.
    pub old_len: u64,
    /// Length afterwards.
    pub new_len: u64,
    /// Things the user should know.
    pub warnings: Vec<String>,
    /// What happens, one line each, in order.
    #[serde(skip)]
    pub steps: Vec<String>,
}

impl SlicePlan {
    /// The plan in a few words: "nothing to change", "in place" or "shift by N bytes".
    pub fn headline(&self) -> String {
        match self.layout {
            Layout::Unchanged => "nothing to change".to_string(),
            Layout::InPlace => "in place".to_string(),
            Layout::Shift { delta } => format!("shift by {delta} bytes"),
        }
    }
}

impl SliceLayout {
    /// The report of this layout.
    pub fn plan(&self) -> SlicePlan {
        let layout = match &self.placement {
            Placement::Unchanged => Layout::Unchanged,
            Placement::InPlace => Layout::InPlace,
            Placement::Shift(s) => Layout::Shift {
                delta: s.shift.delta,
            },
            Placement::GrowObject(g) => Layout::Shift {
                delta: g.shift.delta,
            },
        };
        SlicePlan {
            arch: self.arch.clone(),
            layout,
            commands_need: self.need,
            commands_room: self.room,
            signature: self.signature.as_ref().map(|s| s.label.to_string()),
            old_len: self.old_len,
            new_len: self.new_len,
            warnings: self.warnings.clone(),
            steps: self.steps(),
        }
    }

    /// The layout in words, in the order it happens.
    fn steps(&self) -> Vec<String> {
        let mut steps = Vec::new();
        if self.placement == Placement::Unchanged {
            return steps;
        }
        steps.push(format!(
            "load commands: {} of {} bytes before the first section",
            self.need, self.room
        ));
        match &self.placement {
            Placement::Unchanged | Placement::InPlace => {}
            Placement::Shift(s) => {
                steps.push(format!(
                    "insert {:#x} bytes at offset {:#x}: everything after it moves in the file \
                     and in memory",
                    s.shift.delta, s.shift.off
                ));
                match &s.linkedit {
                    Linkedit::InPlace(tables) => {
                        for t in tables {
                            steps.push(format!("re-encode the {} in place", t.what));
                        }
                    }
                    Linkedit::Rebuilt {
                        start,
                        size,
                        tables,
                    } => {
                        steps.push(format!(
                            "lay out __LINKEDIT again at offset {start:#x} ({size:#x} bytes)"
                        ));
                        for t in tables.iter().filter(|t| t.len != t.size) {
                            steps.push(format!(
                                "  {} grows from {:#x} to {:#x} bytes",
                                t.what, t.size, t.len
                            ));
                        }
                    }
                }
            }
            Placement::GrowObject(g) => steps.push(format!(
                "insert {:#x} bytes at offset {:#x}: the file data after it moves, no address \
                 changes",
                g.shift.delta, g.shift.off
            )),
        }
        if self.new_len != self.old_len {
            steps.push(format!("size: {} -> {} bytes", self.old_len, self.new_len));
        }
        match &self.signature {
            Some(s) => {
                steps.push(format!("sign: {}", s.label));
                steps.push(format!(
                    "  signature at offset {:#x} ({:#x} bytes reserved)",
                    s.offset, s.size
                ));
            }
            None => steps.push("sign: no".to_string()),
        }
        steps
    }
}
