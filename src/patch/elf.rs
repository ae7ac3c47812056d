//! The ELF back end of `shenzi patch`: plans the edits (after `--strip-debug`, when given) with
//! the ELF crate, checks outputs with [`shenzi_elf::OutputCheck`], prints plans and summaries.
//! The patchelf front end shares [`commit`] and [`print_plan`].

use std::borrow::Cow;
use std::path::Path;

use anyhow::Result;
use shenzi_elf::{Elf, OutputCheck, Rewrite, Stripped, Summary};

use super::{Args, Planned};
use crate::fileio::{self, Change};

/// A planned ELF edit.
pub struct ElfPlan {
    rewrite: Rewrite,
    check: OutputCheck,
    /// With `--strip-debug`: the strip, and the complete output (the edits applied to the
    /// stripped bytes).
    stripped: Option<(Stripped, Vec<u8>)>,
}

fn options(args: &Args) -> shenzi_elf::Options {
    let mut o = shenzi_elf::Options::default();
    o.no_grow = args.no_grow;
    o.page_size = args.page_size;
    o
}

/// Plans `args`'s edits of the ELF file `file` (bytes `data`).
pub fn plan(file: &Path, data: &[u8], args: &Args) -> Result<ElfPlan> {
    let show = |e: shenzi_elf::Error| anyhow::anyhow!("{}: {e}", file.display());
    let edits = args.elf_edits();
    let opts = options(args);
    let probe = crate::probe::FsProbe;
    let input = Elf::parse(data).map_err(show)?;
    let stripped = if args.strip_debug {
        strip_checked(&input).map_err(show)?
    } else {
        None
    };
    // The edits apply to the stripped bytes when there are any (in that buffer, no copy).
    let (rewrite, check) = {
        let base: &[u8] = stripped.as_ref().map_or(data, |(_, bytes)| bytes);
        let elf = Elf::parse(base).map_err(show)?;
        let rewrite = shenzi_elf::plan(&elf, &edits, &opts, Some(&probe)).map_err(show)?;
        let check = OutputCheck::new(&elf, &edits, &opts).map_err(show)?;
        (rewrite, check)
    };
    let stripped = stripped.map(|(s, mut bytes)| {
        rewrite.apply_to_vec(&mut bytes);
        (s, bytes)
    });
    Ok(ElfPlan {
        rewrite,
        check,
        stripped,
    })
}

impl Planned for ElfPlan {
    fn warnings(&self) -> Vec<String> {
        self.rewrite.plan.warnings.clone()
    }

    fn print_plan(&self, file: &Path, _json: bool) {
        if let Some((s, _)) = &self.stripped {
            println!(
                "{}: strip {} -> {} bytes",
                file.display(),
                s.old_len(),
                s.new_len()
            );
            for r in s.removed() {
                println!("  remove {} ({} bytes)", r.name, r.size);
            }
            if self.rewrite.is_noop() {
                return;
            }
        }
        print_plan(file, &self.rewrite.plan);
    }

    fn is_noop(&self) -> bool {
        self.stripped.is_none() && self.rewrite.is_noop()
    }

    fn output<'a>(&'a self, input: &'a [u8]) -> Cow<'a, [u8]> {
        match &self.stripped {
            Some((_, whole)) => Cow::Borrowed(whole),
            None => Cow::Owned(self.rewrite.output(input)),
        }
    }

    fn change(&self) -> Change<'_> {
        match &self.stripped {
            Some((_, whole)) => Change::whole(whole),
            None => patch_change(&self.rewrite),
        }
    }

    fn verify(&self, output: &[u8]) -> Result<()> {
        Ok(self.check.run(output, Some(&crate::probe::FsProbe))?)
    }

    fn print_summary(&self, file: &Path, bytes: &[u8], json: bool) -> Result<()> {
        let show = |e: shenzi_elf::Error| anyhow::anyhow!("{}: {e}", file.display());
        let s = Summary::of(&Elf::parse(bytes).map_err(show)?).map_err(show)?;
        print_summary(file, &s, json);
        Ok(())
    }

    fn done(&self) -> Option<String> {
        self.stripped.as_ref().map(|(s, _)| {
            format!(
                "stripped {} sections, {} bytes smaller",
                s.removed().len(),
                s.bytes_saved()
            )
        })
    }
}

fn patch_change(rewrite: &Rewrite) -> Change<'_> {
    Change::Patch {
        new_len: rewrite.new_len,
        writes: rewrite
            .writes
            .iter()
            .map(|w| (w.offset, w.bytes.as_slice()))
            .collect(),
    }
}

/// The stripped bytes of `elf`, checked against it; `None` when there is nothing to strip.
pub fn strip_checked(elf: &Elf) -> shenzi_elf::Result<Option<(Stripped, Vec<u8>)>> {
    let Some(s) = shenzi_elf::strip(elf)? else {
        return Ok(None);
    };
    let bytes = s.to_vec(elf.data())?;
    s.check(elf, &bytes)?;
    Ok(Some((s, bytes)))
}

/// Writes an ELF rewrite safely; the output must pass `check` (it parses and holds the
/// requested state) before it replaces anything.
pub fn commit(
    input: fileio::Input,
    rewrite: &Rewrite,
    check: &OutputCheck,
    output: Option<&Path>,
) -> Result<()> {
    let probe = crate::probe::FsProbe;
    let verify = |out: &[u8]| -> Result<()> { Ok(check.run(out, Some(&probe))?) };
    fileio::commit(input, patch_change(rewrite), output, &verify)
}

/// Prints an ELF layout plan: the headline (in place, grow, nothing to change) and its steps.
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
