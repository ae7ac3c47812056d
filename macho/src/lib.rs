//! Read, edit, grow and ad-hoc sign Mach-O files, thin (32/64-bit) or fat (fat32/fat64).
//!
//! The flow is `bytes → MachO (view) → EditSet → plan (in place | shift by Δ) → output (writes
//! or whole bytes) → signature`. Nothing here touches the file system; the caller applies the
//! [`Rewrite`] to a file or a buffer and should check the result with [`check`].
//!
//! Modules, one job each: `view` (parse a thin image), `fat` (universal headers), `edit` (the
//! edit set → new load commands), `layout` (fit or shift, place the signature, produce bytes),
//! `shift` (move everything after the load commands of a linked image), `grow_object` (the
//! same for an object file, where only file offsets move), `fixups` (dyld-info opcodes,
//! chained fixups), `trie` (export trie), `unwind` (`__unwind_info`), `symbols` (nlist),
//! `sign` (build and verify signatures), `summary` (what `--print` shows).
//!
//! Known limits of growing (each refused with a clear error, never written wrongly): non-PIE
//! executables, classic relocations in linked images, threaded binds (old arm64e), chained
//! formats other than 64, 64_OFFSET and arm64e, chained fixups inside the header segment,
//! file types other than executables, dylibs, bundles and object files.
//! LC_SEGMENT_SPLIT_INFO is moved but its content (used only by the shared-cache builder) is
//! not rewritten.
//!
//! ```no_run
//! # fn demo(bytes: &[u8]) -> Result<(), shenzi_macho::Error> {
//! use shenzi_macho::{EditSet, Options, RpathOp};
//! let edits = EditSet { rpath: vec![RpathOp::Add(b"@loader_path/../lib".to_vec())], ..Default::default() };
//! let rewrite = shenzi_macho::rewrite(bytes, &edits, &Options::default())?;
//! let patched = rewrite.apply(bytes);
//! # Ok(()) }
//! ```

mod bytes;
pub mod consts;
mod edit;
mod error;
mod fat;
mod fixups;
#[doc(hidden)]
pub mod fuzzing;
mod grow_object;
mod layout;
mod shift;
pub mod sign;
mod summary;
mod symbols;
mod trie;
mod unwind;
mod view;

pub use edit::{EditSet, RpathOp, Semantics};
pub use error::{Error, Result};
pub use fat::{is_fat, Fat, FatArch};
pub use layout::{Layout, Options, SliceOut, SlicePlan};
pub use summary::{Dependency, Summary};
pub use view::{arch_name, Dylib, MachO, Section, Segment};

/// Whether `data` starts like a Mach-O file (thin or fat).
pub fn is_macho(data: &[u8]) -> bool {
    let Some(m) = data.get(..4) else { return false };
    let v = u32::from_be_bytes([m[0], m[1], m[2], m[3]]);
    matches!(
        v,
        0xfeedface | 0xfeedfacf | 0xcefaedfe | 0xcffaedfe | 0xcafebabe | 0xcafebabf
    )
}

/// The thin images of a file: (offset, bytes) of each slice, or the whole file when thin.
pub fn slices(data: &[u8]) -> Result<Vec<(u64, &[u8])>> {
    if is_fat(data) {
        let fat = Fat::parse(data)?;
        Ok(fat
            .arches
            .iter()
            .map(|a| {
                (
                    a.offset,
                    &data[a.offset as usize..(a.offset + a.size) as usize],
                )
            })
            .collect())
    } else {
        Ok(vec![(0, data)])
    }
}

/// What to do to the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Unchanged,
    /// Writes at file offsets, and the new file length.
    Patch {
        writes: Vec<(u64, Vec<u8>)>,
        new_len: u64,
    },
    /// The complete new file.
    Whole(Vec<u8>),
}

/// A planned rewrite of a whole file.
#[derive(Debug, Clone)]
pub struct Rewrite {
    pub fat: bool,
    pub slices: Vec<SlicePlan>,
    pub output: Output,
}

impl Rewrite {
    pub fn is_noop(&self) -> bool {
        self.output == Output::Unchanged
    }

    /// The new file content.
    pub fn apply(&self, data: &[u8]) -> Vec<u8> {
        match &self.output {
            Output::Unchanged => data.to_vec(),
            Output::Whole(b) => b.clone(),
            Output::Patch { writes, new_len } => {
                let mut out = data.to_vec();
                out.resize(*new_len as usize, 0);
                for (o, b) in writes {
                    let end = *o as usize + b.len();
                    if out.len() < end {
                        out.resize(end, 0);
                    }
                    out[*o as usize..end].copy_from_slice(b);
                }
                out
            }
        }
    }
}

/// Plans and produces the rewrite of a file: every slice gets the same edits and is signed on
/// its own. `resign` re-signs slices even when no load command changes.
pub fn rewrite_with(data: &[u8], edits: &EditSet, opts: &Options, resign: bool) -> Result<Rewrite> {
    if !is_fat(data) {
        let (plan, out) = layout::rewrite_thin(data, edits, opts, resign)?;
        let output = match out {
            SliceOut::Unchanged => Output::Unchanged,
            SliceOut::Whole(b) => Output::Whole(b),
            SliceOut::Patch { writes, new_len } => Output::Patch { writes, new_len },
        };
        return Ok(Rewrite {
            fat: false,
            slices: vec![plan],
            output,
        });
    }
    let fat = Fat::parse(data)?;
    let mut plans = Vec::new();
    let mut outs = Vec::new();
    for a in &fat.arches {
        let bytes = &data[a.offset as usize..(a.offset + a.size) as usize];
        let (plan, out) = layout::rewrite_thin(bytes, edits, opts, resign)?;
        plans.push(plan);
        outs.push(out);
    }
    let in_place = outs.iter().zip(&fat.arches).all(|(o, a)| match o {
        SliceOut::Unchanged => true,
        SliceOut::Patch { new_len, .. } => *new_len == a.size,
        SliceOut::Whole(_) => false,
    });
    let output = if outs.iter().all(|o| *o == SliceOut::Unchanged) {
        Output::Unchanged
    } else if in_place {
        let mut writes = Vec::new();
        for (o, a) in outs.into_iter().zip(&fat.arches) {
            if let SliceOut::Patch { writes: w, .. } = o {
                writes.extend(w.into_iter().map(|(off, b)| (a.offset + off, b)));
            }
        }
        Output::Patch {
            writes,
            new_len: data.len() as u64,
        }
    } else {
        let mut owned: Vec<Vec<u8>> = Vec::new();
        for (o, a) in outs.into_iter().zip(&fat.arches) {
            let old = &data[a.offset as usize..(a.offset + a.size) as usize];
            owned.push(match o {
                SliceOut::Unchanged => old.to_vec(),
                SliceOut::Whole(b) => b,
                SliceOut::Patch { writes, new_len } => {
                    let mut b = old.to_vec();
                    b.resize(new_len as usize, 0);
                    for (off, w) in writes {
                        let end = off as usize + w.len();
                        if b.len() < end {
                            b.resize(end, 0);
                        }
                        b[off as usize..end].copy_from_slice(&w);
                    }
                    b
                }
            });
        }
        let refs: Vec<&[u8]> = owned.iter().map(|v| v.as_slice()).collect();
        Output::Whole(fat.build(&refs)?)
    };
    Ok(Rewrite {
        fat: true,
        slices: plans,
        output,
    })
}

/// [`rewrite_with`] without forced re-signing.
pub fn rewrite(data: &[u8], edits: &EditSet, opts: &Options) -> Result<Rewrite> {
    rewrite_with(data, edits, opts, false)
}

/// Summaries of every slice.
pub fn summarize(data: &[u8]) -> Result<Vec<Summary>> {
    slices(data)?
        .into_iter()
        .map(|(_, s)| Summary::of(&MachO::parse(s)?))
        .collect()
}

/// Verifies the code signature of every slice; `None` for an unsigned slice.
pub fn verify(data: &[u8]) -> Result<Vec<(String, Option<sign::Report>)>> {
    let mut out = Vec::new();
    for (_, s) in slices(data)? {
        let m = MachO::parse(s)?;
        let r = match m.code_signature()? {
            None => None,
            Some((off, size)) => {
                let sig = bytes::slice(s, off.into(), size.into(), "code signature")?;
                Some(sign::verify(s, off.into(), sig)?)
            }
        };
        out.push((m.arch(), r));
    }
    Ok(out)
}

/// LC_RPATH paths that occur more than once, per slice (arch, path).
pub fn duplicate_rpaths(data: &[u8]) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    for (_, s) in slices(data)? {
        let m = MachO::parse(s)?;
        let rp = m.rpaths()?;
        for (i, (_, p)) in rp.iter().enumerate() {
            if rp[..i].iter().any(|(_, q)| q == p) {
                out.push((m.arch(), p.clone()));
            }
        }
    }
    Ok(out)
}

/// The commands an edit set decides, per slice and in order: (cmd, name) of every dylib
/// command (dependencies and LC_ID_DYLIB) and (LC_RPATH, path) of every rpath.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names(pub Vec<Vec<(u32, Vec<u8>)>>);

fn names_of(ctx: bytes::Ctx, cmds: impl Iterator<Item = (u32, Vec<u8>)>) -> Vec<(u32, Vec<u8>)> {
    cmds.filter_map(|(cmd, b)| {
        let name = if cmd == consts::LC_RPATH {
            view::rpath_of(ctx, &b).ok()?
        } else if consts::DEPENDENCY_CMDS.contains(&cmd) || cmd == consts::LC_ID_DYLIB {
            let off = ctx.u32(&b, 8, "dylib command").ok()? as usize;
            bytes::cstr(&b, off).to_vec()
        } else {
            return None;
        };
        Some((cmd, name))
    })
    .collect()
}

/// The [`Names`] of a file.
pub fn names(data: &[u8]) -> Result<Names> {
    let mut out = Vec::new();
    for (_, s) in slices(data)? {
        let m = MachO::parse(s)?;
        out.push(names_of(
            m.ctx,
            m.cmds.iter().map(|c| (c.cmd, c.bytes.to_vec())),
        ));
    }
    Ok(Names(out))
}

/// The [`Names`] `edits` produce from `data`: what a rewrite must hold afterwards.
pub fn expected_names(data: &[u8], edits: &EditSet) -> Result<Names> {
    let mut out = Vec::new();
    for (_, s) in slices(data)? {
        let m = MachO::parse(s)?;
        let cmds = edit::apply(&m, edits)?.cmds;
        out.push(names_of(m.ctx, cmds.into_iter().map(|c| (c.cmd, c.bytes))));
    }
    Ok(Names(out))
}

/// Checks that `data` parses completely (every slice, its load commands, dylibs and rpaths) and,
/// when asked, that every signature it carries verifies. Used before a rewritten file replaces
/// the input.
pub fn check(data: &[u8], require_signature_valid: bool) -> Result<()> {
    for (_, s) in slices(data)? {
        let m = MachO::parse(s)?;
        m.dylibs()?;
        m.rpaths()?;
    }
    if require_signature_valid {
        for (arch, r) in verify(data)? {
            if let Some(r) = r {
                if let Some(p) = r.problems.first() {
                    return Err(Error::Unsupported(format!(
                        "internal check failed: the new signature of {arch} does not verify: {p}"
                    )));
                }
            }
        }
    }
    Ok(())
}
