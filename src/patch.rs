//! `shenzi patch`: one command line, many files, ELF or Mach-O detected from the bytes.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Result};
use shenzi_elf::{EditSet, Elf, Options, RpathOp, Summary};

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

pub type Request = Args;

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
    pub fn elf_edits(&self) -> EditSet {
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
        let mut e = EditSet::default();
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

/// The file formats shenzi edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Elf,
    MachO,
}

pub fn detect(data: &[u8]) -> Option<Format> {
    if shenzi_elf::is_elf(data) {
        return Some(Format::Elf);
    }
    let magic = data.get(..4)?;
    let be = u32::from_be_bytes(magic.try_into().ok()?);
    match be {
        0xfeedface | 0xfeedfacf | 0xcefaedfe | 0xcffaedfe | 0xcafebabe | 0xbebafeca
        | 0xcafebabf | 0xbfbafeca => Some(Format::MachO),
        _ => None,
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
    match detect(input.bytes()) {
        Some(Format::Elf) => patch_elf(file, input, args),
        Some(Format::MachO) => {
            drop(input);
            crate::macho_patch::run(file, args)
        }
        None => bail!("{}: not an ELF or Mach-O file", file.display()),
    }
}

fn options(args: &Args) -> Options {
    let mut o = Options::default();
    o.no_grow = args.no_grow;
    o.page_size = args.page_size;
    o
}

fn patch_elf(file: &Path, input: fileio::Input, args: &Args) -> Result<()> {
    let edits = args.elf_edits();
    let opts = options(args);
    let probe = crate::probe::FsProbe;
    let show = |e: shenzi_elf::Error| anyhow::anyhow!("{}: {e}", file.display());
    let original = input.bytes();
    let stripped = if args.strip_debug {
        strip_checked(&Elf::parse(original).map_err(show)?).map_err(show)?
    } else {
        None
    };
    // The edits apply to the stripped bytes when there are any.
    let data: &[u8] = stripped.as_ref().map_or(original, |(_, bytes)| bytes);
    let elf = Elf::parse(data).map_err(show)?;
    let rewrite = shenzi_elf::plan(&elf, &edits, &opts, Some(&probe)).map_err(show)?;
    for w in &rewrite.plan.warnings {
        eprintln!("shenzi: warning: {}: {w}", file.display());
    }
    if args.dry_run {
        if let Some((s, _)) = &stripped {
            print_strip(file, s);
        }
        if stripped.is_none() || !rewrite.is_noop() {
            print_plan(file, &rewrite.plan);
        }
        if args.print || args.json {
            let out = rewrite.output(data);
            print_summary(
                file,
                &Summary::of(&Elf::parse(&out).map_err(show)?).map_err(show)?,
                args.json,
            );
        }
        return Ok(());
    }
    let summary_needed = args.print || args.json || !args.has_edits();
    if stripped.is_none() && rewrite.is_noop() && args.output.is_none() {
        if summary_needed {
            print_summary(file, &Summary::of(&elf).map_err(show)?, args.json);
        }
        return Ok(());
    }
    let check = shenzi_elf::OutputCheck::new(&elf, &edits, &opts).map_err(show)?;
    drop(elf);
    let output = args.output.as_deref();
    // The output may be a device or FIFO that cannot be read back: summarize the new bytes
    // (the same ones that are verified and written).
    let after = (summary_needed && output.is_some())
        .then(|| Summary::of(&Elf::parse(&rewrite.output(data)).map_err(show)?).map_err(show))
        .transpose()?;
    match &stripped {
        Some((s, bytes)) => {
            let whole = rewrite.output(bytes);
            let verify = |out: &[u8]| -> Result<()> { Ok(check.run(out, Some(&probe))?) };
            fileio::commit(input, Change::Whole(&whole), output, &verify)?;
            if !args.print && !args.json {
                eprintln!(
                    "shenzi: {}: stripped {} sections, {} bytes smaller",
                    file.display(),
                    s.removed().len(),
                    s.bytes_saved()
                );
            }
        }
        None => commit_elf(input, &rewrite, &check, output)?,
    }
    match (output, after) {
        (Some(out), Some(s)) => print_summary(out, &s, args.json),
        (None, _) if summary_needed => {
            let after = fileio::open(file)?;
            let e = Elf::parse(after.bytes()).map_err(show)?;
            print_summary(file, &Summary::of(&e).map_err(show)?, args.json);
        }
        _ => {}
    }
    Ok(())
}

/// The stripped bytes of `elf`, checked against it; `None` when there is nothing to strip.
pub fn strip_checked(elf: &Elf) -> shenzi_elf::Result<Option<(shenzi_elf::Stripped, Vec<u8>)>> {
    let Some(s) = shenzi_elf::strip(elf)? else {
        return Ok(None);
    };
    let bytes = s.to_vec(elf.data())?;
    s.check(elf, &bytes)?;
    Ok(Some((s, bytes)))
}

fn print_strip(file: &Path, s: &shenzi_elf::Stripped) {
    println!(
        "{}: strip {} -> {} bytes",
        file.display(),
        s.old_len(),
        s.new_len()
    );
    for r in s.removed() {
        println!("  remove {} ({} bytes)", r.name, r.size);
    }
}

/// Writes an ELF rewrite safely; the output must pass `check` (it parses and holds the
/// requested state) before it replaces anything.
pub fn commit_elf(
    input: fileio::Input,
    rewrite: &shenzi_elf::Rewrite,
    check: &shenzi_elf::OutputCheck,
    output: Option<&Path>,
) -> Result<()> {
    let probe = crate::probe::FsProbe;
    let verify = |out: &[u8]| -> Result<()> { Ok(check.run(out, Some(&probe))?) };
    let writes = rewrite
        .writes
        .iter()
        .map(|w| (w.offset, w.bytes.as_slice()))
        .collect();
    fileio::commit(
        input,
        Change::Patch {
            new_len: rewrite.new_len,
            writes,
        },
        output,
        &verify,
    )
}

pub fn print_plan(file: &Path, plan: &shenzi_elf::Plan) {
    let head = if plan.grows {
        format!("grow {} -> {} bytes", plan.old_len, plan.new_len)
    } else if plan.steps.first().is_some_and(|s| s == "nothing to change") {
        "nothing to change".to_string()
    } else {
        "in place".to_string()
    };
    println!("{}: {head}", file.display());
    for s in &plan.steps {
        if s != "nothing to change" {
            println!("  {s}");
        }
    }
    for w in &plan.warnings {
        println!("  warning: {w}");
    }
}

fn print_summary(file: &Path, s: &Summary, json: bool) {
    if json {
        let mut v = serde_json::to_value(s).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert("file".into(), file.display().to_string().into());
        }
        println!("{v}");
        return;
    }
    let none = || "(none)".to_string();
    println!("{}", file.display());
    println!(
        "  format:      {} {}-endian {}, {}",
        s.class, s.endian, s.machine, s.kind
    );
    println!(
        "  interpreter: {}",
        s.interpreter.clone().unwrap_or_else(none)
    );
    println!("  soname:      {}", s.soname.clone().unwrap_or_else(none));
    println!(
        "  rpath:       {}",
        s.rpath.as_ref().map(|v| v.join(":")).unwrap_or_else(none)
    );
    println!(
        "  runpath:     {}",
        s.runpath.as_ref().map(|v| v.join(":")).unwrap_or_else(none)
    );
    if s.needed.is_empty() {
        println!("  needed:      (none)");
    }
    for (i, n) in s.needed.iter().enumerate() {
        println!(
            "  {}{n}",
            if i == 0 {
                "needed:      "
            } else {
                "             "
            }
        );
    }
}
