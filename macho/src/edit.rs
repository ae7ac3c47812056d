//! What the user asked for (`EditSet`) and the load-command list it produces.
//!
//! Edits work on an owned copy of the load commands; the layout step later decides whether the
//! new list fits where the old one was. The order is fixed: install name, dylib renames, dylib
//! removals, dylib additions, then the rpath operations in the order given.
//!
//! Two ways of matching ([`Semantics`]): `Sequential` (what `shenzi patch` documents) lets every
//! operation see the result of the ones before it; `Input` (install_name_tool's) matches every
//! operation against the input's load commands, so `-change A B -change B C` turns A into B and
//! only a B the input already had into C.

use crate::bytes::Ctx;
use crate::command::{Command, DylibKind, LoadCommand};
use crate::consts::*;
use crate::error::{Error, Result};
use crate::view::MachO;

/// One change to the LC_RPATH list.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
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

/// How the operations of an [`EditSet`] find the commands they act on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Semantics {
    /// Each operation acts on the result of the ones before it.
    #[default]
    Sequential,
    /// Each operation is matched against the input's load commands (cctools' install_name_tool):
    ///
    /// - a dependency takes the first `change` whose old name is its input name;
    /// - `Delete` and `Change` each take the first input LC_RPATH with their path that no
    ///   earlier operation took; `RemoveAll` (and `Set`, before adding its list) removes every
    ///   input LC_RPATH;
    /// - a path `Change`, `Add`, `Prepend` or `Set` produces is a duplicate when an input
    ///   LC_RPATH that survives, or an rpath an earlier operation produced, has it: an error
    ///   when `strict`, otherwise the produced command is dropped;
    /// - `remove_dylib` matches input names; `add_dylib` skips names the result already has;
    /// - `id` on an image that is not a dylib is ignored with a warning.
    Input,
}

/// Every edit one call applies, in one pass, to every slice. Build one with
/// `EditSet::default()` and set the fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EditSet {
    /// New LC_ID_DYLIB name.
    pub id: Option<Vec<u8>>,
    /// Rename every dependency command (all five kinds) naming the first to the second.
    pub change: Vec<(Vec<u8>, Vec<u8>)>,
    /// Remove dependency commands with these names.
    pub remove_dylib: Vec<Vec<u8>>,
    /// Add LC_LOAD_DYLIB commands (after the existing dependencies) unless present.
    pub add_dylib: Vec<Vec<u8>>,
    /// LC_RPATH operations, applied in this order after the dylib edits.
    pub rpath: Vec<RpathOp>,
    /// cctools semantics: adding an rpath that exists, or deleting/renaming one that does not,
    /// is an error instead of a no-op.
    pub strict: bool,
    /// How operations find the commands they act on.
    pub semantics: Semantics,
}

impl EditSet {
    /// Whether the set asks for nothing.
    pub fn is_empty(&self) -> bool {
        self.id.is_none()
            && self.change.is_empty()
            && self.remove_dylib.is_empty()
            && self.add_dylib.is_empty()
            && self.rpath.is_empty()
    }
}

/// The name of a dylib command or the path of an LC_RPATH, owned.
fn name_of(c: &LoadCommand) -> Option<Vec<u8>> {
    c.string().map(<[u8]>::to_vec)
}

/// A dylib command of the same kind as `like` (and with its versions), naming `name`.
fn renamed(ctx: Ctx, like: &LoadCommand, name: &[u8]) -> LoadCommand {
    match like.command() {
        Command::Dylib(kind, d) => LoadCommand::dylib(ctx, *kind, name, Some(d)),
        _ => like.clone(),
    }
}

fn show(s: &[u8]) -> String {
    String::from_utf8_lossy(s).into_owned()
}

/// The edited load commands of one image, and what the edit has to say about them.
#[derive(Debug, Clone)]
pub struct Applied {
    pub cmds: Vec<LoadCommand>,
    pub warnings: Vec<String>,
}

/// Applies `edits` to the load commands of `m`.
pub fn apply(m: &MachO, edits: &EditSet) -> Result<Applied> {
    match edits.semantics {
        Semantics::Sequential => Ok(Applied {
            cmds: sequential(m, edits)?,
            warnings: Vec::new(),
        }),
        Semantics::Input => against_input(m, edits),
    }
}

/// Library ordinals count dependency commands: removing the `k`-th (0-based) renumbers those
/// after it, which breaks every symbol imported from them.
fn check_removal(m: &MachO, k: usize, name: &[u8]) -> Result<()> {
    if let Some(max) = crate::symbols::max_import_ordinal(m)? {
        if max as usize > k {
            return Err(Error::Unsupported(format!(
                "cannot remove {} ({}): symbols are imported from it or from a library listed \
                 after it, and removing it would renumber their library ordinals",
                show(name),
                m.arch()
            )));
        }
    }
    Ok(())
}

/// What the dependency edits work on: load commands, or the slots of [`Semantics::Input`].
trait Item {
    fn command(&self) -> &LoadCommand;
}

impl Item for LoadCommand {
    fn command(&self) -> &LoadCommand {
        self
    }
}

/// Removes the first dependency among `items` that `named` picks (checked as
/// [`check_removal`] says).
fn remove_dependency<T: Item>(
    m: &MachO,
    items: &mut Vec<T>,
    named: impl Fn(&T) -> bool,
    name: &[u8],
) -> Result<()> {
    let deps: Vec<usize> = (0..items.len())
        .filter(|&i| items[i].command().is_dependency())
        .collect();
    if let Some(k) = deps.iter().position(|&i| named(&items[i])) {
        check_removal(m, k, name)?;
        items.remove(deps[k]);
    }
    Ok(())
}

/// Adds an LC_LOAD_DYLIB for `name` after the last dependency among `items`, unless one
/// already names it; `item` makes the new item.
fn add_dependency<T: Item>(
    ctx: Ctx,
    items: &mut Vec<T>,
    item: impl FnOnce(LoadCommand) -> T,
    name: &[u8],
) {
    let present = items
        .iter()
        .map(T::command)
        .any(|c| c.is_dependency() && c.string() == Some(name));
    if present {
        return;
    }
    let at = items
        .iter()
        .rposition(|i| i.command().is_dependency())
        .map_or(items.len(), |i| i + 1);
    items.insert(
        at,
        item(LoadCommand::dylib(ctx, DylibKind::Load, name, None)),
    );
}

fn sequential(m: &MachO, edits: &EditSet) -> Result<Vec<LoadCommand>> {
    let ctx = m.ctx();
    let arch = m.arch();
    let mut cmds = m.commands().to_vec();

    if let Some(id) = &edits.id {
        let i = cmds
            .iter()
            .position(|c| c.dylib_kind() == Some(DylibKind::Id))
            .ok_or_else(|| Error::NotADylib { arch: arch.clone() })?;
        if m.header().filetype != MH_DYLIB {
            return Err(Error::NotADylib { arch });
        }
        if cmds[i].string() != Some(id.as_slice()) {
            cmds[i] = renamed(ctx, &cmds[i], id);
        }
    }

    for (old, new) in &edits.change {
        for c in cmds.iter_mut() {
            if c.is_dependency() && c.string() == Some(old.as_slice()) && old != new {
                *c = renamed(ctx, c, new);
            }
        }
    }

    for name in &edits.remove_dylib {
        let named = |c: &LoadCommand| c.string() == Some(name.as_slice());
        remove_dependency(m, &mut cmds, named, name)?;
    }
    for name in &edits.add_dylib {
        add_dependency(ctx, &mut cmds, |c| c, name);
    }

    for op in &edits.rpath {
        apply_rpath(ctx, &arch, &mut cmds, op, edits.strict)?;
    }
    Ok(cmds)
}

/// One command of the result in [`Semantics::Input`] mode.
struct Slot {
    cmd: LoadCommand,
    /// The name (dylib commands) or path (LC_RPATH) the command had in the input; None for a
    /// command the edit adds.
    input: Option<Vec<u8>>,
    /// The current path of an LC_RPATH.
    path: Option<Vec<u8>>,
    /// An rpath operation has already matched this input LC_RPATH.
    taken: bool,
    /// The rpath operation (its index) that gave this LC_RPATH its path, by renaming or adding.
    made_by: Option<usize>,
}

impl Item for Slot {
    fn command(&self) -> &LoadCommand {
        &self.cmd
    }
}

fn against_input(m: &MachO, edits: &EditSet) -> Result<Applied> {
    let ctx = m.ctx();
    let arch = m.arch();
    let mut warnings = Vec::new();
    let mut slots: Vec<Slot> = Vec::with_capacity(m.commands().len());
    for c in m.commands().iter().cloned() {
        let path = if c.is_rpath() { name_of(&c) } else { None };
        let input = name_of(&c);
        slots.push(Slot {
            cmd: c,
            input,
            path,
            taken: false,
            made_by: None,
        });
    }
    let is_dep = |s: &Slot| s.cmd.is_dependency();

    if let Some(id) = &edits.id {
        match slots
            .iter_mut()
            .find(|s| s.cmd.dylib_kind() == Some(DylibKind::Id))
        {
            Some(s) if m.header().filetype == MH_DYLIB => {
                if s.input.as_deref() != Some(id.as_slice()) {
                    s.cmd = renamed(ctx, &s.cmd, id);
                }
            }
            _ => warnings.push(format!(
                "{arch}: not a dynamic library (no LC_ID_DYLIB): the install name {} is ignored",
                show(id)
            )),
        }
    }

    for s in slots.iter_mut().filter(|s| is_dep(s)) {
        let Some(name) = s.input.clone() else {
            continue;
        };
        if let Some((_, new)) = edits.change.iter().find(|(old, _)| *old == name) {
            if *new != name {
                s.cmd = renamed(ctx, &s.cmd, new);
            }
        }
    }

    for name in &edits.remove_dylib {
        let named = |s: &Slot| s.input.as_deref() == Some(name.as_slice());
        remove_dependency(m, &mut slots, named, name)?;
    }
    for name in &edits.add_dylib {
        let added = |cmd| Slot {
            cmd,
            input: None,
            path: None,
            taken: false,
            made_by: None,
        };
        add_dependency(ctx, &mut slots, added, name);
    }

    let missing = |p: &[u8]| Error::RpathNotFound {
        arch: arch.clone(),
        path: show(p),
    };
    let new_rpath = |p: &[u8], i: usize| Slot {
        cmd: LoadCommand::rpath(ctx, p),
        input: None,
        path: Some(p.to_vec()),
        taken: true,
        made_by: Some(i),
    };
    // The first input LC_RPATH with this path no earlier operation took.
    let untaken = |slots: &[Slot], p: &[u8]| {
        slots.iter().position(|s| {
            s.cmd.is_rpath() && !s.taken && s.made_by.is_none() && s.input.as_deref() == Some(p)
        })
    };
    let from_input = |s: &Slot| s.cmd.is_rpath() && s.input.is_some();
    for (i, op) in edits.rpath.iter().enumerate() {
        match op {
            RpathOp::RemoveAll => slots.retain(|s| !from_input(s)),
            RpathOp::Set(list) => {
                slots.retain(|s| !from_input(s));
                let mut seen: Vec<&[u8]> = Vec::new();
                for p in list {
                    if !seen.contains(&p.as_slice()) {
                        seen.push(p);
                        slots.push(new_rpath(p, i));
                    }
                }
            }
            RpathOp::Delete(p) => match untaken(&slots, p) {
                Some(j) => {
                    slots.remove(j);
                }
                None if edits.strict => return Err(missing(p)),
                None => {}
            },
            RpathOp::Change(old, new) => match untaken(&slots, old) {
                Some(j) => {
                    let s = &mut slots[j];
                    s.taken = true;
                    if old != new {
                        s.cmd = LoadCommand::rpath(ctx, new);
                        s.path = Some(new.clone());
                        s.made_by = Some(i);
                    }
                }
                None if edits.strict => return Err(missing(old)),
                None => {}
            },
            RpathOp::Add(p) => slots.push(new_rpath(p, i)),
            RpathOp::Prepend(p) => {
                let at = slots
                    .iter()
                    .position(|s| s.cmd.is_rpath())
                    .unwrap_or(slots.len());
                slots.insert(at, new_rpath(p, i));
            }
        }
    }

    // A path an operation produced duplicates one that survives from the input or that an
    // earlier operation produced: an error (strict) or the produced command is dropped.
    for i in 0..edits.rpath.len() {
        let mut j = 0;
        while j < slots.len() {
            if slots[j].made_by != Some(i) {
                j += 1;
                continue;
            }
            let clash = slots.iter().enumerate().any(|(t, o)| {
                t != j
                    && o.path.is_some()
                    && o.path == slots[j].path
                    && o.made_by.is_none_or(|k| k < i || (k == i && t < j))
            });
            if !clash {
                j += 1;
                continue;
            }
            if edits.strict {
                return Err(Error::RpathDuplicate {
                    arch: arch.clone(),
                    path: show(slots[j].path.as_deref().unwrap_or_default()),
                });
            }
            slots.remove(j);
        }
    }
    Ok(Applied {
        cmds: slots.into_iter().map(|s| s.cmd).collect(),
        warnings,
    })
}

fn apply_rpath(
    ctx: Ctx,
    arch: &str,
    cmds: &mut Vec<LoadCommand>,
    op: &RpathOp,
    strict: bool,
) -> Result<()> {
    let is = |c: &LoadCommand, p: &[u8]| c.is_rpath() && c.string() == Some(p);
    let find = |cmds: &[LoadCommand], p: &[u8]| cmds.iter().position(|c| is(c, p));
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
            cmds.retain(|c| !c.is_rpath());
            for p in list {
                if find(cmds, p).is_none() {
                    cmds.push(LoadCommand::rpath(ctx, p));
                }
            }
        }
        RpathOp::RemoveAll => cmds.retain(|c| !c.is_rpath()),
        RpathOp::Delete(p) => {
            if find(cmds, p).is_none() && strict {
                return Err(missing(p));
            }
            cmds.retain(|c| !is(c, p));
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
                    cmds[i] = LoadCommand::rpath(ctx, new);
                }
            }
        },
        RpathOp::Add(p) => match find(cmds, p) {
            Some(_) if strict => return Err(dup(p)),
            Some(_) => {}
            None => cmds.push(LoadCommand::rpath(ctx, p)),
        },
        RpathOp::Prepend(p) => match find(cmds, p) {
            Some(_) if strict => return Err(dup(p)),
            Some(_) => {}
            None => {
                let at = cmds.iter().position(|c| c.is_rpath()).unwrap_or(cmds.len());
                cmds.insert(at, LoadCommand::rpath(ctx, p));
            }
        },
    }
    Ok(())
}
