//! The SBOM of a bundle (`shenzi-sbom.cdx.json`) against independent oracles: the CycloneDX
//! JSON schema (cyclonedx-python-lib's strict validator, with packageurl-python parsing every
//! purl), the bundled bytes hashed here, each distribution's METADATA read here, `dpkg -S` and
//! `dpkg-query` for the Debian packages, the `object` crate for DT_NEEDED.
//!
//! Oracles: python3 (the stdlib app), the venv of `corpus/bundle/setup.sh` (numpy, pillow, lxml,
//! cryptography), the validator venv of `corpus/sbom/setup.sh`, gcc, dpkg. Missing ones skip
//! the test locally and fail it when `SHENZI_REQUIRE_ORACLES=1`.

#[macro_use]
mod common;
use common::{on_path, scratch, shenzi_cmd as shenzi, text};

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;
use sha2::{Digest, Sha256};

fn corpus() -> PathBuf {
    common::root().join("corpus/bundle")
}

fn venv_python() -> Option<PathBuf> {
    let venv = std::env::var_os("SHENZI_BUNDLE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::root().join("target/bundle-venv"));
    let py = venv.join("bin/python");
    let ok = Command::new(&py)
        .args(["-c", "import numpy, PIL, lxml, cryptography"])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some(py)
}

/// The interpreter of the validator venv (corpus/sbom/setup.sh).
fn validator() -> Option<PathBuf> {
    let venv = std::env::var_os("SHENZI_SBOM_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::root().join("target/sbom-venv"));
    let py = venv.join("bin/python");
    let ok = Command::new(&py)
        .args([
            "-c",
            "from cyclonedx.validation.json import JsonStrictValidator; import packageurl",
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some(py)
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

fn check_ok(what: &str, o: &Output) {
    assert!(
        o.status.success(),
        "{what} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        o.status,
        text(&o.stdout),
        text(&o.stderr)
    );
}

/// `shenzi observe` of `app` (with the ctypes test library on LD_LIBRARY_PATH).
fn observe(py: &Path, app: &Path, ctlib: &Path, work: &Path) -> PathBuf {
    let manifest = work.join("observed.json");
    let o = shenzi()
        .arg("observe")
        .arg("--python")
        .arg(py)
        .arg(app)
        .arg("--out")
        .arg(&manifest)
        .env("LD_LIBRARY_PATH", ctlib)
        .current_dir(work)
        .output()
        .unwrap();
    check_ok("shenzi observe", &o);
    manifest
}

/// Bundles a recorded run into `out` with a fixed SOURCE_DATE_EPOCH.
fn build(manifest: &Path, out: &Path, extra: &[&str]) {
    let o = shenzi()
        .arg("bundle")
        .arg("--manifest")
        .arg(manifest)
        .arg("-o")
        .arg(out)
        .args(extra)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .unwrap();
    check_ok("shenzi bundle", &o);
}

struct Built {
    work: PathBuf,
    manifest: PathBuf,
    bundle: PathBuf,
    venv: PathBuf,
    ctlib: PathBuf,
}

/// The numpy/pillow/lxml/cryptography app (corpus/bundle/sci), observed and bundled once.
fn sci() -> Option<&'static Built> {
    static SCI: OnceLock<Option<Built>> = OnceLock::new();
    SCI.get_or_init(|| {
        let py = venv_python()?;
        let work = scratch("sci");
        let ctlib = work.join("ctlib");
        build_ctlib(&ctlib)?;
        let manifest = observe(&py, &corpus().join("sci/app.py"), &ctlib, &work);
        let bundle = work.join("a/dist");
        build(&manifest, &bundle, &[]);
        Some(Built {
            work,
            manifest,
            bundle,
            venv: py.parent()?.parent()?.to_path_buf(),
            ctlib,
        })
    })
    .as_ref()
}

/// The stdlib + ctypes app (corpus/bundle/stdlib) with the system's python3.
fn stdlib() -> Option<&'static Built> {
    static STD: OnceLock<Option<Built>> = OnceLock::new();
    STD.get_or_init(|| {
        let py = on_path("python3")?;
        let work = scratch("stdlib");
        let ctlib = work.join("ctlib");
        build_ctlib(&ctlib)?;
        let manifest = observe(&py, &corpus().join("stdlib/app.py"), &ctlib, &work);
        let bundle = work.join("a/dist");
        build(&manifest, &bundle, &[]);
        Some(Built {
            work,
            manifest,
            bundle,
            venv: py,
            ctlib,
        })
    })
    .as_ref()
}

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap()
}

fn sbom_of(bundle: &Path) -> Value {
    read_json(&bundle.join("shenzi-sbom.cdx.json"))
}

/// Every component, nested ones included, with its parent's bom-ref.
fn all_components(bom: &Value) -> Vec<(Option<String>, &Value)> {
    fn walk<'a>(cs: &'a Value, parent: Option<String>, out: &mut Vec<(Option<String>, &'a Value)>) {
        for c in cs.as_array().into_iter().flatten() {
            out.push((parent.clone(), c));
            walk(
                &c["components"],
                c["bom-ref"].as_str().map(String::from),
                out,
            );
        }
    }
    let mut out = Vec::new();
    walk(&bom["components"], None, &mut out);
    out
}

fn property<'a>(c: &'a Value, name: &str) -> Option<&'a str> {
    c["properties"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == name)
        .and_then(|p| p["value"].as_str())
}

/// Validates with the CycloneDX schema; returns the purls as packageurl-python parsed them.
fn validate(validator: &Path, file: &Path) -> BTreeMap<String, Value> {
    let o = Command::new(validator)
        .arg(common::root().join("corpus/sbom/validate.py"))
        .arg(file)
        .output()
        .unwrap();
    check_ok("the CycloneDX validator", &o);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let errors = v["errors"].as_array().unwrap();
    assert!(
        errors.is_empty(),
        "{} does not validate:\n{errors:#?}",
        file.display()
    );
    v["purls"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Whether bytes start like an ELF or Mach-O file (thin, or fat with a plausible slice count).
fn is_native(data: &[u8]) -> bool {
    let be = |i: usize| {
        data.get(i..i + 4)
            .map(|b| u32::from_be_bytes(b.try_into().unwrap()))
    };
    data.starts_with(b"\x7fELF")
        || matches!(
            be(0),
            Some(0xfeedface | 0xfeedfacf | 0xcefaedfe | 0xcffaedfe)
        )
        || (matches!(be(0), Some(0xcafebabe | 0xcafebabf)) && be(4).is_some_and(|n| n < 32))
}

/// Regular files of the bundle that are ELF or Mach-O files (symlinks not followed), with the
/// SHA-256 of their bytes.
fn native_files(bundle: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![bundle.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let m = p.symlink_metadata().unwrap();
            if m.is_dir() {
                stack.push(p);
            } else if m.is_file() {
                let data = std::fs::read(&p).unwrap();
                if is_native(&data) {
                    let rel = p
                        .strip_prefix(bundle)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned();
                    out.insert(rel, format!("{:x}", Sha256::digest(&data)));
                }
            }
        }
    }
    out
}

/// The checks every bundle's SBOM must pass: schema, every native file exactly once with the
/// hash of its bundled bytes, bom-refs unique and (ELF) every dependency edge a DT_NEEDED of
/// its file.
fn check_sbom(bundle: &Path, validator: &Path) -> Value {
    let bom = sbom_of(bundle);
    validate(validator, &bundle.join("shenzi-sbom.cdx.json"));
    assert_eq!(bom["specVersion"], "1.6");
    assert!(bom["serialNumber"]
        .as_str()
        .is_some_and(|s| s.starts_with("urn:uuid:")));

    let comps = all_components(&bom);
    let mut refs = BTreeSet::new();
    for (_, c) in &comps {
        let r = c["bom-ref"]
            .as_str()
            .expect("every component has a bom-ref");
        assert!(refs.insert(r.to_string()), "bom-ref {r} twice");
    }
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    for (_, c) in comps.iter().filter(|(_, c)| c["type"] == "file") {
        let name = c["name"].as_str().unwrap().to_string();
        let hashes = c["hashes"].as_array().unwrap();
        assert_eq!(hashes.len(), 1);
        assert_eq!(hashes[0]["alg"], "SHA-256");
        let h = hashes[0]["content"].as_str().unwrap().to_string();
        assert!(
            files.insert(name.clone(), h).is_none(),
            "{name} is listed twice"
        );
    }
    let native = native_files(bundle);
    assert!(native.len() > 5, "{native:?}");
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        native.keys().collect::<Vec<_>>(),
        "the SBOM lists exactly the bundle's native files"
    );
    for (f, h) in &native {
        assert_eq!(&files[f], h, "{f}: SHA-256 of the bundled bytes");
    }

    // Dependencies: refs exist; an edge A → B means B is a DT_NEEDED of A (by file name or
    // soname), as an independent reader (the object crate) sees A, ELF or Mach-O.
    let deps = bom["dependencies"].as_array().unwrap();
    let mut edges = 0;
    for d in deps {
        let r = d["ref"].as_str().unwrap();
        assert!(refs.contains(r) || r == "app", "dependency of unknown {r}");
        let Some(from) = r.strip_prefix("file:") else {
            continue;
        };
        if d["dependsOn"].as_array().is_none_or(|a| a.is_empty()) {
            continue;
        }
        let leaf = |p: &str| p.rsplit('/').next().unwrap_or(p).to_string();
        // What `from` asks for, and the names `to` answers to, by file name: DT_NEEDED and
        // soname for ELF, the leaf of each dylib reference and of the id for Mach-O.
        let names_of = |f: &str| -> (Vec<String>, Vec<String>) {
            let data = std::fs::read(bundle.join(f)).unwrap();
            if data.starts_with(b"\x7fELF") {
                let o = common::object_elf(&data);
                (o.needed, o.soname.into_iter().collect())
            } else {
                let slices = common::macho::object_macho(&data);
                let wants = slices.iter().flat_map(|s| s.dylibs.iter().map(|d| leaf(d)));
                let ids = slices.iter().filter_map(|s| s.id.as_deref().map(leaf));
                (wants.collect(), ids.collect())
            }
        };
        let (needed, _) = names_of(from);
        for t in d["dependsOn"].as_array().into_iter().flatten() {
            let t = t.as_str().unwrap();
            assert!(refs.contains(t), "{r} depends on unknown {t}");
            let to = t.strip_prefix("file:").expect("files depend on files");
            let (_, ids) = names_of(to);
            assert!(
                needed.contains(&leaf(to)) || ids.iter().any(|i| needed.contains(i)),
                "{from} → {to}, but {from} needs {needed:?}"
            );
            edges += 1;
        }
    }
    assert!(edges > 0, "no dependency edges");
    for f in files.keys() {
        assert!(
            deps.iter().any(|d| d["ref"] == format!("file:{f}")),
            "{f} has no dependencies entry"
        );
    }
    bom
}

/// The header fields of a METADATA file (lower-case names), continuation lines joined.
fn metadata_fields(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1 += "\n";
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            out.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    out
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn normalized(name: &str) -> String {
    let mut out = String::new();
    for part in name
        .to_ascii_lowercase()
        .split(['-', '_', '.'])
        .filter(|p| !p.is_empty())
    {
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(part);
    }
    out
}

#[test]
fn scientific_bundle_lists_every_distribution_with_its_licence() {
    let sci = need!(sci(), "the bundle venv (corpus/bundle/setup.sh) and gcc");
    let validator = need!(validator(), "the validator venv (corpus/sbom/setup.sh)");
    let bom = check_sbom(&sci.bundle, &validator);
    let purls = validate(&validator, &sci.bundle.join("shenzi-sbom.cdx.json"));
    let comps = all_components(&bom);
    let site = sci.bundle.join("python/lib/python3.11/site-packages");
    let site = if site.is_dir() {
        site
    } else {
        // Another Python version: find the site directory.
        let lib = sci.bundle.join("python/lib");
        std::fs::read_dir(&lib)
            .unwrap()
            .map(|e| e.unwrap().path().join("site-packages"))
            .find(|p| p.is_dir())
            .unwrap()
    };
    let mut dists = 0;
    for e in std::fs::read_dir(&site).unwrap() {
        let di = e.unwrap().path();
        if !di.to_string_lossy().ends_with(".dist-info") {
            continue;
        }
        dists += 1;
        let fields = metadata_fields(&std::fs::read_to_string(di.join("METADATA")).unwrap());
        let name = field(&fields, "name").unwrap();
        let version = field(&fields, "version").unwrap();
        let mine: Vec<&Value> = comps
            .iter()
            .map(|(_, c)| *c)
            .filter(|c| {
                c["purl"]
                    .as_str()
                    .and_then(|p| purls.get(p))
                    .is_some_and(|p| p["type"] == "pypi" && p["name"] == normalized(name))
            })
            .collect();
        assert_eq!(mine.len(), 1, "{name}: exactly one component");
        let c = mine[0];
        assert_eq!(c["version"], version, "{name}");
        assert_eq!(purls[c["purl"].as_str().unwrap()]["version"], version);
        let lic = c["licenses"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: no licence"));
        assert!(!lic.is_empty(), "{name}: no licence");
        // What METADATA declares, read here.
        if let Some(expr) = field(&fields, "license-expression") {
            if expr.split_whitespace().count() == 1 {
                assert_eq!(lic[0]["license"]["id"], expr, "{name}");
            } else {
                assert_eq!(lic.len(), 1);
                assert_eq!(lic[0]["expression"], expr, "{name}");
            }
        } else if let Some(l) = field(&fields, "license").filter(|l| !l.contains([' ', '\n'])) {
            let id = lic[0]["license"]["id"].as_str().unwrap_or_default();
            assert!(
                id.eq_ignore_ascii_case(l),
                "{name}: License {l}, SBOM {lic:?}"
            );
        } else if fields
            .iter()
            .any(|(k, v)| k == "classifier" && v == "License :: OSI Approved :: MIT License")
        {
            assert!(
                lic.iter().any(|l| l["license"]["id"] == "MIT"),
                "{name}: {lic:?}"
            );
        }
        // Every License-File is bundled and referenced.
        let refs: Vec<&str> = c["externalReferences"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["type"] == "license")
            .map(|r| r["url"].as_str().unwrap())
            .collect();
        for r in &refs {
            assert!(
                sci.bundle.join(r).is_file(),
                "{name}: {r} is not in the bundle"
            );
        }
        for (_, f) in fields.iter().filter(|(k, _)| k == "license-file") {
            assert!(
                refs.iter().any(
                    |r| r.ends_with(&format!("/licenses/{f}")) || r.ends_with(&format!("/{f}"))
                ),
                "{name}: License-File {f} is not referenced: {refs:?}"
            );
        }
    }
    assert!(dists >= 4, "numpy, pillow, lxml, cryptography at least");
    for want in ["numpy", "pillow", "lxml", "cryptography"] {
        assert!(
            comps.iter().any(|(_, c)| c["name"] == want),
            "{want} is in the SBOM"
        );
    }
    // Wheel-vendored libraries belong to their distribution.
    let numpy = comps
        .iter()
        .find(|(_, c)| c["name"] == "numpy" && c["type"] == "library")
        .unwrap()
        .1;
    let numpy_files: Vec<&str> = numpy["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(
        numpy_files.iter().any(|f| f.contains("/numpy.libs/")),
        "{numpy_files:?}"
    );
    assert!(
        numpy_files.iter().any(|f| f.contains("/numpy/_core/")),
        "{numpy_files:?}"
    );
    // The interpreter.
    let py = sci.venv.join("bin/python");
    let o = Command::new(&py)
        .args(["-c", "import platform; print(platform.python_version())"])
        .output()
        .unwrap();
    let version = text(&o.stdout).trim().to_string();
    let cpython = &bom["components"][0];
    assert_eq!(cpython["name"], "cpython");
    assert_eq!(cpython["version"], version.as_str());
    assert_eq!(cpython["purl"], format!("pkg:generic/cpython@{version}"));
    assert_eq!(cpython["licenses"][0]["license"]["id"], "PSF-2.0");
}

#[test]
fn host_libraries_name_their_debian_package_and_ship_its_copyright() {
    let built = need!(stdlib(), "python3 and gcc");
    let validator = need!(validator(), "the validator venv (corpus/sbom/setup.sh)");
    need!(on_path("dpkg-query"), "dpkg");
    let bom = check_sbom(&built.bundle, &validator);
    let purls = validate(&validator, &built.bundle.join("shenzi-sbom.cdx.json"));
    let mut checked = 0;
    for (_, c) in all_components(&bom) {
        let Some(purl) = c["purl"].as_str() else {
            continue;
        };
        let p = &purls[purl];
        if p["type"] != "deb" {
            continue;
        }
        let (name, version, arch) = (
            p["name"].as_str().unwrap(),
            p["version"].as_str().unwrap(),
            p["qualifiers"]["arch"].as_str().unwrap(),
        );
        // dpkg's own answer for every file of the package.
        for f in c["components"].as_array().unwrap() {
            let src = property(f, "shenzi:source").expect("a source path with provenance");
            let real = std::fs::canonicalize(src).unwrap();
            let base = real.file_name().unwrap().to_string_lossy().into_owned();
            let o = Command::new("dpkg").args(["-S", &base]).output().unwrap();
            check_ok("dpkg -S", &o);
            let owners: BTreeSet<String> = text(&o.stdout)
                .lines()
                .filter_map(|l| l.split_once(": "))
                .filter(|(_, path)| std::fs::canonicalize(path.trim()).is_ok_and(|r| r == real))
                .flat_map(|(pkgs, _)| pkgs.split(", ").map(String::from).collect::<Vec<_>>())
                .collect();
            assert!(
                owners.contains(&format!("{name}:{arch}")) || owners.contains(name),
                "{src}: dpkg -S says {owners:?}, the SBOM {purl}"
            );
        }
        let o = Command::new("dpkg-query")
            .args(["-W", "-f", "${Version}", &format!("{name}:{arch}")])
            .output()
            .unwrap();
        check_ok("dpkg-query", &o);
        assert_eq!(text(&o.stdout), version, "{purl}");
        // The copyright file is bundled, the SBOM points at it, and it is dpkg's.
        let copy = built.bundle.join(format!("licenses/{name}/copyright"));
        assert_eq!(
            std::fs::read(&copy).unwrap(),
            std::fs::read(format!("/usr/share/doc/{name}/copyright")).unwrap(),
            "{}",
            copy.display()
        );
        assert_eq!(
            c["licenses"][0]["license"]["url"],
            format!("licenses/{name}/copyright")
        );
        checked += 1;
    }
    assert!(checked > 0, "no host library came from a Debian package");
    assert!(built.bundle.join("licenses/libssl3/copyright").is_file() || checked > 1);
    // The ctypes test library (a build tree, no package) is there too, as a generic file.
    let ct = all_components(&bom)
        .into_iter()
        .find(|(_, c)| c["name"] == "lib/libshenzitest.so")
        .expect("lib/libshenzitest.so in the SBOM");
    assert_eq!(ct.0, None);
    assert_eq!(ct.1["purl"], "pkg:generic/libshenzitest.so");
    let src = property(ct.1, "shenzi:source").expect("a source path with provenance");
    assert_eq!(
        std::fs::canonicalize(src).unwrap(),
        std::fs::canonicalize(built.ctlib.join("libshenzitest.so")).unwrap()
    );
}

#[test]
fn rebuilt_sbom_is_byte_identical() {
    let sci = need!(sci(), "the bundle venv (corpus/bundle/setup.sh) and gcc");
    let again = sci.work.join("b/dist");
    build(&sci.manifest, &again, &[]);
    let a = std::fs::read(sci.bundle.join("shenzi-sbom.cdx.json")).unwrap();
    let b = std::fs::read(again.join("shenzi-sbom.cdx.json")).unwrap();
    assert!(
        a == b,
        "the SBOM differs between two builds of the same run"
    );
    let bom: Value = serde_json::from_slice(&a).unwrap();
    // The time is SOURCE_DATE_EPOCH's; without it there is none.
    assert_eq!(bom["metadata"]["timestamp"], "2023-11-14T22:13:20Z");
    let unset = sci.work.join("c/dist");
    let o = shenzi()
        .arg("bundle")
        .arg("--manifest")
        .arg(&sci.manifest)
        .arg("-o")
        .arg(&unset)
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .unwrap();
    check_ok("shenzi bundle", &o);
    let c = sbom_of(&unset);
    assert!(c["metadata"].get("timestamp").is_none());
    assert_ne!(c["serialNumber"], bom["serialNumber"]);
}

/// Text files of the bundle's metadata: the manifest, the SBOM, licence copies, every file of
/// every .dist-info, the launchers.
fn metadata_files(bundle: &Path) -> Vec<PathBuf> {
    let mut out = vec![
        bundle.join("shenzi-manifest.json"),
        bundle.join("shenzi-sbom.cdx.json"),
        bundle.join("run.sh"),
    ];
    let mut stack = vec![bundle.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let m = p.symlink_metadata().unwrap();
            let rel = p
                .strip_prefix(bundle)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if m.is_dir() {
                stack.push(p);
            } else if m.is_file()
                && (rel.starts_with("licenses/")
                    || rel.starts_with("bin/")
                    || rel.split('/').any(|c| c.ends_with(".dist-info")))
            {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn no_provenance_leaves_no_build_machine_paths() {
    let sci = need!(sci(), "the bundle venv (corpus/bundle/setup.sh) and gcc");
    let validator = need!(validator(), "the validator venv (corpus/sbom/setup.sh)");
    let out = sci.work.join("private/dist");
    build(&sci.manifest, &out, &["--no-provenance"]);
    check_sbom(&out, &validator);

    let mut needles: Vec<String> = vec![
        sci.venv.display().to_string(),
        sci.work.display().to_string(),
        sci.ctlib.display().to_string(),
        common::root().display().to_string(),
    ];
    for p in [&sci.venv, &sci.work] {
        needles.push(std::fs::canonicalize(p).unwrap().display().to_string());
    }
    let o = Command::new(sci.venv.join("bin/python"))
        .args(["-c", "import sys; print(sys.base_prefix)"])
        .output()
        .unwrap();
    needles.push(text(&o.stdout).trim().to_string());
    needles.sort();
    needles.dedup();
    // With provenance the build names them: the search below can find something.
    let default = std::fs::read_to_string(sci.bundle.join("shenzi-manifest.json")).unwrap();
    assert!(needles.iter().any(|n| default.contains(n.as_str())));
    let files = metadata_files(&out);
    assert!(files.len() > 20, "{files:?}");
    for f in &files {
        let Ok(content) = std::fs::read_to_string(f) else {
            continue; // not text
        };
        for n in &needles {
            assert!(
                !content.contains(n.as_str()),
                "{} contains the build path {n}",
                f.display()
            );
        }
    }
    let report = read_json(&out.join("shenzi-manifest.json"));
    assert!(report["entry"]["script"]
        .as_str()
        .is_some_and(|s| s.starts_with("app/")));
    assert!(report["files"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["source"].as_str().is_none_or(|s| !s.starts_with('/'))));
    let bom = sbom_of(&out);
    assert!(all_components(&bom)
        .iter()
        .all(|(_, c)| property(c, "shenzi:source").is_none()));
}

#[test]
fn the_validator_rejects_a_broken_sbom() {
    let sci = need!(sci(), "the bundle venv (corpus/bundle/setup.sh) and gcc");
    let validator = need!(validator(), "the validator venv (corpus/sbom/setup.sh)");
    let mut bom = sbom_of(&sci.bundle);
    bom["components"][0]["type"] = "interpreter".into();
    let bad = sci.work.join("broken.cdx.json");
    std::fs::write(&bad, serde_json::to_vec(&bom).unwrap()).unwrap();
    let o = Command::new(&validator)
        .arg(common::root().join("corpus/sbom/validate.py"))
        .arg(&bad)
        .output()
        .unwrap();
    check_ok("the CycloneDX validator", &o);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(!v["errors"].as_array().unwrap().is_empty());
}

#[test]
fn macos_recording_lists_every_macho_file() {
    let validator = need!(validator(), "the validator venv (corpus/sbom/setup.sh)");
    let layout = common::root().join("target/corpus-macos/venv");
    need!(
        layout.join("manifest.json").is_file().then_some(()),
        "the recorded macOS installations (corpus/macos/setup.sh)"
    );
    let out = scratch("macos").join("dist");
    let o = shenzi()
        .arg("bundle")
        .arg("--manifest")
        .arg(layout.join("manifest.json"))
        .arg("--root")
        .arg(layout.join("root"))
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    check_ok("shenzi bundle --root", &o);
    let bom = check_sbom(&out, &validator);
    let comps = all_components(&bom);
    assert!(comps.iter().all(|(_, c)| !c["purl"]
        .as_str()
        .is_some_and(|p| p.starts_with("pkg:deb/"))));
    // Sources are the recorded machine's paths, not this machine's copy under --root.
    let root = layout.join("root").display().to_string();
    for (_, c) in &comps {
        if let Some(src) = property(c, "shenzi:source") {
            assert!(!src.starts_with(&root), "{src}");
        }
    }
    // Extension modules (fat, universal2 ones among them) belong to their distributions.
    let fat = |f: &str| {
        std::fs::read(out.join(f)).is_ok_and(|d| d.starts_with(&[0xca, 0xfe, 0xba, 0xbe]))
    };
    let wheel_files: Vec<&str> = comps
        .iter()
        .filter(|(_, c)| {
            c["purl"]
                .as_str()
                .is_some_and(|p| p.starts_with("pkg:pypi/"))
        })
        .flat_map(|(_, c)| c["components"].as_array().into_iter().flatten())
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(wheel_files.iter().any(|f| fat(f)), "{wheel_files:?}");
}
