//! Drop-in `patchelf`: patchelf 0.19's grammar, output formats, semantics and error texts, on
//! shenzi's ELF engine (edits that fit stay in place; growth reuses the space of earlier growth).

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use shenzi_elf::consts::*;
use shenzi_elf::{EditSet, Elf, Options, RpathOp};

use crate::fileio;

const HELP: &str = "syntax: patchelf
  [--set-interpreter FILENAME]
  [--page-size SIZE]
  [--print-interpreter]
  [--print-os-abi]\t\tPrints 'EI_OSABI' field of ELF header
  [--set-os-abi ABI]\t\tSets 'EI_OSABI' field of ELF header to ABI.
  [--print-soname]\t\tPrints 'DT_SONAME' entry of .dynamic section. Raises an error if DT_SONAME doesn't exist
  [--set-soname SONAME]\t\tSets 'DT_SONAME' entry to SONAME.
  [--set-rpath RPATH]
  [--add-rpath RPATH]
  [--remove-rpath]
  [--shrink-rpath]
  [--allowed-rpath-prefixes PREFIXES]\t\tWith '--shrink-rpath', reject rpath entries not starting with the allowed prefix
  [--print-rpath]
  [--force-rpath]
  [--add-needed LIBRARY]
  [--remove-needed LIBRARY]
  [--replace-needed LIBRARY NEW_LIBRARY]
  [--print-needed]
  [--no-default-lib]
  [--no-sort]\t\tDo not sort program+section headers; useful for debugging patchelf.
  [--clear-symbol-version SYMBOL]
  [--add-debug-tag]
  [--build-resolution-cache]
  [--print-execstack]\t\tPrints whether the object requests an executable stack
  [--clear-execstack]
  [--set-execstack]
  [--rename-dynamic-symbols NAME_MAP_FILE]\tRenames dynamic symbols. The map file should contain two symbols (old_name new_name) per line
  [--no-clobber-old-sections]\t\tDo not clobber old section values - only use when the binary expects to find section info at the old location.
  [--output FILE]
  [--debug]
  [--version]
  FILENAME...
";

#[derive(Default)]
struct Opts {
    print_interpreter: bool,
    print_os_abi: bool,
    print_soname: bool,
    print_rpath: bool,
    print_needed: bool,
    print_execstack: bool,
    set_os_abi: Option<Vec<u8>>,
    set_soname: Option<Vec<u8>>,
    interpreter: Option<Vec<u8>>,
    shrink: bool,
    allowed_prefixes: Vec<Vec<u8>>,
    remove_rpath: bool,
    set_rpath: Option<Vec<u8>>,
    add_rpath: Option<Vec<u8>>,
    force_rpath: bool,
    add_needed: Vec<Vec<u8>>,
    remove_needed: Vec<Vec<u8>>,
    replace_needed: Vec<(Vec<u8>, Vec<u8>)>,
    no_default_lib: bool,
    add_debug_tag: bool,
    clear_execstack: bool,
    set_execstack: bool,
    page_size: Option<u64>,
    clear_symbol_version: BTreeSet<Vec<u8>>,
    rename_symbols: Vec<(Vec<u8>, Vec<u8>)>,
    build_resolution_cache: bool,
    keep_old_sections: bool,
    output: Option<PathBuf>,
    debug: bool,
    files: Vec<PathBuf>,
}

enum Parsed {
    Run(Box<Opts>),
    Exit(ExitCode),
}

/// patchelf's `@file` arguments: the whole file content is the value.
fn resolve(arg: &OsString) -> Result<Vec<u8>> {
    let b = arg.as_bytes();
    if b.len() > 1 && b[0] == b'@' {
        let p = Path::new(std::ffi::OsStr::from_bytes(&b[1..]));
        return std::fs::read(p).with_context(|| format!("getting info about '{}'", p.display()));
    }
    Ok(b.to_vec())
}

fn parse(args: Vec<OsString>) -> Result<Parsed> {
    if args.is_empty() {
        eprint!("{HELP}");
        return Ok(Parsed::Exit(ExitCode::FAILURE));
    }
    let mut o = Opts::default();
    let mut it = args.into_iter().peekable();
    let next = |it: &mut std::iter::Peekable<std::vec::IntoIter<OsString>>| {
        it.next().ok_or_else(|| anyhow!("missing argument"))
    };
    while let Some(arg) = it.next() {
        match arg.to_str().unwrap_or("") {
            "--set-interpreter" | "--interpreter" => {
                o.interpreter = Some(resolve(&next(&mut it)?)?)
            }
            "--page-size" => {
                let v = next(&mut it)?;
                let n: i64 = v.to_str().and_then(|s| s.trim().parse().ok()).unwrap_or(0);
                if n <= 0 {
                    bail!("invalid argument to --page-size");
                }
                o.page_size = Some(n as u64);
            }
            "--print-interpreter" => o.print_interpreter = true,
            "--print-os-abi" => o.print_os_abi = true,
            "--set-os-abi" => o.set_os_abi = Some(resolve(&next(&mut it)?)?),
            "--print-soname" => o.print_soname = true,
            "--set-soname" => o.set_soname = Some(resolve(&next(&mut it)?)?),
            "--remove-rpath" => o.remove_rpath = true,
            "--shrink-rpath" => o.shrink = true,
            "--allowed-rpath-prefixes" => {
                let v = next(&mut it)?;
                o.allowed_prefixes = v
                    .as_bytes()
                    .split(|&b| b == b':')
                    .filter(|s| !s.is_empty())
                    .map(<[u8]>::to_vec)
                    .collect();
            }
            "--set-rpath" => {
                o.set_rpath = Some(resolve(&next(&mut it)?)?);
                o.add_rpath = None;
            }
            "--add-rpath" => o.add_rpath = Some(resolve(&next(&mut it)?)?),
            "--print-rpath" => o.print_rpath = true,
            "--force-rpath" => o.force_rpath = true,
            "--print-needed" => o.print_needed = true,
            "--no-sort" => {}
            "--add-needed" => o.add_needed.push(resolve(&next(&mut it)?)?),
            "--remove-needed" => o.remove_needed.push(resolve(&next(&mut it)?)?),
            "--replace-needed" => {
                let (a, b) = (it.next(), it.next());
                let (Some(a), Some(b)) = (a, b) else {
                    bail!("missing argument(s)")
                };
                let (a, b) = (a.into_vec(), b.into_vec());
                o.replace_needed.retain(|(x, _)| *x != a);
                o.replace_needed.push((a, b));
            }
            "--clear-symbol-version" => {
                o.clear_symbol_version.insert(resolve(&next(&mut it)?)?);
            }
            "--rename-dynamic-symbols" => {
                o.rename_symbols = read_rename_map(&next(&mut it)?, o.rename_symbols)?;
            }
            "--build-resolution-cache" => o.build_resolution_cache = true,
            "--no-clobber-old-sections" => o.keep_old_sections = true,
            "--print-execstack" => o.print_execstack = true,
            "--clear-execstack" => o.clear_execstack = true,
            "--set-execstack" => o.set_execstack = true,
            "--output" => {
                o.output = Some(PathBuf::from(OsString::from_vec(resolve(&next(&mut it)?)?)))
            }
            "--debug" => o.debug = true,
            "--no-default-lib" => o.no_default_lib = true,
            "--add-debug-tag" => o.add_debug_tag = true,
            "--help" | "-h" => {
                eprint!("{HELP}");
                return Ok(Parsed::Exit(ExitCode::SUCCESS));
            }
            "--version" => {
                println!("patchelf 0.19.0 (shenzi {})", env!("CARGO_PKG_VERSION"));
                return Ok(Parsed::Exit(ExitCode::SUCCESS));
            }
            _ => o.files.push(PathBuf::from(arg)),
        }
    }
    if o.files.is_empty() {
        bail!("missing filename");
    }
    if o.force_rpath && o.build_resolution_cache {
        bail!("--build-resolution-cache cannot be combined with --force-rpath");
    }
    if o.output.is_some() && o.files.len() != 1 {
        bail!("--output option only allowed with single input file");
    }
    if o.set_rpath.is_some() && o.add_rpath.is_some() {
        bail!("--set-rpath option not allowed with --add-rpath");
    }
    Ok(Parsed::Run(Box::new(o)))
}

/// Reads a `--rename-dynamic-symbols` map: `OLD NEW` per line, read up to the first line without
/// a name (as patchelf does). Later files given to the option add to earlier ones.
fn read_rename_map(
    file: &OsString,
    mut map: Vec<(Vec<u8>, Vec<u8>)>,
) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let shown = file.to_string_lossy();
    let text = std::fs::read(file)
        .map_err(|e| anyhow!("Cannot open map file {shown}: {}", strerror(&e)))?;
    for (i, line) in text.split(|&b| b == b'\n').enumerate() {
        let line_no = i + 1;
        let mut words = line
            .split(u8::is_ascii_whitespace)
            .filter(|w| !w.is_empty());
        let Some(from) = words.next() else { break };
        let Some(to) = words.next() else {
            bail!("{shown}:{line_no}: Map file line is missing the second element");
        };
        let (from, to) = (from.to_vec(), to.to_vec());
        if map.iter().any(|(a, _)| *a == from) {
            bail!(
                "{shown}:{line_no}: Name '{}' appears twice in the map file",
                String::from_utf8_lossy(&from)
            );
        }
        if from.contains(&b'@') || to.contains(&b'@') {
            bail!(
                "{shown}:{line_no}: Name pair contains version tag: {} {}",
                String::from_utf8_lossy(&from),
                String::from_utf8_lossy(&to)
            );
        }
        map.push((from, to));
    }
    Ok(map)
}

pub fn main(args: Vec<OsString>) -> ExitCode {
    let run = || -> Result<ExitCode> {
        match parse(args)? {
            Parsed::Exit(code) => Ok(code),
            Parsed::Run(o) => {
                for f in &o.files {
                    patch_file(f, &o)?;
                }
                Ok(ExitCode::SUCCESS)
            }
        }
    };
    match run() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("patchelf: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn os_abi_name(abi: u8) -> String {
    match abi {
        0 => "System V".into(),
        1 => "HP-UX".into(),
        2 => "NetBSD".into(),
        3 => "Linux".into(),
        4 => "GNU Hurd".into(),
        6 => "Solaris".into(),
        7 => "AIX".into(),
        8 => "IRIX".into(),
        9 => "FreeBSD".into(),
        10 => "Tru64".into(),
        12 => "OpenBSD".into(),
        13 => "OpenVMS".into(),
        a => format!("0x{a:02X}"),
    }
}

fn parse_os_abi(name: &[u8]) -> Result<u8> {
    let n = String::from_utf8_lossy(name).trim().to_lowercase();
    Ok(match n.as_str() {
        "system v" | "system-v" | "sysv" => 0,
        "hp-ux" => 1,
        "netbsd" => 2,
        "linux" | "gnu" => 3,
        "gnu hurd" | "gnu-hurd" | "hurd" => 4,
        "solaris" => 6,
        "aix" => 7,
        "irix" => 8,
        "freebsd" => 9,
        "tru64" => 10,
        "openbsd" => 12,
        "openvms" => 13,
        _ => bail!("unrecognized OS ABI"),
    })
}

fn patch_file(file: &Path, o: &Opts) -> Result<()> {
    let input = fileio::open(file).map_err(|_| {
        anyhow!(
            "getting info about '{}': No such file or directory",
            file.display()
        )
    })?;
    let data = input.bytes();
    if !shenzi_elf::is_elf(data) {
        bail!("not an ELF executable");
    }
    let elf = Elf::parse(data).map_err(|e| anyhow!("{}: {e}", file.display()))?;
    let is_dyn = elf.header().e_type == ET_DYN;
    let out = |b: &[u8]| {
        use std::io::Write;
        let mut so = std::io::stdout().lock();
        let _ = so.write_all(b);
        let _ = so.write_all(b"\n");
    };

    // Prints show the file as it was, in patchelf's order.
    if o.print_interpreter {
        match elf.interpreter() {
            Some(i) => out(i),
            None => bail!(
                "cannot find section '.interp'. The input file is most likely statically linked"
            ),
        }
    }
    if o.print_os_abi {
        println!("{}", os_abi_name(elf.header().ident[7]));
    }
    if o.print_soname && is_dyn {
        if let Some(s) = elf.soname().map_err(|e| anyhow!("{e}"))? {
            if !s.is_empty() {
                out(s);
            }
        }
    }
    if o.print_rpath {
        out(&current_rpath(&elf)?.unwrap_or_default());
    }
    if o.print_execstack {
        let c = match elf
            .program_headers()
            .iter()
            .find(|p| p.p_type == PT_GNU_STACK)
        {
            Some(p) if p.p_flags & PF_X != 0 => 'X',
            Some(_) => '-',
            None => '?',
        };
        println!("execstack: {c}");
    }
    if o.print_needed {
        for n in elf.needed().map_err(|e| anyhow!("{e}"))? {
            out(n);
        }
    }

    let mut rpath = Vec::new();
    if o.shrink {
        rpath.push(RpathOp::Shrink {
            allowed_prefixes: o.allowed_prefixes.clone(),
        });
    } else if o.remove_rpath {
        rpath.push(RpathOp::Remove);
    } else if let Some(r) = &o.set_rpath {
        rpath.push(RpathOp::Set(r.clone()));
    } else if let Some(r) = &o.add_rpath {
        // patchelf appends without checking for duplicates.
        let cur = current_rpath(&elf)?;
        let mut v = cur.unwrap_or_default();
        if !v.is_empty() {
            v.push(b':');
        }
        v.extend_from_slice(r);
        rpath.push(RpathOp::Set(v));
    }
    let mut edits = EditSet::default();
    edits.interpreter = o.interpreter.clone();
    edits.soname = o.set_soname.clone().filter(|_| is_dyn);
    edits.rpath = rpath;
    edits.force_rpath = o.force_rpath;
    edits.remove_needed = o.remove_needed.clone();
    edits.replace_needed = o.replace_needed.clone();
    // patchelf puts its (sorted) set of additions first, in order; the engine puts each addition
    // first, so hand them over in reverse.
    edits.add_needed = o.add_needed.clone();
    edits.add_needed.sort();
    edits.add_needed.dedup();
    edits.add_needed.reverse();
    edits.no_default_lib = o.no_default_lib;
    edits.add_debug_tag = o.add_debug_tag;
    edits.os_abi = o.set_os_abi.as_deref().map(parse_os_abi).transpose()?;
    edits.execstack = if o.print_execstack {
        None
    } else if o.clear_execstack {
        Some(false)
    } else if o.set_execstack {
        Some(true)
    } else {
        None
    };
    edits.rename_symbols = o.rename_symbols.clone();
    edits.clear_symbol_version = o.clear_symbol_version.iter().cloned().collect();
    edits.resolution_cache = o.build_resolution_cache;
    if edits.is_empty() && o.output.is_none() {
        return Ok(());
    }
    let mut opts = Options::default();
    opts.page_size = o.page_size;
    opts.keep_old_copies = o.keep_old_sections;
    let probe = crate::probe::FsProbe;
    let rewrite =
        shenzi_elf::plan(&elf, &edits, &opts, Some(&probe)).map_err(|e| engine_error(file, e))?;
    if o.debug {
        crate::patch::elf::print_plan(file, &rewrite.plan);
    }
    for w in &rewrite.plan.warnings {
        eprintln!("warning: {w}");
    }
    let check =
        shenzi_elf::OutputCheck::new(&elf, &edits, &opts).map_err(|e| engine_error(file, e))?;
    drop(elf);
    crate::patch::elf::commit(input, &rewrite, &check, o.output.as_deref())
}

/// The C library's text for an I/O error (what patchelf prints), without Rust's "(os error N)".
fn strerror(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        // SAFETY: strerror returns a pointer to a NUL-terminated static message.
        Some(n) => unsafe { std::ffi::CStr::from_ptr(libc::strerror(n)) }
            .to_string_lossy()
            .into_owned(),
        None => e.to_string(),
    }
}

/// An engine error in patchelf's words where patchelf has some.
fn engine_error(file: &Path, e: shenzi_elf::Error) -> anyhow::Error {
    match e {
        shenzi_elf::Error::MissingTable(name) => {
            let hint = if matches!(name, ".interp" | ".dynamic" | ".dynstr") {
                ". The input file is most likely statically linked"
            } else {
                ""
            };
            anyhow!("cannot find section '{name}'{hint}")
        }
        e @ shenzi_elf::Error::CacheAlreadyPresent => anyhow!("{e}"),
        e => anyhow!("{}: {e}", file.display()),
    }
}

fn current_rpath(elf: &Elf) -> Result<Option<Vec<u8>>> {
    Ok(elf
        .run_path()
        .map_err(|e| anyhow!("{e}"))?
        .map(|r| r.value.to_vec()))
}
