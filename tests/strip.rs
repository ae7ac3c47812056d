//! `shenzi patch --strip-debug` over every corpus variant (seven architectures, with and without
//! debug information, compressed debug sections, C++): the stripped program still runs with its
//! stripped libraries, loses what it should and nothing else (dynamic symbols, notes, program
//! headers as readelf prints them), is no larger than GNU strip's output plus the old section
//! names, passes eu-elflint where the input does, is byte-identical when stripped again, and
//! still works after GNU strip or a growing `shenzi patch`.

#[macro_use]
mod common;

use std::path::Path;
use std::process::Command;

use common::*;

fn readelf(args: &[&str], file: &Path) -> String {
    let o = run(Command::new("readelf").args(args).arg(file));
    assert!(
        o.status.success(),
        "readelf {args:?} {}: {}",
        file.display(),
        stderr(&o)
    );
    stdout(&o)
}

fn section_names(file: &Path) -> Vec<String> {
    let text = readelf(&["-SW"], file);
    text.lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let rest = l.strip_prefix('[')?;
            let (_, after) = rest.split_once(']')?;
            after.split_whitespace().next().map(String::from)
        })
        .filter(|n| n != "NULL" && !n.is_empty())
        .collect()
}

/// What a loader or a tool that reads the running program sees: program headers, dynamic
/// table, dynamic symbols (with their section indices), notes.
fn loader_view(file: &Path) -> String {
    let mut s = String::new();
    for args in [&["-lW"][..], &["-dW"], &["--dyn-syms", "-W"], &["-nW"]] {
        let text = readelf(args, file);
        // The file name and the section header count appear in headers; drop those lines, and
        // the offset of an attributes segment (it moves with its non-allocated section).
        s.extend(
            text.lines()
                .filter(|l| !l.contains(&*file.to_string_lossy()) && !l.starts_with("There are"))
                .filter(|l| {
                    !l.trim_start().starts_with("RISCV_ATTRIBUT")
                        && !l.trim_start().starts_with("ARM_ATTRIBUTES")
                })
                .map(|l| format!("{l}\n")),
        );
    }
    s
}

fn elflint_ok(file: &Path) -> bool {
    run(Command::new("eu-elflint").arg("--gnu-ld").arg(file))
        .status
        .success()
}

fn strip_file(file: &Path) -> std::process::Output {
    shenzi_run(&["patch", "--strip-debug", file.to_str().unwrap()])
}

#[test]
fn stripped_corpus_runs_and_keeps_what_loaders_read() {
    need!(on_path("readelf"), "readelf");
    need!(on_path("eu-elflint"), "eu-elflint (elfutils)");
    let base = scratch("corpus");
    let mut stripped_debug = 0;
    for v in corpus() {
        let dir = base.join(&v.name);
        copy_tree(&v.dir, &dir);
        let files = [
            dir.join("prog"),
            dir.join("lib/libdemo.so"),
            dir.join("lib/libalt.so"),
            dir.join("lib/libextra.so"),
        ];
        for f in &files {
            let before = std::fs::read(f).unwrap();
            let had_debug = section_names(f).iter().any(|n| n.starts_with(".debug"));
            let view = loader_view(f);
            let lint_before = elflint_ok(f);
            let o = strip_file(f);
            assert!(
                o.status.success(),
                "{}: strip failed: {}",
                v.name,
                stderr(&o)
            );
            let after = std::fs::read(f).unwrap();
            assert!(
                after.len() < before.len(),
                "{}: {} did not shrink",
                v.name,
                f.display()
            );
            let names = section_names(f);
            for gone in [".symtab", ".strtab", ".comment"] {
                assert!(
                    !names.iter().any(|n| n == gone),
                    "{}: {gone} left in {names:?}",
                    v.name
                );
            }
            assert!(
                !names
                    .iter()
                    .any(|n| n.starts_with(".debug") || n.starts_with(".zdebug")),
                "{}: debug sections left: {names:?}",
                v.name
            );
            assert!(
                names.iter().any(|n| n == ".dynsym"),
                "{}: .dynsym lost",
                v.name
            );
            assert_eq!(
                loader_view(f),
                view,
                "{}: {} changed for the loader",
                v.name,
                f.display()
            );
            if lint_before {
                let o = run(Command::new("eu-elflint").arg("--gnu-ld").arg(f));
                assert!(o.status.success(), "{}: eu-elflint: {}", v.name, stdout(&o));
            }
            // GNU strip removes the same sections; shenzi's output differs only by the names
            // it leaves in .shstrtab.
            let gnu = dir.join("gnu-stripped");
            std::fs::write(&gnu, &before).unwrap();
            let tool = format!("{}strip", binutils_prefix(&v.arch));
            let st = run(Command::new(&tool).arg(&gnu));
            assert!(st.status.success(), "{tool}: {}", stderr(&st));
            let gnu_len = std::fs::metadata(&gnu).unwrap().len();
            assert!(
                after.len() as u64 <= gnu_len + 512,
                "{}: {} bytes, GNU strip {gnu_len}",
                v.name,
                after.len()
            );
            // Stripping again changes nothing.
            let o = strip_file(f);
            assert!(o.status.success(), "{}", stderr(&o));
            assert_eq!(
                std::fs::read(f).unwrap(),
                after,
                "{}: second strip changed it",
                v.name
            );
            stripped_debug += usize::from(had_debug);
        }
        let out = run_prog(v, &dir.join("prog"));
        assert_eq!(
            stdout(&out).trim(),
            v.expected,
            "{}: stripped program: {}",
            v.name,
            stderr(&out)
        );

        // A growing edit of the stripped program, then GNU strip over it: still runs.
        let prog = dir.join("prog");
        let long = format!("$ORIGIN/lib:{}", "/opt/shenzi-strip-test/entry".repeat(40));
        let o = shenzi_run(&["patch", "--rpath", &long, prog.to_str().unwrap()]);
        assert!(
            o.status.success(),
            "{}: patch after strip: {}",
            v.name,
            stderr(&o)
        );
        let tool = format!("{}strip", binutils_prefix(&v.arch));
        assert!(run(Command::new(&tool).arg(&prog)).status.success());
        let out = run_prog(v, &prog);
        assert_eq!(
            stdout(&out).trim(),
            v.expected,
            "{}: patched + strip: {}",
            v.name,
            stderr(&out)
        );
    }
    if require_oracles() {
        assert!(
            stripped_debug >= 8 * 4,
            "only {stripped_debug} files had debug information"
        );
    }
}

#[test]
fn edits_after_strip_in_one_run() {
    let v = need!(variant("debug"), "corpus variant debug");
    let dir = scratch("combined").join("v");
    copy_tree(&v.dir, &dir);
    let prog = dir.join("prog");
    let long = format!("$ORIGIN/lib:{}", "/opt/combined/x".repeat(100));
    let dry = shenzi_run(&[
        "patch",
        "--strip-debug",
        "--rpath",
        &long,
        "--dry-run",
        prog.to_str().unwrap(),
    ]);
    assert!(dry.status.success(), "{}", stderr(&dry));
    assert!(
        stdout(&dry).contains("remove .debug_info"),
        "{}",
        stdout(&dry)
    );
    let before = std::fs::read(&prog).unwrap();
    let o = shenzi_run(&[
        "patch",
        "--strip-debug",
        "--rpath",
        &long,
        prog.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("bytes smaller"), "{}", stderr(&o));
    assert!(readelf_d(&prog).contains(&long));
    assert!(!section_names(&prog).iter().any(|n| n.starts_with(".debug")));
    assert!(std::fs::read(&prog).unwrap().len() < before.len());
    let out = run_prog(&v, &prog);
    assert_eq!(stdout(&out).trim(), v.expected, "{}", stderr(&out));
}

#[test]
fn appended_data_is_kept() {
    let v = need!(variant("debug"), "corpus variant debug");
    let dir = scratch("appended").join("v");
    copy_tree(&v.dir, &dir);
    let prog = dir.join("prog");
    let mut bytes = std::fs::read(&prog).unwrap();
    let payload = b"\x01appended payload that no section covers\x02".repeat(10);
    bytes.extend_from_slice(&payload);
    std::fs::write(&prog, &bytes).unwrap();
    let o = strip_file(&prog);
    assert!(o.status.success(), "{}", stderr(&o));
    let after = std::fs::read(&prog).unwrap();
    assert!(after.ends_with(&payload), "payload lost");
    assert!(after.len() < bytes.len());
    let out = run_prog(&v, &prog);
    assert_eq!(stdout(&out).trim(), v.expected);
}

#[test]
fn object_files_are_refused_untouched() {
    let gcc = need!(on_path("gcc"), "gcc");
    let dir = scratch("refused");
    let c = dir.join("a.c");
    std::fs::write(&c, "int f(void) { return 1; }\n").unwrap();
    let obj = dir.join("a.o");
    assert!(
        run(Command::new(gcc).args(["-g", "-c", "-o"]).arg(&obj).arg(&c))
            .status
            .success()
    );
    let before = std::fs::read(&obj).unwrap();
    let o = strip_file(&obj);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("object file"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&obj).unwrap(), before);
}
