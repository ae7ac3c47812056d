//! `shenzi bundle` (not built yet).

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`shenzi bundle` is not available in this build yet")
}
