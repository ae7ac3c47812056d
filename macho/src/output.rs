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
    /// The complete new content.
    Whole(Vec<u8>),
}

impl Output {
    /// Whether nothing changes.
    pub fn is_unchanged(&self) -> bool {
        *self == Output::Unchanged
    }

    /// The new content of `data`. A write past the new length (only possible in a hand-made
    /// `Output`) is cut off there.
    pub fn apply(&self, data: &[u8]) -> Vec<u8> {
        match self {
            Output::Unchanged => data.to_vec(),
            Output::Whole(b) => b.clone(),
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
            Output::Whole(b) => b.len() as u64,
        }
    }

    /// The same writes at `base` further into the file (a slice's writes in its fat file).
    pub(crate) fn writes_at(self, base: u64) -> Vec<(u64, Vec<u8>)> {
        match self {
            Output::Patch { writes, .. } => {
                writes.into_iter().map(|(o, b)| (base + o, b)).collect()
            }
            Output::Unchanged | Output::Whole(_) => Vec::new(),
        }
    }
}
