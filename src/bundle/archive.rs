//! `--archive out.tar.zst|.tar.gz|.tar`: the finished folder as one reproducible archive
//! (sorted entries, fixed mtimes, owner 0:0, hard links kept as links), written beside its
//! target and renamed into place, or written through a character device or FIFO once complete.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use anyhow::{bail, Result};

enum Codec {
    Zstd,
    Gzip,
    Plain,
}

fn codec(path: &Path) -> Result<Codec> {
    let n = path.to_string_lossy();
    Ok(if n.ends_with(".tar.zst") || n.ends_with(".tzst") {
        Codec::Zstd
    } else if n.ends_with(".tar.gz") || n.ends_with(".tgz") {
        Codec::Gzip
    } else if n.ends_with(".tar") {
        Codec::Plain
    } else {
        bail!(
            "{}: archive name must end in .tar.zst, .tar.gz or .tar",
            path.display()
        )
    })
}

fn append_all<W: Write>(dir: &Path, prefix: &str, mtime: u64, out: W) -> Result<W> {
    let mut b = tar::Builder::new(out);
    b.follow_symlinks(false);
    let mut seen: BTreeMap<(u64, u64), String> = BTreeMap::new();
    for e in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let e = e?;
        let rel = e.path().strip_prefix(dir).unwrap_or(e.path());
        let name = if rel.as_os_str().is_empty() {
            prefix.to_string()
        } else {
            format!("{prefix}/{}", super::collect::rel_str(rel))
        };
        let meta = e.path().symlink_metadata()?;
        let mut h = tar::Header::new_gnu();
        h.set_mtime(mtime);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mode(meta.mode() & 0o7777);
        let ft = meta.file_type();
        if ft.is_dir() {
            h.set_entry_type(tar::EntryType::Directory);
            h.set_size(0);
            b.append_data(&mut h, format!("{name}/"), std::io::empty())?;
        } else if ft.is_symlink() {
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_size(0);
            b.append_link(&mut h, &name, std::fs::read_link(e.path())?)?;
        } else if meta.nlink() > 1 && seen.contains_key(&(meta.dev(), meta.ino())) {
            h.set_entry_type(tar::EntryType::Link);
            h.set_size(0);
            b.append_link(&mut h, &name, &seen[&(meta.dev(), meta.ino())])?;
        } else {
            if meta.nlink() > 1 {
                seen.insert((meta.dev(), meta.ino()), name.clone());
            }
            h.set_entry_type(tar::EntryType::Regular);
            h.set_size(meta.len());
            let f = std::fs::File::open(e.path())?;
            b.append_data(&mut h, &name, f)?;
        }
    }
    Ok(b.into_inner()?)
}

/// Writes `dir` as archive `out`, entries under `prefix/`, through `fileio` (a regular file is
/// replaced by rename; a character device or FIFO gets the finished archive).
pub fn write(dir: &Path, prefix: &str, out: &Path, mtime: i64) -> Result<()> {
    let codec = codec(out)?;
    let m = mtime.max(0) as u64;
    crate::fileio::write_new(out, Some(0o644), &mut |file| {
        let w = std::io::BufWriter::new(file);
        let w = match codec {
            Codec::Zstd => {
                let mut enc = zstd::Encoder::new(w, 3)?;
                enc.multithread(rayon::current_num_threads() as u32).ok();
                append_all(dir, prefix, m, enc)?.finish()?
            }
            Codec::Gzip => {
                let enc = flate2::GzBuilder::new()
                    .mtime(0)
                    .write(w, flate2::Compression::default());
                append_all(dir, prefix, m, enc)?.finish()?
            }
            Codec::Plain => append_all(dir, prefix, m, w)?,
        };
        w.into_inner().map_err(|e| e.into_error())?;
        Ok(())
    })
}
