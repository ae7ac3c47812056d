//! `shenzi bundle` for macOS, from recorded observations of macOS Python installations
//! (`corpus/macos`: a python.org framework, Homebrew with `opt/` → `Cellar/` links, a pyenv
//! x86_64 shared build, a venv with universal2 wheels and hard cases), read under `--root`.
//!
//! Oracle: `corpus/macos/oracle.py`, which shares no code with shenzi: it walks every Mach-O
//! of the bundle with macholib and applies dyld's rules (every non-weak dependency resolves
//! inside the bundle or to the system set, no id or LC_RPATH points outside, no duplicate
//! LC_RPATH, every page hash of every signature verifies, the reported minimum macOS is the
//! maximum over the images). `corpus/macos/check.sh` shows it fails on the unpatched trees.
//! Missing oracles skip locally and fail with `SHENZI_REQUIRE_ORACLES=1`.

#[macro_use]
mod common;
use common::{root, scratch, text};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn corpus() -> PathBuf {
    root().join("target/corpus-macos")
}

/// The oracle's interpreter (a venv with macholib), when `corpus/macos/setup.sh` has run.
fn oracle_python() -> Option<PathBuf> {
    let py = root().join("target/macos-venv/bin/python");
    let ok = corpus().join("pyorg/manifest.json").is_file()
        && Command::new(&py)
            .args(["-c", "import macholib"])
            .output()
            .is_ok_and(|o| o.status.success());
    ok.then_some(py)
}

fn bundle(layout: &Path, out: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shenzi"))
        .arg("bundle")
        .arg("--manifest")
        .arg(layout.join("manifest.json"))
        .arg("--root")
        .arg(layout.join("root"))
        .arg("-o")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

fn bundle_ok(layout: &Path, out: &Path, extra: &[&str]) -> String {
    let o = bundle(layout, out, extra);
    assert!(
        o.status.success(),
        "shenzi bundle {}: {}{}",
        layout.display(),
        text(&o.stdout),
        text(&o.stderr)
    );
    text(&o.stderr)
}

fn expect_of(layout: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(layout.join("expect.json")).unwrap()).unwrap()
}

/// Runs the oracle; returns its report when it finds problems.
fn oracle(py: &Path, bundle: &Path, exe: &str, expect: Option<&Path>) -> Result<String, String> {
    let mut cmd = Command::new(py);
    cmd.arg(root().join("corpus/macos/oracle.py"))
        .arg(bundle)
        .args(["--exe", exe]);
    if let Some(e) = expect {
        cmd.arg("--expect").arg(e);
    }
    let o = cmd.output().unwrap();
    let report = format!("{}{}", text(&o.stdout), text(&o.stderr));
    if o.status.success() {
        Ok(report)
    } else {
        Err(report)
    }
}

/// Every file of a tree: relative path → (mode, link target or content hash).
fn tree(dir: &Path) -> BTreeMap<String, String> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
        let meta = e.path().symlink_metadata().unwrap();
        let what = if meta.file_type().is_symlink() {
            format!("-> {}", std::fs::read_link(e.path()).unwrap().display())
        } else if meta.is_file() {
            let data = std::fs::read(e.path()).unwrap();
            format!("{:o} {:x}", meta.permissions().mode(), fnv(&data))
        } else {
            format!("{:o} dir", meta.permissions().mode())
        };
        out.insert(rel, what);
    }
    out
}

fn fnv(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &x| {
        (h ^ u64::from(x)).wrapping_mul(0x100_0000_01b3)
    })
}

/// Whether a file starts with the fat (universal) magic.
fn is_fat(p: &Path) -> bool {
    std::fs::read(p).is_ok_and(|d| d.starts_with(&[0xca, 0xfe, 0xba, 0xbe]))
}

fn is_macho(p: &Path) -> bool {
    std::fs::read(p).is_ok_and(|d| {
        d.len() >= 4
            && matches!(
                [d[0], d[1], d[2], d[3]],
                [0xcf, 0xfa, 0xed, 0xfe] | [0xce, 0xfa, 0xed, 0xfe] | [0xca, 0xfe, 0xba, 0xbe]
            )
    })
}

const LAYOUTS: [&str; 4] = ["pyorg", "homebrew", "pyenv", "venv"];

#[test]
fn every_layout_bundles_into_a_folder_dyld_accepts() {
    let py = need!(oracle_python(), "the macOS corpus (corpus/macos/setup.sh)");
    for name in LAYOUTS {
        let layout = corpus().join(name);
        let work = scratch(name);
        let out = work.join("dist");
        let summary = bundle_ok(&layout, &out, &[]);
        let expect = expect_of(&layout);
        let exe = expect["exe"].as_str().unwrap();
        if let Err(report) = oracle(&py, &out, exe, Some(&layout.join("expect.json"))) {
            panic!("{name}: the oracle rejects the bundle:\n{report}");
        }
        let floor = expect["macos_floor"].as_str().unwrap();
        assert!(
            summary.contains(&format!("requires macOS >= {floor}")),
            "{name}: {summary}"
        );
        // The launcher starts the bundled interpreter, and nothing points at the recording
        // machine's prefix.
        let run = std::fs::read_to_string(out.join("run.sh")).unwrap();
        assert!(run.contains("python/bin/python3.11"), "{name}: {run}");
        assert!(out.join("python/bin/python3.11").is_file(), "{name}");
        // The same recording gives the same bytes.
        let again = work.join("again");
        bundle_ok(&layout, &again, &[]);
        assert_eq!(tree(&out), tree(&again), "{name}: rebuild differs");
    }
}

#[test]
fn framework_builds_keep_their_framework_layout() {
    let py = need!(oracle_python(), "the macOS corpus (corpus/macos/setup.sh)");
    let _ = py;
    for name in ["pyorg", "homebrew"] {
        let out = scratch(&format!("fw-{name}")).join("dist");
        bundle_ok(&corpus().join(name), &out, &[]);
        // The framework dylib, the stub and Python.app's interpreter, as in Versions/3.11.
        for f in [
            "python/Python",
            "python/bin/python3.11",
            "python/Resources/Python.app/Contents/MacOS/Python",
            "python/Resources/Python.app/Contents/Info.plist",
            "python/lib/python3.11/os.py",
        ] {
            assert!(out.join(f).is_file(), "{name}: {f} missing");
        }
        let report = std::fs::read_to_string(out.join("shenzi-manifest.json")).unwrap();
        let root = corpus().join(name).join("root");
        assert!(
            !report.contains(&root.display().to_string()),
            "{name}: the report names host paths under --root"
        );
    }
}

#[test]
fn arch_keeps_one_slice_of_every_fat_file() {
    let py = need!(oracle_python(), "the macOS corpus (corpus/macos/setup.sh)");
    let layout = corpus().join("venv");
    let work = scratch("arch");
    let fat = work.join("fat");
    let thin = work.join("thin");
    bundle_ok(&layout, &fat, &[]);
    bundle_ok(&layout, &thin, &["--arch", "arm64"]);
    let machos = |d: &Path| -> Vec<PathBuf> {
        walkdir::WalkDir::new(d)
            .into_iter()
            .map(|e| e.unwrap().into_path())
            .filter(|p| p.symlink_metadata().unwrap().is_file() && is_macho(p))
            .collect()
    };
    let fat_files = machos(&fat).into_iter().filter(|p| is_fat(p)).count();
    assert!(fat_files > 0, "the venv layout has universal2 files");
    let thin_machos = machos(&thin);
    assert_eq!(thin_machos.len(), machos(&fat).len());
    assert!(
        thin_machos.iter().all(|p| !is_fat(p)),
        "fat files left after --arch arm64"
    );
    let size = |d: &Path| -> u64 { machos(d).iter().map(|p| p.metadata().unwrap().len()).sum() };
    assert!(size(&thin) < size(&fat));
    let expect = layout.join("expect.json");
    if let Err(r) = oracle(
        &py,
        &thin,
        expect_of(&layout)["exe"].as_str().unwrap(),
        Some(&expect),
    ) {
        panic!("thinned bundle:\n{r}");
    }
    // An architecture the interpreter lacks is refused, and nothing is written.
    let none = work.join("none");
    let o = bundle(&layout, &none, &["--arch", "x86_64"]);
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("x86_64"), "{}", text(&o.stderr));
    assert!(!none.exists());
}

#[test]
fn min_macos_names_the_images_that_need_more() {
    need!(oracle_python(), "the macOS corpus (corpus/macos/setup.sh)");
    let layout = corpus().join("pyorg");
    let work = scratch("min-macos");
    let o = bundle(&layout, &work.join("old"), &["--min-macos", "11.0"]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(err.contains("needs macOS 12.3"), "{err}");
    assert!(err.contains("libgfortran.5.dylib"), "{err}");
    assert!(!work.join("old").exists());
    bundle_ok(&layout, &work.join("new"), &["--min-macos", "12.3"]);
    let o = bundle(&layout, &work.join("bad"), &["--min-macos", "twelve"]);
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("--min-macos twelve"));
}

#[test]
fn bad_inputs_fail_clearly_and_leave_nothing() {
    need!(oracle_python(), "the macOS corpus (corpus/macos/setup.sh)");
    let errors = corpus().join("errors");
    let mut seen = 0;
    for e in std::fs::read_dir(&errors).unwrap() {
        let case = e.unwrap().path();
        if !case.join("manifest.json").is_file() {
            continue;
        }
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let expect = expect_of(&case);
        let work = scratch(&format!("err-{name}"));
        let out = work.join("dist");
        let o = bundle(&case, &out, &[]);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{name}: {err}");
        for m in expect["mentions"].as_array().unwrap() {
            assert!(
                err.contains(m.as_str().unwrap()),
                "{name}: no {m} in: {err}"
            );
        }
        assert!(!err.contains("panicked"), "{name}: {err}");
        // No output folder, no temporary folder beside it.
        let left: Vec<_> = std::fs::read_dir(&work).unwrap().collect();
        assert!(left.is_empty(), "{name}: left {left:?}");
        seen += 1;
    }
    assert!(seen >= 3, "expected the error cases of corpus/macos");
}

#[test]
fn compact_bundles_pass_the_oracle() {
    let py = need!(oracle_python(), "the macOS corpus (corpus/macos/setup.sh)");
    let layout = corpus().join("pyorg");
    let out = scratch("compact").join("dist");
    let summary = bundle_ok(&layout, &out, &["--compact"]);
    assert!(out.join("python/lib/python311.zip").is_file(), "{summary}");
    assert!(out.join("python/lib/python3.11/os.py").is_file());
    let expect = layout.join("expect.json");
    if let Err(r) = oracle(
        &py,
        &out,
        expect_of(&layout)["exe"].as_str().unwrap(),
        Some(&expect),
    ) {
        panic!("compact bundle:\n{r}");
    }
}

#[test]
fn the_oracle_rejects_the_unpatched_trees() {
    let py = need!(oracle_python(), "the macOS corpus (corpus/macos/setup.sh)");
    let o = Command::new("bash")
        .arg(root().join("corpus/macos/check.sh"))
        .env("PYTHON", &py)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));
}
