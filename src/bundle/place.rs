//! Where each shared library of the dependency graph goes in the bundle.
//!
//! A library already inside a copied tree (a wheel's `*.libs`, the interpreter's prefix) stays
//! where it is, so `$ORIGIN`-relative references keep working. Any other goes to `lib/` under
//! the name it is needed by. Two different files wanting the same name are kept apart by a
//! content hash in the second one's name (`libfoo-1a2b3c4d.so.1`); the patch stage then
//! replaces the needed entry and the soname. Libraries the application opened by name through
//! ctypes/cffi get a `lib/NAME` entry (a symlink when the file lives elsewhere).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Result;
use petgraph::graph::NodeIndex;
use sha2::{Digest, Sha256};

use super::collect::{looks_shared, Places};
use super::plan::{file_name, parent, relative, Item, Plan, Source};
use super::policy::Policy;
use super::resolve::Graph;
use crate::observe::Manifest;

/// Bundle paths of each graph node (several when a tree holds it under several names).
#[derive(Debug, Default)]
pub struct Placement {
    pub dests: HashMap<NodeIndex, Vec<String>>,
    /// Bundle paths of the objects that call dlopen for ctypes / cffi.
    pub dlopen_callers: BTreeSet<String>,
}

impl Placement {
    /// The copy of `node` that a reference by `name` should use.
    pub fn dest_for(&self, node: NodeIndex, name: &str) -> Option<&str> {
        let d = self.dests.get(&node)?;
        d.iter()
            .find(|p| file_name(p) == name)
            .or_else(|| d.first())
            .map(|s| s.as_str())
    }
}

/// SHA-256 of a file's content.
pub fn file_hash(path: &Path) -> Result<[u8; 32]> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().into())
}

/// The first 8 hex digits of a file's SHA-256, for names that must not clash.
pub fn content_hash(path: &Path) -> Result<String> {
    Ok(file_hash(path)?
        .iter()
        .take(4)
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// `libfoo.so.1` + `1a2b3c4d` → `libfoo-1a2b3c4d.so.1`.
fn hashed_name(name: &str, hash: &str) -> String {
    match name.find(".so") {
        Some(i) => format!("{}-{hash}{}", &name[..i], &name[i..]),
        None => format!("{name}-{hash}"),
    }
}

pub fn place(
    graph: &Graph,
    plan: &mut Plan,
    places: &Places,
    policy: &Policy,
    manifest: &Manifest,
) -> Result<Placement> {
    let mut out = Placement::default();
    // Items already planned, by the real path of their source.
    let mut by_real: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
    for it in plan.items.values() {
        if let Source::File(p) = &it.source {
            if looks_shared(p) || it.group == "python" {
                if let Ok(r) = super::rootfs::canonicalize(p) {
                    by_real.entry(r).or_default().push(it.dest.clone());
                }
            }
        }
    }
    // Deterministic order: by real path.
    let mut nodes: Vec<NodeIndex> = graph.g.node_indices().collect();
    nodes.sort_by(|a, b| graph.g[*a].real.cmp(&graph.g[*b].real));
    let mut taken: BTreeMap<String, PathBuf> = BTreeMap::new();
    for it in plan.items.values() {
        if let Source::File(p) = &it.source {
            taken.insert(it.dest.clone(), p.clone());
        }
    }
    for ix in nodes {
        let node = &graph.g[ix];
        if let Some(d) = by_real.get(&node.real) {
            out.dests.insert(ix, d.clone());
            continue;
        }
        let needed_as = graph
            .g
            .edges_directed(ix, petgraph::Direction::Incoming)
            .map(|e| e.weight().clone())
            .min();
        let name = needed_as.unwrap_or_else(|| {
            node.path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
        if policy.excluded(&name) {
            continue;
        }
        let dest = match places.map(&node.real) {
            Some(d) if d.starts_with("python/") && !d.starts_with(&places.site_dest) => {
                format!("{}/{name}", parent(&d))
            }
            Some(d) if d.starts_with(&places.site_dest) => format!("{}/{name}", parent(&d)),
            _ => format!("lib/{name}"),
        };
        let dest = match taken.get(&dest) {
            None => dest,
            Some(other) if super::rootfs::canonicalize(other).ok().as_ref() == Some(&node.real) => {
                dest
            }
            Some(other) if content_hash(other).ok() == content_hash(&node.real).ok() => dest,
            Some(_) => {
                let h = content_hash(&node.real)?;
                let renamed = format!("{}/{}", parent(&dest), hashed_name(&name, &h));
                plan.warnings.push(format!(
                    "two different libraries are called {name}; {} is stored as {renamed}",
                    node.real.display()
                ));
                renamed
            }
        };
        if !taken.contains_key(&dest) {
            taken.insert(dest.clone(), node.real.clone());
            plan.add(Item::copy(
                node.real.clone(),
                dest.clone(),
                "libs",
                "needed library",
            ));
        }
        out.dests.insert(ix, vec![dest]);
    }

    // Names loaded through ctypes / cffi must still load by that name.
    for d in &manifest.dlopen {
        if d.name.contains('/') {
            let inside = d
                .path
                .as_deref()
                .and_then(|p| super::rootfs::canonicalize(p).ok())
                .and_then(|r| places.map(&r));
            if inside.is_none() {
                plan.warnings.push(format!(
                    "{} was loaded by path through {}; that path will not exist in the bundle",
                    d.name, d.via
                ));
            }
            continue;
        }
        if policy.is_host(&d.name) {
            continue;
        }
        let Some(path) = &d.path else {
            plan.warnings.push(format!(
                "{} was loaded through {} but its file was not found",
                d.name, d.via
            ));
            continue;
        };
        let Some(ix) = super::rootfs::canonicalize(path)
            .ok()
            .and_then(|r| graph.by_real.get(&r).copied())
        else {
            plan.warnings.push(format!(
                "{} ({path}) could not be read; not bundled",
                d.name
            ));
            continue;
        };
        let Some(target) = out.dest_for(ix, &d.name).map(String::from) else {
            continue;
        };
        let want = format!("lib/{}", d.name);
        if target == want {
            if let Some(it) = plan.items.get_mut(&want) {
                it.why = format!("loaded by name through {}", d.via);
            }
        } else {
            if plan.items.contains_key(&want) {
                plan.warnings.push(format!(
                    "{} (loaded through {}) clashes with another lib/{}",
                    d.name, d.via, d.name
                ));
                continue;
            }
            plan.add(Item {
                dest: want.clone(),
                source: Source::Symlink(relative("lib", &target)),
                group: "libs".into(),
                why: format!("loaded by name through {}", d.via),
                edit: None,
            });
        }
    }
    for module in ["_ctypes", "_cffi_backend"] {
        let Some(Some(file)) = manifest.modules.get(module) else {
            continue;
        };
        if let Ok(r) = super::rootfs::canonicalize(file) {
            if let Some(ix) = graph.by_real.get(&r) {
                for d in out.dests.get(ix).into_iter().flatten() {
                    out.dlopen_callers.insert(d.clone());
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashed_names() {
        assert_eq!(
            super::hashed_name("libfoo.so.1", "abcd"),
            "libfoo-abcd.so.1"
        );
        assert_eq!(super::hashed_name("libfoo", "abcd"), "libfoo-abcd");
    }
}
