//! `--no-provenance`: the bundle's own metadata (`shenzi-manifest.json`, the SBOM) without
//! the build machine's absolute paths, for bundles shipped to others.
//!
//! A path of a bundled file becomes its bundle path; a path under a tree that was copied (the
//! interpreter's prefix, a site directory, an application root) becomes the matching bundle
//! path; any other absolute path is cut to `…/` and its file name. Distribution metadata that
//! records a local install path (`direct_url.json` with a `file:` URL) is left out.

use std::collections::BTreeMap;
use std::path::Path;

use super::collect::Places;
use super::plan::{Plan, Source};

/// Rewrites absolute paths of the build machine into bundle-relative ones.
#[derive(Debug, Default)]
pub struct Redactor {
    /// Absolute path → bundle path, longest first.
    map: Vec<(String, String)>,
}

fn is_start(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | '"' | '\'' | '=' | ',' | ':' | '[' | '{' | '<')
}

fn is_end(c: char) -> bool {
    c.is_whitespace() || matches!(c, ')' | '"' | '\'' | ',' | ';' | ':' | ']' | '}' | '>')
}

impl Redactor {
    /// Knows every copied file of `plan` and the trees of `places`.
    pub fn new(plan: &Plan, places: &Places, extra: &[(&Path, &str)]) -> Redactor {
        let mut map: BTreeMap<String, String> = BTreeMap::new();
        let mut add = |from: &Path, to: &str| {
            let from = from.to_string_lossy().trim_end_matches('/').to_string();
            if from.len() > 1 {
                map.entry(from).or_insert_with(|| to.to_string());
            }
        };
        for it in plan.items.values() {
            let files: Vec<(&Path, String)> = match &it.source {
                Source::File(src) => vec![(src.as_path(), it.dest.clone())],
                Source::Zip(members) => members
                    .iter()
                    .map(|m| (m.source.as_path(), format!("{}/{}", it.dest, m.name)))
                    .collect(),
                _ => Vec::new(),
            };
            for (src, dest) in files {
                add(src, &dest);
                // The recorded machine's spelling too (under --root).
                add(Path::new(&super::rootfs::logical(src)), &dest);
                if let Ok(real) = super::rootfs::canonicalize(src) {
                    add(&real, &dest);
                }
            }
        }
        let mut trees: Vec<(&Path, &str)> = places
            .site_dirs
            .iter()
            .map(|s| (s.as_path(), places.site_dest.as_str()))
            .collect();
        trees.extend(places.app_roots.iter().map(|a| (a.as_path(), "app")));
        trees.push((&places.base, "python"));
        for (from, to) in trees {
            add(from, to);
            add(Path::new(&super::rootfs::logical(from)), to);
        }
        for (p, to) in extra {
            add(p, to);
        }
        let mut map: Vec<(String, String)> = map.into_iter().collect();
        map.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        Redactor { map }
    }

    /// The bundle path of an absolute path, when it lies in something the bundle holds.
    pub fn path(&self, p: &str) -> Option<String> {
        for (from, to) in &self.map {
            if p == from {
                return Some(to.clone());
            }
            if let Some(rest) = p.strip_prefix(from.as_str()) {
                if let Some(rest) = rest.strip_prefix('/') {
                    return Some(if to.is_empty() || to == "." {
                        rest.to_string()
                    } else {
                        format!("{to}/{rest}")
                    });
                }
            }
        }
        None
    }

    /// `text` with every absolute path in it rewritten.
    pub fn text(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        let mut prev: Option<char> = None;
        while let Some(c) = rest.chars().next() {
            if c == '/' && prev.is_none_or(is_start) {
                let end = rest.find(is_end).unwrap_or(rest.len());
                let path = &rest[..end];
                match self.path(path) {
                    Some(p) => out.push_str(&p),
                    None => {
                        out.push_str("…/");
                        out.push_str(path.rsplit('/').next().unwrap_or(""));
                    }
                }
                prev = path.chars().last();
                rest = &rest[end..];
                continue;
            }
            out.push(c);
            prev = Some(c);
            rest = &rest[c.len_utf8()..];
        }
        out
    }
}

/// Leaves out `.dist-info/direct_url.json` files that record a local (`file:`) install source.
pub fn drop_local_sources(plan: &mut Plan) {
    plan.items.retain(|dest, it| {
        if !(dest.ends_with("/direct_url.json")
            && super::plan::parent(dest).ends_with(".dist-info"))
        {
            return true;
        }
        let Source::File(src) = &it.source else {
            return true;
        };
        let text = std::fs::read_to_string(src).unwrap_or_default();
        !text.contains("\"file:")
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor(pairs: &[(&str, &str)]) -> Redactor {
        let mut map: Vec<(String, String)> = pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        map.sort_by_key(|b| std::cmp::Reverse(b.0.len()));
        Redactor { map }
    }

    #[test]
    fn paths_become_bundle_paths() {
        let r = redactor(&[
            (
                "/work/venv/lib/python3.11/site-packages",
                "python/lib/python3.11/site-packages",
            ),
            ("/tmp/ct/libfoo.so", "lib/libfoo.so"),
            ("/work/app", "app"),
        ]);
        assert_eq!(
            r.text("module x (/work/app/x.py) is outside; /tmp/ct/libfoo.so: not found"),
            "module x (app/x.py) is outside; lib/libfoo.so: not found"
        );
        assert_eq!(
            r.text("needed by /opt/other/libbar.so.1, see \"/home/u/y z\""),
            "needed by …/libbar.so.1, see \"…/y z\""
        );
        // Relative and $ORIGIN paths are no build paths.
        assert_eq!(
            r.text("string \"$ORIGIN/../lib\" at .dynstr+0x3e9; a/b/c"),
            "string \"$ORIGIN/../lib\" at .dynstr+0x3e9; a/b/c"
        );
        assert_eq!(r.path("/work/appendix"), None);
        assert_eq!(
            r.path("/work/venv/lib/python3.11/site-packages/numpy/x.so")
                .as_deref(),
            Some("python/lib/python3.11/site-packages/numpy/x.so")
        );
        assert_eq!(r.text("a:/x/y:/z"), "a:…/y:…/z");
    }
}
