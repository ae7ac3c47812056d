//! `shenzi codesign`: verify the embedded code signatures of Mach-O files, or sign one ad-hoc.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Result};
use shenzi_macho::EditSet;

use crate::fileio;

#[derive(clap::Args, Debug)]
#[command(group = clap::ArgGroup::new("mode").required(true).args(["verify", "sign"]))]
pub struct Args {
    /// Check every slice's signature: page hashes, special slots, coverage.
    #[arg(long)]
    pub verify: bool,
    /// (Re-)sign every slice ad-hoc, keeping an existing identifier, requirements and
    /// entitlements; a linker signature stays a linker signature.
    #[arg(long)]
    pub sign: bool,
    /// Print results as JSON, one object per slice.
    #[arg(long)]
    pub json: bool,
    /// Files to check or sign.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let mut ok = true;
    for file in &args.files {
        let r = if args.verify {
            verify(file, args.json)
        } else {
            sign(file)
        };
        match r {
            Ok(true) => {}
            Ok(false) => ok = false,
            Err(e) => {
                eprintln!("shenzi: {e:#}");
                ok = false;
            }
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn verify(file: &Path, json: bool) -> Result<bool> {
    let input = fileio::open(file)?;
    let reports = shenzi_macho::verify(input.bytes())
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let mut ok = true;
    for (arch, r) in reports {
        let valid = r.as_ref().is_some_and(|r| r.problems.is_empty());
        ok &= valid;
        if json {
            let v = serde_json::json!({
                "file": file.display().to_string(),
                "arch": arch,
                "signed": r.is_some(),
                "valid": valid,
                "report": r,
            });
            println!("{v}");
            continue;
        }
        match r {
            None => println!("{} ({arch}): not signed", file.display()),
            Some(r) if r.problems.is_empty() => println!(
                "{} ({arch}): valid ({:?}, identifier {}, {} pages of {} KiB)",
                file.display(),
                r.kind,
                r.identifier,
                r.pages,
                r.page_size / 1024
            ),
            Some(r) => {
                println!("{} ({arch}): INVALID", file.display());
                for p in &r.problems {
                    println!("  {p}");
                }
            }
        }
    }
    Ok(ok)
}

fn sign(file: &Path) -> Result<bool> {
    let input = fileio::open(file)?;
    if !shenzi_macho::is_macho(input.bytes()) {
        bail!("{}: not a Mach-O file", file.display());
    }
    let opts = crate::patch::macho::options(file, false, false);
    let edits = EditSet::default();
    let r = shenzi_macho::resign(input.bytes(), &opts)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    for s in r.slices() {
        for w in &s.warnings {
            eprintln!("shenzi: warning: {}: {w}", file.display());
        }
    }
    if r.is_noop() {
        return Ok(true);
    }
    crate::patch::macho::commit(input, r, &edits, &opts, None)?;
    Ok(true)
}
