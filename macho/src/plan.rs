//! Choosing the layout of one thin image: apply the edits, decide whether to sign, make room
//! for the new load commands (they fit, the image shifts by Δ, or an object file's data
//! moves), translate the commands' offsets, and place the code signature. The result is a
//! [`SliceLayout`]; nothing here writes bytes.

use crate::bytes::align_up;
use crate::command::{Command, LinkeditKind, LoadCommand};
use crate::consts::*;
use crate::edit::{self, EditSet};
use crate::error::{Error, Result};
use crate::layout::{Placement, SignatureAt, SliceLayout};
use crate::sign::{self, Existing, Kind, Params};
use crate::view::{Index, MachO};

/// Switches that are not edits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// Fail instead of growing when the load commands do not fit.
    pub no_grow: bool,
    /// Do not (re-)sign.
    pub no_sign: bool,
    /// Identifier for images that had no signature (normally the file name).
    pub identifier: Vec<u8>,
}

/// The existing signature of `m`, if it has a readable one.
pub(crate) fn existing_signature(m: &MachO) -> Option<Existing> {
    let (off, size) = m.code_signature()?;
    let sig = crate::bytes::slice(m.data(), off.into(), size.into(), "code signature").ok()?;
    sign::parse(sig).ok()
}

/// Whether and how the slice is signed afterwards.
struct Signing {
    sign: bool,
    /// The image has an LC_CODE_SIGNATURE (readable or not).
    had_command: bool,
    old: Option<Existing>,
}

impl Signing {
    fn decide(m: &MachO, opts: &Options, resign: bool, warnings: &mut Vec<String>) -> Signing {
        let arch = m.arch();
        let old = existing_signature(m);
        let had_command = m.code_signature().is_some();
        // Only linked images (not object files) carry signatures.
        let h = m.header();
        let linked = matches!(h.filetype, MH_EXECUTE | MH_DYLIB | MH_BUNDLE | MH_DYLINKER);
        let sign = !opts.no_sign
            && linked
            && (resign || had_command || matches!(h.cputype, CPU_TYPE_ARM64 | CPU_TYPE_ARM64_32));
        if opts.no_sign && had_command {
            warnings.push(format!(
                "{arch}: the code signature no longer matches the file (--no-sign)"
            ));
        }
        if had_command && old.is_none() && sign {
            warnings.push(format!(
                "{arch}: the old code signature was unreadable; signing afresh"
            ));
        }
        if old.as_ref().is_some_and(|o| o.kind == Kind::Identity) && sign {
            warnings.push(format!(
                "{arch}: the identity signature is replaced by an ad-hoc one; sign again with \
                 your certificate before distributing"
            ));
        }
        Signing {
            sign,
            had_command,
            old,
        }
    }

    fn label(&self) -> &'static str {
        match self.old.as_ref().map(|o| o.kind) {
            Some(Kind::LinkerSigned) | None => "linker-signed ad-hoc",
            Some(Kind::AdHoc) | Some(Kind::Identity) => "ad-hoc",
        }
    }
}

/// Plans one thin image. `resign` signs it even when no load command changes.
pub(crate) fn choose(
    m: &MachO,
    edits: &EditSet,
    opts: &Options,
    resign: bool,
) -> Result<SliceLayout> {
    let arch = m.arch();
    let applied = edit::apply(m, edits)?;
    let mut cmds = applied.cmds;
    let len = m.data().len() as u64;
    let room = m.first_content_offset();
    let mut lay = SliceLayout {
        arch: arch.clone(),
        placement: Placement::Unchanged,
        commands: Vec::new(),
        need: m.commands_end(),
        room,
        signature: None,
        old_len: len,
        new_len: len,
        warnings: applied.warnings,
    };
    if cmds == m.commands() && !resign {
        lay.commands = cmds;
        return Ok(lay);
    }

    let paths: Vec<&[u8]> = cmds
        .iter()
        .filter(|c| c.is_rpath())
        .filter_map(LoadCommand::string)
        .collect();
    for (i, p) in paths.iter().enumerate() {
        if paths[..i].contains(p) {
            lay.warnings.push(format!(
                "{arch}: LC_RPATH {} occurs more than once (dyld on macOS 15.4 and later \
                 refuses such files); --delete-rpath it and add it again",
                String::from_utf8_lossy(p)
            ));
        }
    }

    let signing = Signing::decide(m, opts, resign, &mut lay.warnings);
    if signing.sign && !signing.had_command {
        // Before the LC_RPATHs at the end, as in a signed file: rpaths a later edit appends
        // then land where this edit put them, so repeating the edit changes nothing.
        let at = cmds
            .iter()
            .rposition(|c| !c.is_rpath())
            .map_or(0, |i| i + 1);
        cmds.insert(at, LoadCommand::code_signature());
    }

    // The edited commands' own index: nothing is added or removed from here on.
    let ix = Index::of(&cmds);
    let need = m.header_size() + cmds.iter().map(LoadCommand::size).sum::<u64>();
    lay.need = need;
    lay.placement = if need <= room {
        Placement::InPlace
    } else if opts.no_grow {
        return Err(Error::NoRoom {
            arch,
            need: need - m.header_size(),
            room: room.saturating_sub(m.header_size()),
        });
    } else if m.header().filetype == MH_OBJECT {
        // No segment maps the file: only file offsets move.
        let g = crate::grow_object::choose(m, need)?;
        crate::grow_object::translate(m, &mut cmds, &g)?;
        Placement::GrowObject(g)
    } else {
        let delta = align_up(need - room, m.segment_alignment())
            .ok_or_else(|| Error::Unsupported("shift overflows".into()))?;
        let s = crate::shift::choose(m, &cmds, &ix, delta)?;
        crate::shift::translate(m, &mut cmds, &ix, &s)?;
        Placement::Shift(s)
    };
    let cur_len = match &lay.placement {
        Placement::Unchanged | Placement::InPlace => len,
        Placement::Shift(s) => s.new_len,
        Placement::GrowObject(g) => g.new_len,
    };
    lay.new_len = cur_len;
    if signing.sign {
        let at = place_signature(m, &mut cmds, &ix, &signing, cur_len, opts)?;
        lay.new_len = (at.offset + at.size).max(cur_len);
        lay.signature = Some(at);
    }
    lay.commands = cmds;
    Ok(lay)
}

/// Where the signature goes (its old place, or the end of __LINKEDIT at the end of the file),
/// how large it is, and LC_CODE_SIGNATURE and __LINKEDIT updated to hold it.
fn place_signature(
    m: &MachO,
    cmds: &mut [LoadCommand],
    ix: &Index,
    signing: &Signing,
    cur_len: u64,
    opts: &Options,
) -> Result<SignatureAt> {
    let arch = m.arch();
    let si = ix
        .code_signature
        .ok_or_else(|| Error::Internal("lost LC_CODE_SIGNATURE".into()))?;
    let li = ix
        .linkedit
        .ok_or_else(|| Error::Unsupported(format!("{arch}: cannot sign: no __LINKEDIT segment")))?;
    let header = ix
        .header_segment
        .and_then(|i| cmds[i].segment())
        .ok_or_else(|| {
            Error::Unsupported(format!("{arch}: cannot sign: no segment maps the header"))
        })?;
    let (exec_seg_base, exec_seg_limit) = (header.fileoff, header.filesize);
    let le = cmds[li]
        .segment()
        .ok_or_else(|| Error::Internal("__LINKEDIT is not a segment".into()))?;
    let (le_off, le_size, le_vmsize) = (le.fileoff, le.filesize, le.vmsize);
    let Command::LinkeditData(LinkeditKind::CodeSignature, old) = *cmds[si].command() else {
        return Err(Error::Internal("LC_CODE_SIGNATURE is not one".into()));
    };
    let (old_off, old_size) = (u64::from(old.dataoff), u64::from(old.datasize));
    let offset = if signing.had_command && old_off != 0 {
        old_off
    } else {
        if le_off + le_size != cur_len {
            return Err(Error::Unsupported(format!(
                "{arch}: cannot add a signature: data follows __LINKEDIT"
            )));
        }
        align_up(cur_len, 16).unwrap_or(cur_len)
    };
    if offset < le_off {
        return Err(Error::Unsupported(format!(
            "{arch}: the code signature lies outside __LINKEDIT"
        )));
    }
    let main = m.header().filetype == MH_EXECUTE;
    let mut params = Params::from_existing(signing.old.as_ref(), &opts.identifier, main);
    params.exec_seg_base = exec_seg_base;
    params.exec_seg_limit = exec_seg_limit;
    let needed = params.size(offset);
    let size = if needed <= old_size {
        old_size
    } else {
        align_up(needed, 16).unwrap_or(needed)
    };
    let datasize =
        u32::try_from(size).map_err(|_| Error::Unsupported("signature too large".into()))?;
    let dataoff = u32::try_from(offset)
        .map_err(|_| Error::Unsupported("signature offset exceeds 4 GiB".into()))?;
    if let Command::LinkeditData(_, l) = cmds[si].command_mut() {
        l.dataoff = dataoff;
        l.datasize = datasize;
    }
    let new_le_size = (offset + size - le_off).max(le_size);
    let want = align_up(new_le_size, m.segment_alignment()).unwrap_or(new_le_size);
    if let Some(le) = cmds[li].segment_mut() {
        le.filesize = new_le_size;
        le.vmsize = le_vmsize.max(want);
    }
    Ok(SignatureAt {
        offset,
        size,
        params,
        label: signing.label(),
    })
}
