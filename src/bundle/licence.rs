//! The licence a Python distribution declares in its core metadata (`.dist-info/METADATA`),
//! in the order of trust:
//! 1. `License-Expression` (PEP 639: an SPDX expression), when it parses as one;
//! 2. `License`, when it is an SPDX identifier or expression of identifiers known here (or one
//!    of a few common spellings of them, e.g. `Apache 2.0`);
//! 3. `Classifier: License :: …` lines: those that name one licence become its SPDX identifier;
//!    the ones PEP 639 calls ambiguous (`BSD License`, `Apache Software License`, GPL without
//!    a version, …) stay names;
//! 4. a short `License` text that is not an identifier, as a name;
//! 5. else the licence files the distribution ships (`License-File:` entries, the
//!    `.dist-info/licenses/` folder, `LICENSE*`/`COPYING*` beside METADATA), as named licences.
//!
//! The licence files are listed in every case, so that the SBOM can point at them.

use std::path::Path;

/// One entry of a CycloneDX licence choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Licence {
    /// An SPDX expression; CycloneDX allows it only as the sole entry.
    Expression(String),
    /// An SPDX licence identifier.
    Id(String),
    /// A licence without an SPDX identifier; `file` is a licence file's path inside .dist-info.
    Name { name: String, file: Option<String> },
}

/// What a distribution's METADATA says.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Metadata {
    pub name: String,
    pub version: String,
    pub license_expression: Option<String>,
    pub license: Option<String>,
    pub classifiers: Vec<String>,
    /// `License-File:` entries (paths relative to `.dist-info/licenses/`, or for metadata
    /// before 2.4 relative to `.dist-info/`).
    pub license_files: Vec<String>,
}

/// Parses the header block of a METADATA file (RFC 822 style; continuation lines start with
/// white space, even blank ones inside a long `License` text; an empty line ends the block).
pub fn parse_metadata(text: &str) -> Metadata {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = fields.last_mut() {
                v.push('\n');
                v.push_str(line.trim());
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            fields.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let mut m = Metadata::default();
    for (k, v) in fields {
        match k.as_str() {
            "name" => m.name = v,
            "version" => m.version = v,
            "license-expression" if !v.is_empty() => m.license_expression = Some(v),
            "license" if !v.is_empty() => m.license = Some(v),
            "classifier" => m.classifiers.push(v),
            "license-file" if !v.is_empty() => m.license_files.push(v),
            _ => {}
        }
    }
    m
}

/// SPDX identifiers recognised in the free-text `License` field (compared case-insensitively,
/// written as here).
const KNOWN_IDS: &[&str] = &[
    "0BSD",
    "AFL-3.0",
    "AGPL-3.0-only",
    "AGPL-3.0-or-later",
    "Apache-1.1",
    "Apache-2.0",
    "Artistic-2.0",
    "BlueOak-1.0.0",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "BSD-3-Clause-Clear",
    "BSD-4-Clause",
    "BSL-1.0",
    "bzip2-1.0.6",
    "CC0-1.0",
    "CDDL-1.0",
    "CNRI-Python",
    "curl",
    "EPL-1.0",
    "EPL-2.0",
    "EUPL-1.2",
    "FTL",
    "GPL-2.0-only",
    "GPL-2.0-or-later",
    "GPL-3.0-only",
    "GPL-3.0-or-later",
    "HPND",
    "IJG",
    "ISC",
    "LGPL-2.0-only",
    "LGPL-2.0-or-later",
    "LGPL-2.1-only",
    "LGPL-2.1-or-later",
    "LGPL-3.0-only",
    "LGPL-3.0-or-later",
    "libpng-2.0",
    "libtiff",
    "MIT",
    "MIT-0",
    "MIT-CMU",
    "MIT-Modern-Variant",
    "MPL-1.1",
    "MPL-2.0",
    "MS-PL",
    "NCSA",
    "OpenSSL",
    "PostgreSQL",
    "PSF-2.0",
    "Python-2.0",
    "Unicode-3.0",
    "Unicode-DFS-2016",
    "Unlicense",
    "UPL-1.0",
    "WTFPL",
    "X11",
    "Zlib",
    "ZPL-2.1",
];

/// Common spellings of licences in the `License` field that name one SPDX licence exactly.
const ALIASES: &[(&str, &str)] = &[
    ("mit license", "MIT"),
    ("the mit license", "MIT"),
    ("mit/expat", "MIT"),
    ("expat", "MIT"),
    ("apache 2.0", "Apache-2.0"),
    ("apache 2", "Apache-2.0"),
    ("apache-2", "Apache-2.0"),
    ("apache license 2.0", "Apache-2.0"),
    ("apache license, version 2.0", "Apache-2.0"),
    ("apache license version 2.0", "Apache-2.0"),
    ("apache software license 2.0", "Apache-2.0"),
    ("asl 2.0", "Apache-2.0"),
    ("bsd 3-clause", "BSD-3-Clause"),
    ("bsd-3", "BSD-3-Clause"),
    ("bsd 3-clause license", "BSD-3-Clause"),
    ("3-clause bsd license", "BSD-3-Clause"),
    ("new bsd license", "BSD-3-Clause"),
    ("modified bsd license", "BSD-3-Clause"),
    ("bsd 2-clause", "BSD-2-Clause"),
    ("bsd-2", "BSD-2-Clause"),
    ("bsd 2-clause license", "BSD-2-Clause"),
    ("simplified bsd license", "BSD-2-Clause"),
    ("mpl 2.0", "MPL-2.0"),
    ("mpl-2", "MPL-2.0"),
    ("mozilla public license 2.0", "MPL-2.0"),
    ("psf", "PSF-2.0"),
    ("psf license", "PSF-2.0"),
    ("python software foundation license", "PSF-2.0"),
    ("isc license", "ISC"),
    ("zlib license", "Zlib"),
    ("the unlicense", "Unlicense"),
];

/// Trove classifiers (after `License :: `) that name exactly one SPDX licence. Those PEP 639
/// lists as ambiguous are not here.
const CLASSIFIERS: &[(&str, &str)] = &[
    ("OSI Approved :: MIT License", "MIT"),
    (
        "OSI Approved :: MIT No Attribution License (MIT-0)",
        "MIT-0",
    ),
    ("OSI Approved :: ISC License (ISCL)", "ISC"),
    (
        "OSI Approved :: Mozilla Public License 1.1 (MPL 1.1)",
        "MPL-1.1",
    ),
    (
        "OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)",
        "MPL-2.0",
    ),
    (
        "OSI Approved :: Python Software Foundation License",
        "PSF-2.0",
    ),
    ("OSI Approved :: zlib/libpng License", "Zlib"),
    ("OSI Approved :: The Unlicense (Unlicense)", "Unlicense"),
    (
        "OSI Approved :: Boost Software License 1.0 (BSL-1.0)",
        "BSL-1.0",
    ),
    (
        "OSI Approved :: Universal Permissive License (UPL)",
        "UPL-1.0",
    ),
    (
        "OSI Approved :: Eclipse Public License 1.0 (EPL-1.0)",
        "EPL-1.0",
    ),
    (
        "OSI Approved :: Eclipse Public License 2.0 (EPL-2.0)",
        "EPL-2.0",
    ),
    (
        "OSI Approved :: European Union Public Licence 1.2 (EUPL 1.2)",
        "EUPL-1.2",
    ),
    (
        "OSI Approved :: Historical Permission Notice and Disclaimer (HPND)",
        "HPND",
    ),
    ("OSI Approved :: PostgreSQL License", "PostgreSQL"),
    (
        "OSI Approved :: Blue Oak Model License (BlueOak-1.0.0)",
        "BlueOak-1.0.0",
    ),
    ("OSI Approved :: Apache Software License 2.0", "Apache-2.0"),
    (
        "OSI Approved :: University of Illinois/NCSA Open Source License",
        "NCSA",
    ),
    ("OSI Approved :: Zope Public License", "ZPL-2.1"),
    (
        "OSI Approved :: GNU General Public License v2 or later (GPLv2+)",
        "GPL-2.0-or-later",
    ),
    (
        "OSI Approved :: GNU General Public License v3 or later (GPLv3+)",
        "GPL-3.0-or-later",
    ),
    (
        "OSI Approved :: GNU Lesser General Public License v3 or later (LGPLv3+)",
        "LGPL-3.0-or-later",
    ),
    (
        "OSI Approved :: GNU Affero General Public License v3 or later (AGPLv3+)",
        "AGPL-3.0-or-later",
    ),
    (
        "CC0 1.0 Universal (CC0 1.0) Public Domain Dedication",
        "CC0-1.0",
    ),
];

/// The canonical spelling of a known SPDX identifier.
fn known_id(s: &str) -> Option<&'static str> {
    KNOWN_IDS
        .iter()
        .copied()
        .find(|k| k.eq_ignore_ascii_case(s))
}

/// Splits an SPDX expression into identifiers, operators and parentheses.
fn tokens(expr: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in expr.char_indices() {
        if c == '(' || c == ')' || c.is_whitespace() {
            if let Some(s) = start.take() {
                out.push(&expr[s..i]);
            }
            if !c.is_whitespace() {
                out.push(&expr[i..i + 1]);
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push(&expr[s..]);
    }
    out
}

fn is_operator(t: &str) -> bool {
    matches!(t, "AND" | "OR" | "WITH" | "and" | "or" | "with")
}

fn is_idstring(t: &str) -> bool {
    !t.is_empty()
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | ':'))
}

/// Whether `expr` has the shape of an SPDX licence expression: identifiers joined by AND / OR
/// (an identifier optionally `WITH` an exception), parenthesised in balance. With `known`, every
/// identifier must also be one of [`KNOWN_IDS`] (or a `LicenseRef-`).
fn is_expression(expr: &str, known: bool) -> bool {
    let mut depth = 0usize;
    let mut want_operand = true;
    let mut after_with = false;
    let toks = tokens(expr);
    if toks.is_empty() {
        return false;
    }
    for t in toks {
        match t {
            "(" if want_operand => depth += 1,
            ")" if !want_operand && depth > 0 => depth -= 1,
            t if is_operator(t) && !want_operand => {
                after_with = t.eq_ignore_ascii_case("WITH");
                want_operand = true;
            }
            t if want_operand && is_idstring(t) && !is_operator(t) => {
                let id_ok = after_with
                    || !known
                    || t.starts_with("LicenseRef-")
                    || known_id(t.trim_end_matches('+')).is_some();
                if !id_ok {
                    return false;
                }
                after_with = false;
                want_operand = false;
            }
            _ => return false,
        }
    }
    depth == 0 && !want_operand
}

/// An expression of known identifiers, written canonically (`mit or apache-2.0` →
/// `MIT OR Apache-2.0`).
fn canonical_expression(expr: &str) -> String {
    let mut out = String::new();
    let mut prev_open = true;
    for t in tokens(expr) {
        let word = if is_operator(t) {
            t.to_ascii_uppercase()
        } else {
            known_id(t)
                .map(String::from)
                .unwrap_or_else(|| t.to_string())
        };
        if !(prev_open || word == ")") {
            out.push(' ');
        }
        prev_open = word == "(";
        out.push_str(&word);
    }
    out
}

/// The `License` field as SPDX, when it is one of the identifiers or spellings known here.
fn license_field(text: &str) -> Option<Licence> {
    let t = text.trim();
    if t.contains('\n') {
        return None;
    }
    if let Some((_, id)) = ALIASES.iter().find(|(a, _)| a.eq_ignore_ascii_case(t)) {
        return Some(Licence::Id((*id).into()));
    }
    if let Some(id) = known_id(t) {
        return Some(Licence::Id(id.into()));
    }
    if is_expression(t, true) && tokens(t).len() > 1 {
        return Some(Licence::Expression(canonical_expression(t)));
    }
    None
}

/// The licences of a classifier list, in order, without repeats.
fn classifier_licences(classifiers: &[String]) -> Vec<Licence> {
    let mut out: Vec<Licence> = Vec::new();
    for c in classifiers {
        let Some(rest) = c.strip_prefix("License ::") else {
            continue;
        };
        let rest = rest.trim();
        let l = match CLASSIFIERS.iter().find(|(k, _)| *k == rest) {
            Some((_, id)) => Licence::Id((*id).into()),
            None => Licence::Name {
                name: rest.rsplit(" :: ").next().unwrap_or(rest).to_string(),
                file: None,
            },
        };
        if !out.contains(&l) {
            out.push(l);
        }
    }
    out
}

/// The licence files a distribution ships, as paths inside its .dist-info folder, sorted:
/// `License-File:` entries, everything under `licenses/`, and `LICENSE*` / `LICENCE*` /
/// `COPYING*` / `NOTICE*` beside METADATA.
pub fn licence_files(dist_info: &Path, meta: &Metadata) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |rel: String| {
        if !out.contains(&rel) {
            out.push(rel);
        }
    };
    for f in &meta.license_files {
        if f.split('/').any(|c| c == ".." || c.is_empty()) {
            continue;
        }
        for rel in [format!("licenses/{f}"), f.clone()] {
            if dist_info.join(&rel).is_file() {
                add(rel);
                break;
            }
        }
    }
    let lic = dist_info.join("licenses");
    for e in walkdir::WalkDir::new(&lic)
        .sort_by_file_name()
        .into_iter()
        .flatten()
    {
        if e.file_type().is_file() {
            if let Ok(r) = e.path().strip_prefix(dist_info) {
                add(super::collect::rel_str(r));
            }
        }
    }
    if let Ok(rd) = std::fs::read_dir(dist_info) {
        let mut names: Vec<String> = rd
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| {
                let u = n.to_ascii_uppercase();
                ["LICENSE", "LICENCE", "COPYING", "NOTICE"]
                    .iter()
                    .any(|p| u.starts_with(p))
            })
            .collect();
        names.sort();
        for n in names {
            add(n);
        }
    }
    out.sort();
    out
}

/// The licences a distribution declares; `files` are its licence files (inside .dist-info).
pub fn declared(meta: &Metadata, files: &[String]) -> Vec<Licence> {
    if let Some(e) = &meta.license_expression {
        let e = e.trim();
        if is_expression(e, false) {
            return vec![if tokens(e).len() == 1 {
                match known_id(e) {
                    Some(id) => Licence::Id(id.into()),
                    None => Licence::Expression(e.into()),
                }
            } else {
                Licence::Expression(e.into())
            }];
        }
    }
    if let Some(l) = meta.license.as_deref().and_then(license_field) {
        return vec![l];
    }
    let from_classifiers = classifier_licences(&meta.classifiers);
    if !from_classifiers.is_empty() {
        return from_classifiers;
    }
    if let Some(t) = meta.license.as_deref().map(str::trim) {
        if !t.contains('\n') && t.len() <= 80 && !t.eq_ignore_ascii_case("unknown") {
            return vec![Licence::Name {
                name: t.into(),
                file: None,
            }];
        }
    }
    files
        .iter()
        .map(|f| Licence::Name {
            name: f.strip_prefix("licenses/").unwrap_or(f).to_string(),
            file: Some(f.clone()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(text: &str) -> Metadata {
        parse_metadata(text)
    }

    #[test]
    fn metadata_headers() {
        let m = meta(
            "Metadata-Version: 2.4\nName: cryptography\nVersion: 50.0.2\n\
             License-File: LICENSE\nLicense-File: LICENSE.APACHE\n\
             License-Expression: Apache-2.0 OR BSD-3-Clause\n\
             Classifier: License :: OSI Approved :: Apache Software License\n\n\
             License: in the body, not a header\n",
        );
        assert_eq!(m.name, "cryptography");
        assert_eq!(m.version, "50.0.2");
        assert_eq!(m.license, None);
        assert_eq!(m.license_files, ["LICENSE", "LICENSE.APACHE"]);
        assert_eq!(
            declared(&m, &[]),
            [Licence::Expression("Apache-2.0 OR BSD-3-Clause".into())]
        );
    }

    #[test]
    fn license_field_and_classifiers() {
        let lxml = meta("Name: lxml\nVersion: 6\nLicense: BSD-3-Clause\n");
        assert_eq!(declared(&lxml, &[]), [Licence::Id("BSD-3-Clause".into())]);
        let pip =
            meta("Name: pip\nLicense: mit\nClassifier: License :: OSI Approved :: MIT License\n");
        assert_eq!(declared(&pip, &[]), [Licence::Id("MIT".into())]);
        let st = meta("Name: setuptools\nClassifier: License :: OSI Approved :: MIT License\n");
        assert_eq!(declared(&st, &[]), [Licence::Id("MIT".into())]);
        let both = meta("Name: x\nLicense: mit or apache-2.0\n");
        assert_eq!(
            declared(&both, &[]),
            [Licence::Expression("MIT OR Apache-2.0".into())]
        );
        let ambiguous = meta(
            "Name: x\nLicense: BSD\nClassifier: License :: OSI Approved :: BSD License\n\
             Classifier: License :: OSI Approved :: MIT License\n",
        );
        assert_eq!(
            declared(&ambiguous, &[]),
            [
                Licence::Name {
                    name: "BSD License".into(),
                    file: None
                },
                Licence::Id("MIT".into())
            ]
        );
        let free = meta("Name: x\nLicense: Dual licence, see LICENSE\n");
        assert_eq!(
            declared(&free, &[]),
            [Licence::Name {
                name: "Dual licence, see LICENSE".into(),
                file: None
            }]
        );
        // A whole licence text (with blank continuation lines) is no name; the classifiers
        // after it still count.
        let numpy = meta(
            "Name: numpy\nLicense: Copyright (c) 2005\n        All rights reserved.\n        \n\
             \x20       * Redistributions ...\n\
             Classifier: License :: OSI Approved :: BSD License\n\n",
        );
        assert_eq!(
            declared(&numpy, &[]),
            [Licence::Name {
                name: "BSD License".into(),
                file: None
            }]
        );
        let text = meta("Name: x\nLicense: Copyright (c) 2001\n        All rights reserved.\n");
        assert_eq!(
            declared(&text, &["licenses/LICENSE".into()]),
            [Licence::Name {
                name: "LICENSE".into(),
                file: Some("licenses/LICENSE".into())
            }]
        );
    }

    #[test]
    fn expressions() {
        assert!(is_expression(
            "BSD-3-Clause AND 0BSD AND MIT AND Zlib AND CC0-1.0",
            false
        ));
        assert!(is_expression(
            "(MIT OR Apache-2.0) AND GPL-2.0-only WITH Classpath-exception-2.0",
            true
        ));
        assert!(is_expression("LicenseRef-Proprietary", true));
        assert!(!is_expression("MIT OR", false));
        assert!(!is_expression("(MIT", false));
        assert!(!is_expression("MIT Apache-2.0", false));
        assert!(!is_expression("see LICENSE file", false));
        assert!(!is_expression("Foo-1.0 OR MIT", true));
        assert_eq!(
            canonical_expression("( mit or apache-2.0 ) and zlib"),
            "(MIT OR Apache-2.0) AND Zlib"
        );
        // A malformed License-Expression falls through to the other fields.
        let m = meta("Name: x\nLicense-Expression: MIT OR\nLicense: MIT\n");
        assert_eq!(declared(&m, &[]), [Licence::Id("MIT".into())]);
    }

    #[test]
    fn licence_files_found() {
        let d = tempfile::tempdir().unwrap();
        let di = d.path();
        std::fs::create_dir_all(di.join("licenses/sub")).unwrap();
        std::fs::write(di.join("licenses/LICENSE"), "x").unwrap();
        std::fs::write(di.join("licenses/sub/COPYING"), "x").unwrap();
        std::fs::write(di.join("AUTHORS.txt"), "x").unwrap();
        std::fs::write(di.join("LICENSE.txt"), "x").unwrap();
        std::fs::write(di.join("METADATA"), "x").unwrap();
        let m =
            meta("Name: x\nLicense-File: LICENSE\nLicense-File: AUTHORS.txt\nLicense-File: ../x\n");
        assert_eq!(
            licence_files(di, &m),
            [
                "AUTHORS.txt",
                "LICENSE.txt",
                "licenses/LICENSE",
                "licenses/sub/COPYING"
            ]
        );
    }
}
