//! What the user asked for (`EditSet`) and the load-command list it produces.
//!
//! Edits work on an owned copy of the load commands; the layout step later decides whether the
//! new list fits where the old one was. The order is fixed: install name, dylib renames, dylib
//! removals, dylib additions, then the rpath operations in the order given.

use crate::bytes::{cstr, Ctx};
use crate::consts::*;
use crate::error::{Error, Result};
use crate::view::{rpath_of, MachO};

/// One change to the LC_RPATH list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RpathOp {
    /// Delete every LC_RPATH, then add these in order (duplicates dropped).
    Set(Vec<Vec<u8>>),
    /// Delete every LC_RPATH.
    RemoveAll,
    /// Delete the LC_RPATH with this path.
    Delete(Vec<u8>),
    /// Rename an LC_RPATH.
    Change(Vec<u8>, Vec<u8>),
    /// Append an LC_RPATH unless present.
    Add(Vec<u8>),
    /// Insert an LC_RPATH before the first one unless present.
    Prepend(Vec<u8>),
}

/// Every edit one call applies, in one pass, to every slice.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EditSet {
    /// New LC_ID_DYLIB name.
    pub id: Option<Vec<u8>>,
    /// Rename every dependency command (all five kinds) naming the first to the second.
    pub change: Vec<(Vec<u8>, Vec<u8>)>,
    /// Remove dependency commands with these names.
    pub remove_dylib: Vec<Vec<u8>>,
    /// Add LC_LOAD_DYLIB commands (after the existing dependencies) unless present.
    pub add_dylib: Vec<Vec<u8>>,
    pub rpath: Vec<RpathOp>,
    /// cctools semantics: adding an rpath that exists, or deleting/renaming one that does not,
    /// is an error instead of a no-op.
    pub strict: bool,
}

impl EditSet {
    pub fn is_empty(&self) -> bool {
        self.id.is_none()
            && self.change.is_empty()
            && self.remove_dylib.is_empty()
            && self.add_dylib.is_empty()
            && self.rpath.is_empty()
    }
}

/// An owned load command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cmd {
    pub cmd: u32,
    pub bytes: Vec<u8>,
}

impl Cmd {
    fn path_of(&self, ctx: Ctx) -> Option<Vec<u8>> {
        let off = ctx.u32(&self.bytes, 8, "load command").ok()? as usize;
        Some(cstr(&self.bytes, off).to_vec())
    }
}

/// Builds a command holding a string at `str_off`, padded to the word size.
fn string_cmd(ctx: Ctx, cmd: u32, fixed: &[u32], s: &[u8]) -> Cmd {
    let head = 8 + 4 * fixed.len();
    let align = if ctx.is64 { 8 } else { 4 };
    let size = (head + s.len() + 1).div_ceil(align) * align;
    let mut b = vec![0u8; size];
    let put = |b: &mut Vec<u8>, off: usize, v: u32| {
        let bytes = if ctx.little {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        };
        b[off..off + 4].copy_from_slice(&bytes);
    };
    put(&mut b, 0, cmd);
    put(&mut b, 4, size as u32);
    for (i, v) in fixed.iter().enumerate() {
        put(&mut b, 8 + 4 * i, *v);
    }
    b[head..head + s.len()].copy_from_slice(s);
    Cmd { cmd, bytes: b }
}

pub fn rpath_cmd(ctx: Ctx, path: &[u8]) -> Cmd {
    string_cmd(ctx, LC_RPATH, &[12], path)
}

/// A dylib command keeping the version fields of `like` (or defaults for a new dependency).
fn dylib_cmd(ctx: Ctx, cmd: u32, name: &[u8], like: Option<&Cmd>) -> Cmd {
    let field = |o: u64, dflt: u32| {
        like.and_then(|c| ctx.u32(&c.bytes, o, "dylib command").ok())
            .unwrap_or(dflt)
    };
    string_cmd(
        ctx,
        cmd,
        &[24, field(12, 2), field(16, 0x1_0000), field(20, 0x1_0000)],
        name,
    )
}

fn show(s: &[u8]) -> String {
    String::from_utf8_lossy(s).into_owned()
}

/// Applies `edits` to the load commands of `m`.
pub fn apply(m: &MachO, edits: &EditSet) -> Result<Vec<Cmd>> {
    let ctx = m.ctx;
    let arch = m.arch();
    // Parse-time checks already guarantee well-formed dylib and rpath commands.
    m.dylibs()?;
    m.rpaths()?;
    let mut cmds: Vec<Cmd> = m
        .cmds
        .iter()
        .map(|c| Cmd {
            cmd: c.cmd,
            bytes: c.bytes.to_vec(),
        })
        .collect();

    if let Some(id) = &edits.id {
        let i = cmds
            .iter()
            .position(|c| c.cmd == LC_ID_DYLIB)
            .ok_or_else(|| Error::NotADylib { arch: arch.clone() })?;
        if m.header.filetype != MH_DYLIB {
            return Err(Error::NotADylib { arch });
        }
        if cmds[i].path_of(ctx).as_deref() != Some(id.as_slice()) {
            cmds[i] = dylib_cmd(ctx, LC_ID_DYLIB, id, Some(&cmds[i]));
        }
    }

    for (old, new) in &edits.change {
        for c in cmds.iter_mut() {
            if DEPENDENCY_CMDS.contains(&c.cmd)
                && c.path_of(ctx).as_deref() == Some(old.as_slice())
                && old != new
            {
                *c = dylib_cmd(ctx, c.cmd, new, Some(c));
            }
        }
    }

    for name in &edits.remove_dylib {
        let deps: Vec<usize> = cmds
            .iter()
            .enumerate()
            .filter(|(_, c)| DEPENDENCY_CMDS.contains(&c.cmd))
            .map(|(i, _)| i)
            .collect();
        let Some(k) = deps
            .iter()
            .position(|&i| cmds[i].path_of(ctx).as_deref() == Some(name.as_slice()))
        else {
            continue;
        };
        // Library ordinals count dependency commands; removing one renumbers those after it.
        if let Some(max) = crate::symbols::max_import_ordinal(m)? {
            if max as usize > k {
                return Err(Error::Unsupported(format!(
                    "cannot remove {} ({arch}): symbols are imported from it or from a library \
                     listed after it, and removing it would renumber their library ordinals",
                    show(name)
                )));
            }
        }
        cmds.remove(deps[k]);
    }

    for name in &edits.add_dylib {
        let present = cmds.iter().any(|c| {
            DEPENDENCY_CMDS.contains(&c.cmd) && c.path_of(ctx).as_deref() == Some(name.as_slice())
        });
        if present {
            continue;
        }
        let at = cmds
            .iter()
            .rposition(|c| DEPENDENCY_CMDS.contains(&c.cmd))
            .map_or(cmds.len(), |i| i + 1);
        cmds.insert(at, dylib_cmd(ctx, LC_LOAD_DYLIB, name, None));
    }

    for op in &edits.rpath {
        apply_rpath(ctx, &arch, &mut cmds, op, edits.strict)?;
    }
    Ok(cmds)
}

fn apply_rpath(
    ctx: Ctx,
    arch: &str,
    cmds: &mut Vec<Cmd>,
    op: &RpathOp,
    strict: bool,
) -> Result<()> {
    let find = |cmds: &[Cmd], p: &[u8]| {
        cmds.iter()
            .position(|c| c.cmd == LC_RPATH && rpath_of(ctx, &c.bytes).ok().as_deref() == Some(p))
    };
    let dup = |p: &[u8]| Error::RpathDuplicate {
        arch: arch.to_string(),
        path: show(p),
    };
    let missing = |p: &[u8]| Error::RpathNotFound {
        arch: arch.to_string(),
        path: show(p),
    };
    match op {
        RpathOp::Set(list) => {
            cmds.retain(|c| c.cmd != LC_RPATH);
            for p in list {
                if find(cmds, p).is_none() {
                    cmds.push(rpath_cmd(ctx, p));
                }
            }
        }
        RpathOp::RemoveAll => cmds.retain(|c| c.cmd != LC_RPATH),
        RpathOp::Delete(p) => {
            if find(cmds, p).is_none() && strict {
                return Err(missing(p));
            }
            cmds.retain(|c| {
                !(c.cmd == LC_RPATH && rpath_of(ctx, &c.bytes).ok().as_deref() == Some(p))
            });
        }
        RpathOp::Change(old, new) => match find(cmds, old) {
            None if strict => return Err(missing(old)),
            None => {}
            Some(_) if old == new => {}
            Some(i) => {
                if find(cmds, new).is_some() {
                    if strict {
                        return Err(dup(new));
                    }
                    cmds.remove(i);
                } else {
                    cmds[i] = rpath_cmd(ctx, new);
                }
            }
        },
        RpathOp::Add(p) => match find(cmds, p) {
            Some(_) if strict => return Err(dup(p)),
            Some(_) => {}
            None => cmds.push(rpath_cmd(ctx, p)),
        },
        RpathOp::Prepend(p) => match find(cmds, p) {
            Some(_) if strict => return Err(dup(p)),
            Some(_) => {}
            None => {
                let at = cmds
                    .iter()
                    .position(|c| c.cmd == LC_RPATH)
                    .unwrap_or(cmds.len());
                cmds.insert(at, rpath_cmd(ctx, p));
            }
        },
    }
    Ok(())
}
