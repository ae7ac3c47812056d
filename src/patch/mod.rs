//! `shenzi patch`: one command line, many files. Each file is opened once, its format (ELF or
//! Mach-O, thin or fat) told by the format crates from its bytes, and the edits planned by that
//! format's back end ([`elf`], [`macho`]); one driver then prints the plan (`--dry-run`), skips
//! what would not change, commits the rest through [`crate::fileio`] after the back end's
//! verify step, and prints summaries.

pub mod elf;
pub mod macho;

use std::borrow::Cow;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Result};
use shenzi_elf::RpathOp;

use crate::fileio::{self, Change};

/// The edits and switches of `shenzi patch`; shared by the ELF and Mach-O back ends.
#[derive(clap::Args, Debug, Clone, Default)]
#[command(
    after_help = "Edits given together are applied in one pass. Format (ELF or Mach-O) is detected from the bytes."
)]
pub struct Args {
    /// Make the rpath list exactly these entries (repeatable; ELF: DT_RUNPATH; Mach-O: LC_RPATH).
    #[arg(long = "rpath", value_name = "PATH")]
    pub rpath: Vec<OsString>,
    /// Append an rpath entry unless present (repeatable).
    #[arg(long, value_name = "PATH")]
    pub add_rpath: Vec<OsString>,
    /// Prepend an rpath entry unless present (repeatable).
    #[arg(long, value_name = "PATH")]
    pub prepend_rpath: Vec<OsString>,
    /// Remove an rpath entry (repeatable).
    #[arg(long, value_name = "PATH")]
    pub delete_rpath: Vec<OsString>,
    /// Remove every rpath.
    #[arg(long)]
    pub remove_rpath: bool,
    /// Rename an rpath entry.
    #[arg(long, num_args = 2, value_names = ["OLD", "NEW"])]
    pub change_rpath: Vec<OsString>,
    /// ELF: write DT_RPATH instead of DT_RUNPATH.
    #[arg(long)]
    pub force_rpath: bool,
    /// ELF: keep only rpath directories that hold a needed library.
    #[arg(long)]
    pub shrink_rpath: bool,
    /// With --shrink-rpath: colon-separated prefixes absolute entries must start with.
    #[arg(long, value_name = "PREFIXES")]
    pub allowed_rpath_prefixes: Option<OsString>,
    /// Add a needed library (ELF DT_NEEDED, Mach-O LC_LOAD_DYLIB).
    #[arg(long, value_name = "LIB")]
    pub add_needed: Vec<OsString>,
    /// Remove a needed library.
    #[arg(long, value_name = "LIB")]
    pub remove_needed: Vec<OsString>,
    /// Rename a needed library (ELF also fixes .gnu.version_r; Mach-O: every dylib command).
    #[arg(long, visible_alias = "change", num_args = 2, value_names = ["OLD", "NEW"])]
    pub replace_needed: Vec<OsString>,
    /// Set the soname (ELF DT_SONAME) or install name (Mach-O LC_ID_DYLIB).
    #[arg(long, visible_alias = "id", value_name = "NAME")]
    pub set_soname: Option<OsString>,
    /// ELF: set the program interpreter (PT_INTERP).
    #[arg(long, value_name = "PATH")]
    pub set_interpreter: Option<OsString>,
    /// Print a summary of each file (after the edits).
    #[arg(long)]
    pub print: bool,
    /// Print the summary as JSON, one object per line.
    #[arg(long)]
    pub json: bool,
    /// Write the result here instead of editing the file (one input file only).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print the layout plan (in place, or how the file grows) and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Fail instead of growing the file when the edit does not fit.
    #[arg(long)]
    pub no_grow: bool,
    /// ELF: remove debug information, the static symbol table and `.comment` (what no loader
    /// reads; segments, `.dynsym` and notes stay byte-identical), then apply the other edits.
    #[arg(long)]
    pub strip_debug: bool,
    /// Mach-O: do not re-sign after editing.
    #[arg(long)]
    pub no_sign: bool,
    /// ELF: alignment for an added segment (default: the machine's largest page size).
    #[arg(long, value_name = "BYTES")]
    pub page_size: Option<u64>,
    /// Files to edit.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// One file's planned change, whatever its format.
pub trait Planned {
    /// Things the user should know, printed before anything is written.
    fn warnings(&self) -> Vec<String>;
    /// Prints the plan (`--dry-run`).
    fn print_plan(&self, file: &Path, json: bool);
    /// Whether the file would stay as it is.
    fn is_noop(&self) -> bool;
    /// The complete output.
    fn output<'a>(&'a self, input: &'a [u8]) -> Cow<'a, [u8]>;
    /// The change to write (no writes when the output is the input itself: a copy to
    /// `--output` is then made by the file system, not through memory).
    fn change(&self) -> Change<'_>;
    /// The check the output must pass before it replaces anything.
    fn verify(&self, output: &[u8]) -> Result<()>;
    /// Prints what `bytes` (a file of this format) holds.
    fn print_summary(&self, file: &Path, bytes: &[u8], json: bool) -> Result<()>;
    /// A line for the terminal after a successful write, if any.
    fn done(&self) -> Option<String> {
        None
    }
}

fn bytes(s: &OsString) -> Vec<u8> {
    s.as_bytes().to_vec()
}

impl Args {
    fn has_edits(&self) -> bool {
        !self.rpath.is_empty()
            || !self.add_rpath.is_empty()
            || !self.prepend_rpath.is_empty()
            || !self.delete_rpath.is_empty()
            || self.remove_rpath
            || !self.change_rpath.is_empty()
            || self.shrink_rpath
            || !self.add_needed.is_empty()
            || !self.remove_needed.is_empty()
            || !self.replace_needed.is_empty()
            || self.set_soname.is_some()
            || self.set_interpreter.is_some()
            || self.strip_debug
    }

    /// The ELF edit set. Rpath operations run in this order: set, remove, delete, change, add,
    /// prepend, shrink.
    pub fn elf_edits(&self) -> shenzi_elf::EditSet {
        let mut rpath = Vec::new();
        if !self.rpath.is_empty() {
            let parts: Vec<Vec<u8>> = self.rpath.iter().map(bytes).collect();
            rpath.push(RpathOp::Set(parts.join(&b':')));
        }
        if self.remove_rpath {
            rpath.push(RpathOp::Remove);
        }
        rpath.extend(self.delete_rpath.iter().map(|p| RpathOp::Delete(bytes(p))));
        rpath.extend(
            self.change_rpath
                .chunks(2)
                .map(|c| RpathOp::Change(bytes(&c[0]), bytes(&c[1]))),
        );
        rpath.extend(self.add_rpath.iter().map(|p| RpathOp::Add(bytes(p))));
        rpath.extend(
            self.prepend_rpath
                .iter()
                .map(|p| RpathOp::Prepend(bytes(p))),
        );
        if self.shrink_rpath {
            let allowed = self
                .allowed_rpath_prefixes
                .as_ref()
                .map(|p| {
                    p.as_bytes()
                        .split(|&b| b == b':')
                        .filter(|s| !s.is_empty())
                        .map(<[u8]>::to_vec)
                        .collect()
                })
                .unwrap_or_default();
            rpath.push(RpathOp::Shrink {
                allowed_prefixes: allowed,
            });
        }
        let mut e = shenzi_elf::EditSet::default();
        e.interpreter = self.set_interpreter.as_ref().map(bytes);
        e.soname = self.set_soname.as_ref().map(bytes);
        e.rpath = rpath;
        e.force_rpath = self.force_rpath;
        e.remove_needed = self.remove_needed.iter().map(bytes).collect();
        e.replace_needed = self
            .replace_needed
            .chunks(2)
            .map(|c| (bytes(&c[0]), bytes(&c[1])))
            .collect();
        e.add_needed = self.add_needed.iter().map(bytes).collect();
        e
    }
}

pub fn run(args: Args) -> Result<ExitCode> {
    if args.output.is_some() && args.files.len() != 1 {
        bail!("--output needs exactly one input file");
    }
    let mut failed = false;
    for file in &args.files {
        if let Err(e) = patch_one(file, &args) {
            eprintln!("shenzi: {e:#}");
            failed = true;
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn patch_one(file: &Path, args: &Args) -> Result<()> {
    let input = fileio::open(file)?;
    let data = input.bytes();
    let plan: Box<dyn Planned> = if shenzi_elf::is_elf(data) {
        Box::new(elf::plan(file, data, args)?)
    } else if shenzi_macho::is_macho(data) {
        Box::new(macho::plan(file, data, args)?)
    } else {
        bail!("{}: not an ELF or Mach-O file", file.display())
    };
    for w in plan.warnings() {
        eprintln!("shenzi: warning: {}: {w}", file.display());
    }
    if args.dry_run {
        plan.print_plan(file, args.json);
        if args.print || args.json {
            plan.print_summary(file, &plan.output(data), args.json)?;
        }
        return Ok(());
    }
    let summary_needed = args.print || args.json || !args.has_edits();
    let output = args.output.as_deref();
    if plan.is_noop() && output.is_none() {
        if summary_needed {
            plan.print_summary(file, data, args.json)?;
        }
        return Ok(());
    }
    // The output may be a device or FIFO that cannot be read back: summarize the new bytes
    // (the same ones that are verified and written).
    let after = (summary_needed && output.is_some()).then(|| plan.output(data).into_owned());
    fileio::commit(input, plan.change(), output, &|out| plan.verify(out))?;
    if let Some(line) = plan.done() {
        if !args.print && !args.json {
            eprintln!("shenzi: {}: {line}", file.display());
        }
    }
    match (output, after) {
        (Some(out), Some(bytes)) => plan.print_summary(out, &bytes, args.json)?,
        (None, _) if summary_needed => {
            let after = fileio::open(file)?;
            plan.print_summary(file, after.bytes(), args.json)?;
        }
        _ => {}
    }
    Ok(())
}
