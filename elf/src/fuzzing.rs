//! Turns arbitrary bytes into an edit set, so fuzz targets and the regression tests that replay
//! their findings decode inputs the same way.

use crate::edit::{EditSet, RpathOp};
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
    Some((
        e,
        Options {
            no_grow: flags & 128 != 0,
            page_size: None,
        },
        data,
    ))
}

/// Whether applying the edit set twice must equal applying it once: not so when its parts feed
/// each other (a replaced or removed name added again, a replacement target removed or replaced).
pub fn idempotent(e: &EditSet) -> bool {
    e.replace_needed.iter().all(|(a, b)| {
        !e.add_needed.contains(a)
            && !e.remove_needed.contains(b)
            && !e.replace_needed.iter().any(|(x, _)| x == b)
    }) && e.remove_needed.iter().all(|r| !e.add_needed.contains(r))
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
    let Ok(rw) = crate::plan(&elf, &e, &opts, None) else {
        return Ok(());
    };
    let out = rw.output(data);
    let again =
        crate::Elf::parse(&out).map_err(|err| format!("planned output does not parse: {err}"))?;
    if !idempotent(&e) {
        return Ok(());
    }
    let second = crate::plan(&again, &e, &opts, None)
        .map_err(|err| format!("output does not re-plan: {err}"))?;
    if !second.is_noop() {
        return Err(format!(
            "output does not hold the requested state: {:?}",
            second.plan.steps
        ));
    }
    Ok(())
}
