//! Any bytes: Mach-O parsing (thin and fat), summaries and signature verification never panic,
//! hang or over-allocate.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| shenzi_macho::fuzzing::check_parse(data));
