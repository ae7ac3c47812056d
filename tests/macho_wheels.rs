//! Real ld64-built files from macOS wheels (numpy, pillow, pyyaml, cffi for arm64 and x86_64;
//! cryptography and markupsafe universal2), fetched by corpus/macho/fetch_wheels.sh: on every
//! file, change every dylib reference and the id in place, add an rpath that forces growth, and
//! judge the results with the oracles.

mod common;
use common::macho as common_macho;

use common_macho::*;

#[test]
fn every_wheel_binary_edits_in_place_and_verifies() {
    let Some(files) = wheel_files() else { return };
    if need(
        python().is_some() && tool("llvm-objdump").is_some(),
        "macholib venv, LLVM",
    )
    .is_none()
    {
        return;
    }
    for f in &files {
        let before = oracle_accepts(f);
        let (_d, p) = scratch(f);
        let mut args = vec!["install-name-tool".to_string()];
        // Each option once (cctools refuses a second -id): slices of a fat file share names.
        let mut seen = std::collections::BTreeSet::new();
        for s in &before {
            for d in s["dylibs"].as_array().unwrap() {
                let n = d[1].as_str().unwrap();
                // Same length, different bytes: always fits.
                let new: String = n.chars().rev().collect();
                if seen.insert(n.to_string()) {
                    args.extend(["-change".into(), n.into(), new]);
                }
            }
            if let Some(id) = s["id"].as_str() {
                if seen.insert("-id".to_string()) {
                    args.extend(["-id".into(), id.chars().rev().collect()]);
                }
            }
        }
        args.extend(["-add_rpath".into(), "@loader_path/w".into()]);
        let dry = ok(shenzi()
            .args(["patch", "--dry-run", "--add-rpath", "@loader_path/w"])
            .arg(&p));
        ok(shenzi().args(&args).arg(&p));
        if !dry.contains("shift") {
            assert_eq!(
                std::fs::metadata(f).unwrap().len(),
                std::fs::metadata(&p).unwrap().len(),
                "{f:?}: an in-place edit changed the size"
            );
        }
        llvm_accepts(&p, None);
        let after = oracle_accepts(&p);
        for (b, a) in before.iter().zip(&after) {
            let want: Vec<String> = b["dylibs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d[1].as_str().unwrap().chars().rev().collect())
                .collect();
            let got: Vec<String> = a["dylibs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d[1].as_str().unwrap().to_string())
                .collect();
            assert_eq!(want, got, "{f:?}");
            assert!(a["rpaths"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r == "@loader_path/w"));
            // cctools' rules: a linker signature stays one; a codesign ad-hoc signature keeps
            // its identifier, flags and requirements/entitlements slots.
            if !b["signature"].is_null() {
                for k in ["identifier", "flags", "special_blobs"] {
                    assert_eq!(b["signature"][k], a["signature"][k], "{f:?}: signature {k}");
                }
            }
        }
    }
}

#[test]
fn every_wheel_binary_grows_consistently() {
    let Some(files) = wheel_files() else { return };
    if need(
        python().is_some() && tool("llvm-objdump").is_some(),
        "macholib venv, LLVM",
    )
    .is_none()
    {
        return;
    }
    let mut slices = 0;
    for f in &files {
        slices += check_growth(f);
    }
    assert!(slices >= 100, "{slices} slices");
}
