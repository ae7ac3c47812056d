//! Typed load commands: one struct per kind (its fields after `cmd` and `cmdsize`), the
//! [`Command`] enum over them, and [`LoadCommand`], a command with the bytes that follow its
//! fixed part (strings, padding, thread states, build tools), kept as they are so a command no
//! edit touches is written back byte for byte.
//!
//! A kind is a variant of [`Command`]; every match over it is exhaustive, so adding one makes
//! the compiler point at each place that must say what to do with it: `codec.rs` (parse and
//! write it), `moves.rs` (the tables it points at, and the file offsets and addresses it
//! records, moved when the image grows) and [`Command::cmd`] here.

use scroll::{Pread, Pwrite, SizeWith};

use crate::bytes::{cstr, Ctx};
use crate::consts::*;

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
/// relocations). Offsets are file offsets; counts are entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Pread, Pwrite, SizeWith)]
pub struct Dysymtab {
    /// Index of the first local symbol.
    pub ilocalsym: u32,
    /// Number of local symbols.
    pub nlocalsym: u32,
    /// Index of the first externally defined symbol.
    pub iextdefsym: u32,
    /// Number of externally defined symbols.
    pub nextdefsym: u32,
    /// Index of the first undefined symbol.
    pub iundefsym: u32,
    /// Number of undefined symbols.
    pub nundefsym: u32,
    /// Table of contents.
    pub tocoff: u32,
    /// Its entries.
    pub ntoc: u32,
    /// Module table.
    pub modtaboff: u32,
    /// Its entries.
    pub nmodtab: u32,
    /// Referenced symbol table.
    pub extrefsymoff: u32,
    /// Its entries.
    pub nextrefsyms: u32,
    /// Indirect symbol table.
    pub indirectsymoff: u32,
    /// Its entries.
    pub nindirectsyms: u32,
    /// External relocations.
    pub extreloff: u32,
    /// Their number.
    pub nextrel: u32,
    /// Local relocations.
    pub locreloff: u32,
    /// Their number.
    pub nlocrel: u32,
}

/// LC_DYLD_INFO / LC_DYLD_INFO_ONLY: the rebase, bind, weak bind, lazy bind and export
/// streams, each a file offset and a byte size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Pread, Pwrite, SizeWith)]
pub struct DyldInfo {
    /// Rebase opcodes.
    pub rebase_off: u32,
    /// Their size.
    pub rebase_size: u32,
    /// Bind opcodes.
    pub bind_off: u32,
    /// Their size.
    pub bind_size: u32,
    /// Weak bind opcodes.
    pub weak_bind_off: u32,
    /// Their size.
    pub weak_bind_size: u32,
    /// Lazy bind opcodes.
    pub lazy_bind_off: u32,
    /// Their size.
    pub lazy_bind_size: u32,
    /// Export trie.
    pub export_off: u32,
    /// Its size.
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
pub enum LinkeditKind {
    /// LC_CODE_SIGNATURE: the embedded signature.
    CodeSignature,
    /// LC_SEGMENT_SPLIT_INFO: for the shared-cache builder.
    SegmentSplitInfo,
    /// LC_FUNCTION_STARTS: ULEB128 deltas of function addresses.
    FunctionStarts,
    /// LC_DATA_IN_CODE: data ranges in code sections.
    DataInCode,
    /// LC_DYLIB_CODE_SIGN_DRS: code-signing requirements of linked dylibs.
    DylibCodeSignDrs,
    /// LC_LINKER_OPTIMIZATION_HINT: hints for the linker (object files).
    LinkerOptimizationHint,
    /// LC_DYLD_EXPORTS_TRIE: the export trie.
    DyldExportsTrie,
    /// LC_DYLD_CHAINED_FIXUPS: chained fixups.
    DyldChainedFixups,
    /// LC_ATOM_INFO: atom boundaries (object files).
    AtomInfo,
    /// LC_FUNCTION_VARIANTS: the function variants table.
    FunctionVariants,
    /// LC_FUNCTION_VARIANT_FIXUPS: fixups of function variants.
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

    pub(crate) fn from_cmd(cmd: u32) -> Option<LinkeditKind> {
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

    pub(crate) fn from_cmd(cmd: u32) -> Option<DylibKind> {
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
pub enum VersionMinKind {
    /// LC_VERSION_MIN_MACOSX.
    MacOs,
    /// LC_VERSION_MIN_IPHONEOS.
    IOs,
    /// LC_VERSION_MIN_TVOS.
    TvOs,
    /// LC_VERSION_MIN_WATCHOS.
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

    pub(crate) fn from_cmd(cmd: u32) -> Option<VersionMinKind> {
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
}

/// One load command: its typed fixed part and the bytes after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadCommand {
    pub(crate) command: Command,
    pub(crate) tail: Vec<u8>,
}

impl LoadCommand {
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
        let r = RpathCommand {
            path_offset: crate::codec::with_head::<RpathCommand>() as u32,
        };
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
            name_offset: crate::codec::with_head::<DylibCommand>() as u32,
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
        let off = match &self.command {
            Command::Dylib(_, d) => d.name_offset,
            Command::Rpath(r) => r.path_offset,
            _ => return None,
        };
        crate::codec::string_in(&self.tail, self.fixed_size(), off)
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
}
