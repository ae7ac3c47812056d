//! The dependency closure of a set of Mach-O images, found with dyld's rules and no `otool`.
//!
//! For a dependency named N by image X (each LC_LOAD_DYLIB, LC_LOAD_WEAK_DYLIB,
//! LC_REEXPORT_DYLIB, LC_LOAD_UPWARD_DYLIB of X's slice for the observed architecture), dyld
//! tries, in order:
//! 1. each directory of DYLD_LIBRARY_PATH with N's leaf name;
//! 2. N itself, with `@executable_path` the main executable's directory, `@loader_path` X's
//!    directory, and `@rpath` each LC_RPATH of X, then of the image that loaded X, and so on up
//!    to the main executable (an LC_RPATH's own `@loader_path` is its holder's directory);
//! 3. each directory of DYLD_FALLBACK_LIBRARY_PATH (default `/usr/local/lib:/usr/lib`) with N's
//!    leaf name.
//!
//! The first file that exists wins. System libraries (`/usr/lib/*.dylib`, `/usr/lib/swift/*`,
//! `/System/Library/…`) live in the dyld shared cache on current macOS and are not files:
//! they are recorded, never required. A missing weak dependency is recorded, not an error.
//! Images are keyed by real path; the name that reached them is kept on the edge (a Homebrew
//! `opt/` path that resolves into `Cellar/`, say).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use anyhow::Result;
use petgraph::graph::{DiGraph, NodeIndex};

use shenzi_macho::consts::MH_EXECUTE;

use super::machoinfo::{DepKind, MachInfo, Slice};
use super::rootfs;

/// One image in the graph.
#[derive(Debug, Clone)]
pub struct Image {
    /// The path it was found at (symlinks not resolved).
    pub path: PathBuf,
    pub real: PathBuf,
    pub info: MachInfo,
    /// Dependencies that stay on the host (system libraries).
    pub system_deps: Vec<String>,
}

impl Image {
    /// The slice the observed run used: the one of its architecture, or a thin file's only one.
    pub fn slice(&self, arch: &str) -> Option<&Slice> {
        self.info.slice(arch).or(if self.info.fat {
            None
        } else {
            self.info.slices.first()
        })
    }
}

/// A dependency edge: how the loading image names the library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dep {
    pub name: String,
    pub kind: DepKind,
}

/// A dependency that could not be found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    pub name: String,
    pub needed_by: PathBuf,
    pub weak: bool,
}

#[derive(Debug, Default)]
pub struct Graph {
    pub g: DiGraph<Image, Dep>,
    pub by_real: HashMap<PathBuf, NodeIndex>,
    pub missing: Vec<Missing>,
    /// Images that could not be read as Mach-O, with why.
    pub unreadable: Vec<(PathBuf, String)>,
}

/// How an image was reached: the directory of the main executable of its process
/// (`@executable_path`) and the LC_RPATHs of the images that loaded it, nearest first, each with
/// the directory of the image that holds it.
#[derive(Debug, Default)]
struct Loaders {
    exe_dir: PathBuf,
    loaders: Vec<(Vec<String>, PathBuf)>,
}

type Chain = Rc<Loaders>;

/// Whether an install name is a system library of current macOS (in the shared cache).
pub fn is_system(name: &str) -> bool {
    (name.starts_with("/usr/lib/") && !name.starts_with("/usr/lib/../"))
        || name.starts_with("/System/Library/Frameworks/")
        || name.starts_with("/System/Library/PrivateFrameworks/")
}

/// The search environment of the observed run.
pub struct Resolver {
    /// Architecture of the observed process.
    pub arch: String,
    pub library_path: Vec<String>,
    pub fallback_path: Vec<String>,
}

fn leaf(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// Expands `@executable_path` / `@loader_path` at the start of a path (for `@loader_path`, the
/// directory given), mapping absolute paths under the root.
fn expand(path: &str, exe_dir: &Path, loader_dir: &Path) -> Option<PathBuf> {
    if let Some(rest) = path.strip_prefix("@executable_path") {
        return Some(join(exe_dir, rest));
    }
    if let Some(rest) = path.strip_prefix("@loader_path") {
        return Some(join(loader_dir, rest));
    }
    if path.starts_with('@') {
        return None;
    }
    path.starts_with('/').then(|| rootfs::host(path))
}

fn join(dir: &Path, rest: &str) -> PathBuf {
    let rest = rest.trim_start_matches('/');
    if rest.is_empty() {
        dir.to_path_buf()
    } else {
        dir.join(rest)
    }
}

impl Resolver {
    pub fn new(arch: String, env: &std::collections::BTreeMap<String, String>) -> Resolver {
        let split = |k: &str| -> Option<Vec<String>> {
            env.get(k).map(|v| {
                v.split(':')
                    .filter(|p| !p.is_empty())
                    .map(String::from)
                    .collect()
            })
        };
        Resolver {
            arch,
            library_path: split("DYLD_LIBRARY_PATH").unwrap_or_default(),
            fallback_path: split("DYLD_FALLBACK_LIBRARY_PATH")
                .unwrap_or_else(|| vec!["/usr/local/lib".into(), "/usr/lib".into()]),
        }
    }

    /// Where `name`, needed by the image at `loader` (with its rpaths) and the chain of images
    /// that loaded it, is found.
    fn search(&self, name: &str, loader: &Path, own: &[String], chain: &Chain) -> Option<PathBuf> {
        let exe_dir = &chain.exe_dir;
        let loader_dir = loader.parent().unwrap_or(Path::new("/"));
        let exists = |p: &Path| p.is_file();
        for d in &self.library_path {
            let p = rootfs::host(d).join(leaf(name));
            if exists(&p) {
                return Some(p);
            }
        }
        if let Some(rest) = name.strip_prefix("@rpath/") {
            let own = std::iter::once((own, loader_dir));
            let up = chain
                .loaders
                .iter()
                .map(|(r, d)| (r.as_slice(), d.as_path()));
            for (rpaths, holder) in own.chain(up) {
                for rp in rpaths {
                    if let Some(dir) = expand(rp, exe_dir, holder) {
                        let p = dir.join(rest);
                        if exists(&p) {
                            return Some(p);
                        }
                    }
                }
            }
        } else if let Some(p) = expand(name, exe_dir, loader_dir) {
            if exists(&p) {
                return Some(p);
            }
        }
        for d in &self.fallback_path {
            let p = rootfs::host(d).join(leaf(name));
            if exists(&p) {
                return Some(p);
            }
        }
        None
    }

    /// The closure from `roots` (the main executable first). An executable's dependencies see an
    /// empty loader chain and its own directory as `@executable_path`; every other root counts
    /// as loaded by the first executable.
    pub fn closure(&self, roots: &[PathBuf]) -> Result<Graph> {
        let mut graph = Graph::default();
        let mut first_exe: Option<Chain> = None;
        let mut queue: Vec<(NodeIndex, Chain)> = Vec::new();
        let mut nodes: Vec<(NodeIndex, bool)> = Vec::new();
        for path in roots {
            if let Some(ix) = self.node(&mut graph, path) {
                let is_exe = graph.g[ix]
                    .slice(&self.arch)
                    .is_some_and(|s| s.filetype == MH_EXECUTE);
                nodes.push((ix, is_exe));
            }
        }
        nodes.sort_by_key(|&(_, exe)| !exe);
        for (ix, is_exe) in nodes {
            let img = &graph.g[ix];
            let dir = img.real.parent().unwrap_or(Path::new("/")).to_path_buf();
            if is_exe {
                let rpaths = img
                    .slice(&self.arch)
                    .map(|s| s.rpaths.clone())
                    .unwrap_or_default();
                first_exe.get_or_insert_with(|| {
                    Rc::new(Loaders {
                        exe_dir: dir.clone(),
                        loaders: vec![(rpaths, dir.clone())],
                    })
                });
                queue.push((
                    ix,
                    Rc::new(Loaders {
                        exe_dir: dir,
                        loaders: Vec::new(),
                    }),
                ));
            } else {
                let chain = first_exe.clone().unwrap_or_else(|| {
                    Rc::new(Loaders {
                        exe_dir: dir,
                        loaders: Vec::new(),
                    })
                });
                queue.push((ix, chain));
            }
        }
        let mut seen: HashMap<NodeIndex, ()> = HashMap::new();
        while let Some((ix, chain)) = queue.pop() {
            if seen.insert(ix, ()).is_some() {
                continue;
            }
            let img = graph.g[ix].clone();
            let Some(slice) = img.slice(&self.arch).cloned() else {
                continue;
            };
            for (kind, name) in &slice.deps {
                if is_system(name) {
                    graph.g[ix].system_deps.push(name.clone());
                    continue;
                }
                match self.search(name, &img.real, &slice.rpaths, &chain) {
                    Some(found) => {
                        let Some(to) = self.node(&mut graph, &found) else {
                            continue;
                        };
                        graph.g.add_edge(
                            ix,
                            to,
                            Dep {
                                name: name.clone(),
                                kind: *kind,
                            },
                        );
                        let mut loaders = vec![(
                            slice.rpaths.clone(),
                            img.real.parent().unwrap_or(Path::new("/")).to_path_buf(),
                        )];
                        loaders.extend(chain.loaders.iter().cloned());
                        let next = Loaders {
                            exe_dir: chain.exe_dir.clone(),
                            loaders,
                        };
                        queue.push((to, Rc::new(next)));
                    }
                    None => graph.missing.push(Missing {
                        name: name.clone(),
                        needed_by: img.path.clone(),
                        weak: *kind == DepKind::Weak,
                    }),
                }
            }
        }
        Ok(graph)
    }

    /// The node of the file at `path`, read on first sight.
    fn node(&self, graph: &mut Graph, path: &Path) -> Option<NodeIndex> {
        let real = match rootfs::canonicalize(path) {
            Ok(r) => r,
            Err(e) => {
                graph.unreadable.push((path.to_path_buf(), e.to_string()));
                return None;
            }
        };
        if let Some(&ix) = graph.by_real.get(&real) {
            return Some(ix);
        }
        match MachInfo::read(&real) {
            Ok(info) => {
                let ix = graph.g.add_node(Image {
                    path: path.to_path_buf(),
                    real: real.clone(),
                    info,
                    system_deps: Vec::new(),
                });
                graph.by_real.insert(real, ix);
                Some(ix)
            }
            Err(e) => {
                if !graph.unreadable.iter().any(|(p, _)| *p == real) {
                    graph.unreadable.push((real, format!("{e:#}")));
                }
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_libraries() {
        assert!(is_system("/usr/lib/libSystem.B.dylib"));
        assert!(is_system(
            "/System/Library/Frameworks/CoreFoundation.framework/Versions/A/CoreFoundation"
        ));
        assert!(is_system("/usr/lib/swift/libswiftCore.dylib"));
        assert!(!is_system("/usr/local/lib/libssl.3.dylib"));
        assert!(!is_system("@rpath/libfoo.dylib"));
    }

    #[test]
    fn expansion() {
        let exe = Path::new("/x/bin");
        let ld = Path::new("/x/lib/python3.11/site-packages/numpy/core");
        assert_eq!(
            expand("@loader_path/../.dylibs", exe, ld),
            Some(PathBuf::from(
                "/x/lib/python3.11/site-packages/numpy/core/../.dylibs"
            ))
        );
        assert_eq!(
            expand("@executable_path/../lib", exe, ld),
            Some(PathBuf::from("/x/bin/../lib"))
        );
        assert_eq!(expand("@rpath/x", exe, ld), None);
    }
}
