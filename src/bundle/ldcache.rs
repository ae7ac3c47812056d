//! A reader for `/etc/ld.so.cache`, the table `ldconfig` writes so that ld.so need not scan
//! directories: library name → paths.
//!
//! Layout (glibc): the new format starts with `"glibc-ld.so.cache1.1"`, then `nlibs` (u32),
//! `len_strings` (u32), flags (u8) + 3 pad bytes, `extension_offset` (u32), 3 unused u32 — 48
//! bytes — followed by `nlibs` entries of 24 bytes: flags (i32), key (u32), value (u32),
//! osversion (u32), hwcap (u64). Key and value are string offsets from the start of that header.
//! Older files put an `"ld.so-1.7.0"` table (12-byte entries) first; the new table follows it,
//! 8-byte aligned. The byte order is the machine's own.

use std::collections::BTreeMap;

const NEW_MAGIC: &[u8] = b"glibc-ld.so.cache1.1";
const OLD_MAGIC: &[u8] = b"ld.so-1.7.0";
/// hwcap entries for glibc-hwcaps subdirectories carry this bit; ld.so only uses them on CPUs
/// that qualify, so a bundle resolver ignores them.
const HWCAP_EXTENSION: u64 = 1 << 62;

/// Library name → candidate paths, in cache order.
#[derive(Debug, Default, Clone)]
pub struct LdCache {
    pub entries: BTreeMap<String, Vec<String>>,
}

fn u32_at(data: &[u8], off: usize) -> Option<u32> {
    let b = data.get(off..off.checked_add(4)?)?;
    Some(u32::from_ne_bytes(b.try_into().ok()?))
}

fn u64_at(data: &[u8], off: usize) -> Option<u64> {
    let b = data.get(off..off.checked_add(8)?)?;
    Some(u64::from_ne_bytes(b.try_into().ok()?))
}

fn cstr_at(data: &[u8], off: usize) -> Option<String> {
    let rest = data.get(off..)?;
    let end = rest.iter().position(|&b| b == 0)?;
    Some(String::from_utf8_lossy(&rest[..end]).into_owned())
}

impl LdCache {
    /// Reads the system cache; a missing or unreadable cache is an empty one (as for ld.so).
    pub fn system() -> LdCache {
        std::fs::read("/etc/ld.so.cache")
            .ok()
            .and_then(|d| LdCache::parse(&d))
            .unwrap_or_default()
    }

    /// Parses a cache file; `None` when it is not one this reader understands.
    pub fn parse(data: &[u8]) -> Option<LdCache> {
        let mut start = 0usize;
        if data.starts_with(OLD_MAGIC) {
            let n = u32_at(data, 12)? as usize;
            start = 16usize.checked_add(n.checked_mul(12)?)?;
            start = start.checked_add(7)? & !7;
        }
        let hdr = data.get(start..)?;
        if !hdr.starts_with(NEW_MAGIC) {
            return None;
        }
        let nlibs = u32_at(hdr, 20)? as usize;
        let mut cache = LdCache::default();
        for i in 0..nlibs {
            let e = 48usize.checked_add(i.checked_mul(24)?)?;
            let key = u32_at(hdr, e + 4)? as usize;
            let value = u32_at(hdr, e + 8)? as usize;
            let hwcap = u64_at(hdr, e + 16)?;
            if hwcap & HWCAP_EXTENSION != 0 {
                continue;
            }
            let (Some(k), Some(v)) = (cstr_at(hdr, key), cstr_at(hdr, value)) else {
                continue;
            };
            cache.entries.entry(k).or_default().push(v);
        }
        Some(cache)
    }

    pub fn lookup(&self, name: &str) -> &[String] {
        self.entries.get(name).map(|v| v.as_slice()).unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(entries: &[(&str, &str)]) -> Vec<u8> {
        let mut strings = Vec::new();
        let base = 48 + entries.len() * 24;
        let mut table = Vec::new();
        for (k, v) in entries {
            let ko = base + strings.len();
            strings.extend_from_slice(k.as_bytes());
            strings.push(0);
            let vo = base + strings.len();
            strings.extend_from_slice(v.as_bytes());
            strings.push(0);
            table.extend_from_slice(&0x0303i32.to_ne_bytes());
            table.extend_from_slice(&(ko as u32).to_ne_bytes());
            table.extend_from_slice(&(vo as u32).to_ne_bytes());
            table.extend_from_slice(&0u32.to_ne_bytes());
            table.extend_from_slice(&0u64.to_ne_bytes());
        }
        let mut out = NEW_MAGIC.to_vec();
        out.extend_from_slice(&(entries.len() as u32).to_ne_bytes());
        out.extend_from_slice(&(strings.len() as u32).to_ne_bytes());
        out.extend_from_slice(&[0u8; 4]);
        out.extend_from_slice(&[0u8; 16]);
        out.extend(table);
        out.extend(strings);
        out
    }

    #[test]
    fn parses_entries_in_order() {
        let data = build(&[
            ("libz.so.1", "/lib/a/libz.so.1"),
            ("libz.so.1", "/usr/lib/libz.so.1"),
        ]);
        let c = LdCache::parse(&data).unwrap();
        assert_eq!(
            c.lookup("libz.so.1"),
            ["/lib/a/libz.so.1", "/usr/lib/libz.so.1"]
        );
        assert!(c.lookup("libm.so.6").is_empty());
    }

    #[test]
    fn truncated_input_is_rejected_or_partial_not_a_panic() {
        let data = build(&[("libz.so.1", "/lib/libz.so.1")]);
        for n in 0..data.len() {
            let _ = LdCache::parse(&data[..n]);
        }
        assert!(LdCache::parse(b"garbage").is_none());
    }

    #[test]
    fn reads_this_machines_cache() {
        // Every glibc system has a cache listing libc; if this machine has one, it must parse.
        if let Ok(data) = std::fs::read("/etc/ld.so.cache") {
            let c = LdCache::parse(&data).expect("system cache parses");
            assert!(c
                .lookup("libc.so.6")
                .iter()
                .any(|p| p.ends_with("/libc.so.6")));
        }
    }
}
