//! Drop-in `install_name_tool`: cctools' grammar and error texts, shenzi's writer underneath.
//!
//! Like cctools, every option is matched against the input file, not against the result of the
//! options before it (the Mach-O crate's `Semantics::Input`), and options that contradict each
//! other (the same rpath added and deleted, renamed and added, deleted twice, …) are refused
//! before the file is read, with cctools' messages. `-prepend_rpath` and `-delete_all_rpaths`
//! (LLVM's additions) follow the same rules; every option may also be spelled with `--`, as
//! llvm-install-name-tool allows.
//!
//! Unlike cctools, load commands that do not fit make the file grow (the image shifts; an object
//! file's data moves) unless `--no-grow` is given, in which case the error is cctools' and the
//! file is left unchanged. Signed slices are re-signed ad-hoc (`--no-sign` skips it).

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use shenzi_macho::{EditSet, Error, RpathOp, Semantics};

use crate::fileio;

const USAGE: &str = "Usage: install_name_tool [-change old new] ... [-rpath old new] ... \
[-add_rpath new] ... [-delete_rpath old] ... [-delete_all_rpaths] [-prepend_rpath new] ... \
[-id name] [--no-grow] [--no-sign] input";

/// One option as given, kept to reproduce cctools' messages.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Opt {
    Change(Vec<u8>, Vec<u8>),
    Rpath(Vec<u8>, Vec<u8>),
    Add(Vec<u8>),
    Prepend(Vec<u8>),
    Delete(Vec<u8>),
    DeleteAll,
    Id(Vec<u8>),
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl Opt {
    /// The option as cctools quotes it in messages: `-rpath old new`.
    fn quoted(&self) -> String {
        match self {
            Opt::Change(a, b) => format!("-change {} {}", show(a), show(b)),
            Opt::Rpath(a, b) => format!("-rpath {} {}", show(a), show(b)),
            Opt::Add(p) => format!("-add_rpath {}", show(p)),
            Opt::Prepend(p) => format!("-prepend_rpath {}", show(p)),
            Opt::Delete(p) => format!("-delete_rpath {}", show(p)),
            Opt::DeleteAll => "-delete_all_rpaths".to_string(),
            Opt::Id(n) => format!("-id {}", show(n)),
        }
    }

    /// The rpaths an rpath option names.
    fn paths(&self) -> Vec<&[u8]> {
        match self {
            Opt::Rpath(a, b) => vec![a, b],
            Opt::Add(p) | Opt::Prepend(p) | Opt::Delete(p) => vec![p],
            _ => Vec::new(),
        }
    }

    fn is_addition(&self) -> bool {
        matches!(self, Opt::Add(_) | Opt::Prepend(_))
    }
}

/// cctools' refusal of an option that contradicts one given before it (`prev`), checked in
/// cctools' order: the same kind of option first, then `-rpath`, additions, deletions.
/// `-prepend_rpath` counts as an addition and `-delete_all_rpaths` as a deletion of everything.
fn conflict(prev: &[Opt], new: &Opt) -> Option<String> {
    let both = |p: &Opt| {
        format!(
            "can't specify both \"{}\" and \"{}\"",
            p.quoted(),
            new.quoted()
        )
    };
    let twice = || format!("\"{}\" specified more than once", new.quoted());
    let shares = |p: &Opt| p.paths().iter().any(|x| new.paths().contains(x));
    let rpaths = || prev.iter().filter(|p| matches!(p, Opt::Rpath(..)));
    let adds = || prev.iter().filter(|p| p.is_addition());
    let deletes = || prev.iter().filter(|p| matches!(p, Opt::Delete(_)));
    let delete_all = || prev.iter().filter(|p| matches!(p, Opt::DeleteAll));
    match new {
        Opt::Rpath(..) => {
            for p in rpaths() {
                if p == new {
                    return Some(twice());
                }
                if shares(p) {
                    return Some(both(p));
                }
            }
            adds()
                .chain(deletes())
                .find(|p| shares(p))
                .or_else(|| delete_all().next())
                .map(both)
        }
        Opt::Add(_) | Opt::Prepend(_) => {
            for p in adds() {
                if p == new {
                    return Some(twice());
                }
                if shares(p) {
                    return Some(both(p));
                }
            }
            rpaths().chain(deletes()).find(|p| shares(p)).map(both)
        }
        Opt::Delete(_) => {
            if deletes().any(|p| p == new) {
                return Some(twice());
            }
            rpaths()
                .chain(adds())
                .find(|p| shares(p))
                .or_else(|| delete_all().next())
                .map(both)
        }
        Opt::DeleteAll => rpaths().chain(deletes()).next().map(both),
        Opt::Id(_) => prev
            .iter()
            .any(|p| matches!(p, Opt::Id(_)))
            .then(|| "more than one: -id option specified".to_string()),
        Opt::Change(..) => None,
    }
}

struct Parsed {
    opts: Vec<Opt>,
    no_grow: bool,
    no_sign: bool,
    input: PathBuf,
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: install_name_tool: {msg}");
    ExitCode::FAILURE
}

fn parse(args: Vec<OsString>) -> Result<Parsed, String> {
    let mut it = args.into_iter();
    let mut opts: Vec<Opt> = Vec::new();
    let mut input: Option<PathBuf> = None;
    let (mut no_grow, mut no_sign) = (false, false);
    let take = |it: &mut std::vec::IntoIter<OsString>, opt: &str| -> Result<Vec<u8>, String> {
        it.next().map(|a| a.as_bytes().to_vec()).ok_or_else(|| {
            if opt.ends_with("-id") {
                format!("missing argument to: {opt} option")
            } else {
                format!("missing argument(s) to: {opt} option")
            }
        })
    };
    while let Some(a) = it.next() {
        let given = a.to_str().unwrap_or("").to_string();
        // LLVM's spelling with two dashes names the same options.
        let name = match given.strip_prefix("--") {
            Some(rest) if !matches!(rest, "no-grow" | "no-sign") => format!("-{rest}"),
            _ => given.clone(),
        };
        let opt = match name.as_str() {
            "-change" => {
                let o = take(&mut it, &given)?;
                Opt::Change(o, take(&mut it, &given)?)
            }
            "-rpath" => {
                let o = take(&mut it, &given)?;
                Opt::Rpath(o, take(&mut it, &given)?)
            }
            "-add_rpath" => Opt::Add(take(&mut it, &given)?),
            "-prepend_rpath" => Opt::Prepend(take(&mut it, &given)?),
            "-delete_rpath" => Opt::Delete(take(&mut it, &given)?),
            "-delete_all_rpaths" => Opt::DeleteAll,
            "-id" => Opt::Id(take(&mut it, &given)?),
            "--no-grow" => {
                no_grow = true;
                continue;
            }
            "--no-sign" => {
                no_sign = true;
                continue;
            }
            s if s.starts_with('-') && s.len() > 1 => {
                return Err(format!("unknown option: {given}"))
            }
            _ => {
                if let Some(first) = &input {
                    return Err(format!(
                        "more than one input file specified ({given} and {})",
                        first.display()
                    ));
                }
                input = Some(PathBuf::from(a));
                continue;
            }
        };
        if let Some(msg) = conflict(&opts, &opt) {
            return Err(msg);
        }
        opts.push(opt);
    }
    let input = input.ok_or_else(|| "no input file specified".to_string())?;
    if opts.is_empty() {
        return Err("no options specified".into());
    }
    Ok(Parsed {
        opts,
        no_grow,
        no_sign,
        input,
    })
}

/// The edit set: every option matched against the input, rpath mistakes are errors.
fn edits(opts: &[Opt]) -> EditSet {
    let mut e = EditSet::default();
    e.strict = true;
    e.semantics = Semantics::Input;
    if opts.iter().any(|o| matches!(o, Opt::DeleteAll)) {
        e.rpath.push(RpathOp::RemoveAll);
    }
    for o in opts {
        match o {
            Opt::Change(a, b) => e.change.push((a.clone(), b.clone())),
            Opt::Id(n) => e.id = Some(n.clone()),
            Opt::Rpath(a, b) => e.rpath.push(RpathOp::Change(a.clone(), b.clone())),
            Opt::Add(p) => e.rpath.push(RpathOp::Add(p.clone())),
            Opt::Prepend(p) => e.rpath.push(RpathOp::Prepend(p.clone())),
            Opt::Delete(p) => e.rpath.push(RpathOp::Delete(p.clone())),
            Opt::DeleteAll => {}
        }
    }
    e
}

/// cctools' wording for an edit error.
fn message(err: &Error, file: &Path, opts: &[Opt]) -> String {
    let f = file.display();
    let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    match err {
        Error::RpathNotFound { arch, path } => {
            let option = opts
                .iter()
                .find_map(|o| match o {
                    Opt::Delete(p) if s(p) == *path => Some(format!("-delete_rpath {path}")),
                    Opt::Rpath(a, b) if s(a) == *path => Some(format!("-rpath {path} {}", s(b))),
                    _ => None,
                })
                .unwrap_or_default();
            format!(
                "no LC_RPATH load command with path: {path} found in: {f} (for architecture \
                 {arch}), required for specified option \"{option}\""
            )
        }
        Error::RpathDuplicate { arch, path } => {
            let option = opts
                .iter()
                .find_map(|o| match o {
                    Opt::Add(p) if s(p) == *path => Some(format!("-add_rpath {path}")),
                    Opt::Prepend(p) if s(p) == *path => Some(format!("-prepend_rpath {path}")),
                    Opt::Rpath(a, b) if s(b) == *path => Some(format!("-rpath {} {path}", s(a))),
                    _ => None,
                })
                .unwrap_or_default();
            format!(
                "for: {f} (for architecture {arch}) option \"{option}\" would duplicate path, \
                 file already has LC_RPATH for: {path}"
            )
        }
        Error::NoRoom { arch, .. } => format!(
            "changing install names or rpaths can't be redone for: {f} (for architecture \
             {arch}) because larger updated load commands do not fit (the program must be \
             relinked, and you may need to use -headerpad or -headerpad_max_install_names)"
        ),
        Error::NotADylib { arch } => format!(
            "for: {f} (for architecture {arch}) option \"-id\" specified for a file that is \
             not a dynamic library"
        ),
        Error::NotMachO => format!("input file: {f} is not a Mach-O file"),
        other => format!("{f}: {other}"),
    }
}

pub fn main(args: Vec<OsString>) -> ExitCode {
    let p = match parse(args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: install_name_tool: {e}");
            eprintln!("{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    let input = match fileio::open(&p.input) {
        Ok(i) => i,
        Err(_) => {
            let why = std::fs::metadata(&p.input)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_else(|| "not a regular file".into());
            return fail(format!("can't open file: {} ({why})", p.input.display()));
        }
    };
    if !shenzi_macho::is_macho(input.bytes()) {
        return fail(message(&Error::NotMachO, &p.input, &p.opts));
    }
    let edits = edits(&p.opts);
    let opts = crate::patch::macho::options(&p.input, p.no_grow, p.no_sign);
    let rewrite = match shenzi_macho::rewrite(input.bytes(), &edits, &opts) {
        Ok(r) => r,
        Err(e) => return fail(message(&e, &p.input, &p.opts)),
    };
    for s in rewrite.slices() {
        for w in &s.warnings {
            eprintln!("warning: install_name_tool: {}: {w}", p.input.display());
        }
    }
    if rewrite.is_noop() {
        return ExitCode::SUCCESS;
    }
    match crate::patch::macho::commit(input, rewrite, &edits, &opts, None) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(format!("{e:#}")),
    }
}
