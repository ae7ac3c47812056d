//! Every load command kind when the image grows: its file offsets and addresses move (or it
//! records none and stays byte for byte), or the growth is refused naming it. Each kind is fed
//! on its own to a linked image (which shifts) and to an object file (whose data moves), and
//! an unknown kind is refused. Also: commands no edit touches are written back byte for byte.

use shenzi_macho::testing::{image, LINKEDIT, TEXT};
use shenzi_macho::{consts::*, Layout, MachO, Options, RpathOp};

/// What a field of a command records.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Rec {
    /// A file offset (4 or 8 bytes wide).
    File(usize),
    /// An unslid address (4 or 8 bytes wide).
    Addr(usize),
    /// An image offset (8 bytes).
    Image,
}

/// One kind under test: the command's bytes and where it records what.
struct Case {
    name: &'static str,
    bytes: Vec<u8>,
    fields: Vec<(usize, Rec)>,
    /// Growth is refused (in linked images, in object files) with a message containing this.
    refused: (Option<&'static str>, Option<&'static str>),
}

/// A little-endian command: cmd, cmdsize, then `words`, padded to 8 bytes.
fn cmd(cmd: u32, words: &[u32]) -> Vec<u8> {
    let size = (8 + 4 * words.len()).next_multiple_of(8);
    let mut b = Vec::with_capacity(size);
    b.extend_from_slice(&cmd.to_le_bytes());
    b.extend_from_slice(&(size as u32).to_le_bytes());
    for w in words {
        b.extend_from_slice(&w.to_le_bytes());
    }
    b.resize(size, 0);
    b
}

/// A command holding a string at offset `8 + 4 * words.len()`.
fn string_cmd(c: u32, words: &[u32], s: &str) -> Vec<u8> {
    let head = 8 + 4 * words.len();
    let size = (head + s.len() + 1).next_multiple_of(8);
    let mut b = cmd(c, words);
    b.truncate(head);
    b[4..8].copy_from_slice(&(size as u32).to_le_bytes());
    b.extend_from_slice(s.as_bytes());
    b.resize(size, 0);
    b
}

fn lo(v: u64) -> u32 {
    v as u32
}

fn hi(v: u64) -> u32 {
    (v >> 32) as u32
}

fn moves(name: &'static str, bytes: Vec<u8>, fields: Vec<(usize, Rec)>) -> Case {
    Case {
        name,
        bytes,
        fields,
        refused: (None, None),
    }
}

fn stays(name: &'static str, bytes: Vec<u8>) -> Case {
    moves(name, bytes, Vec::new())
}

fn refused(name: &'static str, bytes: Vec<u8>, what: &'static str) -> Case {
    Case {
        name,
        bytes,
        fields: Vec::new(),
        refused: (Some(what), Some(what)),
    }
}

fn cases() -> Vec<Case> {
    let t = |k: u64| lo(LINKEDIT + 0x10 * k);
    let mut v = vec![
        moves(
            "LC_SYMTAB",
            cmd(LC_SYMTAB, &[t(0), 0, t(1), 8]),
            vec![(8, Rec::File(4)), (16, Rec::File(4))],
        ),
        moves(
            "LC_DYSYMTAB",
            cmd(
                LC_DYSYMTAB,
                &[
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    t(2),
                    0,
                    t(2),
                    0,
                    t(2),
                    0,
                    t(2),
                    0,
                    t(2),
                    0,
                    t(2),
                    0,
                ],
            ),
            [32, 40, 48, 56, 64, 72]
                .map(|at| (at, Rec::File(4)))
                .to_vec(),
        ),
    ];
    for (name, c) in [
        ("LC_DYLD_INFO", LC_DYLD_INFO),
        ("LC_DYLD_INFO_ONLY", LC_DYLD_INFO_ONLY),
    ] {
        let info = [t(3), 8, t(4), 8, t(5), 8, t(6), 8, t(7), 8];
        let fields = [8, 16, 24, 32, 40].map(|at| (at, Rec::File(4))).to_vec();
        v.push(moves(name, cmd(c, &info), fields));
    }
    for (name, c) in [
        ("LC_CODE_SIGNATURE", LC_CODE_SIGNATURE),
        ("LC_SEGMENT_SPLIT_INFO", LC_SEGMENT_SPLIT_INFO),
        ("LC_FUNCTION_STARTS", LC_FUNCTION_STARTS),
        ("LC_DATA_IN_CODE", LC_DATA_IN_CODE),
        ("LC_DYLIB_CODE_SIGN_DRS", LC_DYLIB_CODE_SIGN_DRS),
        ("LC_LINKER_OPTIMIZATION_HINT", LC_LINKER_OPTIMIZATION_HINT),
        ("LC_DYLD_EXPORTS_TRIE", LC_DYLD_EXPORTS_TRIE),
        ("LC_ATOM_INFO", LC_ATOM_INFO),
    ] {
        v.push(moves(name, cmd(c, &[t(8), 8]), vec![(8, Rec::File(4))]));
    }
    // A chained-fixups header whose starts name two segments without fixups.
    v.push(moves(
        "LC_DYLD_CHAINED_FIXUPS",
        cmd(LC_DYLD_CHAINED_FIXUPS, &[t(9), 0x2c]),
        vec![(8, Rec::File(4))],
    ));
    for (name, c) in [
        ("LC_FUNCTION_VARIANTS", LC_FUNCTION_VARIANTS),
        ("LC_FUNCTION_VARIANT_FIXUPS", LC_FUNCTION_VARIANT_FIXUPS),
    ] {
        // Their tables hold image offsets: a linked image cannot shift; an object file's
        // data can move.
        v.push(Case {
            name,
            bytes: cmd(c, &[t(8), 8]),
            fields: vec![(8, Rec::File(4))],
            refused: (Some(name), None),
        });
    }
    let text = lo(TEXT);
    v.extend([
        moves(
            "LC_MAIN",
            cmd(LC_MAIN, &[text + 0x10, 0, 0, 0]),
            vec![(8, Rec::Image)],
        ),
        moves(
            "LC_ROUTINES",
            cmd(LC_ROUTINES, &[text + 0x20, 0, 0, 0, 0, 0, 0, 0]),
            vec![(8, Rec::Addr(4))],
        ),
        moves(
            "LC_ROUTINES_64",
            cmd(
                LC_ROUTINES_64,
                &[text + 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            ),
            vec![(8, Rec::Addr(8))],
        ),
        moves(
            "LC_ENCRYPTION_INFO",
            cmd(LC_ENCRYPTION_INFO, &[text, 0x100, 0]),
            vec![(8, Rec::File(4))],
        ),
        moves(
            "LC_ENCRYPTION_INFO_64",
            cmd(LC_ENCRYPTION_INFO_64, &[text, 0x100, 0, 0]),
            vec![(8, Rec::File(4))],
        ),
        moves(
            "LC_NOTE",
            cmd(
                LC_NOTE,
                &[0x6e65_6873, 0, 0, 0, t(10), hi(u64::from(t(10))), 8, 0],
            ),
            vec![(24, Rec::File(8))],
        ),
        moves(
            "LC_TWOLEVEL_HINTS",
            cmd(LC_TWOLEVEL_HINTS, &[t(11), 0]),
            vec![(8, Rec::File(4))],
        ),
        moves(
            "LC_SYMSEG",
            cmd(LC_SYMSEG, &[t(11), 0]),
            vec![(8, Rec::File(4))],
        ),
    ]);
    // LC_UNIXTHREAD / LC_THREAD with an ARM_THREAD_STATE64 (68 words; pc at word 64).
    for (name, c) in [("LC_THREAD", LC_THREAD), ("LC_UNIXTHREAD", LC_UNIXTHREAD)] {
        let mut words = vec![ARM_THREAD_STATE64, 68];
        words.extend([0u32; 68]);
        words[2 + 64] = text + 0x30;
        v.push(moves(name, cmd(c, &words), vec![(16 + 256, Rec::Addr(8))]));
    }
    // Kinds that record no file offset or address.
    v.extend([
        stays("LC_UUID", cmd(LC_UUID, &[1, 2, 3, 4])),
        stays(
            "LC_BUILD_VERSION",
            cmd(LC_BUILD_VERSION, &[1, 0xb_0000, 0xe_0000, 0]),
        ),
        stays("LC_SOURCE_VERSION", cmd(LC_SOURCE_VERSION, &[5, 0])),
        stays("LC_PREBIND_CKSUM", cmd(LC_PREBIND_CKSUM, &[0x1234])),
        stays(
            "LC_LINKER_OPTION",
            string_cmd(LC_LINKER_OPTION, &[1], "-lz"),
        ),
        stays("LC_IDENT", string_cmd(LC_IDENT, &[], "ident")),
        stays(
            "LC_PREBOUND_DYLIB",
            string_cmd(LC_PREBOUND_DYLIB, &[20, 0, 0], "/usr/lib/libp.dylib"),
        ),
        stays("LC_RPATH", string_cmd(LC_RPATH, &[12], "@loader_path")),
    ]);
    for (name, c) in [
        ("LC_VERSION_MIN_MACOSX", LC_VERSION_MIN_MACOSX),
        ("LC_VERSION_MIN_IPHONEOS", LC_VERSION_MIN_IPHONEOS),
        ("LC_VERSION_MIN_TVOS", LC_VERSION_MIN_TVOS),
        ("LC_VERSION_MIN_WATCHOS", LC_VERSION_MIN_WATCHOS),
    ] {
        v.push(stays(name, cmd(c, &[0xa_0f00, 0xb_0000])));
    }
    for (name, c) in [
        ("LC_LOAD_DYLINKER", LC_LOAD_DYLINKER),
        ("LC_ID_DYLINKER", LC_ID_DYLINKER),
        ("LC_DYLD_ENVIRONMENT", LC_DYLD_ENVIRONMENT),
        ("LC_SUB_FRAMEWORK", LC_SUB_FRAMEWORK),
        ("LC_SUB_UMBRELLA", LC_SUB_UMBRELLA),
        ("LC_SUB_CLIENT", LC_SUB_CLIENT),
        ("LC_SUB_LIBRARY", LC_SUB_LIBRARY),
        ("LC_TARGET_TRIPLE", LC_TARGET_TRIPLE),
    ] {
        v.push(stays(name, string_cmd(c, &[12], "text")));
    }
    for (name, c) in [
        ("LC_LOAD_DYLIB", LC_LOAD_DYLIB),
        ("LC_LOAD_WEAK_DYLIB", LC_LOAD_WEAK_DYLIB),
        ("LC_REEXPORT_DYLIB", LC_REEXPORT_DYLIB),
        ("LC_LOAD_UPWARD_DYLIB", LC_LOAD_UPWARD_DYLIB),
        ("LC_LAZY_LOAD_DYLIB", LC_LAZY_LOAD_DYLIB),
    ] {
        let words = [24, 2, 0x1_0000, 0x1_0000];
        v.push(stays(name, string_cmd(c, &words, "/usr/lib/libx.dylib")));
    }
    // Kinds that cannot be moved.
    v.extend([
        refused(
            "LC_FILESET_ENTRY",
            string_cmd(LC_FILESET_ENTRY, &[0, 0, text, 0, 32, 0], "entry"),
            "LC_FILESET_ENTRY",
        ),
        refused(
            "LC_LOADFVMLIB",
            string_cmd(LC_LOADFVMLIB, &[20, 1, 0x1000], "/lib/fvm"),
            "LC_LOADFVMLIB",
        ),
        refused(
            "LC_IDFVMLIB",
            string_cmd(LC_IDFVMLIB, &[20, 1, 0x1000], "/lib/fvm"),
            "LC_IDFVMLIB",
        ),
        refused(
            "LC_FVMFILE",
            string_cmd(LC_FVMFILE, &[16, 0x1000], "/lib/fvm"),
            "LC_FVMFILE",
        ),
        refused("LC_PREPAGE", cmd(LC_PREPAGE, &[]), "LC_PREPAGE"),
        refused("unknown 0x7f", cmd(0x7f, &[t(0), 8]), "(0x7f)"),
    ]);
    v
}

/// The zeros of __LINKEDIT are valid for every table kind, except the chained-fixups header
/// this writes at table 9.
fn with_linkedit(mut img: Vec<u8>) -> Vec<u8> {
    let at = (LINKEDIT + 0x90) as usize;
    let words: [u32; 10] = [0, 0x1c, 0, 0, 0, 1, 0, 2, 0, 0];
    for (k, w) in words.iter().enumerate() {
        img[at + 4 * k..at + 4 * k + 4].copy_from_slice(&w.to_le_bytes());
    }
    img
}

fn read(b: &[u8], at: usize, width: usize) -> u64 {
    let mut v = [0u8; 8];
    v[..width].copy_from_slice(&b[at..at + width]);
    u64::from_le_bytes(v)
}

#[test]
fn every_kind_moves_stays_or_is_refused() {
    let mut opts = Options::default();
    opts.no_sign = true;
    let mut grow = shenzi_macho::EditSet::default();
    grow.rpath = vec![RpathOp::Add(vec![b'r'; TEXT as usize])];
    let cases = cases();
    assert!(cases.len() >= 56, "{} cases", cases.len());
    for c in &cases {
        for (filetype, refused) in [(MH_DYLIB, c.refused.0), (MH_OBJECT, c.refused.1)] {
            let linked = filetype == MH_DYLIB;
            let id = linked.then_some(&b"/usr/lib/libself.dylib"[..]);
            let data = with_linkedit(image(filetype, id, &[], std::slice::from_ref(&c.bytes)));
            let at = if linked { 3 } else { 1 };
            let what = format!(
                "{} in {}",
                c.name,
                if linked { "a dylib" } else { "an object" }
            );
            let before = MachO::parse(&data).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(before.commands()[at].size(), c.bytes.len() as u64, "{what}");
            let r = shenzi_macho::rewrite(&data, &grow, &opts);
            if let Some(name) = refused {
                let e = r.err().unwrap_or_else(|| panic!("{what}: not refused"));
                assert!(e.to_string().contains(name), "{what}: {e}");
                continue;
            }
            let r = r.unwrap_or_else(|e| panic!("{what}: {e}"));
            let Layout::Shift { delta } = r.slices()[0].layout else {
                panic!("{what}: did not grow");
            };
            let out = r.apply(&data);
            shenzi_macho::check(&out, false).unwrap_or_else(|e| panic!("{what}: {e}"));
            let after = MachO::parse(&out).unwrap();
            let off = after.command_offset(at).unwrap() as usize;
            let got = &out[off..off + c.bytes.len()];
            let mut want = c.bytes.clone();
            for &(field, rec) in &c.fields {
                let (width, moves) = match rec {
                    Rec::File(w) => (w, true),
                    Rec::Addr(w) => (w, linked),
                    Rec::Image => (8, linked),
                };
                let v = read(&c.bytes, field, width);
                let moved = if moves { v + delta } else { v };
                want[field..field + width].copy_from_slice(&moved.to_le_bytes()[..width]);
            }
            assert_eq!(got, &want[..], "{what}: delta {delta:#x}");
        }
    }
}

/// Commands that no edit touches are written back byte for byte (every corpus and wheel
/// binary, every slice).
#[test]
fn unchanged_commands_round_trip() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    let mut files = Vec::new();
    for dir in ["corpus-macho", "wheels-macho"] {
        let mut stack = vec![root.join(dir)];
        while let Some(d) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if std::fs::read(&p).is_ok_and(|b| shenzi_macho::is_macho(&b)) {
                    files.push(p);
                }
            }
        }
    }
    if files.is_empty() {
        if std::env::var("SHENZI_REQUIRE_ORACLES").is_ok_and(|v| v == "1") {
            panic!("no corpus (run corpus/macho/setup.sh)");
        }
        eprintln!("skipping: corpus not built");
        return;
    }
    let mut slices = 0;
    for f in &files {
        let data = std::fs::read(f).unwrap();
        for (_, s) in shenzi_macho::slices(&data).unwrap() {
            let m = MachO::parse(s).unwrap_or_else(|e| panic!("{f:?}: {e}"));
            let bytes = m.encode_commands(m.commands()).unwrap();
            assert_eq!(bytes, s[..m.commands_end() as usize], "{f:?}");
            slices += 1;
        }
    }
    // The synthetic kinds round-trip too.
    for c in cases() {
        let data = with_linkedit(image(MH_DYLIB, None, &[], std::slice::from_ref(&c.bytes)));
        let m = MachO::parse(&data).unwrap();
        assert_eq!(
            m.encode_commands(m.commands()).unwrap(),
            data[..m.commands_end() as usize],
            "{}",
            c.name
        );
    }
    eprintln!("{} files, {slices} slices", files.len());
}
