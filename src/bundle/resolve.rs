//! The DT_NEEDED closure of a set of ELF files, found with ld.so's rules and no `ldd`.
//!
//! For a name without a slash needed by object X, ld.so searches, in order:
//! 1. DT_RPATH of X, then of the object that loaded X, and so on up to the executable — only
//!    when X has no DT_RUNPATH;
//! 2. LD_LIBRARY_PATH (here: the observed run's);
//! 3. DT_RUNPATH of X;
//! 4. `/etc/ld.so.cache`;
//! 5. the default directories (multiarch first).
//!
//! `$ORIGIN` is the directory X was found in (the executable's real directory for the main
//! program); `$LIB` and `$PLATFORM` expand as on this machine. A candidate is taken only if it is
//! an ELF file of X's class and machine. Objects that the policy calls system libraries are
//! recorded but not followed. Cycles are fine: nodes are keyed by real path.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use anyhow::Result;
use petgraph::graph::{DiGraph, NodeIndex};

use shenzi_elf::consts::{EM_386, EM_AARCH64, EM_ARM, EM_PPC64, EM_RISCV, EM_S390, EM_X86_64};

use super::elfinfo::ElfInfo;
use super::ldcache::LdCache;

/// One ELF file in the graph.
#[derive(Debug, Clone)]
pub struct Node {
    /// The path ld.so would use (symlinks not resolved): `$ORIGIN` comes from it.
    pub path: PathBuf,
    pub real: PathBuf,
    pub info: ElfInfo,
    /// Needed names the policy leaves to the host system.
    pub system_deps: Vec<String>,
}

/// A needed library that could not be found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    pub name: String,
    pub needed_by: PathBuf,
}

#[derive(Debug, Default)]
pub struct Graph {
    /// Edges point from the needing object to the needed one, labelled with the DT_NEEDED name.
    pub g: DiGraph<Node, String>,
    pub by_real: HashMap<PathBuf, NodeIndex>,
    pub missing: Vec<Missing>,
    /// Roots that could not be read as ELF (reported, not fatal).
    pub unreadable: Vec<(PathBuf, String)>,
}

/// A root of the closure and how it was loaded.
#[derive(Debug, Clone)]
pub struct Root {
    pub path: PathBuf,
    pub executable: bool,
}

/// The search environment.
pub struct Resolver<'a> {
    pub cache: LdCache,
    pub ld_library_path: Vec<String>,
    /// Libraries seen mapped in the observed run, by file name and soname: the last resort
    /// when the rules find nothing (e.g. a path only the run's environment knew).
    pub mapped: HashMap<String, PathBuf>,
    pub is_system: &'a (dyn Fn(&str) -> bool + Sync),
    probe: HashMap<PathBuf, Option<(u16, bool)>>,
}

/// RPATH entries of the loader chain, each with the origin it expands against.
type Chain = Rc<Vec<(Vec<String>, PathBuf)>>;

fn multiarch(machine: u16) -> &'static str {
    match machine {
        EM_X86_64 => "x86_64-linux-gnu",
        EM_AARCH64 => "aarch64-linux-gnu",
        EM_386 => "i386-linux-gnu",
        EM_ARM => "arm-linux-gnueabihf",
        EM_PPC64 => "powerpc64le-linux-gnu",
        EM_S390 => "s390x-linux-gnu",
        EM_RISCV => "riscv64-linux-gnu",
        _ => "",
    }
}

fn platform(machine: u16) -> &'static str {
    match machine {
        EM_X86_64 => "x86_64",
        EM_AARCH64 => "aarch64",
        EM_386 => "i686",
        EM_PPC64 => "ppc64le",
        EM_S390 => "s390x",
        EM_RISCV => "riscv64",
        _ => "",
    }
}

/// Expands `$ORIGIN`, `$LIB` and `$PLATFORM` (also in `${…}` form) in one search-path entry.
pub fn expand(entry: &str, origin: &Path, machine: u16, is64: bool) -> String {
    let triple = multiarch(machine);
    let lib = if !triple.is_empty() && Path::new("/lib").join(triple).is_dir() {
        format!("lib/{triple}")
    } else if is64 && Path::new("/lib64").is_dir() {
        "lib64".to_string()
    } else {
        "lib".to_string()
    };
    let origin = origin.to_string_lossy();
    let mut out = entry.to_string();
    for (token, value) in [
        ("ORIGIN", origin.as_ref()),
        ("LIB", lib.as_str()),
        ("PLATFORM", platform(machine)),
    ] {
        out = out
            .replace(&format!("${{{token}}}"), value)
            .replace(&format!("${token}"), value);
    }
    out
}

fn default_dirs(machine: u16, is64: bool) -> Vec<String> {
    let mut dirs = Vec::new();
    let triple = multiarch(machine);
    if !triple.is_empty() {
        dirs.push(format!("/lib/{triple}"));
        dirs.push(format!("/usr/lib/{triple}"));
    }
    if is64 {
        dirs.push("/lib64".into());
        dirs.push("/usr/lib64".into());
    }
    dirs.push("/lib".into());
    dirs.push("/usr/lib".into());
    dirs
}

impl<'a> Resolver<'a> {
    pub fn new(
        ld_library_path: Option<&str>,
        mapped: HashMap<String, PathBuf>,
        is_system: &'a (dyn Fn(&str) -> bool + Sync),
    ) -> Self {
        Resolver {
            cache: LdCache::system(),
            ld_library_path: ld_library_path
                .map(|s| {
                    s.split([':', ';'])
                        .filter(|p| !p.is_empty())
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default(),
            mapped,
            is_system,
            probe: HashMap::new(),
        }
    }

    /// Whether `path` is an ELF file of this machine and class.
    fn fits(&mut self, path: &Path, machine: u16, is64: bool) -> bool {
        let got = self.probe.entry(path.to_path_buf()).or_insert_with(|| {
            use std::io::Read;
            let mut h = [0u8; 64];
            let mut f = std::fs::File::open(path).ok()?;
            let n = f.read(&mut h).ok()?;
            let id = shenzi_elf::peek(&h[..n])?;
            Some((id.machine, id.class == shenzi_elf::Class::Elf64))
        });
        *got == Some((machine, is64))
    }

    /// Finds `name` for `node` with loader chain `chain`.
    fn search(&mut self, name: &str, node: &Node, origin: &Path, chain: &Chain) -> Option<PathBuf> {
        let (m, is64) = (node.info.machine, node.info.is64);
        if name.contains('/') {
            let p = PathBuf::from(expand(name, origin, m, is64));
            return self.fits(&p, m, is64).then_some(p);
        }
        let mut dirs: Vec<String> = Vec::new();
        // A DT_RUNPATH, even an empty one, turns off DT_RPATH and the loader chain's.
        if node.info.run_path_tag != Some(shenzi_elf::RunPathTag::Runpath) {
            dirs.extend(node.info.rpath().iter().map(|e| expand(e, origin, m, is64)));
            for (entries, o) in chain.iter() {
                dirs.extend(entries.iter().map(|e| expand(e, o, m, is64)));
            }
        }
        dirs.extend(self.ld_library_path.clone());
        dirs.extend(
            node.info
                .runpath()
                .iter()
                .map(|e| expand(e, origin, m, is64)),
        );
        for d in dirs {
            if d.is_empty() {
                continue;
            }
            let p = Path::new(&d).join(name);
            if self.fits(&p, m, is64) {
                return Some(p);
            }
        }
        let cached: Vec<String> = self.cache.lookup(name).to_vec();
        for c in cached {
            let p = PathBuf::from(c);
            if self.fits(&p, m, is64) {
                return Some(p);
            }
        }
        for d in default_dirs(m, is64) {
            let p = Path::new(&d).join(name);
            if self.fits(&p, m, is64) {
                return Some(p);
            }
        }
        let p = self.mapped.get(name)?.clone();
        self.fits(&p, m, is64).then_some(p)
    }

    /// Builds the closure of `roots`.
    pub fn closure(&mut self, roots: &[Root]) -> Result<Graph> {
        let mut graph = Graph::default();
        let mut work: Vec<(NodeIndex, Chain)> = Vec::new();
        let mut exe_chain: Chain = Rc::new(Vec::new());
        // The executable first: its DT_RPATH applies to everything dlopen'ed.
        let mut ordered: Vec<&Root> = roots.iter().filter(|r| r.executable).collect();
        ordered.extend(roots.iter().filter(|r| !r.executable));
        for root in ordered {
            let Some(ix) = self.add_node(&mut graph, &root.path, root.executable) else {
                continue;
            };
            let chain = if root.executable {
                let n = &graph.g[ix];
                if !n.info.rpath().is_empty() {
                    let origin = n.real.parent().unwrap_or(Path::new("/")).to_path_buf();
                    exe_chain = Rc::new(vec![(n.info.rpath().to_vec(), origin)]);
                }
                Rc::new(Vec::new())
            } else {
                exe_chain.clone()
            };
            work.push((ix, chain));
        }
        while let Some((ix, chain)) = work.pop() {
            let node = graph.g[ix].clone();
            let origin = node.path.parent().unwrap_or(Path::new("/")).to_path_buf();
            let child_chain: Chain = if node.info.rpath().is_empty() {
                chain.clone()
            } else {
                let mut v = vec![(node.info.rpath().to_vec(), origin.clone())];
                v.extend(chain.iter().cloned());
                Rc::new(v)
            };
            let mut system = Vec::new();
            for name in &node.info.needed {
                if (self.is_system)(name) {
                    system.push(name.clone());
                    continue;
                }
                let Some(found) = self.search(name, &node, &origin, &chain) else {
                    graph.missing.push(Missing {
                        name: name.clone(),
                        needed_by: node.path.clone(),
                    });
                    continue;
                };
                let known = super::rootfs::canonicalize(&found)
                    .ok()
                    .and_then(|r| graph.by_real.get(&r).copied());
                let dep = match known {
                    Some(d) => d,
                    None => match self.add_node(&mut graph, &found, false) {
                        Some(d) => {
                            work.push((d, child_chain.clone()));
                            d
                        }
                        None => continue,
                    },
                };
                graph.g.add_edge(ix, dep, name.clone());
            }
            graph.g[ix].system_deps = system;
        }
        Ok(graph)
    }

    fn add_node(&mut self, graph: &mut Graph, path: &Path, executable: bool) -> Option<NodeIndex> {
        let real = match super::rootfs::canonicalize(path) {
            Ok(r) => r,
            Err(e) => {
                graph.unreadable.push((path.to_path_buf(), e.to_string()));
                return None;
            }
        };
        if let Some(&ix) = graph.by_real.get(&real) {
            return Some(ix);
        }
        let info = match ElfInfo::read(&real) {
            Ok(i) => i,
            Err(e) => {
                graph
                    .unreadable
                    .push((path.to_path_buf(), format!("{e:#}")));
                return None;
            }
        };
        let ix = graph.g.add_node(Node {
            path: if executable {
                real.clone()
            } else {
                path.to_path_buf()
            },
            real: real.clone(),
            info,
            system_deps: Vec::new(),
        });
        graph.by_real.insert(real, ix);
        Some(ix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_tokens() {
        let o = Path::new("/opt/app/lib");
        assert_eq!(expand("$ORIGIN/../x", o, 62, true), "/opt/app/lib/../x");
        assert_eq!(expand("${ORIGIN}/y", o, 62, true), "/opt/app/lib/y");
        assert_eq!(expand("/p/$PLATFORM", o, 62, true), "/p/x86_64");
        assert!(expand("/usr/$LIB", o, 62, true).starts_with("/usr/lib"));
    }

    /// Builds corpus/bundle/chain into a temporary directory (None without gcc, unless CI
    /// requires the oracles).
    fn chain_libs() -> Option<tempfile::TempDir> {
        let dir = tempfile::tempdir().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/bundle/chain/build.sh");
        let ok = std::process::Command::new("sh")
            .arg(script)
            .arg(dir.path())
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok && std::env::var("SHENZI_REQUIRE_ORACLES").is_ok_and(|v| v == "1") {
            panic!("gcc is required to build the chain libraries");
        }
        ok.then_some(dir)
    }

    fn names(g: &Graph) -> Vec<String> {
        let mut v: Vec<String> =
            g.g.node_weights()
                .map(|n| n.path.file_name().unwrap().to_string_lossy().into_owned())
                .collect();
        v.sort();
        v
    }

    #[test]
    fn rpath_is_inherited_by_dependencies_without_runpath() {
        let Some(dir) = chain_libs() else { return };
        let sys = |n: &str| n.starts_with("libc.so");
        let lp = dir.path().join("a").to_string_lossy().into_owned();
        let mut r = Resolver::new(Some(&lp), HashMap::new(), &sys);
        let root = |p: &str| Root {
            path: dir.path().join(p),
            executable: false,
        };
        // librpb.so finds librpc.so only through librpa.so's DT_RPATH.
        let g = r.closure(&[root("a/librpa.so")]).unwrap();
        assert!(g.missing.is_empty(), "{:?}", g.missing);
        assert!(g.unreadable.is_empty(), "{:?}", g.unreadable);
        assert_eq!(names(&g), ["librpa.so", "librpb.so", "librpc.so"]);
        // Loaded on its own, librpb.so has no way to find it.
        let g = r.closure(&[root("a/librpb.so")]).unwrap();
        assert_eq!(
            g.missing,
            [Missing {
                name: "librpc.so".into(),
                needed_by: dir.path().join("a/librpb.so"),
            }]
        );
    }

    #[test]
    fn resolves_this_test_binarys_libc() {
        let sys = |_: &str| false;
        let mut r = Resolver::new(None, HashMap::new(), &sys);
        let exe = std::env::current_exe().unwrap();
        let g = r
            .closure(&[Root {
                path: exe,
                executable: true,
            }])
            .unwrap();
        assert!(g.missing.is_empty(), "{:?}", g.missing);
        assert!(g
            .g
            .node_weights()
            .any(|n| n.path.file_name().is_some_and(|f| f == "libc.so.6")));
    }
}
