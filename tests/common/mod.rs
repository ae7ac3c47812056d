//! Helpers shared by the integration tests: running shenzi here; the corpus, commands and
//! oracles in [`corpus`], the `object` crate's view of ELF files in [`object_elf`] (both
//! re-exported); the Mach-O helpers in [`macho`].
#![allow(dead_code)]

pub mod corpus;
pub mod macho;
pub mod object_elf;

// Not every test binary uses every helper.
#[allow(unused_imports)]
pub use corpus::*;
#[allow(unused_imports)]
pub use object_elf::*;

use std::process::{Command, Output};

pub fn shenzi() -> &'static str {
    env!("CARGO_BIN_EXE_shenzi")
}

/// The shenzi binary under test, as a command.
pub fn shenzi_cmd() -> Command {
    Command::new(shenzi())
}

/// Runs shenzi with arguments; returns the output.
pub fn shenzi_run(args: &[&str]) -> Output {
    run(Command::new(shenzi()).args(args))
}
