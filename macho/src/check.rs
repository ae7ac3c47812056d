//! The checks a rewritten file passes before it replaces the input: it parses completely, its
//! signatures verify, and its dylib and rpath commands are the ones the edit produces.

use crate::command::LoadCommand;
use crate::edit::{self, EditSet};
use crate::error::{Error, Result};
use crate::view::MachO;

/// The commands an edit set decides, per slice and in order: (cmd, name) of every dylib
/// command (dependencies and LC_ID_DYLIB) and (LC_RPATH, path) of every rpath.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names(pub Vec<Vec<(u32, Vec<u8>)>>);

fn names_of(cmds: &[LoadCommand]) -> Vec<(u32, Vec<u8>)> {
    cmds.iter()
        .filter_map(|c| Some((c.cmd(), c.string()?.to_vec())))
        .collect()
}

/// The [`Names`] of a file.
pub fn names(data: &[u8]) -> Result<Names> {
    let mut out = Vec::new();
    for (_, s) in crate::slices(data)? {
        out.push(names_of(MachO::parse(s)?.commands()));
    }
    Ok(Names(out))
}

/// The [`Names`] `edits` produce from `data`: what a rewrite must hold afterwards.
pub fn expected_names(data: &[u8], edits: &EditSet) -> Result<Names> {
    let mut out = Vec::new();
    for (_, s) in crate::slices(data)? {
        let m = MachO::parse(s)?;
        out.push(names_of(&edit::apply(&m, edits)?.cmds));
    }
    Ok(Names(out))
}

/// Checks that `data` parses completely (every slice, its load commands, dylibs and rpaths)
/// and, when asked, that every signature it carries verifies. Used before a rewritten file
/// replaces the input: a signature that does not verify is then an [`Error::Internal`].
pub fn check(data: &[u8], require_signature_valid: bool) -> Result<()> {
    for (_, s) in crate::slices(data)? {
        MachO::parse(s)?;
    }
    if require_signature_valid {
        for (arch, r) in crate::verify(data)? {
            if let Some(p) = r.and_then(|r| r.problems.into_iter().next()) {
                return Err(Error::Internal(format!(
                    "the new signature of {arch} does not verify: {p}"
                )));
            }
        }
    }
    Ok(())
}
