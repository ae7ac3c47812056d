//! Bad input: truncated at every header boundary, garbage, hostile offsets and counts. Every case
//! gives an error or a valid result (never a panic), and through the CLI a clear message, a
//! non-zero exit and a byte-identical file.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use shenzi_elf::{EditSet, Elf, Options, RpathOp};

fn edits() -> EditSet {
    let mut e = EditSet::default();
    e.rpath = vec![RpathOp::Set(vec![b'x'; 3000])];
    e.add_needed = vec![b"libextra.so".to_vec()];
    e.soname = Some(b"libsoname.so".to_vec());
    e
}

/// The symbol and resolution-cache edits of patchelf 0.19.
fn symbol_edits() -> EditSet {
    let mut e = EditSet::default();
    e.rename_symbols = vec![
        (
            b"demo".to_vec(),
            b"demo_renamed_to_something_longer".to_vec(),
        ),
        (b"printf".to_vec(), b"printf_renamed".to_vec()),
    ];
    e.clear_symbol_version = vec![b"printf".to_vec(), b"sqrt".to_vec()];
    e.resolution_cache = true;
    e
}

/// Parses and plans with `edits`; a successful plan must produce a file that passes the check.
fn exercise_with(data: &[u8], edits: &EditSet) -> Result<(), String> {
    let elf = Elf::parse(data).map_err(|e| e.to_string())?;
    let _ = shenzi_elf::Summary::of(&elf);
    let probe = shenzi_elf::fuzzing::FuzzProbe;
    let opts = Options::default();
    let rw = shenzi_elf::plan(&elf, edits, &opts, Some(&probe)).map_err(|e| e.to_string())?;
    let out = rw.output(data);
    shenzi_elf::check(&elf, &out, edits, &opts, Some(&probe))
        .map_err(|e| format!("output does not check out: {e}"))?;
    Ok(())
}

/// The rpath/needed/soname edits; an error is fine, a panic or a bad output is not.
fn exercise(data: &[u8]) -> Result<(), String> {
    let r = exercise_with(data, &edits());
    if let Err(e) = exercise_with(data, &symbol_edits()) {
        assert!(!e.contains("does not check out"), "symbol edits: {e}");
    }
    r
}

/// Offsets where headers and tables begin and end.
fn boundaries(data: &[u8]) -> Vec<usize> {
    let elf = Elf::parse(data).expect("seed parses");
    let c = elf.ctx();
    let mut b: Vec<u64> = vec![0, 4, 5, 6, 16, 24, c.ehdr_size() - 1, c.ehdr_size()];
    for i in 0..=elf.program_headers().len() as u64 {
        b.push(elf.header().e_phoff + i * c.phdr_size());
        b.push(elf.header().e_phoff + i * c.phdr_size() + 4);
    }
    for i in 0..=elf.section_headers().len() as u64 {
        b.push(elf.header().e_shoff + i * c.shdr_size());
    }
    for p in elf.program_headers() {
        b.extend([
            p.p_offset,
            p.p_offset + p.p_filesz / 2,
            p.p_offset + p.p_filesz.saturating_sub(1),
            p.p_offset + p.p_filesz,
        ]);
    }
    for s in elf.section_headers() {
        b.extend([
            s.sh_offset,
            s.sh_offset + s.sh_size / 2,
            s.sh_offset + s.sh_size,
        ]);
    }
    if let Some(d) = elf.dynamic() {
        for i in 0..d.capacity() {
            b.push(d.offset() + i * c.dyn_size() + c.word());
        }
    }
    let mut v: Vec<usize> = b
        .into_iter()
        .filter(|&x| (x as usize) < data.len())
        .map(|x| x as usize)
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Field overwrites that make offsets and counts point nowhere.
fn hostile(data: &[u8]) -> Vec<(String, Vec<u8>)> {
    let elf = Elf::parse(data).expect("seed parses");
    let c = elf.ctx();
    let w = c.word() as usize;
    let put = |d: &mut Vec<u8>, at: usize, v: u64, size: usize| {
        let bytes = match (c.endian, size) {
            (shenzi_elf::Endian::Little, 8) => v.to_le_bytes().to_vec(),
            (shenzi_elf::Endian::Big, 8) => v.to_be_bytes().to_vec(),
            (shenzi_elf::Endian::Little, 4) => (v as u32).to_le_bytes().to_vec(),
            (shenzi_elf::Endian::Big, 4) => (v as u32).to_be_bytes().to_vec(),
            (shenzi_elf::Endian::Little, _) => (v as u16).to_le_bytes().to_vec(),
            (shenzi_elf::Endian::Big, _) => (v as u16).to_be_bytes().to_vec(),
        };
        d[at..at + size].copy_from_slice(&bytes);
    };
    let mut out = Vec::new();
    let huge = [
        u64::MAX,
        u64::MAX / 2,
        data.len() as u64,
        data.len() as u64 - 1,
        0x7fff_ffff,
        0,
    ];
    let e_phoff = 24 + w;
    let e_shoff = 24 + 2 * w;
    let e_phnum = 24 + 3 * w + 8;
    let e_shnum = 24 + 3 * w + 12;
    for &h in &huge {
        let mut d = data.to_vec();
        put(&mut d, e_phoff, h, w);
        out.push((format!("e_phoff={h:#x}"), d));
        let mut d = data.to_vec();
        put(&mut d, e_shoff, h, w);
        out.push((format!("e_shoff={h:#x}"), d));
    }
    for n in [0u64, 1, 0xfffe, 0xffff] {
        let mut d = data.to_vec();
        put(&mut d, e_phnum, n, 2);
        out.push((format!("e_phnum={n}"), d));
        let mut d = data.to_vec();
        put(&mut d, e_shnum, n, 2);
        out.push((format!("e_shnum={n}"), d));
    }
    // Every program header's offset and size.
    for (i, _) in elf.program_headers().iter().enumerate() {
        let base = elf.header().e_phoff as usize + i * c.phdr_size() as usize;
        let (off_at, filesz_at) = if c.is64() {
            (base + 8, base + 32)
        } else {
            (base + 4, base + 16)
        };
        for &h in &huge {
            let mut d = data.to_vec();
            put(&mut d, off_at, h, w);
            out.push((format!("phdr[{i}].p_offset={h:#x}"), d));
            let mut d = data.to_vec();
            put(&mut d, filesz_at, h, w);
            out.push((format!("phdr[{i}].p_filesz={h:#x}"), d));
        }
    }
    // Every dynamic entry's value, and every entry turned into a string tag.
    if let Some(dy) = elf.dynamic() {
        for i in 0..dy.entries().len() {
            let at = (dy.offset() + i as u64 * c.dyn_size()) as usize;
            for &h in &huge {
                let mut d = data.to_vec();
                put(&mut d, at + w, h, w);
                out.push((format!("dyn[{i}].val={h:#x}"), d));
            }
            let mut d = data.to_vec();
            put(&mut d, at, shenzi_elf::consts::DT_NEEDED, w);
            put(&mut d, at + w, u32::MAX as u64, w);
            out.push((format!("dyn[{i}] -> DT_NEEDED past the table"), d));
        }
        // No terminator at all.
        let mut d = data.to_vec();
        for i in 0..dy.capacity() {
            let at = (dy.offset() + i * c.dyn_size()) as usize;
            put(&mut d, at, shenzi_elf::consts::DT_DEBUG, w);
        }
        out.push(("dynamic without DT_NULL".into(), d));
    }
    // A string table without a final NUL.
    if let Some(s) = elf.dynstr() {
        let mut d = data.to_vec();
        let end = (s.offset() + s.size()) as usize;
        for b in &mut d[end - 64..end] {
            *b = b'A';
        }
        out.push(("dynstr without terminator".into(), d));
    }
    // Version records that loop onto themselves or point outside.
    for v in elf.version_needs().unwrap() {
        let rec = v.offset as usize;
        for (what, val) in [
            ("vn_next=0 loop", 0u64),
            ("vn_next huge", 0xffff_fff0),
            ("vn_aux huge", 0xffff_fff0),
        ] {
            let mut d = data.to_vec();
            let at = if what.starts_with("vn_aux") {
                rec + 8
            } else {
                rec + 12
            };
            put(&mut d, at, val, 4);
            out.push((what.into(), d));
        }
    }
    // Garbage after a valid magic.
    let mut g = b"\x7fELF\x02\x01\x01".to_vec();
    let mut x: u32 = 0x1234_5678;
    for _ in 0..4096 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        g.push(x as u8);
    }
    out.push(("garbage".into(), g));
    out.push(("empty".into(), Vec::new()));
    out.push(("magic only".into(), b"\x7fELF".to_vec()));
    out
}

fn seeds() -> Vec<(String, Vec<u8>)> {
    let mut s = Vec::new();
    for (name, file) in [
        ("pie", "prog"),
        ("pie", "lib/libdemo.so"),
        ("i686", "prog"),
        ("ppc64", "prog"),
        ("nopie", "prog"),
    ] {
        if let Some(v) = variant(name) {
            s.push((
                format!("{name}/{file}"),
                std::fs::read(v.dir.join(file)).unwrap(),
            ));
        }
    }
    s
}

#[test]
fn truncation_at_every_boundary_never_panics() {
    let mut count = 0;
    for (name, data) in seeds() {
        for cut in boundaries(&data) {
            let slice = &data[..cut];
            let r = std::panic::catch_unwind(|| exercise(slice));
            assert!(r.is_ok(), "{name} truncated at {cut:#x}: panic");
            count += 1;
        }
    }
    eprintln!("{count} truncated files");
    assert!(
        count >= 200 || !require_oracles(),
        "only {count} truncation cases"
    );
}

#[test]
fn hostile_fields_never_panic() {
    let mut count = 0;
    for (name, data) in seeds() {
        for (what, bad) in hostile(&data) {
            let start = Instant::now();
            let r = std::panic::catch_unwind(|| exercise(&bad));
            assert!(r.is_ok(), "{name} with {what}: panic");
            assert!(
                start.elapsed() < Duration::from_secs(1),
                "{name} with {what}: took {:?}",
                start.elapsed()
            );
            count += 1;
        }
    }
    eprintln!("{count} hostile files");
}

/// Through the CLI: a clear error naming the file, exit code 1, file byte-identical.
#[test]
fn cli_reports_bad_input_and_leaves_it_unchanged() {
    let scratch = tempfile::tempdir().unwrap();
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, data) in seeds() {
        for (what, bad) in hostile(&data) {
            if exercise(&bad).is_err() {
                cases.push((format!("{name} with {what}"), bad));
            }
        }
        for cut in boundaries(&data) {
            let d = data[..cut].to_vec();
            if exercise(&d).is_err() {
                cases.push((format!("{name} truncated at {cut:#x}"), d));
            }
        }
    }
    eprintln!("{} malformed files through the CLI", cases.len());
    assert!(
        cases.len() >= 200 || !require_oracles(),
        "too few failing cases: {}",
        cases.len()
    );
    // Memory stays bounded: every run gets at most 256 MiB of address space.
    let limited = oracle("prlimit");
    for (i, (what, bad)) in cases.iter().enumerate() {
        let f = scratch.path().join(format!("bad-{i}"));
        std::fs::write(&f, bad).unwrap();
        let rpath = "x".repeat(3000);
        let mut cmd = if limited {
            let mut c = Command::new("prlimit");
            c.arg("--as=268435456").arg(shenzi());
            c
        } else {
            Command::new(shenzi())
        };
        let start = Instant::now();
        let o = run(cmd
            .args([
                "patch",
                "--rpath",
                &rpath,
                "--add-needed",
                "libextra.so",
                "--set-soname",
                "libsoname.so",
            ])
            .arg(&f));
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "{what}: took {:?}",
            start.elapsed()
        );
        assert_eq!(
            o.status.code(),
            Some(1),
            "{what}: exit code; stderr: {}",
            stderr(&o)
        );
        let msg = stderr(&o);
        assert!(
            msg.contains(f.to_str().unwrap()),
            "{what}: message does not name the file: {msg}"
        );
        assert!(!msg.contains("panicked"), "{what}: {msg}");
        assert_eq!(&std::fs::read(&f).unwrap(), bad, "{what}: file changed");
        let leftovers: Vec<_> = std::fs::read_dir(scratch.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
            .collect();
        assert!(leftovers.is_empty(), "{what}: left {leftovers:?}");
    }
}

/// The same through the patchelf front end with patchelf 0.19's symbol and cache edits: exit 1,
/// patchelf's prefix, no panic, the file byte-identical.
#[test]
fn patchelf_symbol_edits_report_bad_input_and_leave_it_unchanged() {
    let scratch = tempfile::tempdir().unwrap();
    let map = scratch.path().join("map");
    std::fs::write(
        &map,
        "demo demo_renamed_to_something_longer\nprintf printf_renamed\n",
    )
    .unwrap();
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, data) in seeds() {
        for (what, bad) in hostile(&data) {
            if exercise_with(&bad, &symbol_edits()).is_err() {
                cases.push((format!("{name} with {what}"), bad));
            }
        }
    }
    eprintln!(
        "{} malformed files through the patchelf front end",
        cases.len()
    );
    assert!(
        cases.len() >= 50 || !require_oracles(),
        "too few failing cases: {}",
        cases.len()
    );
    for (i, (what, bad)) in cases.iter().enumerate() {
        let f = scratch.path().join(format!("bad-{i}"));
        std::fs::write(&f, bad).unwrap();
        let o = run(Command::new(shenzi())
            .arg("patchelf")
            .arg("--rename-dynamic-symbols")
            .arg(&map)
            .args([
                "--clear-symbol-version",
                "printf",
                "--build-resolution-cache",
            ])
            .arg(&f));
        let msg = stderr(&o);
        assert!(!msg.contains("panicked"), "{what}: {msg}");
        if o.status.success() {
            // The front end's probe found what the fuzz probe did not: the output must be sound.
            let out = std::fs::read(&f).unwrap();
            Elf::parse(&out).unwrap_or_else(|e| panic!("{what}: output does not parse: {e}"));
            continue;
        }
        assert_eq!(o.status.code(), Some(1), "{what}: exit code; stderr: {msg}");
        assert!(msg.starts_with("patchelf: "), "{what}: {msg}");
        assert_eq!(&std::fs::read(&f).unwrap(), bad, "{what}: file changed");
    }
}
