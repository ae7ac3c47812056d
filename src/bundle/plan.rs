//! The bundle as data before anything is written: every output path, where its bytes come from,
//! why it is there, and the edit to apply on the way.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Where an output file's content comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A file of the original installation.
    File(PathBuf),
    /// Content made by shenzi (launcher, console scripts, .pth); `exec` sets mode 0755.
    Bytes { data: Vec<u8>, exec: bool },
    /// A relative symbolic link.
    Symlink(String),
    /// A zip archive of files of the original installation (`--compact`).
    Zip(Vec<Member>),
}

/// A file stored in a zip archive of the bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Path inside the archive.
    pub name: String,
    pub source: PathBuf,
    /// For byte-code: the source it was compiled from (it is checked against it and made
    /// independent of mtimes on the way in).
    pub byte_code_of: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct Item {
    /// Bundle-relative path, `/`-separated.
    pub dest: String,
    pub source: Source,
    /// Distribution name, or `python`, `stdlib`, `app`, `libs`, `launcher`.
    pub group: String,
    pub why: String,
    /// Edit applied while copying.
    pub edit: Option<Edit>,
}

/// An edit of a binary, applied while it is copied.
#[derive(Debug, Clone)]
pub enum Edit {
    Elf(shenzi_elf::EditSet),
    /// Load-command edits (every slice, re-signed ad hoc) and, with `thin`, only that
    /// architecture's slice of a fat file kept.
    MachO {
        edits: shenzi_macho::EditSet,
        thin: Option<String>,
    },
}

impl Item {
    pub fn copy(src: PathBuf, dest: String, group: &str, why: &str) -> Item {
        Item {
            dest,
            source: Source::File(src),
            group: group.into(),
            why: why.into(),
            edit: None,
        }
    }

    pub fn generated(dest: String, data: Vec<u8>, exec: bool, group: &str, why: &str) -> Item {
        Item {
            dest,
            source: Source::Bytes { data, exec },
            group: group.into(),
            why: why.into(),
            edit: None,
        }
    }
}

/// All output items by path (sorted, so every later stage is deterministic).
#[derive(Debug, Default)]
pub struct Plan {
    pub items: BTreeMap<String, Item>,
    pub warnings: Vec<String>,
}

impl Plan {
    /// Adds an item; a second item for the same path keeps the first and warns when the two
    /// differ in source.
    pub fn add(&mut self, item: Item) {
        match self.items.get(&item.dest) {
            Some(old) if old.source != item.source => {
                self.warnings.push(format!(
                    "{}: two sources ({:?} and {:?}); kept the first",
                    item.dest, old.source, item.source
                ));
            }
            Some(_) => {}
            None => {
                self.items.insert(item.dest.clone(), item);
            }
        }
    }
}

/// The directory part of a bundle path (`""` at top level).
pub fn parent(dest: &str) -> &str {
    dest.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
}

pub fn file_name(dest: &str) -> &str {
    dest.rsplit('/').next().unwrap_or(dest)
}

/// Relative path from bundle directory `from` to bundle path `to` (`.` when equal).
pub fn relative(from: &str, to: &str) -> String {
    let a: Vec<&str> = from.split('/').filter(|s| !s.is_empty()).collect();
    let b: Vec<&str> = to.split('/').filter(|s| !s.is_empty()).collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<&str> = vec![".."; a.len() - common];
    parts.extend(&b[common..]);
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

/// Lexically joins a relative path onto a bundle directory; `None` when it climbs out.
pub fn join_inside(dir: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
    for c in rel.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(relative("python/bin", "python/lib"), "../lib");
        assert_eq!(relative("lib", "lib"), ".");
        assert_eq!(relative("", "lib"), "lib");
        assert_eq!(relative("a/b/c", "lib"), "../../../lib");
        assert_eq!(join_inside("a/b", "../c"), Some("a/c".into()));
        assert_eq!(join_inside("a", "../../x"), None);
        assert_eq!(join_inside("a", "."), Some("a".into()));
    }
}
