//! A parsed, read-only view of an ELF file: headers, the dynamic table, the dynamic string table
//! and everything that refers into it. Nothing is trusted without a bounds check.

use crate::consts::*;
use crate::ctx::{slice, Ctx};
use crate::error::{malformed, Error, Result};
use crate::headers::{table, Ehdr, Phdr, Shdr, SHN_XINDEX};

/// One entry of the dynamic table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dyn {
    /// `d_tag` (DT_NEEDED, …).
    pub tag: u64,
    /// `d_val` / `d_ptr`.
    pub val: u64,
}

/// Where the dynamic table lives and what it holds.
#[derive(Debug, Clone)]
pub struct Dynamic {
    /// The PT_DYNAMIC program header; `None` when the table is known only from its section
    /// header (the loader never reads such a table, but patchelf edits it, and so do we).
    pub(crate) phdr: Option<usize>,
    pub(crate) section: Option<usize>,
    pub(crate) offset: u64,
    pub(crate) vaddr: u64,
    /// How many entries fit in the space the table occupies (including its DT_NULLs).
    pub(crate) capacity: u64,
    /// Entries before the first DT_NULL.
    pub(crate) entries: Vec<Dyn>,
}

impl Dynamic {
    /// Entries before the first DT_NULL.
    pub fn entries(&self) -> &[Dyn] {
        &self.entries
    }
    /// File offset of the table.
    pub fn offset(&self) -> u64 {
        self.offset
    }
    /// Its address.
    pub fn vaddr(&self) -> u64 {
        self.vaddr
    }
    /// How many entries fit in its space, DT_NULLs included.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }
    /// Index of its PT_DYNAMIC program header (`None`: known only from its section header).
    pub fn program_header(&self) -> Option<usize> {
        self.phdr
    }
}

/// Where the dynamic string table lives.
#[derive(Debug, Clone, Copy)]
pub struct StrTab {
    pub(crate) offset: u64,
    pub(crate) vaddr: u64,
    pub(crate) size: u64,
    pub(crate) section: Option<usize>,
}

impl StrTab {
    /// File offset.
    pub fn offset(&self) -> u64 {
        self.offset
    }
    /// Address (DT_STRTAB).
    pub fn vaddr(&self) -> u64 {
        self.vaddr
    }
    /// Size in bytes (DT_STRSZ).
    pub fn size(&self) -> u64 {
        self.size
    }
}

/// A record of `.gnu.version_r`: a library that versioned symbols come from, and the versions.
#[derive(Debug, Clone)]
pub(crate) struct VerneedFile {
    /// File offset of the 32-bit `vn_file` field itself.
    pub field: u64,
    /// Its value: an offset into the dynamic string table.
    pub name: u64,
    /// Offsets of the version names (`vna_name`) of its auxiliary records; `None` when they
    /// could not all be read.
    pub versions: Option<Vec<u64>>,
}

/// The dynamic symbol table (found through DT_SYMTAB, sized by `.dynsym`, DT_HASH or
/// DT_GNU_HASH).
#[derive(Debug, Clone, Copy)]
pub(crate) struct DynSym {
    pub offset: u64,
    pub count: u64,
    pub entsize: u64,
}

/// Dynamic string table offsets that symbols and version records refer to.
#[derive(Debug, Clone, Default)]
pub(crate) struct FixedRefs {
    /// `st_name` of every dynamic symbol, by symbol index.
    pub symbols: Vec<u64>,
    /// Names in version definitions (vda_name) and needs (vna_name).
    pub versions: Vec<u64>,
}

/// A parsed ELF file: a read-only view of `data` that borrows it.
#[derive(Debug, Clone)]
pub struct Elf<'a> {
    pub(crate) data: &'a [u8],
    pub(crate) ctx: Ctx,
    pub(crate) ehdr: Ehdr,
    pub(crate) phdrs: Vec<Phdr>,
    pub(crate) shdrs: Vec<Shdr>,
    pub(crate) section_names: Vec<Vec<u8>>,
    pub(crate) dynamic: Option<Dynamic>,
    pub(crate) dynstr: Option<StrTab>,
    pub(crate) verneed: Vec<VerneedFile>,
    pub(crate) dynsym: Option<DynSym>,
    /// dynstr offsets referenced by symbols and version records. `None` when they could not all
    /// be found, in which case every byte counts as referenced.
    pub(crate) fixed_refs: Option<FixedRefs>,
}

const PN_XNUM: u16 = 0xffff;

impl<'a> Elf<'a> {
    /// Parses `data`, checking every header, table and string it reads against its bounds.
    pub fn parse(data: &'a [u8]) -> Result<Elf<'a>> {
        let (ctx, mut ehdr) = Ehdr::parse(data)?;

        // Section headers first: extended numbering for the program headers lives in section 0.
        let mut shdrs = Vec::new();
        if ehdr.e_shoff != 0 {
            if ehdr.e_shentsize as u64 != ctx.shdr_size() {
                return Err(malformed(
                    "e_shentsize",
                    format!("{} (expected {})", ehdr.e_shentsize, ctx.shdr_size()),
                ));
            }
            let first = Shdr::parse(
                ctx,
                slice(data, ehdr.e_shoff, ctx.shdr_size(), "section header 0")?,
            );
            let count = if ehdr.e_shnum == 0 {
                first.sh_size
            } else {
                ehdr.e_shnum as u64
            };
            for b in table(
                data,
                ehdr.e_shoff,
                count,
                ctx.shdr_size(),
                "section header table",
            )? {
                shdrs.push(Shdr::parse(ctx, b));
            }
            if ehdr.e_shstrndx == SHN_XINDEX {
                ehdr.e_shstrndx = first.sh_link.try_into().unwrap_or(0);
            }
        }

        if ehdr.e_phnum == PN_XNUM {
            return Err(Error::Unsupported(
                "more than 65534 program headers are not supported".into(),
            ));
        }
        let mut phdrs = Vec::new();
        if ehdr.e_phnum > 0 {
            if ehdr.e_phentsize as u64 != ctx.phdr_size() {
                return Err(malformed(
                    "e_phentsize",
                    format!("{} (expected {})", ehdr.e_phentsize, ctx.phdr_size()),
                ));
            }
            for b in table(
                data,
                ehdr.e_phoff,
                ehdr.e_phnum as u64,
                ctx.phdr_size(),
                "program header table",
            )? {
                phdrs.push(Phdr::parse(ctx, b));
            }
        }
        for (i, p) in phdrs.iter().enumerate() {
            if p.p_type != PT_NULL && p.p_type != PT_GNU_STACK && p.p_filesz > 0 {
                slice(data, p.p_offset, p.p_filesz, "segment").map_err(|_| {
                    malformed("program header", format!("segment {i} (offset {:#x}, size {:#x}) lies beyond the end of the file", p.p_offset, p.p_filesz))
                })?;
            }
        }

        for (i, s) in shdrs.iter().enumerate() {
            let in_file = !s.has_file_data()
                || s.sh_offset
                    .checked_add(s.sh_size)
                    .is_some_and(|e| e <= data.len() as u64);
            if !in_file || s.sh_addr.checked_add(s.sh_size).is_none() {
                return Err(malformed(
                    "section header",
                    format!(
                        "section {i} (offset {:#x}, size {:#x}) lies beyond the end of the file",
                        s.sh_offset, s.sh_size
                    ),
                ));
            }
        }
        for (i, p) in phdrs.iter().enumerate() {
            if p.p_vaddr.checked_add(p.p_memsz).is_none()
                || p.p_vaddr.checked_add(p.p_filesz).is_none()
            {
                return Err(malformed(
                    "program header",
                    format!("segment {i} wraps around the address space"),
                ));
            }
        }
        let section_names = read_section_names(data, &ehdr, &shdrs);
        let mut elf = Elf {
            data,
            ctx,
            ehdr,
            phdrs,
            shdrs,
            section_names,
            dynamic: None,
            dynstr: None,
            verneed: Vec::new(),
            dynsym: None,
            fixed_refs: Some(FixedRefs::default()),
        };
        elf.dynamic = elf.read_dynamic()?;
        if elf.dynamic.is_some() {
            elf.dynstr = elf.read_dynstr()?;
            elf.verneed = elf.read_verneed()?;
            elf.dynsym = elf.read_dynsym();
            elf.fixed_refs = elf.read_fixed_refs();
        }
        Ok(elf)
    }

    /// The bytes parsed.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// Class and byte order.
    pub fn ctx(&self) -> Ctx {
        self.ctx
    }

    /// The file header.
    pub fn header(&self) -> &Ehdr {
        &self.ehdr
    }

    /// The program headers.
    pub fn program_headers(&self) -> &[Phdr] {
        &self.phdrs
    }

    /// The section headers.
    pub fn section_headers(&self) -> &[Shdr] {
        &self.shdrs
    }

    /// The dynamic table, if the file has one.
    pub fn dynamic(&self) -> Option<&Dynamic> {
        self.dynamic.as_ref()
    }

    /// The dynamic string table, if the dynamic table names one.
    pub fn dynstr(&self) -> Option<StrTab> {
        self.dynstr
    }

    /// The name of section `i` (empty when it has none or the name table is unreadable).
    pub fn section_name(&self, i: usize) -> &[u8] {
        self.section_names
            .get(i)
            .map(|v| v.as_slice())
            .unwrap_or(b"")
    }

    /// File offset of `len` bytes at virtual address `vaddr`, if a PT_LOAD maps them from the file.
    pub fn vaddr_to_offset(&self, vaddr: u64, len: u64) -> Option<u64> {
        let end = vaddr.checked_add(len)?;
        self.phdrs
            .iter()
            .filter(|p| p.p_type == PT_LOAD)
            .find(|p| p.p_vaddr <= vaddr && end <= p.p_vaddr.saturating_add(p.p_filesz))
            .map(|p| p.p_offset + (vaddr - p.p_vaddr))
    }

    /// Index of the first program header of type `ty`.
    pub fn find_phdr(&self, ty: u32) -> Option<usize> {
        self.phdrs.iter().position(|p| p.p_type == ty)
    }

    /// The section whose file range is exactly this one, if any.
    fn section_at(&self, offset: u64, ty: &[u32]) -> Option<usize> {
        self.shdrs
            .iter()
            .position(|s| s.sh_offset == offset && ty.contains(&s.sh_type) && s.sh_size > 0)
    }

    fn read_dynamic(&self) -> Result<Option<Dynamic>> {
        let (phdr, offset, vaddr, size) = match self.find_phdr(PT_DYNAMIC) {
            Some(pi) => {
                let p = self.phdrs[pi];
                (Some(pi), p.p_offset, p.p_vaddr, p.p_filesz)
            }
            // No PT_DYNAMIC: a `.dynamic` section with contents still describes the table.
            None => match self
                .shdrs
                .iter()
                .find(|s| s.sh_type == SHT_DYNAMIC && s.has_file_data())
            {
                Some(s) => (None, s.sh_offset, s.sh_addr, s.sh_size),
                None => return Ok(None),
            },
        };
        let esz = self.ctx.dyn_size();
        let bytes = slice(self.data, offset, size, "dynamic table")?;
        let capacity = size / esz;
        let mut entries = Vec::new();
        for b in bytes.chunks_exact(esz as usize) {
            let w = self.ctx.word() as usize;
            let d = Dyn {
                tag: self.ctx.word_at(b),
                val: self.ctx.word_at(&b[w..]),
            };
            if d.tag == DT_NULL {
                break;
            }
            entries.push(d);
        }
        if entries.len() as u64 == capacity && capacity > 0 {
            // No terminator within the segment: the loader would read past it.
            return Err(malformed("dynamic table", "no DT_NULL terminator"));
        }
        // Slots after the terminator are room for more entries only up to the first other
        // section inside the table's bytes (inputs may declare a PT_DYNAMIC over other data).
        let mut end = offset + capacity * esz;
        for sh in self.shdrs.iter().filter(|s| s.has_file_data()) {
            if sh.sh_offset > offset && sh.sh_offset < end && sh.sh_type != SHT_DYNAMIC {
                end = sh.sh_offset;
            }
        }
        let capacity = ((end - offset) / esz).max(entries.len() as u64 + 1);
        Ok(Some(Dynamic {
            phdr,
            section: self.section_at(offset, &[SHT_DYNAMIC]),
            offset,
            vaddr,
            capacity,
            entries,
        }))
    }

    /// The first value of a dynamic tag.
    pub fn dyn_val(&self, tag: u64) -> Option<u64> {
        self.dynamic
            .as_ref()?
            .entries
            .iter()
            .find(|d| d.tag == tag)
            .map(|d| d.val)
    }

    fn read_dynstr(&self) -> Result<Option<StrTab>> {
        let (Some(addr), Some(size)) = (self.dyn_val(DT_STRTAB), self.dyn_val(DT_STRSZ)) else {
            return Ok(None);
        };
        let offset = self.vaddr_to_offset(addr, size).ok_or_else(|| {
            malformed(
                "DT_STRTAB",
                format!("address {addr:#x} (+{size:#x}) is not mapped from the file"),
            )
        })?;
        Ok(Some(StrTab {
            offset,
            vaddr: addr,
            size,
            section: self.section_at(offset, &[SHT_STRTAB]),
        }))
    }

    /// The NUL-terminated string at `off` in the dynamic string table.
    pub fn dynstr_at(&self, off: u64) -> Result<&'a [u8]> {
        let t = self
            .dynstr
            .ok_or_else(|| malformed("dynamic table", "string entry but no DT_STRTAB/DT_STRSZ"))?;
        if off >= t.size {
            return Err(malformed(
                "dynamic string",
                format!("offset {off:#x} beyond DT_STRSZ {:#x}", t.size),
            ));
        }
        let bytes = slice(
            self.data,
            t.offset + off,
            t.size - off,
            "dynamic string table",
        )?;
        match memchr::memchr(0, bytes) {
            Some(n) => Ok(&bytes[..n]),
            None => Err(malformed(
                "dynamic string",
                format!("string at {off:#x} has no terminating NUL"),
            )),
        }
    }

    /// Raw bytes of the dynamic string table.
    pub fn dynstr_bytes(&self) -> &'a [u8] {
        match self.dynstr {
            Some(t) => &self.data[t.offset as usize..(t.offset + t.size) as usize],
            None => &[],
        }
    }

    fn read_verneed(&self) -> Result<Vec<VerneedFile>> {
        let (Some(addr), Some(num)) = (self.dyn_val(DT_VERNEED), self.dyn_val(DT_VERNEEDNUM))
        else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        let Some(mut off) = self.vaddr_to_offset(addr, 16) else {
            return Err(malformed(
                "DT_VERNEED",
                format!("address {addr:#x} is not mapped from the file"),
            ));
        };
        let limit = num.min(self.data.len() as u64 / 16);
        for _ in 0..limit {
            let b = slice(self.data, off, 16, "version needed record")?;
            out.push(VerneedFile {
                field: off + 4,
                name: self.ctx.u32(&b[4..]) as u64,
                versions: self.read_vernaux(off, b),
            });
            let next = self.ctx.u32(&b[12..]) as u64;
            if next == 0 {
                break;
            }
            if next < 16 {
                return Err(malformed(
                    "vn_next",
                    format!("records overlap (next at +{next})"),
                ));
            }
            off = off
                .checked_add(next)
                .ok_or_else(|| malformed("vn_next", "overflows"))?;
        }
        Ok(out)
    }

    /// The version names of one `.gnu.version_r` record at `rec` (bytes `b`).
    fn read_vernaux(&self, rec: u64, b: &[u8]) -> Option<Vec<u64>> {
        let cnt = self.ctx.u16(&b[2..]) as u64;
        let mut aux = rec.checked_add(self.ctx.u32(&b[8..]) as u64)?;
        let mut names = Vec::new();
        for _ in 0..cnt.min(self.data.len() as u64 / 16) {
            let a = slice(self.data, aux, 16, "vernaux").ok()?;
            names.push(self.ctx.u32(&a[8..]) as u64);
            let next = self.ctx.u32(&a[12..]) as u64;
            if next == 0 {
                break;
            }
            aux = aux.checked_add(next)?;
        }
        Some(names)
    }

    /// File ranges of the tables the dynamic section points at, other than the string table
    /// (their size from the tags, the symbol count or their headers; a start byte where the
    /// size is unknown).
    pub(crate) fn dynamic_table_ranges(&self) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        let Some(d) = &self.dynamic else {
            return out;
        };
        out.push((d.offset, d.offset + d.capacity * self.ctx.dyn_size()));
        let count = self.dynsym.map_or(0, |s| s.count);
        if let Some(s) = self.dynsym {
            out.push((s.offset, s.offset + s.count * s.entsize));
        }
        let sized = |addr: Option<u64>, size: u64| -> Option<(u64, u64)> {
            let off = self.vaddr_to_offset(addr?, size.max(1))?;
            Some((off, off + size.max(1)))
        };
        let word = self.ctx.word();
        let header = |tag: u64, len: u64| -> Option<(u64, &'a [u8])> {
            let off = self.vaddr_to_offset(self.dyn_val(tag)?, len)?;
            Some((off, slice(self.data, off, len, "hash table").ok()?))
        };
        if let Some((off, h)) = header(DT_HASH, 8) {
            let n = u64::from(self.ctx.u32(h)) + u64::from(self.ctx.u32(&h[4..]));
            out.push((off, off.saturating_add(8 + n.saturating_mul(4))));
        }
        if let Some((off, h)) = header(DT_GNU_HASH, 16) {
            let (nb, symoff, bloom) = (
                u64::from(self.ctx.u32(h)),
                u64::from(self.ctx.u32(&h[4..])),
                u64::from(self.ctx.u32(&h[8..])),
            );
            let len = 16u64
                .saturating_add(bloom.saturating_mul(word))
                .saturating_add(
                    nb.saturating_add(count.saturating_sub(symoff))
                        .saturating_mul(4),
                );
            out.push((off, off.saturating_add(len)));
        }
        let tag = |t| self.dyn_val(t);
        out.extend(sized(tag(DT_VERSYM), count * 2));
        out.extend(sized(tag(DT_RELA), tag(DT_RELASZ).unwrap_or(0)));
        out.extend(sized(tag(DT_REL), tag(DT_RELSZ).unwrap_or(0)));
        out.extend(sized(tag(DT_JMPREL), tag(DT_PLTRELSZ).unwrap_or(0)));
        out.extend(self.version_records(tag(DT_VERNEED), tag(DT_VERNEEDNUM), 16, 8, 12, 16));
        out.extend(self.version_records(tag(DT_VERDEF), tag(DT_VERDEFNUM), 20, 12, 16, 8));
        out
    }

    /// File ranges of every record of a version table (`.gnu.version_r` or `.gnu.version_d`)
    /// and of their auxiliary entries: records of `rec_len` bytes chained by the word at
    /// `next_at`, each with a count (u16 at 2), an auxiliary offset at `aux_at`, and auxiliary
    /// entries of `aux_len` bytes chained by their last word. Walks as far as it can read.
    fn version_records(
        &self,
        addr: Option<u64>,
        num: Option<u64>,
        rec_len: u64,
        aux_at: usize,
        next_at: usize,
        aux_len: u64,
    ) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        let (Some(addr), Some(num)) = (addr, num) else {
            return out;
        };
        let Some(mut rec) = self.vaddr_to_offset(addr, rec_len) else {
            return out;
        };
        let cap = self.data.len() as u64 / 8;
        for _ in 0..num.min(cap) {
            let Ok(b) = slice(self.data, rec, rec_len, "version record") else {
                break;
            };
            out.push((rec, rec + rec_len));
            let cnt = u64::from(self.ctx.u16(&b[2..]));
            let mut aux = rec.checked_add(u64::from(self.ctx.u32(&b[aux_at..])));
            for _ in 0..cnt.min(cap) {
                let Some(a) = aux else { break };
                let Ok(ab) = slice(self.data, a, aux_len, "version aux") else {
                    break;
                };
                out.push((a, a + aux_len));
                let next = u64::from(self.ctx.u32(&ab[aux_len as usize - 4..]));
                if next == 0 {
                    break;
                }
                aux = a.checked_add(next);
            }
            let next = u64::from(self.ctx.u32(&b[next_at..]));
            match rec.checked_add(next) {
                Some(n) if next != 0 => rec = n,
                _ => break,
            }
        }
        out
    }

    /// The dynamic symbol table, when its size can be found.
    fn read_dynsym(&self) -> Option<DynSym> {
        let vaddr = self.dyn_val(DT_SYMTAB)?;
        let entsize = if self.ctx.is64() { 24 } else { 16 };
        let count = self.dynsym_count()?;
        let offset = self.vaddr_to_offset(vaddr, count.checked_mul(entsize)?)?;
        Some(DynSym {
            offset,
            count,
            entsize,
        })
    }

    /// Every dynstr offset used by symbols and version records. Returns `None` if some could not be
    /// enumerated (then the planner treats the whole table as in use).
    fn read_fixed_refs(&self) -> Option<FixedRefs> {
        let mut refs = FixedRefs::default();
        // Symbol names.
        if self.dyn_val(DT_SYMTAB).is_some() {
            let s = self.dynsym?;
            for b in table(self.data, s.offset, s.count, s.entsize, "dynamic symbols").ok()? {
                refs.symbols.push(self.ctx.u32(b) as u64);
            }
        }
        // Version definitions (vda_name).
        if let (Some(addr), Some(num)) = (self.dyn_val(DT_VERDEF), self.dyn_val(DT_VERDEFNUM)) {
            let mut off = self.vaddr_to_offset(addr, 20)?;
            for _ in 0..num.min(self.data.len() as u64 / 20) {
                let b = slice(self.data, off, 20, "verdef").ok()?;
                let cnt = self.ctx.u16(&b[6..]) as u64;
                let mut aux = off.checked_add(self.ctx.u32(&b[12..]) as u64)?;
                for _ in 0..cnt.min(self.data.len() as u64 / 8) {
                    let a = slice(self.data, aux, 8, "verdaux").ok()?;
                    refs.versions.push(self.ctx.u32(a) as u64);
                    let next = self.ctx.u32(&a[4..]) as u64;
                    if next == 0 {
                        break;
                    }
                    aux = aux.checked_add(next)?;
                }
                let next = self.ctx.u32(&b[16..]) as u64;
                if next == 0 {
                    break;
                }
                off = off.checked_add(next)?;
            }
        }
        // Version needs: auxiliary names (vn_file is editable, tracked in `verneed`).
        for vf in &self.verneed {
            refs.versions.extend(vf.versions.as_ref()?);
        }
        Some(refs)
    }

    /// Number of dynamic symbols: from the `.dynsym` section, else DT_HASH, else DT_GNU_HASH.
    fn dynsym_count(&self) -> Option<u64> {
        let symaddr = self.dyn_val(DT_SYMTAB)?;
        if let Some(s) = self
            .shdrs
            .iter()
            .find(|s| s.sh_type == SHT_DYNSYM && s.sh_addr == symaddr)
        {
            let entsize = if self.ctx.is64() { 24 } else { 16 };
            return Some(s.sh_size / entsize);
        }
        if let Some(h) = self.dyn_val(DT_HASH) {
            let off = self.vaddr_to_offset(h, 8)?;
            let b = slice(self.data, off, 8, "hash").ok()?;
            return Some(self.ctx.u32(&b[4..]) as u64);
        }
        let gh = self.dyn_val(DT_GNU_HASH)?;
        let off = self.vaddr_to_offset(gh, 16)?;
        let b = slice(self.data, off, 16, "gnu hash").ok()?;
        let nbuckets = self.ctx.u32(b) as u64;
        let symoffset = self.ctx.u32(&b[4..]) as u64;
        let bloom = self.ctx.u32(&b[8..]) as u64;
        let buckets_off = off + 16 + bloom.checked_mul(self.ctx.word())?;
        let buckets = table(self.data, buckets_off, nbuckets, 4, "gnu hash buckets").ok()?;
        let max = buckets.map(|b| self.ctx.u32(b) as u64).max().unwrap_or(0);
        if max < symoffset {
            return Some(symoffset);
        }
        let chains = buckets_off + nbuckets * 4;
        let mut i = max;
        loop {
            let b = slice(self.data, chains + (i - symoffset) * 4, 4, "gnu hash chain").ok()?;
            if self.ctx.u32(b) & 1 == 1 {
                return Some(i + 1);
            }
            i += 1;
        }
    }

    /// Whether this is a static PIE (DF_1_PIE and no interpreter).
    pub fn is_static_pie(&self) -> bool {
        self.ehdr.e_type == ET_DYN
            && self.find_phdr(PT_INTERP).is_none()
            && self.dyn_val(DT_FLAGS_1).is_some_and(|f| f & DF_1_PIE != 0)
    }

    /// Whether the file relocates itself through `_DYNAMIC` before any loader runs: a static PIE,
    /// or a dynamic loader (`ld.so`: no interpreter, no needed libraries, an entry point). Its
    /// dynamic table must not move, and it must not get an rpath (glibc's bootstrap asserts).
    pub fn is_self_relocating(&self) -> bool {
        self.is_static_pie()
            || (self.ehdr.e_type == ET_DYN
                && self.find_phdr(PT_INTERP).is_none()
                && self.ehdr.e_entry != 0
                && self.dyn_val(DT_NEEDED).is_none())
    }

    /// The interpreter (PT_INTERP) string.
    pub fn interpreter(&self) -> Option<&'a [u8]> {
        let p = self.phdrs[self.find_phdr(PT_INTERP)?];
        let b = slice(self.data, p.p_offset, p.p_filesz, "interpreter").ok()?;
        Some(&b[..memchr::memchr(0, b).unwrap_or(b.len())])
    }

    /// Strings of every dynamic entry with this tag, in order.
    pub fn dyn_strings(&self, tag: u64) -> Result<Vec<&'a [u8]>> {
        let Some(d) = &self.dynamic else {
            return Ok(Vec::new());
        };
        d.entries
            .iter()
            .filter(|e| e.tag == tag)
            .map(|e| self.dynstr_at(e.val))
            .collect()
    }
}

fn read_section_names(data: &[u8], ehdr: &Ehdr, shdrs: &[Shdr]) -> Vec<Vec<u8>> {
    // SHN_UNDEF (0): the file has no section name table.
    let strtab = match ehdr.e_shstrndx {
        0 => None,
        i => shdrs.get(i as usize),
    };
    let Some(strtab) = strtab else {
        return vec![Vec::new(); shdrs.len()];
    };
    let names = slice(data, strtab.sh_offset, strtab.sh_size, "section names").unwrap_or(&[]);
    shdrs
        .iter()
        .map(|s| {
            let start = (s.sh_name as usize).min(names.len());
            let rest = &names[start..];
            rest[..memchr::memchr(0, rest).unwrap_or(rest.len())].to_vec()
        })
        .collect()
}
