//! Turns arbitrary bytes into an edit set, so fuzz targets and the regression tests that replay
//! their findings decode inputs the same way.

use crate::edit::{EditSet, LibraryProbe, RpathOp};
use crate::plan::Options;

const NAMES: [&[u8]; 6] = [
    b"libextra.so",
    b"libm.so.6",
    b"libc.so.6",
    b"libdemo.so",
    b"x",
    b"libz.so.1",
];

fn name(sel: u8) -> Vec<u8> {
    NAMES[sel as usize % NAMES.len()].to_vec()
}

/// Dynamic symbols of the seed programs and libraries (and of libc, which they import from).
const SYMBOLS: [&[u8]; 6] = [
    b"demo",
    b"main",
    b"printf",
    b"sqrt",
    b"__cxa_finalize",
    b"__libc_start_main",
];

fn symbol(sel: u8) -> Vec<u8> {
    SYMBOLS[sel as usize % SYMBOLS.len()].to_vec()
}

/// A file system the fuzz targets can ask without touching the real one: a path "exists" when
/// its length is even, and a library is "there" when its directory name is short.
pub struct FuzzProbe;

impl LibraryProbe for FuzzProbe {
    fn has_library(&self, dir: &[u8], _: &[u8], _: u16) -> bool {
        dir.len() < 8
    }
    fn readable(&self, path: &[u8]) -> bool {
        path.len().is_multiple_of(2)
    }
    fn exists(&self, path: &[u8]) -> bool {
        path.len().is_multiple_of(3)
    }
}

/// Splits a fuzz input into an edit set (from its first 8 bytes) and the file (the rest).
pub fn split_input(input: &[u8]) -> Option<(EditSet, Options, &[u8])> {
    if input.len() < 8 {
        return None;
    }
    let (ctl, data) = input.split_at(8);
    let mut e = EditSet::default();
    let flags = ctl[1];
    if flags & 1 != 0 {
        e.rpath.push(RpathOp::Set(vec![b'/'; ctl[0] as usize * 24]));
    }
    if flags & 2 != 0 {
        e.add_needed.push(name(ctl[2]));
    }
    if flags & 4 != 0 {
        e.remove_needed.push(name(ctl[3]));
    }
    if flags & 8 != 0 {
        e.replace_needed
            .push((name(ctl[4]), vec![b'n'; ctl[5] as usize]));
    }
    if flags & 16 != 0 {
        e.soname = Some(vec![b's'; ctl[6] as usize]);
    }
    if flags & 32 != 0 {
        e.interpreter = Some(vec![b'i'; ctl[7] as usize + 1]);
    }
    if flags & 64 != 0 {
        e.rpath.push(RpathOp::Remove);
    }
    // The two high bits of otherwise partly used selectors switch on the symbol and cache edits.
    if ctl[3] & 0xc0 == 0xc0 {
        let old = symbol(ctl[4]);
        let mut new = vec![b'r'; ctl[5] as usize % 48];
        new.extend_from_slice(&old);
        e.rename_symbols.push((old, new));
    }
    if ctl[4] & 0xc0 == 0xc0 {
        e.clear_symbol_version.push(symbol(ctl[6]));
    }
    if ctl[5] & 0xc0 == 0xc0 {
        e.resolution_cache = true;
    }
    Some((
        e,
        Options {
            no_grow: flags & 128 != 0,
            ..Options::default()
        },
        data,
    ))
}

/// The property the edit fuzz target checks: planning never panics, and a planned output parses
/// and already holds the requested state. Returns a description of the violation.
pub fn check_edit(input: &[u8]) -> Result<(), String> {
    let Some((e, opts, data)) = split_input(input) else {
        return Ok(());
    };
    let Ok(elf) = crate::Elf::parse(data) else {
        return Ok(());
    };
    let Ok(rw) = crate::plan(&elf, &e, &opts, Some(&FuzzProbe)) else {
        return Ok(());
    };
    let out = rw.output(data);
    let check = crate::OutputCheck::new(&elf, &e, &opts)
        .map_err(|err| format!("the input's check cannot be prepared: {err}"))?;
    check
        .run(&out, Some(&FuzzProbe))
        .map_err(|err| format!("planned output: {err}"))
}

/// The property the strip fuzz target checks: planning a strip never panics; a planned output
/// passes [`crate::Stripped::check`], is smaller, and has nothing left to strip.
pub fn check_strip(data: &[u8]) -> Result<(), String> {
    let Ok(elf) = crate::Elf::parse(data) else {
        return Ok(());
    };
    let Ok(Some(s)) = crate::strip(&elf) else {
        return Ok(());
    };
    let out = s
        .to_vec(data)
        .map_err(|e| format!("stripped output: {e}"))?;
    s.check(&elf, &out)
        .map_err(|e| format!("stripped output: {e}"))?;
    if out.len() >= data.len() {
        return Err(format!("output of {} bytes from {}", out.len(), data.len()));
    }
    let again = crate::Elf::parse(&out).map_err(|e| format!("output does not parse: {e}"))?;
    match crate::strip(&again) {
        Ok(None) => Ok(()),
        Ok(Some(t)) => Err(format!(
            "a second strip still removes {:?}",
            t.removed().iter().map(|r| &r.name).collect::<Vec<_>>()
        )),
        Err(e) => Err(format!("a second strip fails: {e}")),
    }
}
