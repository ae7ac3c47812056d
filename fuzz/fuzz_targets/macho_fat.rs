//! The edit target restricted to fat files (seeded with universal binaries): slices grow, fat
//! offsets are rewritten, each slice is signed on its own.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    if input.len() < 12 || !shenzi_macho::is_fat(&input[8..]) {
        return;
    }
    if let Err(e) = shenzi_macho::fuzzing::check_edit(input) {
        panic!("{e}");
    }
});
