//! An edit set derived from the input's first bytes applied to the rest (seeded with corpus
//! builds, object files among them, and wheel binaries), sequential or matched against the
//! input as install_name_tool does, including growth by shifting and object-file growth: never
//! a panic; the output parses, its signatures verify, and it holds the requested state.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    if let Err(e) = shenzi_macho::fuzzing::check_edit(input) {
        panic!("{e}");
    }
});
