//! Any bytes: parsing and summarising never panic, hang or over-allocate.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(elf) = shenzi_elf::Elf::parse(data) {
        let _ = shenzi_elf::Summary::of(&elf);
        let _ = elf.interpreter();
    }
});
