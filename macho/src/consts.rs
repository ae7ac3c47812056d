//! Mach-O constants used by this crate (values from <mach-o/loader.h>, <mach-o/fat.h>,
//! <mach-o/nlist.h>, <mach-o/fixup-chains.h>, <mach/machine.h>, <mach/thread_status.h> and the
//! code-signing headers).

/// Thin 32-bit header magic (read in the file's byte order).
pub const MH_MAGIC: u32 = 0xfeed_face;
/// Thin 64-bit header magic.
pub const MH_MAGIC_64: u32 = 0xfeed_facf;
/// Fat header with 32-bit arch entries (big-endian).
pub const FAT_MAGIC: u32 = 0xcafe_babe;
/// Fat header with 64-bit arch entries (big-endian).
pub const FAT_MAGIC_64: u32 = 0xcafe_babf;

// File types.
/// Relocatable object file.
pub const MH_OBJECT: u32 = 0x1;
/// Executable.
pub const MH_EXECUTE: u32 = 0x2;
/// Dynamic library.
pub const MH_DYLIB: u32 = 0x6;
/// The dynamic linker (dyld).
pub const MH_DYLINKER: u32 = 0x7;
/// Bundle (a plugin loaded with dlopen).
pub const MH_BUNDLE: u32 = 0x8;
/// Dynamic library stub (no code).
pub const MH_DYLIB_STUB: u32 = 0x9;
/// Companion file of debug sections.
pub const MH_DSYM: u32 = 0xa;

/// Header flag: the executable is position independent (loaded at a random address).
pub const MH_PIE: u32 = 0x20_0000;

/// i386.
pub const CPU_TYPE_X86: u32 = 7;
/// x86_64.
pub const CPU_TYPE_X86_64: u32 = 0x0100_0007;
/// 32-bit ARM.
pub const CPU_TYPE_ARM: u32 = 12;
/// arm64 (and arm64e).
pub const CPU_TYPE_ARM64: u32 = 0x0100_000c;
/// arm64_32 (64-bit code, 32-bit pointers).
pub const CPU_TYPE_ARM64_32: u32 = 0x0200_000c;
/// 32-bit PowerPC.
pub const CPU_TYPE_POWERPC: u32 = 18;
/// 64-bit PowerPC.
pub const CPU_TYPE_POWERPC64: u32 = 0x0100_0012;
/// The bits of `cpusubtype` that name the subtype (the rest are capability flags).
pub const CPU_SUBTYPE_MASK: u32 = 0xff;
/// arm64e (pointer authentication).
pub const CPU_SUBTYPE_ARM64E: u32 = 2;
/// x86_64h (Haswell).
pub const CPU_SUBTYPE_X86_64_H: u32 = 8;

// Load commands.
/// Flag of load commands dyld must understand to load the image.
pub const LC_REQ_DYLD: u32 = 0x8000_0000;
/// Load command `LC_SEGMENT`.
pub const LC_SEGMENT: u32 = 0x1;
/// Load command `LC_SYMTAB`.
pub const LC_SYMTAB: u32 = 0x2;
/// Load command `LC_SYMSEG`.
pub const LC_SYMSEG: u32 = 0x3;
/// Load command `LC_THREAD`.
pub const LC_THREAD: u32 = 0x4;
/// Load command `LC_UNIXTHREAD`.
pub const LC_UNIXTHREAD: u32 = 0x5;
/// Load command `LC_LOADFVMLIB`.
pub const LC_LOADFVMLIB: u32 = 0x6;
/// Load command `LC_IDFVMLIB`.
pub const LC_IDFVMLIB: u32 = 0x7;
/// Load command `LC_IDENT`.
pub const LC_IDENT: u32 = 0x8;
/// Load command `LC_FVMFILE`.
pub const LC_FVMFILE: u32 = 0x9;
/// Load command `LC_PREPAGE`.
pub const LC_PREPAGE: u32 = 0xa;
/// Load command `LC_DYSYMTAB`.
pub const LC_DYSYMTAB: u32 = 0xb;
/// Load command `LC_LOAD_DYLIB`.
pub const LC_LOAD_DYLIB: u32 = 0xc;
/// Load command `LC_ID_DYLIB`.
pub const LC_ID_DYLIB: u32 = 0xd;
/// Load command `LC_LOAD_DYLINKER`.
pub const LC_LOAD_DYLINKER: u32 = 0xe;
/// Load command `LC_ID_DYLINKER`.
pub const LC_ID_DYLINKER: u32 = 0xf;
/// Load command `LC_PREBOUND_DYLIB`.
pub const LC_PREBOUND_DYLIB: u32 = 0x10;
/// Load command `LC_ROUTINES`.
pub const LC_ROUTINES: u32 = 0x11;
/// Load command `LC_SUB_FRAMEWORK`.
pub const LC_SUB_FRAMEWORK: u32 = 0x12;
/// Load command `LC_SUB_UMBRELLA`.
pub const LC_SUB_UMBRELLA: u32 = 0x13;
/// Load command `LC_SUB_CLIENT`.
pub const LC_SUB_CLIENT: u32 = 0x14;
/// Load command `LC_SUB_LIBRARY`.
pub const LC_SUB_LIBRARY: u32 = 0x15;
/// Load command `LC_TWOLEVEL_HINTS`.
pub const LC_TWOLEVEL_HINTS: u32 = 0x16;
/// Load command `LC_PREBIND_CKSUM`.
pub const LC_PREBIND_CKSUM: u32 = 0x17;
/// Load command `LC_LOAD_WEAK_DYLIB`.
pub const LC_LOAD_WEAK_DYLIB: u32 = 0x18 | LC_REQ_DYLD;
/// Load command `LC_SEGMENT_64`.
pub const LC_SEGMENT_64: u32 = 0x19;
/// Load command `LC_ROUTINES_64`.
pub const LC_ROUTINES_64: u32 = 0x1a;
/// Load command `LC_UUID`.
pub const LC_UUID: u32 = 0x1b;
/// Load command `LC_RPATH`.
pub const LC_RPATH: u32 = 0x1c | LC_REQ_DYLD;
/// Load command `LC_CODE_SIGNATURE`.
pub const LC_CODE_SIGNATURE: u32 = 0x1d;
/// Load command `LC_SEGMENT_SPLIT_INFO`.
pub const LC_SEGMENT_SPLIT_INFO: u32 = 0x1e;
/// Load command `LC_REEXPORT_DYLIB`.
pub const LC_REEXPORT_DYLIB: u32 = 0x1f | LC_REQ_DYLD;
/// Load command `LC_LAZY_LOAD_DYLIB`.
pub const LC_LAZY_LOAD_DYLIB: u32 = 0x20;
/// Load command `LC_ENCRYPTION_INFO`.
pub const LC_ENCRYPTION_INFO: u32 = 0x21;
/// Load command `LC_DYLD_INFO`.
pub const LC_DYLD_INFO: u32 = 0x22;
/// Load command `LC_DYLD_INFO_ONLY`.
pub const LC_DYLD_INFO_ONLY: u32 = 0x22 | LC_REQ_DYLD;
/// Load command `LC_LOAD_UPWARD_DYLIB`.
pub const LC_LOAD_UPWARD_DYLIB: u32 = 0x23 | LC_REQ_DYLD;
/// Load command `LC_VERSION_MIN_MACOSX`.
pub const LC_VERSION_MIN_MACOSX: u32 = 0x24;
/// Load command `LC_VERSION_MIN_IPHONEOS`.
pub const LC_VERSION_MIN_IPHONEOS: u32 = 0x25;
/// Load command `LC_FUNCTION_STARTS`.
pub const LC_FUNCTION_STARTS: u32 = 0x26;
/// Load command `LC_DYLD_ENVIRONMENT`.
pub const LC_DYLD_ENVIRONMENT: u32 = 0x27;
/// Load command `LC_MAIN`.
pub const LC_MAIN: u32 = 0x28 | LC_REQ_DYLD;
/// Load command `LC_DATA_IN_CODE`.
pub const LC_DATA_IN_CODE: u32 = 0x29;
/// Load command `LC_SOURCE_VERSION`.
pub const LC_SOURCE_VERSION: u32 = 0x2a;
/// Load command `LC_DYLIB_CODE_SIGN_DRS`.
pub const LC_DYLIB_CODE_SIGN_DRS: u32 = 0x2b;
/// Load command `LC_ENCRYPTION_INFO_64`.
pub const LC_ENCRYPTION_INFO_64: u32 = 0x2c;
/// Load command `LC_LINKER_OPTION`.
pub const LC_LINKER_OPTION: u32 = 0x2d;
/// Load command `LC_LINKER_OPTIMIZATION_HINT`.
pub const LC_LINKER_OPTIMIZATION_HINT: u32 = 0x2e;
/// Load command `LC_VERSION_MIN_TVOS`.
pub const LC_VERSION_MIN_TVOS: u32 = 0x2f;
/// Load command `LC_VERSION_MIN_WATCHOS`.
pub const LC_VERSION_MIN_WATCHOS: u32 = 0x30;
/// Load command `LC_NOTE`.
pub const LC_NOTE: u32 = 0x31;
/// Load command `LC_BUILD_VERSION`.
pub const LC_BUILD_VERSION: u32 = 0x32;
/// Load command `LC_DYLD_EXPORTS_TRIE`.
pub const LC_DYLD_EXPORTS_TRIE: u32 = 0x33 | LC_REQ_DYLD;
/// Load command `LC_DYLD_CHAINED_FIXUPS`.
pub const LC_DYLD_CHAINED_FIXUPS: u32 = 0x34 | LC_REQ_DYLD;
/// Load command `LC_FILESET_ENTRY`.
pub const LC_FILESET_ENTRY: u32 = 0x35 | LC_REQ_DYLD;
/// Load command `LC_ATOM_INFO`.
pub const LC_ATOM_INFO: u32 = 0x36;
/// Load command `LC_FUNCTION_VARIANTS`.
pub const LC_FUNCTION_VARIANTS: u32 = 0x37;
/// Load command `LC_FUNCTION_VARIANT_FIXUPS`.
pub const LC_FUNCTION_VARIANT_FIXUPS: u32 = 0x38;
/// Load command `LC_TARGET_TRIPLE`.
pub const LC_TARGET_TRIPLE: u32 = 0x39;

// Sections.
/// Mask of the type in a section's flags.
pub const SECTION_TYPE: u32 = 0xff;
/// Zero-fill section.
pub const S_ZEROFILL: u32 = 0x1;
/// Zero-fill section over 4 GiB.
pub const S_GB_ZEROFILL: u32 = 0xc;
/// Zero-fill thread-local section.
pub const S_THREAD_LOCAL_ZEROFILL: u32 = 0x12;

// Symbols (`nlist`).
/// `n_type` bits of a debugging (stab) symbol.
pub const N_STAB: u8 = 0xe0;
/// `n_type` mask of the symbol type.
pub const N_TYPE: u8 = 0x0e;
/// Symbol defined in a section.
pub const N_SECT: u8 = 0x0e;
/// Stab: begin of a function's symbols.
pub const N_BNSYM: u8 = 0x2e;
/// Stab: function.
pub const N_FUN: u8 = 0x24;
/// Stab: static data.
pub const N_STSYM: u8 = 0x26;
/// Stab: local zero-fill data.
pub const N_LCSYM: u8 = 0x28;
/// Stab: end of a function's symbols.
pub const N_ENSYM: u8 = 0x4e;

// Dyld-info opcode streams: the high nibble is the opcode, the low one an immediate.
/// Opcode bits of a dyld-info opcode byte.
pub const OPCODE_MASK: u8 = 0xf0;
/// Immediate bits of a dyld-info opcode byte.
pub const IMMEDIATE_MASK: u8 = 0x0f;

/// A rebased pointer.
pub const REBASE_TYPE_POINTER: u8 = 1;
/// A rebased absolute 32-bit address in code.
pub const REBASE_TYPE_TEXT_ABSOLUTE32: u8 = 2;
/// Rebase opcode `DONE`.
pub const REBASE_OPCODE_DONE: u8 = 0x00;
/// Rebase opcode `SET_TYPE_IMM`.
pub const REBASE_OPCODE_SET_TYPE_IMM: u8 = 0x10;
/// Rebase opcode `SET_SEGMENT_AND_OFFSET_ULEB`.
pub const REBASE_OPCODE_SET_SEGMENT_AND_OFFSET_ULEB: u8 = 0x20;
/// Rebase opcode `ADD_ADDR_ULEB`.
pub const REBASE_OPCODE_ADD_ADDR_ULEB: u8 = 0x30;
/// Rebase opcode `ADD_ADDR_IMM_SCALED`.
pub const REBASE_OPCODE_ADD_ADDR_IMM_SCALED: u8 = 0x40;
/// Rebase opcode `DO_REBASE_IMM_TIMES`.
pub const REBASE_OPCODE_DO_REBASE_IMM_TIMES: u8 = 0x50;
/// Rebase opcode `DO_REBASE_ULEB_TIMES`.
pub const REBASE_OPCODE_DO_REBASE_ULEB_TIMES: u8 = 0x60;
/// Rebase opcode `DO_REBASE_ADD_ADDR_ULEB`.
pub const REBASE_OPCODE_DO_REBASE_ADD_ADDR_ULEB: u8 = 0x70;
/// Rebase opcode `DO_REBASE_ULEB_TIMES_SKIPPING_ULEB`.
pub const REBASE_OPCODE_DO_REBASE_ULEB_TIMES_SKIPPING_ULEB: u8 = 0x80;

/// Bind opcode `DONE`.
pub const BIND_OPCODE_DONE: u8 = 0x00;
/// Bind opcode `SET_DYLIB_ORDINAL_IMM`.
pub const BIND_OPCODE_SET_DYLIB_ORDINAL_IMM: u8 = 0x10;
/// Bind opcode `SET_DYLIB_ORDINAL_ULEB`.
pub const BIND_OPCODE_SET_DYLIB_ORDINAL_ULEB: u8 = 0x20;
/// Bind opcode `SET_DYLIB_SPECIAL_IMM`.
pub const BIND_OPCODE_SET_DYLIB_SPECIAL_IMM: u8 = 0x30;
/// Bind opcode `SET_SYMBOL_TRAILING_FLAGS_IMM`.
pub const BIND_OPCODE_SET_SYMBOL_TRAILING_FLAGS_IMM: u8 = 0x40;
/// Bind opcode `SET_TYPE_IMM`.
pub const BIND_OPCODE_SET_TYPE_IMM: u8 = 0x50;
/// Bind opcode `SET_ADDEND_SLEB`.
pub const BIND_OPCODE_SET_ADDEND_SLEB: u8 = 0x60;
/// Bind opcode `SET_SEGMENT_AND_OFFSET_ULEB`.
pub const BIND_OPCODE_SET_SEGMENT_AND_OFFSET_ULEB: u8 = 0x70;
/// Bind opcode `ADD_ADDR_ULEB`.
pub const BIND_OPCODE_ADD_ADDR_ULEB: u8 = 0x80;
/// Bind opcode `DO_BIND`.
pub const BIND_OPCODE_DO_BIND: u8 = 0x90;
/// Bind opcode `DO_BIND_ADD_ADDR_ULEB`.
pub const BIND_OPCODE_DO_BIND_ADD_ADDR_ULEB: u8 = 0xa0;
/// Bind opcode `DO_BIND_ADD_ADDR_IMM_SCALED`.
pub const BIND_OPCODE_DO_BIND_ADD_ADDR_IMM_SCALED: u8 = 0xb0;
/// Bind opcode `DO_BIND_ULEB_TIMES_SKIPPING_ULEB`.
pub const BIND_OPCODE_DO_BIND_ULEB_TIMES_SKIPPING_ULEB: u8 = 0xc0;
/// Bind opcode `THREADED`.
pub const BIND_OPCODE_THREADED: u8 = 0xd0;

// Export trie terminal flags.
/// Mask of the kind of an exported symbol.
pub const EXPORT_SYMBOL_FLAGS_KIND_MASK: u64 = 0x03;
/// An absolute symbol (its value is not an image offset).
pub const EXPORT_SYMBOL_FLAGS_KIND_ABSOLUTE: u64 = 0x02;
/// Re-exported from another library.
pub const EXPORT_SYMBOL_FLAGS_REEXPORT: u64 = 0x08;
/// A stub with a resolver function.
pub const EXPORT_SYMBOL_FLAGS_STUB_AND_RESOLVER: u64 = 0x10;

// Chained fixups: pointer formats (`dyld_chained_starts_in_segment.pointer_format`).
/// arm64e pointers, targets as addresses (8-byte stride).
pub const DYLD_CHAINED_PTR_ARM64E: u16 = 1;
/// 64-bit pointers, targets as addresses (4-byte stride).
pub const DYLD_CHAINED_PTR_64: u16 = 2;
/// 64-bit pointers, targets as image offsets.
pub const DYLD_CHAINED_PTR_64_OFFSET: u16 = 6;
/// arm64e pointers, targets as image offsets.
pub const DYLD_CHAINED_PTR_ARM64E_USERLAND: u16 = 9;
/// arm64e pointers with 24-bit bind ordinals, targets as image offsets.
pub const DYLD_CHAINED_PTR_ARM64E_USERLAND24: u16 = 12;
/// A page of `page_start` with no fixups.
pub const DYLD_CHAINED_PTR_START_NONE: u16 = 0xffff;
/// A `page_start` entry that indexes a list of chain starts.
pub const DYLD_CHAINED_PTR_START_MULTI: u16 = 0x8000;

// Thread states of LC_THREAD / LC_UNIXTHREAD.
/// i386 thread state (eip at word 10).
pub const X86_THREAD_STATE32: u32 = 1;
/// x86_64 thread state (rip at word 16).
pub const X86_THREAD_STATE64: u32 = 4;
/// arm64 thread state (pc after x0–x28, fp, lr, sp).
pub const ARM_THREAD_STATE64: u32 = 6;

// Compact unwind (`__TEXT,__unwind_info`).
/// Version of `__unwind_info`.
pub const UNWIND_SECTION_VERSION: u32 = 1;
/// Regular (uncompressed) second-level unwind page.
pub const UNWIND_SECOND_LEVEL_REGULAR: u32 = 2;

/// Code signing blob magics (big-endian in the file).
pub const CSMAGIC_EMBEDDED_SIGNATURE: u32 = 0xfade_0cc0;
/// CodeDirectory.
pub const CSMAGIC_CODEDIRECTORY: u32 = 0xfade_0c02;
/// Requirements.
pub const CSMAGIC_REQUIREMENTS: u32 = 0xfade_0c01;
/// Entitlements (XML).
pub const CSMAGIC_EMBEDDED_ENTITLEMENTS: u32 = 0xfade_7171;
/// Entitlements (DER).
pub const CSMAGIC_EMBEDDED_DER_ENTITLEMENTS: u32 = 0xfade_7172;
/// CMS signature wrapper.
pub const CSMAGIC_BLOBWRAPPER: u32 = 0xfade_0b01;
/// Slot of the CodeDirectory.
pub const CSSLOT_CODEDIRECTORY: u32 = 0;
/// Slot of the requirements.
pub const CSSLOT_REQUIREMENTS: u32 = 2;
/// Slot of the entitlements.
pub const CSSLOT_ENTITLEMENTS: u32 = 5;
/// Slot of the DER entitlements.
pub const CSSLOT_DER_ENTITLEMENTS: u32 = 7;
/// First slot of alternate CodeDirectories.
pub const CSSLOT_ALTERNATE_CODEDIRECTORIES: u32 = 0x1000;
/// One past the last alternate CodeDirectory slot.
pub const CSSLOT_ALTERNATE_CODEDIRECTORY_LIMIT: u32 = 0x1005;
/// Slot of the CMS signature.
pub const CSSLOT_SIGNATURESLOT: u32 = 0x10000;
/// CodeDirectory flag: ad-hoc signed.
pub const CS_ADHOC: u32 = 0x2;
/// CodeDirectory flag: signed by the linker.
pub const CS_LINKER_SIGNED: u32 = 0x2_0000;
/// CodeDirectory flag: library validation (only libraries of the same team, or Apple's, load).
pub const CS_REQUIRE_LV: u32 = 0x2000;
/// CodeDirectory flag: the hardened runtime.
pub const CS_RUNTIME: u32 = 0x1_0000;
/// SHA-256 page hashes.
pub const CS_HASHTYPE_SHA256: u8 = 2;
/// Size of a SHA-256 hash.
pub const CS_SHA256_LEN: u8 = 32;
/// Exec-segment flag: the main executable.
pub const CS_EXECSEG_MAIN_BINARY: u64 = 0x1;
/// log2 of the code page size of new signatures (4 KiB).
pub const CS_PAGE_SHIFT: u8 = 12;
/// CodeDirectory version with a team identifier.
pub const CS_SUPPORTSTEAMID: u32 = 0x20200;
/// CodeDirectory version with the exec-segment fields.
pub const CS_SUPPORTSEXECSEG: u32 = 0x20400;

/// The name of a load command kind (`LC_SEGMENT_64`), if this crate knows it.
pub fn command_name(cmd: u32) -> Option<&'static str> {
    Some(match cmd {
        LC_SEGMENT => "LC_SEGMENT",
        LC_SYMTAB => "LC_SYMTAB",
        LC_SYMSEG => "LC_SYMSEG",
        LC_THREAD => "LC_THREAD",
        LC_UNIXTHREAD => "LC_UNIXTHREAD",
        LC_LOADFVMLIB => "LC_LOADFVMLIB",
        LC_IDFVMLIB => "LC_IDFVMLIB",
        LC_IDENT => "LC_IDENT",
        LC_FVMFILE => "LC_FVMFILE",
        LC_PREPAGE => "LC_PREPAGE",
        LC_DYSYMTAB => "LC_DYSYMTAB",
        LC_LOAD_DYLIB => "LC_LOAD_DYLIB",
        LC_ID_DYLIB => "LC_ID_DYLIB",
        LC_LOAD_DYLINKER => "LC_LOAD_DYLINKER",
        LC_ID_DYLINKER => "LC_ID_DYLINKER",
        LC_PREBOUND_DYLIB => "LC_PREBOUND_DYLIB",
        LC_ROUTINES => "LC_ROUTINES",
        LC_SUB_FRAMEWORK => "LC_SUB_FRAMEWORK",
        LC_SUB_UMBRELLA => "LC_SUB_UMBRELLA",
        LC_SUB_CLIENT => "LC_SUB_CLIENT",
        LC_SUB_LIBRARY => "LC_SUB_LIBRARY",
        LC_TWOLEVEL_HINTS => "LC_TWOLEVEL_HINTS",
        LC_PREBIND_CKSUM => "LC_PREBIND_CKSUM",
        LC_LOAD_WEAK_DYLIB => "LC_LOAD_WEAK_DYLIB",
        LC_SEGMENT_64 => "LC_SEGMENT_64",
        LC_ROUTINES_64 => "LC_ROUTINES_64",
        LC_UUID => "LC_UUID",
        LC_RPATH => "LC_RPATH",
        LC_CODE_SIGNATURE => "LC_CODE_SIGNATURE",
        LC_SEGMENT_SPLIT_INFO => "LC_SEGMENT_SPLIT_INFO",
        LC_REEXPORT_DYLIB => "LC_REEXPORT_DYLIB",
        LC_LAZY_LOAD_DYLIB => "LC_LAZY_LOAD_DYLIB",
        LC_ENCRYPTION_INFO => "LC_ENCRYPTION_INFO",
        LC_DYLD_INFO => "LC_DYLD_INFO",
        LC_DYLD_INFO_ONLY => "LC_DYLD_INFO_ONLY",
        LC_LOAD_UPWARD_DYLIB => "LC_LOAD_UPWARD_DYLIB",
        LC_VERSION_MIN_MACOSX => "LC_VERSION_MIN_MACOSX",
        LC_VERSION_MIN_IPHONEOS => "LC_VERSION_MIN_IPHONEOS",
        LC_FUNCTION_STARTS => "LC_FUNCTION_STARTS",
        LC_DYLD_ENVIRONMENT => "LC_DYLD_ENVIRONMENT",
        LC_MAIN => "LC_MAIN",
        LC_DATA_IN_CODE => "LC_DATA_IN_CODE",
        LC_SOURCE_VERSION => "LC_SOURCE_VERSION",
        LC_DYLIB_CODE_SIGN_DRS => "LC_DYLIB_CODE_SIGN_DRS",
        LC_ENCRYPTION_INFO_64 => "LC_ENCRYPTION_INFO_64",
        LC_LINKER_OPTION => "LC_LINKER_OPTION",
        LC_LINKER_OPTIMIZATION_HINT => "LC_LINKER_OPTIMIZATION_HINT",
        LC_VERSION_MIN_TVOS => "LC_VERSION_MIN_TVOS",
        LC_VERSION_MIN_WATCHOS => "LC_VERSION_MIN_WATCHOS",
        LC_NOTE => "LC_NOTE",
        LC_BUILD_VERSION => "LC_BUILD_VERSION",
        LC_DYLD_EXPORTS_TRIE => "LC_DYLD_EXPORTS_TRIE",
        LC_DYLD_CHAINED_FIXUPS => "LC_DYLD_CHAINED_FIXUPS",
        LC_FILESET_ENTRY => "LC_FILESET_ENTRY",
        LC_ATOM_INFO => "LC_ATOM_INFO",
        LC_FUNCTION_VARIANTS => "LC_FUNCTION_VARIANTS",
        LC_FUNCTION_VARIANT_FIXUPS => "LC_FUNCTION_VARIANT_FIXUPS",
        LC_TARGET_TRIPLE => "LC_TARGET_TRIPLE",
        _ => return None,
    })
}
