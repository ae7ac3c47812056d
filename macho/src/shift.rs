//! Growing the load-command area by shifting: Δ bytes (a multiple of the segment alignment) are
//! inserted before the first section, the header segment grows by Δ, and everything after it
//! moves by Δ in the file and in memory. Every record of a file offset, image offset or unslid
//! address at or past the insertion point is updated:
//!
//! segments and sections; symbol table values; dyld-info rebase targets, opcode locations in
//! the header segment and the export trie; chained-fixup segment offsets and rebase targets;
//! LC_DYLD_EXPORTS_TRIE; LC_FUNCTION_STARTS; LC_DATA_IN_CODE; LC_MAIN / LC_UNIXTHREAD;
//! LC_ENCRYPTION_INFO; LC_ROUTINES; LC_NOTE; `__unwind_info`; `__init_offsets`; and the offsets
//! of every linkedit table. Tables whose encoding grows (ULEB128) are laid out again inside
//! __LINKEDIT.
//!
//! Code that addresses the header itself pc-relatively (`__dso_handle`) now sees an address Δ
//! too high, still inside the image's first segment; dyld and libc++abi only use it to find
//! the image by address range.

use std::collections::HashMap;

use crate::bytes::{align_up, put_uleb, slice, uleb, Ctx};
use crate::consts::*;
use crate::edit::Cmd;
use crate::error::{malformed, Error, Result};
use crate::fixups::{self, Shift, Stream};
use crate::view::MachO;

/// Where a linkedit table's offset (and byte size, when it has one) is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Field {
    cmd: usize,
    off_at: u64,
    size_at: Option<u64>,
}

struct Piece {
    field: Field,
    off: u64,
    size: u64,
}

fn rd(ctx: Ctx, c: &Cmd, at: u64) -> Result<u64> {
    ctx.u32(&c.bytes, at, "load command").map(u64::from)
}

fn wr(ctx: Ctx, c: &mut Cmd, at: u64, v: u64) -> Result<()> {
    let v = u32::try_from(v).map_err(|_| {
        Error::Unsupported("a shifted offset no longer fits its 32-bit field".into())
    })?;
    ctx.put_u32(&mut c.bytes, at, v, "load command")
}

/// Linkedit tables of a command list: (field, offset, byte size).
fn pieces(ctx: Ctx, cmds: &[Cmd]) -> Result<Vec<Piece>> {
    let nl = if ctx.is64 { 16 } else { 12 };
    let mut out = Vec::new();
    for (i, c) in cmds.iter().enumerate() {
        let mut push = |off_at: u64, size_at: Option<u64>, size: u64| -> Result<()> {
            out.push(Piece {
                field: Field {
                    cmd: i,
                    off_at,
                    size_at,
                },
                off: rd(ctx, c, off_at)?,
                size,
            });
            Ok(())
        };
        match c.cmd {
            LC_SYMTAB => {
                push(8, None, rd(ctx, c, 12)? * nl)?;
                push(16, None, rd(ctx, c, 20)?)?;
            }
            LC_DYSYMTAB => {
                push(32, None, rd(ctx, c, 36)? * 8)?;
                push(40, None, rd(ctx, c, 44)? * if ctx.is64 { 56 } else { 52 })?;
                push(48, None, rd(ctx, c, 52)? * 4)?;
                push(56, None, rd(ctx, c, 60)? * 4)?;
                push(64, None, rd(ctx, c, 68)? * 8)?;
                push(72, None, rd(ctx, c, 76)? * 8)?;
            }
            LC_DYLD_INFO | LC_DYLD_INFO_ONLY => {
                for at in [8, 16, 24, 32, 40] {
                    push(at, Some(at + 4), rd(ctx, c, at + 4)?)?;
                }
            }
            cmd if LINKEDIT_DATA_CMDS.contains(&cmd) => push(8, Some(12), rd(ctx, c, 12)?)?,
            _ => {}
        }
    }
    Ok(out)
}

/// The result of shifting one image.
pub struct Shifted {
    /// The new image; the header and load-command area (first `first_content + delta` bytes) is
    /// zero, to be filled by the caller.
    pub image: Vec<u8>,
}

/// Shifts `m` by `delta`, updating `cmds` (the edited load commands) to match.
pub fn shift(m: &MachO, cmds: &mut [Cmd], delta: u64) -> Result<Shifted> {
    let ctx = m.ctx;
    let data = m.data;
    let arch = m.arch();
    match m.header.filetype {
        MH_EXECUTE | MH_DYLIB | MH_BUNDLE => {}
        t => {
            return Err(Error::Unsupported(format!(
                "cannot grow the load commands of a Mach-O file of type {t} ({arch})"
            )))
        }
    }
    if m.header.filetype == MH_EXECUTE && m.header.flags & 0x20_0000 == 0 {
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
    let header_seg = m
        .segments
        .iter()
        .position(|s| s.fileoff == 0 && s.filesize > 0)
        .ok_or_else(|| malformed("layout", "no segment maps the header"))?;
    let hs = &m.segments[header_seg];
    if hs.filesize < p
        && m.segments
            .iter()
            .any(|s| s.fileoff > hs.filesize && s.fileoff < p)
    {
        return Err(malformed("layout", "segments overlap the load commands"));
    }
    let s = Shift {
        off: p,
        addr: hs.vmaddr + p,
        delta,
    };

    let new_len = (data.len() as u64)
        .checked_add(delta)
        .ok_or_else(|| malformed("layout", "file size overflows"))?;
    let mut out = vec![0u8; new_len as usize];
    out[(p + delta) as usize..].copy_from_slice(&data[p as usize..]);

    // Load commands.
    let mut seg_i = 0usize;
    let mut seg_file: Vec<u64> = Vec::new();
    let mut seg_is_header: Vec<bool> = Vec::new();
    for c in cmds.iter_mut() {
        match c.cmd {
            LC_SEGMENT | LC_SEGMENT_64 => {
                let is64 = c.cmd == LC_SEGMENT_64;
                let (hdr, sect) = if is64 { (72u64, 80u64) } else { (56, 68) };
                let get = |c: &Cmd, at: u64| -> Result<u64> {
                    if is64 {
                        ctx.u64(&c.bytes, at, "segment")
                    } else {
                        ctx.u32(&c.bytes, at, "segment").map(u64::from)
                    }
                };
                let put = |c: &mut Cmd, at: u64, v: u64| -> Result<()> {
                    if is64 {
                        ctx.put_u64(&mut c.bytes, at, v, "segment")
                    } else {
                        wr(ctx, c, at, v)
                    }
                };
                let (a_vm, a_vms, a_fo, a_fs) = if is64 {
                    (24, 32, 40, 48)
                } else {
                    (24, 28, 32, 36)
                };
                let fileoff = get(c, a_fo)?;
                let filesize = get(c, a_fs)?;
                let is_header = seg_i == header_seg;
                if is_header {
                    let grown = |v: u64| {
                        v.checked_add(delta)
                            .ok_or_else(|| malformed("segment", "size overflows when grown"))
                    };
                    put(c, a_fs, grown(filesize)?)?;
                    let vms = get(c, a_vms)?;
                    put(c, a_vms, grown(vms)?)?;
                    seg_file.push(0);
                } else {
                    let vm = get(c, a_vm)?;
                    put(c, a_vm, s.vm(vm))?;
                    let nf = if filesize > 0 || fileoff > 0 {
                        s.file(fileoff)
                    } else {
                        fileoff
                    };
                    put(c, a_fo, nf)?;
                    seg_file.push(nf);
                }
                seg_is_header.push(is_header);
                let nsects = u64::from(ctx.u32(&c.bytes, if is64 { 64 } else { 48 }, "segment")?);
                for k in 0..nsects {
                    let o = hdr + k * sect;
                    let addr = get(c, o + 32)?;
                    put(c, o + 32, s.vm(addr))?;
                    let (a_off, a_rel) = if is64 {
                        (o + 48, o + 56)
                    } else {
                        (o + 40, o + 48)
                    };
                    let off = rd(ctx, c, a_off)?;
                    if off != 0 {
                        wr(ctx, c, a_off, s.file(off))?;
                    }
                    let rel = rd(ctx, c, a_rel)?;
                    if rel != 0 {
                        wr(ctx, c, a_rel, s.file(rel))?;
                    }
                }
                seg_i += 1;
            }
            LC_DYSYMTAB if rd(ctx, c, 68)? != 0 || rd(ctx, c, 76)? != 0 => {
                return Err(Error::Unsupported(format!(
                    "cannot grow a file with classic external/local relocations ({arch})"
                )));
            }
            LC_MAIN => {
                let e = ctx.u64(&c.bytes, 8, "LC_MAIN")?;
                ctx.put_u64(&mut c.bytes, 8, s.image(e), "LC_MAIN")?;
            }
            LC_UNIXTHREAD | LC_THREAD => shift_thread(ctx, m.header.cputype, c, s)?,
            LC_ENCRYPTION_INFO | LC_ENCRYPTION_INFO_64 if rd(ctx, c, 12)? > 0 => {
                let o = rd(ctx, c, 8)?;
                wr(ctx, c, 8, s.file(o))?;
            }
            LC_ROUTINES => {
                let a = rd(ctx, c, 8)?;
                wr(ctx, c, 8, s.vm(a))?;
            }
            LC_ROUTINES_64 => {
                let a = ctx.u64(&c.bytes, 8, "LC_ROUTINES_64")?;
                ctx.put_u64(&mut c.bytes, 8, s.vm(a), "LC_ROUTINES_64")?;
            }
            LC_NOTE => {
                let o = ctx.u64(&c.bytes, 24, "LC_NOTE")?;
                if o != 0 {
                    ctx.put_u64(&mut c.bytes, 24, s.file(o), "LC_NOTE")?;
                }
            }
            LC_TWOLEVEL_HINTS => {
                let o = rd(ctx, c, 8)?;
                if o != 0 {
                    wr(ctx, c, 8, s.file(o))?;
                }
            }
            LC_FILESET_ENTRY => {
                return Err(Error::Unsupported(
                    "cannot grow a fileset (kernel collection)".into(),
                ))
            }
            _ => {}
        }
    }
    // Linkedit table offsets.
    for pc in pieces(ctx, cmds)? {
        if pc.off != 0 {
            wr(
                ctx,
                &mut cmds[pc.field.cmd],
                pc.field.off_at,
                s.file(pc.off),
            )?;
        }
    }
    let find = |cmds: &[Cmd], want: &[u32]| cmds.iter().position(|c| want.contains(&c.cmd));

    // Symbols.
    if let Some(i) = find(cmds, &[LC_SYMTAB]) {
        let (off, n) = (rd(ctx, &cmds[i], 8)?, rd(ctx, &cmds[i], 12)?);
        crate::symbols::shift_symbols(ctx, &mut out, off, n, s.addr, delta)?;
    }

    let mut replace: HashMap<Field, Vec<u8>> = HashMap::new();
    let field = |cmd, at: u64| Field {
        cmd,
        off_at: at,
        size_at: Some(at + 4),
    };
    let seg_vmsizes: Vec<u64> = m.segments.iter().map(|g| g.vmsize).collect();

    // Dyld info: rebased pointers, header-segment locations, export trie.
    if let Some(i) = find(cmds, &[LC_DYLD_INFO, LC_DYLD_INFO_ONLY]) {
        let c = &cmds[i];
        let table = |at: u64| -> Result<(u64, u64)> { Ok((rd(ctx, c, at)?, rd(ctx, c, at + 4)?)) };
        let (ro, rs) = table(8)?;
        let rebase = slice(&out, ro, rs, "rebase info")?.to_vec();
        for r in fixups::rebases(&rebase, ctx.word_size(), &seg_vmsizes)? {
            let mut at = seg_file[r.seg] + r.offset;
            if seg_is_header[r.seg] {
                at = s.file(r.offset);
            }
            fixups::move_pointer(ctx, &mut out, at, r.kind, s)?;
        }
        if let Some(n) = fixups::retarget(&rebase, Stream::Rebase, header_seg, s)? {
            replace.insert(field(i, 8), n);
        }
        for at in [16, 24, 32] {
            let (o, z) = table(at)?;
            let stream = slice(&out, o, z, "bind info")?;
            if let Some(n) = fixups::retarget(stream, Stream::Bind, header_seg, s)? {
                replace.insert(field(i, at), n);
            }
        }
        let (eo, es) = table(40)?;
        let trie = slice(&out, eo, es, "export info")?;
        let n = crate::trie::rewrite(trie, &|v| s.image(v))?;
        if n.as_slice() != trie {
            replace.insert(field(i, 40), n);
        }
    }
    for (i, c) in cmds.iter().enumerate() {
        let (o, z) = match c.cmd {
            LC_DYLD_EXPORTS_TRIE
            | LC_FUNCTION_STARTS
            | LC_DATA_IN_CODE
            | LC_DYLD_CHAINED_FIXUPS => (rd(ctx, c, 8)?, rd(ctx, c, 12)?),
            _ => continue,
        };
        let blob = slice(&out, o, z, "linkedit data")?.to_vec();
        match c.cmd {
            LC_DYLD_EXPORTS_TRIE => {
                let n = crate::trie::rewrite(&blob, &|v| s.image(v))?;
                if n != blob {
                    replace.insert(field(i, 8), n);
                }
            }
            LC_FUNCTION_STARTS => {
                let mut pos = 0;
                if !blob.is_empty() && blob[0] != 0 {
                    let first = uleb(&blob, &mut pos, "function starts")?;
                    let mut n = Vec::with_capacity(blob.len() + 2);
                    put_uleb(&mut n, s.image(first));
                    n.extend_from_slice(&blob[pos..]);
                    replace.insert(field(i, 8), n);
                }
            }
            LC_DATA_IN_CODE => {
                let le = Ctx {
                    little: ctx.little,
                    is64: false,
                };
                for k in 0..(z / 8) {
                    let at = o + k * 8;
                    let v = le.u32(&out, at, "data in code")?;
                    wr_u32(le, &mut out, at, s.image(u64::from(v)))?;
                }
            }
            _ => {
                let mut b = blob;
                fixups::shift_chains(&mut b, &mut out, &seg_file, header_seg, s)?;
                out[o as usize..(o + z) as usize].copy_from_slice(&b);
            }
        }
    }

    // Sections of the header segment that hold image offsets.
    for sec in &m.segments[header_seg].sections {
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
                    wr_u32(le, &mut out, at + 4 * k, s.image(u64::from(v)))?;
                }
            }
            _ => {}
        }
    }

    relayout(ctx, m, cmds, &mut out, replace)?;
    Ok(Shifted { image: out })
}

fn wr_u32(ctx: Ctx, out: &mut [u8], at: u64, v: u64) -> Result<()> {
    let v =
        u32::try_from(v).map_err(|_| Error::Unsupported("shifted value exceeds 32 bits".into()))?;
    ctx.put_u32(out, at, v, "table entry")
}

/// Moves the program counter of a thread command.
fn shift_thread(ctx: Ctx, cputype: u32, c: &mut Cmd, s: Shift) -> Result<()> {
    let mut pos = 8u64;
    while pos + 8 <= c.bytes.len() as u64 {
        let flavor = rd(ctx, c, pos)?;
        let count = rd(ctx, c, pos + 4)?;
        let state = pos + 8;
        match (cputype, flavor) {
            (CPU_TYPE_X86_64, 4) => {
                let at = state + 16 * 8;
                let pc = ctx.u64(&c.bytes, at, "thread state")?;
                ctx.put_u64(&mut c.bytes, at, s.vm(pc), "thread state")?;
            }
            (CPU_TYPE_ARM64, 6) => {
                let at = state + 32 * 8;
                let pc = ctx.u64(&c.bytes, at, "thread state")?;
                ctx.put_u64(&mut c.bytes, at, s.vm(pc), "thread state")?;
            }
            (CPU_TYPE_X86, 1) => {
                let at = state + 10 * 4;
                let pc = rd(ctx, c, at)?;
                wr(ctx, c, at, s.vm(pc))?;
            }
            _ => {
                return Err(Error::Unsupported(format!(
                    "cannot move the entry point of thread state flavor {flavor}"
                )))
            }
        }
        pos = state + count * 4;
    }
    Ok(())
}

/// Writes replaced linkedit tables. Tables that still fit their old space stay where they are
/// (zero-padded); otherwise __LINKEDIT is laid out again in the same order, each grown table
/// padded to 8 bytes so the ones after it keep their alignment.
fn relayout(
    ctx: Ctx,
    m: &MachO,
    cmds: &mut [Cmd],
    out: &mut Vec<u8>,
    mut replace: HashMap<Field, Vec<u8>>,
) -> Result<()> {
    let mut list = pieces(ctx, cmds)?;
    let fits = list.iter().all(|p| {
        replace
            .get(&p.field)
            .is_none_or(|n| n.len() as u64 <= p.size)
    });
    if fits {
        for p in &list {
            if let Some(n) = replace.get(&p.field) {
                let r = &mut out[p.off as usize..(p.off + p.size) as usize];
                r.fill(0);
                r[..n.len()].copy_from_slice(n);
            }
        }
        return Ok(());
    }
    let le_idx = cmds
        .iter()
        .position(|c| {
            matches!(c.cmd, LC_SEGMENT | LC_SEGMENT_64)
                && c.bytes.get(8..18) == Some(b"__LINKEDIT".as_slice())
        })
        .ok_or_else(|| {
            Error::Unsupported("a linkedit table grew and there is no __LINKEDIT".into())
        })?;
    let is64 = cmds[le_idx].cmd == LC_SEGMENT_64;
    let (a_vms, a_fo, a_fs) = if is64 { (32, 40, 48) } else { (28, 32, 36) };
    let get = |c: &Cmd, at: u64| -> Result<u64> {
        if is64 {
            ctx.u64(&c.bytes, at, "segment")
        } else {
            rd(ctx, c, at)
        }
    };
    let le_off = get(&cmds[le_idx], a_fo)?;
    let le_size = get(&cmds[le_idx], a_fs)?;
    if le_off + le_size != out.len() as u64 {
        return Err(Error::Unsupported(
            "a linkedit table grew and __LINKEDIT does not end the file".into(),
        ));
    }
    list.retain(|p| p.size > 0 || replace.contains_key(&p.field));
    list.sort_by_key(|p| (p.off, p.size));
    let mut region = Vec::with_capacity(le_size as usize + 64);
    let mut cursor = le_off;
    for p in &list {
        if p.off < cursor || p.off < le_off {
            return Err(Error::Unsupported(
                "a linkedit table grew and the tables overlap or lie outside __LINKEDIT".into(),
            ));
        }
        region.extend_from_slice(&out[cursor as usize..p.off as usize]);
        let new_off = le_off + region.len() as u64;
        let old = &out[p.off as usize..(p.off + p.size) as usize];
        let bytes = replace.remove(&p.field).unwrap_or_else(|| old.to_vec());
        let len = if bytes.len() as u64 > p.size {
            p.size + align_up(bytes.len() as u64 - p.size, 8).unwrap_or(u64::MAX)
        } else {
            p.size
        };
        let at = region.len();
        region.resize(at + len as usize, 0);
        region[at..at + bytes.len()].copy_from_slice(&bytes);
        let c = &mut cmds[p.field.cmd];
        wr(ctx, c, p.field.off_at, new_off)?;
        if let Some(sz) = p.field.size_at {
            wr(ctx, c, sz, len)?;
        }
        cursor = p.off + p.size;
    }
    region.extend_from_slice(&out[cursor as usize..]);
    out.truncate(le_off as usize);
    out.extend_from_slice(&region);
    let new_size = region.len() as u64;
    let c = &mut cmds[le_idx];
    let vms = get(c, a_vms)?;
    let vms = vms.max(align_up(new_size, m.segment_alignment()).unwrap_or(u64::MAX));
    if is64 {
        ctx.put_u64(&mut c.bytes, a_fs, new_size, "segment")?;
        ctx.put_u64(&mut c.bytes, a_vms, vms, "segment")?;
    } else {
        wr(ctx, c, a_fs, new_size)?;
        wr(ctx, c, a_vms, vms)?;
    }
    Ok(())
}
