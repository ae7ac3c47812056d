//! Removing what no loader reads: debug information (`.debug_*`, `.zdebug_*`, `.stab*`), the
//! static symbol table with its string table, `.comment`, and the relocations of those sections,
//! from executables and shared libraries.
//!
//! Everything a program can see at run time stays byte-identical: every segment, every allocated
//! section, notes, `.dynsym`, attributes sections, `.gnu_debuglink` (a debugger still finds a
//! separate debug file through it). Only the part of the file after the last segment changes:
//! the kept sections there move down, each keeping its alignment, the section header table is
//! rewritten without the removed entries, and bytes there that belong to no section (data a
//! program appended to itself) are kept in order.
//!
//! The result is a list of pieces that is written in one pass ([`Stripped::write_to`]) or
//! collected ([`Stripped::to_vec`]), and checked against the input ([`Stripped::check`]) before
//! it replaces anything.

use std::io;

use crate::consts::{
    PT_GNU_STACK, PT_LOAD, PT_NULL, PT_PHDR, SHF_ALLOC, SHT_NOBITS, SHT_PROGBITS, SHT_STRTAB,
    SHT_SYMTAB,
};
use crate::ctx::slice;
use crate::error::{Error, Result};
use crate::headers::{Phdr, Shdr, SHN_XINDEX};
use crate::view::Elf;

const SHT_RELA: u32 = 4;
const SHT_REL: u32 = 9;
const SHT_SYMTAB_SHNDX: u32 = 18;
/// MIPS gives DWARF sections a type of their own.
const SHT_MIPS_DWARF: u32 = 0x7000_001e;
const SHF_INFO_LINK: u64 = 0x40;
const ET_EXEC: u16 = 2;
const ET_DYN: u16 = 3;
/// Section indices from here up are special (`SHN_ABS`, `SHN_COMMON`, `SHN_XINDEX`…), not
/// indices.
const SHN_LORESERVE: u16 = 0xff00;

/// A section the strip removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemovedSection {
    /// Its name.
    pub name: String,
    /// Its size in the file.
    pub size: u64,
}

/// One run of output bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// Input bytes `offset..offset + len`.
    Input { offset: u64, len: u64 },
    /// New bytes.
    Bytes(Vec<u8>),
    /// Zero padding.
    Zeros(u64),
}

/// A stripped file, described as pieces of its input and new bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stripped {
    removed: Vec<RemovedSection>,
    old_len: u64,
    new_len: u64,
    pieces: Vec<Piece>,
    /// Input section index → output index (`None`: removed).
    index_map: Vec<Option<u32>>,
    /// New offset of every section, by input index.
    new_offsets: Vec<u64>,
    /// The program headers as written.
    new_phdrs: Vec<Phdr>,
    new_phoff: u64,
    /// Bytes written over input bytes that are otherwise copied (file header, header tables,
    /// section indices of dynamic symbols), at input offsets.
    patches: Vec<(u64, Vec<u8>)>,
}

impl Stripped {
    /// The sections removed, in section-table order.
    pub fn removed(&self) -> &[RemovedSection] {
        &self.removed
    }

    /// Length of the input.
    pub fn old_len(&self) -> u64 {
        self.old_len
    }

    /// Length of the output.
    pub fn new_len(&self) -> u64 {
        self.new_len
    }

    /// How much smaller the output is.
    pub fn bytes_saved(&self) -> u64 {
        self.old_len - self.new_len
    }

    /// Writes the output to `out`, reading unchanged bytes from `input` (the bytes stripped).
    pub fn write_to(&self, input: &[u8], out: &mut impl io::Write) -> io::Result<()> {
        const ZEROS: [u8; 4096] = [0; 4096];
        for p in &self.pieces {
            match p {
                Piece::Input { offset, len } => {
                    let bytes = slice(input, *offset, *len, "stripped input")
                        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
                    out.write_all(bytes)?;
                }
                Piece::Bytes(b) => out.write_all(b)?,
                Piece::Zeros(mut n) => {
                    while n > 0 {
                        let k = n.min(ZEROS.len() as u64);
                        out.write_all(&ZEROS[..k as usize])?;
                        n -= k;
                    }
                }
            }
        }
        Ok(())
    }

    /// The whole output.
    pub fn to_vec(&self, input: &[u8]) -> Result<Vec<u8>> {
        let mut v = Vec::with_capacity(self.new_len as usize);
        self.write_to(input, &mut v)
            .map_err(|e| Error::Internal(format!("strip: {e}")))?;
        if v.len() as u64 != self.new_len {
            return Err(Error::Internal(format!(
                "strip: wrote {} bytes, planned {}",
                v.len(),
                self.new_len
            )));
        }
        Ok(v)
    }

    /// Whether output bytes `b` equal input bytes `a` (at input offset `base`) with the
    /// planned patches applied.
    fn same_as_patched(&self, a: &[u8], b: &[u8], base: u64) -> bool {
        if a.len() != b.len() {
            return false;
        }
        let end = base + a.len() as u64;
        let touched = self
            .patches
            .iter()
            .filter(|(at, p)| *at < end && at + p.len() as u64 > base);
        let mut expected: Option<Vec<u8>> = None;
        for (at, p) in touched {
            let e = expected.get_or_insert_with(|| a.to_vec());
            for (k, &x) in p.iter().enumerate() {
                let o = at + k as u64;
                if o >= base && o < end {
                    e[(o - base) as usize] = x;
                }
            }
        }
        expected.as_deref().unwrap_or(a) == b
    }

    /// Checks `output` against `input` (the file stripped): it parses; the program headers are
    /// the planned ones and every segment holds its bytes; the dynamic table reads the same;
    /// every kept section has its name, type, flags, address, size and bytes; nothing removed
    /// is left in the table.
    pub fn check(&self, input: &Elf, output: &[u8]) -> Result<()> {
        let bad = |m: String| Error::Internal(format!("stripped output: {m}"));
        if output.len() as u64 != self.new_len {
            return Err(bad(format!(
                "{} bytes, planned {}",
                output.len(),
                self.new_len
            )));
        }
        let out = Elf::parse(output).map_err(|e| bad(format!("does not parse: {e}")))?;
        if out.program_headers() != self.new_phdrs {
            return Err(bad("program headers differ from the plan".into()));
        }
        let (a, b) = (input.header(), out.header());
        let same_header = a.ident == b.ident
            && a.e_type == b.e_type
            && a.e_machine == b.e_machine
            && a.e_entry == b.e_entry
            && a.e_phnum == b.e_phnum
            && b.e_phoff == self.new_phoff;
        if !same_header {
            return Err(bad(
                "the file header changed beyond the header table fields".into(),
            ));
        }
        for (p, q) in input.program_headers().iter().zip(&self.new_phdrs) {
            if p.p_filesz > 0 && !matches!(p.p_type, PT_NULL | PT_GNU_STACK) {
                let a = slice(input.data(), p.p_offset, p.p_filesz, "segment")?;
                let b = slice(output, q.p_offset, q.p_filesz, "segment")
                    .map_err(|e| bad(e.to_string()))?;
                if !self.same_as_patched(a, b, p.p_offset) {
                    return Err(bad(format!("segment at {:#x} changed", p.p_offset)));
                }
            }
        }
        let entries = |e: &Elf| e.dynamic().map(|d| d.entries().to_vec());
        if entries(&out) != entries(input) {
            return Err(bad("dynamic table differs".into()));
        }
        let kept = self.index_map.iter().filter(|m| m.is_some()).count();
        if out.section_headers().len() != kept {
            return Err(bad(format!(
                "{} sections, expected {kept}",
                out.section_headers().len()
            )));
        }
        for (i, s) in input.section_headers().iter().enumerate() {
            let Some(Some(j)) = self.index_map.get(i) else {
                continue;
            };
            let j = *j as usize;
            let t = &out.section_headers()[j];
            let same = t.sh_type == s.sh_type
                && t.sh_flags == s.sh_flags
                && t.sh_addr == s.sh_addr
                && t.sh_size == s.sh_size
                && t.sh_offset == self.new_offsets[i]
                && (i == 0 || out.section_name(j) == input.section_name(i));
            if !same {
                return Err(bad(format!(
                    "section {} ({}) differs",
                    j,
                    String::from_utf8_lossy(input.section_name(i))
                )));
            }
            if s.has_file_data() {
                let a = slice(input.data(), s.sh_offset, s.sh_size, "section")?;
                let b = slice(output, t.sh_offset, t.sh_size, "section")
                    .map_err(|e| bad(e.to_string()))?;
                if !self.same_as_patched(a, b, s.sh_offset) {
                    return Err(bad(format!(
                        "the bytes of {} differ",
                        String::from_utf8_lossy(input.section_name(i))
                    )));
                }
            }
        }
        Ok(())
    }
}

/// `(file offset, new bytes)` for every dynamic symbol whose section index changes.
fn shndx_patches(
    elf: &Elf,
    syms: crate::view::DynSym,
    index_map: &[Option<u32>],
) -> Result<Vec<(u64, [u8; 2])>> {
    let ctx = elf.ctx;
    let mut out = Vec::new();
    // `st_shndx` follows name, info and other in 64-bit symbols, name, value, size, info and
    // other in 32-bit ones.
    let (field, size) = if ctx.is64() { (6, 24) } else { (14, 16) };
    if syms.entsize < size {
        return Ok(out);
    }
    for k in 0..syms.count {
        let at = syms.offset + k * syms.entsize + field;
        let b = slice(elf.data, at, 2, "dynamic symbol")?;
        let old = ctx.u16(b);
        if old == 0 || old >= SHN_LORESERVE {
            if old == SHN_XINDEX
                && index_map
                    .iter()
                    .enumerate()
                    .any(|(i, m)| *m != Some(i as u32))
            {
                return Err(Error::Unsupported(
                    "strip: a dynamic symbol's section index is escaped (SHN_XINDEX) and the \
                     section indices would change"
                        .into(),
                ));
            }
            continue;
        }
        let new = match index_map.get(old as usize) {
            Some(Some(n)) => *n,
            // A symbol defined in a section that is removed (or in none): only a removed
            // section ahead of allocated ones could cause that, and those are kept.
            _ => {
                return Err(Error::Unsupported(format!(
                    "strip: dynamic symbol {k} is defined in section {old}, which would be removed"
                )))
            }
        };
        if new != old as u32 {
            let mut enc = Vec::with_capacity(2);
            ctx.put_u16(&mut enc, new as u16);
            out.push((at, [enc[0], enc[1]]));
        }
    }
    Ok(out)
}

/// Whether a section of this name holds debug information or build notes no loader reads.
fn is_debug_name(name: &[u8]) -> bool {
    name.starts_with(b".debug")
        || name.starts_with(b".zdebug")
        || name.starts_with(b".stab")
        || name.starts_with(b".gnu.debuglto_")
        || name == b".comment"
        || name == b".gnu_debugdata"
}

/// The smallest value >= `x` that is congruent to `rem` modulo `align`.
fn align_up_to(x: u64, align: u64, rem: u64) -> Option<u64> {
    let a = align.max(1);
    let (r, low) = (rem % a, x - x % a);
    if x % a <= r {
        low.checked_add(r)
    } else {
        low.checked_add(a)?.checked_add(r)
    }
}

/// A run of input bytes that moves as one: a block of segments (moved only by multiples of the
/// largest segment alignment), kept sections outside segments, the section header table, or
/// bytes of no section.
#[derive(Debug, Clone)]
struct Unit {
    start: u64,
    end: u64,
    align: u64,
    /// A block of segments (its offsets relative to addresses must keep their remainder).
    segments: bool,
    /// The section header table, written anew.
    table: bool,
    new_start: u64,
}

/// Sorted, merged `(start, end)` ranges.
fn merge(mut ranges: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    ranges.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::new();
    for (a, b) in ranges {
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// Plans the strip of `elf`. `Ok(None)`: nothing to remove (the output would equal the input).
pub fn strip(elf: &Elf) -> Result<Option<Stripped>> {
    let data = elf.data;
    let ctx = elf.ctx;
    let shdrs = &elf.shdrs;
    let phdrs = &elf.phdrs;
    if shdrs.is_empty() {
        return Ok(None);
    }
    if !matches!(elf.ehdr.e_type, ET_EXEC | ET_DYN) {
        return Err(Error::Unsupported(
            "strip applies to executables and shared libraries; an object file's symbol table \
             is what the linker reads"
                .into(),
        ));
    }
    let n = shdrs.len();
    let len = data.len() as u64;
    let shstrndx = elf.ehdr.e_shstrndx as usize;
    let shoff = elf.ehdr.e_shoff;
    let shtab_len = n as u64 * ctx.shdr_size();
    let phtab = (
        elf.ehdr.e_phoff,
        elf.ehdr.e_phoff + phdrs.len() as u64 * ctx.phdr_size(),
    );

    if shstrndx != 0
        && shdrs
            .get(shstrndx)
            .is_some_and(|s| s.sh_size > 0 && !s.has_file_data() && s.sh_type != SHT_NOBITS)
    {
        return Err(Error::Unsupported(
            "strip: the section name table is a section without data (SHT_NULL)".into(),
        ));
    }
    // The file header and the two header tables are rewritten: they must not share bytes.
    let headers = [
        (0, ctx.ehdr_size()),
        if phdrs.is_empty() { (0, 0) } else { phtab },
        (shoff, shoff + shtab_len),
    ];
    for (i, a) in headers.iter().enumerate() {
        for b in &headers[i + 1..] {
            if a.0 < b.1 && b.0 < a.1 {
                return Err(Error::Unsupported(
                    "strip: the file header and the header tables overlap".into(),
                ));
            }
        }
    }

    // Segments that only describe a non-allocated section (RISC-V and ARM attributes) move with
    // that section; every other segment's bytes are anchored in blocks.
    let follows = |p: &Phdr| -> Option<usize> {
        if matches!(p.p_type, PT_LOAD | PT_PHDR) || p.p_filesz == 0 {
            return None;
        }
        shdrs.iter().position(|s| {
            s.sh_flags & SHF_ALLOC == 0
                && s.has_file_data()
                && s.sh_offset <= p.p_offset
                && p.file_end() <= s.sh_offset + s.sh_size
        })
    };
    let followed: Vec<Option<usize>> = phdrs.iter().map(follows).collect();
    let follower: Vec<bool> = followed.iter().map(Option::is_some).collect();
    let mut anchored = vec![(0, ctx.ehdr_size())];
    if !phdrs.is_empty() {
        anchored.push(phtab);
    }
    for (k, p) in phdrs.iter().enumerate() {
        // Parsing checked the bounds of every segment with bytes; PT_GNU_STACK has none.
        if !matches!(p.p_type, PT_NULL | PT_GNU_STACK) && p.p_filesz > 0 && !follower[k] {
            anchored.push((p.p_offset, p.file_end().min(len)));
        }
    }
    // A section or the section header table that overlaps a block becomes part of it.
    let mut blocks = merge(anchored);
    loop {
        let mut grown = blocks.clone();
        let overlapping = |a: u64, b: u64| blocks.iter().any(|&(s, e)| a < e && s < b);
        for s in shdrs.iter().filter(|s| s.has_file_data()) {
            let r = (s.sh_offset, s.sh_offset + s.sh_size);
            if overlapping(r.0, r.1) {
                grown.push(r);
            }
        }
        if overlapping(shoff, shoff + shtab_len) {
            grown.push((shoff, shoff + shtab_len));
        }
        let grown = merge(grown);
        if grown == blocks {
            break;
        }
        blocks = grown;
    }
    let in_block = |a: u64, b: u64| blocks.iter().any(|&(s, e)| a < e && s < b);
    // What the dynamic table leads to must lie in segments (a hostile file can point past them).
    let within = |a: u64, b: u64| blocks.iter().any(|&(s, e)| s <= a && b <= e);
    let records = elf.verneed.iter().map(|v| (v.field - 4, v.field + 12));
    if let Some((a, _)) = elf
        .dynamic_table_ranges()
        .into_iter()
        .chain(records)
        .find(|&(a, b)| !within(a, b))
    {
        return Err(Error::Unsupported(format!(
            "strip: dynamic data at {a:#x} lies outside every segment"
        )));
    }
    let outside = |s: &Shdr| !s.has_file_data() || !in_block(s.sh_offset, s.sh_offset + s.sh_size);

    // What to remove: non-allocated debug data, the static symbol table and what belongs to
    // it, outside segments. A section something kept refers to (or a segment describes) is
    // pinned and stays.
    let removable =
        |i: usize, s: &Shdr| i != 0 && i != shstrndx && s.sh_flags & SHF_ALLOC == 0 && outside(s);
    let mut remove = vec![false; n];
    let mut pinned = vec![false; n];
    for (i, s) in shdrs.iter().enumerate() {
        remove[i] = removable(i, s)
            && match s.sh_type {
                SHT_SYMTAB => true,
                SHT_PROGBITS | SHT_MIPS_DWARF => is_debug_name(elf.section_name(i)),
                _ => false,
            };
    }
    let info_is_index =
        |s: &Shdr| matches!(s.sh_type, SHT_REL | SHT_RELA) || s.sh_flags & SHF_INFO_LINK != 0;
    // The sections that name each section in their link field.
    let mut users: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (j, t) in shdrs.iter().enumerate() {
        if let Some(u) = users.get_mut(t.sh_link as usize) {
            u.push(j);
        }
    }
    loop {
        let mut changed = false;
        for (i, s) in shdrs.iter().enumerate() {
            if remove[i] || pinned[i] || !removable(i, s) {
                continue;
            }
            let gone = |j: u32| j != 0 && remove.get(j as usize) == Some(&true);
            // Relocations of removed sections, the extended indices of a removed symbol table,
            // and a string table only removed sections use.
            let dependent = matches!(s.sh_type, SHT_REL | SHT_RELA | SHT_SYMTAB_SHNDX)
                && (gone(s.sh_link) || (info_is_index(s) && gone(s.sh_info)));
            let orphan_strings = s.sh_type == SHT_STRTAB
                && !users[i].is_empty()
                && users[i].iter().all(|&j| remove[j]);
            if dependent || orphan_strings {
                remove[i] = true;
                changed = true;
            }
        }
        for (i, s) in shdrs.iter().enumerate() {
            if remove[i] {
                continue;
            }
            let mut pin = |j: u32| {
                let j = j as usize;
                if j != 0 && remove.get(j) == Some(&true) {
                    remove[j] = false;
                    pinned[j] = true;
                    changed = true;
                }
            };
            pin(s.sh_link);
            if info_is_index(s) {
                pin(s.sh_info);
            }
        }
        // A section a segment describes stays.
        for &i in followed.iter().flatten() {
            if remove[i] {
                remove[i] = false;
                pinned[i] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    if !remove.iter().any(|&r| r) {
        return Ok(None);
    }
    let mut index_map = Vec::with_capacity(n);
    let mut kept_count = 0u32;
    for &r in &remove {
        index_map.push((!r).then(|| {
            kept_count += 1;
            kept_count - 1
        }));
    }
    let new_table_len = kept_count as u64 * ctx.shdr_size();

    // The units, in file order: blocks of segments, kept sections outside them (overlapping
    // ones together), the section header table, and bytes of no section that are not zero.
    let seg_align = phdrs
        .iter()
        .filter(|p| p.p_type == PT_LOAD)
        .map(|p| p.p_align)
        .max()
        .unwrap_or(1)
        .max(1);
    let mut units: Vec<Unit> = blocks
        .iter()
        .map(|&(start, end)| Unit {
            start,
            end,
            align: seg_align,
            segments: true,
            table: false,
            new_start: 0,
        })
        .collect();
    let table_outside = shtab_len > 0 && !in_block(shoff, shoff + shtab_len);
    let mut loose: Vec<(u64, u64, u64, bool)> = Vec::new();
    for (i, s) in shdrs.iter().enumerate() {
        if !remove[i] && s.has_file_data() && outside(s) {
            loose.push((
                s.sh_offset,
                s.sh_offset + s.sh_size,
                s.sh_addralign.clamp(1, 1 << 16),
                false,
            ));
        }
    }
    if table_outside {
        loose.push((shoff, shoff + shtab_len, ctx.word(), true));
    }
    let mut covered: Vec<(u64, u64)> = blocks.clone();
    covered.extend(
        shdrs
            .iter()
            .filter(|s| s.has_file_data())
            .map(|s| (s.sh_offset, s.sh_offset + s.sh_size)),
    );
    if table_outside {
        covered.push((shoff, shoff + shtab_len));
    }
    let mut cursor = 0;
    for (a, b) in merge(covered)
        .into_iter()
        .chain(std::iter::once((len, len)))
    {
        let a = a.min(len);
        if a > cursor && data[cursor as usize..a as usize].iter().any(|&x| x != 0) {
            loose.push((cursor, a, 1, false));
        }
        cursor = cursor.max(b);
    }
    loose.sort_unstable();
    for (start, end, align, table) in loose {
        match units.iter_mut().rev().find(|u| !u.segments) {
            Some(u) if start < u.end && u.start <= start => {
                if table || u.table {
                    return Err(Error::Unsupported(
                        "strip: the section header table overlaps a section".into(),
                    ));
                }
                u.end = u.end.max(end);
                u.align = u.align.max(align);
            }
            _ => units.push(Unit {
                start,
                end,
                align,
                segments: false,
                table,
                new_start: 0,
            }),
        }
    }
    units.sort_by_key(|u| u.start);

    // Place them: each as early as it can go, keeping its offset's remainder.
    let mut at = 0u64;
    for u in units.iter_mut() {
        u.new_start = align_up_to(at, u.align, u.start)
            .filter(|&v| v <= u.start)
            .unwrap_or(u.start.max(at));
        if u.new_start < at {
            return Err(Error::Unsupported("strip: overlapping structures".into()));
        }
        at = u.new_start
            + if u.table {
                new_table_len
            } else {
                u.end - u.start
            };
    }
    let new_len = at;
    if new_len >= len {
        return Ok(None);
    }
    // Where an input offset goes: moved with the unit that holds it (or starts there, or ends
    // there), else to the start of the next unit (or the end).
    let map = |off: u64| -> u64 {
        let moved = |u: &Unit| u.new_start + (off - u.start);
        if let Some(u) = units
            .iter()
            .find(|u| u.start <= off && off < u.end && !u.table)
        {
            return moved(u);
        }
        if let Some(u) = units.iter().find(|u| u.end == off && !u.table) {
            return moved(u);
        }
        units
            .iter()
            .find(|u| u.start >= off)
            .map_or(new_len, |u| u.new_start)
    };
    // A segment moves with its block; one without bytes in the file, by as much as the block
    // before it (keeping its remainder modulo the alignment).
    let block_delta = |off: u64| -> u64 {
        units
            .iter()
            .rev()
            .find(|u| u.segments && u.start <= off)
            .map_or(0, |u| u.start - u.new_start)
    };
    let mut new_phdrs = phdrs.clone();
    for (k, p) in new_phdrs.iter_mut().enumerate() {
        p.p_offset = if follower[k] {
            map(p.p_offset)
        } else {
            p.p_offset - block_delta(p.p_offset).min(p.p_offset)
        };
    }
    let new_phoff = if phdrs.is_empty() {
        elf.ehdr.e_phoff
    } else {
        elf.ehdr.e_phoff - block_delta(elf.ehdr.e_phoff)
    };
    let new_offsets: Vec<u64> = shdrs
        .iter()
        .map(|s| {
            if s.sh_type == crate::consts::SHT_NULL && s.sh_offset == 0 {
                0
            } else {
                map(s.sh_offset)
            }
        })
        .collect();
    let new_shoff = units
        .iter()
        .find(|u| u.table)
        .map_or_else(|| shoff - block_delta(shoff), |u| u.new_start);

    // The new section header table.
    let word = ctx.word();
    let raw_shnum = ctx.u16(&data[(24 + 3 * word + 12) as usize..]);
    let raw_shstrndx = ctx.u16(&data[(24 + 3 * word + 14) as usize..]);
    let remap = |v: u32| -> u32 { index_map.get(v as usize).copied().flatten().unwrap_or(v) };
    let mut table = Vec::with_capacity(new_table_len as usize);
    for (i, s) in shdrs.iter().enumerate() {
        if remove[i] {
            continue;
        }
        let mut t = *s;
        t.sh_offset = new_offsets[i];
        if i == 0 {
            if raw_shnum == 0 {
                t.sh_size = kept_count as u64;
            }
            if raw_shstrndx == SHN_XINDEX {
                t.sh_link = remap(s.sh_link);
            }
        } else {
            t.sh_link = remap(s.sh_link);
            if info_is_index(s) {
                t.sh_info = remap(s.sh_info);
            }
        }
        t.encode(ctx, &mut table);
    }
    let mut ehdr = elf.ehdr.clone();
    ehdr.e_phoff = new_phoff;
    ehdr.e_shoff = new_shoff;
    if raw_shnum != 0 {
        ehdr.e_shnum = kept_count as u16;
    }
    ehdr.e_shstrndx = index_map.get(shstrndx).copied().flatten().unwrap_or(0) as u16;

    // Patches over copied input bytes: the file header, the program headers, the section
    // header table when it lies in a block, moved section indices of dynamic symbols.
    let mut patches: Vec<(u64, Vec<u8>)> = vec![(0, ehdr.encode(ctx, data))];
    if new_phdrs != *phdrs {
        let mut t = Vec::with_capacity((phtab.1 - phtab.0) as usize);
        for p in &new_phdrs {
            p.encode(ctx, &mut t);
        }
        patches.push((phtab.0, t));
    }
    if !table_outside {
        let mut t = table.clone();
        t.resize(shtab_len as usize, 0);
        patches.push((shoff, t));
    }
    // Nothing that is read back may share bytes with the rewritten headers.
    let overlaps = |a: u64, b: u64| {
        patches
            .iter()
            .any(|(o, p)| *o < b && a < o + p.len() as u64)
    };
    if let Some(d) = &elf.dynamic {
        if overlaps(d.offset, d.offset + d.capacity * ctx.dyn_size()) {
            return Err(Error::Unsupported(
                "strip: the dynamic table overlaps the file header or a header table".into(),
            ));
        }
    }
    for (i, s) in shdrs.iter().enumerate() {
        if !remove[i] && s.has_file_data() && overlaps(s.sh_offset, s.sh_offset + s.sh_size) {
            return Err(Error::Unsupported(format!(
                "strip: section {i} overlaps the file header or a header table"
            )));
        }
    }
    if let Some(syms) = elf.dynsym {
        for (at, b) in shndx_patches(elf, syms, &index_map)? {
            patches.push((at, b.to_vec()));
        }
    }
    patches.sort_by_key(|p| p.0);
    for w in patches.windows(2) {
        if w[0].0 + w[0].1.len() as u64 > w[1].0 {
            return Err(Error::Unsupported(
                "strip: the file header, header tables and dynamic symbols overlap".into(),
            ));
        }
    }

    let mut pieces = Vec::new();
    let mut out_at = 0u64;
    for u in &units {
        if u.new_start > out_at {
            pieces.push(Piece::Zeros(u.new_start - out_at));
        }
        if u.table {
            pieces.push(Piece::Bytes(std::mem::take(&mut table)));
            out_at = u.new_start + new_table_len;
            continue;
        }
        let mut pos = u.start;
        for (off, bytes) in patches.iter().filter(|(o, _)| *o >= u.start && *o < u.end) {
            let end = off + bytes.len() as u64;
            if end > u.end {
                return Err(Error::Unsupported(
                    "strip: a header table crosses the end of a segment".into(),
                ));
            }
            if *off > pos {
                pieces.push(Piece::Input {
                    offset: pos,
                    len: off - pos,
                });
            }
            pieces.push(Piece::Bytes(bytes.clone()));
            pos = end;
        }
        if u.end > pos {
            pieces.push(Piece::Input {
                offset: pos,
                len: u.end - pos,
            });
        }
        out_at = u.new_start + (u.end - u.start);
    }
    if out_at != new_len {
        return Err(Error::Internal(format!(
            "strip: pieces end at {out_at}, planned {new_len}"
        )));
    }
    let removed = shdrs
        .iter()
        .enumerate()
        .filter(|(i, _)| remove[*i])
        .map(|(i, s)| RemovedSection {
            name: String::from_utf8_lossy(elf.section_name(i)).into_owned(),
            size: if s.has_file_data() { s.sh_size } else { 0 },
        })
        .collect();
    Ok(Some(Stripped {
        removed,
        old_len: len,
        new_len,
        pieces,
        index_map,
        new_offsets,
        new_phdrs,
        new_phoff,
        patches,
    }))
}

#[cfg(test)]
mod tests {
    use super::align_up_to;

    #[test]
    fn alignment_keeps_the_remainder() {
        assert_eq!(align_up_to(100, 8, 0), Some(104));
        assert_eq!(align_up_to(104, 8, 0), Some(104));
        assert_eq!(align_up_to(100, 16, 3), Some(115));
        assert_eq!(align_up_to(100, 16, 4), Some(100));
        assert_eq!(align_up_to(101, 1, 7), Some(101));
        assert_eq!(align_up_to(5, 1 << 63, 4096), Some(4096));
        assert_eq!(align_up_to(u64::MAX - 1, 1 << 63, 0), None);
    }
}
