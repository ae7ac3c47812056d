//! Turns arbitrary bytes into an edit set, so fuzz targets and the regression tests that replay
//! their findings decode inputs the same way.

use crate::edit::{EditSet, RpathOp, Semantics};
use crate::plan::Options;

const NAMES: [&[u8]; 5] = [
    b"/usr/lib/libSystem.B.dylib",
    b"@rpath/libfoo.dylib",
    b"/usr/lib/libc++.1.dylib",
    b"@loader_path/libbar.dylib",
    b"x",
];

fn name(sel: u8) -> Vec<u8> {
    NAMES[sel as usize % NAMES.len()].to_vec()
}

/// Splits a fuzz input into an edit set (from its first 8 bytes) and the file (the rest).
pub fn split_input(input: &[u8]) -> Option<(EditSet, Options, &[u8])> {
    if input.len() < 8 {
        return None;
    }
    let (ctl, data) = input.split_at(8);
    let flags = ctl[1];
    let mut e = EditSet::default();
    if flags & 1 != 0 {
        e.rpath
            .push(RpathOp::Add(vec![b'r'; ctl[0] as usize * 4 + 1]));
    }
    if flags & 2 != 0 {
        e.rpath
            .push(RpathOp::Prepend(b"@loader_path/../lib".to_vec()));
    }
    if flags & 4 != 0 {
        e.change
            .push((name(ctl[2]), vec![b'n'; ctl[3] as usize + 1]));
    }
    if flags & 8 != 0 {
        e.id = Some(vec![b'i'; ctl[4] as usize + 1]);
    }
    if flags & 16 != 0 {
        e.add_dylib.push(name(ctl[5]));
    }
    if flags & 32 != 0 {
        e.rpath
            .push(RpathOp::Delete(vec![b'r'; ctl[6] as usize + 1]));
    }
    if flags & 64 != 0 {
        e.rpath.push(RpathOp::Set(vec![
            b"@executable_path".to_vec(),
            vec![b's'; ctl[7] as usize],
        ]));
    }
    // The top bit of the install-name length byte picks install_name_tool's matching.
    if ctl[4] & 0x80 != 0 {
        e.semantics = Semantics::Input;
    }
    let opts = Options {
        no_grow: flags & 128 != 0,
        ..Options::default()
    };
    Some((e, opts, data))
}

/// Whether applying the edit set twice must equal applying it once.
pub fn idempotent(e: &EditSet) -> bool {
    e.change
        .iter()
        .all(|(a, b)| !e.add_dylib.contains(a) && !e.change.iter().any(|(x, _)| x == b))
        && e.remove_dylib.iter().all(|r| !e.add_dylib.contains(r))
}

/// The property the edit fuzz target checks: rewriting never panics; a rewritten file parses,
/// its signatures verify, its dylib and rpath commands are what the edit produces, and (for
/// idempotent sequential edit sets) planning the edit again finds nothing to do.
pub fn check_edit(input: &[u8]) -> Result<(), String> {
    let Some((e, opts, data)) = split_input(input) else {
        return Ok(());
    };
    if crate::check(data, false).is_err() {
        return Ok(());
    }
    let Ok(rw) = crate::rewrite(data, &e, &opts) else {
        return Ok(());
    };
    let out = rw.apply(data);
    // Signatures must verify afterwards when they did before (a slice the edit leaves alone
    // keeps whatever signature it had).
    let signed_ok = crate::check(data, true).is_ok();
    crate::check(&out, signed_ok && !opts.no_sign)
        .map_err(|err| format!("rewritten file fails its check: {err}"))?;
    let want =
        crate::expected_names(data, &e).map_err(|err| format!("no expected names: {err}"))?;
    if crate::names(&out).map_err(|err| format!("output names: {err}"))? != want {
        return Err("output's dylib and rpath commands are not what the edit produces".into());
    }
    // Matching against the input is not idempotent (`-change A B -change B C`).
    if e.semantics == Semantics::Input || !idempotent(&e) {
        return Ok(());
    }
    let again =
        crate::rewrite(&out, &e, &opts).map_err(|err| format!("output does not re-plan: {err}"))?;
    if !again.is_noop() {
        return Err("output does not hold the requested state".into());
    }
    Ok(())
}

/// Parsing, summaries, rpath listing and signature verification of any bytes never panic.
pub fn check_parse(data: &[u8]) {
    let _ = crate::summarize(data);
    let _ = crate::verify(data);
    let _ = crate::duplicate_rpaths(data);
    let _ = crate::check(data, true);
    if crate::is_fat(data) {
        if let Ok(f) = crate::Fat::parse(data) {
            let _ = f.arches().len();
        }
    }
}
