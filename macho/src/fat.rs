//! Universal ("fat") files: the big-endian `fat_header` with 32-bit (`FAT_MAGIC`) or 64-bit
//! (`FAT_MAGIC_64`) arch entries, each naming one thin image inside the file.

use scroll::{Pread, Pwrite, SizeWith, BE};

use crate::bytes::{be32, slice};
use crate::consts::{FAT_MAGIC, FAT_MAGIC_64};
use crate::error::{malformed, Error, Result};

/// The largest slice alignment (log2) a fat header may ask for.
const MAX_ALIGN: u32 = 20;

/// One architecture entry of a fat header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FatArch {
    /// CPU type of the slice.
    pub cputype: u32,
    /// CPU subtype.
    pub cpusubtype: u32,
    /// File offset of the slice.
    pub offset: u64,
    /// Its size.
    pub size: u64,
    /// Alignment of its offset, as a power of two.
    pub align: u32,
}

#[derive(Pread, Pwrite, SizeWith)]
struct FatArch32 {
    cputype: u32,
    cpusubtype: u32,
    offset: u32,
    size: u32,
    align: u32,
}

#[derive(Pread, Pwrite, SizeWith)]
struct FatArch64 {
    cputype: u32,
    cpusubtype: u32,
    offset: u64,
    size: u64,
    align: u32,
    reserved: u32,
}

/// A fat header: its entry size and the architectures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fat {
    is64: bool,
    arches: Vec<FatArch>,
}

/// Whether `data` starts with a fat magic. (`0xcafebabe` is also a Java class file; those have
/// a large "count", which [`Fat::parse`] rejects.)
pub fn is_fat(data: &[u8]) -> bool {
    matches!(be32(data, 0, "magic"), Ok(FAT_MAGIC | FAT_MAGIC_64))
}

fn entry_size(is64: bool) -> u64 {
    if is64 {
        32
    } else {
        20
    }
}

impl Fat {
    /// A fat header for these architectures (`is64`: 64-bit entries, `FAT_MAGIC_64`). Offsets
    /// and sizes are recomputed by [`Fat::build`].
    pub fn new(is64: bool, arches: Vec<FatArch>) -> Fat {
        Fat { is64, arches }
    }

    /// Reads the fat header of `data`, checking that every slice lies inside the file, after
    /// the header, and apart from the others.
    pub fn parse(data: &[u8]) -> Result<Fat> {
        let magic = be32(data, 0, "fat header")?;
        let is64 = match magic {
            FAT_MAGIC => false,
            FAT_MAGIC_64 => true,
            _ => return Err(Error::NotMachO),
        };
        let n = be32(data, 4, "fat header")?;
        let entry = entry_size(is64);
        // Bounded by the file length before anything is allocated.
        let table = slice(data, 8, u64::from(n) * entry, "fat arch table")?;
        if n == 0 {
            return Err(malformed("fat header", "no architectures"));
        }
        let table_end = 8 + u64::from(n) * entry;
        let mut arches = Vec::with_capacity(n as usize);
        for i in 0..n as usize {
            let at = i * entry as usize;
            let bad = |e: scroll::Error| malformed("fat arch", e.to_string());
            let a = if is64 {
                let a: FatArch64 = table.pread_with(at, BE).map_err(bad)?;
                FatArch {
                    cputype: a.cputype,
                    cpusubtype: a.cpusubtype,
                    offset: a.offset,
                    size: a.size,
                    align: a.align,
                }
            } else {
                let a: FatArch32 = table.pread_with(at, BE).map_err(bad)?;
                FatArch {
                    cputype: a.cputype,
                    cpusubtype: a.cpusubtype,
                    offset: a.offset.into(),
                    size: a.size.into(),
                    align: a.align,
                }
            };
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
            if a.align > MAX_ALIGN {
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

    /// Whether the header has 64-bit entries (`FAT_MAGIC_64`).
    pub fn is64(&self) -> bool {
        self.is64
    }

    /// The architectures, in header order.
    pub fn arches(&self) -> &[FatArch] {
        &self.arches
    }

    /// The bytes of slice `a` in `data` (empty when they are not there; a parsed header's
    /// slices always are).
    pub fn slice<'d>(&self, data: &'d [u8], a: &FatArch) -> &'d [u8] {
        let range = usize::try_from(a.offset)
            .ok()
            .zip(usize::try_from(a.offset.saturating_add(a.size)).ok());
        range.and_then(|(s, e)| data.get(s..e)).unwrap_or_default()
    }

    /// Size of the header and arch table.
    pub fn header_len(&self) -> u64 {
        8 + self.arches.len() as u64 * entry_size(self.is64)
    }

    /// Builds a fat file from slices (one per architecture, in this order), each aligned to
    /// its architecture's `align`; offsets and sizes are recomputed.
    pub fn build(&self, slices: &[&[u8]]) -> Result<Vec<u8>> {
        if slices.len() != self.arches.len() {
            return Err(Error::Unsupported(format!(
                "{} slices for {} architectures",
                slices.len(),
                self.arches.len()
            )));
        }
        let too_large = || {
            Error::Unsupported(
                "the fat file would exceed 4 GiB, which a 32-bit fat header cannot describe".into(),
            )
        };
        let mut arches = self.arches.clone();
        let mut pos = self.header_len();
        for (a, s) in arches.iter_mut().zip(slices) {
            if a.align > MAX_ALIGN {
                return Err(Error::Unsupported(format!(
                    "slice alignment 2^{} exceeds 2^{MAX_ALIGN}",
                    a.align
                )));
            }
            let overflow = || Error::Unsupported("the fat file would exceed 2^64 bytes".into());
            a.offset = pos
                .checked_next_multiple_of(1 << a.align)
                .ok_or_else(overflow)?;
            a.size = s.len() as u64;
            pos = a.offset.checked_add(a.size).ok_or_else(overflow)?;
        }
        if !self.is64 && pos > u64::from(u32::MAX) {
            return Err(too_large());
        }
        let len = usize::try_from(pos).map_err(|_| too_large())?;
        let mut out = vec![0u8; len];
        let magic = if self.is64 { FAT_MAGIC_64 } else { FAT_MAGIC };
        let fail = |e: scroll::Error| Error::Internal(format!("writing the fat header: {e}"));
        out.pwrite_with(magic, 0, BE).map_err(fail)?;
        out.pwrite_with(arches.len() as u32, 4, BE).map_err(fail)?;
        let entry = entry_size(self.is64) as usize;
        for (i, a) in arches.iter().enumerate() {
            let at = 8 + i * entry;
            if self.is64 {
                let e = FatArch64 {
                    cputype: a.cputype,
                    cpusubtype: a.cpusubtype,
                    offset: a.offset,
                    size: a.size,
                    align: a.align,
                    reserved: 0,
                };
                out.pwrite_with(e, at, BE).map_err(fail)?;
            } else {
                let e = FatArch32 {
                    cputype: a.cputype,
                    cpusubtype: a.cpusubtype,
                    offset: a.offset as u32,
                    size: a.size as u32,
                    align: a.align,
                };
                out.pwrite_with(e, at, BE).map_err(fail)?;
            }
        }
        for (a, s) in arches.iter().zip(slices) {
            out[a.offset as usize..(a.offset + a.size) as usize].copy_from_slice(s);
        }
        Ok(out)
    }
}
