//! The command line's own documentation: completion scripts parse in their shells, the manual
//! pages render without warnings and match the committed copies the wheel ships, every
//! `--help` ends with examples, and every example runs as written against test files.
//!
//! Oracles: bash, zsh, fish, groff, man (corpus/packaging/setup.sh), gcc, python3 with venv,
//! the Mach-O corpus (corpus/macho/setup.sh). Missing ones skip a test locally and fail it when
//! `SHENZI_REQUIRE_ORACLES=1`.

#[macro_use]
mod common;
use common::{on_path, root, scratch, shenzi_cmd as shenzi, text};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[track_caller]
fn check_ok(what: &str, o: &Output) -> String {
    assert!(
        o.status.success(),
        "{what} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        o.status,
        text(&o.stdout),
        text(&o.stderr)
    );
    text(&o.stdout)
}

#[track_caller]
fn run_ok(what: &str, cmd: &mut Command) -> String {
    let o = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    check_ok(what, &o)
}

/// The subcommands `shenzi --help` lists (without `help`).
fn subcommands() -> Vec<String> {
    let help = run_ok("shenzi --help", shenzi().arg("--help"));
    help.lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n != "help")
        .map(str::to_string)
        .collect()
}

/// `--help` of a subcommand; the drop-in modes pass `--help` on to their own grammar, so
/// theirs comes from `shenzi help NAME`.
fn help_of(name: &str) -> String {
    match name {
        "" => run_ok("shenzi --help", shenzi().arg("--help")),
        "patchelf" | "install-name-tool" => run_ok("shenzi help", shenzi().args(["help", name])),
        _ => run_ok("--help", shenzi().args([name, "--help"])),
    }
}

/// (comment, command line) pairs of the "Examples:" section of a help text.
fn examples(help: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut what = String::new();
    for l in help.lines().skip_while(|l| *l != "Examples:").skip(1) {
        if let Some(c) = l.strip_prefix("  # ") {
            what = c.to_string();
        } else if let Some(cmd) = l.strip_prefix("  ") {
            out.push((std::mem::take(&mut what), cmd.to_string()));
        }
    }
    out
}

#[test]
fn every_help_ends_with_two_examples_or_more() {
    let names = subcommands();
    for n in [
        "patch",
        "patchelf",
        "install-name-tool",
        "codesign",
        "observe",
        "bundle",
        "floor",
        "completions",
        "man",
    ] {
        assert!(names.iter().any(|s| s == n), "{n} missing from {names:?}");
    }
    for name in std::iter::once("").chain(names.iter().map(String::as_str)) {
        let help = help_of(name);
        let ex = examples(&help);
        assert!(ex.len() >= 2, "`shenzi {name}`: examples {ex:?} in\n{help}");
        for (what, cmd) in &ex {
            assert!(!what.is_empty(), "{cmd}: no comment");
            let prefix = if name.is_empty() {
                "shenzi ".to_string()
            } else {
                format!("shenzi {name} ")
            };
            assert!(
                name.is_empty() || cmd.starts_with(&prefix),
                "`{cmd}` is not an example of `shenzi {name}`"
            );
            assert!(cmd.starts_with("shenzi "), "{cmd}");
        }
        // Examples come last: after the usage, nothing but indented or blank lines.
        let at = help.find("Examples:").unwrap();
        assert!(help.find("Usage:").is_some_and(|u| u < at), "{help}");
        assert!(
            help[at..]
                .lines()
                .skip(1)
                .all(|l| l.is_empty() || l.starts_with("  ")),
            "{help}"
        );
    }
    // The notes a command had before stay.
    assert!(help_of("patch").contains("Edits given together are applied in one pass."));
}

/// Test files named as in the examples: `bin/app` needing `lib/libfoo.so.1`, Mach-O files
/// `libfoo.dylib`, `libbar.dylib` and `main` from the Mach-O corpus, `app.py` (with its
/// module), `data.json`, a venv `.venv`, a recorded `manifest.json`, and a HOME whose
/// completion directories exist.
fn fixtures(dir: &Path, py: &Path, macho: &Path, manifest: Option<&Path>) {
    for d in [
        "bin",
        "lib",
        "home/.local/share/bash-completion/completions",
        "home/.zfunc",
    ] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    std::fs::create_dir_all(dir.join("home/.config/fish/completions")).unwrap();
    std::fs::write(dir.join("foo.c"), "int foo(void) { return 7; }\n").unwrap();
    std::fs::write(
        dir.join("app.c"),
        "#include <stdio.h>\nint foo(void);\nint main(void) { printf(\"foo %d\\n\", foo()); return 0; }\n",
    )
    .unwrap();
    run_ok(
        "gcc libfoo",
        Command::new("gcc")
            .args(["-shared", "-fPIC", "-Wl,-soname,libfoo.so.1"])
            .args(["-o", "lib/libfoo.so.1", "foo.c"])
            .current_dir(dir),
    );
    run_ok(
        "gcc app",
        Command::new("gcc")
            .args(["-o", "bin/app", "app.c", "lib/libfoo.so.1"])
            .current_dir(dir),
    );
    for (from, to) in [
        ("arm64-libfoo.dylib", "libfoo.dylib"),
        ("arm64-libbar-roomy.dylib", "libbar.dylib"),
        ("arm64-main", "main"),
    ] {
        std::fs::copy(macho.join(from), dir.join(to)).unwrap();
    }
    for f in ["app.py", "greeting.py"] {
        std::fs::copy(root().join("examples/hello").join(f), dir.join(f)).unwrap();
    }
    std::fs::write(dir.join("data.json"), "{\"b\": 1, \"a\": [1, 2]}\n").unwrap();
    run_ok(
        "python3 -m venv",
        Command::new(py)
            .args(["-m", "venv", "--without-pip", ".venv"])
            .current_dir(dir),
    );
    if let Some(m) = manifest {
        std::fs::copy(m, dir.join("manifest.json")).unwrap();
    }
}

/// Runs one example line with `sh`, shenzi first on PATH, HOME in the fixtures.
fn run_example(dir: &Path, bin: &Path, line: &str) -> Output {
    Command::new("sh")
        .args(["-c", line])
        .current_dir(dir)
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("HOME", dir.join("home"))
        .env_remove("VIRTUAL_ENV")
        .env_remove("PYTHONPATH")
        .env_remove("LD_LIBRARY_PATH")
        .env_remove("MANPAGER")
        .env_remove("PAGER")
        .output()
        .unwrap()
}

#[test]
fn every_example_in_the_help_runs() {
    need!(on_path("gcc"), "gcc");
    need!(on_path("man"), "man (man-db)");
    let py = need!(
        Some(PathBuf::from("/usr/bin/python3")).filter(|p| p.is_file()),
        "/usr/bin/python3"
    );
    let macho = root().join("target/corpus-macho");
    need!(
        macho.join("arm64-main").is_file().then_some(()),
        "the Mach-O corpus (corpus/macho/setup.sh)"
    );
    let base = scratch("examples");
    // `shenzi` under its own name on PATH, as an installed one would be.
    let bin = base.join("path");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_shenzi"), bin.join("shenzi")).unwrap();
    // A recorded run for `bundle --manifest`.
    let rec = base.join("recording");
    std::fs::create_dir_all(&rec).unwrap();
    for f in ["app.py", "greeting.py"] {
        std::fs::copy(root().join("examples/hello").join(f), rec.join(f)).unwrap();
    }
    run_ok(
        "shenzi observe",
        shenzi()
            .args(["observe", "--python"])
            .arg(&py)
            .args(["app.py", "--out", "manifest.json", "--", "world"])
            .current_dir(&rec),
    );

    let mut ran = 0;
    let mut names = vec![String::new()];
    names.extend(subcommands());
    for name in &names {
        // Each command's examples run in order on fresh test files.
        let dir = base.join(if name.is_empty() { "shenzi" } else { name });
        std::fs::create_dir_all(&dir).unwrap();
        fixtures(&dir, &py, &macho, Some(&rec.join("manifest.json")));
        for (what, line) in examples(&help_of(name)) {
            let o = run_example(&dir, &bin, &line);
            check_ok(&format!("example `{line}` ({what})"), &o);
            ran += 1;
            after(name, &line, &dir, &o);
        }
    }
    assert!(ran >= 20, "only {ran} examples ran");
}

/// What an example must have done, where that can be seen.
fn after(name: &str, line: &str, dir: &Path, o: &Output) {
    let out = text(&o.stdout);
    let run = |p: &str| {
        run_ok(
            p,
            Command::new(dir.join(p))
                .current_dir(dir)
                .env_remove("LD_LIBRARY_PATH"),
        )
    };
    match (name, line) {
        (_, l) if l.starts_with("shenzi patch --rpath") => assert_eq!(run("bin/app"), "foo 7\n"),
        (_, l) if l.contains("--set-rpath") => assert_eq!(run("bin/app.patched"), "foo 7\n"),
        (_, l) if l.contains("--replace-needed") => assert!(out.contains("libfoo.so.2"), "{out}"),
        (_, l) if l.contains("--print-needed") => assert_eq!(out, "libfoo.so.1\nlibc.so.6\n"),
        (_, l) if l.contains("--dry-run") => {
            assert!(out.contains("in place") || out.contains("shift"))
        }
        ("install-name-tool", l) if l.contains("-id") => {
            let p = run_ok(
                "shenzi patch --print",
                shenzi()
                    .args(["patch", "--print"])
                    .arg(dir.join("libbar.dylib")),
            );
            assert!(
                p.contains("@rpath/libbar.dylib") && p.contains("@loader_path"),
                "{p}"
            );
        }
        ("bundle", l) if l.contains("--archive") => assert!(dir.join("dist.tar.zst").is_file()),
        ("bundle", _) | ("", _) if line.contains("bundle app.py") => {
            assert!(out.contains("hello"), "{out}")
        }
        ("observe", _) => assert!(dir.join("manifest.json").is_file()),
        ("floor", l) if l.contains("--json") => {
            let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
            assert_eq!(v["slices"][0]["arch"], "arm64");
        }
        ("floor", _) => assert!(out.contains("glibc 2.") && out.contains("macOS"), "{out}"),
        ("completions", l) => {
            let file = l
                .rsplit(' ')
                .next()
                .unwrap()
                .replace('~', &dir.join("home").display().to_string());
            let script = std::fs::read_to_string(&file).unwrap();
            assert!(script.contains("floor"), "{file}");
        }
        ("man", l) if l.contains("--dir") => {
            assert!(dir
                .join("home/.local/share/man/man1/shenzi-patch.1")
                .is_file())
        }
        ("man", _) => assert!(
            out.contains("EXAMPLES") && out.contains("SHENZI-PATCH"),
            "{out}"
        ),
        _ => {}
    }
}

#[test]
fn completion_scripts_parse() {
    let bash = need!(on_path("bash"), "bash");
    let dir = scratch("completions");
    let mut shells = vec![("bash", bash, vec!["-n"])];
    match (on_path("zsh"), on_path("fish")) {
        (Some(z), Some(f)) => {
            shells.push(("zsh", z, vec!["-n"]));
            shells.push(("fish", f, vec!["--no-execute"]));
        }
        _ => {
            need!(None::<()>, "zsh and fish (corpus/packaging/setup.sh)");
        }
    }
    for (shell, exe, flags) in shells {
        let script = run_ok(shell, shenzi().args(["completions", shell]));
        for word in ["patch", "bundle", "floor", "rpath", "min-glibc"] {
            assert!(script.contains(word), "{shell}: {word} missing");
        }
        let file = dir.join(format!("shenzi.{shell}"));
        std::fs::write(&file, &script).unwrap();
        let o = Command::new(&exe).args(&flags).arg(&file).output().unwrap();
        check_ok(&format!("{shell} {flags:?}"), &o);
        assert!(o.stderr.is_empty(), "{shell}: {}", text(&o.stderr));
    }
    // bash: loading the script registers the completion function.
    let file = dir.join("shenzi.bash");
    let o = Command::new("bash")
        .arg("-c")
        .arg(format!(". '{}' && complete -p shenzi", file.display()))
        .output()
        .unwrap();
    assert!(check_ok("complete -p", &o).contains("shenzi"));
    let o = shenzi().args(["completions", "tcsh"]).output().unwrap();
    assert!(!o.status.success());
}

fn pages_of_cli(dir: &Path) -> Vec<PathBuf> {
    run_ok("shenzi man --dir", shenzi().args(["man", "--dir"]).arg(dir));
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

#[test]
fn manual_pages_render_without_warnings() {
    let groff = need!(on_path("groff"), "groff (groff-base)");
    need!(on_path("man"), "man (man-db)");
    let dir = scratch("man");
    let pages = pages_of_cli(&dir.join("man1"));
    let names: Vec<String> = pages
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let mut want = vec!["shenzi.1".to_string()];
    want.extend(subcommands().iter().map(|s| format!("shenzi-{s}.1")));
    want.sort();
    assert_eq!(names, want);
    for page in &pages {
        let o = Command::new(&groff)
            .args(["-k", "-man", "-Tutf8", "-ww", "-z"])
            .arg(page)
            .output()
            .unwrap();
        check_ok("groff", &o);
        assert!(
            o.stderr.is_empty(),
            "{}: {}",
            page.display(),
            text(&o.stderr)
        );
        let o = Command::new("man")
            .arg("-l")
            .arg(page)
            .env("MANWIDTH", "200")
            .env_remove("MANPAGER")
            .env_remove("PAGER")
            .output()
            .unwrap();
        let shown = check_ok("man -l", &o);
        assert!(
            o.stderr.is_empty(),
            "{}: {}",
            page.display(),
            text(&o.stderr)
        );
        for section in ["NAME", "SYNOPSIS", "DESCRIPTION", "EXAMPLES", "SEE ALSO"] {
            assert!(
                shown.lines().any(|l| l == section),
                "{}: no {section}",
                page.display()
            );
        }
        // Example lines come out as typed: ASCII hyphens and quotes, ready to copy.
        let name = page.file_stem().unwrap().to_string_lossy();
        let sub = name.strip_prefix("shenzi-").unwrap_or("");
        for (_, line) in examples(&help_of(sub)) {
            assert!(
                shown.lines().any(|l| l.trim() == line),
                "{}: example `{line}` not shown as typed",
                page.display()
            );
        }
    }
    // The footer carries the version, the header the page's name.
    let top = std::fs::read_to_string(dir.join("man1/shenzi.1")).unwrap();
    assert!(top.contains(&format!(
        ".TH SHENZI 1 \"\" \"shenzi {}\" \"shenzi manual\"",
        env!("CARGO_PKG_VERSION")
    )));
    let one = run_ok("shenzi man patch", shenzi().args(["man", "patch"]));
    assert_eq!(
        one,
        std::fs::read_to_string(dir.join("man1/shenzi-patch.1")).unwrap()
    );
    let o = shenzi().args(["man", "nosuch"]).output().unwrap();
    assert!(!o.status.success() && text(&o.stderr).contains("commands: patch"));
}

#[test]
fn shipped_manual_pages_are_current() {
    let dir = scratch("man-current");
    let committed = root().join("packaging/shenzi.data/data/share/man/man1");
    let fresh = pages_of_cli(&dir);
    let mut names: Vec<String> = std::fs::read_dir(&committed)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let fresh_names: Vec<String> = fresh
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let hint = "regenerate with `cargo run -- man --dir packaging/shenzi.data/data/share/man/man1`";
    assert_eq!(names, fresh_names, "{hint}");
    for p in &fresh {
        let name = p.file_name().unwrap();
        assert!(
            std::fs::read(p).unwrap() == std::fs::read(committed.join(name)).unwrap(),
            "{} is stale: {hint}",
            name.to_string_lossy()
        );
    }
}
