//! `shenzi patch` on Mach-O files: maps the shared flags to a Mach-O edit set, prints the plan
//! or summary, and writes through `fileio` (in-place header writes, or the whole file when a
//! slice shifts), verifying the result before it replaces the input.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use anyhow::{bail, Context, Result};
use shenzi_macho::{EditSet, Options, Output, Rewrite, RpathOp, Semantics};

use crate::fileio::{self, Change};
use crate::patch::Request;

fn b(s: &std::ffi::OsString) -> Vec<u8> {
    s.as_bytes().to_vec()
}

/// The Mach-O edit set of a `shenzi patch` command line.
pub fn edits(req: &Request) -> Result<EditSet> {
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

/// Writes a Mach-O rewrite safely: the output must parse, carry valid signatures where it is
/// signed, and hold the requested state: its dylib and rpath commands are the ones the edit
/// produces from the input, and (sequential edits) planning the same edits again changes
/// nothing. Edits matched against the input are not idempotent (`-change A B -change B C`), so
/// they are not planned again.
pub fn commit(
    input: fileio::Input,
    rewrite: &Rewrite,
    edits: &EditSet,
    opts: &Options,
    output: Option<&Path>,
) -> Result<()> {
    let dups_before = shenzi_macho::duplicate_rpaths(input.bytes()).unwrap_or_default();
    let want =
        shenzi_macho::expected_names(input.bytes(), edits).context("the input does not plan")?;
    let verify = |out: &[u8]| -> Result<()> {
        shenzi_macho::check(out, !opts.no_sign).context("output does not check out")?;
        for d in shenzi_macho::duplicate_rpaths(out)? {
            if !dups_before.contains(&d) {
                bail!(
                    "internal check failed: the output would have a duplicate LC_RPATH {} ({})",
                    String::from_utf8_lossy(&d.1),
                    d.0
                );
            }
        }
        if shenzi_macho::names(out)? != want {
            bail!("internal check failed: the output's dylib and rpath commands are not the edited ones");
        }
        if edits.semantics == Semantics::Input {
            return Ok(());
        }
        let mut again = edits.clone();
        again.strict = false;
        let r = shenzi_macho::rewrite(out, &again, opts).context("output does not re-plan")?;
        if !r.is_noop() {
            bail!("internal check failed: the output does not hold the requested state");
        }
        Ok(())
    };
    match rewrite.output() {
        Output::Unchanged => {
            let data = input.bytes().to_vec();
            fileio::commit(input, Change::Whole(&data), output, &verify)
        }
        Output::Whole(bytes) => fileio::commit(input, Change::Whole(bytes), output, &verify),
        Output::Patch { writes, new_len } => fileio::commit(
            input,
            Change::Patch {
                new_len: *new_len,
                writes: writes.iter().map(|(o, b)| (*o, b.as_slice())).collect(),
            },
            output,
            &verify,
        ),
    }
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

pub fn run(file: &Path, req: &Request) -> Result<()> {
    if req.strip_debug {
        anyhow::bail!(
            "{}: --strip-debug applies to ELF files only",
            file.display()
        );
    }
    let edits = edits(req)?;
    let opts = options(file, req.no_grow, req.no_sign);
    let input = fileio::open(file)?;
    let show = |e: shenzi_macho::Error| anyhow::anyhow!("{}: {e}", file.display());
    let data = input.bytes();
    let rewrite = shenzi_macho::rewrite(data, &edits, &opts).map_err(show)?;
    if req.dry_run {
        if req.json {
            for s in rewrite.slices() {
                let mut v = serde_json::to_value(s).unwrap_or_default();
                if let Some(o) = v.as_object_mut() {
                    o.insert("file".into(), file.display().to_string().into());
                    o.insert("plan".into(), true.into());
                }
                println!("{v}");
            }
        } else {
            print_plan(file, &rewrite);
        }
        if req.print || req.json {
            print_summary(file, &rewrite.apply(data), req.json)?;
        }
        return Ok(());
    }
    for s in rewrite.slices() {
        for w in &s.warnings {
            eprintln!("shenzi: warning: {}: {w}", file.display());
        }
    }
    let summary_needed = req.print || req.json || edits.is_empty();
    if rewrite.is_noop() && req.output.is_none() {
        if summary_needed {
            print_summary(file, data, req.json)?;
        }
        return Ok(());
    }
    match &req.output {
        // The output may be a device or FIFO that cannot be read back: summarize the new bytes
        // (the same ones `commit` verifies and writes).
        Some(out) => {
            let after = summary_needed.then(|| rewrite.apply(data));
            commit(input, &rewrite, &edits, &opts, Some(out))?;
            if let Some(bytes) = after {
                print_summary(out, &bytes, req.json)?;
            }
        }
        None => {
            commit(input, &rewrite, &edits, &opts, None)?;
            if summary_needed {
                let after = fileio::open(file)?;
                print_summary(file, after.bytes(), req.json)?;
            }
        }
    }
    Ok(())
}
