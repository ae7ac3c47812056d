//! Small images built in memory, for examples and tests: not part of the supported API.
//!
//! [`image`] builds an arm64 image with room for more load commands: a linked one has __TEXT
//! over `[0, LINKEDIT)` with a 256-byte `__text` at [`TEXT`] (addresses equal file offsets)
//! and __LINKEDIT over `[LINKEDIT, LINKEDIT + 0x100)`; an object file has one unnamed segment
//! over `[TEXT, LINKEDIT)` with the same `__text`, then the same 0x100 bytes of zeros.

use crate::bytes::Ctx;
use crate::command::{Command, DylibKind, LoadCommand, Section, Segment};
use crate::consts::*;
use crate::view::Header;

/// File offset and address of `__text`.
pub const TEXT: u64 = 0x3f00;
/// File offset (and, in a linked image, address) of the 0x100 bytes after `__text`.
pub const LINKEDIT: u64 = 0x4000;

fn name16(s: &[u8]) -> [u8; 16] {
    let mut b = [0u8; 16];
    let n = s.len().min(16);
    b[..n].copy_from_slice(&s[..n]);
    b
}

fn segment(name: &[u8], fileoff: u64, filesize: u64, sections: Vec<Section>) -> LoadCommand {
    let s = Segment {
        is64: true,
        segname: name16(name),
        vmaddr: fileoff,
        vmsize: filesize.next_multiple_of(0x4000),
        fileoff,
        filesize,
        maxprot: 5,
        initprot: 5,
        flags: 0,
        sections,
    };
    LoadCommand::from_parts(Command::Segment(s), Vec::new())
}

/// An unsigned arm64 image of type `filetype` (see the module documentation) with an
/// LC_ID_DYLIB naming `id` (if given), an LC_LOAD_DYLIB for each of `deps`, then `extra`:
/// whole load commands (cmd and cmdsize included) in little-endian byte order.
pub fn image(filetype: u32, id: Option<&[u8]>, deps: &[&[u8]], extra: &[Vec<u8>]) -> Vec<u8> {
    let ctx = Ctx::LE64;
    let text = Section {
        sectname: name16(b"__text"),
        segname: name16(b"__TEXT"),
        addr: TEXT,
        size: LINKEDIT - TEXT,
        offset: TEXT as u32,
        align: 2,
        reloff: 0,
        nreloc: 0,
        flags: 0x8000_0400,
        reserved1: 0,
        reserved2: 0,
        reserved3: 0,
    };
    let mut cmds = if filetype == MH_OBJECT {
        vec![segment(b"", TEXT, LINKEDIT - TEXT, vec![text])]
    } else {
        vec![
            segment(b"__TEXT", 0, LINKEDIT, vec![text]),
            segment(b"__LINKEDIT", LINKEDIT, 0x100, Vec::new()),
        ]
    };
    if let Some(id) = id {
        cmds.push(LoadCommand::dylib(ctx, DylibKind::Id, id, None));
    }
    for d in deps {
        cmds.push(LoadCommand::dylib(ctx, DylibKind::Load, d, None));
    }
    let header = Header {
        magic: MH_MAGIC_64,
        cputype: CPU_TYPE_ARM64,
        cpusubtype: 0,
        filetype,
        ncmds: 0,
        sizeofcmds: 0,
        flags: 0x0010_0085,
    };
    let mut out = crate::view::write_header_and_commands(ctx, header, 0, &cmds).unwrap_or_default();
    for c in extra {
        out.extend_from_slice(c);
    }
    let sizeofcmds = (out.len() - 32) as u32;
    out[16..20].copy_from_slice(&((cmds.len() + extra.len()) as u32).to_le_bytes());
    out[20..24].copy_from_slice(&sizeofcmds.to_le_bytes());
    out.resize(TEXT as usize, 0);
    // `ret`, over and over.
    while (out.len() as u64) < LINKEDIT {
        out.extend_from_slice(&0xd65f_03c0u32.to_le_bytes());
    }
    out.resize(LINKEDIT as usize + 0x100, 0);
    out
}

/// An unsigned arm64 MH_DYLIB (see [`image`]) with install name `id` and dependencies `deps`.
pub fn dylib(id: &[u8], deps: &[&[u8]]) -> Vec<u8> {
    image(MH_DYLIB, Some(id), deps, &[])
}
