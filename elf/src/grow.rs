//! Growth: one PT_LOAD appended at the end of the file holds whatever had to move — a rebuilt
//! `.dynstr`, a larger `.dynamic`, a longer interpreter, a resolution cache note and, when the
//! program header table needs slots for new entries, the small sections right after the table
//! (`.interp`, notes, hash tables, `.dynsym`, version tables), which are found only through
//! program headers and dynamic tags. The table itself stays at the front (old kernels and
//! qemu-user compute AT_PHDR from it) unless what follows it cannot move; then it moves into the
//! new segment, placed so that AT_PHDR still comes out right. A later growth rebuilds that
//! segment instead of adding another, so repeated edits stay within one page set of the first
//! growth.
//!
//! Three steps: [`choose`] what moves, [`place`] it in the segment, [`headers`] translated to
//! the new places; the result is a [`Layout`].

use std::collections::BTreeSet;

use crate::consts::*;
use crate::edit::Target;
use crate::error::{Error, Result};
use crate::headers::{Phdr, Shdr};
use crate::layout::{DynamicAt, Item, Layout, Segment, Strings, What};
use crate::plan::{
    align_up, base_headers, interp_room, name, overlaps, Base, Options, StringNeeds,
    SPARE_DYN_SLOTS,
};
use crate::strtab;
use crate::view::Elf;

/// Padding an executable's file may take so that a moved program header table keeps the
/// offset-to-address relation of the first segment (what old kernels assume for AT_PHDR).
const MAX_PHDR_PADDING: u64 = 16 << 20;

/// What does not fit, from the planner.
pub(crate) struct Needs<'s> {
    /// The strings placed in place, if they fit there.
    pub placed: Option<strtab::InPlace>,
    pub strings: &'s StringNeeds,
    /// The dynamic table needs more slots.
    pub dynamic: bool,
    /// The interpreter is longer than PT_INTERP.
    pub interp: bool,
    pub why: Vec<String>,
}

/// What moves into the new segment.
struct Choice {
    /// The PT_LOAD (index in `phdrs`) an earlier growth added, rebuilt in place.
    region: Option<usize>,
    /// Sections copied into the segment (the region's, or those making room for headers).
    sections: BTreeSet<usize>,
    evicted: Vec<usize>,
    phdr_table: bool,
    strings: bool,
    dynamic: bool,
    interp: bool,
    /// Program header entries to add, and PT_NULL entries they replace.
    added: usize,
    nulls_used: usize,
    /// The rebuilt string table, when the strings move.
    rebuilt: Option<strtab::Rebuilt>,
}

pub(crate) fn layout(elf: &Elf, t: &Target, opts: &Options, needs: Needs) -> Result<Layout> {
    let base = base_headers(elf, t)?;
    let choice = choose(elf, t, &base, &needs)?;
    let segment = place(elf, t, opts, &base, &choice)?;
    headers(elf, t, opts, base, choice, segment, needs)
}

/// Whether section `i` may be moved: found only through things this planner updates.
fn movable(elf: &Elf, shdrs: &[Shdr], i: usize) -> bool {
    let s = shdrs[i];
    if s.sh_flags & SHF_ALLOC == 0 || !s.has_file_data() {
        return false;
    }
    // Its header must say where the loader finds it: a copy of other bytes would be moved.
    if elf.vaddr_to_offset(s.sh_addr, s.sh_size.max(1)) != Some(s.sh_offset) {
        return false;
    }
    let tag_is = |tag| elf.dyn_val(tag) == Some(s.sh_addr);
    match s.sh_type {
        SHT_NOTE => true,
        // Found through PT_MIPS_REGINFO / PT_MIPS_ABIFLAGS, which follow them.
        SHT_MIPS_REGINFO | SHT_MIPS_ABIFLAGS => elf.ehdr.e_machine == EM_MIPS,
        SHT_STRTAB => elf.dynstr.and_then(|d| d.section) == Some(i),
        SHT_DYNAMIC => elf.dynamic.as_ref().and_then(|d| d.section) == Some(i),
        SHT_PROGBITS => interp_section(elf) == Some(i),
        ty => TABLE_TAGS.iter().any(|&(tag, t)| t == ty && tag_is(tag)),
    }
}

/// Dynamic tags that give a table's address, with the section type of the table; when the
/// table moves, emit moves the tag.
pub(crate) const TABLE_TAGS: [(u64, u32); 6] = [
    (DT_HASH, SHT_HASH),
    (DT_GNU_HASH, SHT_GNU_HASH),
    (DT_SYMTAB, SHT_DYNSYM),
    (DT_VERSYM, SHT_GNU_VERSYM),
    (DT_VERNEED, SHT_GNU_VERNEED),
    (DT_VERDEF, SHT_GNU_VERDEF),
];

fn interp_section(elf: &Elf) -> Option<usize> {
    let p = elf.phdrs[elf.find_phdr(PT_INTERP)?];
    elf.shdrs.iter().position(|s| {
        s.sh_offset == p.p_offset && s.sh_size == p.p_filesz && s.sh_type == SHT_PROGBITS
    })
}

/// Program headers that describe the bytes of sections and are read through their offset (by
/// the kernel or the loader): when those sections move, the header follows. The MIPS types are
/// processor-specific values, meaningful on MIPS only.
fn describes_sections(elf: &Elf, p_type: u32) -> bool {
    matches!(p_type, PT_NOTE | PT_GNU_PROPERTY)
        || (elf.ehdr.e_machine == EM_MIPS && matches!(p_type, PT_MIPS_REGINFO | PT_MIPS_ABIFLAGS))
}

/// Sections sharing a note (or other section-describing) segment with section `i`: moved
/// together to keep the segment whole.
fn note_group(elf: &Elf, base: &Base, i: usize) -> Vec<usize> {
    let s = base.shdrs[i];
    let range = (s.sh_offset, s.sh_offset + s.sh_size);
    let mut out = vec![i];
    for p in base
        .phdrs
        .iter()
        .filter(|p| describes_sections(elf, p.p_type))
    {
        let pr = (p.p_offset, p.file_end());
        if overlaps(pr, range) {
            for (j, t) in base.shdrs.iter().enumerate() {
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
fn rebuildable_segment(elf: &Elf, base: &Base) -> Option<usize> {
    if base.shdrs.is_empty() {
        return None;
    }
    let (ri, r) = base
        .phdrs
        .iter()
        .enumerate()
        .filter(|(_, p)| p.p_type == PT_LOAD)
        .max_by_key(|(_, p)| p.p_offset)?;
    if r.p_filesz != r.p_memsz || r.p_filesz == 0 || r.p_flags & PF_X != 0 {
        return None;
    }
    let rr = (r.p_offset, r.file_end());
    for (i, p) in base.phdrs.iter().enumerate() {
        if i == ri {
            continue;
        }
        if p.p_type == PT_LOAD && (p.file_end() > r.p_offset || p.mem_end() > r.p_vaddr) {
            return None;
        }
        let known = matches!(p.p_type, PT_INTERP | PT_DYNAMIC | PT_PHDR)
            || describes_sections(elf, p.p_type);
        if p.p_type != PT_LOAD
            && p.p_filesz > 0
            && overlaps((p.p_offset, p.file_end()), rr)
            && !known
        {
            return None;
        }
    }
    let table = (
        elf.ehdr.e_phoff,
        elf.ehdr.e_phoff + elf.phdrs.len() as u64 * elf.ctx.phdr_size(),
    );
    let table_inside = table.0 >= rr.0 && table.1 <= rr.1;
    if overlaps(table, rr) && !table_inside {
        return None;
    }
    let mut any = table_inside;
    for (i, s) in base.shdrs.iter().enumerate() {
        if !s.has_file_data() || s.sh_offset + s.sh_size <= r.p_offset {
            continue;
        }
        if s.sh_offset < r.p_offset
            || s.sh_offset + s.sh_size > r.file_end()
            || !movable(elf, &base.shdrs, i)
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

/// Sections to move so the program header table can take `extra` more entries.
fn evict_for_phdr(elf: &Elf, base: &Base, extra: usize) -> Result<BTreeSet<usize>> {
    let start = elf.ehdr.e_phoff;
    let end = start + (base.phdrs.len() + extra) as u64 * elf.ctx.phdr_size();
    let covered = base
        .phdrs
        .iter()
        .any(|p| p.p_type == PT_LOAD && p.p_offset <= start && end <= p.file_end());
    if !covered {
        return Err(Error::Unsupported(
            "no room for another program header: the table is not inside a loaded segment that could hold it".into(),
        ));
    }
    if base.shdrs.is_empty() {
        return Err(Error::Unsupported(
            "no room for another program header, and without section headers nothing after the table can be moved".into(),
        ));
    }
    let mut set = BTreeSet::new();
    let mut queue: Vec<usize> = base
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
        if !movable(elf, &base.shdrs, i) {
            return Err(Error::Unsupported(format!(
                "no room for another program header: {} follows the program header table and cannot be moved",
                name(elf, i)
            )));
        }
        queue.extend(note_group(elf, base, i));
    }
    // What the table grows into and no moved section covers must be padding: zero bytes that
    // no table the dynamic section or a program header names lies in.
    let old_end = start + base.phdrs.len() as u64 * elf.ctx.phdr_size();
    let moved: Vec<(u64, u64)> = set
        .iter()
        .map(|&i| {
            (
                base.shdrs[i].sh_offset,
                base.shdrs[i].sh_offset + base.shdrs[i].sh_size,
            )
        })
        .collect();
    let rest = strtab::subtract(vec![(old_end, end)], &strtab::merge(moved));
    let known = known_tables(elf, &base.phdrs);
    for &(a, b) in &rest {
        let zero = elf
            .data
            .get(a as usize..b as usize)
            .is_some_and(|r| r.iter().all(|&x| x == 0));
        if !zero || known.iter().any(|&k| overlaps(k, (a, b))) {
            return Err(Error::Unsupported(format!(
                "no room for another program header: bytes {a:#x}..{b:#x} after the table are \
                 not known to be free"
            )));
        }
    }
    Ok(set)
}

/// File ranges of the tables the program headers and the dynamic section point at (those a
/// write must not land on without moving them).
fn known_tables(elf: &Elf, phdrs: &[Phdr]) -> Vec<(u64, u64)> {
    let mut out = phdr_tables(phdrs);
    out.extend(elf.dynamic_table_ranges());
    out
}

/// File ranges the program headers other than PT_LOAD describe (notes, the interpreter, …).
fn phdr_tables(phdrs: &[Phdr]) -> Vec<(u64, u64)> {
    phdrs
        .iter()
        .filter(|p| {
            !matches!(
                p.p_type,
                PT_LOAD | PT_PHDR | PT_NULL | PT_GNU_RELRO | PT_GNU_STACK
            ) && p.p_filesz > 0
        })
        .map(|p| (p.p_offset, p.file_end()))
        .collect()
}

/// Whether the kernel maps this file itself (so AT_PHDR matters), rather than ld.so.
fn kernel_loads(elf: &Elf) -> bool {
    elf.ehdr.e_type == ET_EXEC || elf.find_phdr(PT_INTERP).is_some() || elf.is_self_relocating()
}

fn choose(elf: &Elf, t: &Target, base: &Base, needs: &Needs) -> Result<Choice> {
    let region = rebuildable_segment(elf, base);
    let c = choose_with(elf, t, base, needs, region)?;
    match c.region {
        // The table would move into the segment an earlier growth added, at an address where
        // old kernels would not find it: leave that segment as it is and add another.
        Some(ri)
            if c.phdr_table
                && kernel_loads(elf)
                && base.phdrs[ri].p_vaddr.wrapping_sub(base.phdrs[ri].p_offset)
                    != first_load_delta(base) =>
        {
            choose_with(elf, t, base, needs, None)
        }
        _ => Ok(c),
    }
}

/// Address minus offset of the first loadable segment.
fn first_load_delta(base: &Base) -> u64 {
    base.phdrs
        .iter()
        .filter(|p| p.p_type == PT_LOAD)
        .min_by_key(|p| p.p_vaddr)
        .map_or(0, |p| p.p_vaddr.wrapping_sub(p.p_offset))
}

fn choose_with(
    elf: &Elf,
    t: &Target,
    base: &Base,
    needs: &Needs,
    region: Option<usize>,
) -> Result<Choice> {
    let in_region = |off: u64| {
        region.is_some_and(|ri| {
            let r = base.phdrs[ri];
            off >= r.p_offset && off < r.file_end()
        })
    };
    let mut sections: BTreeSet<usize> = BTreeSet::new();
    if let Some(ri) = region {
        let r = base.phdrs[ri];
        for (i, s) in base.shdrs.iter().enumerate() {
            if s.has_file_data() && s.sh_offset >= r.p_offset && s.sh_offset < r.file_end() {
                sections.insert(i);
            }
        }
    }
    let nulls = base.phdrs.iter().filter(|p| p.p_type == PT_NULL).count();
    let added = usize::from(region.is_none()) + usize::from(t.cache.add.is_some());
    let nulls_used = nulls.min(added);
    let extra = added - nulls_used;
    let mut phdr_table = in_region(elf.ehdr.e_phoff);
    let mut evicted = Vec::new();
    if extra > 0 && !phdr_table {
        match evict_for_phdr(elf, base, extra) {
            Ok(set) => {
                evicted = set.iter().copied().collect();
                sections.extend(set);
            }
            // What follows the table cannot move: the table moves instead.
            Err(_) if !base.shdrs.is_empty() || !kernel_loads(elf) => phdr_table = true,
            Err(e) => return Err(e),
        }
    }
    let dynstr_sec = elf.dynstr.and_then(|d| d.section);
    let dynamic_sec = elf.dynamic.as_ref().and_then(|d| d.section);
    let interp_sec = interp_section(elf);
    let strings = needs.placed.is_none()
        || dynstr_sec.is_some_and(|s| sections.contains(&s))
        || elf.dynstr.is_some_and(|d| in_region(d.offset));
    let dynamic = needs.dynamic
        || dynamic_sec.is_some_and(|s| sections.contains(&s))
        || elf.dynamic.as_ref().is_some_and(|d| in_region(d.offset));
    let interp_phdr = elf.find_phdr(PT_INTERP);
    let interp = needs.interp
        || interp_sec.is_some_and(|s| sections.contains(&s))
        || interp_phdr.is_some_and(|p| in_region(elf.phdrs[p].p_offset));
    if dynamic && elf.is_self_relocating() {
        return Err(Error::Unsupported(
            "refusing to move .dynamic of a static PIE or dynamic loader (it relocates itself through _DYNAMIC)"
                .into(),
        ));
    }
    for s in [dynstr_sec, dynamic_sec, interp_sec].into_iter().flatten() {
        sections.remove(&s);
    }
    // A note being removed is not carried along.
    if let Some(old) = &t.cache.remove {
        sections.remove(&old.section);
    }
    let rebuilt = strings.then(|| {
        let s = needs.strings;
        strtab::rebuild(
            elf.dynstr_bytes(),
            s.fixed.as_deref(),
            &s.kept,
            &s.dropped,
            &s.wanted,
        )
    });
    Ok(Choice {
        region,
        sections,
        evicted,
        phdr_table,
        strings,
        dynamic,
        interp,
        added,
        nulls_used,
        rebuilt,
    })
}

/// A block moves as one piece, so its sections must keep in memory the spacing they have in the
/// file, and a dynamic tag whose table address falls inside the block must name one of them:
/// otherwise moving the block would point the tag at bytes that are not its table.
fn check_block_addresses(elf: &Elf, base: &Base, members: &[usize]) -> Result<()> {
    let first = base.shdrs[members[0]];
    let delta = first.sh_addr.wrapping_sub(first.sh_offset);
    let mut end = first.sh_addr;
    for &i in members {
        let s = base.shdrs[i];
        if s.sh_addr.wrapping_sub(s.sh_offset) != delta {
            return Err(Error::Malformed {
                what: "section header",
                detail: format!(
                    "{} and {} share a segment but not its spacing in memory",
                    name(elf, members[0]),
                    name(elf, i)
                ),
            });
        }
        end = end.max(s.sh_addr.saturating_add(s.sh_size));
    }
    // In the file as well: a table the block's bytes overlap must be one of its sections.
    let off_end = members
        .iter()
        .map(|&i| {
            base.shdrs[i]
                .sh_offset
                .saturating_add(base.shdrs[i].sh_size)
        })
        .max()
        .unwrap_or(first.sh_offset);
    for k in elf.dynamic_table_ranges() {
        let starts_member = members.iter().any(|&i| base.shdrs[i].sh_offset == k.0);
        if overlaps(k, (first.sh_offset, off_end)) && !starts_member {
            return Err(Error::Malformed {
                what: "section header",
                detail: format!(
                    "{} overlaps a table of the dynamic section at {:#x}",
                    name(elf, members[0]),
                    k.0
                ),
            });
        }
    }
    for (tag, ty) in TABLE_TAGS {
        let Some(v) = elf.dyn_val(tag) else { continue };
        let names_member = |i: usize| base.shdrs[i].sh_addr == v && base.shdrs[i].sh_type == ty;
        if v >= first.sh_addr && v < end && !members.iter().any(|&i| names_member(i)) {
            return Err(Error::Malformed {
                what: "dynamic section",
                detail: format!(
                    "tag {tag:#x} names {v:#x}, inside {} but not the start of its table",
                    name(elf, members[0])
                ),
            });
        }
    }
    Ok(())
}

/// Blocks of the segment, in order, before they have offsets.
fn items(elf: &Elf, t: &Target, base: &Base, c: &Choice) -> Result<Vec<(Item, u64)>> {
    let ctx = elf.ctx;
    let mut items: Vec<(Item, u64)> = Vec::new();
    let new = |what, len| Item {
        what,
        from: None,
        offset: 0,
        len,
    };
    if c.phdr_table {
        let n = (base.phdrs.len() + c.added - c.nulls_used) as u64;
        items.push((new(What::PhdrTable, n * ctx.phdr_size()), ctx.word()));
    }
    // Copied sections, grouped by the note segment they share.
    let mut sorted: Vec<usize> = c.sections.iter().copied().collect();
    sorted.sort_by_key(|&i| base.shdrs[i].sh_offset);
    let note_of = |i: usize| {
        let s = base.shdrs[i];
        base.phdrs.iter().position(|p| {
            describes_sections(elf, p.p_type)
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
        let first = base.shdrs[members[0]];
        let end = members
            .iter()
            .map(|&i| base.shdrs[i].sh_offset + base.shdrs[i].sh_size)
            .max()
            .unwrap_or(0);
        let align = members
            .iter()
            .map(|&i| base.shdrs[i].sh_addralign)
            .max()
            .unwrap_or(1)
            .max(1);
        if !align.is_power_of_two() || align > 0x10000 {
            return Err(Error::Malformed {
                what: "section header",
                detail: format!("alignment {align:#x} of {}", name(elf, members[0])),
            });
        }
        check_block_addresses(elf, base, &members)?;
        items.push((
            Item {
                what: What::Sections(members),
                from: Some((first.sh_offset, first.sh_addr)),
                offset: 0,
                len: end - first.sh_offset,
            },
            align,
        ));
    }
    if c.interp {
        let len = t
            .interpreter
            .as_ref()
            .map_or_else(|| elf.interpreter().unwrap_or_default().len(), |i| i.len())
            + 1;
        items.push((new(What::Interp, len as u64), 1));
    }
    if let Some(r) = &c.rebuilt {
        items.push((new(What::Dynstr, r.table.len() as u64), 1));
    }
    if c.dynamic {
        let slots = t.entries.len() as u64 + 1 + SPARE_DYN_SLOTS;
        items.push((new(What::Dynamic, slots * ctx.dyn_size()), ctx.word()));
    }
    if let Some(note) = &t.cache.add {
        items.push((new(What::Note, note.len() as u64), 4));
    }
    Ok(items)
}

fn place(elf: &Elf, t: &Target, opts: &Options, base: &Base, c: &Choice) -> Result<Segment> {
    let old_len = elf.data.len() as u64;
    let mut items = items(elf, t, base, c)?;
    let max_load_align = base
        .phdrs
        .iter()
        .filter(|p| p.p_type == PT_LOAD && p.p_align.is_power_of_two() && p.p_align <= 1 << 30)
        .map(|p| p.p_align)
        .max()
        .unwrap_or(1);
    let page = opts
        .page_size
        .unwrap_or_else(|| max_page_size(elf.ehdr.e_machine).max(max_load_align));
    let max_align = items.iter().map(|i| i.1).max().unwrap_or(1).max(16);
    let vend = base
        .phdrs
        .iter()
        .filter(|p| p.p_type == PT_LOAD)
        .enumerate()
        .filter(|(i, _)| Some(*i) != c.region)
        .map(|(_, p)| p.mem_end().max(p.p_vaddr.saturating_add(p.p_filesz)))
        .max()
        .unwrap_or(0);
    // Old kernels compute AT_PHDR as the first segment's address minus its offset plus e_phoff:
    // a moved table keeps that relation.
    let keep_delta = c.phdr_table && kernel_loads(elf);
    let delta = first_load_delta(base);
    let (offset, vaddr) = match c.region {
        Some(ri) => (base.phdrs[ri].p_offset, base.phdrs[ri].p_vaddr),
        None if keep_delta => {
            if !delta.is_multiple_of(page) {
                return Err(Error::Unsupported(
                    "no room for another program header, and the first segment's address and \
                     offset disagree modulo the page size"
                        .into(),
                ));
            }
            let low = align_up(vend, page).saturating_sub(delta);
            let off = align_up(align_up(old_len, max_align).max(low), max_align);
            if off - old_len > MAX_PHDR_PADDING {
                return Err(Error::Unsupported(format!(
                    "no room for another program header: moving the table would need {} bytes \
                     of padding to keep AT_PHDR right on old kernels",
                    off - old_len
                )));
            }
            (off, off.wrapping_add(delta))
        }
        None => {
            let off = align_up(old_len, max_align);
            let vaddr = align_up(vend, page)
                .checked_add(off % page)
                .filter(|v| v.checked_add(1 << 32).is_some())
                .ok_or_else(|| {
                    Error::Unsupported("no address space left for a new segment".into())
                })?;
            (off, vaddr)
        }
    };
    let mut cursor = offset;
    for (it, align) in items.iter_mut() {
        let src = it.from.map_or(0, |f| f.0);
        // Copies keep their offset modulo their alignment, so inner alignment survives.
        let misalign = cursor.wrapping_sub(src) % *align;
        if misalign != 0 {
            cursor += *align - misalign;
        }
        it.offset = cursor;
        cursor += it.len;
    }
    let len = cursor - offset;
    if !elf.ctx.is64() && (vaddr + len > u32::MAX as u64 || cursor > u32::MAX as u64) {
        return Err(Error::Unsupported(
            "the grown file would not fit in a 32-bit address space".into(),
        ));
    }
    if vaddr.checked_add(len).is_none() {
        return Err(Error::Unsupported(
            "no address space left for a new segment".into(),
        ));
    }
    // A strip tool lays segments out again at the lowest offset congruent to their alignment;
    // a moved table must keep its offset (old kernels and qemu derive AT_PHDR from it), so the
    // alignment is chosen large enough that nothing before it can be reclaimed.
    let mut align = page;
    if keep_delta {
        let loaded_end = base
            .phdrs
            .iter()
            .enumerate()
            .filter(|(i, p)| p.p_type == PT_LOAD && Some(*i) != c.region)
            .map(|(_, p)| p.file_end())
            .max()
            .unwrap_or(0);
        let want = (offset.saturating_sub(loaded_end) + 1)
            .next_power_of_two()
            .max(page);
        if want <= MAX_PHDR_PADDING && delta.is_multiple_of(want) {
            align = want;
        }
    }
    Ok(Segment {
        offset,
        vaddr,
        len,
        writable: c.dynamic,
        align,
        rebuilds: c.region.is_some(),
        evicted: c.evicted.clone(),
        items: items.into_iter().map(|(i, _)| i).collect(),
    })
}

/// Program and section headers translated to the new places, and the rest of the layout.
fn headers(
    elf: &Elf,
    t: &Target,
    opts: &Options,
    base: Base,
    c: Choice,
    seg: Segment,
    needs: Needs,
) -> Result<Layout> {
    let ctx = elf.ctx;
    let old_len = elf.data.len() as u64;
    let Base {
        mut phdrs,
        mut shdrs,
        shstrndx,
        mut freed,
    } = base;
    let place_of = |w: What| seg.place_of(&w);
    let strings = match (needs.placed, c.rebuilt) {
        (_, Some(r)) => Strings::Rebuilt(r),
        (Some(p), None) => Strings::InPlace(p),
        (None, None) => {
            return Err(Error::Internal(
                "the strings were neither placed nor rebuilt".into(),
            ))
        }
    };
    let (mut dynstr_vaddr, mut dynstr_size) = elf.dynstr.map_or((0, 0), |d| (d.vaddr, d.size));
    if let Some((_, v, l)) = place_of(What::Dynstr) {
        (dynstr_vaddr, dynstr_size) = (v, l);
    }
    let dynamic = match (place_of(What::Dynamic), &elf.dynamic) {
        (Some((o, v, l)), _) => Some(DynamicAt {
            offset: o,
            vaddr: v,
            slots: l / ctx.dyn_size(),
        }),
        // Written even when its entries did not change: tables it points at may have moved.
        (None, Some(d)) => Some(DynamicAt {
            offset: d.offset,
            vaddr: d.vaddr,
            slots: d.capacity,
        }),
        _ => None,
    };
    let interp_phdr = elf.find_phdr(PT_INTERP);
    let interp = match place_of(What::Interp) {
        Some((o, _, l)) => Some((o, l)),
        None if t.interpreter.is_some() => interp_room(elf),
        None => None,
    };
    let mut phoff = elf.ehdr.e_phoff;
    let mut shoff = elf.ehdr.e_shoff;
    let mut shstrtab = None;

    // Program headers.
    for p in phdrs.iter_mut() {
        match p.p_type {
            PT_INTERP if c.interp => {
                if let Some((o, v, l)) = place_of(What::Interp) {
                    (p.p_offset, p.p_vaddr, p.p_paddr, p.p_filesz, p.p_memsz) = (o, v, v, l, l);
                }
            }
            PT_DYNAMIC if c.dynamic => {
                if let Some((o, v, l)) = place_of(What::Dynamic) {
                    (p.p_offset, p.p_vaddr, p.p_paddr, p.p_filesz, p.p_memsz) = (o, v, v, l, l);
                }
            }
            t if describes_sections(elf, t) => {
                let o = seg.move_off(p.p_offset);
                if o != p.p_offset {
                    // The whole segment must have moved as one piece.
                    let last = p.p_offset + p.p_filesz.max(1) - 1;
                    if seg.move_off(last) != o + (last - p.p_offset) {
                        return Err(Error::Malformed {
                            what: "program header",
                            detail: format!(
                                "note segment at {:#x} does not match its sections",
                                p.p_offset
                            ),
                        });
                    }
                    let v = seg.move_vaddr(p.p_vaddr);
                    (p.p_offset, p.p_vaddr, p.p_paddr) = (o, v, v);
                }
            }
            _ => {}
        }
    }
    let load = Phdr {
        p_type: PT_LOAD,
        p_flags: if seg.writable { PF_R | PF_W } else { PF_R },
        p_offset: seg.offset,
        p_vaddr: seg.vaddr,
        p_paddr: seg.vaddr,
        p_filesz: seg.len,
        p_memsz: seg.len,
        p_align: seg.align,
    };
    if let Some(ri) = c.region {
        phdrs[ri] = load;
    }
    let mut used = 0;
    phdrs.retain(|p| {
        let drop = p.p_type == PT_NULL && used < c.nulls_used;
        used += usize::from(drop);
        !drop
    });
    if c.region.is_none() {
        let after = phdrs
            .iter()
            .rposition(|p| p.p_type == PT_LOAD)
            .map_or(phdrs.len(), |i| i + 1);
        phdrs.insert(after, load);
    }
    if let Some((o, v, l)) = place_of(What::Note) {
        let at = phdrs
            .iter()
            .rposition(|p| p.p_type == PT_NOTE)
            .map_or(phdrs.len(), |i| i + 1);
        phdrs.insert(
            at,
            Phdr {
                p_type: PT_NOTE,
                p_flags: PF_R,
                p_offset: o,
                p_vaddr: v,
                p_paddr: v,
                p_filesz: l,
                p_memsz: l,
                p_align: 4,
            },
        );
    }
    let table = place_of(What::PhdrTable);
    if let Some((o, _, _)) = table {
        phoff = o;
    }
    let n = phdrs.len() as u64;
    // The PT_PHDR that describes the table (a stray one elsewhere is left alone).
    for p in phdrs
        .iter_mut()
        .filter(|p| p.p_type == PT_PHDR && p.p_offset == elf.ehdr.e_phoff)
    {
        if let Some((o, v, _)) = table {
            (p.p_offset, p.p_vaddr, p.p_paddr) = (o, v, v);
        }
        p.p_filesz = n * ctx.phdr_size();
        p.p_memsz = p.p_filesz;
    }
    for (i, p) in phdrs.iter().enumerate() {
        if p.p_vaddr.checked_add(p.p_memsz.max(p.p_filesz)).is_none() {
            return Err(Error::Malformed {
                what: "program header",
                detail: format!("segment {i} would wrap around the address space after the move"),
            });
        }
    }

    // Section headers.
    let dynstr_sec = elf.dynstr.and_then(|d| d.section);
    let dynamic_sec = elf.dynamic.as_ref().and_then(|d| d.section);
    let interp_sec = interp_section(elf);
    for (i, s) in shdrs.iter_mut().enumerate() {
        let fresh = if Some(i) == dynstr_sec && c.strings {
            place_of(What::Dynstr)
        } else if Some(i) == dynamic_sec && c.dynamic {
            place_of(What::Dynamic)
        } else if Some(i) == interp_sec && c.interp {
            place_of(What::Interp)
        } else {
            None
        };
        if let Some((o, v, l)) = fresh {
            (s.sh_offset, s.sh_addr, s.sh_size) = (o, v, l);
        } else if c.sections.contains(&i) {
            s.sh_offset = seg.move_off(s.sh_offset);
            s.sh_addr = seg.move_vaddr(s.sh_addr);
        }
    }
    let region_end = seg.offset + seg.len;
    let mut new_len = if c.region.is_some() {
        region_end
    } else {
        old_len.max(region_end)
    };
    // A new note gets a section, named in a rebuilt section name table unless the name is there.
    if let Some((o, v, l)) = place_of(What::Note) {
        let names_sec = shdrs.get(usize::from(shstrndx)).copied().ok_or_else(|| {
            Error::Unsupported(
                "cannot add the resolution cache note: the file has no section name table".into(),
            )
        })?;
        let names = crate::ctx::slice(
            elf.data,
            names_sec.sh_offset,
            names_sec.sh_size,
            "section names",
        )?;
        let mut wanted = crate::ldcache::SECTION.to_vec();
        wanted.push(0);
        let sh_name = match memchr::memmem::find(names, &wanted) {
            Some(at) => at as u64,
            None => {
                // A name that points past the table would read the new name.
                if let Some(i) = shdrs
                    .iter()
                    .position(|s| u64::from(s.sh_name) >= names.len() as u64 && s.sh_name != 0)
                {
                    return Err(Error::Malformed {
                        what: "section header",
                        detail: format!(
                            "the name of section {i} lies outside the section name table"
                        ),
                    });
                }
                let mut table = names.to_vec();
                // Existing names keep their meaning: offset 0 stays the empty name, and a last
                // name without its NUL is not extended by the new one.
                if table.last() != Some(&0) {
                    table.push(0);
                }
                let at = table.len() as u64;
                table.extend_from_slice(&wanted);
                freed.push((names_sec.sh_offset, names_sec.sh_offset + names_sec.sh_size));
                let off = new_len;
                new_len += table.len() as u64;
                let ns = &mut shdrs[usize::from(shstrndx)];
                ns.sh_offset = off;
                ns.sh_size = table.len() as u64;
                shstrtab = Some((off, table));
                at
            }
        };
        shdrs.push(Shdr {
            sh_name: sh_name as u32,
            sh_type: SHT_NOTE,
            sh_flags: SHF_ALLOC,
            sh_addr: v,
            sh_offset: o,
            sh_size: l,
            sh_link: 0,
            sh_info: 0,
            sh_addralign: 4,
            sh_entsize: 0,
        });
        if elf.ehdr.e_shnum == 0 {
            return Err(Error::Unsupported(
                "cannot add a section to a file with extended section numbering".into(),
            ));
        }
    }

    // The section header table moves behind everything when it would collide or it grew.
    let shsize = shdrs.len() as u64 * ctx.shdr_size();
    let phdr_end = phoff + n * ctx.phdr_size();
    if shoff != 0
        && (shoff + shsize > seg.offset
            || shdrs.len() != elf.shdrs.len()
            || shstrtab.is_some()
            || overlaps((shoff, shoff + shsize), (phoff, phdr_end)))
    {
        shoff = align_up(new_len, ctx.word());
        new_len = shoff + shsize;
    }

    // Old copies of what moved: nothing refers to them any more.
    let seg_range = (seg.offset, region_end);
    // Blocks of sections copied whole: every table inside one moved with it.
    let mut copies = Vec::new();
    for it in &seg.items {
        if let Some((from, _)) = it.from {
            copies.push((from, from + it.len));
        }
    }
    // Single tables rewritten elsewhere: only the table itself moved (inputs may overlap
    // other tables with them).
    let mut rewritten = Vec::new();
    if c.strings {
        if let Some(d) = elf.dynstr {
            rewritten.push((d.offset, d.offset + d.size));
        }
    }
    if c.dynamic {
        if let Some(d) = &elf.dynamic {
            rewritten.push((d.offset, d.offset + d.capacity * ctx.dyn_size()));
        }
    }
    if c.interp {
        if let Some(p) = interp_phdr {
            rewritten.push((elf.phdrs[p].p_offset, elf.phdrs[p].file_end()));
        }
    }
    if !opts.keep_old_copies {
        freed.extend(copies.iter().chain(&rewritten).copied());
    }
    freed.retain(|&(a, b)| b > a && b <= old_len && !overlaps((a, b), seg_range));
    // Never zero bytes something else still uses (inputs may overlap their structures).
    let mut used: Vec<(u64, u64)> = vec![
        (0, ctx.ehdr_size()),
        (
            elf.ehdr.e_phoff,
            elf.ehdr.e_phoff + elf.phdrs.len() as u64 * ctx.phdr_size(),
        ),
        (
            elf.ehdr.e_shoff,
            elf.ehdr.e_shoff + elf.shdrs.len() as u64 * ctx.shdr_size(),
        ),
    ];
    // Tables found through program headers and dynamic tags too, unless they moved.
    if !c.strings {
        if let Some(d) = elf.dynstr {
            used.push((d.offset, d.offset + d.size));
        }
    }
    let in_copy = |k: (u64, u64)| copies.iter().any(|m| k.0 >= m.0 && k.1 <= m.1);
    for k in phdr_tables(&elf.phdrs) {
        if !in_copy(k) && !rewritten.contains(&k) {
            used.push(k);
        }
    }
    // A table a dynamic tag names moved only if it is one of the moved sections (a moved
    // section of a hostile file may merely overlap it).
    let section_starts: Vec<u64> = c.sections.iter().map(|&i| elf.shdrs[i].sh_offset).collect();
    for k in elf.dynamic_table_ranges() {
        let moved = in_copy(k) && section_starts.contains(&k.0);
        if !moved && !rewritten.contains(&k) {
            used.push(k);
        }
    }
    let moved = |i: usize| {
        c.sections.contains(&i)
            || (Some(i) == dynstr_sec && c.strings)
            || (Some(i) == dynamic_sec && c.dynamic)
            || (Some(i) == interp_sec && c.interp)
            || t.cache.remove.as_ref().is_some_and(|r| r.section == i)
            || (usize::from(shstrndx) == i && shstrtab.is_some())
    };
    for (i, s) in elf.shdrs.iter().enumerate() {
        if s.has_file_data() && !moved(i) {
            used.push((s.sh_offset, s.sh_offset + s.sh_size));
        }
    }
    let freed = strtab::subtract(strtab::merge(freed), &strtab::merge(used));
    Ok(Layout {
        old_len,
        new_len,
        why: needs.why,
        phoff,
        phdrs,
        shoff,
        shdrs,
        shstrndx,
        shstrtab,
        segment: Some(seg),
        strings,
        dynstr_vaddr,
        dynstr_size,
        dynamic,
        interp,
        freed,
    })
}
