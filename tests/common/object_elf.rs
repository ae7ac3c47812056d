//! The `object` crate's ELF reader as an oracle independent of shenzi's parser. Shared by the
//! workspace's tests and the ELF crate's own (through `#[path]`).
#![allow(dead_code)]

/// What the `object` crate's ELF reader (a parser independent of shenzi's) sees in a file: the
/// dynamic entries that carry names, and the interpreter.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ObjectElf {
    pub needed: Vec<String>,
    pub soname: Option<String>,
    pub rpath: Option<String>,
    pub runpath: Option<String>,
    pub interpreter: Option<String>,
}

/// Reads `data` with `object`; panics (failing the test) when it cannot.
pub fn object_elf(data: &[u8]) -> ObjectElf {
    use object::elf::{FileHeader32, FileHeader64};
    use object::read::elf::FileHeader;
    match data.get(4) {
        Some(2) => read_object_elf(
            FileHeader64::<object::Endianness>::parse(data).expect("object: ELF header"),
            data,
        ),
        _ => read_object_elf(
            FileHeader32::<object::Endianness>::parse(data).expect("object: ELF header"),
            data,
        ),
    }
}

fn read_object_elf<H: object::read::elf::FileHeader<Endian = object::Endianness>>(
    header: &H,
    data: &[u8],
) -> ObjectElf {
    use object::read::elf::{Dyn, ProgramHeader};
    let endian = header.endian().expect("object: byte order");
    let segments = header
        .program_headers(endian, data)
        .expect("object: program headers");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let mut out = ObjectElf::default();
    for p in segments {
        if p.p_type(endian) == object::elf::PT_INTERP {
            let b = p.data(endian, data).expect("object: interpreter");
            out.interpreter = Some(text(b.split(|&c| c == 0).next().unwrap_or(b)));
        }
    }
    let Some(dynamic) = segments
        .iter()
        .find_map(|p| p.dynamic(endian, data).expect("object: dynamic table"))
    else {
        return out;
    };
    let tag = |t: u32| {
        dynamic
            .iter()
            .find(|d| d.tag32(endian) == Some(t))
            .map(|d| d.d_val(endian).into())
    };
    let (addr, size): (u64, u64) = (
        tag(object::elf::DT_STRTAB).expect("object: DT_STRTAB"),
        tag(object::elf::DT_STRSZ).expect("object: DT_STRSZ"),
    );
    let strtab = segments
        .iter()
        .find_map(|p| p.data_range(endian, data, addr, size).ok().flatten())
        .expect("object: DT_STRTAB is mapped");
    let string = |off: u64| {
        let rest = strtab
            .get(off as usize..)
            .expect("object: string offset inside DT_STRSZ");
        text(rest.split(|&c| c == 0).next().unwrap_or(rest))
    };
    for d in dynamic {
        let v: u64 = d.d_val(endian).into();
        match d.tag32(endian) {
            Some(object::elf::DT_NULL) => break,
            Some(object::elf::DT_NEEDED) => out.needed.push(string(v)),
            Some(object::elf::DT_SONAME) => out.soname = out.soname.or(Some(string(v))),
            Some(object::elf::DT_RPATH) => out.rpath = out.rpath.or(Some(string(v))),
            Some(object::elf::DT_RUNPATH) => out.runpath = out.runpath.or(Some(string(v))),
            _ => {}
        }
    }
    out
}
