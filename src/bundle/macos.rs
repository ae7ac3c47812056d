//! The native side of a macOS bundle: the closure of every image the run loaded, found with
//! dyld's rules ([`super::dyld`]); where each image goes; the load-command edits that make the
//! copies find each other inside the bundle; and the minimum macOS version.
//!
//! Layout: the interpreter's prefix becomes `python/` — for a framework build (python.org,
//! Homebrew) the *contents* of `Python.framework/Versions/X.Y`, kept as they are: the framework
//! dylib `python/Python`, the `bin/pythonX.Y` stub and `Resources/Python.app`, whose interpreter
//! the stub starts. Kept rather than flattened because a framework build finds everything
//! relative to its framework dylib: CPython's getpath takes the prefix from the dylib's
//! directory (`sys.prefix` is `python/`), `sys.executable` is the stub (passed on in
//! `__PYVENV_LAUNCHER__`), which finds `Resources/Python.app` next to the dylib as well — so
//! multiprocessing's spawn, which runs `sys.executable`, stays inside the bundle. Wheels keep
//! their `.dylibs/`; every other library goes to `lib/`.
//!
//! Edits, per copy: a reference that would not resolve to the bundled file by dyld's rules
//! becomes `@loader_path/<relative path>` (wheel-internal `@loader_path/.dylibs/…` references
//! already resolve and stay); LC_RPATHs that point outside the bundle are removed and a
//! duplicated one is kept once (dyld on macOS 15.4+ refuses duplicates); a dylib with an
//! absolute install name gets `@rpath/NAME`. Nothing relies on DYLD_* variables (SIP strips
//! them from children of /bin/sh). Every edited slice is re-signed ad hoc by the Mach-O writer;
//! `--arch` keeps one slice of fat files.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use petgraph::graph::NodeIndex;
use petgraph::visit::{Dfs, EdgeRef};

use super::collect::Places;
use super::dyld::{self, Graph, Resolver};
use super::machoinfo::{self, version_text, DepKind, Version};
use super::place::content_hash;
use super::plan::{file_name, join_inside, parent, relative, Edit, Item, Plan, Source};
use super::policy::Policy;
use super::{rootfs, Native};
use crate::observe::Manifest;
use shenzi_macho::consts::MH_EXECUTE;

/// The switches of `shenzi bundle` that concern macOS.
pub struct MacOptions<'a> {
    pub min_macos: Option<&'a str>,
    pub arch: Option<&'a str>,
}

/// Options for rewriting one bundled file: the identifier of a fresh signature is its name.
pub fn macho_options(src: &Path) -> shenzi_macho::Options {
    crate::patch::macho::options(src, false, false)
}

/// The slice of `arch` of a fat file, as a thin file.
pub fn thin<'d>(data: &'d [u8], arch: &str) -> Result<&'d [u8]> {
    let fat = shenzi_macho::Fat::parse(data)?;
    for (a, (_, bytes)) in fat.arches().iter().zip(shenzi_macho::slices(data)?) {
        if shenzi_macho::arch_name(a.cputype, a.cpusubtype) == arch {
            return Ok(bytes);
        }
    }
    bail!("the file has no {arch} slice")
}

fn logical(p: &Path) -> String {
    rootfs::logical(p)
}

/// Resolves, places and patches the Mach-O images of a macOS bundle.
pub fn native(
    manifest: &Manifest,
    places: &Places,
    policy: &Policy,
    opts: &MacOptions,
    plan: &mut Plan,
) -> Result<Native> {
    let mut warnings = Vec::new();
    let mac = manifest.macos.clone().unwrap_or_default();
    let arch = match (opts.arch, manifest.machine.as_deref()) {
        (Some(a), _) => a.to_string(),
        (None, Some(m)) => m.to_string(),
        (None, None) => bail!("the manifest does not say which architecture the run used"),
    };
    if let Some(a) = opts.arch {
        if manifest.machine.as_deref().is_some_and(|m| m != a) {
            warnings.push(format!(
                "--arch {a}: the observed run was {}; the bundle is resolved for {a}",
                manifest.machine.as_deref().unwrap_or("?")
            ));
        }
    }

    // The process's own image: in framework builds Python.app's interpreter, not the stub.
    let main = PathBuf::from(
        mac.main_image
            .clone()
            .unwrap_or_else(|| manifest.python.real_executable.clone()),
    );
    let main_real = rootfs::canonicalize(&main)
        .with_context(|| format!("the interpreter {} is gone", logical(&main)))?;
    let main_info = machoinfo::MachInfo::read(&main_real)?;
    if main_info.slice(&arch).is_none() {
        bail!(
            "{}: the interpreter has no {arch} slice (it has {}), but the run was observed on {arch}: \
             the files under --root are not the ones the manifest was recorded with",
            logical(&main_real),
            main_info
                .slices
                .iter()
                .map(|s| s.arch.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if mac.framework.is_some() {
        add_app_bundle(&main_real, places, plan)?;
    }

    // Roots: the interpreter, every Mach-O the bundle copies, every image the run loaded.
    let mut roots: Vec<PathBuf> = vec![main_real.clone()];
    let mut loaded: BTreeSet<PathBuf> = BTreeSet::new();
    for it in plan.items.values() {
        if let Source::File(p) = &it.source {
            if machoinfo::is_macho_file(p) {
                roots.push(p.clone());
            }
        }
    }
    for so in &manifest.shared_objects {
        if dyld::is_system(&rootfs::logical(Path::new(so))) {
            continue;
        }
        let p = PathBuf::from(so);
        let Ok(real) = rootfs::canonicalize(&p) else {
            warnings.push(format!("{}: loaded in the run but gone", logical(&p)));
            continue;
        };
        if policy.is_host(&file_name_of(&real)) {
            continue;
        }
        loaded.insert(real.clone());
        roots.push(real);
    }
    for d in &manifest.dlopen {
        if let Some(p) = &d.path {
            if !dyld::is_system(&rootfs::logical(Path::new(p))) && Path::new(p).is_file() {
                roots.push(PathBuf::from(p));
            }
        }
    }
    let resolver = Resolver::new(arch.clone(), &manifest.env);
    let graph = resolver.closure(&roots)?;

    // Unreadable or missing: fatal when a loaded image is concerned.
    let mut reach: HashSet<NodeIndex> = HashSet::new();
    for r in std::iter::once(&main_real).chain(loaded.iter()) {
        if let Some(&start) = graph.by_real.get(r) {
            let mut dfs = Dfs::new(&graph.g, start);
            while let Some(n) = dfs.next(&graph.g) {
                reach.insert(n);
            }
        }
    }
    let mut fatal = Vec::new();
    for (p, e) in &graph.unreadable {
        let text = format!("{}: cannot be read as Mach-O: {e}", logical(p));
        let real = rootfs::canonicalize(p).unwrap_or_else(|_| p.clone());
        if loaded.contains(&real) || real == main_real {
            fatal.push(text);
        } else {
            warnings.push(text);
        }
    }
    for m in &graph.missing {
        let by = rootfs::canonicalize(&m.needed_by).unwrap_or_else(|_| m.needed_by.clone());
        let by_loaded = graph.by_real.get(&by).is_some_and(|ix| reach.contains(ix));
        let text = format!(
            "{}: not found (needed by {})",
            m.name,
            logical(&m.needed_by)
        );
        if m.weak {
            warnings.push(format!("{text}; a weak dependency, left out"));
        } else if by_loaded {
            fatal.push(text);
        } else {
            warnings.push(format!(
                "{text}; that image was not loaded in the observed run"
            ));
        }
    }
    if !fatal.is_empty() {
        bail!("{}", fatal.join("\n"));
    }

    let dests = place(&graph, places, policy, plan, &mut warnings)?;
    let exe_dest = dests
        .get(&graph.by_real[&main_real])
        .and_then(|d| d.first())
        .cloned()
        .context("the interpreter has no place in the bundle")?;
    plan_edits(&graph, &dests, &exe_dest, &arch, opts.arch, plan);
    if opts.arch.is_some() {
        // Fat files the graph did not touch (none should remain, but the rule is general).
        for it in plan.items.values_mut() {
            if it.edit.is_none() {
                if let Source::File(p) = &it.source {
                    if looks_macho(p) && is_fat_file(p) {
                        it.edit = Some(Edit::MachO {
                            edits: shenzi_macho::EditSet::default(),
                            thin: Some(arch.clone()),
                        });
                    }
                }
            }
        }
    }

    // The newest macOS any bundled slice needs.
    let mut floor: Option<Version> = None;
    let mut who: Vec<(Option<Version>, String)> = Vec::new();
    let mut host: BTreeSet<String> = BTreeSet::new();
    for ix in dests.keys() {
        let img = &graph.g[*ix];
        let v = match opts.arch {
            Some(a) => img.info.slice(a).and_then(|s| s.minos),
            None => img.info.minos(),
        };
        floor = floor.max(v);
        who.push((v, logical(&img.real)));
        host.extend(img.system_deps.iter().cloned());
    }
    if let (Some(limit), Some(need)) = (opts.min_macos, floor) {
        let limit = machoinfo::parse_version(limit)
            .with_context(|| format!("--min-macos {limit}: expected X.Y"))?;
        if need > limit {
            who.sort_by_key(|w| std::cmp::Reverse(w.0));
            let newest: Vec<String> = who
                .iter()
                .filter(|(v, _)| *v > Some(limit))
                .take(10)
                .map(|(v, p)| format!("{p} (macOS {})", v.map(version_text).unwrap_or_default()))
                .collect();
            bail!(
                "the bundle needs macOS {} but --min-macos is {}; newest requirements from:\n  {}",
                version_text(need),
                version_text(limit),
                newest.join("\n  ")
            );
        }
    }
    Ok(Native {
        floors: floor
            .map(|v| vec![("macos".to_string(), version_text(v))])
            .unwrap_or_default(),
        host_libraries: host.into_iter().collect(),
        warnings,
        edges: edges(&graph, &dests, plan),
    })
}

/// Which bundled image needs which (bundle paths), from the resolved load commands.
fn edges(
    graph: &Graph,
    dests: &BTreeMap<NodeIndex, Vec<String>>,
    plan: &Plan,
) -> Vec<(String, String)> {
    let mut out: BTreeSet<(String, String)> = BTreeSet::new();
    for (ix, from) in dests {
        for e in graph.g.edges(*ix) {
            let Some(to) = dests.get(&e.target()).and_then(|d| d.first()) else {
                continue;
            };
            for d in from {
                if d != to && plan.items.contains_key(d) && plan.items.contains_key(to) {
                    out.insert((d.clone(), to.clone()));
                }
            }
        }
    }
    out.into_iter().collect()
}

/// Whether a file's name looks like something dyld loads.
fn looks_macho(p: &Path) -> bool {
    let n = file_name_of(p);
    n.ends_with(".so") || n.ends_with(".dylib")
}

fn is_fat_file(p: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    std::fs::File::open(p)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && shenzi_macho::is_fat(&magic)
}

fn file_name_of(p: &Path) -> String {
    p.file_name()
        .map(|n| String::from_utf8_lossy(n.as_bytes()).into_owned())
        .unwrap_or_default()
}

/// A framework build's `Resources/Python.app`: copied whole (Info.plist with the interpreter).
fn add_app_bundle(main_real: &Path, places: &Places, plan: &mut Plan) -> Result<()> {
    let Some(app) = main_real
        .ancestors()
        .find(|a| a.extension().is_some_and(|e| e == "app"))
    else {
        return Ok(());
    };
    for e in walkdir::WalkDir::new(app).sort_by_file_name() {
        let e = e.with_context(|| format!("cannot read {}", logical(app)))?;
        if !e.file_type().is_file() {
            continue;
        }
        if let Some(dest) = places.map(e.path()) {
            plan.add(Item::copy(
                e.path().to_path_buf(),
                dest,
                "python",
                "interpreter application bundle",
            ));
        }
    }
    Ok(())
}

/// Where each image goes: where a copied tree already puts it, under `python/` when it lies in
/// the interpreter's prefix, else `lib/NAME` (a content hash in the name when two different
/// files want the same one).
fn place(
    graph: &Graph,
    places: &Places,
    policy: &Policy,
    plan: &mut Plan,
    warnings: &mut Vec<String>,
) -> Result<BTreeMap<NodeIndex, Vec<String>>> {
    let mut by_real: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
    let mut taken: BTreeMap<String, PathBuf> = BTreeMap::new();
    for it in plan.items.values() {
        if let Source::File(p) = &it.source {
            if let Ok(r) = rootfs::canonicalize(p) {
                by_real.entry(r.clone()).or_default().push(it.dest.clone());
                taken.insert(it.dest.clone(), r);
            }
        }
    }
    let mut nodes: Vec<NodeIndex> = graph.g.node_indices().collect();
    nodes.sort_by(|a, b| graph.g[*a].real.cmp(&graph.g[*b].real));
    let mut out = BTreeMap::new();
    for ix in nodes {
        let img = &graph.g[ix];
        if let Some(d) = by_real.get(&img.real) {
            out.insert(ix, d.clone());
            continue;
        }
        let name = file_name_of(&img.real);
        if policy.excluded(&name) {
            continue;
        }
        let dest = match places.map(&img.real) {
            Some(d) => d,
            None => format!("lib/{name}"),
        };
        let dest = match taken.get(&dest) {
            None => dest,
            Some(other) if *other == img.real => dest,
            Some(other) if content_hash(other).ok() == content_hash(&img.real).ok() => dest,
            Some(_) => {
                let h = content_hash(&img.real)?;
                let renamed = format!("{}/{}", parent(&dest), hashed_name(&name, &h));
                warnings.push(format!(
                    "two different libraries are called {name}; {} is stored as {renamed}",
                    logical(&img.real)
                ));
                renamed
            }
        };
        if !taken.contains_key(&dest) {
            taken.insert(dest.clone(), img.real.clone());
            plan.add(Item::copy(
                img.real.clone(),
                dest.clone(),
                if dest.starts_with("python/") {
                    "python"
                } else {
                    "libs"
                },
                "needed library",
            ));
        }
        out.insert(ix, vec![dest]);
    }
    Ok(out)
}

/// `libfoo.3.dylib` + `1a2b3c4d` → `libfoo-1a2b3c4d.3.dylib`.
fn hashed_name(name: &str, hash: &str) -> String {
    match name.find('.') {
        Some(i) => format!("{}-{hash}{}", &name[..i], &name[i..]),
        None => format!("{name}-{hash}"),
    }
}

/// Where a reference from the image at bundle path `dest` lands in the bundle, by dyld's rules
/// over bundle paths (`None`: outside the bundle, or nowhere).
fn lands(name: &str, dest: &str, exe_dest: &str, rpaths: &[String]) -> Vec<String> {
    let dir = parent(dest);
    let exe_dir = parent(exe_dest);
    let one = |p: &str| -> Option<String> {
        if let Some(rest) = p.strip_prefix("@loader_path") {
            return join_inside(dir, rest);
        }
        if let Some(rest) = p.strip_prefix("@executable_path") {
            return join_inside(exe_dir, rest);
        }
        None
    };
    match name.strip_prefix("@rpath/") {
        Some(rest) => rpaths
            .iter()
            .filter_map(|rp| one(rp))
            .filter_map(|d| join_inside(&d, rest))
            .collect(),
        None => one(name).into_iter().collect(),
    }
}

/// Fills `item.edit` for every bundled image whose references would leave the bundle.
fn plan_edits(
    graph: &Graph,
    dests: &BTreeMap<NodeIndex, Vec<String>>,
    exe_dest: &str,
    arch: &str,
    thin: Option<&str>,
    plan: &mut Plan,
) {
    for (&ix, copies) in dests {
        let img = &graph.g[ix];
        let is_exe = img.slice(arch).is_some_and(|s| s.filetype == MH_EXECUTE);
        for dest in copies {
            // `@executable_path` of an executable is its own directory.
            let exe_dest = if is_exe { dest.as_str() } else { exe_dest };
            let mut edits = shenzi_macho::EditSet::default();
            // The union over slices: every slice gets the same edits.
            let mut rpaths: Vec<String> = Vec::new();
            for s in &img.info.slices {
                for r in &s.rpaths {
                    if !rpaths.contains(r) {
                        rpaths.push(r.clone());
                    }
                }
            }
            let mut kept: Vec<String> = Vec::new();
            for r in &rpaths {
                let count = img
                    .info
                    .slices
                    .iter()
                    .map(|s| s.rpaths.iter().filter(|x| *x == r).count())
                    .max()
                    .unwrap_or(0);
                let inside = lands(&format!("{r}/x"), dest, exe_dest, &[]).len() == 1
                    || lands("@rpath/x", dest, exe_dest, std::slice::from_ref(r)).len() == 1;
                if !inside {
                    edits
                        .rpath
                        .push(shenzi_macho::RpathOp::Delete(r.as_bytes().to_vec()));
                } else {
                    if count > 1 {
                        edits
                            .rpath
                            .push(shenzi_macho::RpathOp::Delete(r.as_bytes().to_vec()));
                        edits
                            .rpath
                            .push(shenzi_macho::RpathOp::Add(r.as_bytes().to_vec()));
                    }
                    kept.push(r.clone());
                }
            }
            let mut changed: BTreeMap<String, String> = BTreeMap::new();
            for e in graph.g.edges(ix) {
                let dep = e.weight();
                let Some(target) = dests.get(&e.target()).and_then(|d| {
                    d.iter()
                        .find(|p| file_name(p) == dep.name.rsplit('/').next().unwrap_or(""))
                        .or(d.first())
                }) else {
                    continue;
                };
                if lands(&dep.name, dest, exe_dest, &kept).first() == Some(target) {
                    continue;
                }
                let new = match relative(parent(dest), target).as_str() {
                    "." => format!("@loader_path/{}", file_name(target)),
                    r => format!("@loader_path/{r}"),
                };
                if dep.kind == DepKind::Weak || dep.name != new {
                    changed.insert(dep.name.clone(), new);
                }
            }
            edits.change = changed
                .into_iter()
                .map(|(a, b)| (a.into_bytes(), b.into_bytes()))
                .collect();
            let id = img
                .slice(arch)
                .or(img.info.slices.first())
                .and_then(|s| s.install_name.clone());
            if let Some(id) = id {
                if id.starts_with('/') {
                    edits.id = Some(format!("@rpath/{}", file_name(dest)).into_bytes());
                }
            }
            let thin = thin.filter(|_| img.info.fat).map(String::from);
            if edits.is_empty() && thin.is_none() {
                continue;
            }
            if let Some(item) = plan.items.get_mut(dest) {
                item.edit = Some(Edit::MachO { edits, thin });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_land_by_dyld_rules_inside_the_bundle() {
        let exe = "python/Resources/Python.app/Contents/MacOS/Python";
        let so = "python/lib/python3.11/site-packages/numpy/core/_m.so";
        assert_eq!(
            lands("@loader_path/../.dylibs/libopenblas.dylib", so, exe, &[]),
            ["python/lib/python3.11/site-packages/numpy/.dylibs/libopenblas.dylib"]
        );
        assert_eq!(
            lands(
                "@rpath/libz.dylib",
                "lib/libpng.dylib",
                exe,
                &["@loader_path".into(), "/usr/local/lib".into()]
            ),
            ["lib/libz.dylib"]
        );
        assert_eq!(
            lands("@executable_path/../../../../Python", exe, exe, &[]),
            ["python/Python"]
        );
        assert!(lands("/usr/local/lib/libz.dylib", so, exe, &[]).is_empty());
        assert!(lands("@loader_path/../../../../../../../x", so, exe, &[]).is_empty());
        assert_eq!(hashed_name("libssl.3.dylib", "ab12"), "libssl-ab12.3.dylib");
    }
}
