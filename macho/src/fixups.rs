//! Dyld fixup information that records where pointers are and what they point at:
//! the opcode streams of LC_DYLD_INFO (rebase, bind, weak bind, lazy bind) and the chains of
//! LC_DYLD_CHAINED_FIXUPS. Used when the image shifts: every rebased pointer's stored target
//! moves, and locations given relative to the header segment move.

use crate::bytes::{put_uleb, sleb, uleb, Ctx};
use crate::consts::*;
use crate::error::{malformed, Error, Result};
use crate::image::Image;
use crate::moves::Shift;

/// One rebased location: segment index and offset within it, and the rebase type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rebase {
    pub seg: usize,
    pub offset: u64,
    pub kind: u8,
}

/// Runs a rebase opcode stream. `seg_sizes[i]` is segment i's vmsize; every location must lie
/// inside its segment, and there can be no more locations than pointer slots, which bounds the
/// work a hostile stream can ask for.
pub fn rebases(stream: &[u8], ptr: u64, seg_sizes: &[u64]) -> Result<Vec<Rebase>> {
    let mut out = Vec::new();
    let limit = seg_sizes
        .iter()
        .fold(0u64, |a, s| a.saturating_add(s / ptr.max(1)))
        .min(usize::MAX as u64) as usize;
    let mut pos = 0usize;
    let mut kind = REBASE_TYPE_POINTER;
    let mut seg: Option<usize> = None;
    let mut off: u64 = 0;
    let w = "rebase opcodes";
    let emit = |seg: Option<usize>, off: u64, kind: u8, out: &mut Vec<Rebase>| -> Result<()> {
        let s = seg.ok_or_else(|| malformed(w, "rebase before a segment was set"))?;
        let size = *seg_sizes
            .get(s)
            .ok_or_else(|| malformed(w, format!("segment index {s} out of range")))?;
        if off.checked_add(ptr).is_none_or(|e| e > size) {
            return Err(malformed(
                w,
                format!("location {off:#x} outside segment {s}"),
            ));
        }
        if out.len() >= limit {
            return Err(malformed(w, "more rebases than pointer slots"));
        }
        out.push(Rebase {
            seg: s,
            offset: off,
            kind,
        });
        Ok(())
    };
    while pos < stream.len() {
        let b = stream[pos];
        pos += 1;
        let imm = b & IMMEDIATE_MASK;
        match b & OPCODE_MASK {
            REBASE_OPCODE_DONE => break,
            REBASE_OPCODE_SET_TYPE_IMM => kind = imm,
            REBASE_OPCODE_SET_SEGMENT_AND_OFFSET_ULEB => {
                seg = Some(imm as usize);
                off = uleb(stream, &mut pos, w)?;
            }
            REBASE_OPCODE_ADD_ADDR_ULEB => off = off.wrapping_add(uleb(stream, &mut pos, w)?),
            REBASE_OPCODE_ADD_ADDR_IMM_SCALED => off = off.wrapping_add(u64::from(imm) * ptr),
            REBASE_OPCODE_DO_REBASE_IMM_TIMES => {
                for _ in 0..imm {
                    emit(seg, off, kind, &mut out)?;
                    off = off.wrapping_add(ptr);
                }
            }
            REBASE_OPCODE_DO_REBASE_ULEB_TIMES => {
                let n = uleb(stream, &mut pos, w)?;
                for _ in 0..n {
                    emit(seg, off, kind, &mut out)?;
                    off = off.wrapping_add(ptr);
                }
            }
            REBASE_OPCODE_DO_REBASE_ADD_ADDR_ULEB => {
                emit(seg, off, kind, &mut out)?;
                off = off
                    .wrapping_add(uleb(stream, &mut pos, w)?)
                    .wrapping_add(ptr);
            }
            REBASE_OPCODE_DO_REBASE_ULEB_TIMES_SKIPPING_ULEB => {
                let n = uleb(stream, &mut pos, w)?;
                let skip = uleb(stream, &mut pos, w)?;
                for _ in 0..n {
                    emit(seg, off, kind, &mut out)?;
                    off = off.wrapping_add(skip).wrapping_add(ptr);
                }
            }
            _ => {
                return Err(malformed(
                    w,
                    format!("unknown opcode {b:#04x} at {:#x}", pos - 1),
                ))
            }
        }
    }
    Ok(out)
}

/// Which opcode stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Rebase,
    Bind,
}

/// Re-encodes a rebase or bind stream so that locations set in segment `header_seg` (whose
/// segment offsets are image offsets) follow the shift. Returns `None` when nothing changes.
pub fn retarget(
    stream: &[u8],
    which: Stream,
    header_seg: usize,
    s: Shift,
) -> Result<Option<Vec<u8>>> {
    let w = match which {
        Stream::Rebase => "rebase opcodes",
        Stream::Bind => "bind opcodes",
    };
    let mut out = Vec::with_capacity(stream.len());
    let mut changed = false;
    let mut pos = 0usize;
    while pos < stream.len() {
        let start = pos;
        let b = stream[pos];
        pos += 1;
        let imm = b & IMMEDIATE_MASK;
        let op = b & OPCODE_MASK;
        let set_seg = match which {
            Stream::Rebase => REBASE_OPCODE_SET_SEGMENT_AND_OFFSET_ULEB,
            Stream::Bind => BIND_OPCODE_SET_SEGMENT_AND_OFFSET_ULEB,
        };
        if op == set_seg {
            let off = uleb(stream, &mut pos, w)?;
            if imm as usize == header_seg && s.image(off) != off {
                out.push(b);
                put_uleb(&mut out, s.image(off));
                changed = true;
                continue;
            }
            out.extend_from_slice(&stream[start..pos]);
            continue;
        }
        match which {
            Stream::Rebase => match op {
                REBASE_OPCODE_DONE
                | REBASE_OPCODE_SET_TYPE_IMM
                | REBASE_OPCODE_ADD_ADDR_IMM_SCALED
                | REBASE_OPCODE_DO_REBASE_IMM_TIMES => {}
                REBASE_OPCODE_ADD_ADDR_ULEB
                | REBASE_OPCODE_DO_REBASE_ULEB_TIMES
                | REBASE_OPCODE_DO_REBASE_ADD_ADDR_ULEB => {
                    uleb(stream, &mut pos, w)?;
                }
                REBASE_OPCODE_DO_REBASE_ULEB_TIMES_SKIPPING_ULEB => {
                    uleb(stream, &mut pos, w)?;
                    uleb(stream, &mut pos, w)?;
                }
                _ => return Err(malformed(w, format!("unknown opcode {b:#04x}"))),
            },
            Stream::Bind => match op {
                BIND_OPCODE_DONE
                | BIND_OPCODE_SET_DYLIB_ORDINAL_IMM
                | BIND_OPCODE_SET_DYLIB_SPECIAL_IMM
                | BIND_OPCODE_SET_TYPE_IMM
                | BIND_OPCODE_DO_BIND
                | BIND_OPCODE_DO_BIND_ADD_ADDR_IMM_SCALED => {}
                BIND_OPCODE_SET_DYLIB_ORDINAL_ULEB
                | BIND_OPCODE_ADD_ADDR_ULEB
                | BIND_OPCODE_DO_BIND_ADD_ADDR_ULEB => {
                    uleb(stream, &mut pos, w)?;
                }
                BIND_OPCODE_SET_SYMBOL_TRAILING_FLAGS_IMM => {
                    let rest = stream.get(pos..).unwrap_or(&[]);
                    let n = rest
                        .iter()
                        .position(|&c| c == 0)
                        .ok_or_else(|| malformed(w, "unterminated symbol name"))?;
                    pos += n + 1;
                }
                BIND_OPCODE_SET_ADDEND_SLEB => {
                    sleb(stream, &mut pos, w)?;
                }
                BIND_OPCODE_DO_BIND_ULEB_TIMES_SKIPPING_ULEB => {
                    uleb(stream, &mut pos, w)?;
                    uleb(stream, &mut pos, w)?;
                }
                BIND_OPCODE_THREADED => {
                    return Err(Error::Unsupported(
                        "threaded bind opcodes (old arm64e) cannot be shifted".into(),
                    ))
                }
                _ => return Err(malformed(w, format!("unknown opcode {b:#04x}"))),
            },
        }
        out.extend_from_slice(&stream[start..pos]);
    }
    Ok(changed.then_some(out))
}

/// Moves a rebased pointer's stored target. On 64-bit the top byte may carry flags (arm64
/// RTTI, tagged pointers): it is kept and only the address bits move.
pub fn move_pointer(ctx: Ctx, out: &mut Image, at: u64, kind: u8, s: Shift) -> Result<()> {
    match kind {
        REBASE_TYPE_POINTER if ctx.is64 => {
            let v = ctx.u64(out, at, "rebased pointer")?;
            let high = v & 0xff00_0000_0000_0000;
            let low = v & 0x00ff_ffff_ffff_ffff;
            ctx.put_u64(out, at, high | s.vm(low), "rebased pointer")
        }
        REBASE_TYPE_POINTER | REBASE_TYPE_TEXT_ABSOLUTE32 => {
            let v = ctx.u32(out, at, "rebased pointer")?;
            let n = s.vm(u64::from(v));
            let n =
                u32::try_from(n).map_err(|_| malformed("rebased pointer", "overflows 32 bits"))?;
            ctx.put_u32(out, at, n, "rebased pointer")
        }
        k => Err(Error::Unsupported(format!(
            "rebase type {k} (pc-relative text relocation) cannot be shifted"
        ))),
    }
}

/// Chained fixups: moves the segment offsets of the starts table and every rebase target.
/// `blob` is the LC_DYLD_CHAINED_FIXUPS payload (edited in place); `out` the shifted image;
/// `seg_file[i]` segment i's file offset in `out` and `header_seg` the segment holding the
/// header (chains there cannot be shifted).
pub fn shift_chains(
    blob: &mut [u8],
    out: &mut Image,
    seg_file: &[u64],
    header_seg: usize,
    s: Shift,
) -> Result<()> {
    let le = Ctx::LE64;
    let w = "chained fixups";
    let starts = u64::from(le.u32(blob, 4, w)?);
    let seg_count = u64::from(le.u32(blob, starts, w)?);
    for i in 0..seg_count {
        let info = u64::from(le.u32(blob, starts + 4 + 4 * i, w)?);
        if info == 0 {
            continue;
        }
        let si = starts + info;
        let page_size = u64::from(le.u16(blob, si + 4, w)?);
        let format = le.u16(blob, si + 6, w)?;
        let seg_off = le.u64(blob, si + 8, w)?;
        let page_count = u64::from(le.u16(blob, si + 20, w)?);
        if i as usize == header_seg {
            if page_count > 0 {
                return Err(Error::Unsupported(
                    "chained fixups in the segment holding the header cannot be shifted".into(),
                ));
            }
            continue;
        }
        le.put_u64(blob, si + 8, s.image(seg_off), w)?;
        let base = *seg_file
            .get(i as usize)
            .ok_or_else(|| malformed(w, format!("segment index {i} out of range")))?;
        let stride: u64 = match format {
            DYLD_CHAINED_PTR_ARM64E
            | DYLD_CHAINED_PTR_ARM64E_USERLAND
            | DYLD_CHAINED_PTR_ARM64E_USERLAND24 => 8,
            DYLD_CHAINED_PTR_64 | DYLD_CHAINED_PTR_64_OFFSET => 4,
            f => {
                return Err(Error::Unsupported(format!(
                    "chained pointer format {f} cannot be shifted"
                )))
            }
        };
        if page_size == 0 {
            return Err(malformed(w, "page size 0"));
        }
        for p in 0..page_count {
            let start = le.u16(blob, si + 22 + 2 * p, w)?;
            if start == DYLD_CHAINED_PTR_START_NONE {
                continue;
            }
            if start & DYLD_CHAINED_PTR_START_MULTI != 0 {
                return Err(Error::Unsupported("multi-start chained pages".into()));
            }
            let mut at = base + p * page_size + u64::from(start);
            let page_end = base + (p + 1) * page_size;
            loop {
                if at + 8 > page_end.min(out.len()) {
                    return Err(malformed(w, format!("chain runs past its page at {at:#x}")));
                }
                let v = le.u64(out, at, w)?;
                let (nv, next) = move_chained(format, v, s)?;
                le.put_u64(out, at, nv, w)?;
                if next == 0 {
                    break;
                }
                at += next * stride;
            }
        }
    }
    Ok(())
}

/// Moves one chained pointer; returns the new value and the `next` field.
fn move_chained(format: u16, v: u64, s: Shift) -> Result<(u64, u64)> {
    let too_big = || malformed("chained fixups", "shifted target does not fit its field");
    match format {
        DYLD_CHAINED_PTR_64 | DYLD_CHAINED_PTR_64_OFFSET => {
            let next = (v >> 51) & 0xfff;
            if v >> 63 == 1 {
                return Ok((v, next));
            }
            let target = v & 0xf_ffff_ffff;
            let nt = if format == DYLD_CHAINED_PTR_64 {
                s.vm(target)
            } else {
                s.image(target)
            };
            if nt > 0xf_ffff_ffff {
                return Err(too_big());
            }
            Ok(((v & !0xf_ffff_ffff) | nt, next))
        }
        _ => {
            // arm64e: bit 63 auth, bit 62 bind, next in bits 51..61.
            let next = (v >> 51) & 0x7ff;
            let auth = v >> 63 == 1;
            let bind = (v >> 62) & 1 == 1;
            if bind {
                return Ok((v, next));
            }
            if auth {
                let target = v & 0xffff_ffff;
                let nt = s.image(target);
                if nt > 0xffff_ffff {
                    return Err(too_big());
                }
                return Ok(((v & !0xffff_ffff) | nt, next));
            }
            let mask = (1u64 << 43) - 1;
            let target = v & mask;
            let nt = if format == DYLD_CHAINED_PTR_ARM64E {
                s.vm(target)
            } else {
                s.image(target)
            };
            if nt > mask {
                return Err(too_big());
            }
            Ok(((v & !mask) | nt, next))
        }
    }
}
