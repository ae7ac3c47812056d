//! Every corpus variant, every operation: the patched program runs and prints what it should
//! (natively or under qemu-user), still runs after `strip`, and readelf and patchelf see exactly
//! what was asked.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

const PLACEHOLDER: &str = "/nonexistent/placeholder/directory/that/makes/room/for/in/place/edits";

fn long_rpath(tail: &str) -> String {
    // About 4 KiB of directories that do not exist, then the one that matters.
    let mut s = String::new();
    let mut i = 0;
    while s.len() < 4096 {
        s.push_str(&format!("/opt/shenzi-test/long-rpath-entry-{i:04}:"));
        i += 1;
    }
    s.push_str(tail);
    s
}

struct Case {
    name: &'static str,
    /// Arguments for `shenzi patch`, relative to the variant folder.
    args: Vec<String>,
    /// File to patch, relative to the variant folder.
    target: &'static str,
    expect_out: String,
    in_place: bool,
    /// (readelf -d tag, value) pairs that must be present afterwards, checked on `target`.
    expect_dyn: Vec<(&'static str, String)>,
}

fn cases(v: &Variant, loader_copy: &Path) -> Vec<Case> {
    let plain = v.expected.clone();
    let long = long_rpath("$ORIGIN/lib");
    vec![
        Case {
            name: "short-rpath",
            args: vec!["--rpath".into(), "$ORIGIN/lib".into()],
            target: "prog",
            expect_out: plain.clone(),
            in_place: true,
            expect_dyn: vec![("RUNPATH", "$ORIGIN/lib".into())],
        },
        Case {
            name: "long-rpath",
            args: vec!["--rpath".into(), long.clone()],
            target: "prog",
            expect_out: plain.clone(),
            in_place: false,
            expect_dyn: vec![("RUNPATH", long.clone())],
        },
        Case {
            name: "add-needed",
            args: vec!["--add-needed".into(), "libextra.so".into()],
            target: "prog",
            expect_out: format!("extra:loaded\n{plain}"),
            in_place: false,
            expect_dyn: vec![
                ("NEEDED", "libextra.so".into()),
                ("NEEDED", "libdemo.so".into()),
            ],
        },
        Case {
            name: "replace-needed",
            args: vec![
                "--replace-needed".into(),
                "libdemo.so".into(),
                "libalt.so".into(),
            ],
            target: "prog",
            expect_out: plain.replace("demo:42", "demo:43"),
            in_place: false,
            expect_dyn: vec![("NEEDED", "libalt.so".into())],
        },
        Case {
            name: "set-interpreter",
            args: vec![
                "--set-interpreter".into(),
                loader_copy.display().to_string(),
            ],
            target: "prog",
            expect_out: plain.clone(),
            in_place: false,
            expect_dyn: vec![],
        },
        Case {
            name: "rpath-and-needed-in-one-call",
            args: vec![
                "--rpath".into(),
                "$ORIGIN/lib".into(),
                "--add-needed".into(),
                "libextra.so".into(),
            ],
            target: "prog",
            expect_out: format!("extra:loaded\n{plain}"),
            in_place: false,
            expect_dyn: vec![
                ("RUNPATH", "$ORIGIN/lib".into()),
                ("NEEDED", "libextra.so".into()),
            ],
        },
        Case {
            name: "library-edits",
            args: vec![
                "--rpath".into(),
                long_rpath("$ORIGIN"),
                "--add-needed".into(),
                "libextra.so".into(),
                "--set-soname".into(),
                "libdemo-renamed.so".into(),
            ],
            target: "lib/libdemo.so",
            expect_out: format!("extra:loaded\n{plain}"),
            in_place: false,
            expect_dyn: vec![
                ("SONAME", "libdemo-renamed.so".into()),
                ("NEEDED", "libextra.so".into()),
            ],
        },
    ]
}

/// The loader named by the program, copied to a longer path (in the sysroot for qemu).
fn copy_loader(v: &Variant, work: &Path) -> PathBuf {
    let interp = readelf_interp(&v.dir.join("prog"));
    let source = match v.runner.iter().position(|a| a == "-L") {
        Some(i) => PathBuf::from(format!("{}{}", v.runner[i + 1], interp)),
        None => PathBuf::from(&interp),
    };
    let dir = work.join("a-much-longer-directory-for-the-copied-program-interpreter");
    std::fs::create_dir_all(&dir).unwrap();
    let dest = dir.join(Path::new(&interp).file_name().unwrap());
    std::fs::copy(&source, &dest)
        .unwrap_or_else(|e| panic!("copy loader {}: {e}", source.display()));
    dest
}

fn readelf_interp(p: &Path) -> String {
    let o = run(Command::new("readelf").arg("-lW").arg(p));
    let text = stdout(&o);
    let line = text
        .lines()
        .find(|l| l.contains("Requesting program interpreter"))
        .expect("interp");
    line.split(": ")
        .nth(1)
        .unwrap()
        .trim_end_matches(']')
        .to_string()
}

/// `readelf -d` entries as (tag, value) pairs.
fn dyn_entries(p: &Path) -> Vec<(String, String)> {
    readelf_d(p)
        .lines()
        .filter_map(|l| {
            let open = l.find('(')?;
            let close = l.find(')')?;
            let tag = l[open + 1..close].to_string();
            let val = l
                .find('[')
                .map(|s| l[s + 1..l.rfind(']').unwrap_or(l.len())].to_string())
                .unwrap_or_default();
            Some((tag, val))
        })
        .collect()
}

fn elflint_clean(p: &Path) -> bool {
    run(Command::new("eu-elflint").arg("--gnu-ld").arg(p))
        .status
        .success()
}

fn check_variant(name: &str) {
    if !oracle("readelf") {
        return;
    }
    let Some(v) = variant(name) else { return };
    let strip = format!("{}strip", binutils_prefix(&v.arch));
    let have_strip = oracle(&strip);
    let have_patchelf = oracle("patchelf");
    let have_elflint = oracle("eu-elflint");
    if let Some(q) = v.runner.first() {
        if !oracle(q) {
            return;
        }
    }
    // The untouched program runs.
    let o = run_prog(&v, &v.dir.join("prog"));
    assert_eq!(
        stdout(&o).trim(),
        v.expected,
        "{name}: unpatched program: {}",
        stderr(&o)
    );

    let scratch = tempfile::tempdir().unwrap();
    let loader = copy_loader(&v, scratch.path());
    for case in cases(&v, &loader) {
        let work = scratch.path().join(case.name);
        copy_tree(&v.dir, &work);
        let target = work.join(case.target);
        let before = std::fs::read(&target).unwrap();
        let mut args: Vec<String> = vec!["patch".into()];
        args.extend(case.args.iter().cloned());
        args.push(target.display().to_string());
        let o = run(Command::new(shenzi()).args(&args));
        let ctx = format!("{name}/{}", case.name);
        assert!(o.status.success(), "{ctx}: shenzi failed: {}", stderr(&o));
        let after = std::fs::read(&target).unwrap();
        if case.in_place {
            assert_eq!(
                after.len(),
                before.len(),
                "{ctx}: an edit that fits must not change the size"
            );
        }

        // It runs and prints what it should.
        let out = run_prog(&v, &work.join("prog"));
        assert_eq!(
            stdout(&out).trim(),
            case.expect_out,
            "{ctx}: patched program output; stderr: {}",
            stderr(&out)
        );

        // readelf sees what was asked.
        let entries = dyn_entries(&target);
        for (tag, val) in &case.expect_dyn {
            assert!(
                entries.iter().any(|(t, x)| t == tag && x == val),
                "{ctx}: readelf -d lacks {tag} [{}]: {entries:?}",
                &val[..val.len().min(80)]
            );
        }
        if case.name == "set-interpreter" {
            assert_eq!(
                readelf_interp(&target),
                loader.display().to_string(),
                "{ctx}: interpreter"
            );
        }
        // An independent parser (the object crate) reads the same.
        let seen = object_elf(&after);
        let of = |tag: &str| {
            entries
                .iter()
                .find(|(t, _)| t == tag)
                .map(|(_, v)| v.clone())
        };
        let needed: Vec<String> = entries
            .iter()
            .filter(|(t, _)| t == "NEEDED")
            .map(|(_, v)| v.clone())
            .collect();
        assert_eq!(seen.needed, needed, "{ctx}: object's DT_NEEDED");
        assert_eq!(seen.runpath, of("RUNPATH"), "{ctx}: object's DT_RUNPATH");
        assert_eq!(seen.rpath, of("RPATH"), "{ctx}: object's DT_RPATH");
        assert_eq!(seen.soname, of("SONAME"), "{ctx}: object's DT_SONAME");
        if case.name == "set-interpreter" {
            assert_eq!(seen.interpreter, Some(loader.display().to_string()));
        }
        // patchelf agrees.
        if have_patchelf {
            let want_rpath = entries
                .iter()
                .find(|(t, _)| t == "RUNPATH")
                .or(entries.iter().find(|(t, _)| t == "RPATH"));
            let pr = run(Command::new("patchelf").arg("--print-rpath").arg(&target));
            assert!(
                pr.status.success(),
                "{ctx}: patchelf cannot read the output: {}",
                stderr(&pr)
            );
            assert_eq!(
                stdout(&pr).trim_end_matches('\n'),
                want_rpath.map_or("", |(_, v)| v.as_str()),
                "{ctx}: patchelf --print-rpath"
            );
            let pn = run(Command::new("patchelf").arg("--print-needed").arg(&target));
            let needed: Vec<&str> = entries
                .iter()
                .filter(|(t, _)| t == "NEEDED")
                .map(|(_, v)| v.as_str())
                .collect();
            assert_eq!(
                stdout(&pn).lines().collect::<Vec<_>>(),
                needed,
                "{ctx}: patchelf --print-needed"
            );
        }
        // elfutils' strict checker finds nothing it did not already find in the input.
        if have_elflint && elflint_clean(&v.dir.join(case.target)) {
            let o = run(Command::new("eu-elflint").arg("--gnu-ld").arg(&target));
            assert!(
                o.status.success(),
                "{ctx}: eu-elflint: {}{}",
                stdout(&o),
                stderr(&o)
            );
        }
        // strip keeps it working.
        if have_strip {
            let stripped = work.join(format!("{}.stripped", case.target));
            let s = run(Command::new(&strip).arg("-o").arg(&stripped).arg(&target));
            assert!(s.status.success(), "{ctx}: strip failed: {}", stderr(&s));
            std::fs::rename(&stripped, &target).unwrap();
            let out = run_prog(&v, &work.join("prog"));
            assert_eq!(
                stdout(&out).trim(),
                case.expect_out,
                "{ctx}: after strip; stderr: {}",
                stderr(&out)
            );
        }
    }
}

macro_rules! variant_tests {
    ($($test:ident => $name:literal),* $(,)?) => { $( #[test] fn $test() { check_variant($name) } )* };
}

variant_tests!(
    pie => "pie", nopie => "nopie", rpath => "rpath", nopie_rpath => "nopie-rpath",
    sepcode => "sepcode", noseparate => "noseparate", sysv => "sysv", gnuhash => "gnuhash",
    bothhash => "bothhash", norelro => "norelro", relro_now => "relro-now", packrel => "packrel",
    page64k => "page64k", cxx => "cxx", nopie_cxx => "nopie-cxx", lld => "lld",
    lld_nopie => "lld-nopie", lld_cxx => "lld-cxx", aarch64 => "aarch64",
    aarch64_cxx => "aarch64-cxx", i686 => "i686", i686_nopie => "i686-nopie", ppc64 => "ppc64",
    ppc => "ppc", mips => "mips", armhf => "armhf", riscv64 => "riscv64",
);

/// Alternating long and short rpaths 50 times keeps the file within one page set of the first
/// growth, and the program still runs.
fn repeated(name: &str, target_rel: &str) {
    let Some(v) = variant(name) else { return };
    let scratch = tempfile::tempdir().unwrap();
    let work = scratch.path().join("w");
    copy_tree(&v.dir, &work);
    let target = work.join(target_rel);
    let page: u64 = if matches!(v.arch.as_str(), "aarch64" | "ppc64") {
        0x10000
    } else {
        0x1000
    };
    let tail = if target_rel == "prog" {
        "$ORIGIN/lib"
    } else {
        "$ORIGIN"
    };
    let mut first_growth = None;
    for i in 0..50 {
        let rp = match i % 4 {
            0 => long_rpath(tail),
            1 => tail.to_string(),
            2 => format!("{}:{}", long_rpath("/x"), tail),
            _ => format!("/short/{i}:{tail}"),
        };
        let o = shenzi_run(&["patch", "--rpath", &rp, target.to_str().unwrap()]);
        assert!(o.status.success(), "{name} edit {i}: {}", stderr(&o));
        let size = std::fs::metadata(&target).unwrap().len();
        let first = *first_growth.get_or_insert(size);
        assert!(
            size <= first + page,
            "{name} edit {i}: size {size} grew past {first} + one page {page}"
        );
    }
    let out = run_prog(&v, &work.join("prog"));
    assert_eq!(
        stdout(&out).trim(),
        v.expected,
        "{name}: after 50 edits: {}",
        stderr(&out)
    );
}

#[test]
fn repeated_edits_stay_bounded_pie() {
    repeated("pie", "prog");
}
#[test]
fn repeated_edits_stay_bounded_nopie() {
    repeated("nopie", "prog");
}
#[test]
fn repeated_edits_stay_bounded_library() {
    repeated("pie", "lib/libdemo.so");
}
#[test]
fn repeated_edits_stay_bounded_aarch64() {
    repeated("aarch64", "prog");
}
#[test]
fn repeated_edits_stay_bounded_ppc64() {
    repeated("ppc64", "prog");
}
#[test]
fn repeated_edits_stay_bounded_i686() {
    repeated("i686", "prog");
}
#[test]
fn repeated_edits_stay_bounded_mips() {
    repeated("mips", "prog");
}
#[test]
fn repeated_edits_stay_bounded_ppc() {
    repeated("ppc", "prog");
}

/// An edit that fits changes only bytes inside .dynstr and .dynamic.
#[test]
fn in_place_edit_touches_only_dynamic_data() {
    let Some(v) = variant("pie") else { return };
    let scratch = tempfile::tempdir().unwrap();
    let f = scratch.path().join("prog");
    std::fs::copy(v.dir.join("prog"), &f).unwrap();
    let before = std::fs::read(&f).unwrap();
    let o = shenzi_run(&[
        "patch",
        "--rpath",
        "$ORIGIN/lib",
        "--replace-needed",
        "libm.so.6",
        "libm.so.6",
        f.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let after = std::fs::read(&f).unwrap();
    assert_eq!(before.len(), after.len());
    let sections = stdout(&run(Command::new("readelf").arg("-SW").arg(&f)));
    let range = |name: &str| -> (usize, usize) {
        let l = sections
            .lines()
            .find(|l| l.contains(&format!(" {name} ")))
            .unwrap();
        let f: Vec<&str> = l[l.find(name).unwrap()..].split_whitespace().collect();
        let off = usize::from_str_radix(f[3], 16).unwrap();
        let size = usize::from_str_radix(f[4], 16).unwrap();
        (off, off + size)
    };
    let (dynstr, dynamic) = (range(".dynstr"), range(".dynamic"));
    let changed: Vec<usize> = (0..before.len())
        .filter(|&i| before[i] != after[i])
        .collect();
    assert!(!changed.is_empty(), "nothing changed");
    for i in changed {
        let inside = (dynstr.0..dynstr.1).contains(&i) || (dynamic.0..dynamic.1).contains(&i);
        assert!(
            inside,
            "byte {i:#x} changed outside .dynstr {dynstr:x?} and .dynamic {dynamic:x?}"
        );
    }
    assert!(
        !String::from_utf8_lossy(&after).contains(PLACEHOLDER),
        "the old rpath string is still in the file"
    );
}

/// A static PIE relocates itself through _DYNAMIC: moving .dynamic is refused, the file untouched.
#[test]
fn static_pie_refuses_to_move_dynamic() {
    let path = corpus_dir().join("static-pie");
    corpus();
    if !path.exists() {
        assert!(!require_oracles(), "static-pie was not built");
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let f = scratch.path().join("static-pie");
    std::fs::copy(&path, &f).unwrap();
    let before = std::fs::read(&f).unwrap();
    let mut args = vec!["patch".to_string()];
    for i in 0..12 {
        args.push("--add-needed".into());
        args.push(format!("libnothing{i}.so"));
    }
    args.push(f.display().to_string());
    let o = run(Command::new(shenzi()).args(&args));
    assert!(
        !o.status.success(),
        "moving .dynamic of a static PIE must be refused"
    );
    assert!(stderr(&o).contains("static PIE"), "message: {}", stderr(&o));
    assert_eq!(std::fs::read(&f).unwrap(), before, "file changed");
    let out = run(&mut Command::new(&f));
    assert_eq!(stdout(&out).trim(), "static:ok");

    // An rpath would make its self-relocation abort: refused.
    let o = shenzi_run(&["patch", "--rpath", "/x", f.to_str().unwrap()]);
    assert!(
        !o.status.success() && stderr(&o).contains("static PIE"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(&f).unwrap(), before, "file changed");
    // Growth that leaves .dynamic in place is fine: the program still runs.
    let o = shenzi_run(&[
        "patch",
        "--set-soname",
        "libsoname-longer-than-any-free-room.so",
        f.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        std::fs::read(&f).unwrap().len() > before.len(),
        "expected growth"
    );
    let out = run(&mut Command::new(&f));
    assert_eq!(
        stdout(&out).trim(),
        "static:ok",
        "after growth: {}",
        stderr(&out)
    );
}

/// `--no-grow` refuses an edit that does not fit, leaving the file byte-identical.
#[test]
fn no_grow_refuses_and_leaves_file_unchanged() {
    let Some(v) = variant("pie") else { return };
    let scratch = tempfile::tempdir().unwrap();
    let f = scratch.path().join("prog");
    std::fs::copy(v.dir.join("prog"), &f).unwrap();
    let before = std::fs::read(&f).unwrap();
    let o = shenzi_run(&[
        "patch",
        "--no-grow",
        "--rpath",
        &long_rpath("$ORIGIN/lib"),
        f.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("does not fit"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(f.to_str().unwrap()),
        "message names the file: {}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(&f).unwrap(), before);
}

/// `--dry-run` prints the plan and writes nothing; `--json` reports exactly what was asked.
#[test]
fn dry_run_and_json() {
    let Some(v) = variant("pie") else { return };
    let scratch = tempfile::tempdir().unwrap();
    let f = scratch.path().join("prog");
    std::fs::copy(v.dir.join("prog"), &f).unwrap();
    let before = std::fs::read(&f).unwrap();
    let long = long_rpath("$ORIGIN/lib");
    let o = shenzi_run(&["patch", "--dry-run", "--rpath", &long, f.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("grow"), "plan: {}", stdout(&o));
    assert_eq!(
        std::fs::read(&f).unwrap(),
        before,
        "--dry-run wrote the file"
    );
    let o = shenzi_run(&[
        "patch",
        "--json",
        "--rpath",
        "$ORIGIN/lib",
        "--add-needed",
        "libextra.so",
        f.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(j["runpath"], serde_json::json!(["$ORIGIN/lib"]));
    assert_eq!(j["needed"][0], "libextra.so");
    assert_eq!(j["rpath"], serde_json::Value::Null);
}

/// `--output` writes a new file and leaves the input alone; a symlink argument edits its target.
#[test]
fn output_and_symlink() {
    let Some(v) = variant("pie") else { return };
    let scratch = tempfile::tempdir().unwrap();
    let f = scratch.path().join("prog");
    std::fs::copy(v.dir.join("prog"), &f).unwrap();
    let before = std::fs::read(&f).unwrap();
    let out = scratch.path().join("out");
    let o = shenzi_run(&[
        "patch",
        "--rpath",
        "/x",
        "--output",
        out.to_str().unwrap(),
        f.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(&f).unwrap(), before);
    assert!(readelf_d(&out).contains("[/x]"));
    let link = scratch.path().join("link");
    std::os::unix::fs::symlink(&f, &link).unwrap();
    let o = shenzi_run(&[
        "patch",
        "--rpath",
        &long_rpath("/y"),
        link.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link was replaced"
    );
    assert!(readelf_d(&f).contains("/y]"));
}

/// Concurrent edits of one file take turns: the file ends valid, holding one of the requests.
#[test]
fn concurrent_edits_of_one_file() {
    let Some(v) = variant("pie") else { return };
    let scratch = tempfile::tempdir().unwrap();
    let work = scratch.path().join("w");
    copy_tree(&v.dir, &work);
    let prog = work.join("prog");
    let a = long_rpath("$ORIGIN/lib");
    let b = "$ORIGIN/lib".to_string();
    let children: Vec<_> = (0..16)
        .map(|i| {
            let rp = if i % 2 == 0 { &a } else { &b };
            Command::new(shenzi())
                .args(["patch", "--rpath", rp])
                .arg(&prog)
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let out = run_prog(&v, &prog);
    assert_eq!(stdout(&out).trim(), v.expected, "{}", stderr(&out));
    let d = readelf_d(&prog);
    assert!(
        d.contains(&format!("[{a}]")) || d.contains(&format!("[{b}]")),
        "{d}"
    );
    let left: Vec<_> = std::fs::read_dir(&work)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// A file the user may not write gives a clear error naming it, and stays as it was.
#[test]
fn read_only_file_gives_a_clear_error() {
    use std::os::unix::fs::PermissionsExt;
    let Some(v) = variant("pie") else { return };
    let scratch = tempfile::tempdir().unwrap();
    std::fs::set_permissions(scratch.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let f = scratch.path().join("prog");
    std::fs::copy(v.dir.join("prog"), &f).unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o444)).unwrap();
    let before = std::fs::read(&f).unwrap();
    // Root may write anything: run as nobody, from a copy of the binary nobody can reach.
    let exe = scratch.path().join("shenzi");
    std::fs::copy(shenzi(), &exe).unwrap();
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let mut cmd = if root {
        if !oracle("setpriv") {
            return;
        }
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&exe);
        c
    } else {
        Command::new(&exe)
    };
    let o = run(cmd.args(["patch", "--rpath", "/new"]).arg(&f));
    assert_eq!(o.status.code(), Some(1), "stderr: {}", stderr(&o));
    let msg = stderr(&o);
    assert!(
        msg.contains(f.to_str().unwrap()) && msg.contains("Permission denied"),
        "{msg}"
    );
    assert_eq!(std::fs::read(&f).unwrap(), before);
    let names: Vec<_> = std::fs::read_dir(scratch.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

/// `--shrink-rpath` keeps relative entries and the directories that hold a needed library, as
/// patchelf does; `--allowed-rpath-prefixes` drops absolute entries outside the prefixes.
#[test]
fn shrink_rpath_matches_patchelf() {
    let Some(v) = variant("pie") else { return };
    if !oracle("patchelf") {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let work = scratch.path().join("w");
    copy_tree(&v.dir, &work);
    let lib = work.join("lib");
    let system = ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu"]
        .into_iter()
        .find(|d| Path::new(d).join("libm.so.6").exists())
        .expect("libm.so.6");
    let rpath = format!(
        "$ORIGIN/lib:/nonexistent:{}:{system}:/tmp:{}",
        lib.display(),
        lib.display()
    );
    for allowed in [None, Some(work.display().to_string())] {
        let (a, b) = (work.join("ours"), work.join("theirs"));
        for f in [&a, &b] {
            std::fs::copy(work.join("prog"), f).unwrap();
            let o = shenzi_run(&["patch", "--rpath", &rpath, f.to_str().unwrap()]);
            assert!(o.status.success());
        }
        let mut ours = vec!["patch".to_string(), "--shrink-rpath".into()];
        let mut theirs = Command::new("patchelf");
        theirs.arg("--shrink-rpath");
        if let Some(p) = &allowed {
            ours.extend(["--allowed-rpath-prefixes".into(), p.clone()]);
            theirs.args(["--allowed-rpath-prefixes", p]);
        }
        ours.push(a.display().to_string());
        assert!(run(Command::new(shenzi()).args(&ours)).status.success());
        assert!(run(theirs.arg(&b)).status.success());
        let print = |f: &Path| stdout(&run(Command::new("patchelf").arg("--print-rpath").arg(f)));
        let got = print(&a);
        assert_eq!(got, print(&b), "allowed {allowed:?}");
        let want = match &allowed {
            None => format!("$ORIGIN/lib:{}:{system}\n", lib.display()),
            Some(_) => format!("$ORIGIN/lib:{}\n", lib.display()),
        };
        assert_eq!(got, want);
    }
}

/// The dynamic loader relocates itself like a static PIE: an rpath is refused, growth that keeps
/// .dynamic in place leaves it working.
#[test]
fn dynamic_loader_is_treated_as_self_relocating() {
    let Some(v) = variant("pie") else { return };
    if !oracle("patchelf") {
        return;
    }
    let interp = readelf_interp(&v.dir.join("prog"));
    let scratch = tempfile::tempdir().unwrap();
    let ld = scratch.path().join("ld.so");
    std::fs::copy(&interp, &ld).unwrap();
    let before = std::fs::read(&ld).unwrap();
    let o = shenzi_run(&["patch", "--rpath", "/x", ld.to_str().unwrap()]);
    assert!(
        !o.status.success() && stderr(&o).contains("dynamic loader"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(&ld).unwrap(), before);
    let o = shenzi_run(&[
        "patch",
        "--set-soname",
        "ld-renamed-with-a-name-that-cannot-fit.so.2",
        ld.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(Command::new(&ld).arg("--version"));
    assert!(
        o.status.success() && stdout(&o).contains("ld.so"),
        "{}{}",
        stdout(&o),
        stderr(&o)
    );
    // Back to its own name (libc needs it by that name), the grown loader still loads a program.
    let soname = stdout(&run(Command::new("patchelf")
        .arg("--print-soname")
        .arg(&interp)));
    let o = shenzi_run(&["patch", "--set-soname", soname.trim(), ld.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        std::fs::read(&ld).unwrap().len() > before.len(),
        "the loader did not grow"
    );
    let o = run(Command::new(&ld)
        .arg(v.dir.join("prog"))
        .env("LD_LIBRARY_PATH", v.dir.join("lib")));
    assert_eq!(
        stdout(&o).trim(),
        v.expected,
        "{:?} {}",
        o.status,
        stderr(&o)
    );
}
