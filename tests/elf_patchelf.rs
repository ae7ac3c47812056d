//! The drop-in `patchelf`: same print output and exit status as the real patchelf on the corpus,
//! edits that patchelf agrees with, `--version`, `@file` arguments, argv[0] dispatch.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

const PRINTS: [&str; 6] = [
    "--print-interpreter",
    "--print-os-abi",
    "--print-soname",
    "--print-rpath",
    "--print-needed",
    "--print-execstack",
];

fn ours(args: &[&str], file: &Path) -> std::process::Output {
    run(Command::new(shenzi()).arg("patchelf").args(args).arg(file))
}

#[test]
fn print_output_matches_real_patchelf() {
    if !oracle("patchelf") {
        return;
    }
    let mut files = Vec::new();
    for name in [
        "pie", "rpath", "nopie", "cxx", "lld", "i686", "ppc64", "aarch64",
    ] {
        if let Some(v) = variant(name) {
            files.push(v.dir.join("prog"));
            files.push(v.dir.join("lib/libdemo.so"));
        }
    }
    let mut compared = 0;
    for f in &files {
        for op in PRINTS {
            let theirs = run(Command::new("patchelf").arg(op).arg(f));
            let mine = ours(&[op], f);
            if !theirs.status.success() && stderr(&theirs).contains("getting info about '--") {
                continue; // an option newer than the installed patchelf
            }
            assert_eq!(
                mine.status.success(),
                theirs.status.success(),
                "{op} {}: exit status; ours: {}",
                f.display(),
                stderr(&mine)
            );
            if theirs.status.success() && !stdout(&theirs).contains(&f.display().to_string()) {
                assert_eq!(stdout(&mine), stdout(&theirs), "{op} {}", f.display());
                compared += 1;
            }
        }
    }
    assert!(compared > 20, "only {compared} comparisons");
}

#[test]
fn edits_agree_with_real_patchelf_and_run() {
    if !oracle("patchelf") {
        return;
    }
    let Some(v) = variant("pie") else { return };
    let scratch = tempfile::tempdir().unwrap();
    let work = scratch.path().join("w");
    copy_tree(&v.dir, &work);
    let prog = work.join("prog");
    // The combination patchelf 0.14.3 gets wrong (it writes RUNPATH "libm.so.6").
    let o = ours(
        &["--set-rpath", "$ORIGIN/lib", "--add-needed", "libextra.so"],
        &prog,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let rp = run(Command::new("patchelf").arg("--print-rpath").arg(&prog));
    assert_eq!(stdout(&rp), "$ORIGIN/lib\n");
    let nd = run(Command::new("patchelf").arg("--print-needed").arg(&prog));
    assert_eq!(
        stdout(&nd),
        "libextra.so\nlibdemo.so\nlibm.so.6\nlibc.so.6\n"
    );
    let out = run_prog(&v, &prog);
    assert_eq!(stdout(&out).trim(), format!("extra:loaded\n{}", v.expected));

    // --remove-needed, --replace-needed, --set-soname and --print-soname on the library.
    let lib = work.join("lib/libdemo.so");
    let o = ours(&["--set-soname", "libdemo.so.1", "--print-soname"], &lib);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "libdemo.so\n", "prints show the file as it was");
    let so = run(Command::new("patchelf").arg("--print-soname").arg(&lib));
    assert_eq!(stdout(&so), "libdemo.so.1\n");
    let o = ours(
        &[
            "--remove-needed",
            "libextra.so",
            "--replace-needed",
            "libdemo.so",
            "libalt.so",
        ],
        &prog,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let nd = run(Command::new("patchelf").arg("--print-needed").arg(&prog));
    assert_eq!(stdout(&nd), "libalt.so\nlibm.so.6\nlibc.so.6\n");
    assert_eq!(
        stdout(&run_prog(&v, &prog)).trim(),
        v.expected.replace("demo:42", "demo:43")
    );
}

#[test]
fn version_at_file_output_and_argv0() {
    let o = shenzi_run(&["patchelf", "--version"]);
    assert_eq!(
        stdout(&o),
        format!("patchelf 0.19.0 (shenzi {})\n", env!("CARGO_PKG_VERSION"))
    );
    let scratch = tempfile::tempdir().unwrap();
    let link = scratch.path().join("patchelf");
    std::os::unix::fs::symlink(shenzi(), &link).unwrap();
    let o = run(Command::new(&link).arg("--version"));
    assert!(
        stdout(&o).starts_with("patchelf 0.19.0 (shenzi"),
        "argv[0] dispatch: {}",
        stdout(&o)
    );
    let o = run(&mut Command::new(&link));
    assert_eq!(o.status.code(), Some(1), "no arguments: help and exit 1");
    assert!(stderr(&o).starts_with("syntax: patchelf"));

    let Some(v) = variant("pie") else { return };
    let prog = scratch.path().join("prog");
    std::fs::copy(v.dir.join("prog"), &prog).unwrap();
    let before = std::fs::read(&prog).unwrap();
    let arg = scratch.path().join("rpath.txt");
    std::fs::write(&arg, "/from/a/file").unwrap();
    let out = scratch.path().join("out");
    let o = run(Command::new(&link)
        .arg("--set-rpath")
        .arg(format!("@{}", arg.display()))
        .arg("--output")
        .arg(&out)
        .arg(&prog));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(&prog).unwrap(),
        before,
        "--output must leave the input alone"
    );
    let o = run(Command::new(&link).arg("--print-rpath").arg(&out));
    assert_eq!(stdout(&o), "/from/a/file\n");
    // Errors in patchelf's words.
    let o = run(Command::new(&link).arg("--set-rpath"));
    assert_eq!(stderr(&o), "patchelf: missing argument\n");
    let o = run(Command::new(&link)
        .arg("--print-rpath")
        .arg(scratch.path().join("missing")));
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with("patchelf: getting info about"),
        "{}",
        stderr(&o)
    );
    let o = run(Command::new(&link).arg("--print-rpath").arg(&arg));
    assert_eq!(stderr(&o), "patchelf: not an ELF executable\n");
}
