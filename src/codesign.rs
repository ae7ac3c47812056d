//! `shenzi codesign` (not built yet).

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`shenzi codesign` is not available in this build yet")
}
