//! Reading a recorded installation under another root (`shenzi bundle --manifest M --root DIR`):
//! every absolute path the manifest names, and every absolute path a binary or symlink inside
//! the tree names, is read under DIR, as in a sysroot. A macOS observation plus a copy of the
//! files it names can so be bundled on Linux.
//!
//! Without a root the functions here are the plain file-system ones. The root is set once per
//! process, before bundling starts.

use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

static ROOT: OnceLock<PathBuf> = OnceLock::new();

/// Sets the root for this process (once; later calls are ignored).
pub fn set(root: PathBuf) {
    let _ = ROOT.set(root);
}

/// The root, if one was set.
pub fn root() -> Option<&'static Path> {
    ROOT.get().map(PathBuf::as_path)
}

/// Where an absolute path of the recorded machine is on this one.
pub fn host(path: &str) -> PathBuf {
    match root() {
        Some(r) if path.starts_with('/') => r.join(path.trim_start_matches('/')),
        _ => PathBuf::from(path),
    }
}

/// `host` for an optional string.
pub fn host_str(path: &str) -> String {
    host(path).to_string_lossy().into_owned()
}

/// The real path of `p` (a host path), resolving symlinks; under a root, a link to an absolute
/// path resolves inside the root and `..` never climbs out of it.
pub fn canonicalize(p: impl AsRef<Path>) -> io::Result<PathBuf> {
    match root() {
        Some(root) => canonicalize_under(root, p.as_ref()),
        None => std::fs::canonicalize(p),
    }
}

/// `canonicalize` with the root given.
fn canonicalize_under(root: &Path, p: &Path) -> io::Result<PathBuf> {
    let root = std::fs::canonicalize(root)?;
    let start = std::path::absolute(p)?;
    // Work on the path below the root; a path outside the root is read as it is.
    let Ok(rest) = start.strip_prefix(&root) else {
        return std::fs::canonicalize(p);
    };
    let owned: Vec<std::ffi::OsString> = rest
        .components()
        .map(|c| c.as_os_str().to_os_string())
        .collect();
    let mut todo: Vec<std::ffi::OsString> = owned.into_iter().rev().collect();
    let mut done: Vec<std::ffi::OsString> = Vec::new();
    let mut links = 0;
    while let Some(part) = todo.pop() {
        if part == "." || part.is_empty() {
            continue;
        }
        if part == ".." {
            done.pop();
            continue;
        }
        let mut here = root.clone();
        here.extend(&done);
        here.push(&part);
        let meta = std::fs::symlink_metadata(&here)?;
        if !meta.file_type().is_symlink() {
            done.push(part);
            continue;
        }
        links += 1;
        if links > 40 {
            return Err(io::Error::other(format!(
                "{}: too many levels of symbolic links",
                p.display()
            )));
        }
        let target = std::fs::read_link(&here)?;
        if target.is_absolute() {
            done.clear();
        }
        let parts: Vec<std::ffi::OsString> = target
            .components()
            .filter(|c| !matches!(c, Component::RootDir | Component::Prefix(_)))
            .map(|c| c.as_os_str().to_os_string())
            .collect();
        todo.extend(parts.into_iter().rev());
    }
    let mut out = root;
    out.extend(&done);
    Ok(out)
}

/// The recorded-machine path of a host path under the root (itself without a root).
pub fn logical(host: &Path) -> String {
    logical_under(root(), host)
}

fn logical_under(root: Option<&Path>, host: &Path) -> String {
    match root.and_then(|r| host.strip_prefix(r).ok()) {
        Some(rest) => format!("/{}", rest.to_string_lossy()),
        None => host.to_string_lossy().into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The process-wide root stays unset: other tests of this binary read real paths.
    #[test]
    fn links_resolve_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let r = std::fs::canonicalize(dir.path()).unwrap();
        let host = |p: &str| r.join(p.trim_start_matches('/'));
        std::fs::create_dir_all(r.join("opt/Cellar/py/3.11/bin")).unwrap();
        std::fs::write(r.join("opt/Cellar/py/3.11/bin/python3.11"), b"x").unwrap();
        std::os::unix::fs::symlink("Cellar/py/3.11", r.join("opt/py")).unwrap();
        std::fs::create_dir_all(r.join("venv/bin")).unwrap();
        // An absolute link, as a venv makes: it must not leave the root.
        std::os::unix::fs::symlink("/opt/py/bin/python3.11", r.join("venv/bin/python")).unwrap();
        assert_eq!(
            canonicalize_under(&r, &host("/venv/bin/python")).unwrap(),
            r.join("opt/Cellar/py/3.11/bin/python3.11")
        );
        assert_eq!(
            logical_under(Some(&r), &r.join("opt/Cellar/py/3.11/bin/python3.11")),
            "/opt/Cellar/py/3.11/bin/python3.11"
        );
        // `..` stops at the root.
        assert_eq!(
            canonicalize_under(&r, &r.join("opt/../../../opt/py")).unwrap(),
            r.join("opt/Cellar/py/3.11")
        );
        assert!(canonicalize_under(&r, &host("/missing/file")).is_err());
    }
}
