//! Planning and writing one thin image: do the edited load commands fit in place, or must the
//! image shift; where does the code signature go; and the bytes that result.
//!
//! In place, only the header area and the signature change (a list of writes). A shift
//! rebuilds the image (see `shift`).

use crate::bytes::{align_up, Ctx};
use crate::consts::*;
use crate::edit::{self, Cmd, EditSet};
use crate::error::{Error, Result};
use crate::sign::{self, Existing, Kind, Params, View};
use crate::view::MachO;

/// Switches that are not edits.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Fail instead of shifting when the load commands do not fit.
    pub no_grow: bool,
    /// Do not (re-)sign.
    pub no_sign: bool,
    /// Identifier for images that had no signature (normally the file name).
    pub identifier: Vec<u8>,
}

/// How a slice is rewritten.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "layout")]
pub enum Layout {
    Unchanged,
    InPlace,
    Shift { delta: u64 },
}

/// The plan for one slice: what happens and why, printable by `--dry-run`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SlicePlan {
    pub arch: String,
    #[serde(flatten)]
    pub layout: Layout,
    /// Bytes the header and load commands need, and the room before the first section.
    pub commands_need: u64,
    pub commands_room: u64,
    /// "linker-signed", "ad-hoc", … or None when the slice is not signed afterwards.
    pub signature: Option<String>,
    pub old_len: u64,
    pub new_len: u64,
    pub warnings: Vec<String>,
}

/// The new content of one slice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SliceOut {
    Unchanged,
    /// Writes (offset within the slice, bytes) and the new slice length.
    Patch {
        writes: Vec<(u64, Vec<u8>)>,
        new_len: u64,
    },
    Whole(Vec<u8>),
}

fn serialize(m: &MachO, cmds: &[Cmd]) -> Result<Vec<u8>> {
    let ctx = m.ctx;
    let hs = m.header_size() as usize;
    let size: usize = cmds.iter().map(|c| c.bytes.len()).sum();
    let mut out = m.data[..hs].to_vec();
    let sizeofcmds =
        u32::try_from(size).map_err(|_| Error::Unsupported("load commands exceed 4 GiB".into()))?;
    ctx.put_u32(&mut out, 16, cmds.len() as u32, "header")?;
    ctx.put_u32(&mut out, 20, sizeofcmds, "header")?;
    for c in cmds {
        out.extend_from_slice(&c.bytes);
    }
    Ok(out)
}

fn seg_field(ctx: Ctx, c: &Cmd, which: usize) -> Result<u64> {
    // which: 0 vmaddr, 1 vmsize, 2 fileoff, 3 filesize
    if c.cmd == LC_SEGMENT_64 {
        ctx.u64(&c.bytes, 24 + 8 * which as u64, "segment")
    } else {
        ctx.u32(&c.bytes, 24 + 4 * which as u64, "segment")
            .map(u64::from)
    }
}

fn set_seg_field(ctx: Ctx, c: &mut Cmd, which: usize, v: u64) -> Result<()> {
    if c.cmd == LC_SEGMENT_64 {
        ctx.put_u64(&mut c.bytes, 24 + 8 * which as u64, v, "segment")
    } else {
        let v = u32::try_from(v).map_err(|_| Error::Unsupported("segment exceeds 4 GiB".into()))?;
        ctx.put_u32(&mut c.bytes, 24 + 4 * which as u64, v, "segment")
    }
}

fn is_seg(c: &Cmd, name: &[u8]) -> bool {
    matches!(c.cmd, LC_SEGMENT | LC_SEGMENT_64)
        && c.bytes
            .get(8..24)
            .is_some_and(|n| crate::bytes::cstr(n, 0) == name)
}

/// The existing signature of `m`, if it has a readable one.
pub fn existing_signature(m: &MachO) -> Option<Existing> {
    let (off, size) = m.code_signature().ok()??;
    let sig = crate::bytes::slice(m.data, off.into(), size.into(), "code signature").ok()?;
    sign::parse(sig).ok()
}

/// Plans and produces the rewrite of one thin image.
pub fn rewrite_thin(
    data: &[u8],
    edits: &EditSet,
    opts: &Options,
    resign: bool,
) -> Result<(SlicePlan, SliceOut)> {
    let m = MachO::parse(data)?;
    let ctx = m.ctx;
    let arch = m.arch();
    let applied = edit::apply(&m, edits)?;
    let mut cmds = applied.cmds;
    let room = m.first_content_offset();
    let mut plan = SlicePlan {
        arch: arch.clone(),
        layout: Layout::Unchanged,
        commands_need: m.commands_end(),
        commands_room: room,
        signature: None,
        old_len: data.len() as u64,
        new_len: data.len() as u64,
        warnings: applied.warnings,
    };
    let changed =
        cmds.len() != m.cmds.len() || cmds.iter().zip(&m.cmds).any(|(a, b)| a.bytes != b.bytes);
    if !changed && !resign {
        return Ok((plan, SliceOut::Unchanged));
    }

    let paths: Vec<Vec<u8>> = cmds
        .iter()
        .filter(|c| c.cmd == LC_RPATH)
        .filter_map(|c| crate::view::rpath_of(ctx, &c.bytes).ok())
        .collect();
    for (i, p) in paths.iter().enumerate() {
        if paths[..i].contains(p) {
            plan.warnings.push(format!(
                "{arch}: LC_RPATH {} occurs more than once (dyld on macOS 15.4 and later refuses                  such files); --delete-rpath it and add it again",
                String::from_utf8_lossy(p)
            ));
        }
    }

    let old_sig = existing_signature(&m);
    let had_sig_cmd = m.code_signature()?.is_some();
    // Only linked images (not object files) carry signatures; 0x7 is MH_DYLINKER.
    let linked = matches!(m.header.filetype, MH_EXECUTE | MH_DYLIB | MH_BUNDLE | 0x7);
    let sign = !opts.no_sign
        && linked
        && (resign
            || had_sig_cmd
            || matches!(m.header.cputype, CPU_TYPE_ARM64 | CPU_TYPE_ARM64_32));
    if opts.no_sign && had_sig_cmd {
        plan.warnings.push(format!(
            "{arch}: the code signature no longer matches the file (--no-sign)"
        ));
    }
    if had_sig_cmd && old_sig.is_none() && sign {
        plan.warnings.push(format!(
            "{arch}: the old code signature was unreadable; signing afresh"
        ));
    }
    if let Some(o) = &old_sig {
        if o.kind == Kind::Identity && sign {
            plan.warnings.push(format!(
                "{arch}: the identity signature is replaced by an ad-hoc one; sign again with \
                 your certificate before distributing"
            ));
        }
    }
    if sign && !had_sig_cmd {
        let mut b = vec![0u8; 16];
        ctx.put_u32(&mut b, 0, LC_CODE_SIGNATURE, "cmd")?;
        ctx.put_u32(&mut b, 4, 16, "cmd")?;
        // Before the LC_RPATHs at the end, as in a signed file: rpaths a later edit appends
        // then land where this edit put them, so repeating the edit changes nothing.
        let at = cmds
            .iter()
            .rposition(|c| c.cmd != LC_RPATH)
            .map_or(0, |i| i + 1);
        cmds.insert(
            at,
            Cmd {
                cmd: LC_CODE_SIGNATURE,
                bytes: b,
            },
        );
    }

    let need = m.header_size() + cmds.iter().map(|c| c.bytes.len() as u64).sum::<u64>();
    plan.commands_need = need;
    let mut image: Option<Vec<u8>> = None;
    if need <= room {
        plan.layout = Layout::InPlace;
    } else {
        if opts.no_grow {
            return Err(Error::NoRoom {
                arch,
                need: need - m.header_size(),
                room: room.saturating_sub(m.header_size()),
            });
        }
        if m.header.filetype == MH_OBJECT {
            // No segment maps the file: only file offsets move.
            let grown = crate::grow_object::grow(&m, &mut cmds, need)?;
            plan.layout = Layout::Shift { delta: grown.delta };
            image = Some(grown.image);
        } else {
            let delta = align_up(need - room, m.segment_alignment())
                .ok_or_else(|| Error::Unsupported("shift overflows".into()))?;
            plan.layout = Layout::Shift { delta };
            image = Some(crate::shift::shift(&m, &mut cmds, delta)?.image);
        }
    }
    let cur_len = image.as_ref().map_or(data.len(), |i| i.len()) as u64;

    // Code signature placement.
    let mut sig_at: Option<(u64, u64, Params)> = None;
    if sign {
        let si = cmds
            .iter()
            .position(|c| c.cmd == LC_CODE_SIGNATURE)
            .ok_or_else(|| Error::Unsupported("lost LC_CODE_SIGNATURE".into()))?;
        let li = cmds
            .iter()
            .position(|c| is_seg(c, b"__LINKEDIT"))
            .ok_or_else(|| {
                Error::Unsupported(format!("{arch}: cannot sign: no __LINKEDIT segment"))
            })?;
        let ti = cmds
            .iter()
            .position(|c| {
                matches!(c.cmd, LC_SEGMENT | LC_SEGMENT_64)
                    && seg_field(ctx, c, 2).ok() == Some(0)
                    && seg_field(ctx, c, 3).is_ok_and(|s| s > 0)
            })
            .ok_or_else(|| {
                Error::Unsupported(format!("{arch}: cannot sign: no segment maps the header"))
            })?;
        let le_off = seg_field(ctx, &cmds[li], 2)?;
        let le_size = seg_field(ctx, &cmds[li], 3)?;
        let old_off = u64::from(ctx.u32(&cmds[si].bytes, 8, "LC_CODE_SIGNATURE")?);
        let old_size = u64::from(ctx.u32(&cmds[si].bytes, 12, "LC_CODE_SIGNATURE")?);
        let off = if had_sig_cmd && old_off != 0 {
            old_off
        } else {
            if le_off + le_size != cur_len {
                return Err(Error::Unsupported(format!(
                    "{arch}: cannot add a signature: data follows __LINKEDIT"
                )));
            }
            align_up(cur_len, 16).unwrap_or(cur_len)
        };
        if off < le_off {
            return Err(Error::Unsupported(format!(
                "{arch}: the code signature lies outside __LINKEDIT"
            )));
        }
        let main = m.header.filetype == MH_EXECUTE;
        let mut p = Params::from_existing(old_sig.as_ref(), &opts.identifier, main);
        p.exec_seg_base = seg_field(ctx, &cmds[ti], 2)?;
        p.exec_seg_limit = seg_field(ctx, &cmds[ti], 3)?;
        let size = p.size(off);
        let datasize = if size <= old_size {
            old_size
        } else {
            align_up(size, 16).unwrap_or(size)
        };
        let dsz = u32::try_from(datasize)
            .map_err(|_| Error::Unsupported("signature too large".into()))?;
        let doff = u32::try_from(off)
            .map_err(|_| Error::Unsupported("signature offset exceeds 4 GiB".into()))?;
        ctx.put_u32(&mut cmds[si].bytes, 8, doff, "LC_CODE_SIGNATURE")?;
        ctx.put_u32(&mut cmds[si].bytes, 12, dsz, "LC_CODE_SIGNATURE")?;
        let new_le_size = (off + datasize - le_off).max(le_size);
        set_seg_field(ctx, &mut cmds[li], 3, new_le_size)?;
        let vms = seg_field(ctx, &cmds[li], 1)?;
        let want = align_up(new_le_size, m.segment_alignment()).unwrap_or(new_le_size);
        set_seg_field(ctx, &mut cmds[li], 1, vms.max(want))?;
        plan.signature = Some(
            match old_sig.as_ref().map(|o| o.kind) {
                Some(Kind::LinkerSigned) | None => "linker-signed ad-hoc",
                Some(Kind::AdHoc) | Some(Kind::Identity) => "ad-hoc",
            }
            .to_string(),
        );
        sig_at = Some((off, datasize, p));
    }

    let header = serialize(&m, &cmds)?;
    let new_len = match &sig_at {
        Some((off, size, _)) => (off + size).max(cur_len),
        None => cur_len,
    };
    plan.new_len = new_len;
    match image {
        Some(mut img) => {
            img[..header.len()].copy_from_slice(&header);
            img.resize(new_len as usize, 0);
            if let Some((off, size, p)) = &sig_at {
                let view = View {
                    base: &img,
                    overlay: &[],
                };
                let mut sig = sign::build(p, &view, *off)?;
                sig.resize(*size as usize, 0);
                img[*off as usize..(*off + *size) as usize].copy_from_slice(&sig);
            }
            Ok((plan, SliceOut::Whole(img)))
        }
        None => {
            let mut region = header;
            let old_end = m.commands_end() as usize;
            if region.len() < old_end {
                region.resize(old_end, 0);
            }
            let mut writes = vec![(0u64, region)];
            if let Some((off, size, p)) = &sig_at {
                let overlay: Vec<(u64, &[u8])> =
                    writes.iter().map(|(o, b)| (*o, b.as_slice())).collect();
                let view = View {
                    base: data,
                    overlay: &overlay,
                };
                let mut sig = sign::build(p, &view, *off)?;
                sig.resize(*size as usize, 0);
                writes.push((*off, sig));
            }
            Ok((plan, SliceOut::Patch { writes, new_len }))
        }
    }
}
