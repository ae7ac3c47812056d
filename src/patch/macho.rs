//! The Mach-O back end of `shenzi patch`: maps the shared flags to a Mach-O edit set, plans it
//! with the Mach-O crate (in-place header writes, or runs of the input and new bytes when a slice shifts), checks
//! outputs, prints plans and summaries. The install_name_tool and codesign front ends share
//! [`options`] and [`commit`].

use std::borrow::Cow;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use anyhow::{bail, Context, Result};
use shenzi_macho::{EditSet, Options, Output, Piece, Rewrite, RpathOp, Semantics};

use super::{Args, Planned};
use crate::fileio::{self, Change, Run};

fn b(s: &std::ffi::OsString) -> Vec<u8> {
    s.as_bytes().to_vec()
}

/// The Mach-O edit set of a `shenzi patch` command line.
pub fn edits(req: &Args) -> Result<EditSet> {
    if req.set_interpreter.is_some() {
        bail!("--set-interpreter applies to ELF files only");
    }
    if req.shrink_rpath {
        bail!("--shrink-rpath applies to ELF files only");
    }
    let mut rpath = Vec::new();
    if !req.rpath.is_empty() {
        rpath.push(RpathOp::Set(req.rpath.iter().map(b).collect()));
    }
    if req.remove_rpath {
        rpath.push(RpathOp::RemoveAll);
    }
    rpath.extend(req.delete_rpath.iter().map(|p| RpathOp::Delete(b(p))));
    rpath.extend(
        req.change_rpath
            .chunks(2)
            .map(|c| RpathOp::Change(b(&c[0]), b(&c[1]))),
    );
    rpath.extend(req.add_rpath.iter().map(|p| RpathOp::Add(b(p))));
    rpath.extend(req.prepend_rpath.iter().map(|p| RpathOp::Prepend(b(p))));
    let mut e = EditSet::default();
    e.id = req.set_soname.as_ref().map(b);
    e.change = req
        .replace_needed
        .chunks(2)
        .map(|c| (b(&c[0]), b(&c[1])))
        .collect();
    e.remove_dylib = req.remove_needed.iter().map(b).collect();
    e.add_dylib = req.add_needed.iter().map(b).collect();
    e.rpath = rpath;
    e.strict = false;
    e.semantics = Semantics::Sequential;
    Ok(e)
}

/// Options for `file`: the identifier of a fresh signature is the file name, as ld64 does.
pub fn options(file: &Path, no_grow: bool, no_sign: bool) -> Options {
    let mut o = Options::default();
    o.no_grow = no_grow;
    o.no_sign = no_sign;
    o.identifier = file
        .file_name()
        .map(|n| n.as_bytes().to_vec())
        .unwrap_or_else(|| b"a.out".to_vec());
    o
}

/// A planned Mach-O edit, with what its output is checked against.
pub struct MachoPlan {
    rewrite: Rewrite,
    edits: EditSet,
    opts: Options,
    /// Duplicate LC_RPATHs the input already had (the output may keep those, no others).
    dups_before: Vec<(String, Vec<u8>)>,
    /// The dylib and rpath commands the output must have.
    want: shenzi_macho::Names,
    /// Length of the input (the output's, when nothing changes).
    input_len: u64,
}

impl MachoPlan {
    /// The plan of `rewrite` (planned from `input` with `edits`).
    pub fn new(input: &[u8], rewrite: Rewrite, edits: EditSet, opts: Options) -> Result<Self> {
        Ok(MachoPlan {
            dups_before: shenzi_macho::duplicate_rpaths(input).unwrap_or_default(),
            want: shenzi_macho::expected_names(input, &edits).context("the input does not plan")?,
            input_len: input.len() as u64,
            rewrite,
            edits,
            opts,
        })
    }
}

/// Plans `args`'s edits of the Mach-O file `file` (bytes `data`).
pub fn plan(file: &Path, data: &[u8], args: &Args) -> Result<MachoPlan> {
    if args.strip_debug {
        bail!(
            "{}: --strip-debug applies to ELF files only",
            file.display()
        );
    }
    let edits = edits(args)?;
    let opts = options(file, args.no_grow, args.no_sign);
    let show = |e: shenzi_macho::Error| anyhow::anyhow!("{}: {e}", file.display());
    let rewrite = shenzi_macho::rewrite(data, &edits, &opts).map_err(show)?;
    MachoPlan::new(data, rewrite, edits, opts)
}

impl Planned for MachoPlan {
    fn warnings(&self) -> Vec<String> {
        self.rewrite
            .slices()
            .iter()
            .flat_map(|s| s.warnings.iter().cloned())
            .collect()
    }

    fn print_plan(&self, file: &Path, json: bool) {
        if !json {
            return print_plan(file, &self.rewrite);
        }
        for s in self.rewrite.slices() {
            let mut v = serde_json::to_value(s).unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                o.insert("file".into(), file.display().to_string().into());
                o.insert("plan".into(), true.into());
            }
            println!("{v}");
        }
    }

    fn is_noop(&self) -> bool {
        self.rewrite.is_noop()
    }

    fn output<'a>(&'a self, input: &'a [u8]) -> Cow<'a, [u8]> {
        match self.rewrite.output() {
            Output::Unchanged => Cow::Borrowed(input),
            Output::Pieces(_) | Output::Patch { .. } => Cow::Owned(self.rewrite.apply(input)),
        }
    }

    fn change(&self) -> Change<'_> {
        match self.rewrite.output() {
            Output::Unchanged => Change::Patch {
                new_len: self.input_len,
                writes: Vec::new(),
            },
            Output::Pieces(pieces) => Change::Runs(
                pieces
                    .iter()
                    .map(|p| match p {
                        Piece::Input { offset, len } => Run::Input {
                            offset: *offset,
                            len: *len,
                        },
                        Piece::Bytes(b) => Run::Bytes(b),
                        Piece::Zeros(n) => Run::Zeros(*n),
                    })
                    .collect(),
            ),
            Output::Patch { writes, new_len } => Change::Patch {
                new_len: *new_len,
                writes: writes.iter().map(|(o, b)| (*o, b.as_slice())).collect(),
            },
        }
    }

    /// The output must parse, carry valid signatures where it is signed, and hold the
    /// requested state: its dylib and rpath commands are the ones the edit produces from the
    /// input, and (sequential edits) planning the same edits again changes nothing. Edits
    /// matched against the input are not idempotent (`-change A B -change B C`), so they are
    /// not planned again.
    fn verify(&self, out: &[u8]) -> Result<()> {
        shenzi_macho::check(out, !self.opts.no_sign).context("output does not check out")?;
        for d in shenzi_macho::duplicate_rpaths(out)? {
            if !self.dups_before.contains(&d) {
                bail!(
                    "internal check failed: the output would have a duplicate LC_RPATH {} ({})",
                    String::from_utf8_lossy(&d.1),
                    d.0
                );
            }
        }
        if shenzi_macho::names(out)? != self.want {
            bail!("internal check failed: the output's dylib and rpath commands are not the edited ones");
        }
        if self.edits.semantics == Semantics::Input {
            return Ok(());
        }
        let mut again = self.edits.clone();
        again.strict = false;
        let r =
            shenzi_macho::rewrite(out, &again, &self.opts).context("output does not re-plan")?;
        if !r.is_noop() {
            bail!("internal check failed: the output does not hold the requested state");
        }
        Ok(())
    }

    fn print_summary(&self, file: &Path, bytes: &[u8], json: bool) -> Result<()> {
        print_summary(file, bytes, json)
    }
}

/// Writes a Mach-O rewrite safely, checked as [`MachoPlan::verify`] says.
pub fn commit(
    input: fileio::Input,
    rewrite: Rewrite,
    edits: &EditSet,
    opts: &Options,
    output: Option<&Path>,
) -> Result<()> {
    let plan = MachoPlan::new(input.bytes(), rewrite, edits.clone(), opts.clone())?;
    fileio::commit(input, plan.change(), output, &|out| plan.verify(out))
}

pub fn print_plan(file: &Path, r: &Rewrite) {
    for s in r.slices() {
        println!("{} ({}): {}", file.display(), s.arch, s.headline());
        for step in &s.steps {
            println!("  {step}");
        }
        for w in &s.warnings {
            println!("  warning: {w}");
        }
    }
}

pub fn print_summary(file: &Path, data: &[u8], json: bool) -> Result<()> {
    let show = |e: shenzi_macho::Error| anyhow::anyhow!("{}: {e}", file.display());
    let sums = shenzi_macho::summarize(data).map_err(show)?;
    if json {
        for s in &sums {
            let mut v = serde_json::to_value(s).unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                o.insert("file".into(), file.display().to_string().into());
                o.insert("format".into(), "mach-o".into());
            }
            println!("{v}");
        }
        return Ok(());
    }
    let none = || "(none)".to_string();
    for s in &sums {
        println!("{} ({})", file.display(), s.arch);
        println!("  format:      Mach-O {}", s.filetype);
        println!("  id:          {}", s.id.clone().unwrap_or_else(none));
        println!(
            "  rpath:       {}",
            if s.rpaths.is_empty() {
                none()
            } else {
                s.rpaths.join(":")
            }
        );
        if s.dependencies.is_empty() {
            println!("  dylibs:      (none)");
        }
        for (i, d) in s.dependencies.iter().enumerate() {
            let label = if i == 0 {
                "dylibs:      "
            } else {
                "             "
            };
            if d.kind == "load" {
                println!("  {label}{}", d.name);
            } else {
                println!("  {label}{} ({})", d.name, d.kind);
            }
        }
        println!(
            "  signature:   {}",
            s.signature.clone().unwrap_or_else(none)
        );
    }
    Ok(())
}
