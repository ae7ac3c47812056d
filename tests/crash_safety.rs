//! Crash safety: `shenzi patch` killed with SIGKILL at random moments, on an ELF edit (journaled
//! in place) and a Mach-O edit that shifts the file (temporary file and rename). Right after the
//! kill the file is the original, the complete result, or has an undo journal beside it; the
//! next shenzi run leaves it the original or the complete result, and no stray file behind.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;

#[test]
fn sigkill_never_leaves_a_torn_elf_file() {
    let Some(v) = variant("pie") else { return };
    let long: String = (0..200)
        .map(|i| format!("/opt/crash-test/{i:03}:"))
        .collect::<String>()
        + "$ORIGIN";
    kill_while_patching(&v.dir.join("lib/libdemo.so"), &long, "$ORIGIN/short");
}

#[test]
fn sigkill_never_leaves_a_torn_macho_file() {
    let f = root().join("target/corpus-macho/arm64-libfoo.dylib");
    if !f.exists() {
        assert!(
            !require_oracles(),
            "{} missing: run corpus/macho/setup.sh",
            f.display()
        );
        eprintln!("skipping: no Mach-O corpus");
        return;
    }
    // A long rpath does not fit lld's header padding: the file shifts and is replaced whole.
    let long = format!("@loader_path/{}", "long-rpath-entry/".repeat(40));
    kill_while_patching(&f, &long, "@loader_path/short");
}

/// Patches copies of `seed` with one of two rpaths, killing shenzi after a random delay.
fn kill_while_patching(seed_file: &std::path::Path, long: &str, short: &str) {
    let scratch = tempfile::tempdir().unwrap();
    let original = std::fs::read(seed_file).unwrap();
    let name = seed_file
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    // The two possible complete results, made without interruption.
    let expected = |rpath: &str| {
        let f = scratch.path().join(format!("expected-{name}"));
        std::fs::write(&f, &original).unwrap();
        let o = shenzi_run(&["patch", "--rpath", rpath, f.to_str().unwrap()]);
        assert!(o.status.success());
        std::fs::read(&f).unwrap()
    };
    let results = [expected(long), expected(short)];
    let dir = scratch.path().join("work");
    std::fs::create_dir(&dir).unwrap();
    let f = dir.join(&name);
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let (mut interrupted, mut journals) = (0, 0);
    for round in 0..120 {
        std::fs::write(&f, &original).unwrap();
        let rpath = if round % 2 == 0 { long } else { short };
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = Duration::from_micros(seed % 4000);
        let mut child = Command::new(shenzi())
            .args(["patch", "--rpath", rpath])
            .arg(&f)
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        // SAFETY: sending SIGKILL to our own child process.
        unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
        let status = child.wait().unwrap();
        let now = std::fs::read(&f).unwrap();
        let journal = dir.join(format!(".{name}.shenzi-journal")).exists();
        if !status.success() {
            interrupted += 1;
        }
        if journal {
            journals += 1;
        }
        let result = &results[round % 2];
        assert!(
            now == original || &now == result || journal,
            "round {round}: torn file without a journal after a kill at {delay:?}"
        );
        // The next run (here a read-only --print) restores or keeps a consistent file.
        let o = shenzi_run(&["patch", "--print", f.to_str().unwrap()]);
        assert!(o.status.success(), "round {round}: {}", stderr(&o));
        let after = std::fs::read(&f).unwrap();
        assert!(
            after == original || &after == result,
            "round {round}: inconsistent after recovery"
        );
        let stray: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .filter(|n| n.to_string_lossy() != name)
            .collect();
        assert!(stray.is_empty(), "round {round}: stray files {stray:?}");
    }
    eprintln!("{interrupted} of 120 runs killed, {journals} left a journal");
    assert!(
        interrupted > 0,
        "no run was interrupted: the test proves nothing"
    );
}
