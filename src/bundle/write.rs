//! Writes a [`Plan`] into a fresh directory: copies (stripping and patching binaries in memory
//! on the way, in parallel), generated files and links; stores identical files once (hard links); gives
//! every entry a fixed mtime so that the same input gives the same bytes.
//!
//! Byte-compiled files stay valid under the fixed mtime ([`super::pyc`]).

use std::collections::BTreeMap;
use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use indicatif::ProgressBar;
use rayon::prelude::*;

use super::place::file_hash;
use super::plan::{Edit, Item, Member, Plan, Source};

/// What happened to one planned item.
#[derive(Debug, Clone)]
pub enum Outcome {
    Written {
        bytes: u64,
        patched: Option<String>,
        /// Bytes `--strip` took off an ELF file.
        stripped: u64,
    },
    Link,
    /// A stale `.pyc` left out.
    Skipped,
}

/// The result of writing: per-item outcome and the hard links made.
pub struct Written {
    pub outcomes: BTreeMap<String, Outcome>,
    /// Path → the path it is a hard link of.
    pub same_as: BTreeMap<String, String>,
}

impl Written {
    /// How many stored ELF files `--strip` made smaller, and by how many bytes in all.
    pub fn stripped(&self) -> (usize, u64) {
        self.outcomes
            .iter()
            .filter(|(dest, _)| !self.same_as.contains_key(*dest))
            .filter_map(|(_, o)| match o {
                Outcome::Written { stripped, .. } if *stripped > 0 => Some(*stripped),
                _ => None,
            })
            .fold((0, 0), |(n, b), s| (n + 1, b + s))
    }
}

/// Sets the mtime (and atime) of `path` without following a final symlink.
pub fn set_mtime(path: &Path, secs: i64) -> Result<()> {
    let c = CString::new(path.as_os_str().as_bytes())?;
    let t = libc::timespec {
        tv_sec: secs as libc::time_t,
        tv_nsec: 0,
    };
    let times = [t, t];
    // SAFETY: valid NUL-terminated path and a two-element timespec array.
    let r = unsafe {
        libc::utimensat(
            libc::AT_FDCWD,
            c.as_ptr(),
            times.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    if r != 0 {
        return Err(std::io::Error::last_os_error())
            .with_context(|| format!("cannot set the time of {}", path.display()));
    }
    Ok(())
}

fn mode_of(src: &Path) -> u32 {
    let exec = std::fs::metadata(src)
        .map(|m| m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false);
    if exec {
        0o755
    } else {
        0o644
    }
}

/// Creates the file `dst` with exactly `mode` and the fixed `mtime`, its content from `fill`
/// (which returns the bytes it wrote); everything through the one open file.
fn create(
    dst: &Path,
    mode: u32,
    mtime: i64,
    fill: impl FnOnce(&mut File) -> std::io::Result<u64>,
) -> Result<u64> {
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(dst)
        .with_context(|| format!("cannot create {}", dst.display()))?;
    let n = fill(&mut f).with_context(|| format!("cannot write {}", dst.display()))?;
    // The umask may have narrowed the mode at creation.
    f.set_permissions(std::fs::Permissions::from_mode(mode))?;
    let t = std::fs::FileTimes::new()
        .set_accessed(fixed_time(mtime))
        .set_modified(fixed_time(mtime));
    f.set_times(t)
        .with_context(|| format!("cannot set the time of {}", dst.display()))?;
    Ok(n)
}

fn fixed_time(secs: i64) -> std::time::SystemTime {
    let d = std::time::Duration::from_secs(secs.unsigned_abs());
    if secs >= 0 {
        std::time::UNIX_EPOCH + d
    } else {
        std::time::UNIX_EPOCH - d
    }
}

/// Creates `dst` holding `data`.
pub fn create_with(dst: &Path, mode: u32, mtime: i64, data: &[u8]) -> Result<u64> {
    create(dst, mode, mtime, |f| {
        f.write_all(data)?;
        Ok(data.len() as u64)
    })
}

fn write_item(item: &Item, root: &Path, mtime: i64, strip: bool) -> Result<Outcome> {
    let dst = root.join(&item.dest);
    let written = |bytes| Outcome::Written {
        bytes,
        patched: None,
        stripped: 0,
    };
    match &item.source {
        Source::Symlink(target) => {
            std::os::unix::fs::symlink(target, &dst)
                .with_context(|| format!("cannot create the link {}", item.dest))?;
            set_mtime(&dst, mtime)?;
            Ok(Outcome::Link)
        }
        Source::Bytes { data, exec } => {
            let mode = if *exec { 0o755 } else { 0o644 };
            Ok(written(create_with(&dst, mode, mtime, data)?))
        }
        Source::Zip(members) => {
            let data = zip_archive(members, mtime)?;
            Ok(written(create_with(&dst, 0o644, mtime, &data)?))
        }
        Source::File(src) => {
            let mode = mode_of(src);
            let mut patched = None;
            let mut stripped = 0;
            let elf_edits = match &item.edit {
                Some(Edit::MachO { edits, thin }) => {
                    let (n, steps) = write_macho(src, &dst, mode, mtime, edits, thin.as_deref())?;
                    return Ok(Outcome::Written {
                        bytes: n,
                        patched: Some(steps),
                        stripped: 0,
                    });
                }
                Some(Edit::Elf(edits)) => Some(edits),
                None => None,
            };
            // An ELF edit says what the file is; other copies are told by their magic.
            let strip = strip && (elf_edits.is_some() || is_elf(src)?);
            let read =
                || std::fs::read(src).with_context(|| format!("cannot read {}", src.display()));
            let bytes = if elf_edits.is_some() || strip {
                let data = read()?;
                let mut steps = Vec::new();
                let data = match strip.then(|| strip_elf(&data, src)).transpose()?.flatten() {
                    Some((saved, bytes)) => {
                        stripped = saved;
                        steps.push(format!("strip {saved} bytes"));
                        bytes
                    }
                    None => data,
                };
                let out = match elf_edits {
                    Some(edits) => {
                        let (out, s) = edit_elf(&data, edits, src)?;
                        steps.push(s);
                        out
                    }
                    None => data,
                };
                patched = (!steps.is_empty()).then(|| steps.join("; "));
                create_with(&dst, mode, mtime, &out)?
            } else if item.dest.ends_with(".pyc") {
                match super::pyc::restamp(read()?, src, mtime) {
                    Some(d) => create_with(&dst, mode, mtime, &d)?,
                    None => return Ok(Outcome::Skipped),
                }
            } else {
                let mut from =
                    File::open(src).with_context(|| format!("cannot read {}", src.display()))?;
                create(&dst, mode, mtime, |to| std::io::copy(&mut from, to))
                    .with_context(|| format!("cannot copy {} to {}", src.display(), item.dest))?
            };
            Ok(Outcome::Written {
                bytes,
                patched,
                stripped,
            })
        }
    }
}

/// Whether `path` starts with the ELF magic.
fn is_elf(path: &Path) -> Result<bool> {
    use std::io::Read;
    let mut magic = [0u8; 4];
    let mut f =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(f.read_exact(&mut magic).is_ok() && shenzi_elf::is_elf(&magic))
}

/// `--strip` of one ELF file, checked like `shenzi patch --strip-debug`: the bytes saved and
/// the stripped bytes, or `None` when there is nothing to strip.
fn strip_elf(data: &[u8], src: &Path) -> Result<Option<(u64, Vec<u8>)>> {
    let elf =
        shenzi_elf::Elf::parse(data).with_context(|| format!("cannot parse {}", src.display()))?;
    Ok(crate::patch::elf::strip_checked(&elf)
        .with_context(|| format!("cannot strip {}", src.display()))?
        .map(|(s, bytes)| (s.bytes_saved(), bytes)))
}

/// The bytes of a `--compact` archive: members read in parallel, byte-code made independent of
/// mtimes (a stale one is left out: its source is in the archive).
fn zip_archive(members: &[Member], mtime: i64) -> Result<Vec<u8>> {
    let read = |p: &Path| std::fs::read(p).with_context(|| format!("cannot read {}", p.display()));
    let files: Vec<Option<(String, Vec<u8>, u32)>> = members
        .par_iter()
        .map(|m| {
            let data = read(&m.source)?;
            let data = match &m.byte_code_of {
                Some(py) => match super::pyc::for_archive(data, py, &read(py)?) {
                    Some(d) => d,
                    None => return Ok(None),
                },
                None => data,
            };
            Ok(Some((m.name.clone(), data, 0o644)))
        })
        .collect::<Result<_>>()?;
    let files: Vec<(String, Vec<u8>, u32)> = files.into_iter().flatten().collect();
    super::zipfile::archive(&files, mtime)
}

/// The edited bytes of an ELF file and what was done, checked like `shenzi patch` checks its
/// outputs before anything is written.
fn edit_elf(data: &[u8], edits: &shenzi_elf::EditSet, src: &Path) -> Result<(Vec<u8>, String)> {
    let elf =
        shenzi_elf::Elf::parse(data).with_context(|| format!("cannot parse {}", src.display()))?;
    let opts = shenzi_elf::Options::default();
    let rw = shenzi_elf::plan(&elf, edits, &opts, None)
        .with_context(|| format!("cannot patch {}", src.display()))?;
    let out = rw.output(data);
    shenzi_elf::check(&elf, &out, edits, &opts, None)
        .with_context(|| format!("patched {} does not check out", src.display()))?;
    Ok((out, rw.plan.steps.join("; ")))
}

/// Writes the edited Mach-O file `src` (thinned to `thin`) at `dst` straight from a map of the
/// source, then checks the file written, as `shenzi patch` checks its outputs: a large dylib
/// is never held in memory. Returns the bytes written and what was done.
fn write_macho(
    src: &Path,
    dst: &Path,
    mode: u32,
    mtime: i64,
    edits: &shenzi_macho::EditSet,
    thin: Option<&str>,
) -> Result<(u64, String)> {
    let file = File::open(src).with_context(|| format!("cannot read {}", src.display()))?;
    // SAFETY: a read-only map of a bundle source, read while the bundle is written.
    let map = unsafe { crate::mapped::map(&file) }
        .with_context(|| format!("cannot map {}", src.display()))?;
    let mut steps = Vec::new();
    let input = match thin {
        Some(arch) if shenzi_macho::is_fat(&map) => {
            steps.push(format!("keep only {arch}"));
            super::macos::thin(&map, arch)
                .with_context(|| format!("cannot thin {}", src.display()))?
        }
        _ => &map[..],
    };
    let opts = super::macos::macho_options(src);
    let rw = shenzi_macho::rewrite(input, edits, &opts)
        .with_context(|| format!("cannot patch {}", src.display()))?;
    let n = create(dst, mode, mtime, |f| {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        let n = rw.write_to(input, &mut w)?;
        w.flush()?;
        Ok(n)
    })?;
    let written = File::open(dst).with_context(|| format!("cannot read {}", dst.display()))?;
    // SAFETY: a read-only map of the file just written into the bundle being built.
    let out = unsafe { crate::mapped::map(&written) }
        .with_context(|| format!("cannot map {}", dst.display()))?;
    shenzi_macho::check(&out, true)
        .with_context(|| format!("patched {} does not check out", src.display()))?;
    for s in rw.slices() {
        steps.push(format!("{}: {:?}", s.arch, s.layout));
    }
    Ok((n, steps.join("; ")))
}

/// Plain copies whose source has the same bytes and mode as an earlier item's (in path order):
/// path → that item's path. Found before writing, from the sources, so duplicates are never
/// written twice.
fn find_duplicates(plan: &Plan) -> Result<BTreeMap<String, String>> {
    let plain: Vec<(&String, &Path)> = plan
        .items
        .values()
        .filter_map(|it| match (&it.source, &it.edit) {
            (Source::File(p), None) if !it.dest.ends_with(".pyc") => Some((&it.dest, p.as_path())),
            _ => None,
        })
        .collect();
    let keys: Vec<(u64, u32)> = plain
        .par_iter()
        .map(|(_, p)| {
            let m = std::fs::metadata(p).with_context(|| format!("cannot read {}", p.display()))?;
            Ok((m.len(), mode_of(p)))
        })
        .collect::<Result<_>>()?;
    let mut by_key: BTreeMap<(u64, u32), Vec<usize>> = BTreeMap::new();
    for (i, k) in keys.iter().enumerate() {
        if k.0 > 0 {
            by_key.entry(*k).or_default().push(i);
        }
    }
    let groups: Vec<Vec<usize>> = by_key.into_values().filter(|g| g.len() > 1).collect();
    let hashed: Vec<Vec<(usize, [u8; 32])>> = groups
        .par_iter()
        .map(|g| {
            g.iter()
                .map(|&i| Ok((i, file_hash(plain[i].1)?)))
                .collect::<Result<_>>()
        })
        .collect::<Result<_>>()?;
    let mut same_as = BTreeMap::new();
    for g in hashed {
        let mut first: BTreeMap<[u8; 32], usize> = BTreeMap::new();
        for (i, h) in g {
            match first.get(&h) {
                Some(&orig) => {
                    same_as.insert(plain[i].0.clone(), plain[orig].0.clone());
                }
                None => {
                    first.insert(h, i);
                }
            }
        }
    }
    Ok(same_as)
}

/// Writes the plan under `root`; with `strip`, every ELF file loses what no loader reads
/// (`shenzi_elf::strip`) before its edits.
pub fn write(
    plan: &Plan,
    root: &Path,
    mtime: i64,
    strip: bool,
    bar: &ProgressBar,
) -> Result<Written> {
    let mut dirs: Vec<PathBuf> = plan
        .items
        .keys()
        .filter_map(|d| Path::new(d).parent().map(|p| root.join(p)))
        .collect();
    dirs.sort();
    dirs.dedup();
    for d in &dirs {
        std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
    }
    let same_as = find_duplicates(plan)?;
    let items: Vec<&Item> = plan
        .items
        .values()
        .filter(|it| !same_as.contains_key(&it.dest))
        .collect();
    let results: Vec<(String, Outcome)> = items
        .par_iter()
        .map(|it| {
            let r =
                write_item(it, root, mtime, strip).with_context(|| format!("writing {}", it.dest));
            bar.inc(1);
            r.map(|o| (it.dest.clone(), o))
        })
        .collect::<Result<_>>()?;
    let mut outcomes: BTreeMap<String, Outcome> = results.into_iter().collect();
    // Identical files are stored once, as hard links.
    for (dest, orig) in &same_as {
        std::fs::hard_link(root.join(orig), root.join(dest))
            .with_context(|| format!("cannot link {dest}"))?;
        let o = outcomes.get(orig).cloned().unwrap_or(Outcome::Link);
        outcomes.insert(dest.clone(), o);
        bar.inc(1);
    }

    // Files and links got their fixed times when written (a hard link shares its file's);
    // directories get theirs last, since writing into them changes it.
    let mut all_dirs: Vec<PathBuf> = Vec::new();
    for d in &dirs {
        let mut cur = d.as_path();
        while cur.starts_with(root) {
            all_dirs.push(cur.to_path_buf());
            match cur.parent() {
                Some(p) => cur = p,
                None => break,
            }
        }
    }
    all_dirs.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    all_dirs.dedup();
    for d in all_dirs {
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755))?;
        set_mtime(&d, mtime)?;
    }
    Ok(Written { outcomes, same_as })
}
