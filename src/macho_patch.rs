//! `shenzi patch` on Mach-O files (not built yet).

use std::path::Path;

use crate::patch::Request;

pub fn run(_file: &Path, _req: &Request) -> anyhow::Result<()> {
    anyhow::bail!("Mach-O support is not available in this build yet")
}
