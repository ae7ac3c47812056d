//! An edit set derived from the input's first bytes, applied to the rest (seeded with corpus
//! binaries): planning never panics, and a planned output parses and holds the requested state.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    if let Err(e) = shenzi_elf::fuzzing::check_edit(input) {
        panic!("{e}");
    }
});
