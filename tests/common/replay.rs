//! Replays the inputs a fuzz target once failed on (`<crate>/tests/regressions/<target>/`).
//! Included by each format crate's `tests/fuzz_regressions.rs` through `#[path]`.

use std::path::Path;

/// Runs `check` on every file of the calling crate's `tests/regressions/<dir>`; fails on the
/// first error or panic, or when there is no input at all.
pub fn replay(dir: &str, check: fn(&[u8]) -> Result<(), String>) {
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
