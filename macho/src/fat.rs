//! Universal ("fat") files: the big-endian `fat_header` with 32-bit (`FAT_MAGIC`) or 64-bit
//! (`FAT_MAGIC_64`) arch entries, each naming one thin image inside the file.

use scroll::ctx::TryIntoCtx;
use scroll::{Endian, Pread, Pwrite, SizeWith, BE};

use crate::bytes::{be32, slice};
use crate::codec::{convert, narrow, Word};
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

/// `fat_arch` (`W` = u32) and `fat_arch_64` (u64, followed by a reserved word).
#[derive(Clone, Copy, Pread, Pwrite, SizeWith)]
struct RawFatArch<W> {
    cputype: u32,
    cpusubtype: u32,
    offset: W,
    size: W,
    align: u32,
}

impl<W: Word> RawFatArch<W>
where
    for<'r> &'r W: TryIntoCtx<Endian, Error = scroll::Error>,
{
    fn read(table: &[u8], at: usize) -> Result<FatArch> {
        let a: RawFatArch<W> = table
            .pread_with(at, BE)
            .map_err(|e: scroll::Error| malformed("fat arch", e.to_string()))?;
        Ok(convert!(a => FatArch { cputype, cpusubtype, align;
            offset: a.offset.into(),
            size: a.size.into(),
        }))
    }

    fn write(a: &FatArch, out: &mut [u8], at: usize) -> Result<()> {
        let raw = convert!(a => RawFatArch::<W> { cputype, cpusubtype, align;
            offset: narrow(a.offset, "a slice offset")?,
            size: narrow(a.size, "a slice size")?,
        });
        // By reference: see `codec::Word`.
        out.pwrite_with(&raw, at, BE)
            .map(|_| ())
            .map_err(|e| Error::Internal(format!("writing the fat header: {e}")))
    }
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
            let a = if is64 {
                RawFatArch::<u64>::read(table, at)?
            } else {
                RawFatArch::<u32>::read(table, at)?
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
        let sizes: Vec<u64> = slices.iter().map(|s| s.len() as u64).collect();
        let (header, arches) = self.layout(&sizes)?;
        let len = arches
            .last()
            .map_or(header.len() as u64, |a| a.offset + a.size);
        let len = usize::try_from(len)
            .map_err(|_| Error::Unsupported("the fat file does not fit in memory".into()))?;
        let mut out = vec![0u8; len];
        out[..header.len()].copy_from_slice(&header);
        for (a, s) in arches.iter().zip(slices) {
            out[a.offset as usize..(a.offset + a.size) as usize].copy_from_slice(s);
        }
        Ok(out)
    }

    /// Where slices of these sizes (one per architecture, in this order) go in a new fat file,
    /// each aligned to its architecture's `align`, and the file's header.
    pub fn layout(&self, sizes: &[u64]) -> Result<(Vec<u8>, Vec<FatArch>)> {
        if sizes.len() != self.arches.len() {
            return Err(Error::Unsupported(format!(
                "{} slices for {} architectures",
                sizes.len(),
                self.arches.len()
            )));
        }
        let mut arches = self.arches.clone();
        let mut pos = self.header_len();
        for (a, &size) in arches.iter_mut().zip(sizes) {
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
            a.size = size;
            pos = a.offset.checked_add(a.size).ok_or_else(overflow)?;
        }
        if !self.is64 && pos > u64::from(u32::MAX) {
            return Err(Error::Unsupported(
                "the fat file would exceed 4 GiB, which a 32-bit fat header cannot describe".into(),
            ));
        }
        let mut header = vec![0u8; self.header_len() as usize];
        let magic = if self.is64 { FAT_MAGIC_64 } else { FAT_MAGIC };
        let fail = |e: scroll::Error| Error::Internal(format!("writing the fat header: {e}"));
        header.pwrite_with(magic, 0, BE).map_err(fail)?;
        header
            .pwrite_with(arches.len() as u32, 4, BE)
            .map_err(fail)?;
        let entry = entry_size(self.is64) as usize;
        for (i, a) in arches.iter().enumerate() {
            let at = 8 + i * entry;
            if self.is64 {
                RawFatArch::<u64>::write(a, &mut header, at)?;
            } else {
                RawFatArch::<u32>::write(a, &mut header, at)?;
            }
        }
        Ok((header, arches))
    }
}
