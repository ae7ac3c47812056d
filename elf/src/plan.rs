//! The layout planner: decides whether an edit fits in place or the file must grow, and turns that
//! decision into a `Rewrite`.
//!
//! In place, only bytes that must change are written: strings go into bytes the edit frees, the
//! dynamic table is rewritten within its slots, the interpreter within its old length.
//!
//! Growing appends one read-write PT_LOAD at the end of the file holding whatever had to move: a
//! rebuilt `.dynstr`, a larger `.dynamic`, a longer interpreter, and, when the program header table
//! needs a slot for that PT_LOAD, the small sections right after the table (`.interp`, notes, hash
//! tables, `.dynsym`, version tables), which are found only through program headers and dynamic
//! tags. The table itself stays at the front. A later growth rebuilds that segment in place of
//! adding another, so repeated edits stay within one page set of the first growth.

use std::collections::{BTreeMap, BTreeSet};

use crate::consts::*;
use crate::edit::{EditSet, Entry, LibraryProbe, Target, Val};
use crate::error::{Error, Result};
use crate::headers::{Phdr, Shdr};
use crate::output::{Plan, Rewrite, Writes};
use crate::strtab;
use crate::view::Elf;

/// Extra DT_NULL slots given to a dynamic table that has to move, so later additions fit in place.
const SPARE_DYN_SLOTS: u64 = 8;

/// How the planner may change the file.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Refuse (with `Error::NoRoom`) instead of growing the file.
    pub no_grow: bool,
    /// Alignment of an added segment; defaults to the machine's largest page size.
    pub page_size: Option<u64>,
}

fn align_up(v: u64, a: u64) -> u64 {
    let a = a.max(1);
    v.div_ceil(a).saturating_mul(a)
}

fn name(elf: &Elf, i: usize) -> String {
    let n = elf.section_name(i);
    if n.is_empty() {
        format!("section {i}")
    } else {
        String::from_utf8_lossy(n).into_owned()
    }
}

fn overlaps(a: (u64, u64), b: (u64, u64)) -> bool {
    a.0 < b.1 && b.0 < a.1
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
    let t = Target::resolve(elf, edits, probe)?;
    if t.interpreter.is_some() && elf.find_phdr(PT_INTERP).is_none() {
        return Err(Error::Unsupported(
            "cannot set the interpreter: the file has no PT_INTERP (a static executable or a shared library)".into(),
        ));
    }
    let original = Target::resolve(elf, &EditSet::default(), None)?;
    let dyn_changed = t.entries != original.entries || t.verneed != original.verneed;
    if dyn_changed && elf.dynamic.is_none() {
        return Err(Error::Unsupported(
            "the file has no dynamic section (statically linked): nothing to edit there".into(),
        ));
    }
    let needs_strings = t.entries.iter().any(|e| matches!(e.val, Val::Str { .. }));
    if dyn_changed && needs_strings && elf.dynstr.is_none() {
        return Err(Error::Unsupported(
            "the dynamic table has no string table (DT_STRTAB/DT_STRSZ) to hold names".into(),
        ));
    }
    Planner {
        elf,
        t,
        dyn_changed,
        opts,
        w: Writes::new(),
        steps: Vec::new(),
    }
    .run()
}

struct Planner<'e, 'a> {
    elf: &'e Elf<'a>,
    t: Target,
    dyn_changed: bool,
    opts: &'e Options,
    w: Writes,
    steps: Vec<String>,
}

/// A block placed in the new segment.
struct Item {
    what: What,
    /// Source range in the input for verbatim copies.
    copy: Option<(u64, u64, u64)>, // (offset, vaddr, len)
    fresh: Vec<u8>,
    align: u64,
    len: u64,
    new_off: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum What {
    Sections(Vec<usize>),
    Interp,
    Dynstr,
    Dynamic,
}

impl<'e, 'a> Planner<'e, 'a> {
    fn run(mut self) -> Result<Rewrite> {
        let elf = self.elf;
        let old_len = elf.data.len() as u64;

        // Strings the new state needs and where they already are.
        let wanted = self.wanted_strings();
        let kept: BTreeSet<u64> = wanted.iter().filter_map(|(_, o)| *o).collect();
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
        dropped.retain(|o| !kept.contains(o));
        let new_strings: Vec<Vec<u8>> = wanted
            .iter()
            .filter(|(_, o)| o.is_none())
            .map(|(s, _)| s.clone())
            .collect();
        let live = elf.fixed_refs.as_ref().map(|f| {
            f.iter()
                .copied()
                .chain(kept.iter().copied())
                .collect::<Vec<_>>()
        });

        let in_place_strings = if new_strings.is_empty() {
            Some(strtab::InPlace {
                offsets: BTreeMap::new(),
                writes: Vec::new(),
            })
        } else {
            strtab::place_in_place(elf.dynstr_bytes(), live.as_deref(), &dropped, &new_strings)
        };
        let capacity = elf.dynamic.as_ref().map_or(0, |d| d.capacity);
        let dyn_fits = !self.dyn_changed || (self.t.entries.len() as u64) < capacity;
        let interp_phdr = elf.find_phdr(PT_INTERP);
        let interp_fits = match (&self.t.interpreter, interp_phdr) {
            (Some(i), Some(p)) => (i.len() as u64) < elf.phdrs[p].p_filesz,
            _ => true,
        };

        if let (Some(placed), true, true) = (&in_place_strings, dyn_fits, interp_fits) {
            self.in_place(placed)?;
            return self.finish(old_len, old_len, false);
        }

        let mut short = Vec::new();
        if in_place_strings.is_none() {
            let need: usize = new_strings.iter().map(|s| s.len() + 1).sum();
            short.push(format!(
                "the new strings need {need} bytes and .dynstr has no free room for them"
            ));
        }
        if !dyn_fits {
            short.push(format!(
                "the dynamic table needs {} entries and has room for {}",
                self.t.entries.len() + 1,
                capacity
            ));
        }
        if !interp_fits {
            short.push(format!(
                "the interpreter needs {} bytes and PT_INTERP holds {}",
                self.t.interpreter.as_ref().map_or(0, |i| i.len() + 1),
                interp_phdr.map_or(0, |p| elf.phdrs[p].p_filesz)
            ));
        }
        if self.opts.no_grow {
            return Err(Error::NoRoom(format!(
                "edit does not fit without growing the file: {}",
                short.join("; ")
            )));
        }
        if !dyn_fits && elf.is_static_pie() {
            return Err(Error::Unsupported(format!(
                "refusing to move .dynamic of a static PIE (it relocates itself through _DYNAMIC): {}",
                short.join("; ")
            )));
        }
        self.steps.push(format!("grow: {}", short.join("; ")));
        self.grow(in_place_strings, !dyn_fits, !interp_fits, &wanted)
    }

    /// Every string the final dynamic table and version records reference, in order, with its
    /// current offset when unchanged.
    fn wanted_strings(&self) -> Vec<(Vec<u8>, Option<u64>)> {
        let mut out = Vec::new();
        for e in &self.t.entries {
            if let Val::Str { s, orig } = &e.val {
                out.push((s.clone(), *orig));
            }
        }
        for (_, s, orig) in &self.t.verneed {
            out.push((s.clone(), *orig));
        }
        out
    }

    fn header_only_edits(&mut self, phdrs: &mut [Phdr]) -> Result<()> {
        if let Some(x) = self.t.execstack {
            let Some(i) = phdrs.iter().position(|p| p.p_type == PT_GNU_STACK) else {
                return Err(Error::Unsupported(
                    "the file has no PT_GNU_STACK to change".into(),
                ));
            };
            let f = phdrs[i].p_flags;
            phdrs[i].p_flags = if x { f | PF_X } else { f & !PF_X };
            if f != phdrs[i].p_flags {
                self.steps.push(format!(
                    "PT_GNU_STACK flags {f:#x} -> {:#x}",
                    phdrs[i].p_flags
                ));
            }
        }
        Ok(())
    }

    fn write_ehdr(&mut self, e_phnum: u16, e_shoff: u64) {
        let elf = self.elf;
        let mut h = elf.ehdr.clone();
        if let Some(a) = self.t.os_abi {
            h.ident[7] = a;
            self.steps
                .push(format!("EI_OSABI {} -> {a}", elf.ehdr.ident[7]));
        }
        h.e_phnum = e_phnum;
        h.e_shoff = e_shoff;
        let bytes = h.encode(elf.ctx, elf.data);
        self.w.put_header(0, bytes);
    }

    fn write_phdrs(&mut self, phdrs: &[Phdr]) {
        let mut b = Vec::new();
        for p in phdrs {
            p.encode(self.elf.ctx, &mut b);
        }
        self.w.put_header(self.elf.ehdr.e_phoff, b);
    }

    /// Serialises the dynamic table with `slots` entries.
    fn dynamic_bytes(
        &self,
        strings: &BTreeMap<Vec<u8>, u64>,
        fix: &dyn Fn(u64, u64) -> u64,
        slots: u64,
        table_vaddr: u64,
    ) -> Vec<u8> {
        let ctx = self.elf.ctx;
        let mut b = Vec::new();
        for (i, Entry { tag, val }) in self.t.entries.iter().enumerate() {
            let v = match val {
                Val::Raw(v) => fix(*tag, *v),
                Val::SelfRelative(abs) => {
                    abs.wrapping_sub(table_vaddr.wrapping_add(i as u64 * ctx.dyn_size()))
                        & ctx.word_mask()
                }
                Val::Str { s, orig } => orig
                    .filter(|_| !strings.contains_key(s))
                    .unwrap_or_else(|| strings[s]),
            };
            ctx.put_word(&mut b, *tag);
            ctx.put_word(&mut b, v);
        }
        for _ in self.t.entries.len() as u64..slots {
            ctx.put_word(&mut b, DT_NULL);
            ctx.put_word(&mut b, 0);
        }
        b
    }

    fn write_verneed(&mut self, strings: &BTreeMap<Vec<u8>, u64>, field_at: &dyn Fn(u64) -> u64) {
        let ctx = self.elf.ctx;
        for (field, s, orig) in self.t.verneed.clone() {
            // A rebuilt table may have moved a string that kept its value.
            let Some(at) = strings.get(&s).copied().or(orig) else {
                continue;
            };
            if Some(at) == orig {
                continue;
            }
            let mut b = Vec::new();
            ctx.put_u32(&mut b, at as u32);
            self.w.put(field_at(field), b);
            if orig.is_none() {
                self.steps
                    .push(format!("vn_file -> \"{}\"", String::from_utf8_lossy(&s)));
            }
        }
    }

    fn describe_strings(&mut self, offsets: &BTreeMap<Vec<u8>, u64>, base: u64) {
        for (s, o) in offsets {
            self.steps.push(format!(
                "string \"{}\" at .dynstr+{o:#x} (file offset {:#x})",
                String::from_utf8_lossy(s),
                base + o
            ));
        }
    }

    fn in_place(&mut self, placed: &strtab::InPlace) -> Result<()> {
        let elf = self.elf;
        let mut phdrs = elf.phdrs.clone();
        self.header_only_edits(&mut phdrs)?;
        self.write_ehdr(elf.ehdr.e_phnum, elf.ehdr.e_shoff);
        self.write_phdrs(&phdrs);
        if self.dyn_changed {
            let d = elf
                .dynamic
                .as_ref()
                .ok_or_else(|| Error::Unsupported("no dynamic table".into()))?;
            let base = elf.dynstr.map_or(0, |s| s.offset);
            for (rel, bytes) in &placed.writes {
                self.w.put(base + rel, bytes.clone());
            }
            self.describe_strings(&placed.offsets, base);
            let bytes = self.dynamic_bytes(&placed.offsets, &|_, v| v, d.capacity, d.vaddr);
            self.steps.push(format!(
                "in place: dynamic table at {:#x}, {} of {} slots used",
                d.offset,
                self.t.entries.len() + 1,
                d.capacity
            ));
            self.w.put(d.offset, bytes);
            self.write_verneed(&placed.offsets, &|f| f);
        }
        if let (Some(i), Some(p)) = (self.t.interpreter.clone(), elf.find_phdr(PT_INTERP)) {
            let ph = elf.phdrs[p];
            let mut b = i.clone();
            b.resize(ph.p_filesz as usize, 0);
            self.w.put(ph.p_offset, b);
            self.steps.push(format!(
                "in place: interpreter \"{}\" at {:#x}",
                String::from_utf8_lossy(&i),
                ph.p_offset
            ));
        }
        Ok(())
    }

    fn finish(self, old_len: u64, new_len: u64, grows: bool) -> Result<Rewrite> {
        self.w.check_overlaps().map_err(|d| Error::Malformed {
            what: "layout",
            detail: d,
        })?;
        let writes = self.w.finish(self.elf.data, new_len);
        let mut steps = self.steps;
        if writes.is_empty() && new_len == old_len {
            steps = vec!["nothing to change".into()];
        }
        Ok(Rewrite {
            plan: Plan {
                grows,
                old_len,
                new_len,
                steps,
                warnings: self.t.warnings,
            },
            new_len,
            writes,
        })
    }

    /// Rewrites `st_value` of every symbol (in `.symtab` and `.dynsym`) whose section moved.
    /// `moves` maps a section index to (old address, size, new address); `at` gives where a byte
    /// of the input now lives (symbol tables may themselves have moved).
    fn fix_symbols(&mut self, moves: &BTreeMap<usize, (u64, u64, u64)>, at: &dyn Fn(u64) -> u64) {
        if moves.is_empty() {
            return;
        }
        let elf = self.elf;
        let ctx = elf.ctx;
        let (entsize, shndx_at, value_at) = if ctx.is64() {
            (24u64, 6usize, 8usize)
        } else {
            (16, 14, 4)
        };
        for s in elf
            .shdrs
            .iter()
            .filter(|s| s.sh_type == SHT_SYMTAB || s.sh_type == SHT_DYNSYM)
        {
            let Ok(syms) = crate::headers::table(
                elf.data,
                s.sh_offset,
                s.sh_size / entsize,
                entsize,
                "symbols",
            ) else {
                continue;
            };
            for (k, sym) in syms.enumerate() {
                let shndx = ctx.u16(&sym[shndx_at..]) as usize;
                let Some(&(old, size, new)) = moves.get(&shndx) else {
                    continue;
                };
                let value = ctx.word_at(&sym[value_at..]);
                if value < old || value > old + size {
                    continue;
                }
                let mut b = Vec::new();
                ctx.put_word(&mut b, new + (value - old));
                self.w
                    .put(at(s.sh_offset + k as u64 * entsize + value_at as u64), b);
            }
        }
    }

    /// Whether section `i` may be moved: found only through things this planner updates.
    fn movable(&self, i: usize) -> bool {
        let elf = self.elf;
        let s = elf.shdrs[i];
        if s.sh_flags & SHF_ALLOC == 0 || !s.has_file_data() {
            return false;
        }
        let tag_is = |tag| elf.dyn_val(tag) == Some(s.sh_addr);
        match s.sh_type {
            SHT_NOTE => true,
            SHT_HASH => tag_is(DT_HASH),
            SHT_GNU_HASH => tag_is(DT_GNU_HASH),
            SHT_DYNSYM => tag_is(DT_SYMTAB),
            SHT_GNU_VERSYM => tag_is(DT_VERSYM),
            SHT_GNU_VERNEED => tag_is(DT_VERNEED),
            SHT_GNU_VERDEF => tag_is(DT_VERDEF),
            SHT_STRTAB => elf.dynstr.and_then(|d| d.section) == Some(i),
            SHT_DYNAMIC => elf.dynamic.as_ref().and_then(|d| d.section) == Some(i),
            SHT_PROGBITS => self.interp_section() == Some(i),
            _ => false,
        }
    }

    fn interp_section(&self) -> Option<usize> {
        let p = self.elf.phdrs[self.elf.find_phdr(PT_INTERP)?];
        self.elf.shdrs.iter().position(|s| {
            s.sh_offset == p.p_offset && s.sh_size == p.p_filesz && s.sh_type == SHT_PROGBITS
        })
    }

    /// Sections sharing a PT_NOTE with section `i` (moved together to keep the segment whole).
    fn note_group(&self, i: usize) -> Vec<usize> {
        let elf = self.elf;
        let s = elf.shdrs[i];
        let range = (s.sh_offset, s.sh_offset + s.sh_size);
        let mut out = vec![i];
        for p in elf
            .phdrs
            .iter()
            .filter(|p| p.p_type == PT_NOTE || p.p_type == PT_GNU_PROPERTY)
        {
            let pr = (p.p_offset, p.file_end());
            if overlaps(pr, range) {
                for (j, t) in elf.shdrs.iter().enumerate() {
                    if t.has_file_data() && overlaps(pr, (t.sh_offset, t.sh_offset + t.sh_size)) {
                        out.push(j);
                    }
                }
            }
        }
        out
    }

    /// The last PT_LOAD, if it holds only things this planner can lay out again (as the segment an
    /// earlier growth added does), and nothing but the section header table follows it.
    fn rebuildable_segment(&self) -> Option<usize> {
        let elf = self.elf;
        if elf.shdrs.is_empty() {
            return None;
        }
        let (ri, r) = elf
            .phdrs
            .iter()
            .enumerate()
            .filter(|(_, p)| p.p_type == PT_LOAD)
            .max_by_key(|(_, p)| p.p_offset)?;
        if r.p_filesz != r.p_memsz || r.p_filesz == 0 || r.p_flags & PF_X != 0 {
            return None;
        }
        let rr = (r.p_offset, r.file_end());
        for (i, p) in elf.phdrs.iter().enumerate() {
            if i == ri {
                continue;
            }
            if p.p_type == PT_LOAD && (p.file_end() > r.p_offset || p.mem_end() > r.p_vaddr) {
                return None;
            }
            let known = matches!(p.p_type, PT_INTERP | PT_DYNAMIC | PT_NOTE | PT_GNU_PROPERTY);
            if p.p_type != PT_LOAD
                && p.p_filesz > 0
                && overlaps((p.p_offset, p.file_end()), rr)
                && !known
            {
                return None;
            }
        }
        let mut any = false;
        for (i, s) in elf.shdrs.iter().enumerate() {
            if !s.has_file_data() || s.sh_offset + s.sh_size <= r.p_offset {
                continue;
            }
            if s.sh_offset < r.p_offset
                || s.sh_offset + s.sh_size > r.file_end()
                || !self.movable(i)
            {
                return None;
            }
            any = true;
        }
        let sht = (
            elf.ehdr.e_shoff,
            elf.ehdr.e_shoff + elf.shdrs.len() as u64 * elf.ctx.shdr_size(),
        );
        if overlaps(sht, rr) || elf.data.len() as u64 > r.file_end().max(sht.1) {
            return None;
        }
        any.then_some(ri)
    }

    /// Sections to move so the program header table can take one more entry.
    fn evict_for_phdr(&self) -> Result<BTreeSet<usize>> {
        let elf = self.elf;
        let start = elf.ehdr.e_phoff;
        let end = start + (elf.phdrs.len() as u64 + 1) * elf.ctx.phdr_size();
        let covered = elf
            .phdrs
            .iter()
            .any(|p| p.p_type == PT_LOAD && p.p_offset <= start && end <= p.file_end());
        if !covered {
            return Err(Error::Unsupported(
                "no room for another program header: the table is not inside a loaded segment that could hold it".into(),
            ));
        }
        if elf.shdrs.is_empty() {
            return Err(Error::Unsupported(
                "no room for another program header, and without section headers nothing after the table can be moved".into(),
            ));
        }
        let mut set = BTreeSet::new();
        let mut queue: Vec<usize> = elf
            .shdrs
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                s.has_file_data() && overlaps((s.sh_offset, s.sh_offset + s.sh_size), (start, end))
            })
            .map(|(i, _)| i)
            .collect();
        while let Some(i) = queue.pop() {
            if !set.insert(i) {
                continue;
            }
            if !self.movable(i) {
                return Err(Error::Unsupported(format!(
                    "no room for another program header: {} follows the program header table and cannot be moved",
                    name(elf, i)
                )));
            }
            if elf.shdrs[i].sh_type == SHT_NOTE {
                queue.extend(self.note_group(i));
            }
        }
        Ok(set)
    }

    fn grow(
        mut self,
        placed: Option<strtab::InPlace>,
        dynamic_moves: bool,
        interp_moves: bool,
        wanted: &[(Vec<u8>, Option<u64>)],
    ) -> Result<Rewrite> {
        let elf = self.elf;
        let ctx = elf.ctx;
        let old_len = elf.data.len() as u64;
        let region = self.rebuildable_segment();
        let pt_null = elf.phdrs.iter().position(|p| p.p_type == PT_NULL);

        // What moves into the new segment.
        let mut sections: BTreeSet<usize> = BTreeSet::new();
        if let Some(ri) = region {
            let r = elf.phdrs[ri];
            for (i, s) in elf.shdrs.iter().enumerate() {
                if s.has_file_data() && s.sh_offset >= r.p_offset && s.sh_offset < r.file_end() {
                    sections.insert(i);
                }
            }
            self.steps.push(format!(
                "rebuild the segment at offset {:#x} that an earlier growth added",
                r.p_offset
            ));
        } else if pt_null.is_none() {
            let evicted = self.evict_for_phdr()?;
            if !evicted.is_empty() {
                let names: Vec<String> = evicted.iter().map(|&i| name(elf, i)).collect();
                self.steps.push(format!(
                    "move {} to make room for one more program header",
                    names.join(", ")
                ));
            }
            sections.extend(evicted);
        }
        let dynstr_sec = elf.dynstr.and_then(|d| d.section);
        let dynamic_sec = elf.dynamic.as_ref().and_then(|d| d.section);
        let interp_sec = self.interp_section();
        let in_region = |off: u64| {
            region.is_some_and(|ri| off >= elf.phdrs[ri].p_offset && off < elf.phdrs[ri].file_end())
        };
        let strings_move = placed.is_none()
            || dynstr_sec.is_some_and(|s| sections.contains(&s))
            || elf.dynstr.is_some_and(|d| in_region(d.offset));
        let dynamic_moves = dynamic_moves
            || dynamic_sec.is_some_and(|s| sections.contains(&s))
            || elf.dynamic.as_ref().is_some_and(|d| in_region(d.offset));
        let interp_phdr = elf.find_phdr(PT_INTERP);
        let interp_moves = interp_moves
            || interp_sec.is_some_and(|s| sections.contains(&s))
            || interp_phdr.is_some_and(|p| in_region(elf.phdrs[p].p_offset));
        if dynamic_moves && elf.is_static_pie() {
            return Err(Error::Unsupported(
                "refusing to move .dynamic of a static PIE (it relocates itself through _DYNAMIC)"
                    .into(),
            ));
        }
        for s in [dynstr_sec, dynamic_sec, interp_sec].into_iter().flatten() {
            sections.remove(&s);
        }

        // Items, in the order they are laid out.
        let mut items: Vec<Item> = Vec::new();
        let mut sorted: Vec<usize> = sections.iter().copied().collect();
        sorted.sort_by_key(|&i| elf.shdrs[i].sh_offset);
        let note_of = |i: usize| {
            let s = elf.shdrs[i];
            elf.phdrs.iter().position(|p| {
                p.p_type == PT_NOTE
                    && p.p_offset <= s.sh_offset
                    && s.sh_offset + s.sh_size <= p.file_end()
            })
        };
        let mut groups: Vec<(Option<usize>, Vec<usize>)> = Vec::new();
        for i in sorted {
            let n = note_of(i);
            match groups.last_mut() {
                Some((g, members)) if n.is_some() && *g == n => members.push(i),
                _ => groups.push((n, vec![i])),
            }
        }
        for (_, members) in groups {
            let first = elf.shdrs[members[0]];
            let last_end = members
                .iter()
                .map(|&i| elf.shdrs[i].sh_offset + elf.shdrs[i].sh_size)
                .max()
                .unwrap_or(0);
            let align = members
                .iter()
                .map(|&i| elf.shdrs[i].sh_addralign)
                .max()
                .unwrap_or(1)
                .max(1);
            if !align.is_power_of_two() || align > 0x10000 {
                return Err(Error::Malformed {
                    what: "section header",
                    detail: format!("alignment {align:#x} of {}", name(elf, members[0])),
                });
            }
            let len = last_end - first.sh_offset;
            items.push(Item {
                what: What::Sections(members),
                copy: Some((first.sh_offset, first.sh_addr, len)),
                fresh: Vec::new(),
                align,
                len,
                new_off: 0,
            });
        }
        if interp_moves {
            let mut v = match &self.t.interpreter {
                Some(i) => i.clone(),
                None => elf.interpreter().unwrap_or_default().to_vec(),
            };
            v.push(0);
            let len = v.len() as u64;
            items.push(Item {
                what: What::Interp,
                copy: None,
                fresh: v,
                align: 1,
                len,
                new_off: 0,
            });
        }
        let mut string_offsets = BTreeMap::new();
        let mut dynstr_len = elf.dynstr.map_or(0, |d| d.size);
        if strings_move {
            let rebuilt = strtab::rebuild(elf.dynstr_bytes(), elf.fixed_refs.as_deref(), wanted);
            string_offsets = rebuilt.offsets;
            dynstr_len = rebuilt.table.len() as u64;
            items.push(Item {
                what: What::Dynstr,
                copy: None,
                len: dynstr_len,
                fresh: rebuilt.table,
                align: 1,
                new_off: 0,
            });
        }
        let dyn_slots = if dynamic_moves {
            self.t.entries.len() as u64 + 1 + SPARE_DYN_SLOTS
        } else {
            elf.dynamic.as_ref().map_or(0, |d| d.capacity)
        };
        if dynamic_moves {
            let len = dyn_slots * ctx.dyn_size();
            items.push(Item {
                what: What::Dynamic,
                copy: None,
                fresh: Vec::new(),
                align: ctx.word(),
                len,
                new_off: 0,
            });
        }

        // Where the segment goes.
        let max_load_align = elf
            .phdrs
            .iter()
            .filter(|p| p.p_type == PT_LOAD && p.p_align.is_power_of_two() && p.p_align <= 1 << 30)
            .map(|p| p.p_align)
            .max()
            .unwrap_or(1);
        let page = self
            .opts
            .page_size
            .unwrap_or_else(|| max_page_size(elf.ehdr.e_machine).max(max_load_align));
        let max_align = items.iter().map(|i| i.align).max().unwrap_or(1).max(16);
        let (base_off, base_vaddr) = match region {
            Some(ri) => (elf.phdrs[ri].p_offset, elf.phdrs[ri].p_vaddr),
            None => {
                let off = align_up(old_len, max_align);
                let vend = elf
                    .phdrs
                    .iter()
                    .filter(|p| p.p_type == PT_LOAD)
                    .map(|p| p.mem_end().max(p.p_vaddr.saturating_add(p.p_filesz)))
                    .max()
                    .unwrap_or(0);
                let vaddr = align_up(vend, page)
                    .checked_add(off % page)
                    .filter(|v| v.checked_add(1 << 32).is_some());
                let vaddr = vaddr.ok_or_else(|| {
                    Error::Unsupported("no address space left for a new segment".into())
                })?;
                (off, vaddr)
            }
        };
        let mut cursor = base_off;
        for it in items.iter_mut() {
            let src = it.copy.map_or(0, |c| c.0);
            // Copies keep their offset modulo their alignment, so inner alignment survives.
            let misalign = cursor.wrapping_sub(src) % it.align;
            if misalign != 0 {
                cursor += it.align - misalign;
            }
            it.new_off = cursor;
            cursor += it.len;
        }
        let region_len = cursor - base_off;
        let vaddr_of = |off: u64| base_vaddr + (off - base_off);
        if !ctx.is64() && (vaddr_of(cursor) > u32::MAX as u64 || cursor > u32::MAX as u64) {
            return Err(Error::Unsupported(
                "the grown file would not fit in a 32-bit address space".into(),
            ));
        }

        // Translation of everything that pointed into moved copies.
        let moves: Vec<(u64, u64, u64, u64)> = items
            .iter()
            .filter_map(|it| it.copy.map(|(o, v, l)| (o, v, l, it.new_off)))
            .collect();
        let move_off = |o: u64| {
            moves
                .iter()
                .find(|m| o >= m.0 && o < m.0 + m.2)
                .map_or(o, |m| m.3 + (o - m.0))
        };
        let move_vaddr = |v: u64| {
            moves
                .iter()
                .find(|m| v >= m.1 && v < m.1 + m.2)
                .map_or(v, |m| vaddr_of(m.3) + (v - m.1))
        };
        let item_of = |w: What| {
            items
                .iter()
                .find(|i| i.what == w)
                .map(|i| (i.new_off, vaddr_of(i.new_off), i.len))
        };

        // Program headers.
        let mut phdrs = elf.phdrs.clone();
        self.header_only_edits(&mut phdrs)?;
        for p in phdrs.iter_mut() {
            match p.p_type {
                PT_INTERP if interp_moves => {
                    if let Some((o, v, l)) = item_of(What::Interp) {
                        (p.p_offset, p.p_vaddr, p.p_paddr, p.p_filesz, p.p_memsz) = (o, v, v, l, l);
                    }
                }
                PT_DYNAMIC if dynamic_moves => {
                    if let Some((o, v, l)) = item_of(What::Dynamic) {
                        (p.p_offset, p.p_vaddr, p.p_paddr, p.p_filesz, p.p_memsz) = (o, v, v, l, l);
                    }
                }
                PT_NOTE | PT_GNU_PROPERTY => {
                    let o = move_off(p.p_offset);
                    if o != p.p_offset {
                        // The whole segment must have moved as one piece.
                        let last = p.p_offset + p.p_filesz.max(1) - 1;
                        if move_off(last) != o + (last - p.p_offset) {
                            return Err(Error::Malformed {
                                what: "program header",
                                detail: format!(
                                    "note segment at {:#x} does not match its sections",
                                    p.p_offset
                                ),
                            });
                        }
                        let v = move_vaddr(p.p_vaddr);
                        (p.p_offset, p.p_vaddr, p.p_paddr) = (o, v, v);
                    }
                }
                _ => {}
            }
        }
        let load = Phdr {
            p_type: PT_LOAD,
            // Writable only when it holds .dynamic (the loader writes DT_DEBUG there).
            p_flags: if dynamic_moves { PF_R | PF_W } else { PF_R },
            p_offset: base_off,
            p_vaddr: base_vaddr,
            p_paddr: base_vaddr,
            p_filesz: region_len,
            p_memsz: region_len,
            p_align: page,
        };
        match region {
            Some(ri) => phdrs[ri] = load,
            None => {
                if let Some(ni) = pt_null {
                    phdrs.remove(ni);
                }
                let after = phdrs
                    .iter()
                    .rposition(|p| p.p_type == PT_LOAD)
                    .map_or(phdrs.len(), |i| i + 1);
                phdrs.insert(after, load);
                let n = phdrs.len() as u64;
                for p in phdrs.iter_mut().filter(|p| p.p_type == PT_PHDR) {
                    p.p_filesz = n * ctx.phdr_size();
                    p.p_memsz = p.p_filesz;
                }
            }
        }
        self.steps.push(format!(
            "{} PT_LOAD [{}] at offset {base_off:#x}, vaddr {base_vaddr:#x}, {region_len:#x} bytes",
            if region.is_some() { "rebuilt" } else { "new" },
            if dynamic_moves { "RW" } else { "R" }
        ));

        // Section headers.
        let mut shdrs: Vec<Shdr> = elf.shdrs.clone();
        for (i, s) in shdrs.iter_mut().enumerate() {
            let fresh = if Some(i) == dynstr_sec && strings_move {
                item_of(What::Dynstr)
            } else if Some(i) == dynamic_sec && dynamic_moves {
                item_of(What::Dynamic)
            } else if Some(i) == interp_sec && interp_moves {
                item_of(What::Interp)
            } else {
                None
            };
            if let Some((o, v, l)) = fresh {
                (s.sh_offset, s.sh_addr, s.sh_size) = (o, v, l);
            } else if sections.contains(&i) {
                s.sh_offset = move_off(s.sh_offset);
                s.sh_addr = move_vaddr(s.sh_addr);
            }
        }
        for it in &items {
            let label = match &it.what {
                What::Sections(m) => m
                    .iter()
                    .map(|&i| name(elf, i))
                    .collect::<Vec<_>>()
                    .join(", "),
                What::Interp => "interpreter".into(),
                What::Dynstr => ".dynstr".into(),
                What::Dynamic => format!(".dynamic ({dyn_slots} slots)"),
            };
            self.steps.push(format!(
                "  {label} -> offset {:#x} ({:#x} bytes)",
                it.new_off, it.len
            ));
        }

        // File length and section header table position.
        let region_end = base_off + region_len;
        let mut new_len = if region.is_some() {
            region_end
        } else {
            old_len.max(region_end)
        };
        let shsize = shdrs.len() as u64 * ctx.shdr_size();
        let mut shoff = elf.ehdr.e_shoff;
        let phdr_end = elf.ehdr.e_phoff + phdrs.len() as u64 * ctx.phdr_size();
        if shoff != 0
            && (shoff + shsize > base_off
                || overlaps((shoff, shoff + shsize), (elf.ehdr.e_phoff, phdr_end)))
        {
            shoff = align_up(new_len, ctx.word());
            new_len = shoff + shsize;
            self.steps
                .push(format!("section header table -> offset {shoff:#x}"));
        }

        // Strings that stay in place still need placing when they changed.
        let dynstr_vaddr;
        match placed.filter(|_| !strings_move) {
            Some(placed) => {
                let base = elf.dynstr.map_or(0, |d| d.offset);
                for (rel, b) in placed.writes {
                    self.w.put(base + rel, b);
                }
                self.describe_strings(&placed.offsets, base);
                string_offsets = placed.offsets;
                dynstr_vaddr = elf.dynstr.map_or(0, |d| d.vaddr);
            }
            None => dynstr_vaddr = item_of(What::Dynstr).map_or(0, |(_, v, _)| v),
        }

        // The dynamic table, wherever it now lives.
        let fix = |tag: u64, v: u64| match tag {
            DT_STRTAB => dynstr_vaddr,
            DT_STRSZ => dynstr_len,
            DT_SYMTAB | DT_HASH | DT_GNU_HASH | DT_VERSYM | DT_VERNEED | DT_VERDEF => move_vaddr(v),
            _ => v,
        };
        let (dyn_off, dyn_vaddr) = match item_of(What::Dynamic) {
            Some((o, v, _)) => (o, v),
            None => elf.dynamic.as_ref().map_or((0, 0), |d| (d.offset, d.vaddr)),
        };
        let dyn_bytes = self.dynamic_bytes(&string_offsets, &fix, dyn_slots, dyn_vaddr);

        // Assemble: the segment first, then every patch on top.
        let mut seg = vec![0u8; region_len as usize];
        for it in &items {
            let at = (it.new_off - base_off) as usize;
            match it.copy {
                Some((o, _, l)) => seg[at..at + l as usize]
                    .copy_from_slice(&elf.data[o as usize..(o + l) as usize]),
                None => seg[at..at + it.fresh.len()].copy_from_slice(&it.fresh),
            }
        }
        self.w.put_container(base_off, seg);
        self.write_ehdr(phdrs.len() as u16, shoff);
        self.write_phdrs(&phdrs);
        let mut sb = Vec::new();
        for s in &shdrs {
            s.encode(ctx, &mut sb);
        }
        if shoff != 0 {
            self.w.put_header(shoff, sb);
        }
        if dyn_off != 0 {
            self.w.put(dyn_off, dyn_bytes);
        }
        self.write_verneed(&string_offsets, &move_off);
        // Symbols defined in moved sections (e.g. `__abi_tag`, `_DYNAMIC`) follow them.
        let mut section_moves: BTreeMap<usize, (u64, u64, u64)> = BTreeMap::new();
        for (i, (old, new)) in elf.shdrs.iter().zip(&shdrs).enumerate() {
            if old.sh_addr != new.sh_addr && old.sh_flags & SHF_ALLOC != 0 {
                section_moves.insert(i, (old.sh_addr, old.sh_size.max(new.sh_size), new.sh_addr));
            }
        }
        self.fix_symbols(&section_moves, &move_off);
        if let (Some(i), false) = (self.t.interpreter.clone(), interp_moves) {
            if let Some(p) = interp_phdr {
                let ph = elf.phdrs[p];
                let mut b = i;
                b.resize(ph.p_filesz as usize, 0);
                self.w.put(ph.p_offset, b);
            }
        }
        self.steps
            .push(format!("file {old_len} -> {new_len} bytes"));
        self.finish(old_len, new_len, true)
    }
}
