//! Typed load commands.
//!
//! Every kind has one struct (its fields after `cmd` and `cmdsize`, read and written with scroll
//! in the image's byte order) and one arm in each match of this file: [`LoadCommand::parse`] and
//! [`LoadCommand::write`] (bytes and struct), [`Command::tables`] (the tables outside sections it
//! points at) and [`LoadCommand::relocate`] (the file offsets and addresses it records, moved
//! when the image grows). The matches are exhaustive: a new kind is a variant of [`Command`],
//! and the compiler points at every place that must say what to do with it.
//!
//! The bytes after a command's fixed part (strings, padding, thread states, build tools) are
//! kept as they are, so a command no edit touches is written back byte for byte.

use scroll::ctx::{SizeWith, TryFromCtx, TryIntoCtx};
use scroll::{Endian, Pread, Pwrite, SizeWith};

use crate::bytes::{cstr, Ctx};
use crate::consts::*;
use crate::error::{malformed, Error, Result};
use crate::moves::Shift;

/// A segment command (LC_SEGMENT or LC_SEGMENT_64) with its sections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// LC_SEGMENT_64 (64-bit addresses and sizes) rather than LC_SEGMENT.
    pub is64: bool,
    /// Segment name, NUL-padded (see [`Segment::name`]).
    pub segname: [u8; 16],
    /// Address of the segment in memory (unslid).
    pub vmaddr: u64,
    /// Size in memory.
    pub vmsize: u64,
    /// File offset of the segment's bytes.
    pub fileoff: u64,
    /// Number of bytes it maps from the file.
    pub filesize: u64,
    /// Maximum protection.
    pub maxprot: u32,
    /// Initial protection.
    pub initprot: u32,
    /// Segment flags.
    pub flags: u32,
    /// The section headers that follow the command.
    pub sections: Vec<Section>,
}

impl Segment {
    /// The segment name without its padding.
    pub fn name(&self) -> &[u8] {
        cstr(&self.segname, 0)
    }

    fn header_size(is64: bool) -> usize {
        if is64 {
            72
        } else {
            56
        }
    }

    fn section_size(is64: bool) -> usize {
        if is64 {
            80
        } else {
            68
        }
    }
}

/// A section header (`section` or `section_64`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Section name, NUL-padded (see [`Section::name`]).
    pub sectname: [u8; 16],
    /// Name of the segment it belongs to.
    pub segname: [u8; 16],
    /// Address in memory.
    pub addr: u64,
    /// Size in bytes.
    pub size: u64,
    /// File offset of its bytes (0 for zero-fill sections).
    pub offset: u32,
    /// Alignment as a power of two.
    pub align: u32,
    /// File offset of its relocation entries.
    pub reloff: u32,
    /// Number of relocation entries.
    pub nreloc: u32,
    /// Type and attributes.
    pub flags: u32,
    /// Reserved (an index, for symbol stub and pointer sections).
    pub reserved1: u32,
    /// Reserved (a count or size, for symbol stubs).
    pub reserved2: u32,
    /// Reserved (64-bit sections only).
    pub reserved3: u32,
}

impl Section {
    /// The section name without its padding.
    pub fn name(&self) -> &[u8] {
        cstr(&self.sectname, 0)
    }

    /// The segment name without its padding.
    pub fn segment_name(&self) -> &[u8] {
        cstr(&self.segname, 0)
    }

    /// Whether the section occupies no file bytes by its type (zero-fill).
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

#[derive(Pread, Pwrite, SizeWith)]
struct SegmentCommand32 {
    segname: [u8; 16],
    vmaddr: u32,
    vmsize: u32,
    fileoff: u32,
    filesize: u32,
    maxprot: u32,
    initprot: u32,
    nsects: u32,
    flags: u32,
}

#[derive(Pread, Pwrite, SizeWith)]
struct SegmentCommand64 {
    segname: [u8; 16],
    vmaddr: u64,
    vmsize: u64,
    fileoff: u64,
    filesize: u64,
    maxprot: u32,
    initprot: u32,
    nsects: u32,
    flags: u32,
}

#[derive(Pread, Pwrite, SizeWith)]
struct Section32 {
    sectname: [u8; 16],
    segname: [u8; 16],
    addr: u32,
    size: u32,
    offset: u32,
    align: u32,
    reloff: u32,
    nreloc: u32,
    flags: u32,
    reserved1: u32,
    reserved2: u32,
}

#[derive(Pread, Pwrite, SizeWith)]
struct Section64 {
    sectname: [u8; 16],
    segname: [u8; 16],
    addr: u64,
    size: u64,
    offset: u32,
    align: u32,
    reloff: u32,
    nreloc: u32,
    flags: u32,
    reserved1: u32,
    reserved2: u32,
    reserved3: u32,
}

/// LC_SYMTAB: the symbol and string tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Pread, Pwrite, SizeWith)]
pub struct Symtab {
    /// File offset of the `nlist` entries.
    pub symoff: u32,
    /// Number of symbols.
    pub nsyms: u32,
    /// File offset of the string table.
    pub stroff: u32,
    /// Size of the string table in bytes.
    pub strsize: u32,
}

/// LC_DYSYMTAB: how the symbol table is grouped, and the tables of dynamic linking that come
/// from before dyld info (table of contents, modules, references, indirect symbols, classic
/// relocations).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Pread, Pwrite, SizeWith)]
#[allow(missing_docs)]
pub struct Dysymtab {
    pub ilocalsym: u32,
    pub nlocalsym: u32,
    pub iextdefsym: u32,
    pub nextdefsym: u32,
    pub iundefsym: u32,
    pub nundefsym: u32,
    pub tocoff: u32,
    pub ntoc: u32,
    pub modtaboff: u32,
    pub nmodtab: u32,
    pub extrefsymoff: u32,
    pub nextrefsyms: u32,
    pub indirectsymoff: u32,
    pub nindirectsyms: u32,
    pub extreloff: u32,
    pub nextrel: u32,
    pub locreloff: u32,
    pub nlocrel: u32,
}

/// LC_DYLD_INFO / LC_DYLD_INFO_ONLY: the rebase, bind, weak bind, lazy bind and export
/// streams, each a file offset and a byte size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Pread, Pwrite, SizeWith)]
#[allow(missing_docs)]
pub struct DyldInfo {
    pub rebase_off: u32,
    pub rebase_size: u32,
    pub bind_off: u32,
    pub bind_size: u32,
    pub weak_bind_off: u32,
    pub weak_bind_size: u32,
    pub lazy_bind_off: u32,
    pub lazy_bind_size: u32,
    pub export_off: u32,
    pub export_size: u32,
}

/// A `linkedit_data_command`: one blob in __LINKEDIT (or, in an object file, after the
/// sections).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Pread, Pwrite, SizeWith)]
pub struct LinkeditData {
    /// File offset of the blob.
    pub dataoff: u32,
    /// Its size in bytes.
    pub datasize: u32,
}

/// Which blob a [`LinkeditData`] command points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum LinkeditKind {
    CodeSignature,
    SegmentSplitInfo,
    FunctionStarts,
    DataInCode,
    DylibCodeSignDrs,
    LinkerOptimizationHint,
    DyldExportsTrie,
    DyldChainedFixups,
    AtomInfo,
    FunctionVariants,
    FunctionVariantFixups,
}

impl LinkeditKind {
    const ALL: [LinkeditKind; 11] = [
        LinkeditKind::CodeSignature,
        LinkeditKind::SegmentSplitInfo,
        LinkeditKind::FunctionStarts,
        LinkeditKind::DataInCode,
        LinkeditKind::DylibCodeSignDrs,
        LinkeditKind::LinkerOptimizationHint,
        LinkeditKind::DyldExportsTrie,
        LinkeditKind::DyldChainedFixups,
        LinkeditKind::AtomInfo,
        LinkeditKind::FunctionVariants,
        LinkeditKind::FunctionVariantFixups,
    ];

    /// The load command number.
    pub fn cmd(self) -> u32 {
        match self {
            LinkeditKind::CodeSignature => LC_CODE_SIGNATURE,
            LinkeditKind::SegmentSplitInfo => LC_SEGMENT_SPLIT_INFO,
            LinkeditKind::FunctionStarts => LC_FUNCTION_STARTS,
            LinkeditKind::DataInCode => LC_DATA_IN_CODE,
            LinkeditKind::DylibCodeSignDrs => LC_DYLIB_CODE_SIGN_DRS,
            LinkeditKind::LinkerOptimizationHint => LC_LINKER_OPTIMIZATION_HINT,
            LinkeditKind::DyldExportsTrie => LC_DYLD_EXPORTS_TRIE,
            LinkeditKind::DyldChainedFixups => LC_DYLD_CHAINED_FIXUPS,
            LinkeditKind::AtomInfo => LC_ATOM_INFO,
            LinkeditKind::FunctionVariants => LC_FUNCTION_VARIANTS,
            LinkeditKind::FunctionVariantFixups => LC_FUNCTION_VARIANT_FIXUPS,
        }
    }

    fn from_cmd(cmd: u32) -> Option<LinkeditKind> {
        LinkeditKind::ALL.into_iter().find(|k| k.cmd() == cmd)
    }
}

/// A `dylib_command`; the name is kept in the bytes after it (see [`LoadCommand::string`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Pread, Pwrite, SizeWith)]
pub struct DylibCommand {
    /// Offset of the name from the start of the command.
    pub name_offset: u32,
    /// Build timestamp of the library.
    pub timestamp: u32,
    /// Its current version.
    pub current_version: u32,
    /// Its compatibility version.
    pub compatibility_version: u32,
}

/// What a [`DylibCommand`] says about its library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DylibKind {
    /// LC_ID_DYLIB: this image's own install name.
    Id,
    /// LC_LOAD_DYLIB.
    Load,
    /// LC_LOAD_WEAK_DYLIB.
    Weak,
    /// LC_REEXPORT_DYLIB.
    Reexport,
    /// LC_LOAD_UPWARD_DYLIB.
    Upward,
    /// LC_LAZY_LOAD_DYLIB.
    Lazy,
}

impl DylibKind {
    const ALL: [DylibKind; 6] = [
        DylibKind::Id,
        DylibKind::Load,
        DylibKind::Weak,
        DylibKind::Reexport,
        DylibKind::Upward,
        DylibKind::Lazy,
    ];

    /// The load command number.
    pub fn cmd(self) -> u32 {
        match self {
            DylibKind::Id => LC_ID_DYLIB,
            DylibKind::Load => LC_LOAD_DYLIB,
            DylibKind::Weak => LC_LOAD_WEAK_DYLIB,
            DylibKind::Reexport => LC_REEXPORT_DYLIB,
            DylibKind::Upward => LC_LOAD_UPWARD_DYLIB,
            DylibKind::Lazy => LC_LAZY_LOAD_DYLIB,
        }
    }

    /// Whether the command names a library this image depends on (every kind but `Id`).
    pub fn is_dependency(self) -> bool {
        self != DylibKind::Id
    }

    fn from_cmd(cmd: u32) -> Option<DylibKind> {
        DylibKind::ALL.into_iter().find(|k| k.cmd() == cmd)
    }
}

/// LC_RPATH; the path is kept in the bytes after it (see [`LoadCommand::string`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Pread, Pwrite, SizeWith)]
pub struct RpathCommand {
    /// Offset of the path from the start of the command.
    pub path_offset: u32,
}

/// LC_MAIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Pread, Pwrite, SizeWith)]
pub struct EntryPoint {
    /// Image offset of `main`.
    pub entryoff: u64,
    /// Initial stack size, if not the default.
    pub stacksize: u64,
}

/// LC_ROUTINES / LC_ROUTINES_64: the library initialisation routine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Routines {
    /// LC_ROUTINES_64 rather than LC_ROUTINES.
    pub is64: bool,
    /// Address of the routine.
    pub init_address: u64,
    /// Index into the module table of the module holding it.
    pub init_module: u64,
    /// Six reserved words.
    pub reserved: [u64; 6],
}

#[derive(Pread, Pwrite, SizeWith)]
struct RoutinesCommand32 {
    init_address: u32,
    init_module: u32,
    reserved: [u32; 6],
}

#[derive(Pread, Pwrite, SizeWith)]
struct RoutinesCommand64 {
    init_address: u64,
    init_module: u64,
    reserved: [u64; 6],
}

/// LC_ENCRYPTION_INFO / LC_ENCRYPTION_INFO_64: the encrypted range of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncryptionInfo {
    /// LC_ENCRYPTION_INFO_64 (which has a padding word) rather than LC_ENCRYPTION_INFO.
    pub is64: bool,
    /// File offset of the range.
    pub cryptoff: u32,
    /// Its size.
    pub cryptsize: u32,
    /// Encryption system (0: not encrypted).
    pub cryptid: u32,
    /// Padding (64-bit only).
    pub pad: u32,
}

#[derive(Pread, Pwrite, SizeWith)]
struct EncryptionInfoCommand {
    cryptoff: u32,
    cryptsize: u32,
    cryptid: u32,
}

/// LC_NOTE: arbitrary data of an owner, somewhere in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Pread, Pwrite, SizeWith)]
pub struct Note {
    /// Owner name, NUL-padded.
    pub data_owner: [u8; 16],
    /// File offset of the data.
    pub offset: u64,
    /// Its size.
    pub size: u64,
}

/// LC_TWOLEVEL_HINTS (obsolete): a table of hints in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Pread, Pwrite, SizeWith)]
pub struct TwolevelHints {
    /// File offset of the table.
    pub offset: u32,
    /// Number of hints.
    pub nhints: u32,
}

/// LC_SYMSEG (obsolete): a symbol segment in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Pread, Pwrite, SizeWith)]
pub struct Symseg {
    /// File offset.
    pub offset: u32,
    /// Size.
    pub size: u32,
}

/// LC_BUILD_VERSION; the tool entries follow in the bytes after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Pread, Pwrite, SizeWith)]
pub struct BuildVersion {
    /// Platform (1 macOS, 2 iOS, …).
    pub platform: u32,
    /// Minimum OS version, `xxxx.yy.zz` as nibbles.
    pub minos: u32,
    /// SDK version, same encoding.
    pub sdk: u32,
    /// Number of tool entries that follow.
    pub ntools: u32,
}

/// LC_VERSION_MIN_MACOSX, _IPHONEOS, _TVOS and _WATCHOS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Pread, Pwrite, SizeWith)]
pub struct VersionMin {
    /// Minimum OS version, `xxxx.yy.zz` as nibbles.
    pub version: u32,
    /// SDK version, same encoding.
    pub sdk: u32,
}

/// Which platform a [`VersionMin`] is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum VersionMinKind {
    MacOs,
    IOs,
    TvOs,
    WatchOs,
}

impl VersionMinKind {
    const ALL: [VersionMinKind; 4] = [
        VersionMinKind::MacOs,
        VersionMinKind::IOs,
        VersionMinKind::TvOs,
        VersionMinKind::WatchOs,
    ];

    /// The load command number.
    pub fn cmd(self) -> u32 {
        match self {
            VersionMinKind::MacOs => LC_VERSION_MIN_MACOSX,
            VersionMinKind::IOs => LC_VERSION_MIN_IPHONEOS,
            VersionMinKind::TvOs => LC_VERSION_MIN_TVOS,
            VersionMinKind::WatchOs => LC_VERSION_MIN_WATCHOS,
        }
    }

    fn from_cmd(cmd: u32) -> Option<VersionMinKind> {
        VersionMinKind::ALL.into_iter().find(|k| k.cmd() == cmd)
    }
}

/// LC_UUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Pread, Pwrite, SizeWith)]
pub struct Uuid {
    /// The image's UUID.
    pub uuid: [u8; 16],
}

/// LC_SOURCE_VERSION.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Pread, Pwrite, SizeWith)]
pub struct SourceVersion {
    /// `a.b.c.d.e` packed as 24.10.10.10.10 bits.
    pub version: u64,
}

/// LC_FILESET_ENTRY: one image of a file set (kernel collection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Pread, Pwrite, SizeWith)]
pub struct FilesetEntry {
    /// Address of the entry's header.
    pub vmaddr: u64,
    /// File offset of the entry's header.
    pub fileoff: u64,
    /// Offset of the entry's name from the start of the command.
    pub entry_id: u32,
    /// Reserved.
    pub reserved: u32,
}

/// The typed fixed part of a load command.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command {
    /// LC_SEGMENT, LC_SEGMENT_64.
    Segment(Segment),
    /// LC_SYMTAB.
    Symtab(Symtab),
    /// LC_DYSYMTAB.
    Dysymtab(Dysymtab),
    /// LC_DYLD_INFO (`only` false) or LC_DYLD_INFO_ONLY.
    DyldInfo {
        /// LC_DYLD_INFO_ONLY.
        only: bool,
        /// The tables.
        info: DyldInfo,
    },
    /// A `linkedit_data_command`: LC_CODE_SIGNATURE, LC_FUNCTION_STARTS, …
    LinkeditData(LinkeditKind, LinkeditData),
    /// LC_ID_DYLIB and the dependency commands.
    Dylib(DylibKind, DylibCommand),
    /// LC_RPATH.
    Rpath(RpathCommand),
    /// LC_MAIN.
    EntryPoint(EntryPoint),
    /// LC_THREAD (`unix` false) or LC_UNIXTHREAD; the thread states follow in the bytes after
    /// it.
    Thread {
        /// LC_UNIXTHREAD.
        unix: bool,
    },
    /// LC_ROUTINES, LC_ROUTINES_64.
    Routines(Routines),
    /// LC_ENCRYPTION_INFO, LC_ENCRYPTION_INFO_64.
    EncryptionInfo(EncryptionInfo),
    /// LC_NOTE.
    Note(Note),
    /// LC_TWOLEVEL_HINTS.
    TwolevelHints(TwolevelHints),
    /// LC_SYMSEG.
    Symseg(Symseg),
    /// LC_BUILD_VERSION.
    BuildVersion(BuildVersion),
    /// LC_VERSION_MIN_*.
    VersionMin(VersionMinKind, VersionMin),
    /// LC_UUID.
    Uuid(Uuid),
    /// LC_SOURCE_VERSION.
    SourceVersion(SourceVersion),
    /// LC_FILESET_ENTRY.
    FilesetEntry(FilesetEntry),
    /// A kind that records no file offset or address (its fields are strings or data kept in
    /// the command): LC_LOAD_DYLINKER, LC_ID_DYLINKER, LC_DYLD_ENVIRONMENT, LC_SUB_FRAMEWORK,
    /// LC_SUB_UMBRELLA, LC_SUB_CLIENT, LC_SUB_LIBRARY, LC_LINKER_OPTION, LC_TARGET_TRIPLE, and
    /// the obsolete LC_IDENT, LC_PREBOUND_DYLIB and LC_PREBIND_CKSUM. Holds the command number.
    Other(u32),
    /// A kind this crate cannot move: unknown numbers, and the obsolete fixed-VM library
    /// commands (LC_LOADFVMLIB, LC_IDFVMLIB, LC_FVMFILE) and LC_PREPAGE. Copied as it is;
    /// growing an image that has one is refused. Holds the command number.
    Unknown(u32),
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

/// A table outside any section that a load command points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Table {
    pub what: &'static str,
    /// Which of the command's tables (for [`LoadCommand::set_table`]).
    pub slot: usize,
    pub offset: u64,
    pub size: u64,
    /// The command records the byte size (not a count), so the table can be given a new one.
    pub sized: bool,
}

impl Command {
    /// The load command number.
    pub fn cmd(&self) -> u32 {
        match self {
            Command::Segment(s) if s.is64 => LC_SEGMENT_64,
            Command::Segment(_) => LC_SEGMENT,
            Command::Symtab(_) => LC_SYMTAB,
            Command::Dysymtab(_) => LC_DYSYMTAB,
            Command::DyldInfo { only: true, .. } => LC_DYLD_INFO_ONLY,
            Command::DyldInfo { only: false, .. } => LC_DYLD_INFO,
            Command::LinkeditData(k, _) => k.cmd(),
            Command::Dylib(k, _) => k.cmd(),
            Command::Rpath(_) => LC_RPATH,
            Command::EntryPoint(_) => LC_MAIN,
            Command::Thread { unix: true } => LC_UNIXTHREAD,
            Command::Thread { unix: false } => LC_THREAD,
            Command::Routines(r) if r.is64 => LC_ROUTINES_64,
            Command::Routines(_) => LC_ROUTINES,
            Command::EncryptionInfo(e) if e.is64 => LC_ENCRYPTION_INFO_64,
            Command::EncryptionInfo(_) => LC_ENCRYPTION_INFO,
            Command::Note(_) => LC_NOTE,
            Command::TwolevelHints(_) => LC_TWOLEVEL_HINTS,
            Command::Symseg(_) => LC_SYMSEG,
            Command::BuildVersion(_) => LC_BUILD_VERSION,
            Command::VersionMin(k, _) => k.cmd(),
            Command::Uuid(_) => LC_UUID,
            Command::SourceVersion(_) => LC_SOURCE_VERSION,
            Command::FilesetEntry(_) => LC_FILESET_ENTRY,
            Command::Other(cmd) | Command::Unknown(cmd) => *cmd,
        }
    }

    /// The tables outside sections this command points at: symbol and string tables, the
    /// dynamic symbol table's tables, dyld-info streams and linkedit blobs.
    pub(crate) fn tables(&self, is64: bool) -> Vec<Table> {
        let t = |what, slot, offset: u32, size: u64, sized| Table {
            what,
            slot,
            offset: offset.into(),
            size,
            sized,
        };
        let n = |count: u32, unit: u64| u64::from(count) * unit;
        match self {
            Command::Symtab(s) => vec![
                t(
                    "symbol table",
                    0,
                    s.symoff,
                    n(s.nsyms, if is64 { 16 } else { 12 }),
                    false,
                ),
                t("string table", 1, s.stroff, s.strsize.into(), true),
            ],
            Command::Dysymtab(d) => vec![
                t("table of contents", 0, d.tocoff, n(d.ntoc, 8), false),
                t(
                    "module table",
                    1,
                    d.modtaboff,
                    n(d.nmodtab, if is64 { 56 } else { 52 }),
                    false,
                ),
                t(
                    "referenced symbols",
                    2,
                    d.extrefsymoff,
                    n(d.nextrefsyms, 4),
                    false,
                ),
                t(
                    "indirect symbol table",
                    3,
                    d.indirectsymoff,
                    n(d.nindirectsyms, 4),
                    false,
                ),
                t(
                    "external relocations",
                    4,
                    d.extreloff,
                    n(d.nextrel, 8),
                    false,
                ),
                t("local relocations", 5, d.locreloff, n(d.nlocrel, 8), false),
            ],
            Command::DyldInfo { info: d, .. } => vec![
                t("rebase info", 0, d.rebase_off, d.rebase_size.into(), true),
                t("bind info", 1, d.bind_off, d.bind_size.into(), true),
                t(
                    "weak bind info",
                    2,
                    d.weak_bind_off,
                    d.weak_bind_size.into(),
                    true,
                ),
                t(
                    "lazy bind info",
                    3,
                    d.lazy_bind_off,
                    d.lazy_bind_size.into(),
                    true,
                ),
                t("export info", 4, d.export_off, d.export_size.into(), true),
            ],
            Command::LinkeditData(_, l) => {
                vec![t("linkedit data", 0, l.dataoff, l.datasize.into(), true)]
            }
            Command::Segment(_)
            | Command::Dylib(..)
            | Command::Rpath(_)
            | Command::EntryPoint(_)
            | Command::Thread { .. }
            | Command::Routines(_)
            | Command::EncryptionInfo(_)
            | Command::Note(_)
            | Command::TwolevelHints(_)
            | Command::Symseg(_)
            | Command::BuildVersion(_)
            | Command::VersionMin(..)
            | Command::Uuid(_)
            | Command::SourceVersion(_)
            | Command::FilesetEntry(_)
            | Command::Other(_)
            | Command::Unknown(_) => Vec::new(),
        }
    }
}

/// One load command: its typed fixed part and the bytes after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadCommand {
    command: Command,
    tail: Vec<u8>,
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

fn narrow(v: u64, what: &str) -> Result<u32> {
    u32::try_from(v).map_err(|_| {
        Error::Unsupported(format!(
            "{what} exceeds 4 GiB, which its 32-bit field cannot hold"
        ))
    })
}

/// The NUL-terminated string at `off` from the start of a command whose fixed part is
/// `fixed` bytes, checked as dyld checks it: inside the command, terminated within it.
fn lc_str<'a>(tail: &'a [u8], fixed: usize, off: u32, what: &'static str) -> Result<&'a [u8]> {
    let size = fixed + tail.len();
    let off = off as usize;
    if off < fixed || off > size {
        return Err(malformed(
            what,
            format!("string offset {off} outside cmdsize {size}"),
        ));
    }
    let s = &tail[off - fixed..];
    if !s.contains(&0) {
        return Err(malformed(
            what,
            "the string has no terminator within cmdsize",
        ));
    }
    Ok(cstr(s, 0))
}

impl LoadCommand {
    /// Parses one command from `b`, its `cmdsize` bytes.
    pub(crate) fn parse(ctx: Ctx, b: &[u8]) -> Result<LoadCommand> {
        let e = ctx.endian();
        let cmd: u32 = read(b, 0, e, "load command")?;
        let (command, fixed) = match cmd {
            LC_SEGMENT | LC_SEGMENT_64 => return Self::parse_segment(ctx, cmd == LC_SEGMENT_64, b),
            LC_SYMTAB => (Command::Symtab(read(b, 8, e, "LC_SYMTAB")?), 24),
            LC_DYSYMTAB => (Command::Dysymtab(read(b, 8, e, "LC_DYSYMTAB")?), 80),
            LC_DYLD_INFO | LC_DYLD_INFO_ONLY => (
                Command::DyldInfo {
                    only: cmd == LC_DYLD_INFO_ONLY,
                    info: read(b, 8, e, "LC_DYLD_INFO")?,
                },
                48,
            ),
            LC_RPATH => {
                let r: RpathCommand = read(b, 8, e, "LC_RPATH")?;
                lc_str(&b[12..], 12, r.path_offset, "LC_RPATH")?;
                (Command::Rpath(r), 12)
            }
            LC_MAIN => (Command::EntryPoint(read(b, 8, e, "LC_MAIN")?), 24),
            LC_THREAD | LC_UNIXTHREAD => (
                Command::Thread {
                    unix: cmd == LC_UNIXTHREAD,
                },
                8,
            ),
            LC_ROUTINES => {
                let r: RoutinesCommand32 = read(b, 8, e, "LC_ROUTINES")?;
                let routines = Routines {
                    is64: false,
                    init_address: r.init_address.into(),
                    init_module: r.init_module.into(),
                    reserved: r.reserved.map(u64::from),
                };
                (Command::Routines(routines), 40)
            }
            LC_ROUTINES_64 => {
                let r: RoutinesCommand64 = read(b, 8, e, "LC_ROUTINES_64")?;
                let routines = Routines {
                    is64: true,
                    init_address: r.init_address,
                    init_module: r.init_module,
                    reserved: r.reserved,
                };
                (Command::Routines(routines), 72)
            }
            LC_ENCRYPTION_INFO | LC_ENCRYPTION_INFO_64 => {
                let is64 = cmd == LC_ENCRYPTION_INFO_64;
                let r: EncryptionInfoCommand = read(b, 8, e, "LC_ENCRYPTION_INFO")?;
                let pad = if is64 {
                    read(b, 20, e, "LC_ENCRYPTION_INFO_64")?
                } else {
                    0
                };
                let info = EncryptionInfo {
                    is64,
                    cryptoff: r.cryptoff,
                    cryptsize: r.cryptsize,
                    cryptid: r.cryptid,
                    pad,
                };
                (Command::EncryptionInfo(info), if is64 { 24 } else { 20 })
            }
            LC_NOTE => (Command::Note(read(b, 8, e, "LC_NOTE")?), 40),
            LC_TWOLEVEL_HINTS => (
                Command::TwolevelHints(read(b, 8, e, "LC_TWOLEVEL_HINTS")?),
                16,
            ),
            LC_SYMSEG => (Command::Symseg(read(b, 8, e, "LC_SYMSEG")?), 16),
            LC_BUILD_VERSION => (
                Command::BuildVersion(read(b, 8, e, "LC_BUILD_VERSION")?),
                24,
            ),
            LC_UUID => (Command::Uuid(read(b, 8, e, "LC_UUID")?), 24),
            LC_SOURCE_VERSION => (
                Command::SourceVersion(read(b, 8, e, "LC_SOURCE_VERSION")?),
                16,
            ),
            LC_FILESET_ENTRY => (
                Command::FilesetEntry(read(b, 8, e, "LC_FILESET_ENTRY")?),
                32,
            ),
            c if NO_OFFSETS.contains(&c) => (Command::Other(c), 8),
            c => {
                if let Some(k) = LinkeditKind::from_cmd(c) {
                    (
                        Command::LinkeditData(k, read(b, 8, e, "linkedit data")?),
                        16,
                    )
                } else if let Some(k) = DylibKind::from_cmd(c) {
                    let d: DylibCommand = read(b, 8, e, "dylib command")?;
                    lc_str(&b[24..], 24, d.name_offset, "dylib command")?;
                    (Command::Dylib(k, d), 24)
                } else if let Some(k) = VersionMinKind::from_cmd(c) {
                    (Command::VersionMin(k, read(b, 8, e, "LC_VERSION_MIN")?), 16)
                } else {
                    (Command::Unknown(c), 8)
                }
            }
        };
        Ok(LoadCommand {
            command,
            tail: b[fixed..].to_vec(),
        })
    }

    fn parse_segment(ctx: Ctx, is64: bool, b: &[u8]) -> Result<LoadCommand> {
        let e = ctx.endian();
        let what = "segment command";
        if b.len() < Segment::header_size(is64) {
            return Err(malformed(what, "shorter than its header"));
        }
        let (nsects, mut segment) = if is64 {
            let s: SegmentCommand64 = read(b, 8, e, what)?;
            let seg = Segment {
                is64,
                segname: s.segname,
                vmaddr: s.vmaddr,
                vmsize: s.vmsize,
                fileoff: s.fileoff,
                filesize: s.filesize,
                maxprot: s.maxprot,
                initprot: s.initprot,
                flags: s.flags,
                sections: Vec::new(),
            };
            (s.nsects, seg)
        } else {
            let s: SegmentCommand32 = read(b, 8, e, what)?;
            let seg = Segment {
                is64,
                segname: s.segname,
                vmaddr: s.vmaddr.into(),
                vmsize: s.vmsize.into(),
                fileoff: s.fileoff.into(),
                filesize: s.filesize.into(),
                maxprot: s.maxprot,
                initprot: s.initprot,
                flags: s.flags,
                sections: Vec::new(),
            };
            (s.nsects, seg)
        };
        let (hdr, sect) = (Segment::header_size(is64), Segment::section_size(is64));
        // The count is bounded by cmdsize before anything is allocated.
        let end = u64::from(nsects) * sect as u64 + hdr as u64;
        if end > b.len() as u64 {
            return Err(malformed(
                what,
                format!(
                    "{}: {nsects} sections do not fit in cmdsize {}",
                    String::from_utf8_lossy(segment.name()),
                    b.len()
                ),
            ));
        }
        segment.sections.reserve_exact(nsects as usize);
        for k in 0..nsects as usize {
            let at = hdr + k * sect;
            let s = if is64 {
                let s: Section64 = read(b, at, e, "section")?;
                Section {
                    sectname: s.sectname,
                    segname: s.segname,
                    addr: s.addr,
                    size: s.size,
                    offset: s.offset,
                    align: s.align,
                    reloff: s.reloff,
                    nreloc: s.nreloc,
                    flags: s.flags,
                    reserved1: s.reserved1,
                    reserved2: s.reserved2,
                    reserved3: s.reserved3,
                }
            } else {
                let s: Section32 = read(b, at, e, "section")?;
                Section {
                    sectname: s.sectname,
                    segname: s.segname,
                    addr: s.addr.into(),
                    size: s.size.into(),
                    offset: s.offset,
                    align: s.align,
                    reloff: s.reloff,
                    nreloc: s.nreloc,
                    flags: s.flags,
                    reserved1: s.reserved1,
                    reserved2: s.reserved2,
                    reserved3: 0,
                }
            };
            segment.sections.push(s);
        }
        Ok(LoadCommand {
            command: Command::Segment(segment),
            tail: b[end as usize..].to_vec(),
        })
    }

    /// The size of the fixed part (with the sections of a segment).
    fn fixed_size(&self) -> usize {
        match &self.command {
            Command::Segment(s) => {
                Segment::header_size(s.is64) + s.sections.len() * Segment::section_size(s.is64)
            }
            Command::Symtab(_) => 24,
            Command::Dysymtab(_) => 80,
            Command::DyldInfo { .. } => 48,
            Command::LinkeditData(..) => 16,
            Command::Dylib(..) => 24,
            Command::Rpath(_) => 12,
            Command::EntryPoint(_) => 24,
            Command::Thread { .. } => 8,
            Command::Routines(r) => {
                if r.is64 {
                    72
                } else {
                    40
                }
            }
            Command::EncryptionInfo(e) => {
                if e.is64 {
                    24
                } else {
                    20
                }
            }
            Command::Note(_) => 40,
            Command::TwolevelHints(_) => 16,
            Command::Symseg(_) => 16,
            Command::BuildVersion(_) => 24,
            Command::VersionMin(..) => 16,
            Command::Uuid(_) => 24,
            Command::SourceVersion(_) => 16,
            Command::FilesetEntry(_) => 32,
            Command::Other(_) | Command::Unknown(_) => 8,
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
            Command::Segment(s) => Self::write_segment(s, b, e)?,
            Command::Symtab(v) => write(b, 8, *v, e)?,
            Command::Dysymtab(v) => write(b, 8, *v, e)?,
            Command::DyldInfo { info, .. } => write(b, 8, *info, e)?,
            Command::LinkeditData(_, v) => write(b, 8, *v, e)?,
            Command::Dylib(_, v) => write(b, 8, *v, e)?,
            Command::Rpath(v) => write(b, 8, *v, e)?,
            Command::EntryPoint(v) => write(b, 8, *v, e)?,
            Command::Routines(r) if r.is64 => write(
                b,
                8,
                RoutinesCommand64 {
                    init_address: r.init_address,
                    init_module: r.init_module,
                    reserved: r.reserved,
                },
                e,
            )?,
            Command::Routines(r) => {
                let mut reserved = [0u32; 6];
                for (to, from) in reserved.iter_mut().zip(r.reserved) {
                    *to = narrow(from, "a reserved field of LC_ROUTINES")?;
                }
                write(
                    b,
                    8,
                    RoutinesCommand32 {
                        init_address: narrow(r.init_address, "the LC_ROUTINES address")?,
                        init_module: narrow(r.init_module, "the LC_ROUTINES module")?,
                        reserved,
                    },
                    e,
                )?
            }
            Command::EncryptionInfo(v) => {
                let body = EncryptionInfoCommand {
                    cryptoff: v.cryptoff,
                    cryptsize: v.cryptsize,
                    cryptid: v.cryptid,
                };
                write(b, 8, body, e)?;
                if v.is64 {
                    write(b, 20, v.pad, e)?;
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

    fn write_segment(s: &Segment, b: &mut [u8], e: Endian) -> Result<()> {
        let nsects = u32::try_from(s.sections.len())
            .map_err(|_| Error::Unsupported("too many sections".into()))?;
        if s.is64 {
            let head = SegmentCommand64 {
                segname: s.segname,
                vmaddr: s.vmaddr,
                vmsize: s.vmsize,
                fileoff: s.fileoff,
                filesize: s.filesize,
                maxprot: s.maxprot,
                initprot: s.initprot,
                nsects,
                flags: s.flags,
            };
            write(b, 8, head, e)?;
        } else {
            let head = SegmentCommand32 {
                segname: s.segname,
                vmaddr: narrow(s.vmaddr, "the segment address")?,
                vmsize: narrow(s.vmsize, "the segment size")?,
                fileoff: narrow(s.fileoff, "the segment offset")?,
                filesize: narrow(s.filesize, "the segment size")?,
                maxprot: s.maxprot,
                initprot: s.initprot,
                nsects,
                flags: s.flags,
            };
            write(b, 8, head, e)?;
        }
        let (hdr, sect) = (Segment::header_size(s.is64), Segment::section_size(s.is64));
        for (k, x) in s.sections.iter().enumerate() {
            let at = hdr + k * sect;
            if s.is64 {
                let v = Section64 {
                    sectname: x.sectname,
                    segname: x.segname,
                    addr: x.addr,
                    size: x.size,
                    offset: x.offset,
                    align: x.align,
                    reloff: x.reloff,
                    nreloc: x.nreloc,
                    flags: x.flags,
                    reserved1: x.reserved1,
                    reserved2: x.reserved2,
                    reserved3: x.reserved3,
                };
                write(b, at, v, e)?;
            } else {
                let v = Section32 {
                    sectname: x.sectname,
                    segname: x.segname,
                    addr: narrow(x.addr, "the section address")?,
                    size: narrow(x.size, "the section size")?,
                    offset: x.offset,
                    align: x.align,
                    reloff: x.reloff,
                    nreloc: x.nreloc,
                    flags: x.flags,
                    reserved1: x.reserved1,
                    reserved2: x.reserved2,
                };
                write(b, at, v, e)?;
            }
        }
        Ok(())
    }

    /// A new command holding `s` after a fixed part (written by `body`), padded with zeros to
    /// the word size.
    fn with_string(ctx: Ctx, command: Command, s: &[u8]) -> LoadCommand {
        let mut c = LoadCommand {
            command,
            tail: Vec::new(),
        };
        let fixed = c.fixed_size();
        let size = (fixed + s.len() + 1).next_multiple_of(ctx.word_size() as usize);
        c.tail = vec![0; size - fixed];
        c.tail[..s.len()].copy_from_slice(s);
        c
    }

    /// A new LC_RPATH.
    pub(crate) fn rpath(ctx: Ctx, path: &[u8]) -> LoadCommand {
        let r = RpathCommand { path_offset: 12 };
        LoadCommand::with_string(ctx, Command::Rpath(r), path)
    }

    /// A new dylib command naming `name`, with the versions of `like` (or those of a new
    /// dependency).
    pub(crate) fn dylib(
        ctx: Ctx,
        kind: DylibKind,
        name: &[u8],
        like: Option<&DylibCommand>,
    ) -> LoadCommand {
        let d = DylibCommand {
            name_offset: 24,
            timestamp: like.map_or(2, |l| l.timestamp),
            current_version: like.map_or(0x1_0000, |l| l.current_version),
            compatibility_version: like.map_or(0x1_0000, |l| l.compatibility_version),
        };
        LoadCommand::with_string(ctx, Command::Dylib(kind, d), name)
    }

    /// A new LC_CODE_SIGNATURE, to be placed by the layout.
    pub(crate) fn code_signature() -> LoadCommand {
        let l = LinkeditData {
            dataoff: 0,
            datasize: 0,
        };
        LoadCommand {
            command: Command::LinkeditData(LinkeditKind::CodeSignature, l),
            tail: Vec::new(),
        }
    }

    /// A command from its typed fixed part and the bytes after it.
    pub fn from_parts(command: Command, tail: Vec<u8>) -> LoadCommand {
        LoadCommand { command, tail }
    }

    /// The load command number.
    pub fn cmd(&self) -> u32 {
        self.command.cmd()
    }

    /// The typed fixed part.
    pub fn command(&self) -> &Command {
        &self.command
    }

    pub(crate) fn command_mut(&mut self) -> &mut Command {
        &mut self.command
    }

    /// The bytes after the fixed part (strings, padding, thread states, build tools).
    pub fn tail(&self) -> &[u8] {
        &self.tail
    }

    /// `cmdsize`: the size of the command in bytes.
    pub fn size(&self) -> u64 {
        (self.fixed_size() + self.tail.len()) as u64
    }

    /// The name of a dylib command or the path of an LC_RPATH (checked when parsed).
    pub fn string(&self) -> Option<&[u8]> {
        let (off, fixed) = match &self.command {
            Command::Dylib(_, d) => (d.name_offset, 24),
            Command::Rpath(r) => (r.path_offset, 12),
            _ => return None,
        };
        let at = (off as usize).checked_sub(fixed)?;
        self.tail.get(at..).map(|s| cstr(s, 0))
    }

    /// The kind of a dylib command.
    pub fn dylib_kind(&self) -> Option<DylibKind> {
        match &self.command {
            Command::Dylib(k, _) => Some(*k),
            _ => None,
        }
    }

    /// Whether this is a dependency (a dylib command other than LC_ID_DYLIB).
    pub fn is_dependency(&self) -> bool {
        self.dylib_kind().is_some_and(DylibKind::is_dependency)
    }

    /// Whether this is an LC_RPATH.
    pub fn is_rpath(&self) -> bool {
        matches!(self.command, Command::Rpath(_))
    }

    /// The segment, if this is a segment command.
    pub fn segment(&self) -> Option<&Segment> {
        match &self.command {
            Command::Segment(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn segment_mut(&mut self) -> Option<&mut Segment> {
        match &mut self.command {
            Command::Segment(s) => Some(s),
            _ => None,
        }
    }

    /// Gives table `slot` (of [`Command::tables`]) a new offset, and a new byte size when the
    /// command records one.
    pub(crate) fn set_table(&mut self, slot: usize, offset: u64, size: Option<u64>) -> Result<()> {
        let off = narrow_offset(offset)?;
        let size = size.map(narrow_offset).transpose()?;
        let set = |o: &mut u32, s: Option<&mut u32>| {
            *o = off;
            if let (Some(s), Some(v)) = (s, size) {
                *s = v;
            }
        };
        match (&mut self.command, slot) {
            (Command::Symtab(s), 0) => s.symoff = off,
            (Command::Symtab(s), 1) => set(&mut s.stroff, Some(&mut s.strsize)),
            (Command::Dysymtab(d), 0) => d.tocoff = off,
            (Command::Dysymtab(d), 1) => d.modtaboff = off,
            (Command::Dysymtab(d), 2) => d.extrefsymoff = off,
            (Command::Dysymtab(d), 3) => d.indirectsymoff = off,
            (Command::Dysymtab(d), 4) => d.extreloff = off,
            (Command::Dysymtab(d), 5) => d.locreloff = off,
            (Command::DyldInfo { info: d, .. }, 0) => {
                set(&mut d.rebase_off, Some(&mut d.rebase_size))
            }
            (Command::DyldInfo { info: d, .. }, 1) => set(&mut d.bind_off, Some(&mut d.bind_size)),
            (Command::DyldInfo { info: d, .. }, 2) => {
                set(&mut d.weak_bind_off, Some(&mut d.weak_bind_size))
            }
            (Command::DyldInfo { info: d, .. }, 3) => {
                set(&mut d.lazy_bind_off, Some(&mut d.lazy_bind_size))
            }
            (Command::DyldInfo { info: d, .. }, 4) => {
                set(&mut d.export_off, Some(&mut d.export_size))
            }
            (Command::LinkeditData(_, l), 0) => set(&mut l.dataoff, Some(&mut l.datasize)),
            (c, _) => {
                return Err(Error::Internal(format!(
                    "no table {slot} in load command {:#x}",
                    c.cmd()
                )))
            }
        }
        Ok(())
    }

    /// Moves every file offset and address this command records by `s` (the header, at file
    /// offset 0, never moves). Refuses the kinds whose fields cannot be moved.
    pub(crate) fn relocate(&mut self, ctx: Ctx, cputype: u32, s: &Shift) -> Result<()> {
        for t in self.command.tables(ctx.is64) {
            self.set_table(t.slot, s.file_checked(t.offset)?, None)?;
        }
        match &mut self.command {
            Command::Segment(g) => {
                g.vmaddr = s.vm(g.vmaddr);
                g.fileoff = s.file_checked(g.fileoff)?;
                for x in &mut g.sections {
                    x.addr = s.vm(x.addr);
                    x.offset = s.file32(x.offset)?;
                    x.reloff = s.file32(x.reloff)?;
                }
            }
            Command::Symtab(_)
            | Command::Dysymtab(_)
            | Command::DyldInfo { .. }
            | Command::LinkeditData(..) => {}
            Command::EntryPoint(e) => e.entryoff = s.image(e.entryoff),
            Command::Thread { .. } => {
                if s.moves_addresses() {
                    crate::moves::shift_thread(ctx, cputype, &mut self.tail, s)?;
                }
            }
            Command::Routines(r) => r.init_address = s.vm(r.init_address),
            Command::EncryptionInfo(e) => e.cryptoff = s.file32(e.cryptoff)?,
            Command::Note(n) => n.offset = s.file_checked(n.offset)?,
            Command::TwolevelHints(h) => h.offset = s.file32(h.offset)?,
            Command::Symseg(g) => g.offset = s.file32(g.offset)?,
            Command::FilesetEntry(_) => {
                return Err(Error::Unsupported(
                    "cannot grow a file set (kernel collection): LC_FILESET_ENTRY".into(),
                ))
            }
            Command::Dylib(..)
            | Command::Rpath(_)
            | Command::BuildVersion(_)
            | Command::VersionMin(..)
            | Command::Uuid(_)
            | Command::SourceVersion(_)
            | Command::Other(_) => {}
            Command::Unknown(cmd) => {
                let name = command_name(*cmd).map_or_else(String::new, |n| format!("{n} "));
                return Err(Error::Unsupported(format!(
                    "cannot grow the load commands: load command {name}({cmd:#x}) is one \
                     shenzi does not know how to move"
                )));
            }
        }
        Ok(())
    }
}

fn narrow_offset(v: u64) -> Result<u32> {
    u32::try_from(v).map_err(|_| {
        Error::Unsupported("a moved file offset no longer fits its 32-bit field".into())
    })
}
