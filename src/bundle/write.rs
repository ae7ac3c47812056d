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
use std::os::unix::fs::{FileExt, OpenOptionsExt, PermissionsExt};
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

/// Creates `dst` as a copy of `src` (copied by the kernel where it can).
fn copy_file(src: &Path, dst: &Path, mode: u32, mtime: i64) -> Result<u64> {
    let mut from = File::open(src).with_context(|| format!("cannot read {}", src.display()))?;
    create(dst, mode, mtime, |to| std::io::copy(&mut from, to))
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
                let done = write_elf(src, &dst, mode, mtime, elf_edits, strip)?;
                stripped = done.stripped;
                patched = (!done.steps.is_empty()).then(|| done.steps.join("; "));
                done.bytes
            } else if item.dest.ends_with(".pyc") {
                match super::pyc::restamp(read()?, src, mtime) {
                    Some(d) => create_with(&dst, mode, mtime, &d)?,
                    None => return Ok(Outcome::Skipped),
                }
            } else {
                copy_file(src, &dst, mode, mtime)
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

/// What [`write_elf`] did.
struct ElfDone {
    bytes: u64,
    stripped: u64,
    steps: Vec<String>,
}

/// A read-only map of `path`.
fn map_file(path: &Path) -> Result<crate::mapped::Map> {
    let f = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    // SAFETY: a read-only map of a bundle source or of a file this bundle has just written;
    // nothing writes either while the map is read.
    unsafe { crate::mapped::map(&f) }.with_context(|| format!("cannot map {}", path.display()))
}

/// Writes the ELF file `src` at `dst`, stripped (`--strip`) and then edited, without holding
/// it in memory: the strip is written from a map of the source, an edit is a kernel copy plus
/// its few writes. Each step is checked from the file it wrote, as `shenzi patch` checks its
/// outputs.
fn write_elf(
    src: &Path,
    dst: &Path,
    mode: u32,
    mtime: i64,
    edits: Option<&shenzi_elf::EditSet>,
    strip: bool,
) -> Result<ElfDone> {
    let source = map_file(src)?;
    let elf = shenzi_elf::Elf::parse(&source)
        .with_context(|| format!("cannot parse {}", src.display()))?;
    let mut done = ElfDone {
        bytes: 0,
        stripped: 0,
        steps: Vec::new(),
    };
    let plan = if strip {
        shenzi_elf::strip(&elf).with_context(|| format!("cannot strip {}", src.display()))?
    } else {
        None
    };
    let Some(edits) = edits else {
        let Some(s) = plan else {
            // Nothing to strip and nothing to edit: the file as it is.
            done.bytes = copy_file(src, dst, mode, mtime)?;
            return Ok(done);
        };
        done.bytes = write_stripped(&s, &elf, dst, mode, mtime)?;
        done.stripped = s.bytes_saved();
        done.steps.push(format!("strip {} bytes", s.bytes_saved()));
        return Ok(done);
    };
    // The bytes the edit is planned on: the source, or its stripped copy beside `dst`.
    let staged = match &plan {
        Some(s) => {
            let stage = dst.with_file_name(format!(
                ".{}.shenzi-strip",
                dst.file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default()
            ));
            write_stripped(s, &elf, &stage, mode, mtime)?;
            done.stripped = s.bytes_saved();
            done.steps.push(format!("strip {} bytes", s.bytes_saved()));
            Some(stage)
        }
        None => None,
    };
    let base_path = staged.as_deref().unwrap_or(src);
    let base_map;
    let base = match &staged {
        Some(stage) => {
            base_map = map_file(stage)?;
            shenzi_elf::Elf::parse(&base_map)
                .with_context(|| format!("cannot parse the stripped {}", src.display()))?
        }
        None => elf,
    };
    let opts = shenzi_elf::Options::default();
    let rw = shenzi_elf::plan(&base, edits, &opts, None)
        .with_context(|| format!("cannot patch {}", src.display()))?;
    let mut from = File::open(base_path)?;
    done.bytes = create(dst, mode, mtime, |to| {
        std::io::copy(&mut from, to)?;
        for w in &rw.writes {
            to.write_all_at(&w.bytes, w.offset)?;
        }
        to.set_len(rw.new_len)?;
        Ok(rw.new_len)
    })?;
    if let Some(stage) = &staged {
        std::fs::remove_file(stage).ok();
    }
    let out = map_file(dst)?;
    shenzi_elf::check(&base, &out, edits, &opts, None)
        .with_context(|| format!("patched {} does not check out", src.display()))?;
    done.steps.push(rw.plan.steps.join("; "));
    Ok(done)
}

/// Writes the strip `s` of `elf` at `path` and checks the file written.
fn write_stripped(
    s: &shenzi_elf::Stripped,
    elf: &shenzi_elf::Elf,
    path: &Path,
    mode: u32,
    mtime: i64,
) -> Result<u64> {
    let n = create(path, mode, mtime, |f| {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        s.write_to(elf.data(), &mut w)?;
        w.flush()?;
        Ok(s.new_len())
    })?;
    s.check(elf, &map_file(path)?)
        .with_context(|| format!("stripped {} does not check out", path.display()))?;
    Ok(n)
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
