//! Where each string of the edited dynamic table goes: into bytes freed by the edit (in place), or
//! into a rebuilt, compacted copy of the table (growth).

use std::collections::BTreeMap;

/// `[start, end)` byte ranges.
pub(crate) type Ranges = Vec<(u64, u64)>;

/// Length of the NUL-terminated string at `off`, including the NUL (bounded by the table).
fn span(table: &[u8], off: u64) -> u64 {
    let rest = table.get(off as usize..).unwrap_or(&[]);
    match memchr::memchr(0, rest) {
        Some(n) => n as u64 + 1,
        None => rest.len() as u64,
    }
}

/// `free` without the bytes of `taken`.
pub(crate) fn subtract(free: Ranges, taken: &[(u64, u64)]) -> Ranges {
    let mut out = free;
    for &(ts, te) in taken {
        let mut next = Vec::with_capacity(out.len() + 1);
        for (s, e) in out {
            if te <= s || ts >= e {
                next.push((s, e));
                continue;
            }
            if s < ts {
                next.push((s, ts));
            }
            if te < e {
                next.push((te, e));
            }
        }
        out = next;
    }
    out
}

/// Sorted, with overlapping and touching ranges joined.
pub(crate) fn merge(mut r: Ranges) -> Ranges {
    r.sort_unstable();
    let mut out: Ranges = Vec::new();
    for (s, e) in r {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

/// Finds `s` followed by NUL anywhere in `table`.
fn find(table: &[u8], s: &[u8]) -> Option<u64> {
    let mut needle = s.to_vec();
    needle.push(0);
    memchr::memmem::find(table, &needle).map(|i| i as u64)
}

/// The result of placing strings in place.
pub(crate) struct InPlace {
    /// Offset chosen for each new string.
    pub offsets: BTreeMap<Vec<u8>, u64>,
    /// Bytes to write, relative to the table start.
    pub writes: Vec<(u64, Vec<u8>)>,
}

/// Byte ranges of `dropped` strings that no `live` string overlaps (tables share suffixes): what
/// an edit frees. Offset 0 (the empty string) is never freed.
fn freed(table: &[u8], live: &[u64], dropped: &[u64]) -> Ranges {
    let live_ranges: Ranges = live.iter().map(|&o| (o, o + span(table, o))).collect();
    let freed: Ranges = dropped
        .iter()
        .filter(|&&o| o > 0)
        .map(|&o| (o, o + span(table, o)))
        .collect();
    subtract(merge(freed), &merge(live_ranges))
}

/// Places `wanted` strings without growing the table.
///
/// `live` are offsets that stay referenced (`None` = unknown, everything is live); `dropped` are
/// offsets of strings the edit no longer references. A dropped string's bytes are reusable only
/// where no live string overlaps them. Unused freed bytes are zeroed so no stale path remains in
/// the file.
pub(crate) fn place_in_place(
    table: &[u8],
    live: Option<&[u64]>,
    dropped: &[u64],
    wanted: &[Vec<u8>],
) -> Option<InPlace> {
    let mut free = live.map_or_else(Vec::new, |l| freed(table, l, dropped));
    let mut offsets = BTreeMap::new();
    let mut writes = Vec::new();
    let mut pending: Vec<&Vec<u8>> = Vec::new();
    let mut pinned: Ranges = Vec::new();
    for w in wanted {
        if offsets.contains_key(w) || pending.contains(&w) {
            continue;
        }
        match find(table, w) {
            Some(o) => {
                offsets.insert(w.clone(), o);
                pinned.push((o, o + w.len() as u64 + 1));
            }
            None => pending.push(w),
        }
    }
    free = subtract(free, &merge(pinned));
    // Longest first, each into the smallest range that holds it.
    pending.sort_by_key(|w| std::cmp::Reverse(w.len()));
    for w in pending {
        let need = w.len() as u64 + 1;
        let (i, _) = free
            .iter()
            .enumerate()
            .filter(|(_, r)| r.1 - r.0 >= need)
            .min_by_key(|(_, r)| r.1 - r.0)?;
        let start = free[i].0;
        let mut bytes = w.clone();
        bytes.push(0);
        writes.push((start, bytes));
        offsets.insert(w.clone(), start);
        free[i].0 += need;
    }
    for (s, e) in free {
        if e > s {
            writes.push((s, vec![0; (e - s) as usize]));
        }
    }
    Some(InPlace { offsets, writes })
}

/// A rebuilt table: the prefix every symbol and version name lives in, then the strings.
pub(crate) struct Rebuilt {
    pub table: Vec<u8>,
    pub offsets: BTreeMap<Vec<u8>, u64>,
}

/// Builds a new table for growth. Strings past the last symbol/version name (old rpaths, needed
/// names, earlier appended strings) are dropped and re-added as needed, so repeated edits do not
/// make the table grow without bound; strings the edit frees before that point are zeroed.
/// `fixed` are the symbol and version names that keep their offsets (`None`: unknown, keep the
/// whole table), `kept` the other offsets that stay referenced.
pub(crate) fn rebuild(
    table: &[u8],
    fixed: Option<&[u64]>,
    kept: &[u64],
    dropped: &[u64],
    wanted: &[(Vec<u8>, Option<u64>)],
) -> Rebuilt {
    let keep = match fixed {
        Some(refs) => refs
            .iter()
            .map(|&o| o + span(table, o))
            .max()
            .unwrap_or(1)
            .max(1),
        None => table.len() as u64,
    }
    .min(table.len() as u64);
    let mut out = table[..keep as usize].to_vec();
    if out.is_empty() {
        out.push(0);
    }
    if let Some(refs) = fixed {
        let live: Vec<u64> = refs.iter().chain(kept).copied().collect();
        for (s, e) in freed(table, &live, dropped) {
            let (s, e) = (s.min(keep) as usize, e.min(keep) as usize);
            out[s..e].fill(0);
        }
    }
    let mut offsets = BTreeMap::new();
    for (s, orig) in wanted {
        if offsets.contains_key(s) {
            continue;
        }
        let at = match orig {
            Some(o) if o + (s.len() as u64) < keep => *o,
            _ => match find(&out, s) {
                Some(o) => o,
                None => {
                    let o = out.len() as u64;
                    out.extend_from_slice(s);
                    out.push(0);
                    o
                }
            },
        };
        offsets.insert(s.clone(), at);
    }
    Rebuilt {
        table: out,
        offsets,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuses_freed_bytes_but_not_shared_suffixes() {
        // "libfoo.so" at 1, a symbol "foo.so" shares its suffix at 4; "/old/path" at 11.
        let t = b"\0libfoo.so\0/old/path\0";
        let r = place_in_place(t, Some(&[4]), &[1, 11], &[b"/new".to_vec()]).unwrap();
        let at = r.offsets[&b"/new".to_vec()];
        assert!(at == 1 || at == 11, "placed at {at}");
        // bytes 4.. (shared suffix) must never be written
        for (o, b) in &r.writes {
            let (s, e) = (*o, *o + b.len() as u64);
            assert!(e <= 4 || s >= 11, "write {s}..{e} touches the live suffix");
        }
    }

    #[test]
    fn in_place_fails_when_nothing_fits() {
        let t = b"\0ab\0";
        assert!(place_in_place(t, Some(&[]), &[1], &[b"abcdef".to_vec()]).is_none());
    }

    #[test]
    fn rebuild_keeps_symbol_prefix_and_compacts_tail() {
        let t = b"\0sym\0old-rpath-1\0old-rpath-2\0";
        let r = rebuild(t, Some(&[1]), &[], &[5, 17], &[(b"new".to_vec(), None)]);
        assert_eq!(&r.table, b"\0sym\0new\0");
        assert_eq!(r.offsets[&b"new".to_vec()], 5);
    }

    #[test]
    fn rebuild_zeroes_freed_names_inside_the_kept_prefix() {
        // A renamed symbol "old" at 1 before a live symbol "sym" at 5.
        let t = b"\0old\0sym\0";
        let r = rebuild(t, Some(&[5]), &[], &[1], &[(b"new".to_vec(), None)]);
        assert_eq!(&r.table, b"\0\0\0\0\0sym\0new\0");
    }
}
