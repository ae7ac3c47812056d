//! Growing the load-command area of an object file (MH_OBJECT).
//!
//! Nothing maps an object file into memory, so unlike `shift` no address changes: Δ bytes are
//! inserted where the first data after the load commands begins, and every file offset at or
//! past that point moves by Δ: the segment's `fileoff`, each section's `offset` and `reloff`,
//! and every load command's file offsets (symbol, string and dynamic symbol tables, linkedit
//! blobs, dyld-info streams, notes, two-level hints, symbol segments, encryption ranges; each
//! kind says which in `command.rs`, and kinds that cannot be moved are refused). The tables'
//! contents (relocations, symbols, hints, data-in-code entries) hold section offsets,
//! addresses and indices, none of which change. Δ is a multiple of 8 and of the largest
//! section alignment, so every section and table keeps its alignment in the file.
//!
//! Refused: data that overlaps the load commands, a segment that maps the header (its sections'
//! addresses would then disagree with their file offsets), section alignments above 2^15 and
//! offsets that would no longer fit their 32-bit fields.

use crate::bytes::{align_up, slice};
use crate::command::{Command, LoadCommand};
use crate::error::{malformed, Error, Result};
use crate::image::Image;
use crate::moves::Shift;
use crate::view::MachO;

/// The largest section alignment (log2) an object file may have for shenzi to move its data.
const MAX_ALIGN: u32 = 15;

/// How one object file grows: file offsets from `shift.off` move by `shift.delta`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Growth {
    pub shift: Shift,
    pub new_len: u64,
}

/// Decides how object file `m` grows so that `need` bytes of header and load commands fit.
pub(crate) fn choose(m: &MachO, need: u64) -> Result<Growth> {
    let data = m.data();
    let arch = m.arch();
    let end = m.commands_end();

    // Where the data begins: the first section, relocation or table, or a segment's start when
    // it lies before them (padding in the segment moves with it).
    let mut from = m.first_content_offset();
    for seg in m.segments() {
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
    for seg in m.segments() {
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
    for c in m.commands() {
        if let Command::Note(n) = c.command() {
            slice(data, n.offset, n.size, "note")?;
        }
    }

    let delta = align_up(need.saturating_sub(from), align)
        .ok_or_else(|| Error::Unsupported("growth overflows".into()))?;
    let new_len = (data.len() as u64)
        .checked_add(delta)
        .ok_or_else(|| malformed("layout", "file size overflows"))?;
    usize::try_from(new_len)
        .map_err(|_| Error::Unsupported("the grown file does not fit in memory".into()))?;
    Ok(Growth {
        shift: Shift {
            off: from,
            addr: None,
            delta,
        },
        new_len,
    })
}

/// Moves the file offsets of the edited load commands.
pub(crate) fn translate(m: &MachO, cmds: &mut [LoadCommand], g: &Growth) -> Result<()> {
    for c in cmds.iter_mut() {
        c.relocate(m.ctx(), m.header().cputype, &g.shift)?;
    }
    Ok(())
}

/// The grown image; its header and load-command area is left zero, for the caller.
pub(crate) fn emit<'a>(m: &MachO<'a>, g: &Growth) -> Result<Image<'a>> {
    let data = m.data();
    let mut img = Image::new(data);
    img.push_zeros(g.shift.off + g.shift.delta)?;
    img.push_input(g.shift.off, (data.len() as u64).saturating_sub(g.shift.off))?;
    Ok(img)
}
