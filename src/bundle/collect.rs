//! The Python side of the bundle: which files of the interpreter, its standard library, the
//! installed distributions and the application itself go in, and where.
//!
//! Layout of the output folder:
//! ```text
//! run.sh                       launcher
//! bin/NAME                     console scripts of bundled distributions
//! app/                         the script and the application's own modules (on sys.path)
//! python/bin/pythonX.Y         the interpreter; python/ is its prefix (stdlib found by landmark)
//! python/lib/pythonX.Y/        stdlib and lib-dynload, as under the original prefix
//! python/lib/pythonX.Y/site-packages/   used distributions, whole, with their .dist-info/.libs
//! python/lib/…                 other files of the original prefix (libpython, …)
//! lib/                         every other bundled shared library
//! shenzi-manifest.json         where each file came from and why it is there
//! ```
//! Distributions are copied whole (their top-level entries from RECORD) so package data,
//! `importlib.metadata` and `$ORIGIN`-relative references inside wheels keep working.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use super::plan::Item;
use crate::observe::Manifest;

/// Top-level names of the standard library directory that a bundle leaves out.
const STDLIB_SKIP: &[&str] = &[
    "site-packages",
    "dist-packages",
    "test",
    "idlelib",
    "turtledemo",
    "ensurepip",
    "lib2to3",
];

/// Where the original installation's pieces are, and where they go.
pub struct Places {
    pub base: PathBuf,
    pub stdlib: PathBuf,
    pub platstdlib: PathBuf,
    /// Site directories of the run (canonical), longest first.
    pub site_dirs: Vec<PathBuf>,
    /// Application roots: sys.path entries that are not stdlib or site directories.
    pub app_roots: Vec<PathBuf>,
    /// Bundle-relative site directory every distribution goes to.
    pub site_dest: String,
    pub exe_dest: String,
    pub short_version: String,
}

fn canon(p: &str) -> Option<PathBuf> {
    if p.is_empty() {
        return None;
    }
    super::rootfs::canonicalize(p).ok()
}

/// `a/b` relative path as a `/`-joined string.
pub fn rel_str(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

impl Places {
    pub fn new(m: &Manifest) -> Result<Places> {
        let py = &m.python;
        let base = canon(&py.base_prefix)
            .with_context(|| format!("the interpreter prefix {} is gone", py.base_prefix))?;
        let stdlib = canon(&py.stdlib)
            .with_context(|| format!("the standard library {} is gone", py.stdlib))?;
        let platstdlib = canon(&py.platstdlib).unwrap_or_else(|| stdlib.clone());
        let short = py.short_version();
        let mut site: BTreeSet<PathBuf> = BTreeSet::new();
        for s in py
            .site_packages
            .iter()
            .chain(py.user_site.iter())
            .chain([&py.purelib, &py.platlib])
        {
            if let Some(c) = canon(s) {
                site.insert(c);
            }
        }
        for p in &py.path {
            if p.ends_with("site-packages") || p.ends_with("dist-packages") {
                if let Some(c) = canon(p) {
                    site.insert(c);
                }
            }
        }
        let mut site_dirs: Vec<PathBuf> = site.into_iter().collect();
        site_dirs.sort_by_key(|p| std::cmp::Reverse(p.as_os_str().len()));
        let mut app_roots = Vec::new();
        for p in &py.path {
            let Some(c) = canon(if p.is_empty() { &m.cwd } else { p }) else {
                continue;
            };
            if !c.is_dir()
                || c.starts_with(&stdlib)
                || c.starts_with(&platstdlib)
                || site_dirs.iter().any(|s| c.starts_with(s))
                || app_roots.contains(&c)
            {
                continue;
            }
            app_roots.push(c);
        }
        app_roots.sort_by_key(|p: &PathBuf| std::cmp::Reverse(p.as_os_str().len()));

        let prefix = canon(&py.prefix).unwrap_or_else(|| base.clone());
        let site_rel = canon(&py.purelib)
            .and_then(|p| p.strip_prefix(&prefix).ok().map(rel_str))
            .unwrap_or_else(|| format!("lib/python{short}/site-packages"));
        let exe = canon(&py.real_executable)
            .with_context(|| format!("the interpreter {} is gone", py.real_executable))?;
        let exe_dest = match exe.strip_prefix(&base) {
            Ok(r) => format!("python/{}", rel_str(r)),
            Err(_) => format!(
                "python/bin/{}",
                exe.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            ),
        };
        Ok(Places {
            base,
            stdlib,
            platstdlib,
            site_dirs,
            app_roots,
            site_dest: format!("python/{site_rel}"),
            exe_dest,
            short_version: short,
        })
    }

    /// Where the standard library goes.
    pub fn stdlib_dest(&self) -> String {
        self.map(&self.stdlib)
            .filter(|d| d.starts_with("python/"))
            .unwrap_or_else(|| format!("python/lib/python{}", self.short_version))
    }

    /// Where a file of the original installation goes, if it belongs to a mapped tree.
    pub fn map(&self, src: &Path) -> Option<String> {
        for s in &self.site_dirs {
            if let Ok(r) = src.strip_prefix(s) {
                return Some(format!("{}/{}", self.site_dest, rel_str(r)));
            }
        }
        if let Ok(r) = src.strip_prefix(&self.base) {
            return Some(format!("python/{}", rel_str(r)));
        }
        for a in &self.app_roots {
            if let Ok(r) = src.strip_prefix(a) {
                return Some(format!("app/{}", rel_str(r)));
            }
        }
        None
    }
}

/// A distribution installed in a site directory.
#[derive(Debug, Clone)]
pub struct Dist {
    pub name: String,
    pub site: PathBuf,
    pub dist_info: String,
    /// Top-level entries of the site directory it installed (dirs or files).
    pub tops: BTreeSet<String>,
    /// Files under `__pycache__/` at top level (for top-level modules).
    pub top_files: BTreeSet<String>,
}

fn scan_site(site: &Path) -> Vec<Dist> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(site) else {
        return out;
    };
    let mut names: Vec<String> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".dist-info"))
        .collect();
    names.sort();
    for di in names {
        let record = std::fs::read_to_string(site.join(&di).join("RECORD")).unwrap_or_default();
        let name = di.split('-').next().unwrap_or(&di).to_string();
        let mut tops = BTreeSet::from([di.clone()]);
        let mut top_files = BTreeSet::new();
        for line in record.lines() {
            // path,hash,size — paths with commas are quoted (CSV); the first component suffices.
            let path = line.trim_start_matches('"');
            let first = path.split(['/', ',']).next().unwrap_or("");
            if first.is_empty() || first == ".." || first.starts_with('"') {
                continue;
            }
            if first == "__pycache__" {
                if let Some(p) = path.split(',').next() {
                    top_files.insert(p.trim_end_matches('"').to_string());
                }
                continue;
            }
            tops.insert(first.to_string());
        }
        out.push(Dist {
            name,
            site: site.to_path_buf(),
            dist_info: di,
            tops,
            top_files,
        });
    }
    out
}

/// Everything `collect` decided, for the later stages.
pub struct Collected {
    pub items: Vec<Item>,
    /// Bundle path of the entry script.
    pub entry_dest: Option<String>,
    pub dists: Vec<Dist>,
    pub warnings: Vec<String>,
}

fn walk_into(
    items: &mut Vec<Item>,
    root: &Path,
    dest: &str,
    group: &str,
    why: &str,
    skip_top: &[&str],
    imported: &BTreeSet<PathBuf>,
) -> Result<()> {
    if root.is_file() {
        items.push(Item::copy(root.to_path_buf(), dest.to_string(), group, why));
        return Ok(());
    }
    let walker = walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            let n = e.file_name().to_string_lossy();
            if e.depth() == 1
                && skip_top
                    .iter()
                    .any(|s| n == *s || (*s == "config-" && n.starts_with("config-")))
            {
                return false;
            }
            // Test suites shipped inside packages, unless the run imported from them.
            !(e.depth() >= 1
                && (n == "tests" || n == "test")
                && e.file_type().is_dir()
                && !imported.iter().any(|f| f.starts_with(e.path())))
        });
    for e in walker {
        let e = e.with_context(|| format!("cannot read {}", root.display()))?;
        if !e.file_type().is_file() || is_optimized_pyc(e.file_name()) {
            continue;
        }
        let r = e.path().strip_prefix(root).unwrap_or(e.path());
        items.push(Item::copy(
            e.path().to_path_buf(),
            format!("{dest}/{}", rel_str(r)),
            group,
            why,
        ));
    }
    Ok(())
}

/// `.opt-1.pyc` / `.opt-2.pyc`: only used under `python -O`, which the launcher never passes.
fn is_optimized_pyc(name: &std::ffi::OsStr) -> bool {
    let n = name.to_string_lossy();
    n.ends_with(".pyc") && n.contains(".opt-")
}

fn is_observer_file(f: &str) -> bool {
    f.contains("/shenzi-observe-") && f.ends_with("/hook/sitecustomize.py")
}

pub fn collect(m: &Manifest, places: &Places) -> Result<Collected> {
    let mut items = Vec::new();
    let mut warnings = Vec::new();
    let imported: BTreeSet<PathBuf> = m
        .modules
        .values()
        .flatten()
        .filter_map(|f| canon(f))
        .collect();
    let exe = canon(&m.python.real_executable)
        .with_context(|| format!("the interpreter {} is gone", m.python.real_executable))?;
    items.push(Item::copy(
        exe,
        places.exe_dest.clone(),
        "python",
        "interpreter",
    ));

    // Standard library (with lib-dynload), as under the original prefix.
    let stdlib_dest = places.stdlib_dest();
    let mut skip: Vec<&str> = STDLIB_SKIP.to_vec();
    skip.push("config-");
    walk_into(
        &mut items,
        &places.stdlib,
        &stdlib_dest,
        "stdlib",
        "standard library",
        &skip,
        &imported,
    )?;
    let dynload = places.platstdlib.join("lib-dynload");
    if places.platstdlib != places.stdlib && dynload.is_dir() {
        let dest = places
            .map(&dynload)
            .unwrap_or_else(|| format!("{stdlib_dest}/lib-dynload"));
        walk_into(
            &mut items,
            &dynload,
            &dest,
            "stdlib",
            "standard library extension",
            &[],
            &imported,
        )?;
    }

    // Distributions that own an imported module.
    let mut owners: HashMap<(PathBuf, String), usize> = HashMap::new();
    let mut all: Vec<Dist> = Vec::new();
    for s in &places.site_dirs {
        for d in scan_site(s) {
            for t in &d.tops {
                owners.entry((s.clone(), t.clone())).or_insert(all.len());
            }
            all.push(d);
        }
    }
    let mut used: BTreeSet<usize> = BTreeSet::new();
    let mut loose: BTreeSet<PathBuf> = BTreeSet::new();
    let mut app: BTreeSet<PathBuf> = BTreeSet::new();
    for (name, file) in &m.modules {
        let Some(file) = file else { continue };
        let raw = Path::new(file);
        if is_observer_file(file)
            || raw.starts_with(&places.stdlib)
                && !places.site_dirs.iter().any(|s| raw.starts_with(s))
        {
            // (The stdlib is copied whole, links followed: e.g. Debian's sitecustomize.py,
            // a link into /etc.)
            continue;
        }
        let Some(f) = canon(file) else {
            warnings.push(format!("module {name}: its file {file} is gone"));
            continue;
        };
        // Site directories first: a venv's platstdlib contains its site-packages.
        if let Some(s) = places.site_dirs.iter().find(|s| f.starts_with(s)) {
            let r = f.strip_prefix(s).unwrap_or(&f);
            let top = r
                .components()
                .next()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .unwrap_or_default();
            match owners.get(&(s.clone(), top.clone())) {
                Some(&i) => {
                    used.insert(i);
                }
                None => {
                    loose.insert(s.join(&top));
                }
            }
            continue;
        }
        if f.starts_with(&places.stdlib) || f.starts_with(&places.platstdlib) {
            continue;
        }
        if let Some(root) = places.app_roots.iter().find(|a| f.starts_with(a)) {
            let r = f.strip_prefix(root).unwrap_or(&f);
            if let Some(top) = r.components().next() {
                app.insert(root.join(top));
            }
            continue;
        }
        if f.starts_with(&places.base) {
            continue;
        }
        warnings.push(format!(
            "module {name} ({file}) is outside sys.path; it is not bundled"
        ));
    }
    let mut dists = Vec::new();
    for i in used {
        let d = all[i].clone();
        for t in &d.tops {
            let src = d.site.join(t);
            if !src.exists() {
                continue;
            }
            walk_into(
                &mut items,
                &src,
                &format!("{}/{t}", places.site_dest),
                &d.name,
                "distribution",
                &[],
                &imported,
            )?;
        }
        for f in &d.top_files {
            let src = d.site.join(f);
            if src.is_file() {
                items.push(Item::copy(
                    src,
                    format!("{}/{f}", places.site_dest),
                    &d.name,
                    "distribution",
                ));
            }
        }
        dists.push(d);
    }
    for l in loose {
        let dest = places.map(&l).unwrap_or_default();
        walk_into(
            &mut items,
            &l,
            &dest,
            "site-packages",
            "imported module without a distribution",
            &[],
            &imported,
        )?;
    }
    for a in app {
        let dest = places.map(&a).unwrap_or_default();
        walk_into(
            &mut items,
            &a,
            &dest,
            "app",
            "application module",
            &[],
            &imported,
        )?;
    }
    let mut entry_dest = None;
    if let Some(script) = &m.entry.script {
        let src = canon(script).with_context(|| format!("the entry script {script} is gone"))?;
        let dest = places.map(&src).unwrap_or_else(|| {
            format!(
                "app/{}",
                src.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            )
        });
        if !dest.starts_with("app/") {
            bail!("the entry script {script} lies inside the Python installation; use -m");
        }
        items.retain(|i| i.dest != dest);
        items.push(Item::copy(src, dest.clone(), "app", "entry point"));
        entry_dest = Some(dest);
    }
    // A .pth file keeps app/ importable for every process of the bundle.
    let depth = places.site_dest.split('/').count();
    items.push(Item::generated(
        format!("{}/shenzi-app.pth", places.site_dest),
        format!("{}app\n", "../".repeat(depth)).into_bytes(),
        false,
        "app",
        "puts app/ on sys.path",
    ));
    // Tk needs a display and X libraries: left out unless the run used it.
    if !m.modules.contains_key("_tkinter") {
        items.retain(|i| {
            let name = i.dest.rsplit('/').next().unwrap_or("");
            !name.starts_with("_tkinter.") && !i.dest.contains("/tkinter/")
        });
    }
    Ok(Collected {
        items,
        entry_dest,
        dists,
        warnings,
    })
}

/// Entry-point commands (`[console_scripts]` and `[gui_scripts]` of entry_points.txt) of the
/// bundled distributions: name → (module, attribute, distribution).
pub fn console_scripts(dists: &[Dist]) -> BTreeMap<String, (String, String, String)> {
    let mut out = BTreeMap::new();
    for d in dists {
        let text = std::fs::read_to_string(d.site.join(&d.dist_info).join("entry_points.txt"))
            .unwrap_or_default();
        let mut in_section = false;
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('[') {
                in_section = line == "[console_scripts]" || line == "[gui_scripts]";
                continue;
            }
            if !in_section || line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((name, target)) = line.split_once('=') else {
                continue;
            };
            let target = target.split('[').next().unwrap_or("").trim();
            let Some((module, attr)) = target.split_once(':') else {
                continue;
            };
            out.insert(
                name.trim().to_string(),
                (
                    module.trim().to_string(),
                    attr.trim().to_string(),
                    d.name.clone(),
                ),
            );
        }
    }
    out
}

/// A plain script a distribution installed (a file of its wheel's `.data/scripts`, listed in
/// RECORD as a path into the environment's `bin/`).
pub struct Script {
    pub name: String,
    pub source: PathBuf,
    pub dist: String,
    /// Its first line names a Python interpreter (`#!python`, rewritten by the installer).
    pub python: bool,
}

/// The plain scripts of the bundled distributions, other than entry-point commands (which are
/// written anew).
pub fn plain_scripts(dists: &[Dist]) -> Vec<Script> {
    let commands = console_scripts(dists);
    let mut out: BTreeMap<String, Script> = BTreeMap::new();
    for d in dists {
        let record =
            std::fs::read_to_string(d.site.join(&d.dist_info).join("RECORD")).unwrap_or_default();
        for line in record.lines() {
            // Paths are the first CSV field; the installer quotes them only when they hold a
            // comma, which no script name of interest does.
            let rel = line.split(',').next().unwrap_or("").trim();
            if !rel.starts_with("../") {
                continue;
            }
            let path = lexical(&d.site.join(rel));
            let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
                continue;
            };
            let in_bin = path
                .parent()
                .and_then(|p| p.file_name())
                .is_some_and(|n| n == "bin");
            if !in_bin || commands.contains_key(&name) || out.contains_key(&name) {
                continue;
            }
            if !path.symlink_metadata().is_ok_and(|m| m.is_file()) {
                continue;
            }
            let python = first_line(&path).is_some_and(|l| {
                l.starts_with(b"#!") && String::from_utf8_lossy(&l).contains("python")
            });
            out.insert(
                name.clone(),
                Script {
                    name,
                    source: path,
                    dist: d.name.clone(),
                    python,
                },
            );
        }
    }
    out.into_values().collect()
}

/// `a/b/../c` → `a/c`, without touching the file system.
fn lexical(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

fn first_line(p: &Path) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut head = [0u8; 256];
    let n = std::fs::File::open(p).ok()?.read(&mut head).ok()?;
    let line = head[..n].split(|&b| b == b'\n').next()?;
    Some(line.to_vec())
}

/// Whether a file name looks like a shared object worth parsing.
pub fn looks_shared(path: &Path) -> bool {
    let n = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    n.ends_with(".so") || n.contains(".so.")
}
