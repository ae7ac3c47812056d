//! The result of planning: a file length and a list of byte ranges to write. Small enough to print
//! (`--dry-run`), journal and apply to a file in place, or to a copy.

use serde::Serialize;

/// Bytes to put at a file offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    /// Where the bytes go.
    pub offset: u64,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// How the file changes, in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// `true` when the file grows (or a segment added by an earlier growth is rebuilt).
    pub grows: bool,
    /// Length of the input.
    pub old_len: u64,
    /// Length of the output.
    pub new_len: u64,
    /// What happens, in order, one line each (`--dry-run` prints these).
    pub steps: Vec<String>,
    /// Things the user should know (e.g. a removed library still provides versions).
    pub warnings: Vec<String>,
}

/// What to do to the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    /// The plan in words.
    pub plan: Plan,
    /// Length of the output.
    pub new_len: u64,
    /// Non-overlapping writes sorted by offset; within the old length they cover only bytes that
    /// change.
    pub writes: Vec<Write>,
}

impl Rewrite {
    /// Whether the file stays as it is.
    pub fn is_noop(&self) -> bool {
        self.writes.is_empty() && self.new_len == self.plan.old_len
    }

    /// Applies the rewrite to a whole-file buffer. The buffer ends up `new_len` long; a write
    /// past that (only possible in a hand-made `Rewrite`) is cut off there.
    pub fn apply_to_vec(&self, data: &mut Vec<u8>) {
        let len = self.new_len as usize;
        data.resize(len, 0);
        for w in &self.writes {
            let at = (w.offset as usize).min(len);
            let n = w.bytes.len().min(len - at);
            data[at..at + n].copy_from_slice(&w.bytes[..n]);
        }
    }

    /// The whole new file.
    pub fn output(&self, input: &[u8]) -> Vec<u8> {
        let mut v = input.to_vec();
        self.apply_to_vec(&mut v);
        v
    }
}

/// Collects writes, then reduces them to the bytes that differ from the input.
pub(crate) struct Writes {
    /// Zeros over what nothing refers to any more; every other write wins over them.
    background: Vec<Write>,
    list: Vec<Write>,
    /// Ranges of the file header, program header table and section header table as written.
    headers: Vec<(u64, u64)>,
    /// The added segment: other writes may land inside it (they patch what it holds).
    container: Option<(u64, u64)>,
}

impl Writes {
    pub fn new() -> Self {
        Writes {
            background: Vec::new(),
            list: Vec::new(),
            headers: Vec::new(),
            container: None,
        }
    }

    pub fn put(&mut self, offset: u64, bytes: Vec<u8>) {
        if !bytes.is_empty() {
            self.list.push(Write { offset, bytes });
        }
    }

    /// Writes bytes that any other write may overwrite.
    pub fn put_background(&mut self, offset: u64, bytes: Vec<u8>) {
        if !bytes.is_empty() {
            self.background.push(Write { offset, bytes });
        }
    }

    /// Writes one of the header tables; no other write may overlap it.
    pub fn put_header(&mut self, offset: u64, bytes: Vec<u8>) {
        self.headers.push((offset, offset + bytes.len() as u64));
        self.put(offset, bytes);
    }

    /// Writes the added segment as one block; later writes may patch inside it.
    pub fn put_container(&mut self, offset: u64, bytes: Vec<u8>) {
        self.container = Some((offset, offset + bytes.len() as u64));
        self.put(offset, bytes);
    }

    /// Fails when two pieces of data (strings, dynamic entries, the interpreter, header tables)
    /// would land on each other, which only inputs with overlapping structures can cause.
    pub fn check_overlaps(&self) -> Result<(), String> {
        let mut ranges: Vec<(u64, u64)> = self
            .list
            .iter()
            .map(|w| (w.offset, w.offset + w.bytes.len() as u64))
            .filter(|r| Some(*r) != self.container)
            .collect();
        ranges.sort_unstable();
        for pair in ranges.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let header = self.headers.contains(&a) || self.headers.contains(&b);
            let inside_container =
                |r: (u64, u64)| self.container.is_some_and(|c| r.0 >= c.0 && r.1 <= c.1);
            let same_patch = a == b && !header;
            if b.0 < a.1 && (header || !(inside_container(a) && inside_container(b))) && !same_patch
            {
                return Err(format!(
                    "data at {:#x}..{:#x} overlaps data at {:#x}..{:#x}",
                    a.0, a.1, b.0, b.1
                ));
            }
        }
        Ok(())
    }

    /// Later writes win where they overlap earlier ones. Bytes within `input` that would not
    /// change are dropped; runs closer than 16 bytes are joined to keep the list short.
    pub fn finish(self, input: &[u8], new_len: u64) -> Vec<Write> {
        let old_len = input.len() as u64;
        // Materialise overlapping writes on a sparse map of touched bytes.
        let mut touched: std::collections::BTreeMap<u64, u8> = std::collections::BTreeMap::new();
        let mut tail: Vec<Write> = Vec::new();
        for w in self.background.into_iter().chain(self.list) {
            let end = w.offset + w.bytes.len() as u64;
            if w.offset >= old_len && w.bytes.len() > 4096 {
                // Large appended blocks (the new segment) stay whole.
                tail.push(w);
                continue;
            }
            for (i, b) in w.bytes.iter().enumerate() {
                touched.insert(w.offset + i as u64, *b);
            }
            debug_assert!(end <= new_len.max(old_len));
        }
        // Patches that land inside a large appended block are folded into it.
        touched.retain(|&off, b| {
            for t in tail.iter_mut() {
                if off >= t.offset && off < t.offset + t.bytes.len() as u64 {
                    t.bytes[(off - t.offset) as usize] = *b;
                    return false;
                }
            }
            true
        });
        let mut out: Vec<Write> = Vec::new();
        for (off, b) in touched {
            if off >= new_len {
                continue;
            }
            if off < old_len && input[off as usize] == b {
                continue;
            }
            match out.last_mut() {
                Some(last) if off - (last.offset + last.bytes.len() as u64) < 16 => {
                    let gap_start = last.offset + last.bytes.len() as u64;
                    for g in gap_start..off {
                        last.bytes
                            .push(if g < old_len { input[g as usize] } else { 0 });
                    }
                    last.bytes.push(b);
                }
                _ => out.push(Write {
                    offset: off,
                    bytes: vec![b],
                }),
            }
        }
        out.extend(tail.into_iter().filter(|t| t.offset < new_len));
        out.sort_by_key(|w| w.offset);
        out
    }
}
