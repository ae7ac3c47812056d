//! The native side of a Linux bundle: the DT_NEEDED closure of everything the run loaded
//! ([`super::resolve`]), where each library goes ([`super::place`]), the edits that make the
//! copies find each other ([`super::patch`]), and the glibc floor.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use petgraph::visit::{Dfs, EdgeRef};

use super::collect::{self, Places};
use super::plan::{Plan, Source};
use super::policy::Policy;
use super::report::{glibc_text, glibcxx_text};
use super::{elfinfo, patch, place, resolve, Native};
use crate::observe::Manifest;

/// Resolves, places and patches the shared libraries of a Linux bundle.
pub fn native(
    manifest: &Manifest,
    places: &Places,
    policy: &Policy,
    min_glibc: Option<(u32, u32)>,
    plan: &mut Plan,
) -> Result<Native> {
    let mut warnings = Vec::new();
    // Native side: roots are the interpreter, every bundled shared object, everything mapped.
    let exe = PathBuf::from(&manifest.python.real_executable);
    let mut roots = vec![resolve::Root {
        path: exe.clone(),
        executable: true,
    }];
    let mut extra: BTreeSet<PathBuf> = BTreeSet::new();
    for it in plan.items.values() {
        if let Source::File(p) = &it.source {
            if collect::looks_shared(p) && elfinfo::is_elf_file(p) {
                extra.insert(p.clone());
            }
        }
    }
    let mut mapped: HashMap<String, PathBuf> = HashMap::new();
    let mut mapped_roots: Vec<PathBuf> = Vec::new();
    for so in &manifest.shared_objects {
        let p = Path::new(so);
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if so.ends_with(" (deleted)")
            || !p.is_file()
            || policy.is_host(&name)
            || !elfinfo::is_elf_file(p)
        {
            continue;
        }
        if let Ok(info) = elfinfo::ElfInfo::read(p) {
            if let Some(s) = info.soname {
                if policy.is_host(&s) {
                    continue;
                }
                mapped.entry(s).or_insert_with(|| p.to_path_buf());
            }
        }
        mapped.entry(name).or_insert_with(|| p.to_path_buf());
        mapped_roots.push(p.to_path_buf());
        extra.insert(p.to_path_buf());
    }
    for d in &manifest.dlopen {
        if let Some(p) = &d.path {
            let p = Path::new(p);
            if p.is_file() && !policy.is_host(&d.name) {
                extra.insert(p.to_path_buf());
            }
        }
    }
    roots.extend(extra.into_iter().map(|path| resolve::Root {
        path,
        executable: false,
    }));
    let is_host = |n: &str| policy.is_host(n);
    let mut resolver = resolve::Resolver::new(
        manifest.env.get("LD_LIBRARY_PATH").map(|s| s.as_str()),
        mapped,
        &is_host,
    );
    let graph = resolver.closure(&roots)?;

    // Missing libraries: fatal when something the run loaded needs them.
    let mut loaded: HashSet<petgraph::graph::NodeIndex> = HashSet::new();
    for p in std::iter::once(&exe).chain(mapped_roots.iter()) {
        let Some(&start) = super::rootfs::canonicalize(p)
            .ok()
            .and_then(|r| graph.by_real.get(&r))
        else {
            continue;
        };
        let mut dfs = Dfs::new(&graph.g, start);
        while let Some(n) = dfs.next(&graph.g) {
            loaded.insert(n);
        }
    }
    let mut fatal = Vec::new();
    for m in &graph.missing {
        let by_loaded = super::rootfs::canonicalize(&m.needed_by)
            .ok()
            .and_then(|r| graph.by_real.get(&r))
            .is_some_and(|ix| loaded.contains(ix));
        let text = format!(
            "{}: not found (needed by {})",
            m.name,
            m.needed_by.display()
        );
        if by_loaded {
            fatal.push(text);
        } else {
            warnings.push(format!(
                "{text}; that object was not loaded in the observed run"
            ));
        }
    }
    if !fatal.is_empty() {
        bail!("missing libraries:\n  {}", fatal.join("\n  "));
    }
    for (p, e) in &graph.unreadable {
        warnings.push(format!("{}: not read as ELF ({e})", p.display()));
    }

    let placement = place::place(&graph, plan, places, policy, manifest)?;
    patch::plan_edits(&graph, &placement, plan);
    let edges = edges(&graph, &placement, plan);

    // glibc floor of everything bundled.
    let mut glibc = None;
    let mut glibcxx = None;
    let mut host: BTreeSet<String> = BTreeSet::new();
    for ix in placement.dests.keys() {
        let n = &graph.g[*ix];
        glibc = glibc.max(n.info.glibc);
        glibcxx = glibcxx.max(n.info.glibcxx);
        host.extend(n.system_deps.iter().cloned());
    }
    if let (Some(limit), Some(need)) = (min_glibc, glibc) {
        if need > limit {
            let who: Vec<String> = placement
                .dests
                .iter()
                .filter(|(ix, _)| graph.g[**ix].info.glibc > Some(limit))
                .map(|(ix, _)| graph.g[*ix].real.display().to_string())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .take(10)
                .collect();
            bail!(
                "the bundle needs glibc {}.{} but --min-glibc is {}.{}; newest requirements from:\n  {}",
                need.0,
                need.1,
                limit.0,
                limit.1,
                who.join("\n  ")
            );
        }
    }

    Ok(Native {
        floors: [
            ("glibc", glibc_text(glibc)),
            ("glibcxx", glibcxx_text(glibcxx)),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
        .collect(),
        host_libraries: host.into_iter().collect(),
        warnings,
        edges,
    })
}

/// Which bundled file needs which (bundle paths), from the resolved DT_NEEDED graph.
fn edges(
    graph: &resolve::Graph,
    placement: &place::Placement,
    plan: &Plan,
) -> Vec<(String, String)> {
    let mut out: BTreeSet<(String, String)> = BTreeSet::new();
    for (ix, dests) in &placement.dests {
        for e in graph.g.edges(*ix) {
            let Some(dep) = placement.dest_for(e.target(), e.weight()) else {
                continue;
            };
            for d in dests {
                if d != dep && plan.items.contains_key(d) && plan.items.contains_key(dep) {
                    out.insert((d.clone(), dep.to_string()));
                }
            }
        }
    }
    out.into_iter().collect()
}
