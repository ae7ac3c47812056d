//! Real files: a sample of the host's shared libraries, grown by an edit (a long rpath and an
//! added needed library), still load with dlopen wherever the original does.

mod common;

use std::process::Command;

use common::*;

fn loads(lib: &std::path::Path) -> bool {
    let o = run(Command::new("python3")
        .args(["-c", "import ctypes, sys; ctypes.CDLL(sys.argv[1])"])
        .arg(lib));
    o.status.success()
}

#[test]
fn host_libraries_still_load_after_growth() {
    if !oracle("python3") {
        return;
    }
    let dir = std::path::Path::new("/usr/lib/x86_64-linux-gnu");
    let Ok(entries) = std::fs::read_dir(dir) else {
        assert!(!require_oracles(), "no {}", dir.display());
        return;
    };
    let mut libs: Vec<_> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            n.contains(".so.")
                && ![
                    "ld-linux",
                    "libc.so",
                    "libm.so",
                    "libpthread",
                    "libdl.",
                    "librt.",
                ]
                .iter()
                .any(|x| n.starts_with(x))
        })
        .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file()))
        .collect();
    libs.sort();
    let sample: Vec<_> = libs
        .iter()
        .step_by(libs.len().div_ceil(80).max(1))
        .collect();
    let scratch = tempfile::tempdir().unwrap();
    let rpath: String = (0..120)
        .map(|i| format!("/opt/host-test/{i:03}:"))
        .collect::<String>()
        + "/x";
    let mut checked = 0;
    for lib in sample {
        if !loads(lib) {
            continue;
        }
        let copy = scratch.path().join(lib.file_name().unwrap());
        std::fs::copy(lib, &copy).unwrap();
        let o = shenzi_run(&[
            "patch",
            "--rpath",
            &rpath,
            "--add-needed",
            "libm.so.6",
            copy.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}: {}", lib.display(), stderr(&o));
        assert!(
            std::fs::metadata(&copy).unwrap().len() > std::fs::metadata(lib).unwrap().len(),
            "{}: did not grow",
            lib.display()
        );
        assert!(
            loads(&copy),
            "{}: the patched copy no longer loads",
            lib.display()
        );
        checked += 1;
    }
    eprintln!("{checked} host libraries grown and loaded");
    assert!(
        checked >= 20 || !require_oracles(),
        "only {checked} libraries checked"
    );
}
