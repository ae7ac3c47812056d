//! Inputs the fuzzers once broke the ELF engine with (`tests/regressions/<target>/`); each must
//! now pass its fuzz target's checks.

#[path = "../../tests/common/replay.rs"]
mod replay;

use replay::replay;

#[test]
fn elf_edit_findings_stay_fixed() {
    replay("elf_edit", shenzi_elf::fuzzing::check_edit);
}

#[test]
fn elf_strip_findings_stay_fixed() {
    replay("elf_strip", shenzi_elf::fuzzing::check_strip);
}
