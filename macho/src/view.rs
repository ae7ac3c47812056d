//! A parsed, zero-copy view of one thin Mach-O image: header, load commands, segments and
//! sections, dylib references, rpaths, install name and code signature location.
//!
//! Every count and offset is checked against the image before use; nothing is allocated from a
//! size the file claims without that check.

use crate::bytes::{cstr, slice, Ctx};
use crate::consts::*;
use crate::error::{malformed, Error, Result};

/// The fixed part of a `mach_header(_64)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub magic: u32,
    pub cputype: u32,
    pub cpusubtype: u32,
    pub filetype: u32,
    pub ncmds: u32,
    pub sizeofcmds: u32,
    pub flags: u32,
}

/// One load command: where it sits in the image and its raw bytes.
#[derive(Debug, Clone, Copy)]
pub struct LoadCommand<'a> {
    pub cmd: u32,
    pub offset: u64,
    pub bytes: &'a [u8],
}

/// A section header (32- and 64-bit alike).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub sectname: [u8; 16],
    pub segname: [u8; 16],
    pub addr: u64,
    pub size: u64,
    pub offset: u32,
    pub align: u32,
    pub reloff: u32,
    pub nreloc: u32,
    pub flags: u32,
}

impl Section {
    pub fn name(&self) -> &[u8] {
        cstr(&self.sectname, 0)
    }
    pub fn segment_name(&self) -> &[u8] {
        cstr(&self.segname, 0)
    }
    pub fn is_zerofill(&self) -> bool {
        matches!(
            self.flags & SECTION_TYPE,
            S_ZEROFILL | S_GB_ZEROFILL | S_THREAD_LOCAL_ZEROFILL
        )
    }
    /// Whether the section occupies bytes of the file.
    pub fn has_file_data(&self) -> bool {
        !self.is_zerofill() && self.size > 0 && self.offset != 0
    }
}

/// A segment command with its sections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Index of the load command.
    pub cmd_index: usize,
    pub segname: [u8; 16],
    pub vmaddr: u64,
    pub vmsize: u64,
    pub fileoff: u64,
    pub filesize: u64,
    pub sections: Vec<Section>,
}

impl Segment {
    pub fn name(&self) -> &[u8] {
        cstr(&self.segname, 0)
    }
}

/// A dylib load command (`dylib_command`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dylib {
    pub cmd_index: usize,
    pub cmd: u32,
    pub name: Vec<u8>,
    pub timestamp: u32,
    pub current_version: u32,
    pub compatibility_version: u32,
}

/// A parsed thin image.
pub struct MachO<'a> {
    pub data: &'a [u8],
    pub ctx: Ctx,
    pub header: Header,
    pub cmds: Vec<LoadCommand<'a>>,
    pub segments: Vec<Segment>,
}

/// Size of `mach_header` / `mach_header_64`.
pub fn header_size(is64: bool) -> u64 {
    if is64 {
        32
    } else {
        28
    }
}

/// The architecture name used in messages (`arm64`, `x86_64`, …).
pub fn arch_name(cputype: u32, cpusubtype: u32) -> String {
    match cputype {
        CPU_TYPE_ARM64 if cpusubtype & 0xff == 2 => "arm64e".into(),
        CPU_TYPE_ARM64 => "arm64".into(),
        CPU_TYPE_ARM64_32 => "arm64_32".into(),
        CPU_TYPE_X86_64 if cpusubtype & 0xff == 8 => "x86_64h".into(),
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
        let magic_bytes: [u8; 4] = slice(data, 0, 4, "Mach-O magic")?
            .try_into()
            .map_err(|_| Error::NotMachO)?;
        let ctx = match u32::from_le_bytes(magic_bytes) {
            MH_MAGIC => Ctx {
                little: true,
                is64: false,
            },
            MH_MAGIC_64 => Ctx {
                little: true,
                is64: true,
            },
            _ => match u32::from_be_bytes(magic_bytes) {
                MH_MAGIC => Ctx {
                    little: false,
                    is64: false,
                },
                MH_MAGIC_64 => Ctx {
                    little: false,
                    is64: true,
                },
                _ => return Err(Error::NotMachO),
            },
        };
        let h = |off, what| ctx.u32(data, off, what);
        let header = Header {
            magic: h(0, "Mach-O header")?,
            cputype: h(4, "Mach-O header")?,
            cpusubtype: h(8, "Mach-O header")?,
            filetype: h(12, "Mach-O header")?,
            ncmds: h(16, "Mach-O header")?,
            sizeofcmds: h(20, "Mach-O header")?,
            flags: h(24, "Mach-O header")?,
        };
        let hs = header_size(ctx.is64);
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
        let align = if ctx.is64 { 8 } else { 4 };
        let mut cmds = Vec::with_capacity(header.ncmds as usize);
        let mut pos = 0u64;
        for i in 0..header.ncmds {
            let cmd = ctx.u32(area, pos, "load command")?;
            let size = ctx.u32(area, pos + 4, "load command")? as u64;
            if size < 8 || !size.is_multiple_of(4) {
                return Err(malformed(
                    "load command",
                    format!("command {i} ({cmd:#x}) has cmdsize {size}"),
                ));
            }
            let _ = align;
            let bytes = slice(area, pos, size, "load command")?;
            cmds.push(LoadCommand {
                cmd,
                offset: hs + pos,
                bytes,
            });
            pos += size;
        }
        let mut m = MachO {
            data,
            ctx,
            header,
            cmds,
            segments: Vec::new(),
        };
        m.segments = m.parse_segments()?;
        m.check_linkedit_ranges()?;
        Ok(m)
    }

    fn parse_segments(&self) -> Result<Vec<Segment>> {
        let c = self.ctx;
        let mut segs = Vec::new();
        for (i, lc) in self.cmds.iter().enumerate() {
            let b = lc.bytes;
            let (hdr, sect) = match lc.cmd {
                LC_SEGMENT_64 => (72u64, 80u64),
                LC_SEGMENT => (56, 68),
                _ => continue,
            };
            if (b.len() as u64) < hdr {
                return Err(malformed("segment command", "shorter than its header"));
            }
            let mut segname = [0u8; 16];
            segname.copy_from_slice(&b[8..24]);
            let (vmaddr, vmsize, fileoff, filesize, nsects) = if lc.cmd == LC_SEGMENT_64 {
                (
                    c.u64(b, 24, "segment")?,
                    c.u64(b, 32, "segment")?,
                    c.u64(b, 40, "segment")?,
                    c.u64(b, 48, "segment")?,
                    c.u32(b, 64, "segment")?,
                )
            } else {
                (
                    c.u32(b, 24, "segment")? as u64,
                    c.u32(b, 28, "segment")? as u64,
                    c.u32(b, 32, "segment")? as u64,
                    c.u32(b, 36, "segment")? as u64,
                    c.u32(b, 48, "segment")?,
                )
            };
            let name = String::from_utf8_lossy(cstr(&segname, 0)).into_owned();
            if u64::from(nsects) * sect + hdr > b.len() as u64 {
                return Err(malformed(
                    "segment command",
                    format!(
                        "{name}: {nsects} sections do not fit in cmdsize {}",
                        b.len()
                    ),
                ));
            }
            if fileoff
                .checked_add(filesize)
                .is_none_or(|e| e > self.data.len() as u64)
            {
                return Err(malformed(
                    "segment command",
                    format!(
                        "{name}: file range {fileoff:#x}+{filesize:#x} lies outside the image \
                         ({:#x} bytes)",
                        self.data.len()
                    ),
                ));
            }
            let mut sections = Vec::with_capacity(nsects as usize);
            for k in 0..u64::from(nsects) {
                let o = hdr + k * sect;
                let mut sectname = [0u8; 16];
                sectname.copy_from_slice(slice(b, o, 16, "section")?);
                let mut sseg = [0u8; 16];
                sseg.copy_from_slice(slice(b, o + 16, 16, "section")?);
                let s = if lc.cmd == LC_SEGMENT_64 {
                    Section {
                        sectname,
                        segname: sseg,
                        addr: c.u64(b, o + 32, "section")?,
                        size: c.u64(b, o + 40, "section")?,
                        offset: c.u32(b, o + 48, "section")?,
                        align: c.u32(b, o + 52, "section")?,
                        reloff: c.u32(b, o + 56, "section")?,
                        nreloc: c.u32(b, o + 60, "section")?,
                        flags: c.u32(b, o + 64, "section")?,
                    }
                } else {
                    Section {
                        sectname,
                        segname: sseg,
                        addr: c.u32(b, o + 32, "section")? as u64,
                        size: c.u32(b, o + 36, "section")? as u64,
                        offset: c.u32(b, o + 40, "section")?,
                        align: c.u32(b, o + 44, "section")?,
                        reloff: c.u32(b, o + 48, "section")?,
                        nreloc: c.u32(b, o + 52, "section")?,
                        flags: c.u32(b, o + 56, "section")?,
                    }
                };
                if s.has_file_data()
                    && u64::from(s.offset)
                        .checked_add(s.size)
                        .is_none_or(|e| e > self.data.len() as u64)
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
                sections.push(s);
            }
            segs.push(Segment {
                cmd_index: i,
                segname,
                vmaddr,
                vmsize,
                fileoff,
                filesize,
                sections,
            });
        }
        Ok(segs)
    }

    /// Every linkedit blob a command points at must lie inside the image.
    fn check_linkedit_ranges(&self) -> Result<()> {
        for (what, off, len) in self.linkedit_ranges()? {
            slice(self.data, off, len, what)?;
        }
        Ok(())
    }

    /// (what, offset, size) of every linkedit table the load commands point at.
    pub fn linkedit_ranges(&self) -> Result<Vec<(&'static str, u64, u64)>> {
        let c = self.ctx;
        let mut out = Vec::new();
        for lc in &self.cmds {
            let b = lc.bytes;
            let u = |o| c.u32(b, o, "load command").map(u64::from);
            match lc.cmd {
                LC_SYMTAB => {
                    let nl = if c.is64 { 16 } else { 12 };
                    out.push(("symbol table", u(8)?, u(12)? * nl));
                    out.push(("string table", u(16)?, u(20)?));
                }
                LC_DYSYMTAB => {
                    let modtab = if c.is64 { 56 } else { 52 };
                    out.push(("table of contents", u(32)?, u(36)? * 8));
                    out.push(("module table", u(40)?, u(44)? * modtab));
                    out.push(("referenced symbols", u(48)?, u(52)? * 4));
                    out.push(("indirect symbol table", u(56)?, u(60)? * 4));
                    out.push(("external relocations", u(64)?, u(68)? * 8));
                    out.push(("local relocations", u(72)?, u(76)? * 8));
                }
                LC_DYLD_INFO | LC_DYLD_INFO_ONLY => {
                    out.push(("rebase info", u(8)?, u(12)?));
                    out.push(("bind info", u(16)?, u(20)?));
                    out.push(("weak bind info", u(24)?, u(28)?));
                    out.push(("lazy bind info", u(32)?, u(36)?));
                    out.push(("export info", u(40)?, u(44)?));
                }
                cmd if LINKEDIT_DATA_CMDS.contains(&cmd) => {
                    out.push(("linkedit data", u(8)?, u(12)?));
                }
                _ => {}
            }
        }
        Ok(out)
    }

    pub fn arch(&self) -> String {
        arch_name(self.header.cputype, self.header.cpusubtype)
    }

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
        for seg in &self.segments {
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
        for (_, off, len) in self.linkedit_ranges().unwrap_or_default() {
            if off > 0 && len > 0 {
                low = low.min(off);
            }
        }
        for lc in &self.cmds {
            if lc.cmd == LC_NOTE {
                let off = self.ctx.u64(lc.bytes, 24, "LC_NOTE").unwrap_or(0);
                let len = self.ctx.u64(lc.bytes, 32, "LC_NOTE").unwrap_or(0);
                if off > 0 && len > 0 {
                    low = low.min(off);
                }
            }
        }
        low
    }

    /// The segment mapping the header (file offset 0 with file data), normally __TEXT.
    pub fn header_segment(&self) -> Option<&Segment> {
        self.segments
            .iter()
            .find(|s| s.fileoff == 0 && s.filesize > 0)
    }

    pub fn linkedit(&self) -> Option<&Segment> {
        self.segments.iter().find(|s| s.name() == b"__LINKEDIT")
    }

    /// Dylib commands, dependencies and LC_ID_DYLIB alike, in load-command order.
    pub fn dylibs(&self) -> Result<Vec<Dylib>> {
        let c = self.ctx;
        let mut out = Vec::new();
        for (i, lc) in self.cmds.iter().enumerate() {
            if !(DEPENDENCY_CMDS.contains(&lc.cmd) || lc.cmd == LC_ID_DYLIB) {
                continue;
            }
            let b = lc.bytes;
            let name_off = c.u32(b, 8, "dylib command")?;
            if name_off < 24 || name_off as usize > b.len() {
                return Err(malformed(
                    "dylib command",
                    format!("name offset {name_off} outside cmdsize {}", b.len()),
                ));
            }
            // dyld refuses a name that runs past the end of its command.
            if !b[name_off as usize..].contains(&0) {
                return Err(malformed(
                    "dylib command",
                    format!("command {i}: the name has no terminator within cmdsize"),
                ));
            }
            out.push(Dylib {
                cmd_index: i,
                cmd: lc.cmd,
                name: cstr(b, name_off as usize).to_vec(),
                timestamp: c.u32(b, 12, "dylib command")?,
                current_version: c.u32(b, 16, "dylib command")?,
                compatibility_version: c.u32(b, 20, "dylib command")?,
            });
        }
        Ok(out)
    }

    /// LC_RPATH paths in order, with their command index.
    pub fn rpaths(&self) -> Result<Vec<(usize, Vec<u8>)>> {
        let mut out = Vec::new();
        for (i, lc) in self.cmds.iter().enumerate() {
            if lc.cmd == LC_RPATH {
                out.push((i, rpath_of(self.ctx, lc.bytes)?));
            }
        }
        Ok(out)
    }

    pub fn install_name(&self) -> Result<Option<Vec<u8>>> {
        Ok(self
            .dylibs()?
            .into_iter()
            .find(|d| d.cmd == LC_ID_DYLIB)
            .map(|d| d.name))
    }

    /// (dataoff, datasize) of LC_CODE_SIGNATURE.
    pub fn code_signature(&self) -> Result<Option<(u32, u32)>> {
        for lc in &self.cmds {
            if lc.cmd == LC_CODE_SIGNATURE {
                let b = lc.bytes;
                return Ok(Some((
                    self.ctx.u32(b, 8, "LC_CODE_SIGNATURE")?,
                    self.ctx.u32(b, 12, "LC_CODE_SIGNATURE")?,
                )));
            }
        }
        Ok(None)
    }

    /// Segment alignment the loader and kernel expect: 16 KiB on arm64, 4 KiB elsewhere.
    pub fn segment_alignment(&self) -> u64 {
        match self.header.cputype {
            CPU_TYPE_ARM64 | CPU_TYPE_ARM64_32 => 0x4000,
            _ => 0x1000,
        }
    }
}

/// The path of an `rpath_command`.
pub fn rpath_of(ctx: Ctx, b: &[u8]) -> Result<Vec<u8>> {
    let off = ctx.u32(b, 8, "LC_RPATH")?;
    if off < 12 || off as usize > b.len() {
        return Err(malformed(
            "LC_RPATH",
            format!("path offset {off} outside cmdsize {}", b.len()),
        ));
    }
    if !b[off as usize..].contains(&0) {
        return Err(malformed(
            "LC_RPATH",
            "the path has no terminator within cmdsize",
        ));
    }
    Ok(cstr(b, off as usize).to_vec())
}
