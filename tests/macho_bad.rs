//! Hostile and broken Mach-O input: every command fails with a clear message, never panics, and
//! leaves the file byte-identical.

mod common;
use common::macho as common_macho;

use std::path::Path;

use common_macho::*;

fn assert_refused(p: &Path, what: &str) {
    let before = std::fs::read(p).unwrap();
    for args in [
        vec!["patch", "--add-rpath", "@loader_path/x"],
        vec!["patch", "--add-rpath", &"y".repeat(5000)],
        vec!["patch", "--print"],
        vec!["codesign", "--verify"],
        vec!["codesign", "--sign"],
        vec!["install-name-tool", "-id", "x"],
    ] {
        let o = run(shenzi().args(&args).arg(p));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !err.contains("panicked"),
            "{what}: {args:?} panicked: {err}"
        );
        assert!(o.status.code().is_some(), "{what}: killed by a signal");
        if args[0] != "codesign" || args[1] == "--sign" {
            assert!(
                !o.status.success() || args[1] == "--print",
                "{what}: {args:?} succeeded"
            );
        }
        assert_eq!(
            before,
            std::fs::read(p).unwrap(),
            "{what}: {args:?} changed the file"
        );
    }
}

fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

#[test]
fn broken_files_are_refused_unchanged() {
    let Some(dir) = corpus() else { return };
    let good = std::fs::read(dir.join("arm64-libfoo.dylib")).unwrap();
    let fat = std::fs::read(dir.join("universal-libfoo.dylib")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    for cut in [3, 31, 100, 1000, good.len() / 2, good.len() - 7] {
        cases.push((format!("truncated at {cut}"), good[..cut].to_vec()));
    }
    let mut b = good.clone();
    put32(&mut b, 16, 0xffff); // ncmds
    cases.push(("huge ncmds".into(), b));
    let mut b = good.clone();
    put32(&mut b, 20, 0xffff_fff0); // sizeofcmds
    cases.push(("huge sizeofcmds".into(), b));
    let mut b = good.clone();
    put32(&mut b, 32 + 4, 0); // first cmdsize
    cases.push(("zero cmdsize".into(), b));
    let mut b = good.clone();
    // First segment's fileoff (u64 at +40 within the command) far outside the file.
    b[32 + 40..32 + 48].copy_from_slice(&0xffff_ffff_0000u64.to_le_bytes());
    cases.push(("segment outside the file".into(), b));
    let mut b = good.clone();
    // First section's offset (u32 at +72+48) outside the file.
    put32(&mut b, 32 + 72 + 48, 0x7fff_fff0);
    cases.push(("section outside the file".into(), b));
    // Find LC_SYMTAB and point it outside the file.
    let mut b = good.clone();
    let mut at = 32usize;
    for _ in 0..u32::from_le_bytes(good[16..20].try_into().unwrap()) {
        let cmd = u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
        let size = u32::from_le_bytes(b[at + 4..at + 8].try_into().unwrap()) as usize;
        if cmd == 0x2 {
            put32(&mut b, at + 8, 0x7fff_0000);
        }
        at += size;
    }
    cases.push(("symbol table outside the file".into(), b));
    let mut b = fat.clone();
    b[16..20].copy_from_slice(&0x7fff_0000u32.to_be_bytes());
    cases.push(("fat slice outside the file".into(), b));
    let mut b = fat.clone();
    b[4..8].copy_from_slice(&0x00ff_ffffu32.to_be_bytes());
    cases.push(("fat arch count huge".into(), b));
    let mut b = fat.clone();
    b[20..24].copy_from_slice(&0xffff_fff0u32.to_be_bytes());
    cases.push(("fat slice size huge".into(), b));
    for (i, (what, bytes)) in cases.iter().enumerate() {
        let p = tmp.path().join(format!("case{i}.dylib"));
        std::fs::write(&p, bytes).unwrap();
        assert_refused(&p, what);
    }
}

#[test]
fn corrupted_fixup_tables_fail_the_shift_cleanly() {
    let Some(dir) = corpus() else { return };
    for name in ["arm64-libfoo.dylib", "arm64cf-libfoo.dylib"] {
        let good = std::fs::read(dir.join(name)).unwrap();
        let mut b = good.clone();
        // The first linkedit table (rebase opcodes, or the chained-fixups header) becomes
        // garbage; __LINKEDIT starts at 0xc000 in these lld builds.
        assert!(b.len() > 0xc060);
        for x in &mut b[0xc000..0xc060] {
            *x = 0xff;
        }
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join(name);
        std::fs::write(&p, &b).unwrap();
        let o = run(shenzi()
            .args(["patch", "--add-rpath", &"z".repeat(5000)])
            .arg(&p));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("panicked"), "{name}: {err}");
        assert_eq!(b, std::fs::read(&p).unwrap(), "{name}: changed");
    }
}
