//! The numeric constants of the ELF specification that this crate uses.

/// Executable file (fixed addresses).
pub const ET_EXEC: u16 = 2;
/// Shared object, PIE or dynamic loader.
pub const ET_DYN: u16 = 3;

/// Unused program header entry.
pub const PT_NULL: u32 = 0;
/// Loadable segment.
pub const PT_LOAD: u32 = 1;
/// The dynamic table.
pub const PT_DYNAMIC: u32 = 2;
/// Program interpreter path.
pub const PT_INTERP: u32 = 3;
/// Notes.
pub const PT_NOTE: u32 = 4;
/// The program header table itself.
pub const PT_PHDR: u32 = 6;
/// GNU property note (`.note.gnu.property`).
pub const PT_GNU_PROPERTY: u32 = 0x6474_e553;
/// Stack permissions.
pub const PT_GNU_STACK: u32 = 0x6474_e551;
/// Read-only after relocation.
pub const PT_GNU_RELRO: u32 = 0x6474_e552;
/// MIPS register usage (`.reginfo`).
pub const PT_MIPS_REGINFO: u32 = 0x7000_0000;
/// MIPS ABI flags (`.MIPS.abiflags`).
pub const PT_MIPS_ABIFLAGS: u32 = 0x7000_0003;

/// Segment is executable.
pub const PF_X: u32 = 1;
/// Segment is writable.
pub const PF_W: u32 = 2;
/// Segment is readable.
pub const PF_R: u32 = 4;

/// Unused section header.
pub const SHT_NULL: u32 = 0;
/// Program data.
pub const SHT_PROGBITS: u32 = 1;
/// Symbol table (`.symtab`).
pub const SHT_SYMTAB: u32 = 2;
/// String table.
pub const SHT_STRTAB: u32 = 3;
/// SysV symbol hash table.
pub const SHT_HASH: u32 = 5;
/// Dynamic table.
pub const SHT_DYNAMIC: u32 = 6;
/// Notes.
pub const SHT_NOTE: u32 = 7;
/// Occupies no file space (`.bss`).
pub const SHT_NOBITS: u32 = 8;
/// Dynamic symbol table.
pub const SHT_DYNSYM: u32 = 11;
/// GNU symbol hash table.
pub const SHT_GNU_HASH: u32 = 0x6fff_fff6;
/// MIPS `.reginfo`.
pub const SHT_MIPS_REGINFO: u32 = 0x7000_0006;
/// MIPS `.MIPS.abiflags`.
pub const SHT_MIPS_ABIFLAGS: u32 = 0x7000_002a;
/// Version definitions (`.gnu.version_d`).
pub const SHT_GNU_VERDEF: u32 = 0x6fff_fffd;
/// Version needs (`.gnu.version_r`).
pub const SHT_GNU_VERNEED: u32 = 0x6fff_fffe;
/// Symbol versions (`.gnu.version`).
pub const SHT_GNU_VERSYM: u32 = 0x6fff_ffff;

/// Section is mapped at run time.
pub const SHF_ALLOC: u64 = 2;

/// End of the dynamic table.
pub const DT_NULL: u64 = 0;
/// A needed library (string).
pub const DT_NEEDED: u64 = 1;
/// Size of the PLT relocations.
pub const DT_PLTRELSZ: u64 = 2;
/// Address of the SysV hash table.
pub const DT_HASH: u64 = 4;
/// Address of the dynamic string table.
pub const DT_STRTAB: u64 = 5;
/// Address of the dynamic symbol table.
pub const DT_SYMTAB: u64 = 6;
/// Address of RELA relocations.
pub const DT_RELA: u64 = 7;
/// Size of RELA relocations.
pub const DT_RELASZ: u64 = 8;
/// Size of the dynamic string table.
pub const DT_STRSZ: u64 = 10;
/// The soname (string).
pub const DT_SONAME: u64 = 14;
/// Run path, old style (string).
pub const DT_RPATH: u64 = 15;
/// Address of REL relocations.
pub const DT_REL: u64 = 17;
/// Size of REL relocations.
pub const DT_RELSZ: u64 = 18;
/// Kind of PLT relocations (DT_REL or DT_RELA).
pub const DT_PLTREL: u64 = 20;
/// Debugger hook, written by the loader.
pub const DT_DEBUG: u64 = 21;
/// Address of the PLT relocations.
pub const DT_JMPREL: u64 = 23;
/// Run path (string).
pub const DT_RUNPATH: u64 = 29;
/// Address of the extended section index table of the dynamic symbols.
pub const DT_SYMTAB_SHNDX: u64 = 34;
/// Android packed REL relocations.
pub const DT_ANDROID_REL: u64 = 0x6000_000f;
/// Android packed RELA relocations.
pub const DT_ANDROID_RELA: u64 = 0x6000_0011;
/// State flags (`DF_1_*`).
pub const DT_FLAGS_1: u64 = 0x6fff_fffb;
/// Address of the GNU hash table.
pub const DT_GNU_HASH: u64 = 0x6fff_fef5;
/// Address of `.gnu.version`.
pub const DT_VERSYM: u64 = 0x6fff_fff0;
/// Address of `.gnu.version_d`.
pub const DT_VERDEF: u64 = 0x6fff_fffc;
/// Number of version definitions.
pub const DT_VERDEFNUM: u64 = 0x6fff_fffd;
/// Address of `.gnu.version_r`.
pub const DT_VERNEED: u64 = 0x6fff_fffe;
/// Number of version needs.
pub const DT_VERNEEDNUM: u64 = 0x6fff_ffff;
/// Configuration file (string).
pub const DT_CONFIG: u64 = 0x6fff_fefa;
/// Dependency auditing library (string).
pub const DT_DEPAUDIT: u64 = 0x6fff_fefb;
/// Auditing library (string).
pub const DT_AUDIT: u64 = 0x6fff_fefc;
/// MIPS debug map, relative to the entry itself.
pub const DT_MIPS_RLD_MAP_REL: u64 = 0x7000_0035;
/// Auxiliary filter (string).
pub const DT_AUXILIARY: u64 = 0x7fff_fffd;
/// Filter (string).
pub const DT_FILTER: u64 = 0x7fff_ffff;

/// Ignore the default library search paths.
pub const DF_1_NODEFLIB: u64 = 0x800;
/// Position-independent executable.
pub const DF_1_PIE: u64 = 0x0800_0000;

/// Dynamic tags whose value is an offset into the dynamic string table.
pub const STRING_TAGS: [u64; 9] = [
    DT_NEEDED,
    DT_SONAME,
    DT_RPATH,
    DT_RUNPATH,
    DT_CONFIG,
    DT_DEPAUDIT,
    DT_AUDIT,
    DT_AUXILIARY,
    DT_FILTER,
];

/// Intel 80386.
pub const EM_386: u16 = 3;
/// 32-bit PowerPC.
pub const EM_PPC: u16 = 20;
/// 64-bit PowerPC.
pub const EM_PPC64: u16 = 21;
/// IBM S/390 and z/Architecture.
pub const EM_S390: u16 = 22;
/// 32-bit Arm.
pub const EM_ARM: u16 = 40;
/// x86-64.
pub const EM_X86_64: u16 = 62;
/// 64-bit Arm.
pub const EM_AARCH64: u16 = 183;
/// RISC-V.
pub const EM_RISCV: u16 = 243;
/// LoongArch.
pub const EM_LOONGARCH: u16 = 258;
/// MIPS.
pub const EM_MIPS: u16 = 8;
/// SPARC V9.
pub const EM_SPARCV9: u16 = 43;
/// Intel Itanium.
pub const EM_IA_64: u16 = 50;

/// A readable name for `e_machine`.
pub fn machine_name(m: u16) -> &'static str {
    match m {
        EM_386 => "i386",
        EM_PPC => "ppc",
        EM_PPC64 => "ppc64",
        EM_S390 => "s390",
        EM_ARM => "arm",
        EM_X86_64 => "x86_64",
        EM_AARCH64 => "aarch64",
        EM_RISCV => "riscv",
        EM_LOONGARCH => "loongarch",
        EM_MIPS => "mips",
        EM_SPARCV9 => "sparcv9",
        EM_IA_64 => "ia64",
        _ => "unknown",
    }
}

/// The largest page size the machine's kernels use: segments added to a file are aligned to
/// this so that they load whatever page size the running kernel has.
pub fn max_page_size(m: u16) -> u64 {
    match m {
        EM_AARCH64 | EM_PPC64 | EM_PPC | EM_MIPS | EM_LOONGARCH | EM_IA_64 => 0x10000,
        EM_SPARCV9 => 0x2000,
        _ => 0x1000,
    }
}
