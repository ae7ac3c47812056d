//! Inputs the fuzzers once broke the Mach-O engine with (`tests/regressions/<target>/`); each
//! must now pass its fuzz target's checks.

#[path = "../../tests/common/replay.rs"]
mod replay;

use replay::replay;

#[test]
fn macho_edit_findings_stay_fixed() {
    replay("macho_edit", shenzi_macho::fuzzing::check_edit);
}
