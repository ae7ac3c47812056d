//! The observation manifest: what one run of a Python application loaded.
//!
//! Format `shenzi-observation`, version 1 (JSON, all paths absolute, lists sorted):
//!
//! ```text
//! {
//!   "format": "shenzi-observation", "version": 1,
//!   "entry": {"kind": "script", "script": "/abs/app.py", "module": null, "args": [...]},
//!   "cwd": "/dir/the/run/started/in",
//!   "exit_code": 0,
//!   "python": {                       // of the main process
//!     "executable", "real_executable", "version": "3.11.7", "abiflags",
//!     "prefix", "base_prefix", "exec_prefix", "base_exec_prefix", "platlibdir",
//!     "path": [sys.path], "stdlib", "platstdlib", "purelib", "platlib",
//!     "site_packages": [...], "user_site", "ext_suffix", "ldlibrary", "libdir"
//!   },
//!   "env": {"LD_LIBRARY_PATH": ..., "PYTHONPATH": ..., "VIRTUAL_ENV": ..., ...},
//!   "modules": {"name": "/file" | null},             // union over all processes
//!   "shared_objects": ["/every/file/mapped.so", ...],// union of /proc/<pid>/maps
//!   "dlopen": [{"name": "libfoo.so", "path": "/resolved/libfoo.so" | null, "via": "ctypes"|"cffi"}],
//!   "processes": [{"pid", "ppid", "argv", "main": bool}]   // same interpreter only
//! }
//! ```
//! Readers refuse other formats and newer versions.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

pub const FORMAT: &str = "shenzi-observation";
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Entry {
    /// `script` or `module`.
    pub kind: String,
    pub script: Option<String>,
    pub module: Option<String>,
    #[serde(default)]
    pub args: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Python {
    pub executable: String,
    pub real_executable: String,
    pub version: String,
    #[serde(default)]
    pub abiflags: String,
    pub prefix: String,
    pub base_prefix: String,
    pub exec_prefix: String,
    pub base_exec_prefix: String,
    #[serde(default = "default_platlibdir")]
    pub platlibdir: String,
    pub path: Vec<String>,
    pub stdlib: String,
    pub platstdlib: String,
    pub purelib: String,
    pub platlib: String,
    #[serde(default)]
    pub site_packages: Vec<String>,
    pub user_site: Option<String>,
    pub ext_suffix: Option<String>,
    pub ldlibrary: Option<String>,
    pub libdir: Option<String>,
}

fn default_platlibdir() -> String {
    "lib".into()
}

impl Python {
    /// `3.11` from `3.11.7`.
    pub fn short_version(&self) -> String {
        self.version
            .split('.')
            .take(2)
            .collect::<Vec<_>>()
            .join(".")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dlopen {
    pub name: String,
    pub path: Option<String>,
    pub via: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Process {
    pub pid: u32,
    pub ppid: u32,
    pub argv: Vec<String>,
    pub main: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    pub entry: Entry,
    pub cwd: String,
    pub exit_code: Option<i32>,
    pub python: Python,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    pub modules: BTreeMap<String, Option<String>>,
    pub shared_objects: BTreeSet<String>,
    #[serde(default)]
    pub dlopen: Vec<Dlopen>,
    #[serde(default)]
    pub processes: Vec<Process>,
}

/// What one process's observer wrote (`<pid>.json`).
#[derive(Debug, Deserialize)]
pub struct Record {
    pub pid: u32,
    pub ppid: u32,
    pub argv: Vec<String>,
    pub cwd: String,
    pub python: Python,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    pub modules: BTreeMap<String, Option<String>>,
    pub shared_objects: Vec<String>,
    #[serde(default)]
    pub dlopen: Vec<Dlopen>,
}

impl Manifest {
    /// Merges per-process records; `main_pid` is the process `shenzi observe` started.
    pub fn merge(
        entry: Entry,
        main_pid: u32,
        exit_code: Option<i32>,
        mut records: Vec<Record>,
    ) -> Result<Manifest> {
        records.sort_by_key(|r| (r.pid != main_pid, r.pid));
        let Some(main) = records.first().filter(|r| r.pid == main_pid) else {
            bail!(
                "the observed process (pid {main_pid}) left no record: did it end through \
                 os._exit or a signal, or run with -I/-S?"
            );
        };
        let mut m = Manifest {
            format: FORMAT.into(),
            version: VERSION,
            entry,
            cwd: main.cwd.clone(),
            exit_code,
            python: main.python.clone(),
            env: main.env.clone(),
            modules: BTreeMap::new(),
            shared_objects: BTreeSet::new(),
            dlopen: Vec::new(),
            processes: Vec::new(),
        };
        let interpreter = main.python.real_executable.clone();
        for r in records {
            // A child running another interpreter (say, `python3.12` started by the app) is not
            // part of what this interpreter's bundle can run.
            if r.python.real_executable != interpreter {
                continue;
            }
            for (k, v) in r.modules {
                let slot = m.modules.entry(k).or_insert(None);
                if slot.is_none() {
                    *slot = v;
                }
            }
            m.shared_objects.extend(r.shared_objects);
            m.dlopen.extend(r.dlopen);
            m.processes.push(Process {
                pid: r.pid,
                ppid: r.ppid,
                argv: r.argv,
                main: r.pid == main_pid,
            });
        }
        m.dlopen.sort();
        m.dlopen.dedup();
        Ok(m)
    }

    pub fn load(path: &Path) -> Result<Manifest> {
        let text = std::fs::read(path)
            .with_context(|| format!("cannot read manifest {}", path.display()))?;
        let probe: serde_json::Value = serde_json::from_slice(&text)
            .with_context(|| format!("{} is not valid JSON", path.display()))?;
        let format = probe.get("format").and_then(|v| v.as_str());
        if format != Some(FORMAT) {
            bail!(
                "{} is not a shenzi observation manifest (format {:?}, expected {FORMAT:?})",
                path.display(),
                format.unwrap_or("missing")
            );
        }
        let version = probe.get("version").and_then(|v| v.as_u64()).unwrap_or(0);
        if version == 0 || version > VERSION as u64 {
            bail!(
                "{}: manifest version {version} is not supported (this shenzi reads version {VERSION})",
                path.display()
            );
        }
        serde_json::from_value(probe).with_context(|| {
            format!(
                "{}: manifest does not match format version {VERSION}",
                path.display()
            )
        })
    }

    pub fn to_json(&self) -> Result<String> {
        Ok(serde_json::to_string_pretty(self)? + "\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(pid: u32, modules: &[(&str, Option<&str>)], so: &[&str]) -> Record {
        Record {
            pid,
            ppid: 1,
            argv: vec![],
            cwd: "/w".into(),
            python: Python {
                version: "3.11.7".into(),
                ..Default::default()
            },
            env: BTreeMap::new(),
            modules: modules
                .iter()
                .map(|(k, v)| (k.to_string(), v.map(String::from)))
                .collect(),
            shared_objects: so.iter().map(|s| s.to_string()).collect(),
            dlopen: vec![],
        }
    }

    fn entry() -> Entry {
        Entry {
            kind: "script".into(),
            script: Some("/w/app.py".into()),
            module: None,
            args: vec![],
        }
    }

    #[test]
    fn merge_unions_processes_main_first() {
        let recs = vec![
            record(20, &[("numpy", Some("/s/numpy/__init__.py"))], &["/s/b.so"]),
            record(10, &[("json", None), ("numpy", None)], &["/s/a.so"]),
        ];
        let m = Manifest::merge(entry(), 10, Some(0), recs).unwrap();
        assert_eq!(m.processes[0].pid, 10);
        assert!(m.processes[0].main && !m.processes[1].main);
        assert_eq!(m.modules["numpy"].as_deref(), Some("/s/numpy/__init__.py"));
        assert_eq!(m.shared_objects.len(), 2);
        assert_eq!(m.python.short_version(), "3.11");
        let back: Manifest = serde_json::from_str(&m.to_json().unwrap()).unwrap();
        assert_eq!(back.modules, m.modules);
    }

    #[test]
    fn merge_without_the_main_record_fails() {
        let err = Manifest::merge(entry(), 10, Some(0), vec![record(20, &[], &[])]).unwrap_err();
        assert!(err.to_string().contains("pid 10"));
    }
}
