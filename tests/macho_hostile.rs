//! Hostile Mach-O input generated from corpus seeds (thin dyld-info, chained-fixup and x86_64
//! libraries, fat32 and fat64): truncation at every header and load-command boundary, counts
//! and offsets past the end, bad cmdsizes and string offsets, overlapping or outside fat
//! slices, linkedit tables outside the file, hostile code-signature blobs. In process nothing
//! panics; through the CLI every file gets a clear error naming it, a non-zero exit within a
//! second under a 512 MiB address-space limit, and stays byte-identical.

mod common;
use common::macho as common_macho;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common_macho::*;
use shenzi_macho::{EditSet, MachO, Options, RpathOp};

const LC_SEGMENT_64: u32 = 0x19;
const LC_SYMTAB: u32 = 0x2;
const LC_DYSYMTAB: u32 = 0xb;
const LC_RPATH: u32 = 0x8000_001c;
const LC_DYLD_INFO_ONLY: u32 = 0x8000_0022;
const DYLIB_CMDS: [u32; 3] = [0xc, 0xd, 0x8000_0018];
const LINKEDIT_DATA: [u32; 5] = [0x1d, 0x26, 0x29, 0x8000_0033, 0x8000_0034];

fn put32(d: &mut [u8], at: usize, v: u32) {
    d[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn put64(d: &mut [u8], at: usize, v: u64) {
    d[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

fn be(d: &mut [u8], at: usize, v: u32) {
    d[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

fn get32(d: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(d[at..at + 4].try_into().unwrap())
}

/// Malformed variants of a thin little-endian 64-bit seed.
fn thin_cases(tag: &str, data: &[u8]) -> Vec<(String, Vec<u8>)> {
    let m = MachO::parse(data).expect("seed parses");
    let len = data.len() as u64;
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let mut add = |what: String, d: Vec<u8>| out.push((format!("{tag}: {what}"), d));

    // Truncated at every header and load-command boundary, and inside each command.
    let mut cuts: Vec<u64> = vec![0, 3, 4, 8, 16, 20, 24, 31, 32];
    for (i, c) in m.commands().iter().enumerate() {
        let (at, n) = (m.command_offset(i).unwrap(), c.size());
        cuts.extend([at, at + 4, at + 8, at + n - 1]);
    }
    cuts.push(m.commands_end());
    for s in m.segments() {
        cuts.extend([
            s.fileoff + s.filesize / 2,
            (s.fileoff + s.filesize).saturating_sub(1),
        ]);
    }
    cuts.sort_unstable();
    cuts.dedup();
    for cut in cuts.into_iter().filter(|&c| c < len) {
        add(
            format!("truncated at {cut:#x}"),
            data[..cut as usize].to_vec(),
        );
    }

    // Header counts.
    for n in [u32::MAX, 0x10_0000, m.header().ncmds + 1] {
        let mut d = data.to_vec();
        put32(&mut d, 16, n);
        add(format!("ncmds={n:#x}"), d);
    }
    for n in [u32::MAX, 0xffff_fff0, len as u32, 7] {
        let mut d = data.to_vec();
        put32(&mut d, 20, n);
        add(format!("sizeofcmds={n:#x}"), d);
    }

    for (i, c) in m.commands().iter().enumerate() {
        let at = m.command_offset(i).unwrap() as usize;
        let size = c.size() as u32;
        // cmdsize 0, too small, not a multiple of 4, past the area.
        for v in [0, 4, size + 2, size - 1, 0xffff_fff0] {
            let mut d = data.to_vec();
            put32(&mut d, at + 4, v);
            add(format!("cmd {i} ({:#x}) cmdsize={v:#x}", c.cmd()), d);
        }
        let field = |d: &mut Vec<u8>, off: usize, v: u32| put32(d, at + off, v);
        let mut hostile = |what: String, f: &dyn Fn(&mut Vec<u8>)| {
            let mut d = data.to_vec();
            f(&mut d);
            add(format!("cmd {i} ({:#x}) {what}", c.cmd()), d);
        };
        match c.cmd() {
            LC_SEGMENT_64 => {
                for (what, off, v) in [
                    ("fileoff", 40, u64::MAX - 0x1000),
                    ("fileoff", 40, len),
                    ("filesize", 48, 0xffff_ffff_0000),
                    ("filesize", 48, len + 1),
                ] {
                    hostile(format!("{what}={v:#x}"), &|d| put64(d, at + off, v));
                }
                for n in [u32::MAX, 0x1000] {
                    hostile(format!("nsects={n:#x}"), &|d| field(d, 64, n));
                }
                // The first section's offset and size outside the image.
                if get32(data, at + 64) > 0 {
                    hostile("section offset past the end".into(), &|d| {
                        field(d, 72 + 48, 0x7fff_fff0)
                    });
                    hostile("section size huge".into(), &|d| {
                        put64(d, at + 72 + 40, 0xffff_ffff_ffff)
                    });
                }
            }
            LC_SYMTAB => {
                for (what, off, v) in [
                    ("symoff", 8, len as u32),
                    ("nsyms", 12, u32::MAX),
                    ("stroff", 16, 0xffff_fff0),
                    ("strsize", 20, len as u32),
                ] {
                    hostile(format!("{what}={v:#x}"), &|d| field(d, off, v));
                }
            }
            LC_DYSYMTAB => {
                for (what, off) in [("indirectsymoff", 56), ("nindirectsyms", 60)] {
                    hostile(format!("{what} huge"), &|d| field(d, off, 0x7fff_ffff));
                }
            }
            LC_DYLD_INFO_ONLY => {
                for k in 0..5 {
                    hostile(format!("dyld info table {k} offset past the end"), &|d| {
                        field(d, 8 + 8 * k, len as u32 + 16)
                    });
                    hostile(format!("dyld info table {k} size huge"), &|d| {
                        field(d, 12 + 8 * k, u32::MAX)
                    });
                }
            }
            cmd if LINKEDIT_DATA.contains(&cmd) => {
                hostile("dataoff past the end".into(), &|d| {
                    field(d, 8, len as u32 + 16)
                });
                hostile("datasize huge".into(), &|d| field(d, 12, u32::MAX));
                hostile("range overlaps the end".into(), &|d| {
                    field(d, 8, len as u32 - 8);
                    field(d, 12, 64);
                });
            }
            cmd if DYLIB_CMDS.contains(&cmd) || cmd == LC_RPATH => {
                let min = if cmd == LC_RPATH { 12 } else { 24 };
                for v in [0, min - 1, size + 1, 0xffff_0000] {
                    hostile(format!("string offset {v:#x}"), &|d| field(d, 8, v));
                }
                // The string runs to the end of the command without a terminator.
                hostile("string without a terminator".into(), &|d| {
                    let s = get32(data, at + 8) as usize;
                    d[at + s..at + size as usize].fill(b'A');
                });
            }
            _ => {}
        }
    }

    // Code signature blobs with hostile counts and offsets.
    if let Some((off, size)) = m.code_signature() {
        let sig = off as usize;
        let cd = sig + u32::from_be_bytes(data[sig + 16..sig + 20].try_into().unwrap()) as usize;
        let sigs: [(&str, usize, u32); 11] = [
            ("SuperBlob count", sig + 8, u32::MAX),
            ("SuperBlob count", sig + 8, size / 8),
            ("blob offset", sig + 16, size),
            ("blob offset", sig + 16, u32::MAX - 3),
            ("CodeDirectory length", cd + 4, u32::MAX),
            ("CodeDirectory hashOffset", cd + 16, u32::MAX - 31),
            ("CodeDirectory identOffset", cd + 20, u32::MAX),
            ("CodeDirectory nSpecialSlots", cd + 24, u32::MAX),
            ("CodeDirectory nCodeSlots", cd + 28, u32::MAX),
            ("CodeDirectory nCodeSlots", cd + 28, 0),
            ("CodeDirectory codeLimit", cd + 32, u32::MAX),
        ];
        for (what, at, v) in sigs {
            let mut d = data.to_vec();
            be(&mut d, at, v);
            add(format!("signature {what}={v:#x}"), d);
        }
    }
    out
}

/// Malformed variants of a fat seed.
fn fat_cases(tag: &str, data: &[u8]) -> Vec<(String, Vec<u8>)> {
    let fat = shenzi_macho::Fat::parse(data).expect("seed parses");
    let (entry, w) = if fat.is64() { (32, 8) } else { (20, 4) };
    let off_at = |i: usize| 8 + i * entry + 8;
    let size_at = |i: usize| 8 + i * entry + 8 + w;
    let put = |d: &mut Vec<u8>, at: usize, v: u64| {
        if w == 8 {
            d[at..at + 8].copy_from_slice(&v.to_be_bytes());
        } else {
            d[at..at + 4].copy_from_slice(&(v as u32).to_be_bytes());
        }
    };
    let len = data.len() as u64;
    let mut out = Vec::new();
    let mut add = |what: String, d: Vec<u8>| out.push((format!("{tag}: {what}"), d));
    let table = 8 + fat.arches().len() * entry;
    let mut cuts = vec![4, 7, 8, 8 + entry / 2, table - 1, table];
    for a in fat.arches() {
        cuts.extend([a.offset as usize, a.offset as usize + 100]);
        cuts.push((a.offset + a.size) as usize - 1);
    }
    for cut in cuts {
        add(format!("truncated at {cut:#x}"), data[..cut].to_vec());
    }
    for n in [u32::MAX, 0x00ff_ffff, 0] {
        let mut d = data.to_vec();
        be(&mut d, 4, n);
        add(format!("nfat_arch={n:#x}"), d);
    }
    for i in 0..fat.arches().len() {
        for (what, at, v) in [
            ("offset past the end", off_at(i), len),
            ("offset 0 (inside the header)", off_at(i), 0),
            ("offset huge", off_at(i), u64::from(u32::MAX) - 16),
            ("size past the end", size_at(i), len),
            ("size huge", size_at(i), u64::from(u32::MAX)),
        ] {
            let mut d = data.to_vec();
            put(&mut d, at, v);
            add(format!("arch {i} {what}"), d);
        }
        let mut d = data.to_vec();
        be(&mut d, 8 + i * entry + 8 + 2 * w, 255);
        add(format!("arch {i} align 2^255"), d);
    }
    // Two entries naming overlapping ranges.
    let mut d = data.to_vec();
    put(&mut d, off_at(1), fat.arches()[0].offset + 0x100);
    add("slices overlap".into(), d);
    let mut d = data.to_vec();
    d.copy_within(8..8 + entry, 8 + entry);
    add("the same slice twice".into(), d);
    out
}

fn seeds() -> Option<Vec<(String, Vec<u8>)>> {
    let dir = corpus()?;
    let names = [
        "arm64-libfoo.dylib",
        "arm64cf-libfoo.dylib",
        "x86_64-libfoo.dylib",
        "universal-libfoo.dylib",
        "universal64-libfoo.dylib",
    ];
    Some(
        names
            .iter()
            .filter(|n| dir.join(n).is_file())
            .map(|n| (n.to_string(), std::fs::read(dir.join(n)).unwrap()))
            .collect(),
    )
}

/// Every generated case, each one malformed.
fn cases() -> Option<Vec<(String, Vec<u8>)>> {
    let mut v = Vec::new();
    for (name, data) in seeds()? {
        if shenzi_macho::is_fat(&data) {
            v.extend(fat_cases(&name, &data));
        } else {
            v.extend(thin_cases(&name, &data));
        }
    }
    Some(v)
}

fn edits() -> EditSet {
    let mut v = EditSet::default();
    v.id = Some(b"@rpath/libhostile.dylib".to_vec());
    v.rpath = vec![RpathOp::Add(b"@loader_path/hostile".to_vec())];
    v
}

/// Whether the signature blob is what is broken: `patch` may then re-sign afresh (with a
/// warning) instead of failing.
fn signature_case(what: &str) -> bool {
    what.contains("signature ")
}

#[test]
fn library_never_panics_and_refuses_every_case() {
    let Some(cases) = cases() else { return };
    assert!(cases.len() >= 200, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for (what, bad) in &cases {
        let start = Instant::now();
        let r = std::panic::catch_unwind(|| {
            let _ = shenzi_macho::summarize(bad);
            let _ = shenzi_macho::verify(bad);
            let rw = shenzi_macho::rewrite(bad, &edits(), &Options::default());
            let checked = shenzi_macho::check(bad, true);
            let out = rw.as_ref().ok().map(|r| r.apply(bad));
            (rw.is_ok(), checked.is_ok(), out)
        });
        let Ok((rewritten, checked, out)) = r else {
            panic!("{what}: panic");
        };
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "{what}: took {:?}",
            start.elapsed()
        );
        // Strict reading (signatures included) rejects every case.
        assert!(!checked, "{what}: accepted by check");
        if signature_case(what) {
            if let Some(out) = out {
                shenzi_macho::check(&out, true)
                    .unwrap_or_else(|e| panic!("{what}: re-signed output fails: {e}"));
            }
        } else if rewritten {
            failures.push(what.clone());
        }
    }
    assert!(failures.is_empty(), "rewritten: {failures:#?}");
    eprintln!("{} hostile files", cases.len());
}

/// Runs the CLI on `f` under an address-space limit; returns (exit code, stdout+stderr, time).
fn cli(args: &[&str], f: &Path) -> (Option<i32>, String, Duration) {
    let mut c = Command::new("prlimit");
    c.arg(format!("--as={}", 512u64 << 20))
        .arg(env!("CARGO_BIN_EXE_shenzi"))
        .args(args)
        .arg(f)
        .env("MALLOC_ARENA_MAX", "2");
    let start = Instant::now();
    let o = run(&mut c);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.code(), text, start.elapsed())
}

#[test]
fn cli_refuses_every_case_and_leaves_it_unchanged() {
    let Some(cases) = cases() else { return };
    let prlimit = Command::new("prlimit")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if need(prlimit, "prlimit (util-linux)").is_none() {
        return;
    }
    assert!(cases.len() >= 200, "only {} cases", cases.len());
    let tmp = tempfile::tempdir().unwrap();
    let mut resigned = 0;
    for (i, (what, bad)) in cases.iter().enumerate() {
        let f = tmp.path().join(format!("case{i}.dylib"));
        std::fs::write(&f, bad).unwrap();
        let name = f.to_str().unwrap();
        for args in [
            &[
                "patch",
                "--add-rpath",
                "@loader_path/hostile",
                "--id",
                "@rpath/libhostile.dylib",
            ][..],
            &["codesign", "--verify"][..],
        ] {
            let (code, text, took) = cli(args, &f);
            assert!(
                took < Duration::from_secs(1),
                "{what}: {args:?} took {took:?}"
            );
            assert!(!text.contains("panicked"), "{what}: {args:?}: {text}");
            if args[0] == "patch" && signature_case(what) && code == Some(0) {
                // An unreadable signature is replaced; the result must verify.
                resigned += 1;
                let (code, text, _) = cli(&["codesign", "--verify"], &f);
                assert_eq!(code, Some(0), "{what}: re-signed file: {text}");
                std::fs::write(&f, bad).unwrap();
                continue;
            }
            assert_eq!(code, Some(1), "{what}: {args:?} exit code: {text}");
            assert!(
                text.contains(name),
                "{what}: {args:?}: the message does not name the file: {text}"
            );
            assert_eq!(
                &std::fs::read(&f).unwrap(),
                bad,
                "{what}: {args:?} changed the file"
            );
        }
        let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
            .collect();
        assert!(leftovers.is_empty(), "{what}: left {leftovers:?}");
    }
    eprintln!("{} hostile files, {resigned} re-signed", cases.len());
}

/// A CodeDirectory that declares fewer page hashes than the code limit needs, and ends right
/// after them: verification reports the mismatch instead of reading past the directory.
#[test]
fn short_code_directory_is_reported_not_overrun() {
    let Some(files) = corpus_files() else { return };
    let mut tried = 0;
    for f in files {
        let data = std::fs::read(&f).unwrap();
        if shenzi_macho::is_fat(&data) {
            continue;
        }
        let Ok(m) = MachO::parse(&data) else { continue };
        let Some((off, _)) = m.code_signature() else {
            continue;
        };
        let off = off as usize;
        let count = u32::from_be_bytes(data[off + 8..off + 12].try_into().unwrap());
        let mut d = data.clone();
        for i in 0..count as usize {
            let ty = u32::from_be_bytes(d[off + 12 + 8 * i..off + 16 + 8 * i].try_into().unwrap());
            if ty != 0 {
                continue;
            }
            let cd = off
                + u32::from_be_bytes(d[off + 16 + 8 * i..off + 20 + 8 * i].try_into().unwrap())
                    as usize;
            let hash_off = u32::from_be_bytes(d[cd + 16..cd + 20].try_into().unwrap());
            // One code slot, and a CodeDirectory that ends after it.
            be(&mut d, cd + 28, 1);
            be(&mut d, cd + 4, hash_off + 32);
        }
        if m.code_signature().is_none() || data.len() < 0x2000 {
            continue;
        }
        let r = std::panic::catch_unwind(|| shenzi_macho::verify(&d));
        let reports = r.unwrap_or_else(|_| panic!("{}: verify panicked", f.display()));
        if let Ok(reports) = reports {
            assert!(
                reports
                    .iter()
                    .any(|(_, r)| r.as_ref().is_some_and(|r| !r.problems.is_empty())),
                "{}",
                f.display()
            );
        }
        tried += 1;
    }
    assert!(
        tried > 0 || !require_oracles(),
        "no signed thin file in the corpus"
    );
}
