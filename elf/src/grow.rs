//! Growth: one PT_LOAD appended at the end of the file holds whatever had to move — a rebuilt
//! `.dynstr`, a larger `.dynamic`, a longer interpreter and, when the program header table needs a
//! slot for that PT_LOAD, the small sections right after the table (`.interp`, notes, hash tables,
//! `.dynsym`, version tables), which are found only through program headers and dynamic tags. The
//! table itself stays at the front (old kernels and qemu-user compute AT_PHDR from it). A later
//! growth rebuilds that segment instead of adding another, so repeated edits stay within one page
//! set of the first growth.

use std::collections::{BTreeMap, BTreeSet};

use crate::consts::*;
use crate::error::{Error, Result};
use crate::headers::{Phdr, Shdr};
use crate::output::Rewrite;
use crate::plan::{align_up, name, overlaps, Planner, SPARE_DYN_SLOTS};
use crate::strtab;

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

impl Planner<'_, '_> {
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

    pub(crate) fn grow(
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
        if dynamic_moves && elf.is_self_relocating() {
            return Err(Error::Unsupported(
                "refusing to move .dynamic of a static PIE or dynamic loader (it relocates itself through _DYNAMIC)"
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
                for p in phdrs
                    .iter_mut()
                    .filter(|p| p.p_type == PT_PHDR && p.p_offset == elf.ehdr.e_phoff)
                {
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

        // What the loader will read must stay inside the address space.
        for (i, p) in phdrs.iter().enumerate() {
            if p.p_vaddr.checked_add(p.p_memsz.max(p.p_filesz)).is_none() {
                return Err(Error::Malformed {
                    what: "program header",
                    detail: format!(
                        "segment {i} would wrap around the address space after the move"
                    ),
                });
            }
        }

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
