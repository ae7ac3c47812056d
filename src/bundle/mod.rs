//! `shenzi bundle`: turn an observed Python application into a relocatable folder that runs
//! where no Python is installed.
//!
//! Data flow, one module per step:
//! `observe` (or `--manifest`) → [`collect`] (interpreter, stdlib, used distributions, app) →
//! [`resolve`] (DT_NEEDED closure by ld.so's rules, [`ldcache`], [`elfinfo`]) → [`policy`]
//! (what stays on the host, glibc floor) → [`place`] (where libraries go) → [`patch`] (rpath /
//! needed / soname edits) → [`launcher`] → [`write`] (parallel copy + patch into a temporary
//! folder, identical files stored once, fixed mtimes) → [`report`] and [`sbom`] (CycloneDX,
//! with [`licence`] and [`dpkg`]; [`provenance`] for `--no-provenance`) → rename into place →
//! [`archive`].

mod archive;
mod clock;
mod collect;
mod compact;
mod dpkg;
mod dyld;
pub(crate) mod elfinfo;
mod launcher;
mod ldcache;
mod licence;
mod linux;
pub(crate) mod machoinfo;
mod macos;
mod patch;
mod place;
mod plan;
mod policy;
mod provenance;
mod pyc;
mod report;
mod resolve;
pub mod rootfs;
mod sbom;
mod write;
mod zipfile;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::fileio;
use crate::observe::manifest::Platform;
use crate::observe::{Manifest, Target};
use plan::{Item, Plan};
use policy::Policy;

/// Default mtime of bundled files when SOURCE_DATE_EPOCH is unset: 1980-01-01T00:00:00Z.
const DEFAULT_EPOCH: i64 = 315_532_800;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub target: Target,
    /// Bundle from a recorded observation (`shenzi observe --out`) instead of running the app.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["script", "module"])]
    pub manifest: Option<PathBuf>,
    /// Output folder.
    #[arg(short = 'o', long = "out", value_name = "DIR", default_value = "dist")]
    pub out: PathBuf,
    /// Replace the output folder if it exists.
    #[arg(long)]
    pub force: bool,
    /// Bundle libraries matching this glob even if the policy leaves them to the host.
    #[arg(long = "include", value_name = "GLOB")]
    pub include: Vec<String>,
    /// Leave out libraries (by file name) or files (by bundle path) matching this glob.
    #[arg(long = "exclude", value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Fail if the bundle needs a newer glibc than this (e.g. 2.28).
    #[arg(long, value_name = "2.XX")]
    pub min_glibc: Option<String>,
    /// Also write the folder as an archive (.tar.zst, .tar.gz or .tar).
    #[arg(long, value_name = "FILE")]
    pub archive: Option<PathBuf>,
    /// With --manifest: read every absolute path of the recorded run under DIR (a copy of the
    /// files it names, e.g. gathered on a Mac), as in a sysroot.
    #[arg(long, value_name = "DIR", requires = "manifest")]
    pub root: Option<PathBuf>,
    /// macOS: fail if anything bundled needs a newer macOS than this (e.g. 11.0).
    #[arg(long, value_name = "X.Y")]
    pub min_macos: Option<String>,
    /// macOS: keep only this architecture of fat (universal) files (arm64 or x86_64).
    #[arg(long, value_name = "ARCH")]
    pub arch: Option<String>,
    /// Store the standard library and pure-Python distributions as zip archives the
    /// interpreter imports from (smaller, fewer files; package data stays as files).
    #[arg(long)]
    pub compact: bool,
    /// With --compact: leave this distribution as files (e.g. one that reads its own source
    /// files by path).
    #[arg(long = "compact-keep", value_name = "DIST", requires = "compact")]
    pub compact_keep: Vec<String>,
    /// Remove debug information and static symbol tables from every bundled ELF file (what no
    /// loader reads; `.dynsym`, notes and every segment stay as they are).
    #[arg(long)]
    pub strip: bool,
    /// Write shenzi-manifest.json and the SBOM without the build machine's absolute paths.
    #[arg(long)]
    pub no_provenance: bool,
}

/// What the native side of a platform found: minimum system versions the bundle needs
/// (`glibc`, `macos`, …), the libraries it leaves to the host, warnings.
pub struct Native {
    pub floors: Vec<(String, String)>,
    pub host_libraries: Vec<String>,
    pub warnings: Vec<String>,
    /// Dependency edges between bundled native files (bundle paths: dependent → dependency).
    pub edges: Vec<(String, String)>,
}

/// SOURCE_DATE_EPOCH, when set.
fn explicit_epoch() -> Option<i64> {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse().ok())
}

fn source_date_epoch() -> i64 {
    explicit_epoch().unwrap_or(DEFAULT_EPOCH)
}

/// Removes a temporary output folder unless the build got to the end.
struct TempDir {
    path: PathBuf,
    keep: bool,
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

pub fn run(args: Args) -> Result<ExitCode> {
    let started = Instant::now();
    let min_glibc = match &args.min_glibc {
        Some(s) => Some(
            policy::parse_glibc(s).with_context(|| format!("--min-glibc {s}: expected 2.XX"))?,
        ),
        None => None,
    };
    check_out(&args.out, args.force)?;
    if let Some(a) = &args.archive {
        if !a.to_string_lossy().ends_with(".tar.zst")
            && !a.to_string_lossy().ends_with(".tar.gz")
            && !a.to_string_lossy().ends_with(".tar")
        {
            bail!(
                "{}: archive name must end in .tar.zst, .tar.gz or .tar",
                a.display()
            );
        }
        // Refuse an archive path that cannot be written before building anything.
        fileio::dest(a)?;
    }
    let mut manifest = match &args.manifest {
        Some(p) => Manifest::load(p)?,
        None => observe_for_bundle(&args.target)?,
    };
    // The entry point as recorded, for the report (under --root the manifest's paths are
    // rewritten to this machine's).
    let recorded_entry = manifest.entry.clone();
    if let Some(root) = &args.root {
        let root = std::fs::canonicalize(root)
            .with_context(|| format!("--root {}: cannot open", root.display()))?;
        if !root.is_dir() {
            bail!("--root {}: not a directory", root.display());
        }
        rootfs::set(root);
        manifest.map_paths(&rootfs::host_str);
    }
    let policy = Policy {
        include: args.include.clone(),
        exclude: args.exclude.clone(),
    };
    let mut warnings = Vec::new();

    // Python side.
    let places = collect::Places::new(&manifest)?;
    let collected = collect::collect(&manifest, &places)?;
    warnings.extend(collected.warnings);
    let mut plan = Plan::default();
    for it in collected.items {
        if !policy.excluded(&it.dest) {
            plan.add(it);
        }
    }

    // Native side: the shared libraries the interpreter and the bundled code need.
    let native = match manifest.platform {
        Platform::Linux => linux::native(&manifest, &places, &policy, min_glibc, &mut plan)?,
        Platform::Macos => {
            let opts = macos::MacOptions {
                min_macos: args.min_macos.as_deref(),
                arch: args.arch.as_deref(),
            };
            macos::native(&manifest, &places, &policy, &opts, &mut plan)?
        }
    };
    warnings.extend(native.warnings.iter().cloned());

    // Launchers.
    let python = places.exe_dest.clone();
    let script_dest = collected.entry_dest.clone();
    plan.add(Item::generated(
        "run.sh".into(),
        launcher::run_sh(
            &python,
            script_dest.as_deref(),
            manifest.entry.module.as_deref(),
        )
        .into_bytes(),
        true,
        "launcher",
        "launcher",
    ));
    for (name, (module, attr, dist)) in collect::console_scripts(&collected.dists) {
        if name.contains('/') || name.is_empty() {
            continue;
        }
        plan.add(Item::generated(
            format!("bin/{name}"),
            launcher::console_script(&python, &module, &attr).into_bytes(),
            true,
            &dist,
            "console script",
        ));
    }
    for sc in collect::plain_scripts(&collected.dists) {
        if !sc.python {
            plan.add(Item::copy(
                sc.source,
                format!("bin/{}", sc.name),
                &sc.dist,
                "script",
            ));
            continue;
        }
        let kept = format!("{}/{}", plan::parent(&python), sc.name);
        plan.add(Item::copy(sc.source, kept.clone(), &sc.dist, "script"));
        plan.add(Item::generated(
            format!("bin/{}", sc.name),
            launcher::script_runner(&python, &kept).into_bytes(),
            true,
            &sc.dist,
            "script runner",
        ));
    }
    warnings.extend(plan.warnings.iter().cloned());
    let mut notes = Vec::new();
    if args.compact {
        let c = compact::compact(
            &mut plan,
            &places,
            &manifest,
            &collected.dists,
            &args.compact_keep,
        );
        for (zip, n) in &c.archives {
            notes.push(format!("compact: {n} top-level modules in {zip}"));
        }
        if c.without_byte_code > 0 {
            notes.push(format!(
                "compact: {} modules have no fresh byte-code and compile at each import",
                c.without_byte_code
            ));
        }
        for (d, why) in &c.kept {
            notes.push(format!("compact: {d} left as files ({why})"));
        }
        if c.build_only > 0 {
            notes.push(format!(
                "compact: {} files only builds and type checkers read left out (type stubs, \
                 Cython sources, C headers, Windows launchers)",
                c.build_only
            ));
        }
    }
    // SBOM facts, from the final layout.
    if args.no_provenance {
        provenance::drop_local_sources(&mut plan);
    }
    let inventory = sbom::prepare(
        &manifest.python.version,
        &places,
        &collected.dists,
        &mut plan,
        &policy,
    )?;
    warnings.extend(inventory.warnings.iter().cloned());

    // Write beside the target, then rename.
    let out = std::path::absolute(&args.out)?;
    let parent = out.parent().context("the output folder has no parent")?;
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create the folder {}", parent.display()))?;
    let name = out
        .file_name()
        .context("the output folder needs a name")?
        .to_string_lossy()
        .into_owned();
    remove_stale_builds(parent, &name);
    let tmp = TempDir {
        path: parent.join(format!(".{name}.shenzi-{}.tmp", std::process::id())),
        keep: false,
    };
    if tmp.path.exists() {
        std::fs::remove_dir_all(&tmp.path)?;
    }
    std::fs::create_dir(&tmp.path)
        .with_context(|| format!("cannot create {}", tmp.path.display()))?;
    let mtime = source_date_epoch();
    let bar = if std::io::stderr().is_terminal() {
        let b = indicatif::ProgressBar::new(plan.items.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} files {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    } else {
        indicatif::ProgressBar::hidden()
    };
    let written = write::write(&plan, &tmp.path, mtime, args.strip, &bar)?;
    if args.strip {
        let (files, saved) = written.stripped();
        notes.push(match files {
            0 => "strip: no ELF file had anything to strip (Mach-O files are not stripped)".into(),
            n => format!("strip: {n} ELF files, {} smaller", report::human(saved)),
        });
    }
    bar.finish_and_clear();
    let redactor = args.no_provenance.then(|| {
        let prefix = PathBuf::from(&manifest.python.prefix);
        provenance::Redactor::new(
            &plan,
            &places,
            &[(&out, "."), (&tmp.path, "."), (&prefix, "python")],
        )
    });
    let facts = report::Facts {
        python: &manifest.python.version,
        entry: &recorded_entry,
        entry_dest: script_dest.as_deref(),
        floors: &native.floors,
        host_libraries: &native.host_libraries,
        notes: &notes,
        warnings: &warnings,
        redactor: redactor.as_ref(),
    };
    let report_path = tmp.path.join("shenzi-manifest.json");
    write::create_with(
        &report_path,
        0o644,
        mtime,
        report::json(&plan, &written, &facts)?.as_bytes(),
    )?;
    let app_name = manifest.entry.module.clone().unwrap_or_else(|| {
        script_dest
            .as_deref()
            .map(|d| plan::file_name(d).to_string())
            .unwrap_or_else(|| "app".into())
    });
    let sbom_text = sbom::json(
        &inventory,
        &plan,
        &written,
        &tmp.path,
        &sbom::Build {
            app: &app_name,
            floors: &native.floors,
            edges: &native.edges,
            epoch: explicit_epoch(),
            redactor: redactor.as_ref(),
        },
    )?;
    let sbom_path = tmp.path.join(sbom::FILE_NAME);
    write::create_with(&sbom_path, 0o644, mtime, sbom_text.as_bytes())?;
    write::set_mtime(&tmp.path, mtime)?;

    let mut tmp = tmp;
    // Again: the path may have changed while the bundle was built.
    check_out(&out, args.force)?;
    if out.symlink_metadata().is_ok() {
        let old = parent.join(format!(".{name}.shenzi-{}.old", std::process::id()));
        std::fs::rename(&out, &old)
            .with_context(|| format!("cannot move the old {} aside", out.display()))?;
        std::fs::rename(&tmp.path, &out)?;
        let _ = std::fs::remove_dir_all(&old).or_else(|_| std::fs::remove_file(&old));
    } else {
        std::fs::rename(&tmp.path, &out)
            .with_context(|| format!("cannot rename the build to {}", out.display()))?;
    }
    tmp.keep = true;
    if let Some(a) = &args.archive {
        archive::write(&out, &name, a, mtime)?;
    }
    eprint!(
        "{}",
        report::summary(
            &plan,
            &written,
            &facts,
            &out.display().to_string(),
            started.elapsed().as_secs_f64()
        )
    );
    Ok(ExitCode::SUCCESS)
}

/// The output folder may be replaced only when it is a directory, and only with `--force`; a
/// symlink to a directory (or to nothing) is itself replaced, its target left alone. Anything
/// else (a file, a device, a FIFO) is never touched.
fn check_out(out: &Path, force: bool) -> Result<()> {
    match fileio::kind(out) {
        Ok(None | Some(fileio::Kind::Directory)) => {}
        Ok(Some(k)) => bail!(
            "{}: is {k}, not a directory; the bundle output must be a directory and anything \
             else is not replaced, even with --force",
            out.display()
        ),
        Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => {
            return Err(fileio::cannot_create(out))
        }
        Err(e) => return Err(e).with_context(|| format!("{}: cannot stat", out.display())),
    }
    if out.symlink_metadata().is_ok() && !force {
        bail!("{} exists; pass --force to replace it", out.display());
    }
    Ok(())
}

fn observe_for_bundle(target: &Target) -> Result<Manifest> {
    let (m, code) = crate::observe::observe(target)?;
    if code != Some(0) {
        eprintln!("shenzi: bundling what the run loaded before it failed");
    }
    Ok(m)
}

/// Removes temporary folders of `name` left by builds that were killed.
fn remove_stale_builds(parent: &Path, name: &str) {
    let prefix = format!(".{name}.shenzi-");
    for e in std::fs::read_dir(parent).into_iter().flatten().flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = file.strip_prefix(&prefix) else {
            continue;
        };
        let Some(pid) = rest
            .strip_suffix(".tmp")
            .or_else(|| rest.strip_suffix(".old"))
        else {
            continue;
        };
        if pid.parse().is_ok_and(|p: u32| !crate::observe::alive(p)) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}
