//! `install_name_tool` mode against cctools' rules (misc/install_name_tool.c is the reference
//! for semantics and texts) and llvm-install-name-tool-19 (the oracle that runs here): options
//! are matched against the input, contradicting options are refused before the file is read
//! and leave it byte-identical, `-id` on a non-dylib is ignored, LLVM's `--` spellings work,
//! and object files grow with only their file offsets moving: llvm-objdump and llvm-nm see the
//! same code, relocations, symbols, data in code and optimisation hints, and ld64.lld links the
//! grown object into exactly the same dylib as the original.

mod common;
use common::macho as common_macho;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common_macho::*;

const R: &str = "@loader_path/../lib";

/// An LLVM tool, or a skip (a failure under SHENZI_REQUIRE_ORACLES=1).
fn llvm(name: &str) -> Option<String> {
    let t = tool(name);
    need(t.is_some(), &format!("{name}-19"))?;
    t
}

fn int(args: &[&str], file: &Path) -> Output {
    run(shenzi().arg("install-name-tool").args(args).arg(file))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Output of `cmd ARGS FILE` with the file's path replaced by FILE.
fn text_of(cmd: &str, args: &[&str], file: &Path) -> String {
    let o = run(Command::new(cmd).args(args).arg(file));
    assert!(
        o.status.success(),
        "{cmd} {args:?} {file:?}: {}",
        stderr(&o)
    );
    let t = String::from_utf8_lossy(&o.stdout).into_owned();
    t.replace(&file.display().to_string(), "FILE")
}

fn dylibs(file: &Path) -> Vec<String> {
    oracle_accepts(file)
        .iter()
        .flat_map(|s| s["dylibs"].as_array().unwrap().clone())
        .map(|d| d[1].as_str().unwrap().to_string())
        .collect()
}

fn rpaths(file: &Path) -> Vec<String> {
    oracle_accepts(file)
        .iter()
        .flat_map(|s| s["rpaths"].as_array().unwrap().clone())
        .map(|d| d.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn contradicting_options_are_refused_with_cctools_text_and_leave_the_file() {
    let Some(dir) = corpus() else { return };
    let lint = llvm("llvm-install-name-tool");
    let f = dir.join("arm64-libfoo.dylib");
    // (arguments, cctools' message, whether llvm-install-name-tool refuses it as well)
    let cases: Vec<(Vec<&str>, String, bool)> = vec![
        (
            vec!["-add_rpath", "/X", "-delete_rpath", "/X"],
            r#"can't specify both "-add_rpath /X" and "-delete_rpath /X""#.into(),
            true,
        ),
        (
            vec!["-delete_rpath", "/X", "-add_rpath", "/X"],
            r#"can't specify both "-delete_rpath /X" and "-add_rpath /X""#.into(),
            true,
        ),
        (
            vec!["-prepend_rpath", "/X", "-delete_rpath", "/X"],
            r#"can't specify both "-prepend_rpath /X" and "-delete_rpath /X""#.into(),
            true,
        ),
        (
            vec!["-rpath", "/a", "/b", "-add_rpath", "/a"],
            r#"can't specify both "-rpath /a /b" and "-add_rpath /a""#.into(),
            true,
        ),
        (
            vec!["-add_rpath", "/b", "-rpath", "/a", "/b"],
            r#"can't specify both "-add_rpath /b" and "-rpath /a /b""#.into(),
            true,
        ),
        (
            vec!["-rpath", "/d", "/X", "-rpath", "/X", "/e"],
            r#"can't specify both "-rpath /d /X" and "-rpath /X /e""#.into(),
            true,
        ),
        (
            vec!["-rpath", R, "/n", "-rpath", R, "/n"],
            format!(r#""-rpath {R} /n" specified more than once"#),
            true,
        ),
        (
            vec!["-add_rpath", "/x", "-add_rpath", "/x"],
            r#""-add_rpath /x" specified more than once"#.into(),
            true,
        ),
        (
            vec!["-add_rpath", "/x", "-prepend_rpath", "/x"],
            r#"can't specify both "-add_rpath /x" and "-prepend_rpath /x""#.into(),
            true,
        ),
        // llvm-install-name-tool keeps -delete_rpath in a set and deletes the path once.
        (
            vec!["-delete_rpath", R, "-delete_rpath", R],
            format!(r#""-delete_rpath {R}" specified more than once"#),
            false,
        ),
        (
            vec!["-delete_all_rpaths", "-rpath", R, "/n"],
            format!(r#"can't specify both "-delete_all_rpaths" and "-rpath {R} /n""#),
            true,
        ),
        (
            vec!["-delete_rpath", R, "--delete_all_rpaths"],
            format!(r#"can't specify both "-delete_rpath {R}" and "-delete_all_rpaths""#),
            true,
        ),
        // llvm-install-name-tool takes the last -id.
        (
            vec!["-id", "/a", "-id", "/b"],
            "more than one: -id option specified".into(),
            false,
        ),
    ];
    let orig = std::fs::read(&f).unwrap();
    for (args, msg, llvm_refuses) in &cases {
        let (_d, p) = scratch(&f);
        let o = int(args, &p);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        let err = stderr(&o);
        let mut lines = err.lines();
        assert_eq!(
            lines.next(),
            Some(format!("error: install_name_tool: {msg}").as_str()),
            "{args:?}"
        );
        assert!(
            lines
                .next()
                .is_some_and(|l| l.starts_with("Usage: install_name_tool")),
            "{err}"
        );
        assert_eq!(
            std::fs::read(&p).unwrap(),
            orig,
            "{args:?} changed the file"
        );
        if let Some(lint) = &lint {
            let (_d, q) = scratch(&f);
            let o = run(Command::new(lint).args(args).arg(&q));
            assert_eq!(!o.status.success(), *llvm_refuses, "llvm on {args:?}");
            if *llvm_refuses {
                assert_eq!(std::fs::read(&q).unwrap(), orig);
            }
        }
    }
    // An option missing its argument (here the input would be taken as the argument).
    for (args, msg) in [
        (&["-id"][..], "missing argument to: -id option"),
        (&["-rpath", "/a"], "missing argument(s) to: -rpath option"),
        (&["-add_rpath"], "missing argument(s) to: -add_rpath option"),
    ] {
        let o = run(shenzi().arg("install-name-tool").args(args));
        assert_eq!(o.status.code(), Some(1));
        assert!(
            stderr(&o).starts_with(&format!("error: install_name_tool: {msg}\nUsage: ")),
            "{}",
            stderr(&o)
        );
        if let Some(lint) = &lint {
            assert!(!run(Command::new(lint).args(args)).status.success());
        }
    }
}

#[test]
fn options_are_matched_against_the_input_like_llvm_install_name_tool() {
    let Some(dir) = corpus() else { return };
    if need(python().is_some(), "macholib venv").is_none() {
        return;
    }
    let Some(lint) = llvm("llvm-install-name-tool") else {
        return;
    };
    let main = dir.join("arm64-main");
    assert_eq!(
        dylibs(&main),
        ["/usr/lib/libSystem.B.dylib", "@rpath/libfoo.dylib"]
    );
    let cases: [(&[&str], &[&str]); 2] = [
        (
            &[
                "-change",
                "@rpath/libfoo.dylib",
                "/B",
                "-change",
                "/B",
                "/C",
            ],
            &["/usr/lib/libSystem.B.dylib", "/B"],
        ),
        // Each name is looked up in the input: libfoo takes libSystem's name, and the input's
        // libSystem (not the renamed libfoo) becomes /S.
        (
            &[
                "-change",
                "@rpath/libfoo.dylib",
                "/usr/lib/libSystem.B.dylib",
                "-change",
                "/usr/lib/libSystem.B.dylib",
                "/S",
            ],
            &["/S", "/usr/lib/libSystem.B.dylib"],
        ),
    ];
    for (args, want) in cases {
        let (_d1, ours) = scratch(&main);
        let (_d2, theirs) = scratch(&main);
        assert!(int(args, &ours).status.success(), "{args:?}");
        ok(Command::new(&lint).args(args).arg(&theirs));
        assert_eq!(dylibs(&ours), want, "{args:?}");
        assert_eq!(
            otool_l_without_name(&ours),
            otool_l_without_name(&theirs),
            "{args:?}: load commands differ from llvm-install-name-tool's"
        );
    }

    // `shenzi patch` keeps its documented order: each edit sees the ones before it.
    let (_d, p) = scratch(&main);
    ok(shenzi()
        .args(["patch", "--change", "@rpath/libfoo.dylib", "/B"])
        .args(["--change", "/B", "/C"])
        .arg(&p));
    assert_eq!(dylibs(&p), ["/usr/lib/libSystem.B.dylib", "/C"]);

    // Rpaths: a library with room and two rpaths.
    let (_d, base) = scratch(&dir.join("arm64-libbar-roomy.dylib"));
    ok(shenzi()
        .args(["patch", "--add-rpath", "/a", "--add-rpath", "/b"])
        .arg(&base));
    let orig = std::fs::read(&base).unwrap();
    // Renaming onto a path the input has would duplicate it: both refuse.
    let (_d1, ours) = scratch(&base);
    let (_d2, theirs) = scratch(&base);
    let o = int(&["-rpath", "/a", "/b"], &ours);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o).trim(),
        format!(
            "error: install_name_tool: for: {} (for architecture arm64) option \"-rpath /a /b\" \
             would duplicate path, file already has LC_RPATH for: /b",
            ours.display()
        )
    );
    assert_eq!(std::fs::read(&ours).unwrap(), orig);
    assert!(!run(Command::new(&lint)
        .args(["-rpath", "/a", "/b"])
        .arg(&theirs))
    .status
    .success());
    assert_eq!(std::fs::read(&theirs).unwrap(), orig);
    // Accepted by both, same load commands.
    let accepted: [(&[&str], &[&str]); 3] = [
        (&["-delete_all_rpaths", "-add_rpath", "/a"], &["/a"]),
        (
            &["-rpath", "/a", "/c", "-add_rpath", "/d"],
            &["/c", "/b", "/d"],
        ),
        (
            &["--delete_rpath", "/b", "--add_rpath", "/p"],
            &["/a", "/p"],
        ),
    ];
    for (args, want) in accepted {
        let (_d1, ours) = scratch(&base);
        let (_d2, theirs) = scratch(&base);
        assert!(
            int(args, &ours).status.success(),
            "{args:?}: {}",
            stderr(&int(args, &ours))
        );
        ok(Command::new(&lint).args(args).arg(&theirs));
        assert_eq!(rpaths(&ours), want, "{args:?}");
        assert_eq!(
            otool_l_without_name(&ours),
            otool_l_without_name(&theirs),
            "{args:?}: load commands differ from llvm-install-name-tool's"
        );
    }
}

#[test]
fn id_on_a_file_that_is_not_a_dylib_is_ignored() {
    let Some(dir) = corpus() else { return };
    let lint = llvm("llvm-install-name-tool");
    for name in ["arm64-main", "x86_64-main", "universal-main", "arm64-obj.o"] {
        let f = dir.join(name);
        let (_d, p) = scratch(&f);
        let o = int(&["-id", "@rpath/x.dylib"], &p);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.lines().count() == if name.starts_with("universal") { 2 } else { 1 }
                && err
                    .lines()
                    .all(|l| l.starts_with("warning: install_name_tool: ")
                        && l.contains("not a dynamic library")),
            "{name}: {err}"
        );
        assert_eq!(
            std::fs::read(&p).unwrap(),
            std::fs::read(&f).unwrap(),
            "{name}"
        );
        if let Some(lint) = &lint {
            let (_d, q) = scratch(&f);
            ok(Command::new(lint).args(["-id", "@rpath/x.dylib"]).arg(&q));
            if !name.ends_with(".o") {
                assert_eq!(otool_l_without_name(&q), otool_l_without_name(&f), "{name}");
            }
        }
    }
    // With other options, those still apply.
    let (_d, p) = scratch(&dir.join("arm64-main"));
    let o = int(
        &["-id", "/x", "-rpath", "@executable_path/../lib", "/r"],
        &p,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    if python().is_some() {
        assert_eq!(rpaths(&p), ["/r"]);
    }
}

#[test]
fn llvm_double_dash_spellings_are_accepted() {
    let Some(dir) = corpus() else { return };
    let lint = llvm("llvm-install-name-tool");
    let f = dir.join("arm64-libfoo.dylib");
    for args in [
        &["--delete_all_rpaths"][..],
        &["--delete_rpath", R, "--add_rpath", "/n"],
        &[
            "--id",
            "@rpath/libfoo2.dylib",
            "--change",
            "/usr/lib/libSystem.B.dylib",
            "/S",
        ],
    ] {
        let (_d1, ours) = scratch(&f);
        let o = int(args, &ours);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        if let Some(lint) = &lint {
            let (_d2, theirs) = scratch(&f);
            ok(Command::new(lint).args(args).arg(&theirs));
            assert_eq!(
                otool_l_without_name(&ours),
                otool_l_without_name(&theirs),
                "{args:?}"
            );
        }
    }
    let (_d, p) = scratch(&f);
    int(&["--delete_all_rpaths"], &p);
    assert!(!llvm_accepts(&p, None).contains("LC_RPATH"));
}

/// `llvm-otool -l` per slice: the lines of each "FILE (architecture A):" block (one block for
/// a thin file).
fn otool_slices(file: &Path) -> Vec<Vec<String>> {
    let text = llvm_accepts(file, None);
    let mut out: Vec<Vec<String>> = Vec::new();
    for l in text.lines() {
        if l.starts_with(&file.display().to_string()) {
            out.push(Vec::new());
        } else if let Some(b) = out.last_mut() {
            b.push(l.trim().to_string());
        }
    }
    // The Mach header lines (counts and sizes of the load commands) change by design.
    for b in &mut out {
        b.retain(|l| {
            !l.starts_with("Mach header") && !l.starts_with("magic") && !l.starts_with("0xfeedfac")
        });
    }
    out
}

/// Fields of `otool -l` that are file offsets.
const OFFSET_KEYS: [&str; 12] = [
    "fileoff",
    "offset",
    "reloff",
    "symoff",
    "stroff",
    "dataoff",
    "tocoff",
    "modtaboff",
    "extrefsymoff",
    "indirectsymoff",
    "extreloff",
    "locreloff",
];

fn key_value(l: &str) -> Option<(&str, u64)> {
    let mut t = l.split_whitespace();
    let k = t.next()?;
    let v = t.next()?.parse().ok()?;
    Some((k, v))
}

/// The grown object's load commands are the original's, every nonzero file offset moved by
/// the same Δ (a multiple of every section's alignment), followed by the new LC_RPATH.
/// Returns Δ per slice.
fn check_offsets_moved(old: &Path, new: &Path, rpath: &str) -> Vec<u64> {
    let mut deltas = Vec::new();
    for (a, b) in otool_slices(old).iter().zip(otool_slices(new)) {
        assert!(b.len() > a.len());
        let delta = a
            .iter()
            .zip(&b)
            .find_map(|(x, y)| {
                let (k, u) = key_value(x)?;
                let (_, v) = key_value(y)?;
                (k == "offset" && u != 0).then(|| v - u)
            })
            .expect("a section with data");
        assert!(delta > 0 && delta % 8 == 0, "Δ {delta}");
        for (x, y) in a.iter().zip(&b) {
            match (key_value(x), key_value(y)) {
                (Some((k, u)), Some((_, v))) if OFFSET_KEYS.contains(&k) => {
                    let want = if u == 0 { 0 } else { u + delta };
                    assert_eq!(v, want, "{k}: {x} became {y}");
                }
                _ if x.starts_with("align 2^") => {
                    let k: u32 = x["align 2^".len()..]
                        .split(' ')
                        .next()
                        .unwrap()
                        .parse()
                        .unwrap();
                    assert_eq!(delta % (1 << k), 0, "Δ {delta} breaks {x}");
                    assert_eq!(x, y);
                }
                _ if x.starts_with("Load command") => {}
                _ => assert_eq!(x, y),
            }
        }
        let tail = b[a.len()..].join("\n");
        assert!(
            tail.contains("cmd LC_RPATH") && tail.contains(&format!("path {rpath} (offset 12)")),
            "{tail}"
        );
        deltas.push(delta);
    }
    deltas
}

/// Everything llvm-objdump and llvm-nm show of an object's content, for one architecture.
fn content(file: &Path, arch: &str) -> String {
    let objdump = tool("llvm-objdump").unwrap();
    let nm = tool("llvm-nm").unwrap();
    let a = format!("--arch={arch}");
    let mut out = String::new();
    for args in [
        vec!["-d", "-r", "--full-contents", a.as_str()],
        vec!["--macho", "--data-in-code", a.as_str()],
        vec!["--macho", "--link-opt-hints", a.as_str()],
        vec!["--macho", "--indirect-symbols", a.as_str()],
    ] {
        let t = text_of(&objdump, &args, file);
        assert!(!t.contains("malformed"), "{file:?} {args:?}: {t}");
        out.push_str(&t);
    }
    out.push_str(&text_of(
        &nm,
        &["-a", "-n", &format!("--arch={arch}")],
        file,
    ));
    out
}

fn arches(file: &Path) -> Vec<String> {
    sections(file)
        .iter()
        .map(|s| s["arch"].as_str().unwrap().to_string())
        .collect()
}

/// Links a thin object into a dylib with ld64.lld and the corpus' stub libSystem; the same
/// object bytes always give the same dylib bytes (same directory layout and names).
fn link(dir: &Path, obj: &Path, arch: &str) -> Vec<u8> {
    let work = tempfile::tempdir().unwrap();
    let o = work.path().join("x.o");
    std::fs::copy(obj, &o).unwrap();
    let (sdk, version) = if arch == "arm64" {
        ("sdk-arm64", "11.0")
    } else {
        ("sdk-x86_64", "10.15")
    };
    let ld = tool("ld64.lld").unwrap();
    ok(Command::new(ld)
        .current_dir(work.path())
        .args([
            "-arch",
            arch,
            "-platform_version",
            "macos",
            version,
            version,
            "-dylib",
        ])
        .args(["-o", "out.dylib", "x.o", "-undefined", "dynamic_lookup"])
        .arg(format!("-L{}", dir.join(sdk).display()))
        .args(["-lSystem.B", "-install_name", "@rpath/libobj.dylib"]));
    std::fs::read(work.path().join("out.dylib")).unwrap()
}

fn thin(file: &Path, arch: &str, dir: &Path) -> PathBuf {
    let lipo = tool("llvm-lipo").unwrap();
    let out = dir.join(format!("thin-{arch}.o"));
    ok(Command::new(lipo)
        .arg(file)
        .args(["-thin", arch, "-output"])
        .arg(&out));
    out
}

#[test]
fn object_files_grow_moving_only_file_offsets_and_still_link() {
    let Some(dir) = corpus() else { return };
    if need(python().is_some(), "macholib venv").is_none() {
        return;
    }
    let (Some(_), Some(_), Some(_), Some(_)) = (
        llvm("llvm-nm"),
        llvm("ld64.lld"),
        llvm("llvm-lipo"),
        llvm("llvm-objdump"),
    ) else {
        return;
    };
    let lint = llvm("llvm-install-name-tool");
    let long = format!("@loader_path/{}", "grow/".repeat(40));
    for name in ["arm64-obj.o", "x86_64-obj.o", "universal-obj.o"] {
        let f = dir.join(name);
        let orig = std::fs::read(&f).unwrap();
        let (tmp, ours) = scratch(&f);

        // --no-grow: cctools' refusal, file untouched.
        let o = int(&["--no-grow", "-add_rpath", &long], &ours);
        assert_eq!(o.status.code(), Some(1));
        assert!(
            stderr(&o).starts_with(&format!(
                "error: install_name_tool: changing install names or rpaths can't be redone \
                 for: {} (for architecture ",
                ours.display()
            )),
            "{}",
            stderr(&o)
        );
        assert_eq!(std::fs::read(&ours).unwrap(), orig);

        let o = int(&["-add_rpath", &long], &ours);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        assert!(stderr(&o).is_empty(), "{name}: {}", stderr(&o));
        let deltas = check_offsets_moved(&f, &ours, &long);

        // Section bytes unchanged (macholib's view), addresses unchanged, offsets moved by Δ.
        for ((a, b), delta) in sections(&f).iter().zip(sections(&ours)).zip(&deltas) {
            let (a, b) = (
                a["sections"].as_array().unwrap(),
                b["sections"].as_array().unwrap(),
            );
            assert_eq!(a.len(), b.len());
            for (x, y) in a.iter().zip(b) {
                assert_eq!(x["sha256"], y["sha256"], "{name} {}", x["sectname"]);
                assert_eq!(x["addr"], y["addr"]);
                let off = x["offset"].as_u64().unwrap();
                let want = if off == 0 { 0 } else { off + delta };
                assert_eq!(y["offset"].as_u64().unwrap(), want);
            }
        }
        for arch in arches(&f) {
            assert_eq!(content(&f, &arch), content(&ours, &arch), "{name} {arch}");
        }

        // llvm-install-name-tool grows object files too: the same load commands apart from
        // where it packs the sections.
        if let Some(lint) = &lint {
            let (_d, theirs) = scratch(&f);
            ok(Command::new(lint).args(["-add_rpath", &long]).arg(&theirs));
            let mask = |f: &Path| -> Vec<Vec<String>> {
                otool_slices(f)
                    .into_iter()
                    .map(|b| {
                        b.into_iter()
                            .map(|l| match key_value(&l) {
                                Some((k, _)) if OFFSET_KEYS.contains(&k) => k.to_string(),
                                _ => l,
                            })
                            .collect()
                    })
                    .collect()
            };
            assert_eq!(mask(&ours), mask(&theirs), "{name}");
            for arch in arches(&f) {
                assert_eq!(
                    content(&ours, &arch),
                    content(&theirs, &arch),
                    "{name} {arch}"
                );
            }
        }

        // The grown object links into exactly the dylib the original links into.
        for arch in arches(&f) {
            let (a, b) = if name.starts_with("universal") {
                (thin(&f, &arch, tmp.path()), thin(&ours, &arch, tmp.path()))
            } else {
                (f.clone(), ours.clone())
            };
            let (x, y) = (link(&dir, &a, &arch), link(&dir, &b, &arch));
            assert!(x == y, "{name} {arch}: the linked dylibs differ");
            let w = tempfile::tempdir().unwrap();
            let (px, py) = (w.path().join("x.dylib"), w.path().join("y.dylib"));
            std::fs::write(&px, &x).unwrap();
            std::fs::write(&py, &y).unwrap();
            let objdump = tool("llvm-objdump").unwrap();
            let code = |p: &Path| text_of(&objdump, &["-d", "--macho"], p);
            assert_eq!(code(&px), code(&py));
        }

        // Deleting the rpath again fits in place: nothing moves back, the object still links.
        let grown = std::fs::read(&ours).unwrap();
        let o = int(&["-delete_rpath", &long], &ours);
        assert!(o.status.success(), "{}", stderr(&o));
        let after = std::fs::read(&ours).unwrap();
        assert_eq!(after.len(), grown.len());
        for arch in arches(&f) {
            assert_eq!(content(&f, &arch), content(&ours, &arch), "{name} {arch}");
        }
        if !name.starts_with("universal") {
            let arch = &arches(&f)[0];
            assert!(link(&dir, &f, arch) == link(&dir, &ours, arch));
        }
    }
}

#[test]
fn object_files_that_cannot_move_are_refused_and_left_alone() {
    let Some(dir) = corpus() else { return };
    let (_d, p) = scratch(&dir.join("arm64-obj.o"));
    let mut data = std::fs::read(&p).unwrap();
    // The first command of a clang object is its LC_SEGMENT_64; its first section's align
    // field sits 52 bytes into the section header.
    assert_eq!(data[32..36], 0x19u32.to_le_bytes());
    let at = 32 + 72 + 52;
    data[at..at + 4].copy_from_slice(&20u32.to_le_bytes());
    std::fs::write(&p, &data).unwrap();
    let o = int(&["-add_rpath", "@loader_path/long/enough/to/grow"], &p);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o).trim(),
        format!(
            "error: install_name_tool: {}: cannot grow an object file with section \
             __TEXT,__text aligned to 2^20 (arm64)",
            p.display()
        )
    );
    assert_eq!(std::fs::read(&p).unwrap(), data);
}
