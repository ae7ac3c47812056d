//! Bounds-checked, endian-aware reads and writes of the integers Mach-O is made of, and ULEB128.

use crate::error::{malformed, truncated, Result};

/// Bytes the integer reads below work on: a slice, or an image being assembled.
pub trait ReadAt {
    /// How many bytes there are.
    fn size(&self) -> u64;
    /// Copies the bytes at `off` into `dst`; false (nothing copied) when they are not all there.
    fn read_at(&self, off: u64, dst: &mut [u8]) -> bool;
}

/// Bytes the integer writes below work on.
pub trait WriteAt: ReadAt {
    /// Overwrites the bytes at `off`; false (nothing written) when they are not all there.
    fn write_at(&mut self, off: u64, src: &[u8]) -> bool;
}

fn range(len: usize, off: u64, n: usize) -> Option<std::ops::Range<usize>> {
    let start = usize::try_from(off).ok()?;
    let end = start.checked_add(n)?;
    (end <= len).then_some(start..end)
}

impl ReadAt for [u8] {
    fn size(&self) -> u64 {
        self.len() as u64
    }
    fn read_at(&self, off: u64, dst: &mut [u8]) -> bool {
        match range(self.len(), off, dst.len()) {
            Some(r) => {
                dst.copy_from_slice(&self[r]);
                true
            }
            None => false,
        }
    }
}

impl WriteAt for [u8] {
    fn write_at(&mut self, off: u64, src: &[u8]) -> bool {
        match range(self.len(), off, src.len()) {
            Some(r) => {
                self[r].copy_from_slice(src);
                true
            }
            None => false,
        }
    }
}

impl ReadAt for Vec<u8> {
    fn size(&self) -> u64 {
        self.as_slice().size()
    }
    fn read_at(&self, off: u64, dst: &mut [u8]) -> bool {
        self.as_slice().read_at(off, dst)
    }
}

impl WriteAt for Vec<u8> {
    fn write_at(&mut self, off: u64, src: &[u8]) -> bool {
        self.as_mut_slice().write_at(off, src)
    }
}

/// `N` bytes at `off` of `data`, or a `Truncated` error naming `what`.
fn array<const N: usize, D: ReadAt + ?Sized>(
    data: &D,
    off: u64,
    what: &'static str,
) -> Result<[u8; N]> {
    let mut b = [0u8; N];
    if data.read_at(off, &mut b) {
        Ok(b)
    } else {
        Err(truncated(what, off, N as u64, data.size() as usize))
    }
}

/// Byte order and word size of one thin Mach-O image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ctx {
    pub little: bool,
    pub is64: bool,
}

/// Returns `data[off..off + len]` or a `Truncated` error naming `what`.
pub fn slice<'a>(data: &'a [u8], off: u64, len: u64, what: &'static str) -> Result<&'a [u8]> {
    let end = off
        .checked_add(len)
        .ok_or_else(|| truncated(what, off, len, data.len()))?;
    if end > data.len() as u64 {
        return Err(truncated(what, off, len, data.len()));
    }
    Ok(&data[off as usize..end as usize])
}

impl Ctx {
    /// Big-endian and 64-bit.
    pub const BE64: Ctx = Ctx {
        little: false,
        is64: true,
    };
    /// Little-endian and 64-bit.
    pub const LE64: Ctx = Ctx {
        little: true,
        is64: true,
    };

    /// The byte order, for scroll.
    pub fn endian(&self) -> scroll::Endian {
        if self.little {
            scroll::LE
        } else {
            scroll::BE
        }
    }

    pub fn u16<D: ReadAt + ?Sized>(&self, data: &D, off: u64, what: &'static str) -> Result<u16> {
        let b = array::<2, D>(data, off, what)?;
        Ok(if self.little {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        })
    }
    pub fn u32<D: ReadAt + ?Sized>(&self, data: &D, off: u64, what: &'static str) -> Result<u32> {
        let b = array::<4, D>(data, off, what)?;
        Ok(if self.little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }
    pub fn u64<D: ReadAt + ?Sized>(&self, data: &D, off: u64, what: &'static str) -> Result<u64> {
        let b = array::<8, D>(data, off, what)?;
        Ok(if self.little {
            u64::from_le_bytes(b)
        } else {
            u64::from_be_bytes(b)
        })
    }
    /// A pointer-sized word (4 or 8 bytes).
    pub fn word<D: ReadAt + ?Sized>(&self, data: &D, off: u64, what: &'static str) -> Result<u64> {
        if self.is64 {
            self.u64(data, off, what)
        } else {
            self.u32(data, off, what).map(u64::from)
        }
    }
    pub fn word_size(&self) -> u64 {
        if self.is64 {
            8
        } else {
            4
        }
    }
    pub fn put_u32<D: WriteAt + ?Sized>(
        &self,
        data: &mut D,
        off: u64,
        v: u32,
        what: &'static str,
    ) -> Result<()> {
        let b = if self.little {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        };
        put(data, off, &b, what)
    }
    pub fn put_u64<D: WriteAt + ?Sized>(
        &self,
        data: &mut D,
        off: u64,
        v: u64,
        what: &'static str,
    ) -> Result<()> {
        let b = if self.little {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        };
        put(data, off, &b, what)
    }
    pub fn put_word<D: WriteAt + ?Sized>(
        &self,
        data: &mut D,
        off: u64,
        v: u64,
        what: &'static str,
    ) -> Result<()> {
        if self.is64 {
            self.put_u64(data, off, v, what)
        } else {
            let v = u32::try_from(v).map_err(|_| malformed(what, "value exceeds 32 bits"))?;
            self.put_u32(data, off, v, what)
        }
    }
}

/// Overwrites the bytes of `data` at `off` with `b`.
pub fn put<D: WriteAt + ?Sized>(
    data: &mut D,
    off: u64,
    b: &[u8],
    what: &'static str,
) -> Result<()> {
    if data.write_at(off, b) {
        Ok(())
    } else {
        Err(truncated(what, off, b.len() as u64, data.size() as usize))
    }
}

pub fn be32(data: &[u8], off: u64, what: &'static str) -> Result<u32> {
    Ctx::BE64.u32(data, off, what)
}

pub fn be64(data: &[u8], off: u64, what: &'static str) -> Result<u64> {
    Ctx::BE64.u64(data, off, what)
}

/// Reads a ULEB128 at `*pos`, advancing it.
pub fn uleb(data: &[u8], pos: &mut usize, what: &'static str) -> Result<u64> {
    let mut v: u64 = 0;
    let mut shift = 0u32;
    loop {
        let b = *data
            .get(*pos)
            .ok_or_else(|| truncated(what, *pos as u64, 1, data.len()))?;
        *pos += 1;
        if shift >= 64 || (shift == 63 && (b & 0x7f) > 1) {
            return Err(malformed(what, "ULEB128 value overflows 64 bits"));
        }
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
        shift += 7;
    }
}

/// Reads an SLEB128 at `*pos`, advancing it.
pub fn sleb(data: &[u8], pos: &mut usize, what: &'static str) -> Result<i64> {
    let mut v: i64 = 0;
    let mut shift = 0u32;
    loop {
        let b = *data
            .get(*pos)
            .ok_or_else(|| truncated(what, *pos as u64, 1, data.len()))?;
        *pos += 1;
        if shift >= 64 {
            return Err(malformed(what, "SLEB128 value overflows 64 bits"));
        }
        v |= i64::from(b & 0x7f) << shift;
        shift += 7;
        if b & 0x80 == 0 {
            if shift < 64 && b & 0x40 != 0 {
                v |= -1i64 << shift;
            }
            return Ok(v);
        }
    }
}

/// Appends `v` as ULEB128.
pub fn put_uleb(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

pub fn align_up(v: u64, a: u64) -> Option<u64> {
    if a <= 1 {
        return Some(v);
    }
    v.checked_add(a - 1).map(|x| x / a * a)
}

/// A NUL-terminated string starting at `off` within `data` (the terminator may be missing at the
/// very end, as in a load command padded without one).
pub fn cstr(data: &[u8], off: usize) -> &[u8] {
    let s = data.get(off..).unwrap_or(&[]);
    let end = s.iter().position(|&b| b == 0).unwrap_or(s.len());
    &s[..end]
}
