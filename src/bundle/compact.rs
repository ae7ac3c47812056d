//! `--compact`: the pure-Python parts of a bundle as zip archives CPython imports natively.
//!
//! - The standard library goes into the `pythonXY.zip` that the interpreter already puts on
//!   `sys.path` (the entry the observed run's `sys.path` names), except `os.py`, the landmark
//!   by which the interpreter finds its prefix, `lib-dynload`, `site-packages` and
//!   `config-*`.
//! - Each bundled distribution whose top-level entries are only `.py` files (packages with an
//!   `__init__.py`) goes into `<site-packages>/shenzi-compact.zip`, added to `sys.path` by
//!   `00-shenzi-compact.pth` (sorted before the distributions' own `.pth` files, which may
//!   import from it). Its `.dist-info` stays a directory, so importlib.metadata, entry points
//!   and licence files work as before.
//!
//! Left out of every distribution not named with `--compact-keep`: files only builds and type
//! checkers read (type stubs, Cython sources and declarations, C and C++ headers, Windows
//! launchers).
//!
//! Left as files, whole: anything with a file that is not Python source, byte-code or a type
//! stub (package data a program may open through `__file__`, extension modules), namespace
//! packages,
//! distributions that install `.pth` files (they run at start-up, often before a zip could be
//! on the path), and distributions named with `--compact-keep`. Sources stay beside their
//! byte-code in the archive, so tracebacks show source lines; byte-code is the installation's
//! own `__pycache__` (unchecked hash-based in the archive, see [`super::pyc`]), and a module
//! without fresh byte-code is compiled at each import.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::collect::{Dist, Places};
use super::plan::{Item, Member, Plan, Source};
use crate::observe::Manifest;

/// What compaction did, for the summary and the report.
#[derive(Debug, Default)]
pub struct Summary {
    /// Archive path → number of modules in it.
    pub archives: BTreeMap<String, usize>,
    /// Modules stored without byte-code (compiled at each import).
    pub without_byte_code: usize,
    /// Distributions left as files, with why.
    pub kept: Vec<(String, String)>,
    /// Files left out because only builds and type checkers read them.
    pub build_only: usize,
}

/// Whether a distribution's file is read only when building against it or checking types:
/// type stubs, Cython sources and declarations, C and C++ headers, Windows launchers.
fn build_only(dest: &str) -> bool {
    const EXTENSIONS: [&str; 8] = [".pyi", ".pyx", ".pxd", ".pxi", ".h", ".hpp", ".hh", ".exe"];
    EXTENSIONS.iter().any(|e| dest.ends_with(e))
}

/// Normalised distribution name (PEP 503).
fn normalise(name: &str) -> String {
    name.to_lowercase().replace(['_', '.'], "-")
}

/// The items under `dir/` grouped by the top-level module they belong to: `name.py` and its
/// `__pycache__/name.*.pyc` together, a package directory with everything below it.
fn by_top<'a>(plan: &'a Plan, dir: &str) -> BTreeMap<String, Vec<&'a Item>> {
    let prefix = format!("{dir}/");
    let mut out: BTreeMap<String, Vec<&Item>> = BTreeMap::new();
    for (dest, it) in plan.items.range(prefix.clone()..) {
        let Some(rest) = dest.strip_prefix(&prefix) else {
            break;
        };
        let (first, tail) = rest.split_once('/').unwrap_or((rest, ""));
        let key = if first == "__pycache__" {
            let stem = tail.split('.').next().unwrap_or(tail);
            format!("{stem}.py")
        } else {
            first.to_string()
        };
        out.entry(key).or_default().push(it);
    }
    out
}

/// The archive members for one top-level module, or why it stays as files.
fn members(dir: &str, key: &str, items: &[&Item], tag: &str) -> Result<Vec<Member>, String> {
    let is_package = items
        .iter()
        .any(|i| i.dest.starts_with(&format!("{dir}/{key}/")));
    if !is_package && !key.ends_with(".py") {
        return Err(format!("{dir}/{key}: not Python source"));
    }
    if is_package
        && !items
            .iter()
            .any(|i| i.dest == format!("{dir}/{key}/__init__.py"))
    {
        return Err("a namespace package".into());
    }
    let mut out = Vec::new();
    for it in items {
        let Source::File(src) = &it.source else {
            return Err(format!("{}: not a plain file", it.dest));
        };
        if it.edit.is_some() {
            return Err(format!("{}: a patched binary", it.dest));
        }
        let rel = &it.dest[dir.len() + 1..];
        if rel.ends_with(".py") && !rel.contains("__pycache__/") {
            out.push(Member {
                name: rel.to_string(),
                source: src.clone(),
                byte_code_of: None,
            });
        } else if let Some((cache_dir, file)) = rel.rsplit_once("__pycache__/") {
            // `m.cpython-311.pyc` of this interpreter becomes `m.pyc`; other tags and
            // optimisation levels are dropped.
            let Some(stem) = file.strip_suffix(&format!(".{tag}.pyc")) else {
                continue;
            };
            if stem.contains('.') {
                continue;
            }
            let Some(py) = super::pyc::source_of(src) else {
                continue;
            };
            out.push(Member {
                name: format!("{cache_dir}{stem}.pyc"),
                source: src.clone(),
                byte_code_of: Some(py),
            });
        } else if rel.ends_with(".pyi") || rel.ends_with("/py.typed") {
            // Type stubs and markers: read by type checkers, never at run time.
            out.push(Member {
                name: rel.to_string(),
                source: src.clone(),
                byte_code_of: None,
            });
        } else {
            return Err(format!("{}: not Python source", it.dest));
        }
    }
    Ok(out)
}

/// Where the interpreter looks for its standard-library zip: the `pythonXY.zip` entry of the
/// observed `sys.path`, mapped into the bundle.
fn stdlib_zip(m: &Manifest, places: &Places) -> Option<String> {
    let want = format!("python{}.zip", places.short_version.replace('.', ""));
    let entry = m.python.path.iter().find(|p| p.ends_with(&want))?;
    let entry = PathBuf::from(entry);
    let dir = super::rootfs::canonicalize(entry.parent()?).ok()?;
    places
        .map(&dir.join(&want))
        .filter(|d| d.starts_with("python/"))
}

fn add_archive(plan: &mut Plan, dest: &str, members: Vec<Member>, group: &str, why: &str) {
    plan.items.insert(
        dest.to_string(),
        Item {
            dest: dest.to_string(),
            source: Source::Zip(members),
            group: group.into(),
            why: why.into(),
            edit: None,
        },
    );
}

/// Moves what can be imported from a zip archive into archives (see the module doc).
pub fn compact(
    plan: &mut Plan,
    places: &Places,
    m: &Manifest,
    dists: &[Dist],
    keep: &[String],
) -> Summary {
    let mut summary = Summary::default();
    let tag = format!("cpython-{}", places.short_version.replace('.', ""));

    // The standard library.
    let stdlib = places.stdlib_dest();
    if let Some(zip) = stdlib_zip(m, places) {
        let mut chosen: Vec<Member> = Vec::new();
        let mut moved: Vec<String> = Vec::new();
        let mut modules = 0;
        for (key, items) in by_top(plan, &stdlib) {
            let fixed = key == "os.py"
                || key == "lib-dynload"
                || key == "site-packages"
                || key == "dist-packages"
                || key.starts_with("config-");
            if fixed {
                continue;
            }
            if let Ok(ms) = members(&stdlib, &key, &items, &tag) {
                modules += 1;
                moved.extend(items.iter().map(|i| i.dest.clone()));
                chosen.extend(ms);
            }
        }
        if !chosen.is_empty() {
            for d in &moved {
                plan.items.remove(d);
            }
            summary.without_byte_code += without_byte_code(&chosen);
            summary.archives.insert(zip.clone(), modules);
            add_archive(plan, &zip, chosen, "stdlib", "standard library (--compact)");
        }
    }

    // Files of distributions that nothing reads at run time.
    let site = &places.site_dest;
    let keep: BTreeSet<String> = keep.iter().map(|k| normalise(k)).collect();
    let tops = by_top(plan, site);
    let mut dropped: Vec<String> = Vec::new();
    for d in dists.iter().filter(|d| !keep.contains(&normalise(&d.name))) {
        for t in d.tops.iter().filter(|t| **t != d.dist_info) {
            let items = tops.get(t.as_str()).map(Vec::as_slice).unwrap_or_default();
            dropped.extend(
                items
                    .iter()
                    .filter(|i| build_only(&i.dest))
                    .map(|i| i.dest.clone()),
            );
        }
    }
    if !dropped.is_empty() {
        for d in &dropped {
            plan.items.remove(d);
        }
        summary.build_only = dropped.len();
    }

    // Pure-Python distributions.
    let tops = by_top(plan, site);
    let mut chosen: Vec<Member> = Vec::new();
    let mut moved: Vec<String> = Vec::new();
    let mut modules = 0;
    for d in dists {
        if keep.contains(&normalise(&d.name)) {
            summary.kept.push((d.name.clone(), "--compact-keep".into()));
            continue;
        }
        if d.tops.iter().any(|t| t.ends_with(".pth")) {
            summary
                .kept
                .push((d.name.clone(), "installs a .pth file".into()));
            continue;
        }
        let mut ms = Vec::new();
        let mut dests = Vec::new();
        let mut why = None;
        for t in d.tops.iter().filter(|t| **t != d.dist_info) {
            // Only what the bundle carries (an unused top-level entry may have been left out).
            let Some(items) = tops.get(t.as_str()) else {
                continue;
            };
            if t.ends_with(".dist-info") || t.ends_with(".data") || t == "__pycache__" {
                continue;
            }
            match members(site, t, items, &tag) {
                Ok(m) => {
                    ms.extend(m);
                    dests.extend(items.iter().map(|i| i.dest.clone()));
                }
                Err(e) => {
                    why = Some(e);
                    break;
                }
            }
        }
        match why {
            Some(e) => summary.kept.push((d.name.clone(), e)),
            None if !ms.is_empty() => {
                modules += 1;
                chosen.extend(ms);
                moved.extend(dests);
            }
            None => {}
        }
    }
    if !chosen.is_empty() {
        for d in &moved {
            plan.items.remove(d);
        }
        summary.without_byte_code += without_byte_code(&chosen);
        let zip = format!("{site}/shenzi-compact.zip");
        summary.archives.insert(zip.clone(), modules);
        add_archive(
            plan,
            &zip,
            chosen,
            "site-packages",
            "pure-Python distributions (--compact)",
        );
        plan.items.insert(
            format!("{site}/00-shenzi-compact.pth"),
            Item::generated(
                format!("{site}/00-shenzi-compact.pth"),
                b"shenzi-compact.zip\n".to_vec(),
                false,
                "site-packages",
                "puts shenzi-compact.zip on sys.path",
            ),
        );
    }
    summary
}

/// Source members with no byte-code member beside them.
fn without_byte_code(members: &[Member]) -> usize {
    let compiled: BTreeSet<&str> = members
        .iter()
        .filter(|m| m.byte_code_of.is_some())
        .filter_map(|m| m.name.strip_suffix(".pyc"))
        .collect();
    members
        .iter()
        .filter(|m| m.byte_code_of.is_none())
        .filter_map(|m| m.name.strip_suffix(".py"))
        .filter(|n| !compiled.contains(n))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(dest: &str) -> Item {
        Item::copy(PathBuf::from(format!("/src/{dest}")), dest.into(), "g", "w")
    }

    #[test]
    fn grouping_and_qualifying() {
        let mut plan = Plan::default();
        for d in [
            "s/json/__init__.py",
            "s/json/__pycache__/__init__.cpython-311.pyc",
            "s/json/__pycache__/__init__.cpython-311.opt-1.pyc",
            "s/abc.py",
            "s/__pycache__/abc.cpython-311.pyc",
            "s/venv/__init__.py",
            "s/venv/scripts/activate",
            "s/nspkg/mod.py",
        ] {
            plan.add(file(d));
        }
        let groups = by_top(&plan, "s");
        assert_eq!(
            groups.keys().collect::<Vec<_>>(),
            ["abc.py", "json", "nspkg", "venv"]
        );
        let names = |k: &str| -> Result<Vec<String>, String> {
            members("s", k, &groups[k], "cpython-311")
                .map(|v| v.into_iter().map(|m| m.name).collect())
        };
        assert_eq!(
            names("json").unwrap(),
            ["json/__init__.py", "json/__init__.pyc"]
        );
        assert_eq!(names("abc.py").unwrap(), ["abc.pyc", "abc.py"]);
        assert!(names("venv").unwrap_err().contains("not Python source"));
        assert!(names("nspkg").unwrap_err().contains("namespace"));
    }
}
