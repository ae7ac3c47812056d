//! shenzi as a Python package: the wheels and the sdist of `corpus/selfhost/setup.sh`
//! (maturin, zig as the linker), installed with pip into fresh venvs and used from there, and
//! `auditwheel repair` running with shenzi as its `patchelf` (the README's drop-in one-liner).
//!
//! Oracles: the wheels (corpus/selfhost/setup.sh), /usr/bin/python3 with venv, gcc, binutils'
//! readelf and objdump, auditwheel (target/auditwheel-venv, corpus/packaging/setup.sh). Missing
//! ones skip a test locally and fail it when `SHENZI_REQUIRE_ORACLES=1`.

#[macro_use]
mod common;
use common::{on_path, root, scratch, shenzi_cmd as shenzi, text};

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The drop-in one-liner of the README, for a venv that has shenzi installed.
const DROP_IN: &str =
    r#"for t in patchelf install_name_tool; do ln -sf shenzi "$VIRTUAL_ENV/bin/$t"; done"#;

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

/// Debian's interpreter, whose headers python3-dev installs and whose venvs the tests make.
fn python() -> Option<PathBuf> {
    let py = PathBuf::from("/usr/bin/python3");
    let ok = Command::new(&py)
        .args(["-c", "import venv, ensurepip, zipfile"])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some(py)
}

fn wheels_dir() -> PathBuf {
    std::env::var_os("SHENZI_WHEELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/corpus-selfhost/wheels"))
}

/// The one wheel of this version whose platform tag contains `platform`.
fn wheel(platform: &str) -> Option<PathBuf> {
    let prefix = format!("shenzi-{VERSION}-py3-none-");
    let mut found: Vec<PathBuf> = std::fs::read_dir(wheels_dir())
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let n = p.file_name().unwrap_or_default().to_string_lossy();
            n.starts_with(&prefix) && n.ends_with(".whl") && n.contains(platform)
        })
        .collect();
    assert!(found.len() <= 1, "several {platform} wheels: {found:?}");
    found.pop()
}

fn macos_wheels() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(wheels_dir())
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let n = p.file_name().unwrap_or_default().to_string_lossy();
            n.starts_with(&format!("shenzi-{VERSION}-")) && n.contains("-macosx_")
        })
        .collect();
    v.sort();
    v
}

/// The platform tags of a wheel file name (`a.b` compressed sets split).
fn name_tags(whl: &Path) -> BTreeSet<String> {
    let stem = whl.file_stem().unwrap().to_string_lossy().into_owned();
    let parts: Vec<&str> = stem.split('-').collect();
    assert_eq!(parts.len(), 5, "{stem}: not name-version-py-abi-platform");
    assert_eq!((parts[2], parts[3]), ("py3", "none"), "{stem}");
    parts[4].split('.').map(str::to_string).collect()
}

/// Extracts a wheel (file modes from the archive kept) into `dir`.
fn unpack(py: &Path, whl: &Path, dir: &Path) {
    let script = "import sys, zipfile, os\n\
        z = zipfile.ZipFile(sys.argv[1])\n\
        for i in z.infolist():\n\
        \x20   p = z.extract(i, sys.argv[2])\n\
        \x20   m = i.external_attr >> 16\n\
        \x20   if m and not i.is_dir():\n\
        \x20       os.chmod(p, m & 0o777)\n";
    run_ok(
        "unpacking the wheel",
        Command::new(py).args(["-c", script]).arg(whl).arg(dir),
    );
}

fn data_dir(unpacked: &Path) -> PathBuf {
    unpacked.join(format!("shenzi-{VERSION}.data"))
}

fn dist_info(unpacked: &Path) -> PathBuf {
    unpacked.join(format!("shenzi-{VERSION}.dist-info"))
}

/// `Key: value` lines of an email-style metadata file.
fn fields(path: &Path) -> Vec<(String, String)> {
    let t = std::fs::read_to_string(path).unwrap();
    t.lines()
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn field<'a>(f: &'a [(String, String)], key: &str) -> Vec<&'a str> {
    f.iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// Checks the package metadata, WHEEL, RECORD and the manual pages of an unpacked wheel.
fn check_wheel_contents(unpacked: &Path, tags: &BTreeSet<String>) {
    let meta = fields(&dist_info(unpacked).join("METADATA"));
    assert_eq!(field(&meta, "Name"), ["shenzi"]);
    assert_eq!(field(&meta, "Version"), [VERSION]);
    assert_eq!(field(&meta, "License-Expression"), ["MIT OR Apache-2.0"]);
    assert_eq!(field(&meta, "Requires-Python"), [">=3.8"]);
    let summary = field(&meta, "Summary");
    assert!(
        summary.len() == 1 && summary[0].contains("patchelf"),
        "{summary:?}"
    );
    let classifiers = field(&meta, "Classifier");
    for c in [
        "Programming Language :: Rust",
        "Operating System :: POSIX :: Linux",
        "Operating System :: MacOS",
    ] {
        assert!(classifiers.contains(&c), "{c} missing from {classifiers:?}");
    }
    assert!(field(&meta, "Description-Content-Type")
        .first()
        .is_some_and(|t| t.starts_with("text/markdown")));

    let wheel = fields(&dist_info(unpacked).join("WHEEL"));
    assert_eq!(field(&wheel, "Root-Is-Purelib"), ["false"]);
    let wheel_tags: BTreeSet<String> = field(&wheel, "Tag")
        .iter()
        .map(|t| {
            t.strip_prefix("py3-none-")
                .unwrap_or_else(|| panic!("tag {t}"))
                .to_string()
        })
        .collect();
    assert_eq!(&wheel_tags, tags, "WHEEL tags against the file name");

    // RECORD lists every file with its hash, and nothing else.
    let record = std::fs::read_to_string(dist_info(unpacked).join("RECORD")).unwrap();
    let listed: BTreeSet<String> = record
        .lines()
        .filter_map(|l| l.split(',').next())
        .map(str::to_string)
        .collect();
    let present: BTreeSet<String> = walk(unpacked)
        .into_iter()
        .map(|p| p.strip_prefix(unpacked).unwrap().display().to_string())
        .collect();
    assert_eq!(listed, present, "RECORD against the files");

    // The binary is a script (on PATH once installed), the pages are the committed ones.
    assert!(data_dir(unpacked).join("scripts/shenzi").is_file());
    let man = data_dir(unpacked).join("data/share/man/man1");
    let committed = root().join("packaging/shenzi.data/data/share/man/man1");
    let names = |d: &Path| -> BTreeSet<String> {
        std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    assert_eq!(names(&man), names(&committed));
    assert!(names(&man).contains("shenzi.1") && names(&man).contains("shenzi-patch.1"));
    for n in names(&man) {
        assert!(
            std::fs::read(man.join(&n)).unwrap() == std::fs::read(committed.join(&n)).unwrap(),
            "{n} in the wheel differs from the committed page (a wheel older than the source?)"
        );
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn json_lines(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

/// The newest `GLIBC_x.y` in the dynamic symbol table, by binutils' objdump (an oracle that
/// shares no code with shenzi).
fn objdump_glibc(file: &Path) -> Option<(u32, u32)> {
    let out = run_ok("objdump -T", Command::new("objdump").arg("-T").arg(file));
    out.split_whitespace()
        .filter_map(|w| {
            w.trim_matches(|c| c == '(' || c == ')')
                .strip_prefix("GLIBC_")
        })
        .filter_map(|v| {
            let (a, b) = v.split_once('.')?;
            Some((a.parse().ok()?, b.split('.').next()?.parse().ok()?))
        })
        .max()
}

#[test]
fn linux_wheel_is_manylinux_x86_64_and_needs_no_newer_glibc() {
    let whl = need!(
        wheel("manylinux"),
        "the manylinux wheel (corpus/selfhost/setup.sh)"
    );
    let py = need!(python(), "/usr/bin/python3");
    need!(on_path("objdump"), "objdump (binutils)");
    let tags = name_tags(&whl);
    // maturin writes both spellings of the same policy.
    assert_eq!(
        tags,
        BTreeSet::from([
            "manylinux_2_17_x86_64".to_string(),
            "manylinux2014_x86_64".to_string()
        ]),
        "{}",
        whl.display()
    );
    let dir = scratch("linux-wheel");
    unpack(&py, &whl, &dir);
    check_wheel_contents(&dir, &tags);

    let bin = data_dir(&dir).join("scripts/shenzi");
    let summary = json_lines(&run_ok(
        "shenzi patch --json",
        shenzi().args(["patch", "--json"]).arg(&bin),
    ));
    assert_eq!(summary[0]["machine"], "x86_64");
    assert_eq!(summary[0]["class"], "ELF64");
    assert_eq!(summary[0]["interpreter"], "/lib64/ld-linux-x86-64.so.2");

    // The tag's floor: the lowest glibc any of its tags promises.
    let floor = json_lines(&run_ok(
        "shenzi floor --json",
        shenzi().args(["floor", "--json"]).arg(&bin),
    ));
    let need: Vec<u32> = floor[0]["glibc"]
        .as_str()
        .expect("a glibc version")
        .split('.')
        .map(|p| p.parse().unwrap())
        .collect();
    let need = (need[0], need[1]);
    assert!(need <= (2, 17), "the binary needs glibc {need:?}");
    assert_eq!(objdump_glibc(&bin), Some(need), "objdump disagrees");
    run_ok(
        "shenzi floor --min-glibc 2.17",
        shenzi().args(["floor", "--min-glibc", "2.17"]).arg(&bin),
    );
    // And the check is not vacuous: a host program needs more than 2.17 here.
    let host = Command::new("objdump")
        .arg("-T")
        .arg("/bin/ls")
        .output()
        .unwrap();
    if text(&host.stdout).contains("GLIBC_2.34") {
        let o = shenzi()
            .args(["floor", "--min-glibc", "2.17", "/bin/ls"])
            .output()
            .unwrap();
        assert!(!o.status.success());
        assert!(text(&o.stderr).contains("newer than --min-glibc 2.17"));
    }
}

/// A fresh venv of Debian's interpreter.
fn venv(py: &Path, dir: &Path) -> PathBuf {
    run_ok(
        "python3 -m venv",
        Command::new(py).args(["-m", "venv"]).arg(dir),
    );
    dir.to_path_buf()
}

fn pip_install(venv: &Path, whl: &Path) {
    run_ok(
        "pip install --no-index",
        Command::new(venv.join("bin/pip"))
            .args([
                "install",
                "--no-index",
                "--disable-pip-version-check",
                "--quiet",
            ])
            .arg(whl),
    );
}

/// PATH with the venv's bin/ first and the system's directories after it.
fn venv_path(venv: &Path) -> String {
    format!("{}:/usr/bin:/bin", venv.join("bin").display())
}

/// Builds `bin/app`, which needs `lib/libpkgdemo.so` and finds it only through a run path.
fn build_app(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir.join("lib")).unwrap();
    std::fs::create_dir_all(dir.join("bin")).unwrap();
    std::fs::write(dir.join("lib.c"), "int pkgdemo(void) { return 42; }\n").unwrap();
    std::fs::write(
        dir.join("app.c"),
        "#include <stdio.h>\nint pkgdemo(void);\nint main(void) { printf(\"app %d\\n\", pkgdemo()); return 0; }\n",
    )
    .unwrap();
    run_ok(
        "gcc lib",
        Command::new("gcc")
            .args(["-shared", "-fPIC", "-o", "lib/libpkgdemo.so", "lib.c"])
            .current_dir(dir),
    );
    run_ok(
        "gcc app",
        Command::new("gcc")
            .args(["-o", "bin/app", "app.c", "-Llib", "-lpkgdemo"])
            .current_dir(dir),
    );
    dir.join("bin/app")
}

#[test]
fn linux_wheel_installs_with_pip_and_works_from_the_venv() {
    let whl = need!(
        wheel("manylinux"),
        "the manylinux wheel (corpus/selfhost/setup.sh)"
    );
    let py = need!(python(), "/usr/bin/python3");
    need!(on_path("gcc"), "gcc");
    let dir = scratch("linux-install");
    let v = venv(&py, &dir.join("venv"));
    pip_install(&v, &whl);
    let path = venv_path(&v);

    // On the venv's PATH, the installed binary, not this build's.
    let which = run_ok(
        "command -v shenzi",
        Command::new("sh")
            .args(["-c", "command -v shenzi"])
            .env("PATH", &path),
    );
    assert_eq!(which.trim(), v.join("bin/shenzi").display().to_string());
    let sh = |script: &str, cwd: &Path| -> String {
        run_ok(
            script,
            Command::new("sh")
                .args(["-c", script])
                .current_dir(cwd)
                .env("PATH", &path)
                .env("VIRTUAL_ENV", &v)
                .env_remove("LD_LIBRARY_PATH"),
        )
    };
    assert_eq!(
        sh("shenzi --version", &dir).trim(),
        format!("shenzi {VERSION}")
    );
    assert!(v.join("share/man/man1/shenzi.1").is_file());
    assert!(v.join("share/man/man1/shenzi-bundle.1").is_file());

    // `shenzi patch --rpath` makes a program find its library.
    let app = build_app(&dir.join("prog"));
    let before = Command::new(&app)
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .unwrap();
    assert!(!before.status.success(), "the app ran without a run path");
    sh(
        "shenzi patch --rpath '$ORIGIN/../lib' bin/app",
        &dir.join("prog"),
    );
    assert_eq!(sh("bin/app", &dir.join("prog")), "app 42\n");

    // The README's one-liner makes shenzi the venv's patchelf: --set-rpath on a copy.
    sh(DROP_IN, &dir);
    for t in ["patchelf", "install_name_tool"] {
        assert_eq!(
            std::fs::read_link(v.join("bin").join(t)).unwrap(),
            Path::new("shenzi")
        );
    }
    assert_eq!(
        sh("command -v patchelf", &dir).trim(),
        v.join("bin/patchelf").display().to_string()
    );
    assert!(sh("patchelf --version", &dir).contains(&format!("(shenzi {VERSION})")));
    std::fs::create_dir_all(dir.join("prog/bin2")).unwrap();
    sh(
        "patchelf --set-rpath '$ORIGIN/../lib' --output bin2/app bin/app && patchelf --remove-rpath bin/app",
        &dir.join("prog"),
    );
    assert_eq!(sh("bin2/app", &dir.join("prog")), "app 42\n");
    assert_eq!(
        sh("patchelf --print-rpath bin2/app", &dir.join("prog")),
        "$ORIGIN/../lib\n"
    );

    // A small bundle made by the installed shenzi runs.
    let hello = root().join("examples/hello");
    let want = run_ok(
        "python3 app.py",
        Command::new(&py).arg(hello.join("app.py")).arg("pip"),
    );
    let out = dir.join("dist");
    run_ok(
        "shenzi bundle",
        Command::new(v.join("bin/shenzi"))
            .arg("bundle")
            .arg("--python")
            .arg(&py)
            .arg(hello.join("app.py"))
            .arg("-o")
            .arg(&out)
            .args(["--", "pip"])
            .env("PATH", &path),
    );
    let got = run_ok(
        "dist/run.sh",
        Command::new(out.join("run.sh"))
            .arg("pip")
            .env("PATH", "/usr/bin:/bin"),
    );
    assert_eq!(got, want);
}

/// (platform tag, its macOS version, its architectures).
fn macos_tag(tag: &str) -> ((u32, u32), Vec<&'static str>) {
    let rest = tag
        .strip_prefix("macosx_")
        .unwrap_or_else(|| panic!("{tag}"));
    let mut it = rest.splitn(3, '_');
    let major: u32 = it.next().unwrap().parse().unwrap();
    let minor: u32 = it.next().unwrap().parse().unwrap();
    let arch = match it.next().unwrap() {
        "arm64" => vec!["arm64"],
        "x86_64" => vec!["x86_64"],
        "universal2" => vec!["arm64", "x86_64"],
        other => panic!("unexpected architecture {other} in {tag}"),
    };
    ((major, minor), arch)
}

fn is_macho(p: &Path) -> bool {
    use std::io::Read;
    let mut m = [0u8; 4];
    std::fs::File::open(p)
        .and_then(|mut f| f.read_exact(&mut m))
        .is_ok()
        && matches!(
            u32::from_be_bytes(m),
            0xfeedface | 0xfeedfacf | 0xcefaedfe | 0xcffaedfe | 0xcafebabe | 0xcafebabf
        )
}

/// Every Mach-O file of every macOS wheel, unpacked: (wheel, tag, file).
fn macos_machos(py: &Path, name: &str) -> Vec<(PathBuf, String, PathBuf)> {
    let mut out = Vec::new();
    for whl in macos_wheels() {
        let tags = name_tags(&whl);
        assert_eq!(tags.len(), 1, "{}", whl.display());
        let tag = tags.iter().next().unwrap().clone();
        let dir = scratch(&format!("{name}-{tag}"));
        unpack(py, &whl, &dir);
        check_wheel_contents(&dir, &tags);
        let files: Vec<PathBuf> = walk(&dir).into_iter().filter(|p| is_macho(p)).collect();
        assert!(
            files.contains(&data_dir(&dir).join("scripts/shenzi")),
            "{}: no Mach-O shenzi binary",
            whl.display()
        );
        for f in files {
            out.push((whl.clone(), tag.clone(), f));
        }
    }
    out
}

#[test]
fn macos_wheels_have_the_right_tags_and_floors() {
    let py = need!(python(), "/usr/bin/python3");
    let wheels = macos_wheels();
    need!(
        (!wheels.is_empty()).then_some(()),
        "the macOS wheels (corpus/selfhost/setup.sh)"
    );
    let tags: BTreeSet<String> = wheels.iter().flat_map(|w| name_tags(w)).collect();
    let expected_thin = BTreeSet::from([
        "macosx_11_0_arm64".to_string(),
        "macosx_10_12_x86_64".to_string(),
    ]);
    assert!(
        tags == expected_thin || tags.iter().all(|t| t.ends_with("_universal2")),
        "macOS wheel tags: {tags:?}"
    );
    let mut archs = BTreeSet::new();
    for (whl, tag, file) in macos_machos(&py, "macos-tags") {
        let ((major, minor), tag_archs) = macos_tag(&tag);
        let floor = json_lines(&run_ok(
            "shenzi floor --json",
            shenzi().args(["floor", "--json"]).arg(&file),
        ));
        let slices = floor[0]["slices"].as_array().unwrap();
        let mut got: Vec<&str> = slices.iter().map(|s| s["arch"].as_str().unwrap()).collect();
        got.sort();
        assert_eq!(got, tag_archs, "{} in {}", file.display(), whl.display());
        for s in slices {
            let v: Vec<u32> = s["macos"]
                .as_str()
                .expect("a minimum macOS version")
                .split('.')
                .map(|p| p.parse().unwrap())
                .collect();
            assert!(
                (v[0], v.get(1).copied().unwrap_or(0)) <= (major, minor),
                "{} ({}) needs macOS {v:?}, newer than its tag {tag}",
                file.display(),
                s["arch"]
            );
            archs.insert(s["arch"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(
        archs,
        BTreeSet::from(["arm64".to_string(), "x86_64".to_string()])
    );
}

#[test]
fn every_macho_in_the_macos_wheels_verifies() {
    let py = need!(python(), "/usr/bin/python3");
    need!(
        (!macos_wheels().is_empty()).then_some(()),
        "the macOS wheels (corpus/selfhost/setup.sh)"
    );
    let mut bad = Vec::new();
    for (_, _, file) in macos_machos(&py, "macos-sign") {
        let o = shenzi()
            .args(["codesign", "--verify", "--json"])
            .arg(&file)
            .output()
            .unwrap();
        for slice in json_lines(&text(&o.stdout)) {
            let arch = slice["arch"].as_str().unwrap_or("?");
            let ok = slice["valid"] == true
                // x86_64 macOS runs unsigned code, and linkers leave it unsigned.
                || (arch == "x86_64" && slice["signed"] == false);
            if !ok {
                bad.push(format!(
                    "{} ({arch}): {}",
                    file.display(),
                    slice["report"]["problems"]
                ));
            }
        }
        assert!(
            !text(&o.stdout).is_empty(),
            "no verification output: {}",
            text(&o.stderr)
        );
    }
    assert!(
        bad.is_empty(),
        "signatures that do not verify:\n{}",
        bad.join("\n")
    );
}

#[test]
fn sdist_holds_what_a_build_needs() {
    let sdist = wheels_dir().join(format!("shenzi-{VERSION}.tar.gz"));
    need!(
        sdist.is_file().then_some(()),
        "the sdist (corpus/selfhost/setup.sh)"
    );
    let file = std::fs::File::open(&sdist).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let prefix = format!("shenzi-{VERSION}/");
    let mut names = BTreeSet::new();
    let mut pkg_info = String::new();
    for e in archive.entries().unwrap() {
        let mut e = e.unwrap();
        let p = e.path().unwrap().display().to_string();
        let rel = p
            .strip_prefix(&prefix)
            .unwrap_or_else(|| panic!("{p} outside {prefix}"))
            .to_string();
        if rel == "PKG-INFO" {
            std::io::Read::read_to_string(&mut e, &mut pkg_info).unwrap();
        }
        names.insert(rel);
    }
    for n in [
        "PKG-INFO",
        "pyproject.toml",
        "Cargo.toml",
        "Cargo.lock",
        "README.md",
        "src/main.rs",
        "elf/Cargo.toml",
        "elf/src/lib.rs",
        "macho/Cargo.toml",
        "macho/src/lib.rs",
        "packaging/shenzi.data/data/share/man/man1/shenzi.1",
    ] {
        assert!(names.contains(n), "{n} missing from the sdist");
    }
    // Every source file of the three crates, and every file they include at compile time.
    for crate_dir in ["src", "elf/src", "macho/src"] {
        for f in walk(&root().join(crate_dir)) {
            let rel = f.strip_prefix(root()).unwrap().display().to_string();
            assert!(names.contains(&rel), "{rel} missing from the sdist");
            if f.extension().is_some_and(|e| e == "rs") {
                let src = std::fs::read_to_string(&f).unwrap();
                for inc in included(&src) {
                    let p = f.parent().unwrap().join(inc);
                    let p = std::fs::canonicalize(&p).unwrap();
                    let rel = p.strip_prefix(root()).unwrap().display().to_string();
                    assert!(names.contains(&rel), "{rel} (included) missing");
                }
            }
        }
    }
    for n in &names {
        for left_out in ["target/", "corpus/", "tests/", "fuzz/", ".ci/"] {
            assert!(!n.starts_with(left_out), "{n} is in the sdist");
        }
    }
    assert!(pkg_info.contains("Name: shenzi\n"));
    assert!(pkg_info.contains(&format!("Version: {VERSION}\n")));
    assert!(pkg_info.contains("License-Expression: MIT OR Apache-2.0\n"));
}

/// Paths in `include_str!("…")` / `include_bytes!("…")`.
fn included(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    for mac in ["include_str!(\"", "include_bytes!(\""] {
        let mut rest = src;
        while let Some(i) = rest.find(mac) {
            rest = &rest[i + mac.len()..];
            if let Some(end) = rest.find('"') {
                out.push(rest[..end].to_string());
            }
        }
    }
    out
}

#[test]
fn readme_documents_the_drop_in_one_liner() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(readme.contains(DROP_IN), "README lacks: {DROP_IN}");
    assert!(readme.contains("pip install shenzi"));
}

fn readelf_dynamic(file: &Path) -> String {
    run_ok("readelf -d", Command::new("readelf").arg("-dW").arg(file))
}

/// Values of one dynamic tag in `readelf -d` output: `(NEEDED) Shared library: [x]` → x.
fn tag_values(dynamic: &str, tag: &str) -> Vec<String> {
    dynamic
        .lines()
        .filter(|l| l.contains(&format!("({tag})")))
        .filter_map(|l| Some(l.split_once('[')?.1.trim_end_matches(']').to_string()))
        .collect()
}

#[test]
fn auditwheel_repair_uses_shenzi_as_patchelf() {
    let shenzi_whl = need!(
        wheel("manylinux"),
        "the manylinux wheel (corpus/selfhost/setup.sh)"
    );
    let py = need!(python(), "/usr/bin/python3");
    need!(on_path("gcc"), "gcc");
    need!(on_path("readelf"), "readelf (binutils)");
    let auditwheel = root().join("target/auditwheel-venv/bin/auditwheel");
    need!(
        auditwheel.is_file().then_some(()),
        "auditwheel (corpus/packaging/setup.sh)"
    );
    need!(
        Path::new("/usr/include")
            .read_dir()
            .ok()
            .and_then(|mut d| d.find(|e| e
                .as_ref()
                .is_ok_and(|e| e.path().join("Python.h").is_file())))
            .map(|_| ()),
        "Python headers (python3-dev)"
    );
    let dir = scratch("auditwheel");

    // The demo wheel: an extension module whose library lives in the build tree.
    let build = dir.join("build");
    run_ok(
        "corpus/packaging/demo/build.sh",
        Command::new("sh")
            .arg(root().join("corpus/packaging/demo/build.sh"))
            .arg(&build)
            .arg(&py),
    );
    let demo = std::fs::read_dir(build.join("wheel"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .expect("the demo wheel");

    // A venv with shenzi from its wheel and the README's one-liner: its bin/ is the whole
    // PATH auditwheel gets, so its patchelf can only be shenzi.
    let tools = venv(&py, &dir.join("tools"));
    pip_install(&tools, &shenzi_whl);
    run_ok(
        "the drop-in one-liner",
        Command::new("sh")
            .args(["-c", DROP_IN])
            .env("VIRTUAL_ENV", &tools),
    );
    let bin = tools.join("bin");
    let path = bin.display().to_string();
    for d in std::env::split_paths(&path) {
        let p = d.join("patchelf");
        assert_eq!(
            std::fs::canonicalize(&p).unwrap(),
            std::fs::canonicalize(bin.join("shenzi")).unwrap(),
            "{} is not shenzi",
            p.display()
        );
    }
    let repaired = dir.join("repaired");
    let o = Command::new(&auditwheel)
        .arg("repair")
        .arg(&demo)
        .arg("-w")
        .arg(&repaired)
        .env("PATH", &path)
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .unwrap();
    check_ok("auditwheel repair", &o);
    let fixed = std::fs::read_dir(&repaired)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .expect("a repaired wheel");
    let fixed_name = fixed.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        fixed_name.contains("manylinux") && fixed_name.ends_with("_x86_64.whl"),
        "{fixed_name}"
    );

    // The grafted library and the extension's edits, by readelf.
    let unpacked = dir.join("unpacked");
    unpack(&py, &fixed, &unpacked);
    let libs = unpacked.join("shenzidemo.libs");
    let grafted: Vec<PathBuf> = std::fs::read_dir(&libs)
        .unwrap_or_else(|e| panic!("{}: {e}", libs.display()))
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(grafted.len(), 1, "{grafted:?}");
    let grafted_name = grafted[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        grafted_name.starts_with("libshenzidemo-") && grafted_name.ends_with(".so.1"),
        "{grafted_name}"
    );
    assert_eq!(
        tag_values(&readelf_dynamic(&grafted[0]), "SONAME"),
        std::slice::from_ref(&grafted_name)
    );
    let ext = walk(&unpacked)
        .into_iter()
        .find(|p| {
            p.parent() == Some(unpacked.as_path())
                && p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("shenzidemo.")
                && p.extension().is_some_and(|e| e == "so")
        })
        .expect("the extension module");
    let dynamic = readelf_dynamic(&ext);
    let needed = tag_values(&dynamic, "NEEDED");
    assert!(needed.contains(&grafted_name), "{needed:?}");
    assert!(
        !needed.iter().any(|n| n == "libshenzidemo.so.1"),
        "{needed:?}"
    );
    let mut run_path = tag_values(&dynamic, "RPATH");
    run_path.extend(tag_values(&dynamic, "RUNPATH"));
    assert_eq!(run_path, ["$ORIGIN/shenzidemo.libs"], "{dynamic}");

    // The build tree's library directory goes away; the original wheel no longer imports,
    // the repaired one does.
    std::fs::rename(build.join("lib"), build.join("lib.hidden")).unwrap();
    let import = |venv: &Path| -> Output {
        Command::new(venv.join("bin/python"))
            .args(["-c", "import shenzidemo; print(shenzidemo.answer())"])
            .current_dir(&dir)
            .env_remove("LD_LIBRARY_PATH")
            .env_remove("PYTHONPATH")
            .output()
            .unwrap()
    };
    let plain = venv(&py, &dir.join("plain"));
    pip_install(&plain, &demo);
    let o = import(&plain);
    assert!(
        !o.status.success() && text(&o.stderr).contains("libshenzidemo.so.1"),
        "the unrepaired wheel imported without its library: {}",
        text(&o.stderr)
    );
    let good = venv(&py, &dir.join("good"));
    pip_install(&good, &fixed);
    assert_eq!(check_ok("import shenzidemo", &import(&good)), "42\n");
}
