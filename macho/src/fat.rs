//! Universal ("fat") files: the big-endian `fat_header` with 32-bit (`FAT_MAGIC`) or 64-bit
//! (`FAT_MAGIC_64`) arch entries, each naming one thin image inside the file.

use crate::bytes::{be32, be64, slice};
use crate::consts::{FAT_MAGIC, FAT_MAGIC_64};
use crate::error::{malformed, Error, Result};

/// One architecture entry of a fat header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FatArch {
    pub cputype: u32,
    pub cpusubtype: u32,
    pub offset: u64,
    pub size: u64,
    /// Alignment as a power of two.
    pub align: u32,
}

/// A parsed fat header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fat {
    pub is64: bool,
    pub arches: Vec<FatArch>,
}

/// Whether `data` starts with a fat magic. (`0xcafebabe` is also a Java class file; those have
/// a large "count", which [`Fat::parse`] rejects.)
pub fn is_fat(data: &[u8]) -> bool {
    matches!(be32(data, 0, "magic"), Ok(FAT_MAGIC | FAT_MAGIC_64))
}

impl Fat {
    pub fn parse(data: &[u8]) -> Result<Fat> {
        let magic = be32(data, 0, "fat header")?;
        let is64 = match magic {
            FAT_MAGIC => false,
            FAT_MAGIC_64 => true,
            _ => return Err(Error::NotMachO),
        };
        let n = be32(data, 4, "fat header")?;
        let entry = if is64 { 32u64 } else { 20 };
        // Bounded by the file length before anything is allocated.
        slice(data, 8, u64::from(n) * entry, "fat arch table")?;
        if n == 0 {
            return Err(malformed("fat header", "no architectures"));
        }
        let mut arches = Vec::with_capacity(n as usize);
        for i in 0..u64::from(n) {
            let o = 8 + i * entry;
            let a = if is64 {
                FatArch {
                    cputype: be32(data, o, "fat arch")?,
                    cpusubtype: be32(data, o + 4, "fat arch")?,
                    offset: be64(data, o + 8, "fat arch")?,
                    size: be64(data, o + 16, "fat arch")?,
                    align: be32(data, o + 24, "fat arch")?,
                }
            } else {
                FatArch {
                    cputype: be32(data, o, "fat arch")?,
                    cpusubtype: be32(data, o + 4, "fat arch")?,
                    offset: u64::from(be32(data, o + 8, "fat arch")?),
                    size: u64::from(be32(data, o + 12, "fat arch")?),
                    align: be32(data, o + 16, "fat arch")?,
                }
            };
            let table_end = 8 + u64::from(n) * entry;
            if a.offset < table_end
                || a.offset
                    .checked_add(a.size)
                    .is_none_or(|e| e > data.len() as u64)
            {
                return Err(malformed(
                    "fat arch",
                    format!(
                        "architecture {i}: slice {:#x}+{:#x} lies outside the file ({:#x} bytes)",
                        a.offset,
                        a.size,
                        data.len()
                    ),
                ));
            }
            if a.align > 20 {
                return Err(malformed(
                    "fat arch",
                    format!("architecture {i}: alignment 2^{} is absurd", a.align),
                ));
            }
            arches.push(a);
        }
        let mut sorted: Vec<&FatArch> = arches.iter().collect();
        sorted.sort_by_key(|a| a.offset);
        for w in sorted.windows(2) {
            if w[0].offset + w[0].size > w[1].offset {
                return Err(malformed("fat arch", "slices overlap"));
            }
        }
        Ok(Fat { is64, arches })
    }

    /// Size of the header and arch table.
    pub fn header_len(&self) -> u64 {
        8 + self.arches.len() as u64 * if self.is64 { 32 } else { 20 }
    }

    /// Builds a fat file from slices (in this order), each aligned to its arch's `align`.
    /// `arches[i].offset`/`size` are recomputed.
    pub fn build(&self, slices: &[&[u8]]) -> Result<Vec<u8>> {
        let mut arches = self.arches.clone();
        let mut pos = self.header_len();
        for (a, s) in arches.iter_mut().zip(slices) {
            let al = 1u64 << a.align;
            pos = pos.div_ceil(al) * al;
            a.offset = pos;
            a.size = s.len() as u64;
            pos += a.size;
        }
        if !self.is64 && pos > u64::from(u32::MAX) {
            return Err(Error::Unsupported(
                "the fat file would exceed 4 GiB, which a 32-bit fat header cannot describe".into(),
            ));
        }
        let mut out = vec![0u8; pos as usize];
        out[0..4].copy_from_slice(&if self.is64 { FAT_MAGIC_64 } else { FAT_MAGIC }.to_be_bytes());
        out[4..8].copy_from_slice(&(arches.len() as u32).to_be_bytes());
        let mut o = 8usize;
        for a in &arches {
            out[o..o + 4].copy_from_slice(&a.cputype.to_be_bytes());
            out[o + 4..o + 8].copy_from_slice(&a.cpusubtype.to_be_bytes());
            if self.is64 {
                out[o + 8..o + 16].copy_from_slice(&a.offset.to_be_bytes());
                out[o + 16..o + 24].copy_from_slice(&a.size.to_be_bytes());
                out[o + 24..o + 28].copy_from_slice(&a.align.to_be_bytes());
                o += 32;
            } else {
                out[o + 8..o + 12].copy_from_slice(&(a.offset as u32).to_be_bytes());
                out[o + 12..o + 16].copy_from_slice(&(a.size as u32).to_be_bytes());
                out[o + 16..o + 20].copy_from_slice(&a.align.to_be_bytes());
                o += 20;
            }
        }
        for (a, s) in arches.iter().zip(slices) {
            out[a.offset as usize..(a.offset + a.size) as usize].copy_from_slice(s);
        }
        Ok(out)
    }
}
