//! What a rewrite does to a file, or to one slice of it, and the one loop that applies it.

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
        match self {
            Output::Unchanged => data.to_vec(),
            Output::Pieces(pieces) => {
                let mut out = Vec::with_capacity(self.new_len(0) as usize);
                for p in pieces {
                    match p {
                        Piece::Input { offset, len } => {
                            let at = out.len();
                            let from = usize::try_from(*offset).unwrap_or(usize::MAX);
                            let n = usize::try_from(*len).unwrap_or(usize::MAX);
                            let have = data.get(from..).unwrap_or(&[]);
                            let have = &have[..n.min(have.len())];
                            out.extend_from_slice(have);
                            out.resize(at + n, 0);
                        }
                        Piece::Bytes(b) => out.extend_from_slice(b),
                        Piece::Zeros(n) => {
                            out.resize(out.len() + usize::try_from(*n).unwrap_or(usize::MAX), 0)
                        }
                    }
                }
                out
            }
            Output::Patch { writes, new_len } => {
                let len = usize::try_from(*new_len).unwrap_or(usize::MAX);
                let mut out = data.to_vec();
                out.resize(len, 0);
                for (off, b) in writes {
                    let at = usize::try_from(*off).unwrap_or(usize::MAX).min(len);
                    let n = b.len().min(len - at);
                    out[at..at + n].copy_from_slice(&b[..n]);
                }
                out
            }
        }
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
