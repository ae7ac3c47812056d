//! What the user asked for (`EditSet`) and what the dynamic table must hold afterwards (`Target`).
//!
//! Resolution happens on values, not bytes: the planner later decides where each string goes.
//! Operations apply in a fixed order, the one patchelf uses: interpreter, soname, rpath, then
//! needed removals, replacements and additions (shrink-rpath looks at the needed list as it was).

use crate::consts::*;
use crate::error::{Error, Result};
use crate::ldcache;
use crate::symbols::{self, SymbolEdits};
use crate::view::Elf;

/// One change to the rpath list.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RpathOp {
    /// The list becomes exactly this string (colon-separated).
    Set(Vec<u8>),
    /// Append an entry unless it is already present.
    Add(Vec<u8>),
    /// Prepend an entry unless it is already present.
    Prepend(Vec<u8>),
    /// Remove every entry equal to this one.
    Delete(Vec<u8>),
    /// Remove DT_RPATH and DT_RUNPATH altogether.
    Remove,
    /// Rename every entry equal to the first to the second.
    Change(Vec<u8>, Vec<u8>),
    /// Keep only directories that hold a needed library (patchelf's --shrink-rpath); absolute
    /// directories must also start with one of the prefixes when any are given.
    Shrink {
        /// Prefixes absolute entries must start with (none: any).
        allowed_prefixes: Vec<Vec<u8>>,
    },
}

/// Every edit one call applies, in one pass. Start from `EditSet::default()` and set the fields
/// you need (more may be added in later versions).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EditSet {
    /// New program interpreter (PT_INTERP).
    pub interpreter: Option<Vec<u8>>,
    /// New DT_SONAME.
    pub soname: Option<Vec<u8>>,
    /// Changes to the run path, applied in order.
    pub rpath: Vec<RpathOp>,
    /// Write DT_RPATH instead of DT_RUNPATH.
    pub force_rpath: bool,
    /// DT_NEEDED entries to remove.
    pub remove_needed: Vec<Vec<u8>>,
    /// DT_NEEDED entries to rename (old, new); `.gnu.version_r` follows.
    pub replace_needed: Vec<(Vec<u8>, Vec<u8>)>,
    /// DT_NEEDED entries to add; each goes first, so several are added in reverse order.
    pub add_needed: Vec<Vec<u8>>,
    /// Set DF_1_NODEFLIB in DT_FLAGS_1.
    pub no_default_lib: bool,
    /// Add a DT_DEBUG entry if there is none.
    pub add_debug_tag: bool,
    /// New EI_OSABI byte.
    pub os_abi: Option<u8>,
    /// Make the stack executable (true) or not (false) through PT_GNU_STACK.
    pub execstack: Option<bool>,
    /// Rename dynamic symbols (old name, new name). Each symbol is matched by its name in the
    /// input, so a map that swaps two names swaps them.
    pub rename_symbols: Vec<(Vec<u8>, Vec<u8>)>,
    /// Make the dynamic symbols of these names unversioned (`.gnu.version` entry 1).
    pub clear_symbol_version: Vec<Vec<u8>>,
    /// Record where each needed library resolves against the run path, in a
    /// `.note.nixos.ldcache` note (patchelf 0.19's resolution cache).
    pub resolution_cache: bool,
}

impl EditSet {
    /// Whether nothing is asked.
    pub fn is_empty(&self) -> bool {
        *self == EditSet::default()
    }

    /// Whether the needed-library edits are independent of each other, so that applying the
    /// set twice equals applying it once: not so when a replaced or removed name is added
    /// again, or a replacement's target is removed or replaced.
    pub fn needed_edits_independent(&self) -> bool {
        self.replace_needed.iter().all(|(a, b)| {
            !self.add_needed.contains(a)
                && !self.remove_needed.contains(b)
                && !self.replace_needed.iter().any(|(x, _)| x == b)
        }) && self
            .remove_needed
            .iter()
            .all(|r| !self.add_needed.contains(r))
    }
}

/// Questions about the file system that some edits ask (shrink-rpath, the resolution cache). The
/// format crate never touches the file system itself.
pub trait LibraryProbe {
    /// Whether `dir` holds a library `name` for this machine (`e_machine`).
    fn has_library(&self, dir: &[u8], name: &[u8], machine: u16) -> bool;
    /// Whether `path` can be read (as `access(path, R_OK)`).
    fn readable(&self, path: &[u8]) -> bool;
    /// Whether `path` exists.
    fn exists(&self, path: &[u8]) -> bool;
}

/// A dynamic entry's value after the edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Val {
    Raw(u64),
    /// An address stored relative to the entry's own address (DT_MIPS_RLD_MAP_REL): kept as the
    /// absolute address and re-encoded wherever the entry ends up.
    SelfRelative(u64),
    /// A string; `orig` is its current dynstr offset when the entry keeps its old string.
    Str {
        s: Vec<u8>,
        orig: Option<u64>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub tag: u64,
    pub val: Val,
}

/// The state the file must be in after the edit.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// Final dynamic entries, without the terminating DT_NULL.
    pub entries: Vec<Entry>,
    /// New string for each `vn_file` field (by field offset); `orig` as in `Val::Str`.
    pub verneed: Vec<(u64, Vec<u8>, Option<u64>)>,
    /// New interpreter, if it changes.
    pub interpreter: Option<Vec<u8>>,
    pub os_abi: Option<u8>,
    pub execstack: Option<bool>,
    pub symbols: SymbolEdits,
    pub cache: CacheEdit,
    pub warnings: Vec<String>,
}

/// What happens to a resolution cache note.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CacheEdit {
    /// The note the file has, removed because the needed list or the run path changed.
    pub remove: Option<ldcache::Existing>,
    /// A new note.
    pub add: Option<Vec<u8>>,
}

pub(crate) fn split_rpath(s: &[u8]) -> Vec<Vec<u8>> {
    if s.is_empty() {
        return Vec::new();
    }
    s.split(|&b| b == b':').map(|p| p.to_vec()).collect()
}

fn join_rpath(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.join(&b':')
}

impl Target {
    pub fn resolve(elf: &Elf, edits: &EditSet, probe: Option<&dyn LibraryProbe>) -> Result<Target> {
        let mut entries: Vec<Entry> = Vec::new();
        if let Some(d) = &elf.dynamic {
            for (i, e) in d.entries.iter().enumerate() {
                let val = if STRING_TAGS.contains(&e.tag) {
                    Val::Str {
                        s: elf.dynstr_at(e.val)?.to_vec(),
                        orig: Some(e.val),
                    }
                } else if e.tag == DT_MIPS_RLD_MAP_REL {
                    let at = d.vaddr.wrapping_add(i as u64 * elf.ctx.dyn_size());
                    Val::SelfRelative(at.wrapping_add(e.val))
                } else {
                    Val::Raw(e.val)
                };
                entries.push(Entry { tag: e.tag, val });
            }
        }
        let mut verneed = Vec::new();
        for v in &elf.verneed {
            verneed.push((v.field, elf.dynstr_at(v.name)?.to_vec(), Some(v.name)));
        }
        let mut t = Target {
            entries,
            verneed,
            interpreter: None,
            os_abi: edits.os_abi.filter(|&a| a != elf.ehdr.ident[7]),
            execstack: edits.execstack,
            symbols: SymbolEdits::default(),
            cache: CacheEdit::default(),
            warnings: Vec::new(),
        };
        let needed_before: Vec<Vec<u8>> = t.strings(DT_NEEDED).cloned().collect();
        let run_path_before = t.run_path();

        if let Some(i) = &edits.interpreter {
            if elf.interpreter() != Some(i.as_slice()) {
                t.interpreter = Some(i.clone());
            }
        }
        if let Some(s) = &edits.soname {
            t.set_single(DT_SONAME, s);
        }
        if !edits.rpath.is_empty() {
            t.apply_rpath(elf, edits, probe);
        }
        t.apply_needed(edits);
        if edits.no_default_lib {
            match t.entries.iter_mut().find(|e| e.tag == DT_FLAGS_1) {
                Some(Entry {
                    val: Val::Raw(v), ..
                }) => *v |= DF_1_NODEFLIB,
                _ => t.insert_after_strings(Entry {
                    tag: DT_FLAGS_1,
                    val: Val::Raw(DF_1_NODEFLIB),
                }),
            }
        }
        if edits.add_debug_tag && !t.entries.iter().any(|e| e.tag == DT_DEBUG) {
            t.insert_after_strings(Entry {
                tag: DT_DEBUG,
                val: Val::Raw(0),
            });
        }
        let needed_changed = t.strings(DT_NEEDED).ne(needed_before.iter());
        let stale = needed_changed
            || t.run_path() != run_path_before
            || edits.rpath.contains(&RpathOp::Remove);
        t.resolve_cache(elf, edits, stale, probe)?;
        t.symbols = symbols::resolve(elf, &edits.rename_symbols, &edits.clear_symbol_version)?;
        Ok(t)
    }

    /// The run path the loader uses: DT_RUNPATH, else DT_RPATH.
    fn run_path(&self) -> Option<Vec<u8>> {
        self.strings(DT_RUNPATH)
            .next()
            .or_else(|| self.strings(DT_RPATH).next())
            .cloned()
    }

    /// Drops a stale resolution cache and builds the requested one, as patchelf 0.19 does: a
    /// note that matches what would be built is kept; one that does not is an error.
    fn resolve_cache(
        &mut self,
        elf: &Elf,
        edits: &EditSet,
        stale: bool,
        probe: Option<&dyn LibraryProbe>,
    ) -> Result<()> {
        let mut current = ldcache::find(elf);
        if stale {
            self.cache.remove = current.take();
        }
        if !edits.resolution_cache {
            return Ok(());
        }
        let probe = probe.ok_or_else(|| {
            Error::Unsupported("building a resolution cache needs a file-system probe".into())
        })?;
        let needed: Vec<Vec<u8>> = self.strings(DT_NEEDED).cloned().collect();
        let run_path = split_rpath(self.run_path().as_deref().unwrap_or(b""));
        match ldcache::descriptor(&needed, &run_path, probe) {
            Err(nothing) => {
                if current.is_some() {
                    return Err(Error::CacheAlreadyPresent);
                }
                self.warnings.push(nothing.warning().into());
            }
            Ok(desc) => match current {
                Some(c) if c.desc.as_deref() == Some(desc.as_slice()) => {}
                Some(_) => return Err(Error::CacheAlreadyPresent),
                None => self.cache.add = Some(ldcache::note(elf.ctx, &desc)),
            },
        }
        Ok(())
    }

    fn strings(&self, tag: u64) -> impl Iterator<Item = &Vec<u8>> {
        self.entries
            .iter()
            .filter(move |e| e.tag == tag)
            .filter_map(|e| match &e.val {
                Val::Str { s, .. } => Some(s),
                Val::Raw(_) | Val::SelfRelative(_) => None,
            })
    }

    /// Inserts a new entry after the last DT_NEEDED/RPATH/RUNPATH/SONAME, so that readelf lists it
    /// where people expect it.
    fn insert_after_strings(&mut self, e: Entry) {
        let at = self
            .entries
            .iter()
            .rposition(|e| matches!(e.tag, DT_NEEDED | DT_RPATH | DT_RUNPATH | DT_SONAME))
            .map_or(0, |i| i + 1);
        self.entries.insert(at, e);
    }

    /// Makes exactly one entry of `tag` hold `s` (keeping the first one's position).
    fn set_single(&mut self, tag: u64, s: &[u8]) {
        let current: Vec<&Vec<u8>> = self.strings(tag).collect();
        if current.len() == 1 && current[0].as_slice() == s {
            return;
        }
        let new = Val::Str {
            s: s.to_vec(),
            orig: None,
        };
        match self.entries.iter().position(|e| e.tag == tag) {
            Some(i) => {
                self.entries[i].val = new;
                let mut n = 0;
                self.entries.retain(|e| {
                    n += (e.tag == tag) as usize;
                    e.tag != tag || n == 1
                });
            }
            None => self.insert_after_strings(Entry { tag, val: new }),
        }
    }

    fn apply_rpath(&mut self, elf: &Elf, edits: &EditSet, probe: Option<&dyn LibraryProbe>) {
        // DT_RUNPATH wins over DT_RPATH, as in ld.so.
        let (cur_tag, cur) = match (
            self.strings(DT_RUNPATH).next(),
            self.strings(DT_RPATH).next(),
        ) {
            (Some(r), _) => (Some(DT_RUNPATH), Some(r.clone())),
            (None, Some(r)) => (Some(DT_RPATH), Some(r.clone())),
            (None, None) => (None, None),
        };
        let needed: Vec<Vec<u8>> = self.strings(DT_NEEDED).cloned().collect();
        let mut value = cur.clone();
        for op in &edits.rpath {
            let parts = split_rpath(value.as_deref().unwrap_or(b""));
            value = match op {
                RpathOp::Set(s) => Some(s.clone()),
                RpathOp::Remove => None,
                RpathOp::Add(p) | RpathOp::Prepend(p) if parts.contains(p) => value,
                RpathOp::Add(p) => Some(join_rpath(&[parts, vec![p.clone()]].concat())),
                RpathOp::Prepend(p) => Some(join_rpath(&[vec![p.clone()], parts].concat())),
                RpathOp::Delete(p) => {
                    let rest: Vec<_> = parts.iter().filter(|x| *x != p).cloned().collect();
                    if rest.len() == parts.len() {
                        value
                    } else if rest.is_empty() {
                        None
                    } else {
                        Some(join_rpath(&rest))
                    }
                }
                RpathOp::Change(old, new) if parts.contains(old) => Some(join_rpath(
                    &parts
                        .into_iter()
                        .map(|x| if &x == old { new.clone() } else { x })
                        .collect::<Vec<_>>(),
                )),
                RpathOp::Change(..) => value,
                RpathOp::Shrink { allowed_prefixes } => value
                    .map(|_| shrink(&parts, &needed, allowed_prefixes, elf.ehdr.e_machine, probe)),
            };
        }
        let want_tag = if edits.force_rpath {
            DT_RPATH
        } else {
            DT_RUNPATH
        };
        // Setting or shrinking the rpath also gives it the wanted tag, as patchelf does (DT_RPATH
        // becomes DT_RUNPATH unless forced); the other operations keep the tag of a value they
        // leave alone.
        let retag = edits.force_rpath
            || edits
                .rpath
                .iter()
                .any(|op| matches!(op, RpathOp::Set(_) | RpathOp::Shrink { .. }));
        let unchanged = value == cur && (cur.is_none() || !retag || cur_tag == Some(want_tag));
        let single = self
            .entries
            .iter()
            .filter(|e| e.tag == DT_RPATH || e.tag == DT_RUNPATH)
            .count()
            <= 1;
        if unchanged && single {
            return;
        }
        let first = self
            .entries
            .iter()
            .position(|e| e.tag == DT_RPATH || e.tag == DT_RUNPATH);
        let keep_orig = |s: &Vec<u8>| {
            self.entries.iter().find_map(|e| match &e.val {
                Val::Str { s: old, orig }
                    if (e.tag == DT_RUNPATH || e.tag == DT_RPATH) && old == s =>
                {
                    *orig
                }
                _ => None,
            })
        };
        let new_entry = value.map(|s| Entry {
            tag: want_tag,
            val: Val::Str {
                orig: keep_orig(&s),
                s,
            },
        });
        self.entries
            .retain(|e| e.tag != DT_RPATH && e.tag != DT_RUNPATH);
        if let Some(e) = new_entry {
            match first {
                Some(i) => self.entries.insert(i.min(self.entries.len()), e),
                None => self.insert_after_strings(e),
            }
        }
    }

    fn apply_needed(&mut self, edits: &EditSet) {
        for name in &edits.remove_needed {
            let had_version = self.verneed.iter().any(|(_, s, _)| s == name);
            let before = self.entries.len();
            self.entries.retain(|e| {
                !(e.tag == DT_NEEDED && matches!(&e.val, Val::Str { s, .. } if s == name))
            });
            if had_version && self.entries.len() != before {
                self.warnings.push(format!(
                    "{} still provides versioned symbols (.gnu.version_r); the loader will refuse \
                     the file unless another needed library loads it",
                    String::from_utf8_lossy(name)
                ));
            }
        }
        for (old, new) in &edits.replace_needed {
            for e in self.entries.iter_mut().filter(|e| e.tag == DT_NEEDED) {
                if let Val::Str { s, orig } = &mut e.val {
                    if s == old && old != new {
                        *s = new.clone();
                        *orig = None;
                    }
                }
            }
            for (_, s, orig) in self.verneed.iter_mut() {
                if s == old && old != new {
                    *s = new.clone();
                    *orig = None;
                }
            }
        }
        // Each addition goes first, so adding several in one call equals adding them one by one.
        for name in &edits.add_needed {
            if self.strings(DT_NEEDED).any(|s| s == name) {
                continue;
            }
            let val = Val::Str {
                s: name.clone(),
                orig: None,
            };
            self.entries.insert(
                0,
                Entry {
                    tag: DT_NEEDED,
                    val,
                },
            );
        }
    }
}

/// patchelf's shrink: keep relative entries (such as `$ORIGIN/..`), drop absolute ones that are
/// not allowed or hold none of the needed libraries not already found earlier in the list.
fn shrink(
    parts: &[Vec<u8>],
    needed: &[Vec<u8>],
    allowed: &[Vec<u8>],
    machine: u16,
    probe: Option<&dyn LibraryProbe>,
) -> Vec<u8> {
    let mut found = vec![false; needed.len()];
    let mut kept = Vec::new();
    for dir in parts {
        if !dir.is_empty() && dir[0] != b'/' {
            kept.push(dir.clone());
            continue;
        }
        if !allowed.is_empty() && !allowed.iter().any(|p| dir.starts_with(p)) {
            continue;
        }
        let mut useful = false;
        for (i, lib) in needed.iter().enumerate() {
            if !found[i] && probe.is_some_and(|p| p.has_library(dir, lib, machine)) {
                found[i] = true;
                useful = true;
            }
        }
        if useful {
            kept.push(dir.clone());
        }
    }
    join_rpath(&kept)
}
