//! `Semantics::Input` (install_name_tool's matching) on hand-built images: every operation is
//! matched against the input's load commands, unlike `Sequential`.

use shenzi_macho::{rewrite, summarize, EditSet, Error, Options, RpathOp, Semantics};

fn le32(v: u32) -> [u8; 4] {
    v.to_le_bytes()
}

/// A 64-bit little-endian image of type `filetype` with room for its commands up to 0x400: one
/// __TEXT segment with a section at 0x400, optionally an LC_ID_DYLIB, the given dependencies and
/// LC_RPATHs (duplicates allowed).
fn image(filetype: u32, id: Option<&str>, deps: &[&str], rpaths: &[&str]) -> Vec<u8> {
    let name = |s: &str| {
        let mut b = [0u8; 16];
        b[..s.len()].copy_from_slice(s.as_bytes());
        b
    };
    let text_off = 0x400u64;
    let size = 0x100u64;
    let mut cmds: Vec<Vec<u8>> = Vec::new();
    let mut seg = Vec::new();
    seg.extend_from_slice(&le32(0x19));
    seg.extend_from_slice(&le32(72 + 80));
    seg.extend_from_slice(&name("__TEXT"));
    for v in [0u64, 0x1000, 0, text_off + size] {
        seg.extend_from_slice(&v.to_le_bytes());
    }
    for v in [5u32, 5, 1, 0] {
        seg.extend_from_slice(&le32(v));
    }
    seg.extend_from_slice(&name("__text"));
    seg.extend_from_slice(&name("__TEXT"));
    seg.extend_from_slice(&text_off.to_le_bytes());
    seg.extend_from_slice(&size.to_le_bytes());
    for v in [text_off as u32, 2, 0, 0, 0x8000_0400, 0, 0, 0] {
        seg.extend_from_slice(&le32(v));
    }
    cmds.push(seg);
    let string_cmd = |cmd: u32, fixed: &[u32], s: &str| {
        let head = 8 + 4 * fixed.len();
        let size = (head + s.len() + 1).div_ceil(8) * 8;
        let mut c = Vec::new();
        c.extend_from_slice(&le32(cmd));
        c.extend_from_slice(&le32(size as u32));
        for v in fixed {
            c.extend_from_slice(&le32(*v));
        }
        c.extend_from_slice(s.as_bytes());
        c.resize(size, 0);
        c
    };
    if let Some(id) = id {
        cmds.push(string_cmd(0xd, &[24, 2, 0x10000, 0x10000], id));
    }
    for d in deps {
        cmds.push(string_cmd(0xc, &[24, 2, 0x10000, 0x10000], d));
    }
    for r in rpaths {
        cmds.push(string_cmd(0x8000_001c, &[12], r));
    }
    let sizeofcmds: usize = cmds.iter().map(Vec::len).sum();
    let mut out = Vec::new();
    for v in [
        0xfeed_facfu32,
        0x0100_0007,
        3,
        filetype,
        cmds.len() as u32,
        sizeofcmds as u32,
        0x0010_0085,
        0,
    ] {
        out.extend_from_slice(&le32(v));
    }
    for c in &cmds {
        out.extend_from_slice(c);
    }
    assert!(out.len() <= text_off as usize);
    out.resize((text_off + size) as usize, 0x90);
    out
}

fn opts() -> Options {
    let mut v = Options::default();
    v.no_sign = true;
    v.identifier = b"t".to_vec();
    v
}

fn input(mut edits: EditSet) -> EditSet {
    edits.semantics = Semantics::Input;
    edits
}

fn strict(edits: EditSet) -> EditSet {
    let mut e = input(edits);
    e.strict = true;
    e
}

fn rpaths(ops: Vec<RpathOp>) -> EditSet {
    let mut e = EditSet::default();
    e.rpath = ops;
    e
}

fn edit(data: &[u8], e: &EditSet) -> shenzi_macho::Summary {
    let out = rewrite(data, e, &opts()).unwrap().apply(data);
    summarize(&out).unwrap().remove(0)
}

fn pair(a: &str, b: &str) -> (Vec<u8>, Vec<u8>) {
    (a.as_bytes().to_vec(), b.as_bytes().to_vec())
}

fn deps(s: &shenzi_macho::Summary) -> Vec<&str> {
    s.dependencies.iter().map(|d| d.name.as_str()).collect()
}

#[test]
fn changes_match_input_names_not_earlier_results() {
    let data = image(6, Some("/lib/self.dylib"), &["/A", "/B", "/D"], &[]);
    let changes = vec![
        pair("/A", "/B"),
        pair("/B", "/C"),
        pair("/D", "/E"),
        pair("/D", "/F"),
    ];
    let mut e = EditSet::default();
    e.change = changes.clone();
    // Sequential: /A becomes /B and then /C, with the /B that was there.
    assert_eq!(deps(&edit(&data, &e)), ["/C", "/C", "/E"]);
    // Against the input: /A becomes /B, the input's /B becomes /C, and the first change of /D
    // wins (cctools and llvm-install-name-tool alike).
    assert_eq!(deps(&edit(&data, &input(e))), ["/B", "/C", "/E"]);
    let only_a = image(6, Some("/lib/self.dylib"), &["/A"], &[]);
    let mut e = EditSet::default();
    e.change = changes;
    let e = input(e);
    assert_eq!(deps(&edit(&only_a, &e)), ["/B"]);
}

#[test]
fn rpath_operations_take_input_commands_once_each() {
    // Duplicates in the input: cctools deletes or renames only the first.
    let data = image(6, Some("/s"), &[], &["/a", "/a", "/b"]);
    let e = strict(rpaths(vec![RpathOp::Delete(b"/a".to_vec())]));
    assert_eq!(edit(&data, &e).rpaths, ["/a", "/b"]);
    let e = strict(rpaths(vec![
        RpathOp::Delete(b"/a".to_vec()),
        RpathOp::Delete(b"/a".to_vec()),
    ]));
    assert_eq!(edit(&data, &e).rpaths, ["/b"]);
    let e = strict(rpaths(vec![RpathOp::Change(
        b"/a".to_vec(),
        b"/c".to_vec(),
    )]));
    assert_eq!(edit(&data, &e).rpaths, ["/c", "/a", "/b"]);
    // A third deletion finds no input /a left.
    let e = strict(rpaths(vec![RpathOp::Delete(b"/a".to_vec()); 3]));
    assert!(matches!(
        rewrite(&data, &e, &opts()),
        Err(Error::RpathNotFound { path, .. }) if path == "/a"
    ));
}

#[test]
fn duplicates_are_judged_against_what_survives() {
    let data = image(6, Some("/s"), &[], &["/a", "/b"]);
    let dup = |e: EditSet| match rewrite(&data, &strict(e), &opts()) {
        Err(Error::RpathDuplicate { path, .. }) => path,
        other => panic!(
            "expected a duplicate, got {:?}",
            other.map(|r| r.slices().to_vec())
        ),
    };
    let ops = |v: Vec<RpathOp>| rpaths(v);
    assert_eq!(dup(ops(vec![RpathOp::Add(b"/b".to_vec())])), "/b");
    assert_eq!(
        dup(ops(vec![RpathOp::Change(b"/a".to_vec(), b"/b".to_vec())])),
        "/b"
    );
    assert_eq!(
        dup(ops(vec![
            RpathOp::Add(b"/n".to_vec()),
            RpathOp::Prepend(b"/n".to_vec())
        ])),
        "/n"
    );
    // Not duplicates: the input's /b is renamed away, or every input rpath is removed first.
    let e = strict(ops(vec![
        RpathOp::Change(b"/b".to_vec(), b"/c".to_vec()),
        RpathOp::Change(b"/a".to_vec(), b"/b".to_vec()),
    ]));
    assert_eq!(edit(&data, &e).rpaths, ["/b", "/c"]);
    let e = strict(ops(vec![RpathOp::RemoveAll, RpathOp::Add(b"/a".to_vec())]));
    assert_eq!(edit(&data, &e).rpaths, ["/a"]);
    // Without strictness a duplicate is dropped instead.
    let e = input(ops(vec![
        RpathOp::Add(b"/b".to_vec()),
        RpathOp::Prepend(b"/p".to_vec()),
    ]));
    assert_eq!(edit(&data, &e).rpaths, ["/p", "/a", "/b"]);
}

#[test]
fn id_on_a_file_without_an_install_name_is_ignored_with_a_warning() {
    let exe = image(2, None, &["/A"], &[]);
    let mut e = EditSet::default();
    e.id = Some(b"/new".to_vec());
    let e = input(e);
    let r = rewrite(&exe, &e, &opts()).unwrap();
    assert!(r.is_noop());
    assert!(
        r.slices()[0].warnings[0].contains("not a dynamic library"),
        "{:?}",
        r.slices()[0].warnings
    );
    // Sequential (shenzi patch) refuses it.
    let mut e = EditSet::default();
    e.id = Some(b"/new".to_vec());
    assert!(matches!(
        rewrite(&exe, &e, &opts()),
        Err(Error::NotADylib { .. })
    ));
    let lib = image(6, Some("/old"), &[], &[]);
    let e = input(e);
    assert_eq!(edit(&lib, &e).id.as_deref(), Some("/new"));
}

#[test]
fn expected_names_are_what_the_rewrite_holds() {
    let data = image(6, Some("/s"), &["/A", "/B"], &["/a", "/b"]);
    let mut e = rpaths(vec![
        RpathOp::Change(b"/a".to_vec(), b"/x".to_vec()),
        RpathOp::Prepend(b"/p".to_vec()),
    ]);
    e.change = vec![pair("/A", "/B"), pair("/B", "/C")];
    let e = strict(e);
    let out = rewrite(&data, &e, &opts()).unwrap().apply(&data);
    let want = shenzi_macho::expected_names(&data, &e).unwrap();
    assert_eq!(shenzi_macho::names(&out).unwrap(), want);
    let rp: Vec<&[u8]> = want.0[0]
        .iter()
        .filter(|(c, _)| *c == 0x8000_001c)
        .map(|(_, p)| p.as_slice())
        .collect();
    assert_eq!(rp, [b"/p".as_slice(), b"/x", b"/b"]);
}
