//! `__TEXT,__unwind_info` (compact unwind, version 1): the image offsets it records —
//! personality pointers, first-level index function offsets, LSDA entries and regular
//! second-level entries — move when the image shifts. Compressed second-level entries are
//! relative to their page's function offset and stay.

use crate::bytes::Ctx;
use crate::consts::{UNWIND_SECOND_LEVEL_REGULAR, UNWIND_SECTION_VERSION};
use crate::error::{malformed, Result};
use crate::image::Image;
use crate::moves::Shift;

const LE: Ctx = Ctx {
    little: true,
    is64: false,
};

fn get(out: &Image, base: u64, size: u64, at: u64) -> Result<u32> {
    if at + 4 > size {
        return Err(malformed(
            "__unwind_info",
            format!("offset {at:#x} outside the section"),
        ));
    }
    LE.u32(out, base + at, "__unwind_info")
}

fn bump(out: &mut Image, base: u64, size: u64, at: u64, s: Shift) -> Result<()> {
    let v = get(out, base, size, at)?;
    let n = u32::try_from(s.image(u64::from(v)))
        .map_err(|_| malformed("__unwind_info", "shifted offset exceeds 32 bits"))?;
    LE.put_u32(out, base + at, n, "__unwind_info")
}

/// Shifts the unwind info section at file offset `base` (in `out`) of `size` bytes.
pub fn shift(out: &mut Image, base: u64, size: u64, s: Shift) -> Result<()> {
    let g = |out: &Image, at| get(out, base, size, at).map(u64::from);
    if g(out, 0)? != u64::from(UNWIND_SECTION_VERSION) {
        return Err(malformed("__unwind_info", "unknown version"));
    }
    let pers_off = g(out, 12)?;
    let pers_n = g(out, 16)?;
    let idx_off = g(out, 20)?;
    let idx_n = g(out, 24)?;
    if pers_n > size / 4 || idx_n > size / 12 {
        return Err(malformed("__unwind_info", "counts exceed the section"));
    }
    for k in 0..pers_n {
        bump(out, base, size, pers_off + 4 * k, s)?;
    }
    if idx_n == 0 {
        return Ok(());
    }
    let lsda_start = g(out, idx_off + 8)?;
    let lsda_end = g(out, idx_off + 12 * (idx_n - 1) + 8)?;
    if lsda_end < lsda_start || lsda_end > size {
        return Err(malformed("__unwind_info", "bad LSDA index range"));
    }
    for k in 0..(lsda_end - lsda_start) / 8 {
        bump(out, base, size, lsda_start + 8 * k, s)?;
        bump(out, base, size, lsda_start + 8 * k + 4, s)?;
    }
    for k in 0..idx_n {
        let e = idx_off + 12 * k;
        bump(out, base, size, e, s)?;
        let page = g(out, e + 4)?;
        if page == 0 || k == idx_n - 1 {
            continue;
        }
        if g(out, page)? == u64::from(UNWIND_SECOND_LEVEL_REGULAR) {
            // Regular page: u32 kind, u16 entryPageOffset, u16 entryCount.
            let hdr = get(out, base, size, page + 4)?;
            let (first, count) = (u64::from(hdr & 0xffff), u64::from(hdr >> 16));
            for j in 0..count {
                bump(out, base, size, page + first + 8 * j, s)?;
            }
        }
    }
    Ok(())
}
