//! `shenzi-manifest.json` (for every file: where it came from and why it is there) and the
//! summary printed at the end of a build.

use std::collections::BTreeMap;

use serde::Serialize;

use super::plan::{Plan, Source};
use super::provenance::Redactor;
use super::write::{Outcome, Written};

#[derive(Serialize)]
struct FileEntry<'a> {
    path: &'a str,
    /// Original file, `generated`, `symlink -> target` or `zip archive of N files` (no
    /// original file without provenance).
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    group: &'a str,
    why: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    patched: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    same_as: Option<&'a str>,
}

#[derive(Serialize)]
struct Report<'a> {
    format: &'static str,
    version: u32,
    python: &'a str,
    entry: EntryOut<'a>,
    /// `glibc_floor`, `glibcxx_floor`, `macos_floor`: the newest system the bundle needs.
    #[serde(flatten)]
    floors: BTreeMap<String, &'a str>,
    host_libraries: &'a [String],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<String>,
    warnings: Vec<String>,
    files: Vec<FileEntry<'a>>,
}

/// The entry point; without provenance the script is its bundle path and the observed run's
/// arguments are left out.
#[derive(Serialize)]
struct EntryOut<'a> {
    kind: &'a str,
    script: Option<String>,
    module: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    args: Option<&'a [String]>,
}

pub struct Facts<'a> {
    pub python: &'a str,
    pub entry: &'a crate::observe::manifest::Entry,
    /// Bundle path of the entry script.
    pub entry_dest: Option<&'a str>,
    /// (system, version): `glibc` 2.34, `macos` 11.0, …
    pub floors: &'a [(String, String)],
    pub host_libraries: &'a [String],
    /// What optional steps did (`--compact`).
    pub notes: &'a [String],
    pub warnings: &'a [String],
    /// `--no-provenance`: rewrites the build machine's paths.
    pub redactor: Option<&'a Redactor>,
}

pub fn glibc_text(v: Option<(u32, u32)>) -> Option<String> {
    v.map(|(a, b)| format!("{a}.{b}"))
}

pub fn glibcxx_text(v: Option<(u32, u32, u32)>) -> Option<String> {
    v.map(|(a, b, c)| format!("{a}.{b}.{c}"))
}

/// The JSON of `shenzi-manifest.json`.
pub fn json(plan: &Plan, written: &Written, facts: &Facts) -> anyhow::Result<String> {
    let mut files = Vec::new();
    for (dest, item) in &plan.items {
        let outcome = written.outcomes.get(dest);
        if matches!(outcome, Some(Outcome::Skipped) | None) {
            continue;
        }
        let (bytes, patched) = match outcome {
            Some(Outcome::Written { bytes, patched, .. }) => (Some(*bytes), patched.clone()),
            _ => (None, None),
        };
        let red = facts.redactor;
        files.push(FileEntry {
            path: dest,
            source: match &item.source {
                Source::File(_) if red.is_some() => None,
                // Paths of the recorded machine (under --root, not of this one).
                Source::File(p) => Some(super::rootfs::logical(p)),
                Source::Bytes { .. } => Some("generated".into()),
                Source::Symlink(t) => Some(format!("symlink -> {t}")),
                Source::Zip(m) => Some(format!("zip archive of {} files", m.len())),
            },
            group: &item.group,
            why: &item.why,
            bytes,
            patched: match red {
                Some(r) => patched.map(|p| r.text(&p)),
                None => patched,
            },
            same_as: written.same_as.get(dest).map(|s| s.as_str()),
        });
    }
    let r = Report {
        format: "shenzi-bundle",
        version: 1,
        python: facts.python,
        entry: EntryOut {
            kind: &facts.entry.kind,
            script: match facts.redactor {
                Some(_) => facts.entry_dest.map(String::from),
                None => facts.entry.script.clone(),
            },
            module: facts.entry.module.as_deref(),
            args: facts
                .redactor
                .is_none()
                .then_some(facts.entry.args.as_slice()),
        },
        floors: facts
            .floors
            .iter()
            .map(|(k, v)| (format!("{k}_floor"), v.as_str()))
            .collect(),
        host_libraries: facts.host_libraries,
        notes: redacted(facts.notes, facts.redactor),
        warnings: redacted(facts.warnings, facts.redactor),
        files,
    };
    Ok(serde_json::to_string_pretty(&r)? + "\n")
}

fn redacted(texts: &[String], redactor: Option<&Redactor>) -> Vec<String> {
    match redactor {
        Some(r) => texts.iter().map(|t| r.text(t)).collect(),
        None => texts.to_vec(),
    }
}

pub fn human(n: u64) -> String {
    const UNITS: [&str; 3] = ["KiB", "MiB", "GiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// The human summary.
pub fn summary(plan: &Plan, written: &Written, facts: &Facts, out: &str, secs: f64) -> String {
    let mut groups: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    let mut total = (0u64, 0u64);
    for (dest, item) in &plan.items {
        if let Some(Outcome::Written { bytes, .. }) = written.outcomes.get(dest) {
            let stored = if written.same_as.contains_key(dest) {
                0
            } else {
                *bytes
            };
            let g = groups.entry(&item.group).or_default();
            g.0 += 1;
            g.1 += stored;
            total.0 += 1;
            total.1 += stored;
        }
    }
    let patched = written
        .outcomes
        .values()
        .filter(|o| {
            matches!(
                o,
                Outcome::Written {
                    patched: Some(_),
                    ..
                }
            )
        })
        .count();
    let mut s = format!(
        "bundled into {out} in {secs:.1}s: {} files, {} ({} patched, {} stored once as links)\n",
        total.0,
        human(total.1),
        patched,
        written.same_as.len()
    );
    let mut rows: Vec<_> = groups.into_iter().collect();
    rows.sort_by_key(|(_, (_, b))| std::cmp::Reverse(*b));
    for (g, (n, b)) in rows {
        s += &format!("  {g:<28} {n:>6} files {:>12}\n", human(b));
    }
    let needs: Vec<String> = facts
        .floors
        .iter()
        .map(|(k, v)| match k.as_str() {
            "glibcxx" => format!("libstdc++ GLIBCXX >= {v}"),
            "macos" => format!("macOS >= {v}"),
            k => format!("{k} >= {v}"),
        })
        .collect();
    s += &format!(
        "  requires {}\n",
        if needs.is_empty() {
            "no particular system version".to_string()
        } else {
            needs.join(", ")
        }
    );
    for n in facts.notes {
        s += &format!("  {n}\n");
    }
    for w in facts.warnings {
        s += &format!("  warning: {w}\n");
    }
    s
}
