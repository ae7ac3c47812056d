//! Byte-compiled files (PEP 552 headers) and the rule that keeps them valid in a bundle.
//!
//! A `.pyc` starts with 16 bytes: the magic number, a flags word, then either the source's
//! mtime and size (flags 0, "timestamp") or an 8-byte source hash (bit 0 set, "hash-based";
//! bit 1 asks the importer to check the hash). The bundle gives every file a fixed mtime, so a
//! fresh timestamp `.pyc` is re-stamped with it; a stale one (header not matching its source)
//! is left out. Inside a zip archive the importer compares a timestamp against the entry's DOS
//! time read in the local time zone, which a bundle cannot match on every machine: there a
//! fresh `.pyc` becomes an unchecked hash-based one, valid wherever it runs.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

const HEADER: usize = 16;
const FLAG_HASH_BASED: u32 = 1;

/// The `.py` a `__pycache__/NAME.TAG[.opt-N].pyc` was compiled from.
pub fn source_of(pyc: &Path) -> Option<PathBuf> {
    let cache = pyc.parent()?;
    if cache.file_name()? != "__pycache__" {
        return None;
    }
    let name = pyc.file_name()?.to_str()?;
    let stem = name.split('.').next()?;
    Some(cache.parent()?.join(format!("{stem}.py")))
}

fn word(data: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]])
}

/// What a `.pyc` says about its source.
#[derive(Debug, PartialEq, Eq)]
pub enum Stamp {
    /// Compiled from a source with this mtime and size.
    Timestamp {
        mtime: u32,
        size: u32,
    },
    HashBased,
    /// Too short to hold a header, or flags this module does not know.
    Unknown,
}

pub fn stamp(data: &[u8]) -> Stamp {
    if data.len() < HEADER {
        return Stamp::Unknown;
    }
    match word(data, 4) {
        0 => Stamp::Timestamp {
            mtime: word(data, 8),
            size: word(data, 12),
        },
        f if f & !3 == 0 => Stamp::HashBased,
        _ => Stamp::Unknown,
    }
}

/// Whether a timestamp `.pyc` matches the source file at `py` (the importer's own test).
fn matches(mtime: u32, size: u32, py: &Path) -> bool {
    std::fs::metadata(py).is_ok_and(|m| m.mtime() as u32 == mtime && m.size() as u32 == size)
}

/// A `.pyc` for a bundle whose files all carry `mtime`: re-stamped when it is a fresh timestamp
/// one, unchanged when hash-based or without a source beside it, `None` when stale.
pub fn restamp(mut data: Vec<u8>, pyc: &Path, mtime: i64) -> Option<Vec<u8>> {
    let Some(py) = source_of(pyc).filter(|p| p.exists()) else {
        return Some(data);
    };
    match stamp(&data) {
        Stamp::Timestamp { mtime: m, size } => {
            if !matches(m, size, &py) {
                return None;
            }
            data[8..12].copy_from_slice(&(mtime as u32).to_le_bytes());
            Some(data)
        }
        Stamp::HashBased | Stamp::Unknown => Some(data),
    }
}

/// A `.pyc` for a zip archive: a fresh timestamp one becomes unchecked hash-based (the hash
/// field holds the start of the source's SHA-256: never checked unless the interpreter runs
/// with `--check-hash-based-pycs always`, and then it falls back to the source); hash-based
/// ones stay; `None` when stale or unknown.
pub fn for_archive(mut data: Vec<u8>, py: &Path, source: &[u8]) -> Option<Vec<u8>> {
    match stamp(&data) {
        Stamp::Timestamp { mtime, size } => {
            if !matches(mtime, size, py) {
                return None;
            }
            data[4..8].copy_from_slice(&FLAG_HASH_BASED.to_le_bytes());
            data[8..16].copy_from_slice(&Sha256::digest(source)[..8]);
            Some(data)
        }
        Stamp::HashBased => Some(data),
        Stamp::Unknown => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(flags: u32, a: u32, b: u32) -> Vec<u8> {
        let mut d = vec![0xa7, 0x0d, 0x0d, 0x0a];
        for w in [flags, a, b] {
            d.extend_from_slice(&w.to_le_bytes());
        }
        d.extend_from_slice(b"code");
        d
    }

    #[test]
    fn stamps_and_conversions() {
        let dir = std::env::temp_dir().join(format!("shenzi-pyc-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("__pycache__")).unwrap();
        let py = dir.join("m.py");
        std::fs::write(&py, b"x = 1\n").unwrap();
        let meta = std::fs::metadata(&py).unwrap();
        let pyc = dir.join("__pycache__/m.cpython-311.pyc");
        assert_eq!(source_of(&pyc), Some(py.clone()));
        let fresh = header(0, meta.mtime() as u32, 6);
        let stale = header(0, meta.mtime() as u32 + 5, 6);
        assert_eq!(
            restamp(fresh.clone(), &pyc, 315_532_800).map(|d| word(&d, 8)),
            Some(315_532_800)
        );
        assert_eq!(restamp(stale.clone(), &pyc, 0), None);
        let z = for_archive(fresh, &py, b"x = 1\n").unwrap();
        assert_eq!(stamp(&z), Stamp::HashBased);
        assert_eq!(&z[16..], b"code");
        assert_eq!(for_archive(stale, &py, b"x = 1\n"), None);
        assert_eq!(stamp(&header(8, 0, 0)), Stamp::Unknown);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
