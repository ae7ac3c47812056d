//! A planned rewrite of a whole file: every slice planned and emitted on its own, then the
//! slices' outputs combined into the file's (in-place writes when no slice changes length,
//! otherwise a rebuilt fat file).

use crate::edit::EditSet;
use crate::error::{Error, Result};
use crate::fat::{is_fat, Fat};
use crate::layout::SlicePlan;
use crate::output::{Output, Piece};
use crate::plan::Options;
use crate::view::MachO;

/// A planned rewrite of a whole file: the plan of every slice and the new content.
#[derive(Debug, Clone)]
pub struct Rewrite {
    fat: bool,
    slices: Vec<SlicePlan>,
    output: Output,
}

impl Rewrite {
    /// Whether the input is a fat file.
    pub fn is_fat(&self) -> bool {
        self.fat
    }

    /// The plan of every slice, in the order of the file.
    pub fn slices(&self) -> &[SlicePlan] {
        &self.slices
    }

    /// What happens to the file.
    pub fn output(&self) -> &Output {
        &self.output
    }

    /// Whether the file stays as it is.
    pub fn is_noop(&self) -> bool {
        self.output.is_unchanged()
    }

    /// The new file content, in memory.
    pub fn apply(&self, data: &[u8]) -> Vec<u8> {
        self.output.apply(data)
    }

    /// Writes the new file content to `out` (input runs straight from `data`); returns the
    /// bytes written.
    pub fn write_to(&self, data: &[u8], out: &mut impl std::io::Write) -> std::io::Result<u64> {
        self.output.write_to(data, out)
    }
}

/// Plans and emits one thin image.
fn thin(data: &[u8], edits: &EditSet, opts: &Options, resign: bool) -> Result<(SlicePlan, Output)> {
    let m = MachO::parse(data)?;
    let lay = crate::plan::choose(&m, edits, opts, resign)?;
    let out = crate::emit::emit(&m, &lay)?;
    Ok((lay.plan(), out))
}

/// Plans and produces the rewrite of a file: every slice gets the same edits and is signed on
/// its own. `resign` re-signs slices even when no load command changes.
pub(crate) fn rewrite_with(
    data: &[u8],
    edits: &EditSet,
    opts: &Options,
    resign: bool,
) -> Result<Rewrite> {
    if !is_fat(data) {
        let (plan, output) = thin(data, edits, opts, resign)?;
        return Ok(Rewrite {
            fat: false,
            slices: vec![plan],
            output,
        });
    }
    let fat = Fat::parse(data)?;
    // The slices are planned, emitted and signed at the same time.
    let done: Vec<Result<(SlicePlan, Output)>> = std::thread::scope(|sc| {
        let running: Vec<_> = fat
            .arches()
            .iter()
            .map(|a| {
                let slice = fat.slice(data, a);
                sc.spawn(move || thin(slice, edits, opts, resign))
            })
            .collect();
        running
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Error::Internal("a slice's rewrite panicked".into())))
            })
            .collect()
    });
    let mut slices = Vec::new();
    let mut outs = Vec::new();
    for r in done {
        let (plan, out) = r?;
        slices.push(plan);
        outs.push(out);
    }
    let output = if outs.iter().all(Output::is_unchanged) {
        Output::Unchanged
    } else if outs
        .iter()
        .zip(fat.arches())
        .all(|(o, a)| !matches!(o, Output::Pieces(_)) && o.new_len(a.size) == a.size)
    {
        let mut writes = Vec::new();
        for (o, a) in outs.into_iter().zip(fat.arches()) {
            if let Output::Patch { writes: w, .. } = o {
                writes.extend(w.into_iter().map(|(off, b)| (a.offset + off, b)));
            }
        }
        Output::Patch {
            writes,
            new_len: data.len() as u64,
        }
    } else {
        Output::Pieces(fat_pieces(data, &fat, outs)?)
    };
    Ok(Rewrite {
        fat: true,
        slices,
        output,
    })
}

/// The pieces of a fat file whose slices' outputs are `outs`: the new fat header, then each
/// slice's pieces (its input runs moved to where the slice is in `data`) at its new offset.
fn fat_pieces(data: &[u8], fat: &Fat, outs: Vec<Output>) -> Result<Vec<Piece>> {
    let sizes: Vec<u64> = outs
        .iter()
        .zip(fat.arches())
        .map(|(o, a)| o.new_len(a.size))
        .collect();
    let (header, placed) = fat.layout(&sizes)?;
    let mut pieces = vec![Piece::Bytes(header)];
    let mut pos = fat.header_len();
    for ((o, a), to) in outs.into_iter().zip(fat.arches()).zip(&placed) {
        pieces.push(Piece::Zeros(to.offset - pos));
        let slice = fat.slice(data, a);
        let own = o.into_pieces(slice);
        pieces.extend(own.into_iter().map(|p| match p {
            Piece::Input { offset, len } => Piece::Input {
                offset: a.offset + offset,
                len,
            },
            other => other,
        }));
        pos = to.offset + to.size;
    }
    Ok(pieces)
}
