//! Growing the load-command area of an object file (MH_OBJECT).
//!
//! Nothing maps an object file into memory, so unlike `shift` no address changes: Δ bytes are
//! inserted where the first data after the load commands begins, and every file offset at or
//! past that point moves by Δ: the segment's `fileoff`, each section's `offset` and `reloff`,
//! LC_SYMTAB's symbol and string tables, LC_DYSYMTAB's tables, the linkedit_data commands
//! (LC_DATA_IN_CODE, LC_LINKER_OPTIMIZATION_HINT, …), LC_DYLD_INFO's tables, LC_NOTE,
//! LC_TWOLEVEL_HINTS, LC_SYMSEG and LC_ENCRYPTION_INFO. The tables' contents (relocations,
//! symbols, hints, data-in-code entries) hold section offsets, addresses and indices, none of
//! which change. Δ is a multiple of 8 and of the largest section alignment, so every section
//! and table keeps its alignment in the file.
//!
//! Refused: data that overlaps the load commands, a segment that maps the header (its sections'
//! addresses would then disagree with their file offsets), section alignments above 2^15 and
//! offsets that would no longer fit their 32-bit fields.

use crate::bytes::{align_up, slice, Ctx};
use crate::consts::*;
use crate::edit::Cmd;
use crate::error::{malformed, Error, Result};
use crate::view::MachO;

/// LC_SYMSEG (obsolete): a file offset and size like a linkedit_data command.
const LC_SYMSEG: u32 = 0x3;

/// The largest section alignment (log2) an object file may have for shenzi to move its data.
const MAX_ALIGN: u32 = 15;

/// The result of growing one object file.
pub struct Grown {
    pub delta: u64,
    /// The new image; its first `need` bytes (header and load commands) are zero, to be filled
    /// by the caller.
    pub image: Vec<u8>,
}

/// Offsets at or past `from` move by `delta`.
#[derive(Clone, Copy)]
struct Move {
    from: u64,
    delta: u64,
}

impl Move {
    fn apply(self, x: u64) -> Result<u64> {
        if x < self.from {
            return Ok(x);
        }
        x.checked_add(self.delta)
            .ok_or_else(|| malformed("layout", "a moved file offset overflows"))
    }
}

fn move32(ctx: Ctx, c: &mut Cmd, at: u64, mv: Move) -> Result<()> {
    let v = u64::from(ctx.u32(&c.bytes, at, "load command")?);
    let n = u32::try_from(mv.apply(v)?).map_err(|_| {
        Error::Unsupported("a moved file offset no longer fits its 32-bit field".into())
    })?;
    ctx.put_u32(&mut c.bytes, at, n, "load command")
}

fn move64(ctx: Ctx, c: &mut Cmd, at: u64, mv: Move) -> Result<()> {
    let v = ctx.u64(&c.bytes, at, "load command")?;
    ctx.put_u64(&mut c.bytes, at, mv.apply(v)?, "load command")
}

/// Grows object file `m` so that `need` bytes of header and load commands fit, updating `cmds`
/// (the edited load commands) to the new offsets.
pub fn grow(m: &MachO, cmds: &mut [Cmd], need: u64) -> Result<Grown> {
    let ctx = m.ctx;
    let data = m.data;
    let arch = m.arch();
    let end = m.commands_end();
    let len = data.len() as u64;

    // Where the data begins: the first section, relocation or table, or a segment's start when
    // it lies before them (padding in the segment moves with it).
    let mut from = m.first_content_offset();
    for seg in &m.segments {
        if seg.filesize == 0 {
            continue;
        }
        if seg.fileoff < end {
            return Err(Error::Unsupported(format!(
                "cannot grow the load commands of an object file whose segment {} maps its \
                 header ({arch})",
                String::from_utf8_lossy(seg.name())
            )));
        }
        from = from.min(seg.fileoff);
    }
    if from < end {
        return Err(malformed("layout", "file data overlaps the load commands"));
    }

    // Everything that moves must lie in the file; the view checked sections and linkedit
    // tables, relocations and notes are checked here.
    let mut align = 8u64;
    for seg in &m.segments {
        for s in &seg.sections {
            if s.align > MAX_ALIGN {
                return Err(Error::Unsupported(format!(
                    "cannot grow an object file with section {},{} aligned to 2^{} ({arch})",
                    String::from_utf8_lossy(s.segment_name()),
                    String::from_utf8_lossy(s.name()),
                    s.align
                )));
            }
            align = align.max(1 << s.align);
            if s.nreloc > 0 {
                slice(
                    data,
                    u64::from(s.reloff),
                    u64::from(s.nreloc) * 8,
                    "relocations",
                )?;
            }
        }
    }
    for lc in &m.cmds {
        if lc.cmd == LC_NOTE {
            let off = ctx.u64(lc.bytes, 24, "LC_NOTE")?;
            let size = ctx.u64(lc.bytes, 32, "LC_NOTE")?;
            slice(data, off, size, "note")?;
        }
    }

    let delta = align_up(need.saturating_sub(from), align)
        .ok_or_else(|| Error::Unsupported("growth overflows".into()))?;
    let mv = Move { from, delta };
    let new_len = len
        .checked_add(delta)
        .ok_or_else(|| malformed("layout", "file size overflows"))?;
    let new_len = usize::try_from(new_len)
        .map_err(|_| Error::Unsupported("the grown file does not fit in memory".into()))?;
    let mut image = vec![0u8; new_len];
    image[(from + delta) as usize..].copy_from_slice(&data[from as usize..]);

    for c in cmds.iter_mut() {
        match c.cmd {
            LC_SEGMENT | LC_SEGMENT_64 => {
                let is64 = c.cmd == LC_SEGMENT_64;
                let (hdr, sect, nsects_at) = if is64 { (72, 80, 64) } else { (56, 68, 48) };
                if is64 {
                    move64(ctx, c, 40, mv)?;
                } else {
                    move32(ctx, c, 32, mv)?;
                }
                let nsects = u64::from(ctx.u32(&c.bytes, nsects_at, "segment")?);
                for k in 0..nsects {
                    let o = hdr + k * sect;
                    let (off_at, rel_at) = if is64 {
                        (o + 48, o + 56)
                    } else {
                        (o + 40, o + 48)
                    };
                    move32(ctx, c, off_at, mv)?;
                    move32(ctx, c, rel_at, mv)?;
                }
            }
            LC_SYMTAB => {
                move32(ctx, c, 8, mv)?;
                move32(ctx, c, 16, mv)?;
            }
            LC_DYSYMTAB => {
                for at in [32, 40, 48, 56, 64, 72] {
                    move32(ctx, c, at, mv)?;
                }
            }
            LC_DYLD_INFO | LC_DYLD_INFO_ONLY => {
                for at in [8, 16, 24, 32, 40] {
                    move32(ctx, c, at, mv)?;
                }
            }
            cmd if LINKEDIT_DATA_CMDS.contains(&cmd) => move32(ctx, c, 8, mv)?,
            LC_SYMSEG | LC_TWOLEVEL_HINTS => move32(ctx, c, 8, mv)?,
            LC_ENCRYPTION_INFO | LC_ENCRYPTION_INFO_64 => move32(ctx, c, 8, mv)?,
            LC_NOTE => move64(ctx, c, 24, mv)?,
            LC_FILESET_ENTRY => {
                return Err(Error::Unsupported(
                    "cannot grow an object file with a fileset entry".into(),
                ))
            }
            _ => {}
        }
    }
    Ok(Grown { delta, image })
}
