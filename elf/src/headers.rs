//! The three fixed-size header records (file, program, section): decode and encode.

use crate::ctx::{slice, Class, Ctx, Endian};
use crate::error::{malformed, Error, Result};

/// `e_shstrndx` value meaning "the index is in section 0's `sh_link`".
pub(crate) const SHN_XINDEX: u16 = 0xffff;

/// The ELF file header (the fields this crate reads; the rest are kept verbatim when it is
/// written back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ehdr {
    /// `e_ident`: magic, class, byte order, version, OS ABI.
    pub ident: [u8; 16],
    /// Object type (ET_EXEC, ET_DYN, …).
    pub e_type: u16,
    /// Machine (EM_X86_64, …).
    pub e_machine: u16,
    /// Entry point address.
    pub e_entry: u64,
    /// File offset of the program header table.
    pub e_phoff: u64,
    /// File offset of the section header table (0: none).
    pub e_shoff: u64,
    /// Size of a program header.
    pub e_phentsize: u16,
    /// Number of program headers.
    pub e_phnum: u16,
    /// Size of a section header.
    pub e_shentsize: u16,
    /// Number of section headers (0 with extended numbering).
    pub e_shnum: u16,
    /// Index of the section name table.
    pub e_shstrndx: u16,
}

impl Ehdr {
    /// Reads the header and the encoding it declares.
    pub(crate) fn parse(data: &[u8]) -> Result<(Ctx, Ehdr)> {
        if data.len() < 16 || &data[..4] != b"\x7fELF" {
            return Err(Error::NotElf);
        }
        let class = match data[4] {
            1 => Class::Elf32,
            2 => Class::Elf64,
            c => return Err(malformed("e_ident[EI_CLASS]", format!("unknown class {c}"))),
        };
        let endian = match data[5] {
            1 => Endian::Little,
            2 => Endian::Big,
            e => {
                return Err(malformed(
                    "e_ident[EI_DATA]",
                    format!("unknown byte order {e}"),
                ))
            }
        };
        let ctx = Ctx { class, endian };
        let b = slice(data, 0, ctx.ehdr_size(), "ELF header")?;
        let mut ident = [0u8; 16];
        ident.copy_from_slice(&b[..16]);
        let (w, o) = (ctx.word() as usize, 24usize);
        let ehdr = Ehdr {
            ident,
            e_type: ctx.u16(&b[16..]),
            e_machine: ctx.u16(&b[18..]),
            e_entry: ctx.word_at(&b[o..]),
            e_phoff: ctx.word_at(&b[o + w..]),
            e_shoff: ctx.word_at(&b[o + 2 * w..]),
            e_phentsize: ctx.u16(&b[o + 3 * w + 6..]),
            e_phnum: ctx.u16(&b[o + 3 * w + 8..]),
            e_shentsize: ctx.u16(&b[o + 3 * w + 10..]),
            e_shnum: ctx.u16(&b[o + 3 * w + 12..]),
            e_shstrndx: ctx.u16(&b[o + 3 * w + 14..]),
        };
        Ok((ctx, ehdr))
    }

    /// Encodes the header over a copy of the original bytes (so unchanged fields stay verbatim).
    pub(crate) fn encode(&self, ctx: Ctx, original: &[u8]) -> Vec<u8> {
        let mut out = original[..ctx.ehdr_size() as usize].to_vec();
        out[..16].copy_from_slice(&self.ident);
        let w = ctx.word() as usize;
        let mut put = |at: usize, bytes: Vec<u8>| out[at..at + bytes.len()].copy_from_slice(&bytes);
        let enc_word = |v: u64| {
            let mut b = Vec::new();
            ctx.put_word(&mut b, v);
            b
        };
        let enc16 = |v: u16| {
            let mut b = Vec::new();
            ctx.put_u16(&mut b, v);
            b
        };
        put(16, enc16(self.e_type));
        put(24 + w, enc_word(self.e_phoff));
        put(24 + 2 * w, enc_word(self.e_shoff));
        put(24 + 3 * w + 8, enc16(self.e_phnum));
        put(24 + 3 * w + 12, enc16(self.e_shnum));
        // An escaped index (SHN_XINDEX, the real one in section 0) stays escaped.
        if ctx.u16(&original[24 + 3 * w + 14..]) != SHN_XINDEX {
            put(24 + 3 * w + 14, enc16(self.e_shstrndx));
        }
        out
    }
}

/// A program header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Phdr {
    /// Segment type (PT_LOAD, …).
    pub p_type: u32,
    /// Permissions (PF_R, PF_W, PF_X).
    pub p_flags: u32,
    /// File offset.
    pub p_offset: u64,
    /// Virtual address.
    pub p_vaddr: u64,
    /// Physical address (usually equal to `p_vaddr`).
    pub p_paddr: u64,
    /// Bytes in the file.
    pub p_filesz: u64,
    /// Bytes in memory.
    pub p_memsz: u64,
    /// Alignment.
    pub p_align: u64,
}

impl Phdr {
    /// An unused entry (PT_NULL, all zero).
    pub fn null() -> Phdr {
        Phdr {
            p_type: crate::consts::PT_NULL,
            p_flags: 0,
            p_offset: 0,
            p_vaddr: 0,
            p_paddr: 0,
            p_filesz: 0,
            p_memsz: 0,
            p_align: 0,
        }
    }

    pub(crate) fn parse(ctx: Ctx, b: &[u8]) -> Phdr {
        if ctx.is64() {
            Phdr {
                p_type: ctx.u32(&b[0..]),
                p_flags: ctx.u32(&b[4..]),
                p_offset: ctx.u64(&b[8..]),
                p_vaddr: ctx.u64(&b[16..]),
                p_paddr: ctx.u64(&b[24..]),
                p_filesz: ctx.u64(&b[32..]),
                p_memsz: ctx.u64(&b[40..]),
                p_align: ctx.u64(&b[48..]),
            }
        } else {
            Phdr {
                p_type: ctx.u32(&b[0..]),
                p_offset: ctx.u32(&b[4..]) as u64,
                p_vaddr: ctx.u32(&b[8..]) as u64,
                p_paddr: ctx.u32(&b[12..]) as u64,
                p_filesz: ctx.u32(&b[16..]) as u64,
                p_memsz: ctx.u32(&b[20..]) as u64,
                p_flags: ctx.u32(&b[24..]),
                p_align: ctx.u32(&b[28..]) as u64,
            }
        }
    }

    pub(crate) fn encode(&self, ctx: Ctx, out: &mut Vec<u8>) {
        if ctx.is64() {
            ctx.put_u32(out, self.p_type);
            ctx.put_u32(out, self.p_flags);
            for v in [
                self.p_offset,
                self.p_vaddr,
                self.p_paddr,
                self.p_filesz,
                self.p_memsz,
                self.p_align,
            ] {
                ctx.put_u64(out, v);
            }
        } else {
            ctx.put_u32(out, self.p_type);
            for v in [
                self.p_offset,
                self.p_vaddr,
                self.p_paddr,
                self.p_filesz,
                self.p_memsz,
            ] {
                ctx.put_u32(out, v as u32);
            }
            ctx.put_u32(out, self.p_flags);
            ctx.put_u32(out, self.p_align as u32);
        }
    }

    /// End of the segment's bytes in the file.
    pub fn file_end(&self) -> u64 {
        self.p_offset.saturating_add(self.p_filesz)
    }
    /// End of the segment in memory.
    pub fn mem_end(&self) -> u64 {
        self.p_vaddr.saturating_add(self.p_memsz)
    }
}

/// A section header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shdr {
    /// Name, as an offset into the section name table.
    pub sh_name: u32,
    /// Section type (SHT_*).
    pub sh_type: u32,
    /// Flags (SHF_*).
    pub sh_flags: u64,
    /// Address when loaded (0 if not).
    pub sh_addr: u64,
    /// File offset.
    pub sh_offset: u64,
    /// Size in bytes.
    pub sh_size: u64,
    /// Index of a related section (its string table, symbol table, …).
    pub sh_link: u32,
    /// Extra information, by type.
    pub sh_info: u32,
    /// Alignment.
    pub sh_addralign: u64,
    /// Size of an entry, for tables.
    pub sh_entsize: u64,
}

impl Shdr {
    /// An empty entry (SHT_NULL, all zero).
    pub fn null() -> Shdr {
        Shdr {
            sh_name: 0,
            sh_type: crate::consts::SHT_NULL,
            sh_flags: 0,
            sh_addr: 0,
            sh_offset: 0,
            sh_size: 0,
            sh_link: 0,
            sh_info: 0,
            sh_addralign: 0,
            sh_entsize: 0,
        }
    }

    pub(crate) fn parse(ctx: Ctx, b: &[u8]) -> Shdr {
        if ctx.is64() {
            Shdr {
                sh_name: ctx.u32(&b[0..]),
                sh_type: ctx.u32(&b[4..]),
                sh_flags: ctx.u64(&b[8..]),
                sh_addr: ctx.u64(&b[16..]),
                sh_offset: ctx.u64(&b[24..]),
                sh_size: ctx.u64(&b[32..]),
                sh_link: ctx.u32(&b[40..]),
                sh_info: ctx.u32(&b[44..]),
                sh_addralign: ctx.u64(&b[48..]),
                sh_entsize: ctx.u64(&b[56..]),
            }
        } else {
            Shdr {
                sh_name: ctx.u32(&b[0..]),
                sh_type: ctx.u32(&b[4..]),
                sh_flags: ctx.u32(&b[8..]) as u64,
                sh_addr: ctx.u32(&b[12..]) as u64,
                sh_offset: ctx.u32(&b[16..]) as u64,
                sh_size: ctx.u32(&b[20..]) as u64,
                sh_link: ctx.u32(&b[24..]),
                sh_info: ctx.u32(&b[28..]),
                sh_addralign: ctx.u32(&b[32..]) as u64,
                sh_entsize: ctx.u32(&b[36..]) as u64,
            }
        }
    }

    pub(crate) fn encode(&self, ctx: Ctx, out: &mut Vec<u8>) {
        ctx.put_u32(out, self.sh_name);
        ctx.put_u32(out, self.sh_type);
        ctx.put_word(out, self.sh_flags);
        ctx.put_word(out, self.sh_addr);
        ctx.put_word(out, self.sh_offset);
        ctx.put_word(out, self.sh_size);
        ctx.put_u32(out, self.sh_link);
        ctx.put_u32(out, self.sh_info);
        ctx.put_word(out, self.sh_addralign);
        ctx.put_word(out, self.sh_entsize);
    }

    /// Whether the section occupies bytes in the file.
    pub fn has_file_data(&self) -> bool {
        self.sh_type != crate::consts::SHT_NOBITS
            && self.sh_type != crate::consts::SHT_NULL
            && self.sh_size > 0
    }
}

/// Reads `count` records of `entsize` bytes starting at `off`.
pub(crate) fn table<'a>(
    data: &'a [u8],
    off: u64,
    count: u64,
    entsize: u64,
    what: &'static str,
) -> Result<impl Iterator<Item = &'a [u8]>> {
    let total = count
        .checked_mul(entsize)
        .ok_or_else(|| malformed(what, "size overflows"))?;
    let bytes = slice(data, off, total, what)?;
    Ok(bytes
        .chunks_exact(entsize.max(1) as usize)
        .take(count as usize))
}
