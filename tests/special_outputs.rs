//! Outputs that are not regular files. A character device or FIFO given as an output is written
//! through (`patchelf --output /dev/null` must not turn `/dev/null` into a file), a directory,
//! a socket or a path in a missing directory is refused, and nothing is ever renamed over, unlinked
//! or chmod'ed but regular files.
//!
//! Special files are made in a private mount namespace, on a tmpfs, never on the host's /dev:
//! each test runs a shell script under `unshare -m --propagation private` that mounts a tmpfs on
//! a scratch folder, makes a character device (`mknod null c 1 3`), a symlink to it, a FIFO and a
//! directory there, runs shenzi against them and records exit codes, messages, node kinds
//! (`stat -c %F`) and what a FIFO's reader got. Needs root and unshare: missing, the tests skip
//! locally and fail when `SHENZI_REQUIRE_ORACLES=1`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// Helpers for the scripts. `$WORK` is the test's scratch folder on the host file system; `$N` is
/// the tmpfs mounted over `$WORK/ns` inside the namespace; `$R` (`$WORK/res`) keeps the results
/// for the test to read afterwards. `$EXT` ends the names of the special files (an archive name
/// must end in `.tar.zst`).
const PRELUDE: &str = r#"
set -u
N="$WORK/ns"
R="$WORK/res"
mkdir -p "$N" "$R"
mount -t tmpfs shenzi-test "$N" || exit 90
mknod "$N/null$EXT" c 1 3
ln -s "null$EXT" "$N/link$EXT"
mkfifo "$N/fifo$EXT"
mkdir "$N/dir$EXT"
echo keep >"$N/dir$EXT/keep"
node() { stat -c '%F %t:%T' "$1"; }
# run CASE OUT: runs the command in $CMD with OUT as $1 and CASE as $2; keeps its exit code,
# stdout and stderr. The timeout ends a run that would wait on a FIFO forever.
run() {
    timeout 300 sh -c "$CMD" sh "$2" "$1" >"$R/$1.out" 2>"$R/$1.err"
    echo $? >"$R/$1.rc"
}
"#;

/// The common cases of a command that writes one file: a regular file (the reference), the
/// device, a symlink to it, the FIFO with a reader, the directory, a path in a missing directory.
const FILE_CASES: &str = r#"
run reg "$N/reg$EXT"
cp "$N/reg$EXT" "$R/reg.bytes"
node "$N/null$EXT" >"$R/null.before"
run null "$N/null$EXT"
node "$N/null$EXT" >"$R/null.after"
run link "$N/link$EXT"
{ node "$N/null$EXT"; stat -c %F "$N/link$EXT"; } >"$R/link.after"
cat "$N/fifo$EXT" >"$R/fifo.bytes" &
reader=$!
run fifo "$N/fifo$EXT"
# The reader ends when shenzi closes the FIFO; one shenzi never opened is stopped here.
i=0
while kill -0 $reader 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
kill $reader 2>/dev/null
wait $reader
node "$N/fifo$EXT" >"$R/fifo.after"
run dir "$N/dir$EXT"
{ node "$N/dir$EXT"; ls -A "$N/dir$EXT"; } >"$R/dir.after"
run missing "$N/missing/out$EXT"
ls -A "$N" >"$R/ls"
"#;

const NULL: &str = "character special file 1:3\n";

/// Root and a working `unshare -m`, or a skip (a failure in CI).
fn namespaces() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let unshare = root
        && Command::new("unshare")
            .args(["-m", "--propagation", "private", "true"])
            .output()
            .is_ok_and(|o| o.status.success());
    if unshare {
        return true;
    }
    let why = if root {
        "`unshare -m` does not work here"
    } else {
        "special files need root (mknod, mount)"
    };
    if require_oracles() {
        panic!("{why} and SHENZI_REQUIRE_ORACLES=1");
    }
    eprintln!("skipping: {why}");
    false
}

/// A fresh scratch folder, with `bin/patchelf` and `bin/install_name_tool` linked to shenzi.
fn scratch(test: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("special_outputs")
        .join(test);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("bin")).unwrap();
    for name in ["patchelf", "install_name_tool"] {
        std::os::unix::fs::symlink(shenzi(), d.join("bin").join(name)).unwrap();
    }
    d
}

/// What one namespace script left in `$WORK/res`.
struct Results {
    res: PathBuf,
}

impl Results {
    fn bytes(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.res.join(name))
            .unwrap_or_else(|e| panic!("{}: {e}", self.res.join(name).display()))
    }
    fn text(&self, name: &str) -> String {
        String::from_utf8_lossy(&self.bytes(name)).into_owned()
    }
    fn rc(&self, case: &str) -> i32 {
        self.text(&format!("{case}.rc")).trim().parse().unwrap()
    }
    fn err(&self, case: &str) -> String {
        self.text(&format!("{case}.err"))
    }
    /// Asserts the exit code of `case`, showing its messages otherwise.
    fn expect_rc(&self, case: &str, rc: i32) {
        assert_eq!(
            self.rc(case),
            rc,
            "case {case}:\nstdout: {}\nstderr: {}",
            self.text(&format!("{case}.out")),
            self.err(case)
        );
    }
    /// Asserts that `case` failed with exit code 1 and a message holding `needle`.
    fn expect_refused(&self, case: &str, needle: &str) {
        self.expect_rc(case, 1);
        let e = self.err(case);
        assert!(
            e.contains(needle),
            "case {case}: expected {needle:?} in:\n{e}"
        );
    }
    /// The sorted lines of a listing.
    fn listing(&self, name: &str) -> Vec<String> {
        let mut v: Vec<String> = self.text(name).lines().map(String::from).collect();
        v.sort();
        v
    }
}

/// Runs `PRELUDE` + `body` as root in a private mount namespace, `cmd` being the command `run`
/// uses.
fn in_namespace(work: &Path, ext: &str, cmd: &str, body: &str) -> Results {
    let o = run(Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c"])
        .arg(format!("{PRELUDE}\n{body}"))
        .env("WORK", work)
        .env("EXT", ext)
        .env("CMD", cmd)
        .env("SHENZI", shenzi())
        .env("BIN", work.join("bin")));
    assert!(
        o.status.success(),
        "namespace script failed ({:?}):\n{}",
        o.status,
        stderr(&o)
    );
    Results {
        res: work.join("res"),
    }
}

/// Checks `FILE_CASES`; `normalize` removes what legitimately differs between two runs.
fn check_file_cases(r: &Results, ext: &str, normalize: &dyn Fn(&[u8]) -> Vec<u8>) {
    r.expect_rc("reg", 0);
    let reference = r.bytes("reg.bytes");
    assert!(!reference.is_empty());

    assert_eq!(r.text("null.before"), NULL);
    r.expect_rc("null", 0);
    assert_eq!(r.text("null.after"), NULL, "the device node is unchanged");

    r.expect_rc("link", 0);
    assert_eq!(
        r.text("link.after"),
        format!("{NULL}symbolic link\n"),
        "a symlink to a device is the device: both stay what they were"
    );

    r.expect_rc("fifo", 0);
    assert_eq!(r.text("fifo.after"), "fifo 0:0\n");
    let got = r.bytes("fifo.bytes");
    assert!(
        normalize(&got) == normalize(&reference),
        "the FIFO's reader got {} bytes, a regular output has {}",
        got.len(),
        reference.len()
    );

    r.expect_refused(
        "dir",
        &format!("dir{ext}: is a directory; the output must be a file"),
    );
    assert_eq!(
        r.text("dir.after"),
        "directory 0:0\nkeep\n",
        "directory untouched"
    );

    r.expect_refused(
        "missing",
        &format!("missing/out{ext}: cannot create: the directory"),
    );
    assert!(r.err("missing").contains("/missing does not exist"));

    let expected: Vec<String> = ["dir", "fifo", "link", "null", "reg"]
        .iter()
        .map(|n| format!("{n}{ext}"))
        .collect();
    assert_eq!(
        r.listing("ls"),
        expected,
        "nothing created, renamed or left behind"
    );
}

fn same(b: &[u8]) -> Vec<u8> {
    b.to_vec()
}

fn macho_input() -> Option<PathBuf> {
    let f = root().join("target/corpus-macho/arm64-libfoo.dylib");
    if f.exists() {
        return Some(f);
    }
    assert!(
        !require_oracles(),
        "{} missing: run corpus/macho/setup.sh",
        f.display()
    );
    eprintln!("skipping: no Mach-O corpus");
    None
}

#[test]
fn patch_output_elf() {
    let Some(v) = variant("pie") else { return };
    if !namespaces() {
        return;
    }
    let work = scratch("patch_elf");
    let input = v.dir.join("lib/libdemo.so");
    let before = std::fs::read(&input).unwrap();
    let cmd = format!(
        r#""$SHENZI" patch --print --rpath /opt/special '{}' --output "$1""#,
        input.display()
    );
    let r = in_namespace(&work, "", &cmd, FILE_CASES);
    check_file_cases(&r, "", &same);
    // The summary is of the bytes written, also when they went into a FIFO.
    assert!(
        r.text("fifo.out").contains("/opt/special"),
        "{}",
        r.text("fifo.out")
    );
    assert_eq!(std::fs::read(&input).unwrap(), before, "input untouched");
}

#[test]
fn patch_output_macho() {
    let Some(input) = macho_input() else { return };
    if !namespaces() {
        return;
    }
    let work = scratch("patch_macho");
    let before = std::fs::read(&input).unwrap();
    let cmd = format!(
        r#""$SHENZI" patch --print --add-rpath @loader_path/special '{}' --output "$1""#,
        input.display()
    );
    let r = in_namespace(&work, "", &cmd, FILE_CASES);
    check_file_cases(&r, "", &same);
    assert!(
        r.text("fifo.out").contains("@loader_path/special"),
        "{}",
        r.text("fifo.out")
    );
    assert_eq!(std::fs::read(&input).unwrap(), before, "input untouched");
}

#[test]
fn patchelf_output() {
    let Some(v) = variant("pie") else { return };
    if !namespaces() {
        return;
    }
    let input = v.dir.join("lib/libdemo.so");
    let work = scratch("patchelf");
    let cmd = format!(
        r#""$BIN/patchelf" --set-rpath /x --output "$1" '{}'"#,
        input.display()
    );
    let r = in_namespace(&work, "", &cmd, FILE_CASES);
    check_file_cases(&r, "", &same);
    assert!(r.err("dir").starts_with("patchelf: "), "{}", r.err("dir"));

    // With nothing to change patchelf still writes the output: the input's bytes, also into a
    // FIFO.
    let work = scratch("patchelf_unchanged");
    let cmd = format!(r#""$BIN/patchelf" --output "$1" '{}'"#, input.display());
    let r = in_namespace(&work, "", &cmd, FILE_CASES);
    check_file_cases(&r, "", &same);
    assert_eq!(r.bytes("fifo.bytes"), std::fs::read(&input).unwrap());
}

/// A stdlib-only application in `work`.
fn write_app(work: &Path) -> PathBuf {
    let app = work.join("app.py");
    std::fs::write(
        &app,
        "import json\nprint(json.dumps({'special': 'outputs'}))\n",
    )
    .unwrap();
    app
}

/// The manifest without what differs from run to run (process ids, the observer's folder).
fn stable_manifest(b: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(b);
    let mut out = String::new();
    for line in text.lines() {
        let key = line.trim_start();
        if ["\"pid\":", "\"ppid\":", "\"sitecustomize\":"]
            .iter()
            .any(|k| key.starts_with(k))
        {
            out.push_str("(varies)\n");
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out.into_bytes()
}

#[test]
fn observe_out() {
    if !oracle("python3") || !namespaces() {
        return;
    }
    let work = scratch("observe");
    let app = write_app(&work);
    let cmd = format!(
        r#"cd "$WORK" && "$SHENZI" observe --python python3 --out "$1" '{}'"#,
        app.display()
    );
    let r = in_namespace(&work, "", &cmd, FILE_CASES);
    check_file_cases(&r, "", &stable_manifest);
    assert!(
        r.text("null.out").contains("special"),
        "the application ran"
    );
    // A refused output is refused before the application runs.
    assert!(
        !r.text("dir.out").contains("special"),
        "{}",
        r.text("dir.out")
    );
}

/// Records a manifest of the stdlib-only app for `--manifest`.
fn record_manifest(work: &Path) -> PathBuf {
    let app = write_app(work);
    let m = work.join("m.json");
    let o = run(Command::new(shenzi())
        .args(["observe", "--python", "python3", "--out"])
        .arg(&m)
        .arg(&app)
        .current_dir(work));
    assert!(o.status.success(), "shenzi observe: {}", stderr(&o));
    m
}

#[test]
fn bundle_archive() {
    if !oracle("python3") || !namespaces() {
        return;
    }
    let work = scratch("bundle_archive");
    record_manifest(&work);
    // Each case builds its folder in o-CASE on the host; the archive goes to the special file.
    let cmd = r#"SOURCE_DATE_EPOCH=1700000000 "$SHENZI" bundle --manifest "$WORK/m.json" -o "$WORK/o-$2/dist" --archive "$1""#;
    let r = in_namespace(&work, ".tar.zst", cmd, FILE_CASES);
    check_file_cases(&r, ".tar.zst", &same);
    for case in ["reg", "null", "link", "fifo"] {
        assert!(
            work.join(format!("o-{case}/dist/run.sh")).exists(),
            "{case}"
        );
    }
    for case in ["dir", "missing"] {
        assert!(
            !work.join(format!("o-{case}")).exists(),
            "a refused archive is refused before anything is built ({case})"
        );
    }
    let _ = std::fs::remove_dir_all(&work);
}

#[test]
fn bundle_folder_that_is_not_a_directory_is_never_replaced() {
    if !oracle("python3") || !namespaces() {
        return;
    }
    let work = scratch("bundle_folder");
    record_manifest(&work);
    let cmd = r#"case "$2" in *-force) f=--force ;; *) f= ;; esac
"$SHENZI" bundle --manifest "$WORK/m.json" -o "$1" $f"#;
    let body = r#"
echo original >"$N/reg"
for f in "" -force; do
    for t in null link fifo reg; do run "$t$f" "$N/$t"; done
done
run dir "$N/dir"
run under-device "$N/null/dist"
{ node "$N/null"; stat -c %F "$N/link"; node "$N/fifo"; cat "$N/reg"; node "$N/dir"; ls -A "$N/dir"; } >"$R/after"
ls -A "$N" >"$R/ls"
"#;
    let r = in_namespace(&work, "", cmd, body);
    for f in ["", "-force"] {
        for (t, kind) in [
            ("null", "a character device"),
            ("link", "a character device"),
            ("fifo", "a FIFO"),
            ("reg", "a regular file"),
        ] {
            r.expect_refused(
                &format!("{t}{f}"),
                &format!("/{t}: is {kind}, not a directory; the bundle output must be a directory"),
            );
            assert!(r.err(&format!("{t}{f}")).contains("even with --force"));
        }
    }
    r.expect_refused("dir", "exists; pass --force to replace it");
    r.expect_refused("under-device", "/null/dist: cannot create:");
    assert_eq!(
        r.text("after"),
        format!("{NULL}symbolic link\nfifo 0:0\noriginal\ndirectory 0:0\nkeep\n"),
        "every node is what it was"
    );
    assert_eq!(
        r.listing("ls"),
        ["dir", "fifo", "link", "null", "reg"],
        "no build folder left behind"
    );
}

#[test]
fn special_inputs_are_refused_and_left_alone() {
    if !namespaces() {
        return;
    }
    let work = scratch("inputs");
    // Each case names the front end and the node: `patch-fifo`, `int-null`, ...
    let cmd = r#"case "$2" in
    patch-*) "$SHENZI" patch --rpath /x "$1" ;;
    patchelf-*) "$BIN/patchelf" --set-rpath /x "$1" ;;
    int-*) "$BIN/install_name_tool" -id x "$1" ;;
    sign-*) "$SHENZI" codesign --sign "$1" ;;
esac"#;
    let body = r#"
for tool in patch patchelf int sign; do
    for t in null link fifo dir; do run "$tool-$t" "$N/$t"; done
done
{ node "$N/null"; stat -c %F "$N/link"; node "$N/fifo"; node "$N/dir"; ls -A "$N/dir"; } >"$R/after"
ls -A "$N" >"$R/ls"
"#;
    let r = in_namespace(&work, "", cmd, body);
    for (t, kind) in [
        ("null", "a character device"),
        ("link", "a character device"),
        ("fifo", "a FIFO"),
        ("dir", "a directory"),
    ] {
        let not_regular = format!("is {kind}, not a regular file");
        r.expect_refused(&format!("patch-{t}"), &not_regular);
        r.expect_refused(&format!("sign-{t}"), &not_regular);
        r.expect_refused(&format!("patchelf-{t}"), "getting info about");
        r.expect_refused(&format!("int-{t}"), "can't open file");
    }
    assert_eq!(
        r.text("after"),
        format!("{NULL}symbolic link\nfifo 0:0\ndirectory 0:0\nkeep\n")
    );
    assert_eq!(r.listing("ls"), ["dir", "fifo", "link", "null"]);
}
