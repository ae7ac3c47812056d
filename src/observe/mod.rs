//! `shenzi observe`: run a Python application once and record what it loaded.
//!
//! The observer (`observer.py`, shipped inside this binary) is installed as `sitecustomize` in a
//! private directory put first on PYTHONPATH, so the user changes no code and Python children
//! (multiprocessing spawn, `subprocess` of `sys.executable`) are observed too. Each process
//! writes one record at exit; they are merged into a [`Manifest`] (format in `manifest.rs`).

pub mod manifest;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{bail, Context, Result};

pub use manifest::Manifest;
use manifest::{Entry, Record};

const OBSERVER: &str = include_str!("observer.py");

/// What to run: the interpreter, the entry point and its arguments.
#[derive(clap::Args, Clone, Debug)]
pub struct Target {
    /// Interpreter to run the application with [default: $VIRTUAL_ENV/bin/python, else python3].
    #[arg(long, value_name = "PY")]
    pub python: Option<PathBuf>,
    /// Run a library module as a script, like `python -m MODULE`.
    #[arg(short = 'm', value_name = "MODULE", conflicts_with = "script")]
    pub module: Option<String>,
    /// The script to run.
    #[arg(value_name = "SCRIPT")]
    pub script: Option<PathBuf>,
    /// Arguments for the application (after `--`).
    #[arg(last = true, value_name = "ARGS")]
    pub args: Vec<String>,
}

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub target: Target,
    /// Where to write the manifest.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

pub fn run(args: Args) -> Result<ExitCode> {
    // Refuse an output that cannot be written before running the application.
    crate::fileio::dest(&args.out)?;
    let (manifest, code) = observe(&args.target)?;
    let json = manifest.to_json()?;
    crate::fileio::write_new(&args.out, None, &mut |f| Ok(f.write_all(json.as_bytes())?))?;
    eprintln!(
        "shenzi: observed {} modules, {} shared objects in {} process(es) -> {}",
        manifest.modules.len(),
        manifest.shared_objects.len(),
        manifest.processes.len(),
        args.out.display()
    );
    Ok(match code {
        Some(0) => ExitCode::SUCCESS,
        Some(c) => ExitCode::from(c.clamp(1, 255) as u8),
        None => ExitCode::FAILURE,
    })
}

/// The interpreter to observe with.
fn python_for(target: &Target) -> PathBuf {
    if let Some(p) = &target.python {
        return p.clone();
    }
    if let Some(venv) = std::env::var_os("VIRTUAL_ENV") {
        let p = Path::new(&venv).join("bin/python");
        if p.exists() {
            return p;
        }
    }
    PathBuf::from("python3")
}

/// Runs the target under the observer; returns the manifest and the application's exit code.
pub fn observe(target: &Target) -> Result<(Manifest, Option<i32>)> {
    let entry = match (&target.module, &target.script) {
        (Some(m), _) => Entry {
            kind: "module".into(),
            script: None,
            module: Some(m.clone()),
            args: target.args.clone(),
        },
        (None, Some(s)) => {
            let abs = std::fs::canonicalize(s)
                .with_context(|| format!("cannot find the script {}", s.display()))?;
            Entry {
                kind: "script".into(),
                script: Some(abs.to_string_lossy().into_owned()),
                module: None,
                args: target.args.clone(),
            }
        }
        (None, None) => bail!("give a SCRIPT or -m MODULE to run"),
    };
    let python = python_for(target);
    let work = tempfile::Builder::new()
        .prefix("shenzi-observe-")
        .tempdir()
        .context("cannot create a temporary directory")?;
    let hook = work.path().join("hook");
    let records = work.path().join("records");
    std::fs::create_dir_all(&hook)?;
    std::fs::create_dir_all(&records)?;
    std::fs::write(hook.join("sitecustomize.py"), OBSERVER)?;

    let mut pythonpath = hook.as_os_str().to_owned();
    if let Some(old) = std::env::var_os("PYTHONPATH").filter(|v| !v.is_empty()) {
        pythonpath.push(":");
        pythonpath.push(old);
    }
    let mut cmd = Command::new(&python);
    match &entry.module {
        Some(m) => cmd.arg("-m").arg(m),
        None => cmd.arg(entry.script.as_deref().unwrap_or_default()),
    };
    cmd.args(&target.args)
        .env("PYTHONPATH", pythonpath)
        .env("SHENZI_OBSERVE_DIR", &records);
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot run the interpreter {}", python.display()))?;
    let pid = child.id();
    let status = child.wait()?;
    let code = status.code();
    if code != Some(0) {
        eprintln!("shenzi: warning: the application exited with {status}");
    }

    wait_for_children(&records);
    let mut recs = Vec::new();
    for e in std::fs::read_dir(&records)? {
        let path = e?.path();
        if path.extension().is_some_and(|x| x == "json") {
            let text = std::fs::read(&path)?;
            let rec: Record = serde_json::from_slice(&text)
                .with_context(|| format!("malformed observer record {}", path.display()))?;
            recs.push(rec);
        }
    }
    let manifest = Manifest::merge(entry, pid, code, recs)?;
    Ok((manifest, code))
}

/// Whether process `pid` still runs (a zombie has finished).
pub(crate) fn alive(pid: u32) -> bool {
    if !Path::new("/proc/self/stat").exists() {
        // No procfs (macOS): signal 0 only checks that the process exists.
        let Ok(pid) = i32::try_from(pid) else {
            return false;
        };
        // SAFETY: kill with signal 0 sends nothing.
        return unsafe { libc::kill(pid, 0) } == 0
            || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// Observed children may outlive the main process by a moment (pool workers, the resource
/// tracker): wait until every process that marked itself live has written its record.
fn wait_for_children(records: &Path) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let pending: Vec<u32> = std::fs::read_dir(records)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.strip_suffix(".live")?.parse().ok()
            })
            .filter(|&pid| alive(pid))
            .collect();
        if pending.is_empty() {
            return;
        }
        if std::time::Instant::now() > deadline {
            eprintln!(
                "shenzi: warning: processes {pending:?} still run; their loads are not recorded"
            );
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
