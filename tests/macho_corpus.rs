//! Mach-O rewriting on files built by corpus/macho/build.sh (arm64 with dyld-info opcodes,
//! arm64 with chained fixups, x86_64, universal; libraries, programs and C++), judged by
//! independent oracles: llvm-objdump/llvm-otool, llvm-install-name-tool, macholib and a
//! hashlib re-computation of the code signature (corpus/macho/oracle.py).

mod common;
use common::macho as common_macho;

use std::process::Command;

use common_macho::*;

/// A same-length rename (first letter of the file name flipped in case): always fits.
fn rename(name: &str) -> String {
    let (dir, base) = name.rsplit_once('/').map_or(("", name), |(d, b)| (d, b));
    let mut c = base.chars();
    let first = c.next().unwrap();
    let flipped = if first.is_ascii_lowercase() {
        first.to_ascii_uppercase()
    } else {
        first.to_ascii_lowercase()
    };
    format!("{dir}/{flipped}{}", c.as_str())
}

/// Options that change every dylib reference and the id of every slice.
fn change_everything(slices: &[serde_json::Value]) -> Vec<String> {
    let mut args = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for s in slices {
        for d in s["dylibs"].as_array().unwrap() {
            let n = d[1].as_str().unwrap().to_string();
            if seen.insert(n.clone()) {
                args.extend(["-change".to_string(), n.clone(), rename(&n)]);
            }
        }
        if let Some(id) = s["id"].as_str() {
            if seen.insert(format!("id:{id}")) {
                args.extend(["-id".to_string(), rename(id)]);
            }
        }
    }
    args
}

#[test]
fn in_place_edits_match_llvm_install_name_tool_and_verify() {
    let Some(files) = corpus_files() else { return };
    if need(python().is_some(), "macholib venv").is_none() {
        return;
    }
    let Some(lint) = tool("llvm-install-name-tool") else {
        need(false, "llvm-install-name-tool");
        return;
    };
    let mut compared = 0;
    let mut with_rpath = 0;
    // The unsigned arm64 input gains a signature, which llvm-install-name-tool does not add;
    // unsigned_arm64_gets_a_signature_and_no_sign_skips_it covers it.
    for f in files
        .iter()
        .filter(|f| !f.to_string_lossy().contains("unsigned"))
    {
        let before = oracle_accepts(f);
        let mut args = change_everything(&before);
        // Add a short rpath when it fits (dry run says so).
        let (_d0, probe) = scratch(f);
        let dry = ok(shenzi()
            .args(["patch", "--dry-run", "--add-rpath", "@loader_path/r"])
            .arg(&probe));
        let rpath_fits = !dry.contains("shift by");
        if rpath_fits {
            args.extend(["-add_rpath".to_string(), "@loader_path/r".to_string()]);
            with_rpath += 1;
        }
        let (_d1, ours) = scratch(f);
        let (_d2, theirs) = scratch(f);
        ok(shenzi().arg("install-name-tool").args(&args).arg(&ours));
        ok(Command::new(&lint).args(&args).arg(&theirs));

        // Same size; only the header area and the signature changed.
        let old = std::fs::read(f).unwrap();
        let new = std::fs::read(&ours).unwrap();
        assert_eq!(
            old.len(),
            new.len(),
            "{f:?}: in-place edit changed the size"
        );

        let after = oracle_accepts(&ours);
        for (b, a) in before.iter().zip(&after) {
            let want: Vec<String> = b["dylibs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| rename(d[1].as_str().unwrap()))
                .collect();
            let got: Vec<String> = a["dylibs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d[1].as_str().unwrap().to_string())
                .collect();
            assert_eq!(got, want, "{f:?}: dylib references");
            if let Some(id) = b["id"].as_str() {
                assert_eq!(a["id"].as_str(), Some(rename(id).as_str()));
            }
            if rpath_fits {
                assert_eq!(
                    a["rpaths"].as_array().unwrap().last().unwrap(),
                    "@loader_path/r"
                );
            }
            assert_eq!(
                a["signature"].is_null(),
                b["signature"].is_null() && a["arch"] != "arm64",
                "{f:?}: signed state"
            );
        }
        // Load commands equal llvm-install-name-tool's (it re-signs with the output name as
        // identifier; the signature blob is not a load command).
        assert_eq!(
            otool_l_without_name(&ours),
            otool_l_without_name(&theirs),
            "{f:?}: load commands differ from llvm-install-name-tool's"
        );
        compared += 1;
    }
    assert!(
        compared >= 12 && with_rpath >= 4,
        "compared {compared}, with rpath {with_rpath}"
    );
}

#[test]
fn growth_shifts_everything_consistently() {
    let Some(files) = corpus_files() else { return };
    if need(python().is_some(), "macholib venv").is_none() {
        return;
    }
    // The corpus exercises __init_offsets (image offsets that must move).
    let io = files
        .iter()
        .find(|f| f.to_string_lossy().contains("initoffsets"))
        .expect("corpus has an -init_offsets build");
    assert!(sections(io)[0]["sections"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["sectname"] == "__init_offsets"));
    let mut slices = 0;
    for f in &files {
        slices += check_growth(f);
    }
    assert!(slices >= 16, "checked {slices} slices");
}

#[test]
fn no_grow_refuses_with_cctools_text_and_leaves_the_file() {
    let Some(files) = corpus_files() else { return };
    let long = format!("@loader_path/{}", "x/".repeat(100));
    for f in files
        .iter()
        .filter(|f| !f.to_string_lossy().contains("roomy"))
    {
        let (_d, p) = scratch(f);
        let o = run(shenzi()
            .args(["patch", "--no-grow", "--add-rpath", &long])
            .arg(&p));
        assert!(!o.status.success(), "{f:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("do not fit"), "{err}");
        assert_eq!(std::fs::read(f).unwrap(), std::fs::read(&p).unwrap());
        let o = run(shenzi()
            .args(["install-name-tool", "--no-grow", "-add_rpath", &long])
            .arg(&p));
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(&format!("changing install names or rpaths can't be redone for: {}", p.display()))
                && err.contains("because larger updated load commands do not fit (the program must be relinked, and you may need to use -headerpad or -headerpad_max_install_names)"),
            "{err}"
        );
        assert_eq!(std::fs::read(f).unwrap(), std::fs::read(&p).unwrap());
    }
}

#[test]
fn install_name_tool_rpath_errors_match_cctools() {
    let Some(dir) = corpus() else { return };
    let f = dir.join("arm64-libfoo.dylib");
    let (_d, p) = scratch(&f);
    let orig = std::fs::read(&p).unwrap();
    let o = run(shenzi()
        .args(["install-name-tool", "-delete_rpath", "/nope"])
        .arg(&p));
    assert!(!o.status.success());
    assert_eq!(
        String::from_utf8_lossy(&o.stderr).trim(),
        format!(
            "error: install_name_tool: no LC_RPATH load command with path: /nope found in: {} (for architecture arm64), required for specified option \"-delete_rpath /nope\"",
            p.display()
        )
    );
    let o = run(shenzi()
        .args(["install-name-tool", "-add_rpath", "@loader_path/../lib"])
        .arg(&p));
    assert!(!o.status.success());
    assert_eq!(
        String::from_utf8_lossy(&o.stderr).trim(),
        format!(
            "error: install_name_tool: for: {} (for architecture arm64) option \"-add_rpath @loader_path/../lib\" would duplicate path, file already has LC_RPATH for: @loader_path/../lib",
            p.display()
        )
    );
    let o = run(shenzi()
        .args(["install-name-tool", "-rpath", "/a", "/b"])
        .arg(&p));
    assert!(String::from_utf8_lossy(&o.stderr)
        .contains("required for specified option \"-rpath /a /b\""));
    assert_eq!(
        orig,
        std::fs::read(&p).unwrap(),
        "a failed edit changed the file"
    );

    // Called by the name install_name_tool, the binary speaks the same grammar.
    let link = p.with_file_name("install_name_tool");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_shenzi"), &link).unwrap();
    let o = run(std::process::Command::new(&link)
        .args(["-delete_rpath", "/nope"])
        .arg(&p));
    assert!(String::from_utf8_lossy(&o.stderr)
        .starts_with("error: install_name_tool: no LC_RPATH load command with path: /nope"));
    let (_d2, exe) = scratch(&dir.join("arm64-main"));
    // cctools ignores -id on a file that is not a dylib (tests/install_name_tool.rs has more).
    let o = run(shenzi().args(["install-name-tool", "-id", "x"]).arg(&exe));
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a dynamic library"));
    assert_eq!(
        std::fs::read(&exe).unwrap(),
        std::fs::read(dir.join("arm64-main")).unwrap()
    );

    // The working options do what they say, and never duplicate an rpath.
    ok(shenzi()
        .args([
            "install-name-tool",
            "-rpath",
            "@loader_path/../lib",
            "@loader_path/lib2",
        ])
        .args(["-prepend_rpath", "@loader_path/first"])
        .arg(&p));
    let s = ok(shenzi()
        .args(["patch", "--json", "--add-rpath", "@loader_path/first"])
        .arg(&p));
    let v: serde_json::Value = serde_json::from_str(s.lines().next().unwrap()).unwrap();
    assert_eq!(
        v["rpaths"],
        serde_json::json!(["@loader_path/first", "@loader_path/lib2"])
    );
    ok(shenzi()
        .args(["install-name-tool", "-delete_all_rpaths"])
        .arg(&p));
    let s = ok(shenzi().args(["patch", "--json"]).arg(&p));
    let v: serde_json::Value = serde_json::from_str(s.lines().next().unwrap()).unwrap();
    assert_eq!(v["rpaths"], serde_json::json!([]));
}

#[test]
fn codesign_verify_catches_a_changed_byte() {
    let Some(dir) = corpus() else { return };
    for name in [
        "arm64-main",
        "universal-libfoo.dylib",
        "x86_64-libfoo.dylib",
    ] {
        let f = dir.join(name);
        let out = ok(shenzi().args(["codesign", "--verify"]).arg(&f));
        assert!(out.contains("valid"), "{out}");
        let (_d, p) = scratch(&f);
        let mut b = std::fs::read(&p).unwrap();
        // A byte past the load commands and before the signature of the first slice.
        let (start, len) = if b[..4] == [0xca, 0xfe, 0xba, 0xbe] {
            let be = |o: usize| u32::from_be_bytes(b[o..o + 4].try_into().unwrap()) as usize;
            (be(16), be(20))
        } else {
            (0, b.len())
        };
        let at = start + len / 3;
        b[at] ^= 0xff;
        std::fs::write(&p, &b).unwrap();
        let o = run(shenzi().args(["codesign", "--verify"]).arg(&p));
        assert!(!o.status.success(), "{name}: a changed byte verified");
        ok(shenzi().args(["codesign", "--sign"]).arg(&p));
        ok(shenzi().args(["codesign", "--verify"]).arg(&p));
        if python().is_some() {
            oracle_accepts(&p);
        }
    }
}

#[test]
fn unsigned_arm64_gets_a_signature_and_no_sign_skips_it() {
    let Some(dir) = corpus() else { return };
    if need(python().is_some(), "macholib venv").is_none() {
        return;
    }
    let f = dir.join("arm64-libfoo-unsigned.dylib");
    assert!(check(&f)[0]["signature"].is_null(), "corpus file is signed");
    let (_d, p) = scratch(&f);
    ok(shenzi()
        .args(["patch", "--no-sign", "--set-soname", "@rpath/libU.dylib"])
        .arg(&p));
    assert!(check(&p)[0]["signature"].is_null(), "--no-sign signed");
    ok(shenzi()
        .args(["patch", "--set-soname", "@rpath/libV.dylib"])
        .arg(&p));
    let v = oracle_accepts(&p);
    assert_eq!(v[0]["signature"]["valid"], true);
    assert_eq!(v[0]["id"], "@rpath/libV.dylib");
    llvm_accepts(&p, None);
}

#[test]
fn patch_flags_on_macho() {
    let Some(dir) = corpus() else { return };
    let f = dir.join("universal-libfoo.dylib");
    let (_d, p) = scratch(&f);
    let dry = ok(shenzi()
        .args(["patch", "--dry-run", "--add-rpath", "@loader_path/x"])
        .arg(&p));
    let plan = ok(shenzi()
        .args([
            "patch",
            "--dry-run",
            "--json",
            "--add-rpath",
            &"@".repeat(9000),
        ])
        .arg(&p));
    let plans: Vec<serde_json::Value> = plan
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v["plan"] == true)
        .collect();
    assert_eq!(plans.len(), 2, "{plan}");
    for v in plans {
        let align = if v["arch"] == "arm64" { 0x4000 } else { 0x1000 };
        assert_eq!(v["layout"], "shift");
        assert_eq!(v["delta"].as_u64().unwrap() % align, 0);
        assert!(v["delta"].as_u64().unwrap() >= 9000);
    }
    assert_eq!(std::fs::read(&f).unwrap(), std::fs::read(&p).unwrap());
    assert!(
        dry.contains("(arm64): in place") && dry.contains("(x86_64): in place"),
        "{dry}"
    );
    let out = p.with_file_name("out.dylib");
    ok(shenzi()
        .args(["patch", "--rpath", "/a", "--rpath", "/b", "--rpath", "/a"])
        .args([
            "--replace-needed",
            "/usr/lib/libSystem.B.dylib",
            "/usr/lib/libSystem.C.dylib",
        ])
        .args(["--id", "@rpath/libfoo2.dylib", "-o"])
        .arg(&out)
        .arg(&p));
    assert_eq!(
        std::fs::read(&f).unwrap(),
        std::fs::read(&p).unwrap(),
        "-o changed the input"
    );
    let s = ok(shenzi().args(["patch", "--json"]).arg(&out));
    let lines: Vec<serde_json::Value> = s
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    for v in &lines {
        assert_eq!(v["rpaths"], serde_json::json!(["/a", "/b"]));
        assert_eq!(v["id"], "@rpath/libfoo2.dylib");
        assert_eq!(v["dependencies"][0]["name"], "/usr/lib/libSystem.C.dylib");
    }
    // Add a dependency, then remove it; removing one that symbols are imported from would
    // renumber library ordinals and is refused.
    ok(shenzi()
        .args(["patch", "--add-needed", "/usr/lib/libz.1.dylib"])
        .arg(&out));
    let s = ok(shenzi().args(["patch", "--json"]).arg(&out));
    let v: serde_json::Value = serde_json::from_str(s.lines().next().unwrap()).unwrap();
    assert_eq!(v["dependencies"][1]["name"], "/usr/lib/libz.1.dylib");
    if python().is_some() {
        oracle_accepts(&out);
    }
    ok(shenzi()
        .args(["patch", "--remove-needed", "/usr/lib/libz.1.dylib"])
        .arg(&out));
    let o = run(shenzi()
        .args(["patch", "--remove-needed", "/usr/lib/libSystem.C.dylib"])
        .arg(&out));
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("renumber"));
    let s = ok(shenzi().args(["patch", "--json"]).arg(&out));
    let v: serde_json::Value = serde_json::from_str(s.lines().next().unwrap()).unwrap();
    assert_eq!(v["dependencies"].as_array().unwrap().len(), 1);
    let print = ok(shenzi().args(["patch", "--print"]).arg(&out));
    assert!(print.contains("rpath:       /a:/b"), "{print}");
    if tool("llvm-lipo").is_some() {
        let info = ok(Command::new(tool("llvm-lipo").unwrap())
            .arg("-info")
            .arg(&out));
        assert!(info.contains("x86_64") && info.contains("arm64"), "{info}");
    }
}

/// Replaces the signature of a linker-signed file by an identity-style one: a CodeDirectory
/// without CS_LINKER_SIGNED, a requirements blob naming a certificate and a CMS blob.
fn fake_identity_signature(data: &[u8]) -> Vec<u8> {
    let le = |b: &[u8], o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap()) as usize;
    let mut b = data.to_vec();
    let (mut at, mut sig_cmd, mut linkedit) = (32usize, 0, 0);
    for _ in 0..le(&b, 16) {
        match le(&b, at) {
            0x1d => sig_cmd = at,
            0x19 if &b[at + 8..at + 18] == b"__LINKEDIT" => linkedit = at,
            _ => {}
        }
        at += le(&b, at + 4);
    }
    assert!(sig_cmd != 0 && linkedit != 0);
    let off = le(&b, sig_cmd + 8);
    let old = &data[off..];
    let be = |o: usize| u32::from_be_bytes(old[o..o + 4].try_into().unwrap()) as usize;
    let cd_off = be(16);
    let mut cd = old[cd_off..cd_off + be(cd_off + 4)].to_vec();
    cd[12..16].copy_from_slice(&0u32.to_be_bytes()); // flags: not linker-signed
    let mut req = Vec::new();
    req.extend_from_slice(&0xfade_0c01u32.to_be_bytes());
    req.extend_from_slice(&20u32.to_be_bytes());
    req.extend_from_slice(&1u32.to_be_bytes());
    req.extend_from_slice(&[0xab; 8]);
    let mut cms = Vec::new();
    cms.extend_from_slice(&0xfade_0b01u32.to_be_bytes());
    cms.extend_from_slice(&(8u32 + 64).to_be_bytes());
    cms.extend_from_slice(&[0x30; 64]);
    let blobs = [(0u32, cd), (2, req), (0x10000, cms)];
    let mut sb = Vec::new();
    sb.extend_from_slice(&0xfade_0cc0u32.to_be_bytes());
    sb.extend_from_slice(&0u32.to_be_bytes());
    sb.extend_from_slice(&3u32.to_be_bytes());
    let mut pos = 12 + 8 * 3;
    for (slot, blob) in &blobs {
        sb.extend_from_slice(&slot.to_be_bytes());
        sb.extend_from_slice(&(pos as u32).to_be_bytes());
        pos += blob.len();
    }
    for (_, blob) in &blobs {
        sb.extend_from_slice(blob);
    }
    let len = sb.len() as u32;
    sb[4..8].copy_from_slice(&len.to_be_bytes());
    b.truncate(off);
    b.extend_from_slice(&sb);
    b[sig_cmd + 12..sig_cmd + 16].copy_from_slice(&len.to_le_bytes());
    let fileoff = u64::from_le_bytes(b[linkedit + 40..linkedit + 48].try_into().unwrap());
    let filesize = b.len() as u64 - fileoff;
    b[linkedit + 48..linkedit + 56].copy_from_slice(&filesize.to_le_bytes());
    let vmsize = filesize.next_multiple_of(0x4000);
    b[linkedit + 32..linkedit + 40].copy_from_slice(&vmsize.to_le_bytes());
    b
}

#[test]
fn identity_signature_becomes_ad_hoc_with_a_warning() {
    let Some(dir) = corpus() else { return };
    if need(python().is_some(), "macholib venv").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("libid.dylib");
    let src = std::fs::read(dir.join("arm64-libfoo.dylib")).unwrap();
    std::fs::write(&p, fake_identity_signature(&src)).unwrap();
    let before = check(&p);
    assert_eq!(
        before[0]["signature"]["special_blobs"],
        serde_json::json!([2, 0x10000])
    );
    let o = run(shenzi()
        .args(["patch", "--set-soname", "@rpath/libid.dylib"])
        .arg(&p));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("identity signature is replaced by an ad-hoc one"),
        "{err}"
    );
    let after = oracle_accepts(&p);
    let sig = &after[0]["signature"];
    assert_eq!(sig["identifier"], before[0]["signature"]["identifier"]);
    assert_eq!(
        sig["flags"].as_u64().unwrap() & 0x2_0002,
        0x2,
        "ad-hoc, not linker-signed"
    );
    // The requirements become an empty set and the CMS blob an empty wrapper.
    assert_eq!(sig["special_blobs"], serde_json::json!([2, 0x10000]));
    llvm_accepts(&p, None);
}
