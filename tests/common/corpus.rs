//! Helpers for tests that need no shenzi binary: the workspace root, the ELF corpus, running
//! commands and foreign programs, oracles and skips. Shared by the workspace's tests
//! (`tests/common`) and the ELF crate's own (`elf/tests`, through `#[path]`).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The workspace root (the folder with `corpus/`), from whichever crate's tests run.
pub fn root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .find(|d| d.join("corpus/elf/build.sh").is_file())
        .unwrap_or(here)
        .to_path_buf()
}

/// In CI (`SHENZI_REQUIRE_ORACLES=1`) a missing oracle fails the test instead of skipping it.
pub fn require_oracles() -> bool {
    std::env::var("SHENZI_REQUIRE_ORACLES").is_ok_and(|v| v == "1")
}

/// Skips (or, in CI, fails) the calling test when an oracle is missing: the value inside
/// `Some`, else `return` after a note (a panic under `SHENZI_REQUIRE_ORACLES=1`).
#[macro_export]
macro_rules! need {
    ($value:expr, $what:expr) => {
        match $value {
            Some(v) => v,
            None => {
                if $crate::common::require_oracles() {
                    panic!("required oracle missing: {}", $what);
                }
                eprintln!("skipping: {} is missing", $what);
                return;
            }
        }
    };
}

/// A fresh scratch directory for one test, under this test binary's own folder.
pub fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(env!("CARGO_CRATE_NAME"))
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Bytes as text (lossy).
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A program on PATH.
pub fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

pub fn have(tool: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Returns false (skip) when the tool is missing, or panics when oracles are required.
pub fn oracle(tool: &str) -> bool {
    if have(tool) {
        return true;
    }
    if require_oracles() {
        panic!("oracle `{tool}` is missing and SHENZI_REQUIRE_ORACLES=1");
    }
    eprintln!("skipping: `{tool}` not installed");
    false
}

/// One built corpus variant.
#[derive(Debug, Clone)]
pub struct Variant {
    pub name: String,
    pub arch: String,
    pub runner: Vec<String>,
    pub expected: String,
    pub dir: PathBuf,
}

pub fn corpus_dir() -> PathBuf {
    root().join("target/corpus/elf")
}

/// Builds the ELF corpus once per test process (cached on disk by the manifest's presence).
pub fn corpus() -> &'static [Variant] {
    static CORPUS: OnceLock<Vec<Variant>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let dir = corpus_dir();
        let manifest = dir.join("manifest.tsv");
        let stale = std::fs::metadata(&manifest)
            .and_then(|m| m.modified())
            .ok()
            .zip(
                std::fs::metadata(root().join("corpus/elf/build.sh"))
                    .and_then(|m| m.modified())
                    .ok(),
            )
            .is_none_or(|(built, script)| script > built);
        if stale {
            let lock = dir.with_extension("lock");
            std::fs::create_dir_all(dir.parent().unwrap()).unwrap();
            // Several test binaries may start at once: one builds, the others wait on the lock.
            let status = Command::new("flock")
                .arg(&lock)
                .arg("bash")
                .arg(root().join("corpus/elf/build.sh"))
                .arg(&dir)
                .status()
                .expect("run corpus/elf/build.sh");
            assert!(status.success(), "corpus build failed");
        }
        let text = std::fs::read_to_string(&manifest).expect("corpus manifest");
        text.lines()
            .filter(|l| !l.is_empty())
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                Variant {
                    name: f[0].into(),
                    arch: f[1].into(),
                    runner: f[2].split_whitespace().map(String::from).collect(),
                    expected: f[3].into(),
                    dir: dir.join(f[0]),
                }
            })
            .collect()
    })
}

pub fn variant(name: &str) -> Option<Variant> {
    let v = corpus().iter().find(|v| v.name == name).cloned();
    if v.is_none() {
        if require_oracles() {
            panic!("corpus variant {name} was not built (missing toolchain?) and SHENZI_REQUIRE_ORACLES=1");
        }
        eprintln!("skipping: corpus variant {name} not built");
    }
    v
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Copies a directory tree.
pub fn copy_tree(from: &Path, to: &Path) {
    let st = run(Command::new("cp").arg("-a").arg(from).arg(to));
    assert!(st.status.success(), "cp -a failed: {}", stderr(&st));
}

/// The prefix of binutils for an architecture (`""` for the host).
pub fn binutils_prefix(arch: &str) -> &'static str {
    match arch {
        "aarch64" => "aarch64-linux-gnu-",
        "i686" => "i686-linux-gnu-",
        "ppc64" => "powerpc64-linux-gnu-",
        "ppc" => "powerpc-linux-gnu-",
        "mips" => "mips-linux-gnu-",
        "armhf" => "arm-linux-gnueabihf-",
        "riscv64" => "riscv64-linux-gnu-",
        _ => "",
    }
}

/// Runs `prog` of a variant (through qemu for foreign architectures).
pub fn run_prog(v: &Variant, prog: &Path) -> Output {
    let mut cmd = if v.runner.is_empty() {
        Command::new(prog)
    } else {
        let mut c = Command::new(&v.runner[0]);
        c.args(&v.runner[1..]).arg(prog);
        c
    };
    run(cmd.env_remove("LD_LIBRARY_PATH"))
}

pub fn readelf_d(path: &Path) -> String {
    let o = run(Command::new("readelf").arg("-dW").arg(path));
    assert!(
        o.status.success(),
        "readelf -d failed on {}: {}",
        path.display(),
        stderr(&o)
    );
    stdout(&o)
}
