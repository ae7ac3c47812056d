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

use crate::consts::{SHF_ALLOC, SHT_PROGBITS, SHT_STRTAB, SHT_SYMTAB};
use crate::ctx::slice;
use crate::error::{Error, Result};
use crate::headers::{Shdr, SHN_XINDEX};
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
    /// New offset of every kept section, by input index.
    new_offsets: Vec<u64>,
    /// Segments that moved with the section they describe: (program header index, new offset).
    moved_segments: Vec<(usize, u64)>,
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

    /// Whether input bytes `a` and output bytes `b`, both at file offset `base`, differ only in
    /// the section indices of dynamic symbols and, within the first `header_len` bytes of the
    /// file, in the file header (compared field by field apart).
    fn same_but_indices(
        &self,
        elf: &Elf,
        a: &[u8],
        b: &[u8],
        base: u64,
        output: &[u8],
        header_len: usize,
    ) -> bool {
        if a == b {
            return true;
        }
        if a.len() != b.len() {
            return false;
        }
        let mut expected = a.to_vec();
        let mut put = |at: u64, bytes: &[u8]| {
            for (k, &x) in bytes.iter().enumerate() {
                let o = at + k as u64;
                if o >= base && o < base + expected.len() as u64 {
                    expected[(o - base) as usize] = x;
                }
            }
        };
        put(0, &output[..header_len.min(output.len())]);
        if header_len > 0 && !self.moved_segments.is_empty() {
            let h = elf.header();
            let len = h.e_phnum as u64 * elf.ctx().phdr_size();
            if let Ok(table) = slice(output, h.e_phoff, len, "program headers") {
                put(h.e_phoff, table);
            }
        }
        if let Some(syms) = elf.dynsym {
            for (at, new) in shndx_patches(elf, syms, &self.index_map).unwrap_or_default() {
                put(at, &new);
            }
        }
        expected == b
    }

    /// Checks `output` against `input` (the file stripped): it parses; the program headers, the
    /// dynamic table and the bytes of every segment are unchanged; every kept section has its
    /// name, type, flags, address, size and bytes; nothing removed is left in the table.
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
        let mut expected = input.program_headers().to_vec();
        for &(k, off) in &self.moved_segments {
            expected[k].p_offset = off;
        }
        if out.program_headers() != expected {
            return Err(bad("program headers differ".into()));
        }
        let entries = |e: &Elf| e.dynamic().map(|d| d.entries().to_vec());
        if entries(&out) != entries(input) {
            return Err(bad("dynamic table differs".into()));
        }
        let (a, b) = (input.header(), out.header());
        let same_header = a.ident == b.ident
            && a.e_type == b.e_type
            && a.e_machine == b.e_machine
            && a.e_entry == b.e_entry
            && a.e_phoff == b.e_phoff
            && a.e_phnum == b.e_phnum;
        if !same_header {
            return Err(bad(
                "the file header changed beyond the section table fields".into(),
            ));
        }
        let header_len = input.ctx().ehdr_size() as usize;
        for (k, p) in input.program_headers().iter().enumerate() {
            if p.p_filesz > 0 && p.p_type != crate::consts::PT_NULL {
                let a = slice(input.data(), p.p_offset, p.p_filesz, "segment")?;
                let b = slice(output, expected[k].p_offset, p.p_filesz, "segment")
                    .map_err(|e| bad(e.to_string()))?;
                if !self.same_but_indices(input, a, b, p.p_offset, output, header_len) {
                    return Err(bad(format!("segment at {:#x} changed", p.p_offset)));
                }
            }
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
                && out.section_name(j) == input.section_name(i);
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
                if !self.same_but_indices(input, a, b, s.sh_offset, output, 0) {
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

fn align_up_to(x: u64, align: u64, rem: u64) -> Option<u64> {
    // The smallest value >= x that is congruent to rem modulo align.
    let a = align.max(1);
    let base = x.checked_add(a - 1)? / a * a;
    let v = base.checked_add(rem % a)?;
    Some(if v >= x + a { v - a } else { v })
}

/// Plans the strip of `elf`. `Ok(None)`: nothing to remove (the output would equal the input).
pub fn strip(elf: &Elf) -> Result<Option<Stripped>> {
    let data = elf.data;
    let ctx = elf.ctx;
    let shdrs = &elf.shdrs;
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
    let shstrndx = elf.ehdr.e_shstrndx as usize;
    let word = ctx.word();

    // Segments that only describe a non-allocated section (RISC-V and ARM attributes) move with
    // it; everything else up to the end of the last segment (and the headers) stays where it is.
    let follows = |p: &crate::headers::Phdr| -> Option<usize> {
        if p.p_type == crate::consts::PT_LOAD
            || p.p_type == crate::consts::PT_PHDR
            || p.p_filesz == 0
        {
            return None;
        }
        shdrs.iter().position(|s| {
            s.sh_flags & SHF_ALLOC == 0
                && s.has_file_data()
                && s.sh_offset <= p.p_offset
                && p.file_end() <= s.sh_offset + s.sh_size
        })
    };
    let followers: Vec<(usize, usize)> = elf
        .phdrs
        .iter()
        .enumerate()
        .filter_map(|(k, p)| follows(p).map(|i| (k, i)))
        .collect();
    let mut fixed_end = ctx.ehdr_size();
    if !elf.phdrs.is_empty() {
        fixed_end = fixed_end.max(elf.ehdr.e_phoff + elf.phdrs.len() as u64 * ctx.phdr_size());
    }
    for (k, p) in elf.phdrs.iter().enumerate() {
        if p.p_type != crate::consts::PT_NULL && !followers.iter().any(|f| f.0 == k) {
            fixed_end = fixed_end.max(p.file_end());
        }
    }
    // A section or the section header table that starts in the fixed part stays whole with it.
    let shtab_old_len = shdrs.len() as u64 * ctx.shdr_size();
    loop {
        let mut end = fixed_end;
        for s in shdrs.iter().filter(|s| s.has_file_data()) {
            if s.sh_offset < end {
                end = end.max(s.sh_offset + s.sh_size);
            }
        }
        if elf.ehdr.e_shoff < end {
            end = end.max(elf.ehdr.e_shoff + shtab_old_len);
        }
        if end == fixed_end {
            break;
        }
        fixed_end = end;
    }
    let in_tail = |s: &Shdr| !s.has_file_data() || s.sh_offset >= fixed_end;

    // What to remove: non-allocated debug data, the static symbol table and what belongs to it.
    let n = shdrs.len();
    let mut remove = vec![false; n];
    for (i, s) in shdrs.iter().enumerate() {
        if i == 0 || i == shstrndx || s.sh_flags & SHF_ALLOC != 0 || !in_tail(s) {
            continue;
        }
        remove[i] = match s.sh_type {
            SHT_SYMTAB => true,
            SHT_PROGBITS | SHT_MIPS_DWARF => is_debug_name(elf.section_name(i)),
            _ => false,
        };
    }
    loop {
        let mut changed = false;
        for (i, s) in shdrs.iter().enumerate() {
            if remove[i] || i == 0 || i == shstrndx || s.sh_flags & SHF_ALLOC != 0 || !in_tail(s) {
                continue;
            }
            let link = s.sh_link as usize;
            let info = s.sh_info as usize;
            let link_removed = link != 0 && remove.get(link) == Some(&true);
            let info_removed = (matches!(s.sh_type, SHT_REL | SHT_RELA)
                || s.sh_flags & SHF_INFO_LINK != 0)
                && info != 0
                && remove.get(info) == Some(&true);
            // Relocations of removed sections, and the extended indices of a removed table.
            if matches!(s.sh_type, SHT_REL | SHT_RELA | SHT_SYMTAB_SHNDX)
                && (link_removed || info_removed)
            {
                remove[i] = true;
                changed = true;
            }
            // A string table only the removed symbol table uses.
            if s.sh_type == SHT_STRTAB {
                let users: Vec<usize> =
                    (0..n).filter(|&j| shdrs[j].sh_link as usize == i).collect();
                if !users.is_empty() && users.iter().all(|&j| remove[j]) {
                    remove[i] = true;
                    changed = true;
                }
            }
        }
        // A kept section that refers to a removed one keeps it.
        for (i, s) in shdrs.iter().enumerate() {
            if remove[i] {
                continue;
            }
            let link = s.sh_link as usize;
            if link != 0 && remove.get(link) == Some(&true) {
                remove[link] = false;
                changed = true;
            }
            let info = s.sh_info as usize;
            if (s.sh_flags & SHF_INFO_LINK != 0 || matches!(s.sh_type, SHT_REL | SHT_RELA))
                && info != 0
                && remove.get(info) == Some(&true)
            {
                remove[info] = false;
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
    let mut next = 0u32;
    for &r in &remove {
        index_map.push(if r {
            None
        } else {
            next += 1;
            Some(next - 1)
        });
    }
    let kept_count = next as u64;

    // The tail, in file order: kept sections (overlapping ones move as one block), the section
    // header table, and bytes of no section.
    let shoff = elf.ehdr.e_shoff;
    let shtab_in_tail = shoff >= fixed_end;
    #[derive(Clone)]
    struct Member {
        start: u64,
        end: u64,
        align: u64,
        /// Input section index; `None` for the section header table.
        section: Option<usize>,
    }
    let mut members: Vec<Member> = Vec::new();
    for (i, s) in shdrs.iter().enumerate() {
        if !remove[i] && s.has_file_data() && s.sh_offset >= fixed_end {
            members.push(Member {
                start: s.sh_offset,
                end: s.sh_offset + s.sh_size,
                align: s.sh_addralign.clamp(1, 1 << 16),
                section: Some(i),
            });
        }
    }
    if shtab_in_tail {
        members.push(Member {
            start: shoff,
            end: shoff + shtab_old_len,
            align: word,
            section: None,
        });
    }
    // Covered input bytes: every section with data in the tail (kept or removed) and the table.
    let mut covered: Vec<(u64, u64)> = shdrs
        .iter()
        .filter(|s| s.has_file_data() && s.sh_offset >= fixed_end)
        .map(|s| (s.sh_offset, s.sh_offset + s.sh_size))
        .collect();
    if shtab_in_tail {
        covered.push((shoff, shoff + shtab_old_len));
    }
    covered.sort_unstable();
    // Bytes of no section that are not zero padding are kept as they are, in place order.
    let mut cursor = fixed_end;
    let len = data.len() as u64;
    for &(a, b) in covered.iter().chain(std::iter::once(&(len, len))) {
        if a > cursor {
            let gap = &data[cursor as usize..a as usize];
            if gap.iter().any(|&x| x != 0) {
                members.push(Member {
                    start: cursor,
                    end: a,
                    align: 1,
                    section: None,
                });
            }
        }
        cursor = cursor.max(b);
    }
    // Mark gap members apart from the table: the table is the one whose start is shoff with
    // `section: None` and the table's length.
    let is_table = |m: &Member| {
        shtab_in_tail && m.section.is_none() && m.start == shoff && m.end == shoff + shtab_old_len
    };
    members.sort_by_key(|m| (m.start, m.end));

    // Blocks of overlapping members.
    let mut blocks: Vec<Vec<Member>> = Vec::new();
    for m in members {
        match blocks.last_mut() {
            Some(b) if m.start < b.iter().map(|x| x.end).max().unwrap_or(0) => b.push(m),
            _ => blocks.push(vec![m]),
        }
    }
    let new_table_len = kept_count * ctx.shdr_size();
    let mut new_offsets: Vec<u64> = shdrs.iter().map(|s| s.sh_offset).collect();
    let mut placed: Vec<(u64, Vec<Member>)> = Vec::new();
    let mut at = fixed_end;
    let mut new_shoff = shoff;
    for block in blocks {
        if block.len() > 1 && block.iter().any(is_table) {
            return Err(Error::Unsupported(
                "strip: the section header table overlaps a section".into(),
            ));
        }
        let start = block[0].start;
        let align = block.iter().map(|m| m.align).max().unwrap_or(1);
        let new_start = align_up_to(at, align, start)
            .ok_or_else(|| Error::Internal("strip: offset overflows".into()))?;
        for m in &block {
            let moved = new_start + (m.start - start);
            match m.section {
                Some(i) => new_offsets[i] = moved,
                None if is_table(m) => new_shoff = moved,
                None => {}
            }
        }
        let end = if block.len() == 1 && is_table(&block[0]) {
            start + new_table_len
        } else {
            block.iter().map(|m| m.end).max().unwrap_or(start)
        };
        at = new_start + (end - start);
        placed.push((new_start, block));
    }
    // Kept sections without file data in the tail keep their place relative to what moved.
    let map_offset = |off: u64| -> u64 {
        for (ns, b) in &placed {
            let start = b[0].start;
            let end = b.iter().map(|m| m.end).max().unwrap_or(start);
            if off < start {
                return *ns;
            }
            if off <= end {
                return (ns + (off - start)).min(at);
            }
        }
        at
    };
    for (i, s) in shdrs.iter().enumerate() {
        if !remove[i] && !s.has_file_data() && s.sh_offset >= fixed_end {
            new_offsets[i] = map_offset(s.sh_offset);
        }
    }

    // The new section header table.
    let mut table = Vec::with_capacity((kept_count * ctx.shdr_size()) as usize);
    let raw_shnum = ctx.u16(&data[(24 + 3 * word + 12) as usize..]);
    let raw_shstrndx = ctx.u16(&data[(24 + 3 * word + 14) as usize..]);
    let remap = |v: u32| -> u32 {
        match index_map.get(v as usize) {
            Some(Some(j)) => *j,
            _ => v,
        }
    };
    for (i, s) in shdrs.iter().enumerate() {
        if remove[i] {
            continue;
        }
        let mut t = *s;
        t.sh_offset = new_offsets[i];
        if i == 0 {
            if raw_shnum == 0 {
                t.sh_size = kept_count;
            }
            if raw_shstrndx == SHN_XINDEX {
                t.sh_link = remap(s.sh_link);
            }
        } else {
            t.sh_link = remap(s.sh_link);
            if s.sh_flags & SHF_INFO_LINK != 0 || matches!(s.sh_type, SHT_REL | SHT_RELA) {
                t.sh_info = remap(s.sh_info);
            }
        }
        t.encode(ctx, &mut table);
    }
    let mut ehdr = elf.ehdr.clone();
    ehdr.e_shoff = new_shoff;
    if raw_shnum != 0 {
        ehdr.e_shnum = kept_count as u16;
    }
    ehdr.e_shstrndx = index_map.get(shstrndx).copied().flatten().unwrap_or(0) as u16;

    // Patches inside the fixed part: the file header, moved section indices of dynamic symbols,
    // and the section header table when it is not in the tail.
    let mut patches: Vec<(u64, Vec<u8>)> = vec![(0, ehdr.encode(ctx, data))];
    if let Some(syms) = elf.dynsym {
        for (at, b) in shndx_patches(elf, syms, &index_map)? {
            patches.push((at, b.to_vec()));
        }
    }
    if !shtab_in_tail {
        let mut t = table.clone();
        t.resize(shtab_old_len as usize, 0);
        patches.push((shoff, t));
    }
    let mut phdrs = elf.phdrs.clone();
    let mut moved_segments = Vec::new();
    for &(k, i) in &followers {
        let p = &mut phdrs[k];
        let moved = new_offsets[i] + (p.p_offset - shdrs[i].sh_offset);
        if moved != p.p_offset {
            p.p_offset = moved;
            moved_segments.push((k, moved));
        }
    }
    if !moved_segments.is_empty() {
        let mut table = Vec::with_capacity(phdrs.len() * ctx.phdr_size() as usize);
        for p in &phdrs {
            p.encode(ctx, &mut table);
        }
        patches.push((elf.ehdr.e_phoff, table));
    }
    patches.sort_by_key(|p| p.0);
    let mut pieces = Vec::new();
    let mut pos = 0u64;
    for (off, bytes) in patches {
        if off < pos || off + bytes.len() as u64 > fixed_end {
            return Err(Error::Unsupported(
                "strip: the file header, dynamic symbols and section header table overlap".into(),
            ));
        }
        if off > pos {
            pieces.push(Piece::Input {
                offset: pos,
                len: off - pos,
            });
        }
        pos = off + bytes.len() as u64;
        pieces.push(Piece::Bytes(bytes));
    }
    if fixed_end > pos {
        pieces.push(Piece::Input {
            offset: pos,
            len: fixed_end - pos,
        });
    }
    let mut out_at = fixed_end;
    for (new_start, block) in placed {
        if new_start > out_at {
            pieces.push(Piece::Zeros(new_start - out_at));
        }
        if block.len() == 1 && is_table(&block[0]) {
            out_at = new_start + table.len() as u64;
            pieces.push(Piece::Bytes(std::mem::take(&mut table)));
            continue;
        }
        let start = block[0].start;
        let end = block.iter().map(|m| m.end).max().unwrap_or(start);
        pieces.push(Piece::Input {
            offset: start,
            len: end - start,
        });
        out_at = new_start + (end - start);
    }
    let new_len = out_at;
    if new_len >= len {
        return Ok(None);
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
        moved_segments,
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
    }
}
