//! Class (32/64-bit) and byte order: how to read and write one field.

use crate::error::{Error, Result};

/// 32- or 64-bit (`EI_CLASS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// ELFCLASS32.
    Elf32,
    /// ELFCLASS64.
    Elf64,
}

/// Byte order (`EI_DATA`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endian {
    /// ELFDATA2LSB.
    Little,
    /// ELFDATA2MSB.
    Big,
}

/// The encoding of one file: every read and write of a header field goes through it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ctx {
    /// 32- or 64-bit.
    pub class: Class,
    /// Byte order.
    pub endian: Endian,
}

/// Bounds-checked slice `data[off..off+len]`.
pub(crate) fn slice<'a>(
    data: &'a [u8],
    off: u64,
    len: u64,
    what: &'static str,
) -> Result<&'a [u8]> {
    let end = off.checked_add(len);
    match end {
        Some(end) if end <= data.len() as u64 => Ok(&data[off as usize..end as usize]),
        _ => Err(Error::Truncated {
            what,
            offset: off,
            len,
            file_len: data.len() as u64,
        }),
    }
}

impl Ctx {
    /// Whether the file is 64-bit.
    pub fn is64(self) -> bool {
        self.class == Class::Elf64
    }

    /// Size of an address-sized word (`Elf_Addr`, `Elf_Off`, `Elf_Xword` in 64-bit files).
    pub fn word(self) -> u64 {
        if self.is64() {
            8
        } else {
            4
        }
    }

    /// All ones in an address-sized field.
    pub(crate) fn word_mask(self) -> u64 {
        if self.is64() {
            u64::MAX
        } else {
            u32::MAX as u64
        }
    }

    /// Size of the file header.
    pub fn ehdr_size(self) -> u64 {
        if self.is64() {
            64
        } else {
            52
        }
    }
    /// Size of a program header.
    pub fn phdr_size(self) -> u64 {
        if self.is64() {
            56
        } else {
            32
        }
    }
    /// Size of a section header.
    pub fn shdr_size(self) -> u64 {
        if self.is64() {
            64
        } else {
            40
        }
    }
    /// Size of a dynamic table entry.
    pub fn dyn_size(self) -> u64 {
        2 * self.word()
    }

    pub(crate) fn u16(self, b: &[u8]) -> u16 {
        let a = [b[0], b[1]];
        match self.endian {
            Endian::Little => u16::from_le_bytes(a),
            Endian::Big => u16::from_be_bytes(a),
        }
    }
    pub(crate) fn u32(self, b: &[u8]) -> u32 {
        let a = [b[0], b[1], b[2], b[3]];
        match self.endian {
            Endian::Little => u32::from_le_bytes(a),
            Endian::Big => u32::from_be_bytes(a),
        }
    }
    pub(crate) fn u64(self, b: &[u8]) -> u64 {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[..8]);
        match self.endian {
            Endian::Little => u64::from_le_bytes(a),
            Endian::Big => u64::from_be_bytes(a),
        }
    }
    /// An address-sized field.
    pub(crate) fn word_at(self, b: &[u8]) -> u64 {
        if self.is64() {
            self.u64(b)
        } else {
            self.u32(b) as u64
        }
    }

    pub(crate) fn put_u16(self, out: &mut Vec<u8>, v: u16) {
        out.extend_from_slice(&match self.endian {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        });
    }
    pub(crate) fn put_u32(self, out: &mut Vec<u8>, v: u32) {
        out.extend_from_slice(&match self.endian {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        });
    }
    pub(crate) fn put_u64(self, out: &mut Vec<u8>, v: u64) {
        out.extend_from_slice(&match self.endian {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        });
    }
    /// Writes an address-sized field; the caller has checked that 32-bit values fit.
    pub(crate) fn put_word(self, out: &mut Vec<u8>, v: u64) {
        if self.is64() {
            self.put_u64(out, v)
        } else {
            self.put_u32(out, v as u32)
        }
    }
}
