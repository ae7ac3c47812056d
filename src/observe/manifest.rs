//! The observation manifest: what one run of a Python application loaded.
//!
//! Format `shenzi-observation`, version 2 (JSON, all paths absolute, lists sorted):
//!
//! ```text
//! {
//!   "format": "shenzi-observation", "version": 2,
//!   "platform": "linux" | "macos",    // of the observed machine
//!   "machine": "x86_64" | "arm64" | …,  // platform.machine() there
//!   "entry": {"kind": "script", "script": "/abs/app.py", "module": null, "args": [...]},
//!   "cwd": "/dir/the/run/started/in",
//!   "exit_code": 0,
//!   "python": {                       // of the main process
//!     "executable", "real_executable", "version": "3.11.7", "abiflags",
//!     "prefix", "base_prefix", "exec_prefix", "base_exec_prefix", "platlibdir",
//!     "path": [sys.path], "stdlib", "platstdlib", "purelib", "platlib",
//!     "site_packages": [...], "user_site", "ext_suffix", "ldlibrary", "libdir"
//!   },
//!   "macos": null | {                 // macOS only
//!     "version": "14.5",              // platform.mac_ver()
//!     "framework": "Python" | null,   // sys._framework (framework builds)
//!     "framework_prefix": "/Library/Frameworks" | null,  // sysconfig PYTHONFRAMEWORKPREFIX
//!     "main_image": "/…/Python.app/Contents/MacOS/Python",  // dyld image 0: the process
//!     "interpreter_archs": ["arm64", "x86_64"]  // slices of that image (fat: several)
//!   },
//!   "env": {"LD_LIBRARY_PATH" | "DYLD_LIBRARY_PATH" | "DYLD_FALLBACK_LIBRARY_PATH" | …: …},
//!   "modules": {"name": "/file" | null},             // union over all processes
//!   "shared_objects": ["/every/loaded/image", ...],  // Linux: /proc/<pid>/maps; macOS: the
//!                                                    // dyld image list (real paths)
//!   "dlopen": [{"name": "libfoo.so", "path": "/resolved/libfoo.so" | null, "via": "ctypes"|"cffi"}],
//!   "processes": [{"pid", "ppid", "argv", "main": bool}]   // same interpreter only
//! }
//! ```
//! Version 1 is version 2 without `platform` (read as `linux`), `machine` and `macos`; readers
//! accept both and refuse other formats and newer versions.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

pub const FORMAT: &str = "shenzi-observation";
pub const VERSION: u32 = 2;

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

/// The platform the observed run happened on.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    #[default]
    Linux,
    Macos,
}

/// macOS facts of the observed interpreter.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq)]
pub struct MacFacts {
    /// `platform.mac_ver()[0]`.
    #[serde(default)]
    pub version: String,
    /// `sys._framework` (the framework's name in framework builds).
    pub framework: Option<String>,
    /// `sysconfig.get_config_var("PYTHONFRAMEWORKPREFIX")`.
    pub framework_prefix: Option<String>,
    /// The process's own image (dyld image 0): in framework builds the interpreter inside
    /// `Resources/Python.app`, not the `bin/` stub that started it.
    pub main_image: Option<String>,
    /// Architectures of that image (several for a fat one).
    #[serde(default)]
    pub interpreter_archs: Vec<String>,
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
    #[serde(default)]
    pub platform: Platform,
    #[serde(default)]
    pub machine: Option<String>,
    pub entry: Entry,
    pub cwd: String,
    pub exit_code: Option<i32>,
    pub python: Python,
    #[serde(default)]
    pub macos: Option<MacFacts>,
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
    #[serde(default)]
    pub platform: Platform,
    #[serde(default)]
    pub machine: Option<String>,
    pub python: Python,
    #[serde(default)]
    pub macos: Option<MacFacts>,
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
            platform: main.platform,
            machine: main.machine.clone(),
            entry,
            cwd: main.cwd.clone(),
            exit_code,
            python: main.python.clone(),
            macos: main.macos.clone(),
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
                "{}: manifest version {version} is not supported (this shenzi reads versions 1 to {VERSION})",
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

    /// Maps every absolute path the manifest holds through `f` (for `--root`: to where the
    /// recorded files are on this machine). Relative paths and non-path values stay.
    pub fn map_paths(&mut self, f: &dyn Fn(&str) -> String) {
        let one = |p: &mut String| {
            if p.starts_with('/') {
                *p = f(p);
            }
        };
        let opt = |p: &mut Option<String>| {
            if let Some(p) = p {
                one(p);
            }
        };
        let list = |v: &str| -> String {
            v.split(':')
                .map(|e| {
                    if e.starts_with('/') {
                        f(e)
                    } else {
                        e.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(":")
        };
        opt(&mut self.entry.script);
        one(&mut self.cwd);
        let py = &mut self.python;
        for p in [
            &mut py.executable,
            &mut py.real_executable,
            &mut py.prefix,
            &mut py.base_prefix,
            &mut py.exec_prefix,
            &mut py.base_exec_prefix,
            &mut py.stdlib,
            &mut py.platstdlib,
            &mut py.purelib,
            &mut py.platlib,
        ] {
            one(p);
        }
        py.path.iter_mut().for_each(one);
        py.site_packages.iter_mut().for_each(one);
        opt(&mut py.user_site);
        opt(&mut py.libdir);
        if let Some(mac) = &mut self.macos {
            opt(&mut mac.main_image);
            opt(&mut mac.framework_prefix);
        }
        for (k, v) in self.env.iter_mut() {
            if k.ends_with("PATH") || k == "VIRTUAL_ENV" || k.starts_with("DYLD_") {
                *v = list(v);
            }
        }
        for m in self.modules.values_mut() {
            opt(m);
        }
        self.shared_objects = self
            .shared_objects
            .iter()
            .map(|p| if p.starts_with('/') { f(p) } else { p.clone() })
            .collect();
        for d in &mut self.dlopen {
            opt(&mut d.path);
        }
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
            platform: Platform::Linux,
            machine: None,
            python: Python {
                version: "3.11.7".into(),
                ..Default::default()
            },
            macos: None,
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
    fn version_1_reads_as_linux_and_paths_map() {
        let v1 = r#"{"format": "shenzi-observation", "version": 1,
            "entry": {"kind": "script", "script": "/w/app.py", "module": null},
            "cwd": "/w", "exit_code": 0,
            "python": {"executable": "/v/bin/python", "real_executable": "/p/bin/python3.11",
              "version": "3.11.7", "prefix": "/v", "base_prefix": "/p", "exec_prefix": "/v",
              "base_exec_prefix": "/p", "path": ["/w", "rel"], "stdlib": "/p/lib/python3.11",
              "platstdlib": "/p/lib/python3.11", "purelib": "/v/lib", "platlib": "/v/lib",
              "user_site": null, "ext_suffix": null, "ldlibrary": null, "libdir": null},
            "env": {"LD_LIBRARY_PATH": "/a:b", "HOME": "/h"},
            "modules": {"m": "/w/m.py", "sys": null}, "shared_objects": ["/x.so"]}"#;
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("m.json");
        std::fs::write(&f, v1).unwrap();
        let mut m = Manifest::load(&f).unwrap();
        assert_eq!(m.platform, Platform::Linux);
        assert!(m.macos.is_none());
        m.map_paths(&|p| format!("/root{p}"));
        assert_eq!(m.python.path, ["/root/w", "rel"]);
        assert_eq!(m.env["LD_LIBRARY_PATH"], "/root/a:b");
        assert_eq!(m.env["HOME"], "/h");
        assert_eq!(m.modules["m"].as_deref(), Some("/root/w/m.py"));
        assert!(m.shared_objects.contains("/root/x.so"));
    }

    #[test]
    fn merge_without_the_main_record_fails() {
        let err = Manifest::merge(entry(), 10, Some(0), vec![record(20, &[], &[])]).unwrap_err();
        assert!(err.to_string().contains("pid 10"));
    }
}
