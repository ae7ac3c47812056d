//! `shenzi bundle` end to end on Linux: bundle real applications, move the folder, hide the
//! original environment (`unshare -m` + tmpfs over the venv, the base interpreter's prefix, the
//! test library's directory and the app's sources), run through a symlink under
//! `env -i PATH=/usr/bin:/bin`, and compare the output with the original run's.
//!
//! Oracles: python3 (stdlib tests), the venv of `corpus/bundle/setup.sh` (numpy, pillow, lxml,
//! cryptography), gcc, unshare. Missing ones skip the test locally and fail it when
//! `SHENZI_REQUIRE_ORACLES=1`.

#[macro_use]
mod common;
use common::{on_path, root, scratch, shenzi_cmd as shenzi, text};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

fn corpus() -> PathBuf {
    root().join("corpus/bundle")
}

fn system_python() -> Option<PathBuf> {
    on_path("python3")
}

fn venv_python() -> Option<PathBuf> {
    let venv = std::env::var_os("SHENZI_BUNDLE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/bundle-venv"));
    let py = venv.join("bin/python");
    let ok = Command::new(&py)
        .args(["-c", "import numpy, PIL, lxml, cryptography"])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some(py)
}

fn can_unshare() -> Option<()> {
    Command::new("unshare")
        .args(["-m", "true"])
        .status()
        .ok()
        .filter(|s| s.success())
        .map(|_| ())
}

/// Builds libshenzitest.so (needs libshenzidep.so) into `dir`.
fn build_ctlib(dir: &Path) -> Option<()> {
    on_path("gcc")?;
    let st = Command::new("sh")
        .arg(corpus().join("ctlib/build.sh"))
        .arg(dir)
        .status()
        .ok()?;
    st.success().then_some(())
}

fn python_dirs(py: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let out = Command::new(py)
        .args([
            "-c",
            "import sys, sysconfig; print(sys.prefix); print(sys.base_prefix); print(sysconfig.get_paths()['stdlib'])",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let mut l = text.lines().map(|s| PathBuf::from(s.trim()));
    (l.next().unwrap(), l.next().unwrap(), l.next().unwrap())
}

/// Directories to hide for an interpreter: its venv (if any) and its base prefix (or, for a
/// system Python in /usr, its stdlib).
fn interpreter_dirs(py: &Path) -> Vec<PathBuf> {
    let (prefix, base, stdlib) = python_dirs(py);
    let mut v = Vec::new();
    if prefix != base {
        v.push(prefix);
    }
    if base == Path::new("/usr") || base == Path::new("/") {
        v.push(stdlib);
    } else {
        v.push(base);
    }
    v
}

fn sh_quote(s: &Path) -> String {
    format!("'{}'", s.to_string_lossy().replace('\'', r"'\''"))
}

/// Runs `exe args` in a new mount namespace with `hide` covered by empty tmpfs, under
/// `env -i PATH=/usr/bin:/bin`.
fn run_hidden(hide: &[PathBuf], exe: &Path, args: &[&str], cwd: &Path) -> Output {
    run_hidden_env(hide, &[], exe, args, cwd)
}

/// `run_hidden` with extra environment variables.
fn run_hidden_env(
    hide: &[PathBuf],
    env: &[(&str, &Path)],
    exe: &Path,
    args: &[&str],
    cwd: &Path,
) -> Output {
    let mut script = String::from("set -e\n");
    for d in hide {
        if d.is_dir() {
            script += &format!("mount -t tmpfs none {}\n", sh_quote(d));
        }
    }
    script += "exec env -i PATH=/usr/bin:/bin";
    for (k, v) in env {
        script += &format!(" {k}={}", sh_quote(v));
    }
    script += &format!(" {}", sh_quote(exe));
    for a in args {
        script += &format!(" {}", sh_quote(Path::new(a)));
    }
    Command::new("unshare")
        .args(["-m", "sh", "-c", &script])
        .current_dir(cwd)
        .output()
        .unwrap()
}

fn check_ok(what: &str, o: &Output) {
    assert!(
        o.status.success(),
        "{what} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        o.status,
        text(&o.stdout),
        text(&o.stderr)
    );
}

/// Libraries a bundle leaves to the host (the manylinux policy named in the issue).
fn host_library(name: &str) -> bool {
    const HOST: &[&str] = &[
        "libc.so",
        "libm.so",
        "libdl.so",
        "librt.so",
        "libpthread.so",
        "libutil.so",
        "libresolv.so",
        "libnsl.so.1",
        "libanl.so",
        "ld-linux",
        "libgcc_s.so",
        "libstdc++.so",
        "libz.so",
        "libexpat.so",
        "libX",
        "libGL",
        "libICE",
        "libSM",
        "libglib-2.0",
        "libgobject-2.0",
        "libgthread-2.0",
    ];
    HOST.iter().any(|h| name.starts_with(h))
}

/// Runs the bundled interpreter with the environment hidden, imports `imports`, and checks that
/// every shared object it mapped is inside the bundle or a host library.
/// The first entry of `dir` whose name starts with `prefix`.
fn entry_starting(dir: &Path, prefix: &str) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
}

fn assert_loads_only_from_bundle(hide: &[PathBuf], bundle: &Path, imports: &str, cwd: &Path) {
    let code = format!(
        "{imports}\nfor l in sorted({{x.split()[-1] for x in open('/proc/self/maps') if '.so' in x}}): print(l)"
    );
    let py = entry_starting(&bundle.join("python/bin"), "python3").unwrap();
    let o = run_hidden(hide, &py, &["-s", "-c", &code], cwd);
    check_ok("bundled interpreter", &o);
    let real = std::fs::canonicalize(bundle).unwrap();
    let stray: Vec<String> = text(&o.stdout)
        .lines()
        .filter(|l| l.starts_with('/') && !Path::new(l).starts_with(&real))
        .filter(|l| !host_library(l.rsplit('/').next().unwrap_or("")))
        .map(String::from)
        .collect();
    assert!(
        stray.is_empty(),
        "loaded from outside the bundle: {stray:?}"
    );
    assert!(text(&o.stdout)
        .lines()
        .any(|l| Path::new(l).starts_with(&real)));
}

/// Builds a bundle in `work/build/dist`, then moves it to `work/moved/bundle` and puts a symlink
/// to its run.sh at `work/bin/app`.
fn bundle_and_move(work: &Path, args: &[&str], env: &[(&str, &Path)], cwd: &Path) -> PathBuf {
    let out = work.join("build/dist");
    let mut cmd = shenzi();
    cmd.arg("bundle")
        .arg("-o")
        .arg(&out)
        .args(args)
        .current_dir(cwd);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = cmd.output().unwrap();
    check_ok("shenzi bundle", &o);
    let moved = work.join("moved/bundle");
    std::fs::create_dir_all(moved.parent().unwrap()).unwrap();
    std::fs::rename(&out, &moved).unwrap();
    // A chain of symlinks, absolute then relative, as when run.sh is linked onto PATH.
    std::fs::create_dir_all(work.join("links")).unwrap();
    std::fs::create_dir_all(work.join("bin")).unwrap();
    std::os::unix::fs::symlink(moved.join("run.sh"), work.join("links/run")).unwrap();
    std::os::unix::fs::symlink("../links/run", work.join("bin/app")).unwrap();
    moved
}

#[test]
fn stdlib_ctypes_app_runs_moved_with_environment_hidden() {
    let py = need!(system_python(), "python3");
    need!(can_unshare(), "unshare -m (root)");
    let work = scratch("stdlib");
    let ctlib = work.join("ctlib");
    need!(build_ctlib(&ctlib), "gcc");
    let app = corpus().join("stdlib/app.py");

    let original = Command::new(&py)
        .arg(&app)
        .args(["one", "two"])
        .env("LD_LIBRARY_PATH", &ctlib)
        .current_dir(&work)
        .output()
        .unwrap();
    check_ok("original run", &original);

    let app_s = app.to_string_lossy().into_owned();
    let py_s = py.to_string_lossy().into_owned();
    let bundle = bundle_and_move(
        &work,
        &["--python", &py_s, &app_s, "--", "one", "two"],
        &[("LD_LIBRARY_PATH", &ctlib)],
        &work,
    );
    assert!(bundle.join("lib/libshenzitest.so").exists());
    assert!(bundle.join("lib/libshenzidep.so").exists());

    let mut hide = interpreter_dirs(&py);
    hide.push(ctlib.clone());
    hide.push(corpus());
    let run = run_hidden(&hide, &work.join("bin/app"), &["one", "two"], &work);
    check_ok("bundled run", &run);
    assert_eq!(text(&run.stdout), text(&original.stdout));
    assert_loads_only_from_bundle(
        &hide,
        &bundle,
        "import ssl, sqlite3, hashlib, lzma, bz2, ctypes, zlib; ctypes.CDLL('libshenzitest.so')",
        &work,
    );

    // The caller's PYTHONHOME, PYTHONPATH and user site are ignored: a json.py that would
    // shadow the stdlib's sits on PYTHONPATH, and a .pth in the user site would end the run.
    let evil = work.join("evil");
    let user_site = evil.join(".local/lib/python3.11/site-packages");
    std::fs::create_dir_all(&user_site).unwrap();
    std::fs::write(
        evil.join("json.py"),
        "raise SystemExit('PYTHONPATH leaked')\n",
    )
    .unwrap();
    std::fs::write(user_site.join("evil.pth"), "import os; os._exit(7)\n").unwrap();
    let run = run_hidden_env(
        &hide,
        &[
            ("PYTHONHOME", Path::new("/nonexistent")),
            ("PYTHONPATH", &evil),
            ("HOME", &evil),
        ],
        &work.join("bin/app"),
        &["one", "two"],
        &work,
    );
    check_ok("bundled run with a hostile environment", &run);
    assert_eq!(text(&run.stdout), text(&original.stdout));
}

/// The numpy/pillow/lxml/cryptography bundle, built once for the tests that use it.
struct Sci {
    work: PathBuf,
    bundle: PathBuf,
    hide: Vec<PathBuf>,
    expected: String,
    venv_bin: PathBuf,
}

fn sci_bundle() -> Option<&'static Sci> {
    static SCI: OnceLock<Option<Sci>> = OnceLock::new();
    SCI.get_or_init(|| {
        let py = venv_python()?;
        can_unshare()?;
        let work = scratch("sci");
        let ctlib = work.join("ctlib");
        build_ctlib(&ctlib)?;
        let app = corpus().join("sci/app.py");
        let original = Command::new(&py)
            .arg(&app)
            .args(["x", "y z"])
            .env("LD_LIBRARY_PATH", &ctlib)
            .current_dir(&work)
            .output()
            .unwrap();
        check_ok("original run", &original);
        let app_s = app.to_string_lossy().into_owned();
        let py_s = py.to_string_lossy().into_owned();
        let bundle = bundle_and_move(
            &work,
            &["--python", &py_s, &app_s, "--", "x", "y z"],
            &[("LD_LIBRARY_PATH", &ctlib)],
            &work,
        );
        let mut hide = interpreter_dirs(&py);
        hide.push(ctlib);
        hide.push(corpus());
        Some(Sci {
            work,
            bundle,
            hide,
            expected: text(&original.stdout),
            venv_bin: py.parent().unwrap().to_path_buf(),
        })
    })
    .as_ref()
}

#[test]
fn scientific_venv_app_runs_moved_with_environment_hidden() {
    let sci = need!(
        sci_bundle(),
        "the bundle venv (corpus/bundle/setup.sh), gcc and unshare"
    );
    let run = run_hidden(
        &sci.hide,
        &sci.work.join("bin/app"),
        &["x", "y z"],
        &sci.work,
    );
    check_ok("bundled run", &run);
    assert_eq!(text(&run.stdout), sci.expected);
    assert_loads_only_from_bundle(
        &sci.hide,
        &sci.bundle,
        "import ssl, sqlite3, ctypes, numpy, numpy.linalg, lxml.etree, PIL.Image, cffi\n\
         from cryptography.hazmat.primitives.ciphers.aead import AESGCM\n\
         ctypes.CDLL('libshenzitest.so')",
        &sci.work,
    );
    // Wheels keep their layout: numpy's vendored libraries stay beside numpy.
    let site = sci.bundle.join("python/lib/python3.11/site-packages");
    if site.is_dir() {
        assert!(site.join("numpy.libs").is_dir());
        assert!(std::fs::read_dir(&site).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("numpy-")));
    }
}

/// Every ELF file under `dir` (by magic), as (path, bytes).
fn elf_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let meta = p.symlink_metadata().unwrap();
            if meta.is_dir() {
                stack.push(p);
            } else if meta.is_file() {
                let data = std::fs::read(&p).unwrap();
                if data.starts_with(b"\x7fELF") {
                    out.push((p, data));
                }
            }
        }
    }
    out
}

#[test]
fn strip_compact_bundle_runs_moved_with_environment_hidden() {
    let sci = need!(
        sci_bundle(),
        "the bundle venv (corpus/bundle/setup.sh), gcc and unshare"
    );
    let py = venv_python().unwrap();
    let work = scratch("sci-compact");
    let ctlib = work.join("ctlib");
    build_ctlib(&ctlib).unwrap();
    let app = corpus().join("sci/app.py");
    let (app_s, py_s) = (app.to_string_lossy(), py.to_string_lossy());
    let bundle = bundle_and_move(
        &work,
        &[
            "--strip",
            "--compact",
            "--python",
            &py_s,
            &app_s,
            "--",
            "x",
            "y z",
        ],
        &[("LD_LIBRARY_PATH", &ctlib)],
        &work,
    );
    let zip = bundle.join("python/lib/python311.zip");
    assert!(zip.is_file(), "no standard-library archive");
    assert!(!bundle.join("python/lib/python3.11/json").exists());
    assert!(bundle.join("python/lib/python3.11/os.py").is_file());
    let mut hide = sci.hide.clone();
    hide.push(ctlib);
    let run = run_hidden(&hide, &work.join("bin/app"), &["x", "y z"], &work);
    check_ok("bundled run", &run);
    assert_eq!(text(&run.stdout), sci.expected);
    // Modules come from the archive, byte-code is used (no source compiled, no cache written
    // into the archive), and a traceback through an archived module shows its source line.
    let probe = "import json, sys, importlib.util\n\
        assert json.__file__.startswith(sys.argv[1]), json.__file__\n\
        assert json.__spec__.loader.get_code('json') is not None\n\
        import traceback\n\
        try:\n    json.loads('{')\nexcept ValueError:\n    print(traceback.format_exc())";
    let exe = bundle.join("python/bin/python3.11");
    let o = run_hidden(&hide, &exe, &["-c", probe, &zip.to_string_lossy()], &work);
    check_ok("archived stdlib", &o);
    assert!(
        text(&o.stdout).contains("return _default_decoder.decode(s)"),
        "no source line in: {}",
        text(&o.stdout)
    );
    // --strip: no bundled ELF file keeps debug information or a static symbol table, each
    // still has its dynamic symbols, and every extension module still loads.
    let elves = elf_files(&bundle);
    assert!(elves.len() > 20, "only {} ELF files", elves.len());
    for (p, data) in &elves {
        let elf = shenzi_elf::Elf::parse(data).unwrap();
        let names: Vec<String> = (0..elf.section_headers().len())
            .map(|i| String::from_utf8_lossy(elf.section_name(i)).into_owned())
            .collect();
        assert!(
            !names
                .iter()
                .any(|n| n == ".symtab" || n.starts_with(".debug")),
            "{} keeps {names:?}",
            p.display()
        );
        assert!(names.iter().any(|n| n == ".dynsym"), "{}", p.display());
    }
    let libpython = entry_starting(&bundle.join("python/lib"), "libpython3");
    if let Some(lp) = libpython {
        let original = python_dirs(&py).1.join("lib").join(lp.file_name().unwrap());
        let (a, b) = (
            std::fs::read(&original).unwrap(),
            std::fs::read(&lp).unwrap(),
        );
        let had_symbols = shenzi_elf::Elf::parse(&a)
            .unwrap()
            .section_headers()
            .iter()
            .any(|s| s.sh_type == 2);
        assert!(
            !had_symbols || b.len() < a.len(),
            "{} was not stripped",
            lp.display()
        );
    }
    let report = std::fs::read_to_string(bundle.join("shenzi-manifest.json")).unwrap();
    assert!(report.contains("strip: "), "no strip note in the report");
    // Type stubs and C headers are left out; numpy's package data stays.
    let numpy = bundle.join("python/lib/python3.11/site-packages/numpy");
    assert!(!numpy.join("__init__.pyi").exists());
    assert!(!numpy.join("_core/include/numpy/ndarrayobject.h").exists());
    assert!(numpy.join("__init__.py").is_file());
    assert_loads_only_from_bundle(
        &hide,
        &bundle,
        "import ssl, sqlite3, ctypes, numpy, numpy.linalg, lxml.etree, PIL.Image, cffi\n\
         from cryptography.hazmat.primitives.ciphers.aead import AESGCM\n\
         ctypes.CDLL('libshenzitest.so')",
        &work,
    );
}

#[test]
fn console_script_of_a_bundled_distribution_runs_hidden() {
    let sci = need!(
        sci_bundle(),
        "the bundle venv (corpus/bundle/setup.sh), gcc and unshare"
    );
    // numpy ships `numpy-config` (2.x) and `f2py`; both print numpy's version.
    let (name, args): (&str, &[&str]) = if sci.bundle.join("bin/numpy-config").exists() {
        ("numpy-config", &["--version"])
    } else {
        ("f2py", &["-v"])
    };
    let original = Command::new(sci.venv_bin.join(name))
        .args(args)
        .output()
        .unwrap();
    check_ok("original console script", &original);
    let link = sci.work.join("bin").join(name);
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(sci.bundle.join("bin").join(name), &link).unwrap();
    let run = run_hidden(&sci.hide, &link, args, &sci.work);
    check_ok("bundled console script", &run);
    assert_eq!(text(&run.stdout), text(&original.stdout));
}

#[test]
fn module_entry_runs_moved_with_environment_hidden() {
    let py = need!(venv_python(), "the bundle venv (corpus/bundle/setup.sh)");
    need!(can_unshare(), "unshare -m (root)");
    let work = scratch("module");
    let src = corpus().join("sci");
    let original = Command::new(&py)
        .args(["-m", "scimod", "arg"])
        .current_dir(&src)
        .output()
        .unwrap();
    check_ok("original run", &original);
    let py_s = py.to_string_lossy().into_owned();
    bundle_and_move(
        &work,
        &["--python", &py_s, "-m", "scimod", "--", "arg"],
        &[],
        &src,
    );
    let mut hide = interpreter_dirs(&py);
    hide.push(corpus());
    let run = run_hidden(&hide, &work.join("bin/app"), &["arg"], &work);
    check_ok("bundled run", &run);
    assert_eq!(text(&run.stdout), text(&original.stdout));
}

#[test]
fn plain_console_and_gui_scripts_of_a_bundled_distribution_run_hidden() {
    let py = need!(venv_python(), "the bundle venv (corpus/bundle/setup.sh)");
    need!(can_unshare(), "unshare -m (root)");
    let venv_bin = py.parent().unwrap().to_path_buf();
    need!(
        venv_bin.join("shenzi-plain").is_file().then_some(()),
        "shenzi_scripts in the bundle venv (corpus/bundle/setup.sh)"
    );
    let work = scratch("scripts");
    let app = corpus().join("scripts/app.py");
    let py_s = py.to_string_lossy().into_owned();
    let bundle = bundle_and_move(
        &work,
        &["--python", &py_s, &app.to_string_lossy()],
        &[],
        &work,
    );
    let mut hide = interpreter_dirs(&py);
    hide.push(corpus());
    let args = ["a", "b c"];
    for name in [
        "shenzi-plain",
        "shenzi-shell",
        "shenzi-console",
        "shenzi-gui",
    ] {
        let original = Command::new(venv_bin.join(name))
            .args(args)
            .output()
            .unwrap();
        check_ok(&format!("original {name}"), &original);
        // Through a symlink elsewhere, as when linked onto PATH.
        let link = work.join("bin").join(name);
        std::os::unix::fs::symlink(bundle.join("bin").join(name), &link).unwrap();
        let run = run_hidden(&hide, &link, &args, &work);
        check_ok(&format!("bundled {name}"), &run);
        let (want, got) = (text(&original.stdout), text(&run.stdout));
        match want.split_once("executable ") {
            // The plain script prints its interpreter: the bundled one, not the venv's.
            Some((head, _)) => {
                let (got_head, exe) = got.split_once("executable ").unwrap();
                assert_eq!(got_head, head, "{name}");
                let exe = std::fs::canonicalize(exe.trim()).unwrap();
                assert!(
                    exe.starts_with(&bundle),
                    "{name} ran with {}",
                    exe.display()
                );
            }
            None => assert_eq!(got, want, "{name}"),
        }
    }
}

#[test]
fn missing_dependency_is_reported_with_the_library_that_needed_it() {
    let py = need!(system_python(), "python3");
    let work = scratch("missing");
    let ctlib = work.join("ctlib");
    need!(build_ctlib(&ctlib), "gcc");
    let manifest = work.join("m.json");
    let o = shenzi()
        .arg("observe")
        .arg("--python")
        .arg(&py)
        .arg(corpus().join("stdlib/app.py"))
        .arg("--out")
        .arg(&manifest)
        .env("LD_LIBRARY_PATH", &ctlib)
        .current_dir(&work)
        .output()
        .unwrap();
    check_ok("shenzi observe", &o);
    std::fs::remove_file(ctlib.join("libshenzidep.so")).unwrap();
    let out = work.join("dist");
    let o = shenzi()
        .arg("bundle")
        .arg("--manifest")
        .arg(&manifest)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(
        err.contains("libshenzidep.so") && err.contains("libshenzitest.so"),
        "error should name the missing library and who needs it:\n{err}"
    );
    assert!(!out.exists(), "a failed build must not leave a folder");
    let leftovers: Vec<_> = std::fs::read_dir(&work)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".dist"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary folders left: {leftovers:?}"
    );
}

#[test]
fn bad_manifests_give_clear_errors() {
    let work = scratch("badmanifest");
    let cases: [(&str, &str); 4] = [
        ("{ not json", "not valid JSON"),
        (
            r#"{"format": "something-else", "version": 1}"#,
            "not a shenzi observation manifest",
        ),
        (
            r#"{"format": "shenzi-observation", "version": 99}"#,
            "version 99 is not supported",
        ),
        (
            r#"{"format": "shenzi-observation", "version": 1, "entry": 5}"#,
            "does not match",
        ),
    ];
    for (i, (body, expect)) in cases.iter().enumerate() {
        let m = work.join(format!("m{i}.json"));
        std::fs::write(&m, body).unwrap();
        let out = work.join(format!("dist{i}"));
        let o = shenzi()
            .arg("bundle")
            .arg("--manifest")
            .arg(&m)
            .arg("-o")
            .arg(&out)
            .output()
            .unwrap();
        assert!(!o.status.success(), "case {i} should fail");
        let err = text(&o.stderr);
        assert!(
            err.contains(expect),
            "case {i}: expected {expect:?} in:\n{err}"
        );
        assert!(
            err.contains(&m.display().to_string()),
            "case {i} names the file:\n{err}"
        );
        assert!(!out.exists());
    }
    let o = shenzi()
        .args(["bundle", "--manifest"])
        .arg(work.join("absent.json"))
        .arg("-o")
        .arg(work.join("d"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("cannot read manifest"));
}

/// Every entry of a tree: path, kind, mode, mtime, link count and content.
fn tree_listing(dir: &Path) -> Vec<String> {
    use std::os::unix::fs::MetadataExt;
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let m = p.symlink_metadata().unwrap();
            let rel = p.strip_prefix(dir).unwrap().display().to_string();
            let content = if m.file_type().is_symlink() {
                std::fs::read_link(&p).unwrap().display().to_string()
            } else if m.is_file() {
                format!("{:x}", fnv(&std::fs::read(&p).unwrap()))
            } else {
                stack.push(p.clone());
                String::new()
            };
            out.push(format!(
                "{rel} {:o} {} {} {content}",
                m.mode(),
                m.mtime(),
                m.nlink()
            ));
        }
    }
    out.sort();
    out
}

fn fnv(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf29ce484222325u64, |h, &x| {
        (h ^ x as u64).wrapping_mul(0x100000001b3)
    })
}

#[test]
fn rebuilds_are_byte_identical_and_guarded() {
    let py = need!(system_python(), "python3");
    let work = scratch("repro");
    let manifest = work.join("m.json");
    let o = shenzi()
        .arg("observe")
        .arg("--python")
        .arg(&py)
        .arg(root().join("examples/hello/app.py"))
        .arg("--out")
        .arg(&manifest)
        .current_dir(&work)
        .output()
        .unwrap();
    check_ok("shenzi observe", &o);
    let build = |name: &str, extra: &[&str]| {
        shenzi()
            .arg("bundle")
            .arg("--manifest")
            .arg(&manifest)
            .arg("-o")
            .arg(work.join(name).join("dist"))
            .args(extra)
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .output()
            .unwrap()
    };
    let a_tar = work.join("a.tar.zst").display().to_string();
    let b_tar = work.join("b.tar.zst").display().to_string();
    check_ok("first build", &build("a", &["--archive", &a_tar]));
    check_ok("second build", &build("b", &["--archive", &b_tar]));
    let (la, lb) = (
        tree_listing(&work.join("a/dist")),
        tree_listing(&work.join("b/dist")),
    );
    assert!(la.len() > 100);
    assert_eq!(la, lb);
    assert!(la.iter().any(|l| l.contains(" 1700000000 ")));
    assert!(
        std::fs::read(&a_tar).unwrap() == std::fs::read(&b_tar).unwrap(),
        "archives of the same input differ"
    );

    // The report says where every file came from.
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(work.join("a/dist/shenzi-manifest.json")).unwrap())
            .unwrap();
    let files = report["files"].as_array().unwrap();
    assert!(files.iter().any(|f| f["path"] == "run.sh"));
    assert!(files
        .iter()
        .all(|f| f["source"].is_string() && f["why"].is_string()));
    assert!(report["glibc_floor"].is_string());

    // An existing folder is kept without --force, replaced with it.
    let again = build("a", &[]);
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("--force"));
    check_ok("forced rebuild", &build("a", &["--force"]));
    assert_eq!(tree_listing(&work.join("a/dist")), lb);

    // A glibc floor above the limit fails the build and leaves nothing behind.
    let low = build("c", &["--min-glibc", "2.0"]);
    assert!(!low.status.success());
    assert!(
        text(&low.stderr).contains("--min-glibc"),
        "{}",
        text(&low.stderr)
    );
    assert!(!work.join("c/dist").exists());
}

#[test]
fn same_named_libraries_with_different_content_do_not_clash() {
    let py = need!(system_python(), "python3");
    need!(can_unshare(), "unshare -m (root)");
    need!(on_path("gcc"), "gcc");
    let work = scratch("clash");
    let libs = work.join("libs");
    let st = Command::new("sh")
        .arg(corpus().join("clash/build.sh"))
        .arg(&libs)
        .status()
        .unwrap();
    assert!(st.success());
    let path = std::env::join_paths([libs.join("one"), libs.join("two")]).unwrap();
    let app = corpus().join("clash/app.py");
    let original = Command::new(&py)
        .arg(&app)
        .env("LD_LIBRARY_PATH", &path)
        .current_dir(&work)
        .output()
        .unwrap();
    check_ok("original run", &original);
    assert_eq!(text(&original.stdout).trim(), "101 102");
    let app_s = app.to_string_lossy().into_owned();
    let py_s = py.to_string_lossy().into_owned();
    let bundle = bundle_and_move(
        &work,
        &["--python", &py_s, &app_s],
        &[("LD_LIBRARY_PATH", Path::new(&path))],
        &work,
    );
    let clash: Vec<String> = std::fs::read_dir(bundle.join("lib"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("libclash"))
        .collect();
    assert_eq!(
        clash.len(),
        2,
        "both libclash.so kept, one renamed: {clash:?}"
    );
    let mut hide = interpreter_dirs(&py);
    hide.push(libs);
    hide.push(corpus());
    let run = run_hidden(&hide, &work.join("bin/app"), &[], &work);
    check_ok("bundled run", &run);
    assert_eq!(text(&run.stdout), text(&original.stdout));
}

#[test]
fn dependencies_found_through_inherited_rpath_are_bundled() {
    let py = need!(system_python(), "python3");
    need!(can_unshare(), "unshare -m (root)");
    need!(on_path("gcc"), "gcc");
    let work = scratch("chain");
    let libs = work.join("libs");
    let st = Command::new("sh")
        .arg(corpus().join("chain/build.sh"))
        .arg(&libs)
        .status()
        .unwrap();
    assert!(st.success());
    let ld_path = libs.join("a");
    let app = corpus().join("chain/app.py");
    let original = Command::new(&py)
        .arg(&app)
        .env("LD_LIBRARY_PATH", &ld_path)
        .current_dir(&work)
        .output()
        .unwrap();
    check_ok("original run", &original);
    let app_s = app.to_string_lossy().into_owned();
    let py_s = py.to_string_lossy().into_owned();
    let bundle = bundle_and_move(
        &work,
        &["--python", &py_s, &app_s],
        &[("LD_LIBRARY_PATH", &ld_path)],
        &work,
    );
    for lib in ["librpa.so", "librpb.so", "librpc.so"] {
        assert!(bundle.join("lib").join(lib).exists(), "{lib} is bundled");
    }
    let mut hide = interpreter_dirs(&py);
    hide.push(libs);
    hide.push(corpus());
    let run = run_hidden(&hide, &work.join("bin/app"), &[], &work);
    check_ok("bundled run", &run);
    assert_eq!(text(&run.stdout), text(&original.stdout));
}
