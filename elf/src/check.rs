//! The check every output passes before it replaces a file: it parses, and it holds the state
//! that was asked for.

use crate::edit::{EditSet, LibraryProbe};
use crate::error::{Error, Result};
use crate::plan::{plan, Options};
use crate::view::Elf;

/// What an output must hold, taken from the input before the input goes away.
#[derive(Debug, Clone)]
pub struct OutputCheck {
    /// The edits to plan again on the output (expected: no change).
    again: EditSet,
    opts: Options,
    /// The dynamic symbol names the output must have (sorted), when symbols are renamed.
    symbol_names: Option<Vec<Vec<u8>>>,
}

impl OutputCheck {
    /// The check for an output planned from `input` with `edits`. Renames are checked by name
    /// (a map may swap two names, so planning them again is not a no-op); needed-library edits
    /// that feed each other are left out of the second planning.
    pub fn new(input: &Elf, edits: &EditSet, opts: &Options) -> Result<OutputCheck> {
        let mut again = edits.clone();
        again.rename_symbols.clear();
        if !edits.needed_edits_independent() {
            again.add_needed.clear();
            again.remove_needed.clear();
            again.replace_needed.clear();
        }
        let symbol_names = if edits.rename_symbols.is_empty() {
            None
        } else {
            let mut names: Vec<Vec<u8>> = input
                .symbol_names()?
                .into_iter()
                .map(|n| {
                    edits
                        .rename_symbols
                        .iter()
                        .find(|(a, _)| a == n)
                        .map_or_else(|| n.to_vec(), |(_, b)| b.clone())
                })
                .collect();
            names.sort();
            Some(names)
        };
        Ok(OutputCheck {
            again,
            opts: opts.clone(),
            symbol_names,
        })
    }

    /// Checks `output`: it parses, planning the same edits on it again changes nothing, and
    /// renamed symbols carry their new names.
    pub fn run(&self, output: &[u8], probe: Option<&dyn LibraryProbe>) -> Result<()> {
        let out = Elf::parse(output)
            .map_err(|e| Error::Internal(format!("the output does not parse: {e}")))?;
        let second = plan(&out, &self.again, &self.opts, probe)
            .map_err(|e| Error::Internal(format!("the output does not plan again: {e}")))?;
        if !second.is_noop() {
            return Err(Error::Internal(format!(
                "the output does not hold the requested state ({})",
                second.plan.steps.join("; ")
            )));
        }
        if let Some(want) = &self.symbol_names {
            let mut got: Vec<Vec<u8>> = out
                .symbol_names()?
                .into_iter()
                .map(<[u8]>::to_vec)
                .collect();
            got.sort();
            if *want != got {
                return Err(Error::Internal(
                    "the output's dynamic symbols do not carry the requested names".into(),
                ));
            }
        }
        Ok(())
    }
}

/// [`OutputCheck`] in one call.
pub fn check(
    input: &Elf,
    output: &[u8],
    edits: &EditSet,
    opts: &Options,
    probe: Option<&dyn LibraryProbe>,
) -> Result<()> {
    OutputCheck::new(input, edits, opts)?.run(output, probe)
}
