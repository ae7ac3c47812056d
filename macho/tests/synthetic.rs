//! Hand-built images for what the LLVM corpus cannot produce: 32-bit and big-endian files,
//! fat32/fat64 headers, and properties of the edit set.

use shenzi_macho::{check, rewrite, summarize, EditSet, Fat, Layout, Options, Output, RpathOp};

/// A minimal MH_DYLIB: header, one __TEXT segment with one section at `text_off`, an
/// LC_ID_DYLIB and an LC_LOAD_DYLIB. `big` selects big-endian, `is64` the 64-bit layout.
fn image(is64: bool, big: bool, text_off: u32) -> Vec<u8> {
    let w32 = |v: u32| {
        if big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let w64 = |v: u64| {
        if big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let mut cmds = Vec::new();
    // Segment with one section.
    let mut seg = Vec::new();
    let name = |s: &str| {
        let mut b = [0u8; 16];
        b[..s.len()].copy_from_slice(s.as_bytes());
        b
    };
    let size = 0x100u32;
    let filesize = text_off + size;
    if is64 {
        seg.extend_from_slice(&w32(0x19));
        seg.extend_from_slice(&w32(72 + 80));
        seg.extend_from_slice(&name("__TEXT"));
        seg.extend_from_slice(&w64(0));
        seg.extend_from_slice(&w64(0x1000));
        seg.extend_from_slice(&w64(0));
        seg.extend_from_slice(&w64(filesize as u64));
        for v in [5u32, 5, 1, 0] {
            seg.extend_from_slice(&w32(v));
        }
        seg.extend_from_slice(&name("__text"));
        seg.extend_from_slice(&name("__TEXT"));
        seg.extend_from_slice(&w64(text_off as u64));
        seg.extend_from_slice(&w64(size as u64));
        for v in [text_off, 2, 0, 0, 0x8000_0400, 0, 0, 0] {
            seg.extend_from_slice(&w32(v));
        }
    } else {
        seg.extend_from_slice(&w32(0x1));
        seg.extend_from_slice(&w32(56 + 68));
        seg.extend_from_slice(&name("__TEXT"));
        for v in [0u32, 0x1000, 0, filesize, 5, 5, 1, 0] {
            seg.extend_from_slice(&w32(v));
        }
        seg.extend_from_slice(&name("__text"));
        seg.extend_from_slice(&name("__TEXT"));
        for v in [text_off, size, text_off, 2, 0, 0, 0x8000_0400, 0, 0] {
            seg.extend_from_slice(&w32(v));
        }
    }
    cmds.push(seg);
    let align = if is64 { 8 } else { 4 };
    for (cmd, s) in [
        (0xdu32, "/usr/lib/libold.dylib"),
        (0xc, "/usr/lib/libdep.dylib"),
    ] {
        let size = (24 + s.len() + 1).div_ceil(align) * align;
        let mut c = Vec::new();
        for v in [cmd, size as u32, 24, 2, 0x10000, 0x10000] {
            c.extend_from_slice(&w32(v));
        }
        c.extend_from_slice(s.as_bytes());
        c.resize(size, 0);
        cmds.push(c);
    }
    let sizeofcmds: usize = cmds.iter().map(Vec::len).sum();
    let mut out = Vec::new();
    let magic: u32 = if is64 { 0xfeed_facf } else { 0xfeed_face };
    out.extend_from_slice(&w32(magic));
    let cpu = if big { 18u32 } else { 7 }; // ppc / i386
    for v in [cpu, 3, 6, cmds.len() as u32, sizeofcmds as u32, 0x0010_0085] {
        out.extend_from_slice(&w32(v));
    }
    if is64 {
        out.extend_from_slice(&w32(0));
    }
    for c in &cmds {
        out.extend_from_slice(c);
    }
    assert!(out.len() <= text_off as usize);
    out.resize(filesize as usize, 0x90);
    out
}

fn opts() -> Options {
    Options {
        identifier: b"t".to_vec(),
        ..Default::default()
    }
}

#[test]
fn thirty_two_bit_and_big_endian_edit_in_place() {
    for (is64, big) in [(false, false), (false, true), (true, true), (true, false)] {
        let data = image(is64, big, 0x200);
        let edits = EditSet {
            id: Some(b"@rpath/libnew.dylib".to_vec()),
            change: vec![(
                b"/usr/lib/libdep.dylib".to_vec(),
                b"@rpath/libdep2.dylib".to_vec(),
            )],
            rpath: vec![RpathOp::Add(b"@loader_path".to_vec())],
            ..Default::default()
        };
        let r = rewrite(&data, &edits, &opts()).unwrap();
        assert_eq!(r.slices[0].layout, Layout::InPlace, "is64 {is64} big {big}");
        let out = r.apply(&data);
        assert_eq!(out.len(), data.len());
        check(&out, true).unwrap();
        let s = &summarize(&out).unwrap()[0];
        assert_eq!(s.id.as_deref(), Some("@rpath/libnew.dylib"));
        assert_eq!(s.dependencies[0].name, "@rpath/libdep2.dylib");
        assert_eq!(s.rpaths, vec!["@loader_path".to_string()]);
        // The section bytes are untouched.
        assert_eq!(out[0x200..], data[0x200..]);
        // Applying the same edits again changes nothing.
        assert!(rewrite(&out, &edits, &opts()).unwrap().is_noop());
    }
}

#[test]
fn no_room_and_no_grow_is_an_error() {
    let data = image(false, false, 0x100);
    let edits = EditSet {
        rpath: vec![RpathOp::Add(vec![b'x'; 300])],
        ..Default::default()
    };
    let o = Options {
        no_grow: true,
        ..opts()
    };
    let e = rewrite(&data, &edits, &o).unwrap_err();
    assert!(e.to_string().contains("do not fit"), "{e}");
}

#[test]
fn rpath_operations_never_duplicate() {
    let data = image(true, false, 0x400);
    let edits = EditSet {
        rpath: vec![
            RpathOp::Set(vec![b"/a".to_vec(), b"/b".to_vec(), b"/a".to_vec()]),
            RpathOp::Add(b"/b".to_vec()),
            RpathOp::Prepend(b"/c".to_vec()),
            RpathOp::Change(b"/c".to_vec(), b"/a".to_vec()),
        ],
        ..Default::default()
    };
    let out = rewrite(&data, &edits, &opts()).unwrap().apply(&data);
    assert_eq!(summarize(&out).unwrap()[0].rpaths, vec!["/a", "/b"]);
    let strict = EditSet {
        rpath: vec![RpathOp::Add(b"/a".to_vec())],
        strict: true,
        ..Default::default()
    };
    assert!(rewrite(&out, &strict, &opts())
        .unwrap_err()
        .to_string()
        .contains("would duplicate path"));
    let strict = EditSet {
        rpath: vec![RpathOp::Delete(b"/zz".to_vec())],
        strict: true,
        ..Default::default()
    };
    assert!(rewrite(&out, &strict, &opts())
        .unwrap_err()
        .to_string()
        .contains("no LC_RPATH"));
}

fn fat(is64: bool, slices: &[Vec<u8>]) -> Vec<u8> {
    let f = Fat {
        is64,
        arches: slices
            .iter()
            .map(|_| shenzi_macho::FatArch {
                cputype: 7,
                cpusubtype: 3,
                offset: 0,
                size: 0,
                align: 12,
            })
            .collect(),
    };
    let refs: Vec<&[u8]> = slices.iter().map(Vec::as_slice).collect();
    f.build(&refs).unwrap()
}

#[test]
fn fat32_and_fat64_edit_every_slice() {
    for is64 in [false, true] {
        let data = fat(
            is64,
            &[image(false, false, 0x200), image(false, false, 0x120)],
        );
        let edits = EditSet {
            rpath: vec![RpathOp::Add(b"@loader_path/a/long/enough/path".to_vec())],
            ..Default::default()
        };
        let r = rewrite(&data, &edits, &opts()).unwrap();
        // The second slice has no room: it shifts, and the fat file is rebuilt.
        assert!(matches!(r.output, Output::Whole(_)), "fat64 {is64}");
        let out = r.apply(&data);
        let f = Fat::parse(&out).unwrap();
        assert_eq!(f.is64, is64);
        for a in &f.arches {
            assert_eq!(a.offset % 4096, 0);
        }
        for s in summarize(&out).unwrap() {
            assert_eq!(s.rpaths, vec!["@loader_path/a/long/enough/path"]);
        }
        assert_eq!(r.slices[0].layout, Layout::InPlace);
        assert_eq!(r.slices[1].layout, Layout::Shift { delta: 0x1000 });
        // The shifted slice's section bytes follow it.
        let b = &f.arches[1];
        let slice = &out[b.offset as usize..(b.offset + b.size) as usize];
        assert_eq!(slice[0x1120..0x1220], [0x90; 0x100]);
    }
}

#[test]
fn hostile_headers_do_not_panic() {
    let good = image(true, false, 0x200);
    for cut in 0..good.len().min(400) {
        let _ = rewrite(&good[..cut], &EditSet::default(), &opts());
        let _ = summarize(&good[..cut]);
    }
    let mut f = fat(false, std::slice::from_ref(&good));
    f[8 + 8..8 + 12].copy_from_slice(&0xffff_0000u32.to_be_bytes());
    assert!(Fat::parse(&f).is_err());
    let mut f = fat(true, &[good]);
    f[8 + 16..8 + 24].copy_from_slice(&u64::MAX.to_be_bytes());
    assert!(Fat::parse(&f).is_err());
}
