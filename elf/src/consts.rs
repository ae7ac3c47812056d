//! The numeric constants of the ELF specification that this crate uses.

pub const ET_EXEC: u16 = 2;
pub const ET_DYN: u16 = 3;

pub const PT_NULL: u32 = 0;
pub const PT_LOAD: u32 = 1;
pub const PT_DYNAMIC: u32 = 2;
pub const PT_INTERP: u32 = 3;
pub const PT_NOTE: u32 = 4;
pub const PT_PHDR: u32 = 6;
pub const PT_GNU_PROPERTY: u32 = 0x6474_e553;
pub const PT_GNU_STACK: u32 = 0x6474_e551;
pub const PT_GNU_RELRO: u32 = 0x6474_e552;
pub const PT_MIPS_REGINFO: u32 = 0x7000_0000;
pub const PT_MIPS_ABIFLAGS: u32 = 0x7000_0003;

/// Program headers that describe exactly one section's bytes (or a group of notes), read by the
/// kernel or loader through their offset: when those sections move, the header follows.
pub const SECTION_PHDRS: [u32; 4] = [PT_NOTE, PT_GNU_PROPERTY, PT_MIPS_REGINFO, PT_MIPS_ABIFLAGS];

pub const PF_X: u32 = 1;
pub const PF_W: u32 = 2;
pub const PF_R: u32 = 4;

pub const SHT_NULL: u32 = 0;
pub const SHT_PROGBITS: u32 = 1;
pub const SHT_SYMTAB: u32 = 2;
pub const SHT_STRTAB: u32 = 3;
pub const SHT_HASH: u32 = 5;
pub const SHT_DYNAMIC: u32 = 6;
pub const SHT_NOTE: u32 = 7;
pub const SHT_NOBITS: u32 = 8;
pub const SHT_DYNSYM: u32 = 11;
pub const SHT_GNU_HASH: u32 = 0x6fff_fff6;
pub const SHT_MIPS_REGINFO: u32 = 0x7000_0006;
pub const SHT_MIPS_ABIFLAGS: u32 = 0x7000_002a;
pub const SHT_GNU_VERDEF: u32 = 0x6fff_fffd;
pub const SHT_GNU_VERNEED: u32 = 0x6fff_fffe;
pub const SHT_GNU_VERSYM: u32 = 0x6fff_ffff;

pub const SHF_ALLOC: u64 = 2;

pub const DT_NULL: u64 = 0;
pub const DT_NEEDED: u64 = 1;
pub const DT_PLTRELSZ: u64 = 2;
pub const DT_HASH: u64 = 4;
pub const DT_STRTAB: u64 = 5;
pub const DT_SYMTAB: u64 = 6;
pub const DT_RELA: u64 = 7;
pub const DT_RELASZ: u64 = 8;
pub const DT_STRSZ: u64 = 10;
pub const DT_SONAME: u64 = 14;
pub const DT_RPATH: u64 = 15;
pub const DT_REL: u64 = 17;
pub const DT_RELSZ: u64 = 18;
pub const DT_PLTREL: u64 = 20;
pub const DT_DEBUG: u64 = 21;
pub const DT_JMPREL: u64 = 23;
pub const DT_RUNPATH: u64 = 29;
pub const DT_SYMTAB_SHNDX: u64 = 34;
pub const DT_ANDROID_REL: u64 = 0x6000_000f;
pub const DT_ANDROID_RELA: u64 = 0x6000_0011;
pub const DT_FLAGS_1: u64 = 0x6fff_fffb;
pub const DT_GNU_HASH: u64 = 0x6fff_fef5;
pub const DT_VERSYM: u64 = 0x6fff_fff0;
pub const DT_VERDEF: u64 = 0x6fff_fffc;
pub const DT_VERDEFNUM: u64 = 0x6fff_fffd;
pub const DT_VERNEED: u64 = 0x6fff_fffe;
pub const DT_VERNEEDNUM: u64 = 0x6fff_ffff;
pub const DT_CONFIG: u64 = 0x6fff_fefa;
pub const DT_DEPAUDIT: u64 = 0x6fff_fefb;
pub const DT_AUDIT: u64 = 0x6fff_fefc;
pub const DT_MIPS_RLD_MAP_REL: u64 = 0x7000_0035;
pub const DT_AUXILIARY: u64 = 0x7fff_fffd;
pub const DT_FILTER: u64 = 0x7fff_ffff;

pub const DF_1_NODEFLIB: u64 = 0x800;
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

pub const EM_386: u16 = 3;
pub const EM_PPC: u16 = 20;
pub const EM_PPC64: u16 = 21;
pub const EM_S390: u16 = 22;
pub const EM_ARM: u16 = 40;
pub const EM_X86_64: u16 = 62;
pub const EM_AARCH64: u16 = 183;
pub const EM_RISCV: u16 = 243;
pub const EM_LOONGARCH: u16 = 258;
pub const EM_MIPS: u16 = 8;
pub const EM_SPARCV9: u16 = 43;
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
