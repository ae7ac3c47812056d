//! Growing the load-command area of a linked image by shifting: Δ bytes (a multiple of the
//! segment alignment) are inserted before the first section, the header segment grows by Δ,
//! and everything after it moves by Δ in the file and in memory. Every record of a file
//! offset, image offset or unslid address at or past the insertion point is updated:
//!
//! segments and sections, and every load command's offsets and addresses (each kind says which
//! in `command.rs`; kinds that cannot be moved are refused); symbol table values; dyld-info
//! rebase targets, opcode locations in the header segment and the export trie; chained-fixup
//! segment offsets and rebase targets; LC_DYLD_EXPORTS_TRIE; LC_FUNCTION_STARTS;
//! LC_DATA_IN_CODE; `__unwind_info`; `__init_offsets`. Tables whose encoding grows (ULEB128)
//! are laid out again inside __LINKEDIT.
//!
//! Three steps, as for every layout: [`choose`] decides (and reads what must be re-encoded),
//! [`translate`] moves the load commands' fields, [`emit`] assembles the shifted image.
//!
//! Code that addresses the header itself pc-relatively (`__dso_handle`) now sees an address Δ
//! too high, still inside the image's first segment; dyld and libc++abi only use it to find
//! the image by address range.

use crate::bytes::{align_up, put, put_uleb, slice, uleb, Ctx, ReadAt};
use crate::command::{Command, LinkeditKind, LoadCommand};
use crate::consts::*;
use crate::error::{malformed, truncated, Error, Result};
use crate::fixups::{self, Rebase, Stream};
use crate::image::Image;
use crate::moves::Shift;
use crate::view::{Index, MachO};

/// A table of the edited load commands: its command index and slot, where it is in the shifted
/// image and where it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Placed {
    pub what: &'static str,
    cmd: usize,
    slot: usize,
    sized: bool,
    /// Offset and size in the shifted image, before __LINKEDIT is laid out again.
    pub from: u64,
    pub size: u64,
    /// Offset and size afterwards.
    pub to: u64,
    pub len: u64,
    /// New content, when the table is re-encoded.
    bytes: Option<Vec<u8>>,
}

/// What happens to __LINKEDIT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Linkedit {
    /// Every re-encoded table fits where it was; these are written there, zero-padded.
    InPlace(Vec<Placed>),
    /// A re-encoded table grew: __LINKEDIT is laid out again in the same order, each grown
    /// table padded to 8 bytes so the ones after it keep their alignment.
    Rebuilt {
        start: u64,
        size: u64,
        tables: Vec<Placed>,
    },
}

/// How one linked image shifts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ShiftLayout {
    pub shift: Shift,
    /// Ordinal (among the segments) of the segment that maps the header.
    header_segment: usize,
    /// Locations the rebase opcodes name.
    rebases: Vec<Rebase>,
    pub linkedit: Linkedit,
    pub new_len: u64,
}

/// Decides how `m` shifts by `delta`, for its edited load commands `cmds` (indexed by `ix`).
pub(crate) fn choose(
    m: &MachO,
    cmds: &[LoadCommand],
    ix: &Index,
    delta: u64,
) -> Result<ShiftLayout> {
    let ctx = m.ctx();
    let data = m.data();
    let arch = m.arch();
    let h = m.header();
    match h.filetype {
        MH_EXECUTE | MH_DYLIB | MH_BUNDLE => {}
        t => {
            return Err(Error::Unsupported(format!(
                "cannot grow the load commands of a Mach-O file of type {t} ({arch})"
            )))
        }
    }
    if h.filetype == MH_EXECUTE && h.flags & MH_PIE == 0 {
        return Err(Error::Unsupported(format!(
            "cannot grow the load commands of a non-PIE executable ({arch}): its code holds \
             absolute addresses that nothing records"
        )));
    }
    let p = m.first_content_offset();
    if p < m.commands_end() {
        return Err(malformed(
            "layout",
            "section data overlaps the load commands",
        ));
    }
    let segments: Vec<_> = m.segments().collect();
    let header_segment = segments
        .iter()
        .position(|s| s.fileoff == 0 && s.filesize > 0)
        .ok_or_else(|| malformed("layout", "no segment maps the header"))?;
    let hs = segments[header_segment];
    if hs.filesize < p
        && segments
            .iter()
            .any(|s| s.fileoff > hs.filesize && s.fileoff < p)
    {
        return Err(malformed("layout", "segments overlap the load commands"));
    }
    let addr = hs
        .vmaddr
        .checked_add(p)
        .ok_or_else(|| malformed("layout", "the header segment's address overflows"))?;
    let s = Shift {
        off: p,
        addr: Some(addr),
        delta,
    };
    let new_len = (data.len() as u64)
        .checked_add(delta)
        .ok_or_else(|| malformed("layout", "file size overflows"))?;

    // Re-encoded tables, by (command, slot).
    let mut replaced: Vec<((usize, usize), Vec<u8>)> = Vec::new();
    let mut rebases = Vec::new();
    for (i, c) in cmds.iter().enumerate() {
        match c.command() {
            Command::Dysymtab(d) if d.nextrel != 0 || d.nlocrel != 0 => {
                return Err(Error::Unsupported(format!(
                    "cannot grow a file with classic external/local relocations ({arch})"
                )));
            }
            Command::DyldInfo { info, .. } if ix.dyld_info == Some(i) => {
                let table = |o: u32, z: u32, what| slice(data, o.into(), z.into(), what);
                let rebase = table(info.rebase_off, info.rebase_size, "rebase info")?;
                let sizes: Vec<u64> = segments.iter().map(|g| g.vmsize).collect();
                rebases = fixups::rebases(rebase, ctx.word_size(), &sizes)?;
                if let Some(n) = fixups::retarget(rebase, Stream::Rebase, header_segment, s)? {
                    replaced.push(((i, 0), n));
                }
                let binds = [
                    (info.bind_off, info.bind_size),
                    (info.weak_bind_off, info.weak_bind_size),
                    (info.lazy_bind_off, info.lazy_bind_size),
                ];
                for (slot, (o, z)) in (1..).zip(binds) {
                    let stream = table(o, z, "bind info")?;
                    if let Some(n) = fixups::retarget(stream, Stream::Bind, header_segment, s)? {
                        replaced.push(((i, slot), n));
                    }
                }
                let trie = table(info.export_off, info.export_size, "export info")?;
                let n = crate::trie::rewrite(trie, &|v| s.image(v))?;
                if n.as_slice() != trie {
                    replaced.push(((i, 4), n));
                }
            }
            Command::LinkeditData(kind, l) => {
                let blob = slice(data, l.dataoff.into(), l.datasize.into(), "linkedit data")?;
                match kind {
                    LinkeditKind::DyldExportsTrie => {
                        let n = crate::trie::rewrite(blob, &|v| s.image(v))?;
                        if n != blob {
                            replaced.push(((i, 0), n));
                        }
                    }
                    LinkeditKind::FunctionStarts => {
                        if blob.first().is_some_and(|&b| b != 0) {
                            let mut pos = 0;
                            let first = uleb(blob, &mut pos, "function starts")?;
                            let mut n = Vec::with_capacity(blob.len() + 2);
                            put_uleb(&mut n, s.image(first));
                            n.extend_from_slice(&blob[pos..]);
                            replaced.push(((i, 0), n));
                        }
                    }
                    // Rewritten where they are by `emit`.
                    LinkeditKind::DataInCode | LinkeditKind::DyldChainedFixups => {}
                    // Hold no image offsets (the signature is made anew; split info is used
                    // only by the shared-cache builder and is not rewritten).
                    LinkeditKind::CodeSignature
                    | LinkeditKind::SegmentSplitInfo
                    | LinkeditKind::DylibCodeSignDrs
                    | LinkeditKind::LinkerOptimizationHint
                    | LinkeditKind::AtomInfo => {}
                    LinkeditKind::FunctionVariants | LinkeditKind::FunctionVariantFixups => {
                        return Err(Error::Unsupported(format!(
                            "cannot grow the load commands ({arch}): {} holds image offsets \
                             that shenzi does not rewrite",
                            command_name(kind.cmd()).unwrap_or("a function variants table")
                        )));
                    }
                }
            }
            _ => {}
        }
    }
    let linkedit = place_linkedit(m, cmds, ix, s, replaced)?;
    let new_len = match &linkedit {
        Linkedit::InPlace(_) => new_len,
        Linkedit::Rebuilt { start, size, .. } => start + size,
    };
    Ok(ShiftLayout {
        shift: s,
        header_segment,
        rebases,
        linkedit,
        new_len,
    })
}

/// Where the tables go: where they were, or __LINKEDIT laid out again when one grew.
fn place_linkedit(
    m: &MachO,
    cmds: &[LoadCommand],
    ix: &Index,
    s: Shift,
    mut replaced: Vec<((usize, usize), Vec<u8>)>,
) -> Result<Linkedit> {
    let mut list: Vec<Placed> = Vec::new();
    for (i, c) in cmds.iter().enumerate() {
        for t in c.command().tables(m.is_64()) {
            let from = s.file(t.offset);
            let bytes = replaced
                .iter()
                .position(|(id, _)| *id == (i, t.slot))
                .map(|k| replaced.swap_remove(k).1);
            list.push(Placed {
                what: t.what,
                cmd: i,
                slot: t.slot,
                sized: t.sized,
                from,
                size: t.size,
                to: from,
                len: t.size,
                bytes,
            });
        }
    }
    let fits = list
        .iter()
        .all(|p| p.bytes.as_ref().is_none_or(|n| n.len() as u64 <= p.size));
    if fits {
        list.retain(|p| p.bytes.is_some());
        return Ok(Linkedit::InPlace(list));
    }
    let le = ix.linkedit.and_then(|i| cmds[i].segment()).ok_or_else(|| {
        Error::Unsupported("a linkedit table grew and there is no __LINKEDIT".into())
    })?;
    let start = s.file(le.fileoff);
    let file_end = m.data().len() as u64 + s.delta;
    if start.checked_add(le.filesize) != Some(file_end) {
        return Err(Error::Unsupported(
            "a linkedit table grew and __LINKEDIT does not end the file".into(),
        ));
    }
    list.retain(|p| p.size > 0 || p.bytes.is_some());
    list.sort_by_key(|p| (p.from, p.size));
    let mut cursor = start;
    let mut size = 0u64;
    for p in &mut list {
        if p.from < cursor {
            return Err(Error::Unsupported(
                "a linkedit table grew and the tables overlap or lie outside __LINKEDIT".into(),
            ));
        }
        size += p.from - cursor;
        p.to = start + size;
        let new = p.bytes.as_ref().map_or(0, |b| b.len() as u64);
        if new > p.size {
            p.len = p.size
                + align_up(new - p.size, 8)
                    .ok_or_else(|| malformed("layout", "a linkedit table overflows"))?;
        }
        size += p.len;
        cursor = p.from + p.size;
    }
    size += file_end
        .checked_sub(cursor)
        .ok_or_else(|| malformed("layout", "a linkedit table lies past the end of the file"))?;
    Ok(Linkedit::Rebuilt {
        start,
        size,
        tables: list,
    })
}

/// Moves the edited load commands' offsets and addresses; the header segment grows by Δ and
/// the tables of a rebuilt __LINKEDIT get their new places.
pub(crate) fn translate(
    m: &MachO,
    cmds: &mut [LoadCommand],
    ix: &Index,
    lay: &ShiftLayout,
) -> Result<()> {
    let s = lay.shift;
    for c in cmds.iter_mut() {
        c.relocate(m.ctx(), m.header().cputype, &s)?;
    }
    let header = ix
        .header_segment
        .and_then(|i| cmds[i].segment_mut())
        .ok_or_else(|| Error::Internal("the header segment is gone".into()))?;
    let grown = |v: u64| {
        v.checked_add(s.delta)
            .ok_or_else(|| malformed("segment", "size overflows when grown"))
    };
    header.filesize = grown(header.filesize)?;
    header.vmsize = grown(header.vmsize)?;
    if let Linkedit::Rebuilt { size, tables, .. } = &lay.linkedit {
        for p in tables {
            cmds[p.cmd].set_table(p.slot, p.to, p.sized.then_some(p.len))?;
        }
        let le = ix
            .linkedit
            .and_then(|i| cmds[i].segment_mut())
            .ok_or_else(|| Error::Internal("__LINKEDIT is gone".into()))?;
        le.filesize = *size;
        let want = align_up(*size, m.segment_alignment()).unwrap_or(u64::MAX);
        le.vmsize = le.vmsize.max(want);
    }
    Ok(())
}

/// The shifted image: everything after the insertion point moved by Δ, the image offsets and
/// addresses it holds moved with it, __LINKEDIT as laid out. The header and load-command area
/// is left zero, for the caller. Only the pages these edits write are held in memory; the rest
/// are runs of the input.
pub(crate) fn emit<'a>(m: &MachO<'a>, lay: &ShiftLayout) -> Result<Image<'a>> {
    let ctx = m.ctx();
    let data = m.data();
    let s = lay.shift;
    let p = s.off;
    let mut out = Image::new(data);
    out.push_zeros(p + s.delta)?;
    out.push_input(p, (data.len() as u64).saturating_sub(p))?;

    // Where each segment's bytes are now; locations in the header segment are image offsets.
    let segments: Vec<_> = m.segments().collect();
    let seg_file: Vec<u64> = (0..segments.len())
        .map(|k| {
            if k == lay.header_segment {
                0
            } else {
                s.file(segments[k].fileoff)
            }
        })
        .collect();

    if let Some((off, n)) = crate::symbols::symtab(m) {
        let threshold = s.addr.unwrap_or(u64::MAX);
        crate::symbols::shift_symbols(ctx, &mut out, s.file(off), n, threshold, s.delta)?;
    }
    for r in &lay.rebases {
        let at = if r.seg == lay.header_segment {
            s.file(r.offset)
        } else {
            seg_file[r.seg] + r.offset
        };
        fixups::move_pointer(ctx, &mut out, at, r.kind, s)?;
    }
    for c in m.commands() {
        let Command::LinkeditData(kind, l) = c.command() else {
            continue;
        };
        let (o, z) = (s.file(l.dataoff.into()), u64::from(l.datasize));
        match kind {
            LinkeditKind::DataInCode => {
                let le = Ctx {
                    little: ctx.little,
                    is64: false,
                };
                for k in 0..(z / 8) {
                    let at = o + k * 8;
                    let v = le.u32(&out, at, "data in code")?;
                    put_u32(le, &mut out, at, s.image(u64::from(v)))?;
                }
            }
            LinkeditKind::DyldChainedFixups => {
                let mut b = read_vec(&out, o, z, "chained fixups")?;
                fixups::shift_chains(&mut b, &mut out, &seg_file, lay.header_segment, s)?;
                put(&mut out, o, &b, "chained fixups")?;
            }
            _ => {}
        }
    }

    // Sections of the header segment that hold image offsets.
    for sec in &segments[lay.header_segment].sections {
        if !sec.has_file_data() {
            continue;
        }
        let at = s.file(u64::from(sec.offset));
        match sec.name() {
            b"__unwind_info" => crate::unwind::shift(&mut out, at, sec.size, s)?,
            b"__init_offsets" => {
                let le = Ctx {
                    little: ctx.little,
                    is64: false,
                };
                for k in 0..sec.size / 4 {
                    let v = le.u32(&out, at + 4 * k, "__init_offsets")?;
                    put_u32(le, &mut out, at + 4 * k, s.image(u64::from(v)))?;
                }
            }
            _ => {}
        }
    }

    match &lay.linkedit {
        Linkedit::InPlace(tables) => {
            for p in tables {
                let mut r = vec![0u8; p.size as usize];
                if let Some(n) = &p.bytes {
                    r[..n.len()].copy_from_slice(n);
                }
                put(&mut out, p.from, &r, p.what)?;
            }
            Ok(out)
        }
        Linkedit::Rebuilt { start, tables, .. } => {
            let mut region = Image::new(data);
            region.push_from(&out, 0, *start)?;
            let mut cursor = *start;
            for p in tables {
                region.push_from(&out, cursor, p.from)?;
                let at = region.len();
                match &p.bytes {
                    Some(b) => {
                        region.push_zeros(p.len)?;
                        put(&mut region, at, b, p.what)?;
                    }
                    None => {
                        region.push_from(&out, p.from, p.from + p.size)?;
                        region.push_zeros(p.len - p.size)?;
                    }
                }
                cursor = p.from + p.size;
            }
            region.push_from(&out, cursor, out.len())?;
            Ok(region)
        }
    }
}

/// A copy of `len` bytes at `off` of `img`.
fn read_vec(img: &Image, off: u64, len: u64, what: &'static str) -> Result<Vec<u8>> {
    let n = usize::try_from(len).map_err(|_| truncated(what, off, len, img.len() as usize))?;
    let mut b = vec![0u8; n];
    if !img.read_at(off, &mut b) {
        return Err(truncated(what, off, len, img.len() as usize));
    }
    Ok(b)
}

fn put_u32(ctx: Ctx, out: &mut Image, at: u64, v: u64) -> Result<()> {
    let v =
        u32::try_from(v).map_err(|_| Error::Unsupported("shifted value exceeds 32 bits".into()))?;
    ctx.put_u32(out, at, v, "table entry")
}
