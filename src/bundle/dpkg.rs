//! Which Debian package installed a file, read straight from dpkg's database (no `dpkg -S`):
//! `/var/lib/dpkg/info/PKG[:ARCH].list` names the files of each package, and
//! `/var/lib/dpkg/status` gives the version and architecture of the installed ones.
//!
//! Paths are matched as dpkg recorded them. On merged-/usr systems `/lib` is a link to
//! `usr/lib`, so a package may list `/lib/x86_64-linux-gnu/libz.so.1` while the bundler holds
//! the real path `/usr/lib/x86_64-linux-gnu/libz.so.1`: both spellings are tried. Under
//! `--root` the database of the recorded tree is read. Diversions are not followed. rpm
//! databases (SQLite or Berkeley DB) are not read: their files get no package.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use anyhow::{Context, Result};

use super::rootfs;

/// An installed Debian binary package.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Package {
    pub name: String,
    pub arch: String,
    pub version: String,
    /// The source package, when it differs from the binary package's name.
    pub source: Option<String>,
}

/// Top-level directories that merged /usr turns into links to `usr/NAME`.
const MERGED: &[&str] = &["bin", "sbin", "lib", "lib32", "lib64", "libx32", "libo32"];

/// The directories among [`MERGED`] that are links into /usr on the machine being read.
fn merged_dirs() -> Vec<&'static str> {
    MERGED
        .iter()
        .copied()
        .filter(|d| {
            std::fs::read_link(rootfs::host(&format!("/{d}"))).is_ok_and(|t| {
                let t = t.to_string_lossy();
                t.trim_start_matches('/').trim_end_matches('/') == format!("usr/{d}")
            })
        })
        .collect()
}

/// Every spelling under which dpkg may have recorded `path` (a path of the recorded machine).
fn spellings(path: &str, merged: &[&str]) -> Vec<String> {
    let mut out = vec![path.to_string()];
    for d in merged {
        if let Some(rest) = path.strip_prefix(&format!("/usr/{d}/")) {
            out.push(format!("/{d}/{rest}"));
        } else if let Some(rest) = path.strip_prefix(&format!("/{d}/")) {
            out.push(format!("/usr/{d}/{rest}"));
        }
    }
    out
}

/// `PKG` or `PKG:ARCH` from a `.list` file name.
fn list_name(file: &str) -> Option<(&str, Option<&str>)> {
    let stem = file.strip_suffix(".list")?;
    Some(match stem.split_once(':') {
        Some((p, a)) => (p, Some(a)),
        None => (stem, None),
    })
}

/// Installed packages of a status file, by (name, architecture).
fn parse_status(text: &str) -> HashMap<(String, String), Package> {
    let mut out = HashMap::new();
    for stanza in text.split("\n\n") {
        let mut fields: HashMap<&str, &str> = HashMap::new();
        for line in stanza.lines() {
            if line.starts_with([' ', '\t']) {
                continue;
            }
            if let Some((k, v)) = line.split_once(':') {
                fields.insert(k.trim(), v.trim());
            }
        }
        let installed = fields
            .get("Status")
            .is_some_and(|s| s.split_whitespace().last() == Some("installed"));
        let (Some(name), Some(version), Some(arch)) = (
            fields.get("Package"),
            fields.get("Version"),
            fields.get("Architecture"),
        ) else {
            continue;
        };
        if !installed {
            continue;
        }
        // `Source: name (version)` when the source version differs.
        let source = fields
            .get("Source")
            .and_then(|s| s.split_whitespace().next())
            .filter(|s| s != name)
            .map(String::from);
        out.insert(
            (name.to_string(), arch.to_string()),
            Package {
                name: name.to_string(),
                arch: arch.to_string(),
                version: version.to_string(),
                source,
            },
        );
    }
    out
}

/// The installed package of a `.list` file: by name and architecture when the list name has
/// one, else the only installed package of that name.
fn package_of(
    status: &HashMap<(String, String), Package>,
    name: &str,
    arch: Option<&str>,
) -> Option<Package> {
    if let Some(a) = arch {
        return status.get(&(name.to_string(), a.to_string())).cloned();
    }
    let mut found: Vec<&Package> = status.values().filter(|p| p.name == name).collect();
    found.sort();
    found.first().map(|p| (*p).clone())
}

/// The owning package of each of `paths` (host paths; under `--root`, inside the root) that
/// dpkg knows. Without a dpkg database the answer is empty.
pub fn owners(paths: &[PathBuf]) -> Result<BTreeMap<PathBuf, Package>> {
    let db = rootfs::host("/var/lib/dpkg");
    let info = db.join("info");
    let mut out = BTreeMap::new();
    if paths.is_empty() || !info.is_dir() {
        return Ok(out);
    }
    let merged = merged_dirs();
    // Recorded-machine spelling → the paths asked about.
    let mut wanted: HashMap<String, Vec<&PathBuf>> = HashMap::new();
    for p in paths {
        let mut forms = vec![rootfs::logical(p)];
        if let Ok(real) = rootfs::canonicalize(p) {
            forms.push(rootfs::logical(&real));
        }
        for f in forms {
            for s in spellings(&f, &merged) {
                let v = wanted.entry(s).or_default();
                if !v.contains(&p) {
                    v.push(p);
                }
            }
        }
    }
    let status_path = db.join("status");
    let status = parse_status(
        &std::fs::read_to_string(&status_path)
            .with_context(|| format!("cannot read {}", status_path.display()))?,
    );
    let mut lists: Vec<String> = std::fs::read_dir(&info)
        .with_context(|| format!("cannot read {}", info.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".list"))
        .collect();
    lists.sort();
    for list in lists {
        let Some((name, arch)) = list_name(&list) else {
            continue;
        };
        // A list that cannot be read (permissions, a race with dpkg) owns nothing.
        let Ok(text) = std::fs::read_to_string(info.join(&list)) else {
            continue;
        };
        let mut pkg: Option<Option<Package>> = None;
        for line in text.lines() {
            let Some(asked) = wanted.get(line) else {
                continue;
            };
            let p = pkg.get_or_insert_with(|| package_of(&status, name, arch));
            let Some(p) = p else { break };
            for a in asked {
                out.entry((*a).clone()).or_insert_with(|| p.clone());
            }
        }
    }
    Ok(out)
}

/// The Debian copyright file of a package (its doc directory may be a link to another
/// package's), as a host path.
pub fn copyright(pkg: &str) -> Option<PathBuf> {
    if pkg.is_empty() || pkg.contains('/') || pkg.starts_with('.') {
        return None;
    }
    let p = rootfs::host(&format!("/usr/share/doc/{pkg}/copyright"));
    let real = rootfs::canonicalize(p).ok()?;
    real.is_file().then_some(real)
}

/// The purl vendor of the recorded system: `ID` of os-release (`debian`, `ubuntu`, …).
pub fn vendor() -> String {
    for f in ["/etc/os-release", "/usr/lib/os-release"] {
        if let Ok(text) = std::fs::read_to_string(rootfs::host(f)) {
            if let Some(id) = os_release_id(&text) {
                return id;
            }
        }
    }
    "debian".into()
}

fn os_release_id(text: &str) -> Option<String> {
    let id = text.lines().find_map(|l| l.strip_prefix("ID="))?;
    let id = id.trim().trim_matches(['"', '\'']).to_ascii_lowercase();
    let ok = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    ok.then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_usr_spellings() {
        let m = ["lib", "bin"];
        assert_eq!(
            spellings("/usr/lib/x86_64-linux-gnu/libz.so.1", &m),
            [
                "/usr/lib/x86_64-linux-gnu/libz.so.1",
                "/lib/x86_64-linux-gnu/libz.so.1"
            ]
        );
        assert_eq!(spellings("/lib/a.so", &m), ["/lib/a.so", "/usr/lib/a.so"]);
        assert_eq!(spellings("/opt/x.so", &m), ["/opt/x.so"]);
        // /usr/lib64 is not /usr/lib.
        assert_eq!(spellings("/usr/lib64/x.so", &m), ["/usr/lib64/x.so"]);
    }

    #[test]
    fn list_names() {
        assert_eq!(
            list_name("libssl3:amd64.list"),
            Some(("libssl3", Some("amd64")))
        );
        assert_eq!(list_name("tzdata.list"), Some(("tzdata", None)));
        assert_eq!(list_name("tzdata.md5sums"), None);
    }

    #[test]
    fn status_stanzas() {
        let text = "Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\n\
                    Multi-Arch: same\nSource: openssl\nVersion: 3.0.19-1~deb12u2\n\
                    Description: x\n more text\n\n\
                    Package: gone\nStatus: deinstall ok config-files\nArchitecture: amd64\n\
                    Version: 1\n\n\
                    Package: libc6\nStatus: install ok installed\nArchitecture: i386\n\
                    Source: glibc (2.36-9)\nVersion: 2.36-9+deb12u10\n";
        let s = parse_status(text);
        assert_eq!(s.len(), 2);
        let ssl = package_of(&s, "libssl3", Some("amd64")).unwrap();
        assert_eq!(ssl.version, "3.0.19-1~deb12u2");
        assert_eq!(ssl.source.as_deref(), Some("openssl"));
        assert!(package_of(&s, "gone", None).is_none());
        let libc = package_of(&s, "libc6", None).unwrap();
        assert_eq!(
            (libc.arch.as_str(), libc.source.as_deref()),
            ("i386", Some("glibc"))
        );
        assert!(package_of(&s, "libc6", Some("amd64")).is_none());
    }

    #[test]
    fn os_release() {
        assert_eq!(
            os_release_id("NAME=x\nID=debian\n").as_deref(),
            Some("debian")
        );
        assert_eq!(os_release_id("ID=\"Ubuntu\"\n").as_deref(), Some("ubuntu"));
        assert_eq!(os_release_id("ID=a/b\n"), None);
    }
}
