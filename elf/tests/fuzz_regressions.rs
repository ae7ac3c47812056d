//! Inputs the fuzzers once broke the ELF engine with (`tests/regressions/<target>/`); each must
//! now pass its fuzz target's checks.

use std::path::Path;

fn replay(dir: &str, check: fn(&[u8]) -> Result<(), String>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/regressions")
        .join(dir);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let r = std::panic::catch_unwind(|| check(&data));
        match r {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("{}: {e}", path.display()),
            Err(_) => panic!("{}: panicked", path.display()),
        }
        n += 1;
    }
    assert!(n > 0, "no regression inputs in {}", dir.display());
}

#[test]
fn elf_edit_findings_stay_fixed() {
    replay("elf_edit", shenzi_elf::fuzzing::check_edit);
}

#[test]
fn elf_strip_findings_stay_fixed() {
    replay("elf_strip", shenzi_elf::fuzzing::check_strip);
}
