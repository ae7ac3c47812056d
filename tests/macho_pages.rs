//! Signatures with 16 KiB pages, as zig's linker writes them: shenzi itself built for both Mac
//! targets (`corpus/selfhost/setup.sh`) is verified, edited in place and with a shift, and each
//! result re-signed with the input's page size. Oracles: `corpus/macos/oracle.py` (macholib,
//! page hashes recomputed at the declared page size) and llvm-objdump-19. Missing ones skip
//! locally and fail with `SHENZI_REQUIRE_ORACLES=1`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn require(what: &str) {
    if std::env::var("SHENZI_REQUIRE_ORACLES").is_ok_and(|v| v == "1") {
        panic!("required oracle missing: {what}");
    }
    eprintln!("skipping: {what} is missing");
}

fn shenzi(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_shenzi"))
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The page-size byte (log2) of the first CodeDirectory of a thin file.
fn page_shift(path: &Path) -> u8 {
    let data = std::fs::read(path).unwrap();
    let cd = data
        .windows(4)
        .position(|w| w == [0xfa, 0xde, 0x0c, 0x02])
        .expect("a CodeDirectory");
    data[cd + 39]
}

#[test]
fn sixteen_kib_signatures_verify_edit_and_resign() {
    let dir = root().join("target/corpus-selfhost");
    let oracle_py = root().join("target/macos-venv/bin/python");
    let objdump = Path::new("/usr/bin/llvm-objdump-19");
    if !dir.join("shenzi-aarch64-apple-darwin").is_file() {
        return require("shenzi built for macOS (corpus/selfhost/setup.sh)");
    }
    if !oracle_py.is_file() || !objdump.is_file() {
        return require("the macOS oracle venv and llvm-objdump-19");
    }
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("macho-pages");
    let _ = std::fs::remove_dir_all(&work);
    // zig signs arm64 (with 16 KiB pages) and leaves x86_64 unsigned.
    {
        let target = "aarch64-apple-darwin";
        let input = dir.join(format!("shenzi-{target}"));
        let signed = page_shift(&input);
        assert_eq!(signed, 14, "zig signs arm64 with 16 KiB pages");
        let v = shenzi(&["codesign", "--verify", input.to_str().unwrap()]);
        assert!(v.status.success(), "{target}: {}", text(&v.stdout));
        let long = format!("@loader_path/{}", "d".repeat(6000));
        for (case, rpath) in [
            ("in-place", "@loader_path/../lib"),
            ("shift", long.as_str()),
        ] {
            let out_dir = work.join(format!("{target}-{case}"));
            std::fs::create_dir_all(&out_dir).unwrap();
            let out = out_dir.join("shenzi");
            let o = shenzi(&[
                "patch",
                "--add-rpath",
                rpath,
                input.to_str().unwrap(),
                "--output",
                out.to_str().unwrap(),
            ]);
            assert!(o.status.success(), "{target} {case}: {}", text(&o.stderr));
            assert_eq!(page_shift(&out), signed, "{target} {case}: page size kept");
            let v = shenzi(&["codesign", "--verify", out.to_str().unwrap()]);
            assert!(v.status.success(), "{target} {case}: {}", text(&v.stdout));
            let d = Command::new(objdump)
                .args(["--macho", "--private-headers"])
                .arg(&out)
                .output()
                .unwrap();
            assert!(
                d.status.success(),
                "{target} {case}: llvm-objdump rejects it"
            );
            assert!(
                text(&d.stdout).contains(rpath),
                "{target} {case}: no new LC_RPATH"
            );
            let o = Command::new(&oracle_py)
                .arg(root().join("corpus/macos/oracle.py"))
                .arg(&out_dir)
                .args(["--exe", "shenzi"])
                .output()
                .unwrap();
            // The new LC_RPATH leads nowhere inside this folder; only signature problems count.
            let report = text(&o.stdout);
            assert!(
                !report.contains("code signature"),
                "{target} {case}: {report}"
            );
        }
    }
}
