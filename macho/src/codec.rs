//! Load commands as bytes: [`LoadCommand::parse`] reads one (checked against its `cmdsize`),
//! [`LoadCommand::write`] writes it back in the image's byte order. The fixed part of each kind
//! goes through scroll; the bytes after it are copied as they are. Layouts that differ between
//! 32- and 64-bit images only in the width of some fields are one record generic over that
//! width ([`Word`]).

use scroll::ctx::{SizeWith, TryFromCtx, TryIntoCtx};
use scroll::{Endian, Pread, Pwrite, SizeWith, LE};

use crate::bytes::{cstr, Ctx};
use crate::command::*;
use crate::consts::*;
use crate::error::{malformed, Error, Result};

/// The width of the address and size fields of a 32-bit (`u32`) or 64-bit (`u64`) layout.
pub(crate) trait Word:
    Copy
    + Into<u64>
    + TryFrom<u64>
    + for<'a> TryFromCtx<'a, Endian, Error = scroll::Error>
    + TryIntoCtx<Endian, Error = scroll::Error>
    + SizeWith<Endian>
{
}

impl Word for u32 {}
impl Word for u64 {}

// The records generic over `Word` are written by reference: scroll_derive's by-value
// `TryIntoCtx` of a generic record calls the by-reference one, which a generic function can
// only use with `&W: TryIntoCtx` in scope (without it, the call resolves to itself).

/// `v` in a field of width `W`, or an error naming the field.
pub(crate) fn narrow<W: Word>(v: u64, what: &str) -> Result<W> {
    W::try_from(v).map_err(|_| {
        Error::Unsupported(format!(
            "{what} exceeds 4 GiB, which its 32-bit field cannot hold"
        ))
    })
}

/// `$ty { f: $src.f, …, rest }`: a record built from another with the same fields `f`, the
/// differing ones (`rest`) given.
macro_rules! convert {
    ($src:expr => $ty:ident $(::<$g:ty>)? { $($f:ident),* ; $($rest:tt)* }) => {
        $ty $(::<$g>)? { $($f: $src.$f,)* $($rest)* }
    };
}
pub(crate) use convert;

/// `segment_command` (`W` = u32) and `segment_command_64` (u64), after cmd and cmdsize.
#[derive(Clone, Copy, Pread, Pwrite, SizeWith)]
struct RawSegment<W> {
    segname: [u8; 16],
    vmaddr: W,
    vmsize: W,
    fileoff: W,
    filesize: W,
    maxprot: u32,
    initprot: u32,
    nsects: u32,
    flags: u32,
}

/// `section` and `section_64`, less the 64-bit one's `reserved3`.
#[derive(Clone, Copy, Pread, Pwrite, SizeWith)]
struct RawSection<W> {
    sectname: [u8; 16],
    segname: [u8; 16],
    addr: W,
    size: W,
    offset: u32,
    align: u32,
    reloff: u32,
    nreloc: u32,
    flags: u32,
    reserved1: u32,
    reserved2: u32,
}

/// `routines_command` and `routines_command_64`, after cmd and cmdsize.
#[derive(Clone, Copy, Pread, Pwrite, SizeWith)]
struct RawRoutines<W> {
    init_address: W,
    init_module: W,
    reserved: [W; 6],
}

/// `encryption_info_command`, after cmd and cmdsize (the 64-bit one adds a padding word).
#[derive(Clone, Copy, Pread, Pwrite, SizeWith)]
struct RawEncryptionInfo {
    cryptoff: u32,
    cryptsize: u32,
    cryptid: u32,
}

/// Commands of [`Command::Other`].
const NO_OFFSETS: [u32; 12] = [
    LC_LOAD_DYLINKER,
    LC_ID_DYLINKER,
    LC_DYLD_ENVIRONMENT,
    LC_SUB_FRAMEWORK,
    LC_SUB_UMBRELLA,
    LC_SUB_CLIENT,
    LC_SUB_LIBRARY,
    LC_LINKER_OPTION,
    LC_TARGET_TRIPLE,
    LC_IDENT,
    LC_PREBOUND_DYLIB,
    LC_PREBIND_CKSUM,
];

/// Size of a command whose fixed part is `T` after cmd and cmdsize.
pub(crate) fn with_head<T: SizeWith<Endian>>() -> usize {
    8 + T::size_with(&LE)
}

fn section_size(is64: bool) -> usize {
    if is64 {
        with_head::<RawSection<u64>>() - 8 + 4
    } else {
        with_head::<RawSection<u32>>() - 8
    }
}

fn segment_head(is64: bool) -> usize {
    if is64 {
        with_head::<RawSegment<u64>>()
    } else {
        with_head::<RawSegment<u32>>()
    }
}

/// Reads a `T` at `at`, or fails naming the command.
fn read<'a, T>(b: &'a [u8], at: usize, e: Endian, what: &'static str) -> Result<T>
where
    T: TryFromCtx<'a, Endian, Error = scroll::Error> + SizeWith<Endian>,
{
    let need = at + T::size_with(&e);
    if b.len() < need {
        return Err(malformed(
            what,
            format!(
                "cmdsize {} is smaller than the command ({need} bytes)",
                b.len()
            ),
        ));
    }
    b.pread_with(at, e)
        .map_err(|err: scroll::Error| malformed(what, err.to_string()))
}

fn write<T>(b: &mut [u8], at: usize, v: T, e: Endian) -> Result<()>
where
    T: TryIntoCtx<Endian, Error = scroll::Error>,
{
    b.pwrite_with(v, at, e)
        .map(|_| ())
        .map_err(|err| Error::Internal(format!("writing a load command: {err}")))
}

/// [`write`] of a record generic over [`Word`], by reference (see there).
fn write_record<T>(b: &mut [u8], at: usize, v: &T, e: Endian) -> Result<()>
where
    for<'r> &'r T: TryIntoCtx<Endian, Error = scroll::Error>,
{
    write(b, at, v, e)
}

/// The NUL-terminated string at `off` from the start of command `b` whose fixed part is
/// `fixed` bytes, checked as dyld checks it: inside the command, terminated within it.
fn lc_str(b: &[u8], fixed: usize, off: u32, what: &'static str) -> Result<()> {
    let off = off as usize;
    if off < fixed || off > b.len() {
        return Err(malformed(
            what,
            format!("string offset {off} outside cmdsize {}", b.len()),
        ));
    }
    if !b[off..].contains(&0) {
        return Err(malformed(
            what,
            "the string has no terminator within cmdsize",
        ));
    }
    Ok(())
}

/// The NUL-terminated string at `off` from the start of a command with fixed part `fixed`
/// and bytes `tail` after it (checked when the command was parsed or built).
pub(crate) fn string_in(tail: &[u8], fixed: usize, off: u32) -> Option<&[u8]> {
    let at = (off as usize).checked_sub(fixed)?;
    tail.get(at..).map(|s| cstr(s, 0))
}

fn segment_from<W: Word>(b: &[u8], e: Endian, is64: bool) -> Result<Segment> {
    let what = "segment command";
    if b.len() < segment_head(is64) {
        return Err(malformed(what, "shorter than its header"));
    }
    let s: RawSegment<W> = read(b, 8, e, what)?;
    let mut seg = convert!(s => Segment { segname, maxprot, initprot, flags;
        is64,
        vmaddr: s.vmaddr.into(),
        vmsize: s.vmsize.into(),
        fileoff: s.fileoff.into(),
        filesize: s.filesize.into(),
        sections: Vec::new(),
    });
    let (head, sect) = (segment_head(is64), section_size(is64));
    // The count is bounded by cmdsize before anything is allocated.
    if u64::from(s.nsects) * sect as u64 + head as u64 > b.len() as u64 {
        return Err(malformed(
            what,
            format!(
                "{}: {} sections do not fit in cmdsize {}",
                String::from_utf8_lossy(seg.name()),
                s.nsects,
                b.len()
            ),
        ));
    }
    seg.sections.reserve_exact(s.nsects as usize);
    for k in 0..s.nsects as usize {
        let at = head + k * sect;
        let x: RawSection<W> = read(b, at, e, "section")?;
        let reserved3 = if is64 {
            read(b, at + sect - 4, e, "section")?
        } else {
            0
        };
        seg.sections.push(convert!(x => Section {
            sectname, segname, offset, align, reloff, nreloc, flags, reserved1, reserved2;
            addr: x.addr.into(),
            size: x.size.into(),
            reserved3,
        }));
    }
    Ok(seg)
}

fn write_segment<W: Word>(s: &Segment, b: &mut [u8], e: Endian) -> Result<()>
where
    for<'r> &'r W: TryIntoCtx<Endian, Error = scroll::Error>,
{
    let head = convert!(s => RawSegment::<W> { segname, maxprot, initprot, flags;
        vmaddr: narrow(s.vmaddr, "the segment address")?,
        vmsize: narrow(s.vmsize, "the segment size")?,
        fileoff: narrow(s.fileoff, "the segment offset")?,
        filesize: narrow(s.filesize, "the segment size")?,
        nsects: u32::try_from(s.sections.len())
            .map_err(|_| Error::Unsupported("too many sections".into()))?,
    });
    write_record::<RawSegment<W>>(b, 8, &head, e)?;
    let (head, sect) = (segment_head(s.is64), section_size(s.is64));
    for (k, x) in s.sections.iter().enumerate() {
        let at = head + k * sect;
        let raw = convert!(x => RawSection::<W> {
            sectname, segname, offset, align, reloff, nreloc, flags, reserved1, reserved2;
            addr: narrow(x.addr, "the section address")?,
            size: narrow(x.size, "the section size")?,
        });
        write_record::<RawSection<W>>(b, at, &raw, e)?;
        if s.is64 {
            write(b, at + sect - 4, x.reserved3, e)?;
        }
    }
    Ok(())
}

fn routines_from<W: Word>(b: &[u8], e: Endian, is64: bool) -> Result<Routines> {
    let r: RawRoutines<W> = read(b, 8, e, "LC_ROUTINES")?;
    Ok(Routines {
        is64,
        init_address: r.init_address.into(),
        init_module: r.init_module.into(),
        reserved: r.reserved.map(Into::into),
    })
}

fn write_routines<W: Word>(r: &Routines, b: &mut [u8], e: Endian) -> Result<()>
where
    for<'r> &'r W: TryIntoCtx<Endian, Error = scroll::Error>,
{
    let what = "a field of LC_ROUTINES";
    let mut reserved = [narrow::<W>(0, what)?; 6];
    for (to, from) in reserved.iter_mut().zip(r.reserved) {
        *to = narrow(from, what)?;
    }
    let raw = RawRoutines::<W> {
        init_address: narrow(r.init_address, "the LC_ROUTINES address")?,
        init_module: narrow(r.init_module, what)?,
        reserved,
    };
    write_record::<RawRoutines<W>>(b, 8, &raw, e)
}

impl LoadCommand {
    /// Parses one command from `b`, its `cmdsize` bytes.
    pub(crate) fn parse(ctx: Ctx, b: &[u8]) -> Result<LoadCommand> {
        let e = ctx.endian();
        let cmd: u32 = read(b, 0, e, "load command")?;
        let command = match cmd {
            LC_SEGMENT => Command::Segment(segment_from::<u32>(b, e, false)?),
            LC_SEGMENT_64 => Command::Segment(segment_from::<u64>(b, e, true)?),
            LC_SYMTAB => Command::Symtab(read(b, 8, e, "LC_SYMTAB")?),
            LC_DYSYMTAB => Command::Dysymtab(read(b, 8, e, "LC_DYSYMTAB")?),
            LC_DYLD_INFO | LC_DYLD_INFO_ONLY => Command::DyldInfo {
                only: cmd == LC_DYLD_INFO_ONLY,
                info: read(b, 8, e, "LC_DYLD_INFO")?,
            },
            LC_RPATH => {
                let r: RpathCommand = read(b, 8, e, "LC_RPATH")?;
                lc_str(b, with_head::<RpathCommand>(), r.path_offset, "LC_RPATH")?;
                Command::Rpath(r)
            }
            LC_MAIN => Command::EntryPoint(read(b, 8, e, "LC_MAIN")?),
            LC_THREAD | LC_UNIXTHREAD => Command::Thread {
                unix: cmd == LC_UNIXTHREAD,
            },
            LC_ROUTINES => Command::Routines(routines_from::<u32>(b, e, false)?),
            LC_ROUTINES_64 => Command::Routines(routines_from::<u64>(b, e, true)?),
            LC_ENCRYPTION_INFO | LC_ENCRYPTION_INFO_64 => {
                let is64 = cmd == LC_ENCRYPTION_INFO_64;
                let r: RawEncryptionInfo = read(b, 8, e, "LC_ENCRYPTION_INFO")?;
                let pad = if is64 {
                    read(
                        b,
                        with_head::<RawEncryptionInfo>(),
                        e,
                        "LC_ENCRYPTION_INFO_64",
                    )?
                } else {
                    0
                };
                let info =
                    convert!(r => EncryptionInfo { cryptoff, cryptsize, cryptid; is64, pad });
                Command::EncryptionInfo(info)
            }
            LC_NOTE => Command::Note(read(b, 8, e, "LC_NOTE")?),
            LC_TWOLEVEL_HINTS => Command::TwolevelHints(read(b, 8, e, "LC_TWOLEVEL_HINTS")?),
            LC_SYMSEG => Command::Symseg(read(b, 8, e, "LC_SYMSEG")?),
            LC_BUILD_VERSION => Command::BuildVersion(read(b, 8, e, "LC_BUILD_VERSION")?),
            LC_UUID => Command::Uuid(read(b, 8, e, "LC_UUID")?),
            LC_SOURCE_VERSION => Command::SourceVersion(read(b, 8, e, "LC_SOURCE_VERSION")?),
            LC_FILESET_ENTRY => Command::FilesetEntry(read(b, 8, e, "LC_FILESET_ENTRY")?),
            c if NO_OFFSETS.contains(&c) => Command::Other(c),
            c => {
                if let Some(k) = LinkeditKind::from_cmd(c) {
                    Command::LinkeditData(k, read(b, 8, e, "linkedit data")?)
                } else if let Some(k) = DylibKind::from_cmd(c) {
                    let d: DylibCommand = read(b, 8, e, "dylib command")?;
                    lc_str(
                        b,
                        with_head::<DylibCommand>(),
                        d.name_offset,
                        "dylib command",
                    )?;
                    Command::Dylib(k, d)
                } else if let Some(k) = VersionMinKind::from_cmd(c) {
                    Command::VersionMin(k, read(b, 8, e, "LC_VERSION_MIN")?)
                } else {
                    Command::Unknown(c)
                }
            }
        };
        let mut lc = LoadCommand {
            command,
            tail: Vec::new(),
        };
        lc.tail = b[lc.fixed_size()..].to_vec();
        Ok(lc)
    }

    /// The size of the fixed part (with the sections of a segment).
    pub(crate) fn fixed_size(&self) -> usize {
        match &self.command {
            Command::Segment(s) => segment_head(s.is64) + s.sections.len() * section_size(s.is64),
            Command::Symtab(_) => with_head::<Symtab>(),
            Command::Dysymtab(_) => with_head::<Dysymtab>(),
            Command::DyldInfo { .. } => with_head::<DyldInfo>(),
            Command::LinkeditData(..) => with_head::<LinkeditData>(),
            Command::Dylib(..) => with_head::<DylibCommand>(),
            Command::Rpath(_) => with_head::<RpathCommand>(),
            Command::EntryPoint(_) => with_head::<EntryPoint>(),
            Command::Routines(r) if r.is64 => with_head::<RawRoutines<u64>>(),
            Command::Routines(_) => with_head::<RawRoutines<u32>>(),
            Command::EncryptionInfo(x) => {
                with_head::<RawEncryptionInfo>() + 4 * usize::from(x.is64)
            }
            Command::Note(_) => with_head::<Note>(),
            Command::TwolevelHints(_) => with_head::<TwolevelHints>(),
            Command::Symseg(_) => with_head::<Symseg>(),
            Command::BuildVersion(_) => with_head::<BuildVersion>(),
            Command::VersionMin(..) => with_head::<VersionMin>(),
            Command::Uuid(_) => with_head::<Uuid>(),
            Command::SourceVersion(_) => with_head::<SourceVersion>(),
            Command::FilesetEntry(_) => with_head::<FilesetEntry>(),
            Command::Thread { .. } | Command::Other(_) | Command::Unknown(_) => 8,
        }
    }

    /// Appends the command's bytes (`cmdsize` of them) in the byte order of `ctx`.
    pub(crate) fn write(&self, ctx: Ctx, out: &mut Vec<u8>) -> Result<()> {
        let e = ctx.endian();
        let fixed = self.fixed_size();
        let size = fixed + self.tail.len();
        let cmdsize = u32::try_from(size)
            .map_err(|_| Error::Unsupported("a load command exceeds 4 GiB".into()))?;
        let start = out.len();
        out.resize(start + size, 0);
        let b = &mut out[start..];
        write(b, 0, self.cmd(), e)?;
        write(b, 4, cmdsize, e)?;
        match &self.command {
            Command::Segment(s) if s.is64 => write_segment::<u64>(s, b, e)?,
            Command::Segment(s) => write_segment::<u32>(s, b, e)?,
            Command::Symtab(v) => write(b, 8, *v, e)?,
            Command::Dysymtab(v) => write(b, 8, *v, e)?,
            Command::DyldInfo { info, .. } => write(b, 8, *info, e)?,
            Command::LinkeditData(_, v) => write(b, 8, *v, e)?,
            Command::Dylib(_, v) => write(b, 8, *v, e)?,
            Command::Rpath(v) => write(b, 8, *v, e)?,
            Command::EntryPoint(v) => write(b, 8, *v, e)?,
            Command::Routines(r) if r.is64 => write_routines::<u64>(r, b, e)?,
            Command::Routines(r) => write_routines::<u32>(r, b, e)?,
            Command::EncryptionInfo(v) => {
                let raw = convert!(v => RawEncryptionInfo { cryptoff, cryptsize, cryptid; });
                write(b, 8, raw, e)?;
                if v.is64 {
                    write(b, with_head::<RawEncryptionInfo>(), v.pad, e)?;
                }
            }
            Command::Note(v) => write(b, 8, *v, e)?,
            Command::TwolevelHints(v) => write(b, 8, *v, e)?,
            Command::Symseg(v) => write(b, 8, *v, e)?,
            Command::BuildVersion(v) => write(b, 8, *v, e)?,
            Command::VersionMin(_, v) => write(b, 8, *v, e)?,
            Command::Uuid(v) => write(b, 8, *v, e)?,
            Command::SourceVersion(v) => write(b, 8, *v, e)?,
            Command::FilesetEntry(v) => write(b, 8, *v, e)?,
            Command::Thread { .. } | Command::Other(_) | Command::Unknown(_) => {}
        }
        b[fixed..].copy_from_slice(&self.tail);
        Ok(())
    }
}
