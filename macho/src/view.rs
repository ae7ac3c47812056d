//! A parsed thin Mach-O image: the header, the typed load commands, and where the commands
//! other steps look for are (recorded once, at parse).
//!
//! Every count and offset is checked against the image before use; nothing is allocated from a
//! size the file claims without that check.

use scroll::{Pread, Pwrite, SizeWith};

use crate::bytes::{slice, Ctx};
use crate::command::{Command, DylibCommand, DylibKind, LoadCommand, Segment};
use crate::consts::*;
use crate::error::{malformed, Error, Result};
use crate::moves::Table;

/// The `mach_header` / `mach_header_64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Pread, Pwrite, SizeWith)]
pub struct Header {
    /// `MH_MAGIC` or `MH_MAGIC_64` (in the file's byte order).
    pub magic: u32,
    /// CPU type (`CPU_TYPE_ARM64`, …).
    pub cputype: u32,
    /// CPU subtype.
    pub cpusubtype: u32,
    /// File type (`MH_EXECUTE`, `MH_DYLIB`, …).
    pub filetype: u32,
    /// Number of load commands.
    pub ncmds: u32,
    /// Their total size in bytes.
    pub sizeofcmds: u32,
    /// Flags (`MH_PIE`, …).
    pub flags: u32,
}

/// A dylib command as [`MachO::dylibs`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dylib {
    /// Index of the load command.
    pub index: usize,
    /// Which kind of dylib command.
    pub kind: DylibKind,
    /// The library's install name.
    pub name: Vec<u8>,
    /// The versions and timestamp the command records.
    pub command: DylibCommand,
}

/// Where the commands that later steps look for are, by load-command index (the first of
/// each kind, as dyld takes it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Index {
    pub segments: Vec<usize>,
    /// The segment that maps the header (file offset 0, with file data), normally __TEXT.
    pub header_segment: Option<usize>,
    pub linkedit: Option<usize>,
    pub symtab: Option<usize>,
    pub dysymtab: Option<usize>,
    pub dyld_info: Option<usize>,
    pub code_signature: Option<usize>,
}

impl Index {
    pub fn of(cmds: &[LoadCommand]) -> Index {
        let mut ix = Index::default();
        let first = |slot: &mut Option<usize>, i| {
            slot.get_or_insert(i);
        };
        for (i, c) in cmds.iter().enumerate() {
            match c.command() {
                Command::Segment(s) => {
                    ix.segments.push(i);
                    if s.fileoff == 0 && s.filesize > 0 {
                        first(&mut ix.header_segment, i);
                    }
                    if s.name() == b"__LINKEDIT" {
                        first(&mut ix.linkedit, i);
                    }
                }
                Command::Symtab(_) => first(&mut ix.symtab, i),
                Command::Dysymtab(_) => first(&mut ix.dysymtab, i),
                Command::DyldInfo { .. } => first(&mut ix.dyld_info, i),
                Command::LinkeditData(crate::command::LinkeditKind::CodeSignature, _) => {
                    first(&mut ix.code_signature, i)
                }
                _ => {}
            }
        }
        ix
    }
}

/// A parsed thin image.
#[derive(Debug, Clone)]
pub struct MachO<'a> {
    data: &'a [u8],
    ctx: Ctx,
    header: Header,
    /// The 64-bit header's reserved word.
    reserved: u32,
    commands: Vec<LoadCommand>,
    offsets: Vec<u64>,
    index: Index,
}

/// Size of `mach_header` / `mach_header_64`.
pub(crate) fn header_size(is64: bool) -> u64 {
    if is64 {
        32
    } else {
        28
    }
}

/// The architecture name used in messages (`arm64`, `x86_64`, …).
pub fn arch_name(cputype: u32, cpusubtype: u32) -> String {
    let sub = cpusubtype & CPU_SUBTYPE_MASK;
    match cputype {
        CPU_TYPE_ARM64 if sub == CPU_SUBTYPE_ARM64E => "arm64e".into(),
        CPU_TYPE_ARM64 => "arm64".into(),
        CPU_TYPE_ARM64_32 => "arm64_32".into(),
        CPU_TYPE_X86_64 if sub == CPU_SUBTYPE_X86_64_H => "x86_64h".into(),
        CPU_TYPE_X86_64 => "x86_64".into(),
        CPU_TYPE_X86 => "i386".into(),
        CPU_TYPE_ARM => "arm".into(),
        CPU_TYPE_POWERPC => "ppc".into(),
        CPU_TYPE_POWERPC64 => "ppc64".into(),
        other => format!("cputype {other:#x}"),
    }
}

impl<'a> MachO<'a> {
    /// Parses a thin image occupying all of `data`.
    pub fn parse(data: &'a [u8]) -> Result<MachO<'a>> {
        let m = slice(data, 0, 4, "Mach-O magic")?;
        let le = u32::from_le_bytes([m[0], m[1], m[2], m[3]]);
        let ctx = match (le, le.swap_bytes()) {
            (MH_MAGIC, _) => Ctx {
                little: true,
                is64: false,
            },
            (MH_MAGIC_64, _) => Ctx::LE64,
            (_, MH_MAGIC) => Ctx {
                little: false,
                is64: false,
            },
            (_, MH_MAGIC_64) => Ctx::BE64,
            _ => return Err(Error::NotMachO),
        };
        let hs = header_size(ctx.is64);
        let head = slice(data, 0, hs, "Mach-O header")?;
        let header: Header = head
            .pread_with(0, ctx.endian())
            .map_err(|e: scroll::Error| malformed("Mach-O header", e.to_string()))?;
        let reserved = if ctx.is64 {
            ctx.u32(head, 28, "Mach-O header")?
        } else {
            0
        };
        let area = slice(data, hs, u64::from(header.sizeofcmds), "load commands")?;
        // Each command is at least 8 bytes, which bounds the count before anything is allocated.
        if u64::from(header.ncmds) * 8 > u64::from(header.sizeofcmds) {
            return Err(malformed(
                "mach header",
                format!(
                    "{} load commands cannot fit in sizeofcmds {}",
                    header.ncmds, header.sizeofcmds
                ),
            ));
        }
        let mut commands = Vec::with_capacity(header.ncmds as usize);
        let mut offsets = Vec::with_capacity(header.ncmds as usize);
        let mut pos = 0u64;
        for i in 0..header.ncmds {
            let cmd = ctx.u32(area, pos, "load command")?;
            let size = u64::from(ctx.u32(area, pos + 4, "load command")?);
            if size < 8 || !size.is_multiple_of(4) {
                return Err(malformed(
                    "load command",
                    format!("command {i} ({cmd:#x}) has cmdsize {size}"),
                ));
            }
            let bytes = slice(area, pos, size, "load command")?;
            commands.push(LoadCommand::parse(ctx, bytes).map_err(|e| match e {
                Error::Malformed { what, detail } => {
                    malformed(what, format!("command {i}: {detail}"))
                }
                e => e,
            })?);
            offsets.push(hs + pos);
            pos += size;
        }
        let index = Index::of(&commands);
        let m = MachO {
            data,
            ctx,
            header,
            reserved,
            commands,
            offsets,
            index,
        };
        m.check_ranges()?;
        Ok(m)
    }

    /// Every segment, section and linkedit table must lie inside the image.
    fn check_ranges(&self) -> Result<()> {
        let len = self.data.len() as u64;
        for seg in self.segments() {
            let name = String::from_utf8_lossy(seg.name()).into_owned();
            if seg
                .fileoff
                .checked_add(seg.filesize)
                .is_none_or(|e| e > len)
            {
                return Err(malformed(
                    "segment command",
                    format!(
                        "{name}: file range {:#x}+{:#x} lies outside the image ({len:#x} bytes)",
                        seg.fileoff, seg.filesize
                    ),
                ));
            }
            for s in &seg.sections {
                if s.has_file_data()
                    && u64::from(s.offset)
                        .checked_add(s.size)
                        .is_none_or(|e| e > len)
                {
                    return Err(malformed(
                        "section",
                        format!(
                            "{},{}: file range {:#x}+{:#x} lies outside the image",
                            String::from_utf8_lossy(s.segment_name()),
                            String::from_utf8_lossy(s.name()),
                            s.offset,
                            s.size
                        ),
                    ));
                }
            }
        }
        for t in self.tables() {
            slice(self.data, t.offset, t.size, t.what)?;
        }
        Ok(())
    }

    /// The bytes of the image.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    pub(crate) fn ctx(&self) -> Ctx {
        self.ctx
    }

    /// Whether the image is 64-bit.
    pub fn is_64(&self) -> bool {
        self.ctx.is64
    }

    /// Whether the image is little-endian.
    pub fn is_little_endian(&self) -> bool {
        self.ctx.little
    }

    /// The header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The load commands, in order.
    pub fn commands(&self) -> &[LoadCommand] {
        &self.commands
    }

    /// The file offset of load command `i`.
    pub fn command_offset(&self, i: usize) -> Option<u64> {
        self.offsets.get(i).copied()
    }

    pub(crate) fn index(&self) -> &Index {
        &self.index
    }

    /// The segments, in load-command order.
    pub fn segments(&self) -> impl Iterator<Item = &Segment> + '_ {
        self.commands.iter().filter_map(LoadCommand::segment)
    }

    /// Every table outside sections that a load command points at.
    pub(crate) fn tables(&self) -> impl Iterator<Item = Table> + '_ {
        let is64 = self.ctx.is64;
        self.commands
            .iter()
            .flat_map(move |c| c.command().tables(is64))
    }

    /// The architecture name (`arm64`, `x86_64`, …).
    pub fn arch(&self) -> String {
        arch_name(self.header.cputype, self.header.cpusubtype)
    }

    /// Size of the header.
    pub fn header_size(&self) -> u64 {
        header_size(self.ctx.is64)
    }

    /// End of the load commands (header + sizeofcmds).
    pub fn commands_end(&self) -> u64 {
        self.header_size() + u64::from(self.header.sizeofcmds)
    }

    /// The lowest file offset holding data after the load commands (section or segment data,
    /// relocations, linkedit tables, notes): load commands may grow up to here.
    pub fn first_content_offset(&self) -> u64 {
        let mut low = self.data.len() as u64;
        for seg in self.segments() {
            if seg.sections.is_empty() {
                if seg.filesize > 0 && seg.fileoff > 0 {
                    low = low.min(seg.fileoff);
                }
                continue;
            }
            for s in &seg.sections {
                if s.has_file_data() {
                    low = low.min(u64::from(s.offset));
                }
                if s.nreloc > 0 && s.reloff > 0 {
                    low = low.min(u64::from(s.reloff));
                }
            }
        }
        // Linked images keep these inside __LINKEDIT (counted above); an object file has them
        // after its sections, or anywhere.
        for t in self.tables() {
            if t.offset > 0 && t.size > 0 {
                low = low.min(t.offset);
            }
        }
        for c in &self.commands {
            if let Command::Note(n) = c.command() {
                if n.offset > 0 && n.size > 0 {
                    low = low.min(n.offset);
                }
            }
        }
        low
    }

    /// The segment mapping the header (file offset 0 with file data), normally __TEXT.
    pub fn header_segment(&self) -> Option<&Segment> {
        self.index
            .header_segment
            .and_then(|i| self.commands[i].segment())
    }

    /// The __LINKEDIT segment.
    pub fn linkedit(&self) -> Option<&Segment> {
        self.index.linkedit.and_then(|i| self.commands[i].segment())
    }

    /// Dylib commands, dependencies and LC_ID_DYLIB alike, in load-command order.
    pub fn dylibs(&self) -> Vec<Dylib> {
        self.commands
            .iter()
            .enumerate()
            .filter_map(|(index, c)| match c.command() {
                Command::Dylib(kind, d) => Some(Dylib {
                    index,
                    kind: *kind,
                    name: c.string().unwrap_or_default().to_vec(),
                    command: *d,
                }),
                _ => None,
            })
            .collect()
    }

    /// LC_RPATH paths in order, with their command index.
    pub fn rpaths(&self) -> Vec<(usize, &[u8])> {
        self.commands
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_rpath())
            .map(|(i, c)| (i, c.string().unwrap_or_default()))
            .collect()
    }

    /// The install name (LC_ID_DYLIB).
    pub fn install_name(&self) -> Option<&[u8]> {
        self.commands
            .iter()
            .find(|c| c.dylib_kind() == Some(DylibKind::Id))
            .and_then(LoadCommand::string)
    }

    /// (dataoff, datasize) of LC_CODE_SIGNATURE.
    pub fn code_signature(&self) -> Option<(u32, u32)> {
        match self
            .index
            .code_signature
            .map(|i| self.commands[i].command())
        {
            Some(Command::LinkeditData(_, l)) => Some((l.dataoff, l.datasize)),
            _ => None,
        }
    }

    /// Segment alignment the loader and kernel expect: 16 KiB on arm64, 4 KiB elsewhere.
    pub fn segment_alignment(&self) -> u64 {
        match self.header.cputype {
            CPU_TYPE_ARM64 | CPU_TYPE_ARM64_32 => 0x4000,
            _ => 0x1000,
        }
    }

    /// The header and `cmds` as bytes in this image's byte order: the header with the count
    /// and size of `cmds`, then every command. For this image's own [`MachO::commands`], the
    /// bytes the file has up to [`MachO::commands_end`].
    pub fn encode_commands(&self, cmds: &[LoadCommand]) -> Result<Vec<u8>> {
        write_header_and_commands(self.ctx, self.header, self.reserved, cmds)
    }
}

/// `header` (with the count and size of `cmds`) followed by `cmds`.
pub(crate) fn write_header_and_commands(
    ctx: Ctx,
    header: Header,
    reserved: u32,
    cmds: &[LoadCommand],
) -> Result<Vec<u8>> {
    let hs = header_size(ctx.is64);
    let mut out = Vec::with_capacity(hs as usize + 4096);
    out.resize(hs as usize, 0);
    for c in cmds {
        c.write(ctx, &mut out)?;
    }
    let sizeofcmds = u32::try_from(out.len() as u64 - hs)
        .map_err(|_| Error::Unsupported("load commands exceed 4 GiB".into()))?;
    let header = Header {
        ncmds: u32::try_from(cmds.len())
            .map_err(|_| Error::Unsupported("too many load commands".into()))?,
        sizeofcmds,
        ..header
    };
    out.pwrite_with(header, 0, ctx.endian())
        .map_err(|e| Error::Internal(format!("writing the Mach-O header: {e}")))?;
    if ctx.is64 {
        ctx.put_u32(&mut out, 28, reserved, "Mach-O header")?;
    }
    Ok(out)
}
