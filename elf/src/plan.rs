//! The planner: resolves the edit set into the state the file must reach, decides whether that
//! fits in place or the file must grow, and produces the [`Layout`] that `emit` writes.
//!
//! In place, only bytes that must change are written: strings go into bytes the edit frees, the
//! dynamic table is rewritten within its slots, the interpreter within its old length.
//! When something does not fit, `grow` lays out a new segment.

use crate::consts::*;
use crate::edit::{EditSet, Entry, LibraryProbe, Target, Val};
use crate::error::{Error, Result};
use crate::headers::{Phdr, Shdr};
use crate::layout::{DynamicAt, Layout, Strings};
use crate::output::Rewrite;
use crate::strtab;
use crate::view::Elf;

/// Extra DT_NULL slots given to a dynamic table that has to move, so later additions fit in place.
pub(crate) const SPARE_DYN_SLOTS: u64 = 8;

/// How the planner may change the file.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Options {
    /// Refuse (with `Error::NoRoom`) instead of growing the file.
    pub no_grow: bool,
    /// Alignment of an added segment; defaults to the machine's largest page size.
    pub page_size: Option<u64>,
    /// Leave the old copies of moved data in place instead of zeroing them (patchelf's
    /// `--no-clobber-old-sections`, for programs that read their own sections by address).
    pub keep_old_copies: bool,
}

pub(crate) fn align_up(v: u64, a: u64) -> u64 {
    let a = a.max(1);
    v.div_ceil(a).saturating_mul(a)
}

pub(crate) fn name(elf: &Elf, i: usize) -> String {
    let n = elf.section_name(i);
    if n.is_empty() {
        format!("section {i}")
    } else {
        String::from_utf8_lossy(n).into_owned()
    }
}

/// Where the interpreter string may be rewritten in place: PT_INTERP's bytes, up to the first
/// other section or table that starts inside them (none when one covers its start; inputs may
/// overlap their structures, and a longer string must not run into them).
pub(crate) fn interp_room(elf: &Elf) -> Option<(u64, u64)> {
    let p = elf.phdrs[elf.find_phdr(PT_INTERP)?];
    let (start, mut end) = (p.p_offset, p.file_end());
    let is_interp = |s: &Shdr| s.sh_offset == start && s.sh_type == SHT_PROGBITS;
    let others = elf
        .shdrs
        .iter()
        .filter(|s| s.has_file_data() && !is_interp(s))
        .map(|s| (s.sh_offset, s.sh_offset.saturating_add(s.sh_size)))
        .chain(elf.dynamic_table_ranges());
    for (a, b) in others {
        if a <= start && b > start {
            return Some((start, 0));
        }
        if a > start && a < end {
            end = a;
        }
    }
    Some((start, end - start))
}

pub(crate) fn overlaps(a: (u64, u64), b: (u64, u64)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

/// The strings the new state references and what happens to the old ones.
pub(crate) struct StringNeeds {
    /// Every string the final dynamic table, version needs and renamed symbols reference, in
    /// order, with its current offset when it keeps it.
    pub wanted: Vec<(Vec<u8>, Option<u64>)>,
    /// Offsets of strings that stay referenced where they are.
    pub kept: Vec<u64>,
    /// Offsets of strings the edit no longer references.
    pub dropped: Vec<u64>,
    /// Symbol and version names that keep their offsets (`None`: unknown, all bytes in use).
    pub fixed: Option<Vec<u64>>,
}

impl StringNeeds {
    fn of(elf: &Elf, t: &Target) -> StringNeeds {
        let mut wanted = Vec::new();
        for e in &t.entries {
            if let Val::Str { s, orig } = &e.val {
                wanted.push((s.clone(), *orig));
            }
        }
        for (_, s, orig) in &t.verneed {
            wanted.push((s.clone(), *orig));
        }
        for new in t.symbols.renamed.values() {
            wanted.push((new.clone(), None));
        }
        let kept: Vec<u64> = wanted.iter().filter_map(|(_, o)| *o).collect();
        let mut dropped: Vec<u64> = Vec::new();
        if let Some(d) = &elf.dynamic {
            dropped.extend(
                d.entries
                    .iter()
                    .filter(|e| STRING_TAGS.contains(&e.tag))
                    .map(|e| e.val),
            );
        }
        dropped.extend(elf.verneed.iter().map(|v| v.name));
        let fixed = elf.fixed_refs.as_ref().map(|f| {
            let mut v: Vec<u64> = Vec::new();
            for (i, &o) in f.symbols.iter().enumerate() {
                if t.symbols.renamed.contains_key(&i) {
                    dropped.push(o);
                } else {
                    v.push(o);
                }
            }
            v.extend(&f.versions);
            v
        });
        dropped.retain(|o| !kept.contains(o));
        StringNeeds {
            wanted,
            kept,
            dropped,
            fixed,
        }
    }

    /// Strings that are not in the table yet.
    fn new_strings(&self) -> Vec<Vec<u8>> {
        self.wanted
            .iter()
            .filter(|(_, o)| o.is_none())
            .map(|(s, _)| s.clone())
            .collect()
    }

    /// Places the new strings in bytes the edit frees, if they fit.
    fn in_place(&self, elf: &Elf) -> Option<strtab::InPlace> {
        let live: Option<Vec<u64>> = self
            .fixed
            .as_ref()
            .map(|f| f.iter().chain(&self.kept).copied().collect());
        strtab::place_in_place(
            elf.dynstr_bytes(),
            live.as_deref(),
            &self.dropped,
            &self.new_strings(),
        )
    }
}

/// Plans the edit.
pub fn plan(
    elf: &Elf,
    edits: &EditSet,
    opts: &Options,
    probe: Option<&dyn LibraryProbe>,
) -> Result<Rewrite> {
    if elf.ehdr.e_type != ET_EXEC && elf.ehdr.e_type != ET_DYN {
        return Err(Error::Unsupported(format!(
            "cannot edit an ELF file of type {} (only executables and shared objects)",
            elf.ehdr.e_type
        )));
    }
    if let Some(p) = opts.page_size {
        if !p.is_power_of_two() {
            return Err(Error::Unsupported(format!(
                "page size {p} is not a power of two"
            )));
        }
    }
    // The headers get rewritten: tables that claim their bytes would change under the edit.
    let c = elf.ctx;
    let headers = [
        (0, c.ehdr_size()),
        (
            elf.ehdr.e_phoff,
            elf.ehdr.e_phoff + elf.phdrs.len() as u64 * c.phdr_size(),
        ),
    ];
    let tables = [
        elf.dynstr
            .map(|d| ("dynamic string table", d.offset, d.size)),
        elf.dynamic
            .as_ref()
            .map(|d| ("dynamic table", d.offset, d.capacity * c.dyn_size())),
    ];
    for (what, off, len) in tables.into_iter().flatten() {
        if headers.iter().any(|&h| overlaps(h, (off, off + len))) {
            return Err(Error::Malformed {
                what: "layout",
                detail: format!("the {what} overlaps the file or program headers"),
            });
        }
    }
    let t = Target::resolve(elf, edits, probe)?;
    if t.interpreter.is_some() && elf.find_phdr(PT_INTERP).is_none() {
        return Err(Error::MissingTable(".interp"));
    }
    let original = Target::resolve(elf, &EditSet::default(), None)?;
    let dyn_changed = t.entries != original.entries || t.verneed != original.verneed;
    if (dyn_changed || !t.symbols.is_empty()) && elf.dynamic.is_none() {
        return Err(Error::MissingTable(".dynamic"));
    }
    if elf.is_self_relocating() {
        // No loader ever reads these, and glibc's self-relocation asserts that a static PIE has
        // no DT_RPATH/DT_RUNPATH: such an edit could only break the program.
        let search = |t: &Target| -> Vec<Entry> {
            t.entries
                .iter()
                .filter(|e| matches!(e.tag, DT_NEEDED | DT_RPATH | DT_RUNPATH))
                .cloned()
                .collect()
        };
        if search(&t) != search(&original) {
            return Err(Error::Unsupported(
                "refusing to change DT_NEEDED/DT_RPATH/DT_RUNPATH of a static PIE or dynamic loader: \
                 its self-relocation rejects an rpath, and it loads no libraries itself"
                    .into(),
            ));
        }
    }
    let needs_strings =
        t.entries.iter().any(|e| matches!(e.val, Val::Str { .. })) || !t.symbols.renamed.is_empty();
    if (dyn_changed || !t.symbols.renamed.is_empty()) && needs_strings && elf.dynstr.is_none() {
        return Err(Error::MissingTable(".dynstr"));
    }

    let strings = StringNeeds::of(elf, &t);
    let placed = strings.in_place(elf);
    let capacity = elf.dynamic.as_ref().map_or(0, |d| d.capacity);
    let dyn_fits = !dyn_changed || (t.entries.len() as u64) < capacity;
    let interp_fits = match (&t.interpreter, interp_room(elf)) {
        (Some(i), Some((_, room))) => (i.len() as u64) < room,
        _ => true,
    };
    let layout = match placed {
        Some(placed) if dyn_fits && interp_fits && t.cache.add.is_none() => {
            in_place(elf, &t, placed, dyn_changed)?
        }
        placed => {
            let mut why = Vec::new();
            if placed.is_none() {
                let need: usize = strings.new_strings().iter().map(|s| s.len() + 1).sum();
                why.push(format!(
                    "the new strings need {need} bytes and .dynstr has no free room for them"
                ));
            }
            if !dyn_fits {
                why.push(format!(
                    "the dynamic table needs {} entries and has room for {}",
                    t.entries.len() + 1,
                    capacity
                ));
            }
            if !interp_fits {
                why.push(format!(
                    "the interpreter needs {} bytes and PT_INTERP holds {}",
                    t.interpreter.as_ref().map_or(0, |i| i.len() + 1),
                    interp_room(elf).map_or(0, |(_, room)| room)
                ));
            }
            if t.cache.add.is_some() {
                why.push("the resolution cache note needs a place".into());
            }
            if opts.no_grow {
                return Err(Error::NoRoom(format!(
                    "edit does not fit without growing the file: {}",
                    why.join("; ")
                )));
            }
            if !dyn_fits && elf.is_self_relocating() {
                return Err(Error::Unsupported(format!(
                    "refusing to move .dynamic of a static PIE or dynamic loader (it relocates itself through _DYNAMIC): {}",
                    why.join("; ")
                )));
            }
            crate::grow::layout(
                elf,
                &t,
                opts,
                crate::grow::Needs {
                    placed,
                    strings: &strings,
                    dynamic: !dyn_fits,
                    interp: !interp_fits,
                    why,
                },
            )?
        }
    };
    crate::emit::emit(elf, &t, &layout)
}

/// The headers every layout starts from.
pub(crate) struct Base {
    pub phdrs: Vec<Phdr>,
    pub shdrs: Vec<Shdr>,
    /// Index of the section name table.
    pub shstrndx: u16,
    /// Input ranges nothing refers to any more.
    pub freed: Vec<(u64, u64)>,
}

/// The input's headers, with header-only edits (PT_GNU_STACK) and a stale resolution cache note
/// taken out (its program headers become PT_NULL, its section is dropped when it is the last
/// one and emptied otherwise).
pub(crate) fn base_headers(elf: &Elf, t: &Target) -> Result<Base> {
    let mut phdrs = elf.phdrs.clone();
    let mut shdrs = elf.shdrs.clone();
    let shstrndx = elf.ehdr.e_shstrndx;
    let mut freed = Vec::new();
    if let Some(x) = t.execstack {
        let Some(p) = phdrs.iter_mut().find(|p| p.p_type == PT_GNU_STACK) else {
            return Err(Error::Unsupported(
                "the file has no PT_GNU_STACK to change".into(),
            ));
        };
        p.p_flags = if x {
            p.p_flags | PF_X
        } else {
            p.p_flags & !PF_X
        };
    }
    if let Some(old) = &t.cache.remove {
        for p in phdrs.iter_mut() {
            if matches!(p.p_type, PT_NOTE | PT_LOAD)
                && p.p_offset == old.offset
                && p.p_filesz == old.size
            {
                *p = Phdr::null();
            }
        }
        if old.section + 1 == shdrs.len() {
            if usize::from(shstrndx) == old.section {
                return Err(Error::Unsupported(
                    "cannot remove the resolution cache note: the section name table index points to it"
                        .into(),
                ));
            }
            shdrs.pop();
            if elf.ehdr.e_shnum == 0 {
                return Err(Error::Unsupported(
                    "cannot remove a section from a file with extended section numbering".into(),
                ));
            }
        } else {
            shdrs[old.section] = Shdr::null();
        }
        for s in shdrs.iter_mut() {
            if s.sh_link as usize == old.section {
                s.sh_link = 0;
            }
        }
        freed.push((old.offset, old.offset + old.size));
    }
    Ok(Base {
        phdrs,
        shdrs,
        shstrndx,
        freed,
    })
}

/// The layout of an edit that fits.
fn in_place(elf: &Elf, t: &Target, placed: strtab::InPlace, dyn_changed: bool) -> Result<Layout> {
    let Base {
        phdrs,
        shdrs,
        shstrndx,
        freed,
    } = base_headers(elf, t)?;
    let old_len = elf.data.len() as u64;
    let dynamic = match (&elf.dynamic, dyn_changed) {
        (Some(d), true) => Some(DynamicAt {
            offset: d.offset,
            vaddr: d.vaddr,
            slots: d.capacity,
        }),
        _ => None,
    };
    let interp = t.interpreter.as_ref().and_then(|_| interp_room(elf));
    Ok(Layout {
        old_len,
        new_len: old_len,
        why: Vec::new(),
        phoff: elf.ehdr.e_phoff,
        phdrs,
        shoff: elf.ehdr.e_shoff,
        shdrs,
        shstrndx,
        shstrtab: None,
        segment: None,
        strings: Strings::InPlace(placed),
        dynstr_vaddr: elf.dynstr.map_or(0, |d| d.vaddr),
        dynstr_size: elf.dynstr.map_or(0, |d| d.size),
        dynamic,
        interp,
        freed,
    })
}
