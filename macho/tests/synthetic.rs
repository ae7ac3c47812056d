//! Hand-built images for what the LLVM corpus cannot produce: 32-bit and big-endian files,
//! fat32/fat64 headers, and properties of the edit set.

use shenzi_macho::{check, rewrite, summarize, EditSet, Fat, Layout, Options, Output, RpathOp};

/// Writers of 32- and 64-bit values in one byte order.
fn writers(big: bool) -> (impl Fn(u32) -> [u8; 4], impl Fn(u64) -> [u8; 8]) {
    let w32 = move |v: u32| {
        if big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let w64 = move |v: u64| {
        if big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    (w32, w64)
}

/// A segment or section name, NUL-padded.
fn name16(s: &str) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..s.len()].copy_from_slice(s.as_bytes());
    b
}

/// A minimal MH_DYLIB: header, one __TEXT segment with one section at `text_off`, an
/// LC_ID_DYLIB and an LC_LOAD_DYLIB. `big` selects big-endian, `is64` the 64-bit layout.
fn image(is64: bool, big: bool, text_off: u32) -> Vec<u8> {
    let (w32, w64) = writers(big);
    let mut cmds = Vec::new();
    // Segment with one section.
    let mut seg = Vec::new();
    let size = 0x100u32;
    let filesize = text_off + size;
    if is64 {
        seg.extend_from_slice(&w32(0x19));
        seg.extend_from_slice(&w32(72 + 80));
        seg.extend_from_slice(&name16("__TEXT"));
        seg.extend_from_slice(&w64(0));
        seg.extend_from_slice(&w64(0x1000));
        seg.extend_from_slice(&w64(0));
        seg.extend_from_slice(&w64(filesize as u64));
        for v in [5u32, 5, 1, 0] {
            seg.extend_from_slice(&w32(v));
        }
        seg.extend_from_slice(&name16("__text"));
        seg.extend_from_slice(&name16("__TEXT"));
        seg.extend_from_slice(&w64(text_off as u64));
        seg.extend_from_slice(&w64(size as u64));
        for v in [text_off, 2, 0, 0, 0x8000_0400, 0, 0, 0] {
            seg.extend_from_slice(&w32(v));
        }
    } else {
        seg.extend_from_slice(&w32(0x1));
        seg.extend_from_slice(&w32(56 + 68));
        seg.extend_from_slice(&name16("__TEXT"));
        for v in [0u32, 0x1000, 0, filesize, 5, 5, 1, 0] {
            seg.extend_from_slice(&w32(v));
        }
        seg.extend_from_slice(&name16("__text"));
        seg.extend_from_slice(&name16("__TEXT"));
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
    let mut v = Options::default();
    v.identifier = b"t".to_vec();
    v
}

#[test]
fn thirty_two_bit_and_big_endian_edit_in_place() {
    for (is64, big) in [(false, false), (false, true), (true, true), (true, false)] {
        let data = image(is64, big, 0x200);
        let mut edits = EditSet::default();
        edits.id = Some(b"@rpath/libnew.dylib".to_vec());
        edits.change = vec![(
            b"/usr/lib/libdep.dylib".to_vec(),
            b"@rpath/libdep2.dylib".to_vec(),
        )];
        edits.rpath = vec![RpathOp::Add(b"@loader_path".to_vec())];
        let r = rewrite(&data, &edits, &opts()).unwrap();
        assert_eq!(
            r.slices()[0].layout,
            Layout::InPlace,
            "is64 {is64} big {big}"
        );
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
    let mut edits = EditSet::default();
    edits.rpath = vec![RpathOp::Add(vec![b'x'; 300])];
    let mut o = opts();
    o.no_grow = true;
    let e = rewrite(&data, &edits, &o).unwrap_err();
    assert!(e.to_string().contains("do not fit"), "{e}");
}

#[test]
fn rpath_operations_never_duplicate() {
    let data = image(true, false, 0x400);
    let mut edits = EditSet::default();
    edits.rpath = vec![
        RpathOp::Set(vec![b"/a".to_vec(), b"/b".to_vec(), b"/a".to_vec()]),
        RpathOp::Add(b"/b".to_vec()),
        RpathOp::Prepend(b"/c".to_vec()),
        RpathOp::Change(b"/c".to_vec(), b"/a".to_vec()),
    ];
    let out = rewrite(&data, &edits, &opts()).unwrap().apply(&data);
    assert_eq!(summarize(&out).unwrap()[0].rpaths, vec!["/a", "/b"]);
    let mut strict = EditSet::default();
    strict.rpath = vec![RpathOp::Add(b"/a".to_vec())];
    strict.strict = true;
    assert!(rewrite(&out, &strict, &opts())
        .unwrap_err()
        .to_string()
        .contains("would duplicate path"));
    let mut strict = EditSet::default();
    strict.rpath = vec![RpathOp::Delete(b"/zz".to_vec())];
    strict.strict = true;
    assert!(rewrite(&out, &strict, &opts())
        .unwrap_err()
        .to_string()
        .contains("no LC_RPATH"));
}

fn fat(is64: bool, slices: &[Vec<u8>]) -> Vec<u8> {
    let arch = shenzi_macho::FatArch {
        cputype: 7,
        cpusubtype: 3,
        offset: 0,
        size: 0,
        align: 12,
    };
    let f = Fat::new(is64, vec![arch; slices.len()]);
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
        let mut edits = EditSet::default();
        edits.rpath = vec![RpathOp::Add(b"@loader_path/a/long/enough/path".to_vec())];
        let r = rewrite(&data, &edits, &opts()).unwrap();
        // The second slice has no room: it shifts, and the fat file is rebuilt.
        assert!(matches!(r.output(), Output::Pieces(_)), "fat64 {is64}");
        let out = r.apply(&data);
        let f = Fat::parse(&out).unwrap();
        assert_eq!(f.is64(), is64);
        for a in f.arches() {
            assert_eq!(a.offset % 4096, 0);
        }
        for s in summarize(&out).unwrap() {
            assert_eq!(s.rpaths, vec!["@loader_path/a/long/enough/path"]);
        }
        assert_eq!(r.slices()[0].layout, Layout::InPlace);
        assert_eq!(r.slices()[1].layout, Layout::Shift { delta: 0x1000 });
        // The shifted slice's section bytes follow it.
        let b = f.arches()[1];
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

/// Field offsets of a hand-built object file, to check where everything went.
struct ObjLayout {
    text: u32,
    reloff: u32,
    dic: u32,
    note: u64,
    symoff: u32,
    stroff: u32,
}

/// A minimal MH_OBJECT: one unnamed segment with __text (16-byte aligned, two relocations) and a
/// zero-fill __bss, LC_DATA_IN_CODE, LC_NOTE, LC_SYMTAB with two symbols. Nothing is padded:
/// the section starts where the load commands end (rounded to its alignment).
fn object(is64: bool, big: bool) -> (Vec<u8>, ObjLayout) {
    let (w32, w64) = writers(big);
    let (hs, seg_hdr, sect) = if is64 {
        (32u32, 72u32, 80u32)
    } else {
        (28, 56, 68)
    };
    let nl = if is64 { 16u32 } else { 12 };
    let sizeofcmds = seg_hdr + 2 * sect + 16 + 40 + 24;
    let text = (hs + sizeofcmds).div_ceil(16) * 16;
    let text_size = 0x20u32;
    let reloff = text + text_size;
    let dic = reloff + 16;
    let note = u64::from(dic + 8);
    let symoff = dic + 16;
    let stroff = symoff + 2 * nl;
    let strtab = b"\0_a\0_b\0\0";
    let end = stroff + strtab.len() as u32;
    let mut out = Vec::new();
    let magic: u32 = if is64 { 0xfeed_facf } else { 0xfeed_face };
    let cpu = if big { 18u32 } else { 7 };
    for v in [magic, cpu, 3, 1, 4, sizeofcmds, 0x2000] {
        out.extend_from_slice(&w32(v));
    }
    if is64 {
        out.extend_from_slice(&w32(0));
    }
    // Segment: vmaddr 0, vmsize 0x40, fileoff text, filesize up to the relocations.
    let filesize = reloff - text;
    if is64 {
        out.extend_from_slice(&w32(0x19));
        out.extend_from_slice(&w32(seg_hdr + 2 * sect));
        out.extend_from_slice(&[0; 16]);
        for v in [0u64, 0x40, u64::from(text), u64::from(filesize)] {
            out.extend_from_slice(&w64(v));
        }
    } else {
        out.extend_from_slice(&w32(0x1));
        out.extend_from_slice(&w32(seg_hdr + 2 * sect));
        out.extend_from_slice(&[0; 16]);
        for v in [0u32, 0x40, text, filesize] {
            out.extend_from_slice(&w32(v));
        }
    }
    for v in [7u32, 7, 2, 0] {
        out.extend_from_slice(&w32(v));
    }
    // (name, addr, size, offset, align, reloff, nreloc, flags)
    for (sn, sg, addr, size, off, align, rel, nrel, flags) in [
        (
            "__text",
            "__TEXT",
            0u64,
            u64::from(text_size),
            text,
            4u32,
            reloff,
            2u32,
            0x8000_0400u32,
        ),
        ("__bss", "__DATA", 0x20, 0x20, 0, 3, 0, 0, 1),
    ] {
        out.extend_from_slice(&name16(sn));
        out.extend_from_slice(&name16(sg));
        if is64 {
            out.extend_from_slice(&w64(addr));
            out.extend_from_slice(&w64(size));
        } else {
            out.extend_from_slice(&w32(addr as u32));
            out.extend_from_slice(&w32(size as u32));
        }
        for v in [off, align, rel, nrel, flags, 0, 0] {
            out.extend_from_slice(&w32(v));
        }
        if is64 {
            out.extend_from_slice(&w32(0));
        }
    }
    // LC_DATA_IN_CODE, LC_NOTE, LC_SYMTAB.
    for v in [0x29u32, 16, dic, 8] {
        out.extend_from_slice(&w32(v));
    }
    out.extend_from_slice(&w32(0x31));
    out.extend_from_slice(&w32(40));
    out.extend_from_slice(&name16("shenzi"));
    out.extend_from_slice(&w64(note));
    out.extend_from_slice(&w64(8));
    for v in [0x2u32, 24, symoff, 2, stroff, strtab.len() as u32] {
        out.extend_from_slice(&w32(v));
    }
    assert_eq!(out.len() as u32, hs + sizeofcmds);
    out.resize(text as usize, 0);
    out.extend((0..text_size).map(|i| i as u8 | 0x80));
    // Two relocations (section-relative addresses 4 and 8).
    for v in [4u32, 0x0d00_0001, 8, 0x0d00_0002] {
        out.extend_from_slice(&w32(v));
    }
    out.extend_from_slice(&w32(0x10));
    out.extend_from_slice(&[4, 0, 1, 0]);
    out.extend_from_slice(b"notedata");
    for (strx, value) in [(1u32, 0u64), (4, 0x10)] {
        out.extend_from_slice(&w32(strx));
        out.extend_from_slice(&[0x0f, 1]);
        out.extend_from_slice(&[0, 0]);
        if is64 {
            out.extend_from_slice(&w64(value));
        } else {
            out.extend_from_slice(&w32(value as u32));
        }
    }
    out.extend_from_slice(strtab);
    assert_eq!(out.len() as u32, end);
    (
        out,
        ObjLayout {
            text,
            reloff,
            dic,
            note,
            symoff,
            stroff,
        },
    )
}

/// Reads field `at` of the first load command with `cmd`.
fn cmd_field(data: &[u8], big: bool, cmd: u32, at: usize, wide: bool) -> u64 {
    let r32 = |o: usize| {
        let b: [u8; 4] = data[o..o + 4].try_into().unwrap();
        if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    };
    let is64 = r32(0) == 0xfeed_facf;
    let ncmds = r32(16);
    let mut pos = if is64 { 32 } else { 28 };
    for _ in 0..ncmds {
        if r32(pos) == cmd {
            if wide {
                let b: [u8; 8] = data[pos + at..pos + at + 8].try_into().unwrap();
                return if big {
                    u64::from_be_bytes(b)
                } else {
                    u64::from_le_bytes(b)
                };
            }
            return u64::from(r32(pos + at));
        }
        pos += r32(pos + 4) as usize;
    }
    panic!("no command {cmd:#x}");
}

#[test]
fn object_files_grow_by_moving_file_offsets_only() {
    for (is64, big) in [(true, false), (false, false), (false, true), (true, true)] {
        let (data, l) = object(is64, big);
        let long = vec![b'r'; 200];
        let mut edits = EditSet::default();
        edits.rpath = vec![RpathOp::Add(long.clone())];
        let r = rewrite(&data, &edits, &opts()).unwrap();
        let Layout::Shift { delta } = r.slices()[0].layout else {
            panic!("expected growth: {:?}", r.slices()[0]);
        };
        assert_eq!(delta % 16, 0, "the section keeps its 16-byte alignment");
        assert!(
            r.slices()[0].signature.is_none(),
            "object files are not signed"
        );
        let out = r.apply(&data);
        check(&out, true).unwrap();
        assert_eq!(out.len() as u64, data.len() as u64 + delta);
        let d = delta as usize;
        // Every byte after the load commands moved by Δ, unchanged.
        assert_eq!(out[l.text as usize + d..], data[l.text as usize..]);
        let (seg, sects) = if is64 { (0x19, 72) } else { (0x1, 56) };
        let (off_at, rel_at) = if is64 {
            (sects + 48, sects + 56)
        } else {
            (sects + 40, sects + 48)
        };
        let fo_at = if is64 { 40 } else { 32 };
        assert_eq!(
            cmd_field(&out, big, seg, fo_at, is64),
            u64::from(l.text) + delta
        );
        assert_eq!(
            cmd_field(&out, big, seg, off_at, false),
            u64::from(l.text) + delta
        );
        assert_eq!(
            cmd_field(&out, big, seg, rel_at, false),
            u64::from(l.reloff) + delta
        );
        // The zero-fill section keeps offset 0; addresses do not move.
        let sect2 = if is64 { sects + 80 } else { sects + 68 };
        assert_eq!(
            cmd_field(&out, big, seg, sect2 + if is64 { 48 } else { 40 }, false),
            0
        );
        assert_eq!(cmd_field(&out, big, seg, 24, is64), 0, "vmaddr");
        assert_eq!(
            cmd_field(&out, big, 0x29, 8, false),
            u64::from(l.dic) + delta
        );
        assert_eq!(cmd_field(&out, big, 0x31, 24, true), l.note + delta);
        assert_eq!(
            cmd_field(&out, big, 0x2, 8, false),
            u64::from(l.symoff) + delta
        );
        assert_eq!(
            cmd_field(&out, big, 0x2, 16, false),
            u64::from(l.stroff) + delta
        );
        assert_eq!(
            summarize(&out).unwrap()[0].rpaths,
            vec![String::from_utf8(long.clone()).unwrap()]
        );
        // Deleting it again fits in place: nothing moves back.
        let mut del = EditSet::default();
        del.rpath = vec![RpathOp::Delete(long)];
        let r2 = rewrite(&out, &del, &opts()).unwrap();
        assert_eq!(r2.slices()[0].layout, Layout::InPlace);
        let back = r2.apply(&out);
        assert_eq!(back[l.text as usize + d..], data[l.text as usize..]);
    }
}

#[test]
fn object_files_refuse_what_cannot_move() {
    let mut grow = EditSet::default();
    grow.rpath = vec![RpathOp::Add(vec![b'r'; 200])];
    // A section aligned beyond 2^15.
    let (mut data, _) = object(true, false);
    let align_at = 32 + 72 + 52;
    data[align_at..align_at + 4].copy_from_slice(&20u32.to_le_bytes());
    let e = rewrite(&data, &grow, &opts()).unwrap_err();
    assert!(e.to_string().contains("aligned to 2^20"), "{e}");
    // A segment that maps the header.
    let (mut data, _) = object(true, false);
    data[32 + 40..32 + 48].copy_from_slice(&0u64.to_le_bytes());
    let e = rewrite(&data, &grow, &opts()).unwrap_err();
    assert!(e.to_string().contains("maps its header"), "{e}");
    // Relocations beyond the end of the file.
    let (mut data, _) = object(true, false);
    let rel_at = 32 + 72 + 56;
    data[rel_at..rel_at + 4].copy_from_slice(&0xffff_0000u32.to_le_bytes());
    assert!(rewrite(&data, &grow, &opts()).is_err());
    // Cut anywhere: an error, never a panic.
    let (data, _) = object(false, true);
    for cut in 0..data.len() {
        let _ = rewrite(&data[..cut], &grow, &opts());
    }
}
