//! The resolution cache of patchelf 0.19 (`--build-resolution-cache`): a `.note.nixos.ldcache`
//! note that records, for each DT_NEEDED library, where the run path resolves it at patch time,
//! so a loader that reads the note (NixOS's) need not search.
//!
//! The descriptor is a list of `NAME\0ENTRIES\0` pairs (names sorted) ended by one more `\0`.
//! ENTRIES, colon-separated in run-path order, are `=PATH` for a file found in an absolute
//! directory, or `?DIR` for a directory that only the loader can search: empty or relative
//! entries (they depend on the working directory), entries with `$ORIGIN`-style tokens, and
//! directories with a `glibc-hwcaps` subdirectory.
//!
//! A note goes stale when the needed list or the run path changes; the planner then removes it.

use std::collections::BTreeMap;

use crate::consts::SHT_NULL;
use crate::ctx::{slice, Ctx};
use crate::edit::LibraryProbe;
use crate::view::Elf;

/// Name of the section holding the note.
pub const SECTION: &[u8] = b".note.nixos.ldcache";
/// The note's owner.
const OWNER: &[u8] = b"NixOS\0";
/// The note's type.
const NT_NIXOS_LD_CACHE: u32 = 0x63a8_6cb6;
/// Note header: namesz, descsz, type (the same three 32-bit words in 32- and 64-bit files).
const NHDR: u64 = 12;

/// A resolution cache the file already has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Existing {
    pub section: usize,
    pub offset: u64,
    pub size: u64,
    /// The descriptor, when the note parses as a NixOS note.
    pub desc: Option<Vec<u8>>,
}

fn round4(v: u64) -> u64 {
    v.div_ceil(4) * 4
}

/// The cache note of `elf`, if it has a section of that name.
pub(crate) fn find(elf: &Elf) -> Option<Existing> {
    let section = (0..elf.shdrs.len())
        .find(|&i| elf.shdrs[i].sh_type != SHT_NULL && elf.section_name(i) == SECTION)?;
    let s = elf.shdrs[section];
    let desc = (|| {
        let b = slice(elf.data, s.sh_offset, s.sh_size, "resolution cache note").ok()?;
        let ctx = elf.ctx;
        let h = b.get(..NHDR as usize)?;
        let (namesz, descsz) = (u64::from(ctx.u32(h)), u64::from(ctx.u32(&h[4..])));
        let at = NHDR.checked_add(round4(namesz))?;
        let end = at.checked_add(descsz)?;
        (end <= b.len() as u64).then(|| b[at as usize..end as usize].to_vec())
    })();
    Some(Existing {
        section,
        offset: s.sh_offset,
        size: s.sh_size,
        desc,
    })
}

/// Why no cache was written (a warning, not an error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nothing {
    NoNeededOrRunPath,
    NothingResolved,
}

impl Nothing {
    pub fn warning(self) -> &'static str {
        match self {
            Nothing::NoNeededOrRunPath => {
                "--build-resolution-cache: no DT_NEEDED entries or run path to resolve; no cache written"
            }
            Nothing::NothingResolved => {
                "--build-resolution-cache: no libraries resolved against the run path; no cache written"
            }
        }
    }
}

/// The descriptor for `needed` resolved against `run_path` (the entries of DT_RUNPATH, else
/// DT_RPATH), asking `probe` what exists.
pub(crate) fn descriptor(
    needed: &[Vec<u8>],
    run_path: &[Vec<u8>],
    probe: &dyn LibraryProbe,
) -> Result<Vec<u8>, Nothing> {
    if needed.is_empty() || run_path.is_empty() {
        return Err(Nothing::NoNeededOrRunPath);
    }
    // A needed name with a slash is opened directly; the run path is not searched for it.
    let searched: Vec<&Vec<u8>> = needed.iter().filter(|n| !n.contains(&b'/')).collect();
    let mut cache: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    let mut add = |lib: &[u8], entry: &[u8]| {
        let e = cache.entry(lib.to_vec()).or_default();
        if !e.is_empty() {
            e.push(b':');
        }
        e.extend_from_slice(entry);
    };
    for dir in run_path {
        let only_at_run_time = dir.first() != Some(&b'/');
        let token = !only_at_run_time && dir.contains(&b'$');
        let hwcaps = !only_at_run_time
            && !token
            && probe.exists(&[dir.as_slice(), b"/glibc-hwcaps"].concat());
        if only_at_run_time || token || hwcaps {
            let hint = [b"?", dir.as_slice()].concat();
            for lib in &searched {
                add(lib, &hint);
            }
            continue;
        }
        for lib in &searched {
            let path = [dir.as_slice(), b"/", lib].concat();
            if probe.readable(&path) {
                add(lib, &[b"=", path.as_slice()].concat());
            }
        }
    }
    if cache.is_empty() {
        return Err(Nothing::NothingResolved);
    }
    let mut desc = Vec::new();
    for (lib, entries) in cache {
        desc.extend_from_slice(&lib);
        desc.push(0);
        desc.extend_from_slice(&entries);
        desc.push(0);
    }
    desc.push(0);
    Ok(desc)
}

/// The note's bytes for a descriptor.
pub(crate) fn note(ctx: Ctx, desc: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    ctx.put_u32(&mut b, OWNER.len() as u32);
    ctx.put_u32(&mut b, desc.len() as u32);
    ctx.put_u32(&mut b, NT_NIXOS_LD_CACHE);
    b.extend_from_slice(OWNER);
    b.resize(round4(b.len() as u64) as usize, 0);
    b.extend_from_slice(desc);
    b.resize(round4(b.len() as u64) as usize, 0);
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fs(Vec<&'static str>);
    impl LibraryProbe for Fs {
        fn has_library(&self, _: &[u8], _: &[u8], _: u16) -> bool {
            false
        }
        fn readable(&self, path: &[u8]) -> bool {
            self.0.iter().any(|p| p.as_bytes() == path)
        }
        fn exists(&self, path: &[u8]) -> bool {
            self.readable(path)
        }
    }

    fn v(s: &[&str]) -> Vec<Vec<u8>> {
        s.iter().map(|x| x.as_bytes().to_vec()).collect()
    }

    #[test]
    fn resolves_in_run_path_order_with_hints() {
        let fs = Fs(vec![
            "/a/libfoo.so",
            "/b/libbar.so",
            "/b/libfoo.so",
            "/h/glibc-hwcaps",
        ]);
        let d = descriptor(
            &v(&["libfoo.so", "libbar.so", "/abs/libz.so"]),
            &v(&["", "/a", "$ORIGIN/x", "/b", "/h"]),
            &fs,
        )
        .unwrap();
        assert_eq!(
            d,
            b"libbar.so\0?:?$ORIGIN/x:=/b/libbar.so:?/h\0\
              libfoo.so\0?:=/a/libfoo.so:?$ORIGIN/x:=/b/libfoo.so:?/h\0\0"
                .to_vec()
        );
    }

    #[test]
    fn nothing_to_resolve() {
        let fs = Fs(vec![]);
        assert_eq!(
            descriptor(&v(&["libfoo.so"]), &[], &fs),
            Err(Nothing::NoNeededOrRunPath)
        );
        assert_eq!(
            descriptor(&v(&["libfoo.so"]), &v(&["/nowhere"]), &fs),
            Err(Nothing::NothingResolved)
        );
    }
}
