//! What a rewrite does to a file, or to one slice of it, and the one loop that applies it.

use std::io::{self, Write};

use crate::bytes::WriteAt;
use crate::image::Image;

/// The new content of a file or slice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Nothing changes.
    Unchanged,
    /// Writes (offset, bytes), and the new length. Bytes between the old end and the new
    /// length that no write covers are zero.
    Patch {
        /// The writes, in the order they apply.
        writes: Vec<(u64, Vec<u8>)>,
        /// The new length.
        new_len: u64,
    },
    /// The complete new content, in order: runs of the input and new bytes. A shifted file's
    /// unchanged bytes are never copied into memory; the caller writes them from the input.
    Pieces(Vec<Piece>),
}

/// One run of a new file's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// The input's bytes `[offset, offset + len)`.
    Input {
        /// Where they start in the input.
        offset: u64,
        /// How many.
        len: u64,
    },
    /// New bytes.
    Bytes(Vec<u8>),
    /// This many zero bytes.
    Zeros(u64),
}

impl Piece {
    /// How many bytes the piece stands for.
    pub fn len(&self) -> u64 {
        match self {
            Piece::Input { len, .. } | Piece::Zeros(len) => *len,
            Piece::Bytes(b) => b.len() as u64,
        }
    }

    /// Whether it stands for no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Output {
    /// Whether nothing changes.
    pub fn is_unchanged(&self) -> bool {
        *self == Output::Unchanged
    }

    /// The new content of `data`, in memory. A write past the new length (only possible in a
    /// hand-made `Output`) is cut off there; input runs outside `data` read as zeros.
    pub fn apply(&self, data: &[u8]) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(usize::try_from(self.new_len(data.len() as u64)).unwrap_or(0));
        // Writing into a vector cannot fail.
        let _ = self.write_to(data, &mut out);
        out
    }

    /// The new content of `data` as pieces, in order.
    pub fn into_pieces(self, data: &[u8]) -> Vec<Piece> {
        match self {
            Output::Pieces(p) => p,
            other => other.computed_pieces(data),
        }
    }

    /// The pieces of an output that is not already pieces.
    fn computed_pieces(&self, data: &[u8]) -> Vec<Piece> {
        match self {
            Output::Pieces(p) => p.clone(),
            Output::Unchanged => vec![Piece::Input {
                offset: 0,
                len: data.len() as u64,
            }],
            Output::Patch { writes, new_len } => {
                let mut img = Image::over(data);
                img.set_len(*new_len);
                for (off, b) in writes {
                    // Cut off at the new length, as documented for hand-made writes.
                    let end = (*new_len).min(off.saturating_add(b.len() as u64));
                    if *off < end {
                        let _ = img.write_at(*off, &b[..(end - off) as usize]);
                    }
                }
                img.into_pieces()
            }
        }
    }

    /// Writes the new content of `data` to `out` without holding it in memory: input runs are
    /// written from `data` a few MiB at a time, each run handed to the page-release hook once
    /// written. Returns the bytes written.
    pub fn write_to(&self, data: &[u8], out: &mut impl Write) -> io::Result<u64> {
        const CHUNK: u64 = 4 << 20;
        let computed;
        let pieces = match self {
            Output::Pieces(p) => p,
            other => {
                computed = other.computed_pieces(data);
                &computed
            }
        };
        let mut written = 0u64;
        for p in pieces {
            match p {
                Piece::Input { offset, len } => {
                    let mut at = *offset;
                    let end = offset.saturating_add(*len);
                    while at < end {
                        let stop = (at + CHUNK).min(end);
                        let have = (data.len() as u64).clamp(at, stop);
                        if at < have {
                            let b = &data[at as usize..have as usize];
                            out.write_all(b)?;
                            crate::sign::release(b);
                        }
                        zeros(out, stop - have)?;
                        at = stop;
                    }
                }
                Piece::Bytes(b) => out.write_all(b)?,
                Piece::Zeros(n) => zeros(out, *n)?,
            }
            written += p.len();
        }
        Ok(written)
    }

    /// The new length, for input `old_len` bytes long.
    pub fn new_len(&self, old_len: u64) -> u64 {
        match self {
            Output::Unchanged => old_len,
            Output::Patch { new_len, .. } => *new_len,
            Output::Pieces(p) => p.iter().map(Piece::len).sum(),
        }
    }
}

fn zeros(out: &mut impl Write, mut n: u64) -> io::Result<()> {
    const ZEROS: [u8; 4096] = [0; 4096];
    while n > 0 {
        let k = n.min(ZEROS.len() as u64);
        out.write_all(&ZEROS[..k as usize])?;
        n -= k;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// In-place writes and a new length give the input with the writes over it, cut off or
        /// zero-extended to the new length, written out as pieces or applied in memory.
        #[test]
        fn patch_output_is_the_input_with_its_writes(
            data in proptest::collection::vec(any::<u8>(), 0..20_000),
            writes in proptest::collection::vec(
                (0..24_000u64, proptest::collection::vec(any::<u8>(), 0..5000)), 0..6),
            new_len in 0..24_000u64,
        ) {
            let mut want = data.clone();
            want.resize(new_len as usize, 0);
            for (off, b) in &writes {
                let at = (*off as usize).min(want.len());
                let n = b.len().min(want.len() - at);
                want[at..at + n].copy_from_slice(&b[..n]);
            }
            let out = Output::Patch { writes, new_len };
            prop_assert_eq!(out.apply(&data), want.clone());
            let mut streamed = Vec::new();
            prop_assert_eq!(out.write_to(&data, &mut streamed).unwrap(), new_len);
            prop_assert_eq!(streamed, want);
        }
    }
}
