//! `shenzi-sbom.cdx.json`: a CycloneDX 1.6 bill of materials of the bundle.
//!
//! Components, each a package with its native files (ELF or Mach-O) nested in it:
//! - the interpreter: `pkg:generic/cpython@VERSION`, PSF-2.0;
//! - every bundled distribution: `pkg:pypi/NAME@VERSION`, the licence of its METADATA
//!   ([`super::licence`]) and links to the licence files in its `.dist-info`; its extension
//!   modules and wheel-vendored libraries (`*.libs/`) are its files, found through RECORD;
//! - every Debian package a bundled file came from ([`super::dpkg`]):
//!   `pkg:deb/VENDOR/NAME@VERSION?arch=ARCH`, with its copyright file copied to
//!   `licenses/NAME/copyright`;
//! - native files of none of these (a library from an rpm-based system or a build tree, the
//!   application's own) as top-level file components, `pkg:generic/NAME`.
//!
//! A file component's hash is the SHA-256 of the bundled bytes (after patching). Its
//! `dependencies[]` entry lists the bundled files it needs (DT_NEEDED as resolved). Nothing
//! depends on the clock or on chance: the timestamp is SOURCE_DATE_EPOCH (left out when unset)
//! and the serial number is derived from the document's content.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::collect::{Dist, Places};
use super::dpkg::{self, Package};
use super::licence::{self, Licence, Metadata};
use super::plan::{join_inside, Item, Plan, Source};
use super::policy::Policy;
use super::provenance::Redactor;
use super::write::{Outcome, Written};

pub const FILE_NAME: &str = "shenzi-sbom.cdx.json";
const SPEC_VERSION: &str = "1.6";

/// Who a bundled native file belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Owner {
    Dist(usize),
    Deb(Package),
    Interpreter,
    None,
}

struct DistEntry {
    meta: Metadata,
    dist_info_dest: String,
    licences: Vec<Licence>,
    /// Bundle paths of its licence files (only those the bundle holds).
    licence_files: Vec<(String, String)>,
}

/// What the SBOM needs that is decided before the bundle is written: who owns each native
/// file, and the licence files copied for Debian packages.
pub struct Inventory {
    python_version: String,
    dists: Vec<DistEntry>,
    /// Bundle path of every native file → its owner.
    owners: BTreeMap<String, Owner>,
    /// Debian package name → bundle path of its copyright file.
    copyrights: BTreeMap<String, String>,
    python_licence: Option<String>,
    vendor: String,
    pub warnings: Vec<String>,
}

/// Whether the first bytes of a file are those of an ELF or Mach-O file (thin or fat; a Java
/// class file shares the fat magic but has a class-file version where the slice count is).
fn is_native_header(h: &[u8]) -> bool {
    if h.starts_with(b"\x7fELF") {
        return true;
    }
    let Some(m) = h.get(..4) else { return false };
    let thin: [[u8; 4]; 4] = [
        [0xfe, 0xed, 0xfa, 0xce],
        [0xfe, 0xed, 0xfa, 0xcf],
        [0xce, 0xfa, 0xed, 0xfe],
        [0xcf, 0xfa, 0xed, 0xfe],
    ];
    if thin.iter().any(|t| t == m) {
        return true;
    }
    if m == [0xca, 0xfe, 0xba, 0xbe] || m == [0xca, 0xfe, 0xba, 0xbf] {
        let n = h
            .get(4..8)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            .unwrap_or(0);
        return (1..=20).contains(&n);
    }
    false
}

fn is_native_file(p: &Path) -> bool {
    let mut h = [0u8; 8];
    let Ok(mut f) = std::fs::File::open(p) else {
        return false;
    };
    let mut n = 0;
    while n < h.len() {
        match f.read(&mut h[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    is_native_header(&h[..n])
}

/// Paths a RECORD file lists (first CSV field), relative to the site directory.
fn record_paths(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let path = if let Some(rest) = line.strip_prefix('"') {
            // A quoted field: `""` is a quote inside it.
            let mut p = String::new();
            let mut chars = rest.chars().peekable();
            while let Some(c) = chars.next() {
                if c == '"' {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        p.push('"');
                        continue;
                    }
                    break;
                }
                p.push(c);
            }
            p
        } else {
            line.split(',').next().unwrap_or("").to_string()
        };
        if !path.is_empty() {
            out.push(path);
        }
    }
    out
}

/// Decides who owns each native file of `plan` and adds the Debian copyright files.
pub fn prepare(
    version: &str,
    places: &Places,
    dists: &[Dist],
    plan: &mut Plan,
    policy: &Policy,
) -> Result<Inventory> {
    let mut warnings = Vec::new();
    let natives: Vec<(String, PathBuf)> = plan
        .items
        .values()
        .filter_map(|it| match &it.source {
            Source::File(p) => Some((it.dest.clone(), p.clone())),
            _ => None,
        })
        .collect::<Vec<_>>()
        .into_par_iter()
        .filter(|(_, p)| is_native_file(p))
        .collect();

    // Distributions: their METADATA, licence files and RECORD.
    let mut entries = Vec::new();
    let mut by_record: HashMap<String, usize> = HashMap::new();
    let mut by_top: Vec<(String, usize)> = Vec::new();
    for (i, d) in dists.iter().enumerate() {
        let di = d.site.join(&d.dist_info);
        let meta_path = di.join("METADATA");
        let text = std::fs::read_to_string(&meta_path).unwrap_or_default();
        if text.is_empty() {
            warnings.push(format!(
                "{}: no METADATA; its licence is unknown",
                d.dist_info
            ));
        }
        let mut meta = licence::parse_metadata(&text);
        if meta.name.is_empty() {
            meta.name = d.name.clone();
        }
        let dist_info_dest = format!("{}/{}", places.site_dest, d.dist_info);
        let files = licence::licence_files(&di, &meta);
        let licences = licence::declared(&meta, &files);
        let licence_files = files
            .iter()
            .map(|f| (f.clone(), format!("{dist_info_dest}/{f}")))
            .filter(|(_, dest)| plan.items.contains_key(dest))
            .collect();
        let record = std::fs::read_to_string(di.join("RECORD")).unwrap_or_default();
        for p in record_paths(&record) {
            if let Some(dest) = join_inside(&places.site_dest, &p) {
                by_record.entry(dest).or_insert(i);
            }
        }
        for t in d.tops.iter().chain(d.top_files.iter()) {
            by_top.push((format!("{}/{t}", places.site_dest), i));
        }
        entries.push(DistEntry {
            meta,
            dist_info_dest,
            licences,
            licence_files,
        });
    }

    let mut owners: BTreeMap<String, Owner> = BTreeMap::new();
    let mut ask: Vec<PathBuf> = Vec::new();
    for (dest, src) in &natives {
        let dist = by_record.get(dest).copied().or_else(|| {
            by_top
                .iter()
                .find(|(t, _)| dest == t || dest.starts_with(&format!("{t}/")))
                .map(|(_, i)| *i)
        });
        match dist {
            Some(i) => {
                owners.insert(dest.clone(), Owner::Dist(i));
            }
            None => ask.push(src.clone()),
        }
    }
    ask.sort();
    ask.dedup();
    // The SBOM is worth less without packages, but the bundle is still right.
    let debs = dpkg::owners(&ask).unwrap_or_else(|e| {
        warnings.push(format!("the dpkg database was not read: {e:#}"));
        BTreeMap::new()
    });
    let mut copyrights = BTreeMap::new();
    for (dest, src) in &natives {
        if owners.contains_key(dest) {
            continue;
        }
        let owner = match debs.get(src) {
            Some(p) => Owner::Deb(p.clone()),
            None if dest.starts_with("python/") => Owner::Interpreter,
            None => Owner::None,
        };
        if let Owner::Deb(p) = &owner {
            if !copyrights.contains_key(&p.name) {
                let dest = format!("licenses/{}/copyright", p.name);
                match dpkg::copyright(&p.name) {
                    Some(c) if !policy.excluded(&dest) => {
                        plan.add(Item::copy(
                            c,
                            dest.clone(),
                            "licenses",
                            &format!("copyright of Debian package {}", p.name),
                        ));
                        copyrights.insert(p.name.clone(), dest);
                    }
                    Some(_) => {}
                    None => warnings.push(format!(
                        "Debian package {}: no /usr/share/doc/{}/copyright to copy",
                        p.name, p.name
                    )),
                }
            }
        }
        owners.insert(dest.clone(), owner);
    }
    // CPython's licence text sits in the standard library.
    let python_licence = plan
        .items
        .keys()
        .find(|d| {
            d.starts_with("python/lib/")
                && d.ends_with("/LICENSE.txt")
                && d.matches('/').count() == 3
        })
        .cloned();
    Ok(Inventory {
        python_version: version.to_string(),
        dists: entries,
        owners,
        copyrights,
        python_licence,
        vendor: dpkg::vendor(),
        warnings,
    })
}

// ---- The document ----

#[derive(Serialize)]
struct Bom {
    #[serde(rename = "$schema")]
    schema: &'static str,
    #[serde(rename = "bomFormat")]
    bom_format: &'static str,
    #[serde(rename = "specVersion")]
    spec_version: &'static str,
    #[serde(rename = "serialNumber", skip_serializing_if = "Option::is_none")]
    serial_number: Option<String>,
    version: u32,
    metadata: BomMetadata,
    components: Vec<Component>,
    dependencies: Vec<Dependency>,
}

#[derive(Serialize)]
struct BomMetadata {
    #[serde(skip_serializing_if = "Option::is_none")]
    timestamp: Option<String>,
    lifecycles: Vec<Lifecycle>,
    tools: Tools,
    component: Component,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
}

#[derive(Serialize)]
struct Lifecycle {
    phase: &'static str,
}

#[derive(Serialize)]
struct Tools {
    components: Vec<Component>,
}

#[derive(Serialize, Default)]
struct Component {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "bom-ref")]
    bom_ref: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hashes: Vec<Hash>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    licenses: Vec<LicenceChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cpe: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<String>,
    #[serde(rename = "externalReferences", skip_serializing_if = "Vec::is_empty")]
    external_references: Vec<ExternalReference>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    components: Vec<Component>,
}

#[derive(Serialize)]
struct Hash {
    alg: &'static str,
    content: String,
}

#[derive(Serialize)]
#[serde(untagged)]
enum LicenceChoice {
    Licence { license: LicenceObject },
    Expression { expression: String },
}

#[derive(Serialize)]
struct LicenceObject {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

#[derive(Serialize)]
struct ExternalReference {
    #[serde(rename = "type")]
    kind: &'static str,
    url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
}

#[derive(Serialize)]
struct Property {
    name: String,
    value: String,
}

#[derive(Serialize)]
struct Dependency {
    #[serde(rename = "ref")]
    bom_ref: String,
    #[serde(rename = "dependsOn", skip_serializing_if = "Vec::is_empty")]
    depends_on: Vec<String>,
}

fn property(name: &str, value: impl Into<String>) -> Property {
    Property {
        name: name.into(),
        value: value.into(),
    }
}

/// Percent-encodes `s` for a purl component: letters, digits, `.-_~` and `:` stay.
fn purl_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~' | b':') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A bundle path as a relative IRI reference (what CycloneDX URLs are).
fn iri_path(p: &str) -> String {
    let mut out = String::new();
    for c in p.chars() {
        let keep = !c.is_ascii()
            || c.is_ascii_alphanumeric()
            || matches!(
                c,
                '/' | '.'
                    | '-'
                    | '_'
                    | '~'
                    | '!'
                    | '$'
                    | '&'
                    | '\''
                    | '('
                    | ')'
                    | '*'
                    | '+'
                    | ','
                    | ';'
                    | '='
                    | '@'
            );
        if keep {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// PEP 503 name normalisation (lower case, runs of `-_.` as one `-`), as purls of PyPI want.
pub fn normalize_name(name: &str) -> String {
    let mut out = String::new();
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
            continue;
        }
        if sep && !out.is_empty() {
            out.push('-');
        }
        sep = false;
        out.push(c.to_ascii_lowercase());
    }
    out
}

fn pypi_purl(name: &str, version: &str) -> String {
    let mut p = format!("pkg:pypi/{}", purl_encode(&normalize_name(name)));
    if !version.is_empty() {
        p += &format!("@{}", purl_encode(version));
    }
    p
}

fn deb_purl(vendor: &str, p: &Package) -> String {
    format!(
        "pkg:deb/{}/{}@{}?arch={}",
        purl_encode(vendor),
        purl_encode(&p.name.to_ascii_lowercase()),
        purl_encode(&p.version),
        purl_encode(&p.arch)
    )
}

/// The UTC date and time of a Unix time, RFC 3339.
fn rfc3339(secs: i64) -> String {
    let (year, month, day, h, m, s) = super::clock::utc(secs);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}Z")
}

/// A name-based UUID (RFC 9562 version 8, from SHA-256) of `data`.
fn content_uuid(data: &[u8]) -> String {
    let h = Sha256::digest(data);
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

fn licence_choices(ls: &[Licence], url_of: impl Fn(&str) -> Option<String>) -> Vec<LicenceChoice> {
    if let Some(Licence::Expression(e)) = ls.first() {
        return vec![LicenceChoice::Expression {
            expression: e.clone(),
        }];
    }
    ls.iter()
        .filter_map(|l| match l {
            Licence::Expression(_) => None,
            Licence::Id(id) => Some(LicenceChoice::Licence {
                license: LicenceObject {
                    id: Some(id.clone()),
                    name: None,
                    url: None,
                },
            }),
            Licence::Name { name, file } => Some(LicenceChoice::Licence {
                license: LicenceObject {
                    id: None,
                    name: Some(name.clone()),
                    url: file.as_deref().and_then(&url_of),
                },
            }),
        })
        .collect()
}

fn licence_reference(dest: &str) -> ExternalReference {
    ExternalReference {
        kind: "license",
        url: iri_path(dest),
        comment: Some("licence text in the bundle".into()),
    }
}

/// Facts of the build the SBOM describes.
pub struct Build<'a> {
    /// Name of the application: the entry script's file name or the module.
    pub app: &'a str,
    pub floors: &'a [(String, String)],
    /// Bundle paths: dependent → dependency.
    pub edges: &'a [(String, String)],
    /// SOURCE_DATE_EPOCH, when set.
    pub epoch: Option<i64>,
    /// Without provenance: no source paths.
    pub redactor: Option<&'a Redactor>,
}

/// The SBOM of the bundle written into `root`.
pub fn json(
    inv: &Inventory,
    plan: &Plan,
    written: &Written,
    root: &Path,
    build: &Build,
) -> Result<String> {
    // SHA-256 of the bundled bytes; a hard link has the bytes of what it links to.
    let files: Vec<&String> = inv
        .owners
        .keys()
        .filter(|d| matches!(written.outcomes.get(*d), Some(Outcome::Written { .. })))
        .collect();
    let hashes: BTreeMap<&String, String> = files
        .par_iter()
        .filter(|d| !written.same_as.contains_key(**d))
        .map(|d| {
            let p = root.join(d);
            let h = super::place::file_hash(&p)
                .with_context(|| format!("cannot hash {}", p.display()))?;
            Ok((*d, h.iter().map(|b| format!("{b:02x}")).collect()))
        })
        .collect::<Result<_>>()?;
    let hash_of = |d: &String| -> Option<String> {
        let key = written.same_as.get(d).unwrap_or(d);
        hashes.get(key).cloned()
    };

    let file_component = |dest: &String, top_level: bool| -> Component {
        let mut props = Vec::new();
        if build.redactor.is_none() {
            if let Some(Item {
                source: Source::File(src),
                ..
            }) = plan.items.get(dest)
            {
                // Paths of the recorded machine (under --root, not of this one).
                props.push(property("shenzi:source", super::rootfs::logical(src)));
            }
        }
        if let Some(Outcome::Written {
            patched: Some(_), ..
        }) = written.outcomes.get(dest)
        {
            props.push(property("shenzi:patched", "true"));
        }
        let name = dest.rsplit('/').next().unwrap_or(dest);
        Component {
            kind: "file",
            bom_ref: format!("file:{dest}"),
            name: dest.clone(),
            hashes: hash_of(dest)
                .map(|content| Hash {
                    alg: "SHA-256",
                    content,
                })
                .into_iter()
                .collect(),
            purl: top_level.then(|| format!("pkg:generic/{}", purl_encode(name))),
            properties: props,
            ..Default::default()
        }
    };

    // Files by owner.
    let mut of_dist: BTreeMap<usize, Vec<Component>> = BTreeMap::new();
    let mut of_deb: BTreeMap<Package, Vec<Component>> = BTreeMap::new();
    let mut of_python: Vec<Component> = Vec::new();
    let mut loose: Vec<Component> = Vec::new();
    for d in &files {
        match &inv.owners[*d] {
            Owner::Dist(i) => of_dist
                .entry(*i)
                .or_default()
                .push(file_component(d, false)),
            Owner::Deb(p) => of_deb
                .entry(p.clone())
                .or_default()
                .push(file_component(d, false)),
            Owner::Interpreter => of_python.push(file_component(d, false)),
            Owner::None => loose.push(file_component(d, true)),
        }
    }

    let mut components = Vec::new();
    let mut refs: BTreeSet<String> = BTreeSet::new();
    let mut unique = |r: String| -> String {
        let mut candidate = r.clone();
        let mut n = 2;
        while !refs.insert(candidate.clone()) {
            candidate = format!("{r}#{n}");
            n += 1;
        }
        candidate
    };

    let v = &inv.python_version;
    components.push(Component {
        kind: "application",
        bom_ref: unique("cpython".into()),
        name: "cpython".into(),
        version: (!v.is_empty()).then(|| v.clone()),
        licenses: vec![LicenceChoice::Licence {
            license: LicenceObject {
                id: Some("PSF-2.0".into()),
                name: None,
                url: None,
            },
        }],
        cpe: (!v.is_empty()).then(|| format!("cpe:2.3:a:python:python:{v}:*:*:*:*:*:*:*")),
        purl: Some(if v.is_empty() {
            "pkg:generic/cpython".into()
        } else {
            format!("pkg:generic/cpython@{}", purl_encode(v))
        }),
        external_references: inv
            .python_licence
            .iter()
            .map(|d| licence_reference(d))
            .collect(),
        components: of_python,
        ..Default::default()
    });
    let mut app_deps = vec![components[0].bom_ref.clone()];

    let mut order: Vec<usize> = (0..inv.dists.len()).collect();
    order.sort_by(|a, b| {
        let (x, y) = (&inv.dists[*a].meta, &inv.dists[*b].meta);
        (normalize_name(&x.name), &x.version).cmp(&(normalize_name(&y.name), &y.version))
    });
    for i in order {
        let d = &inv.dists[i];
        let purl = pypi_purl(&d.meta.name, &d.meta.version);
        let url_of = |f: &str| {
            d.licence_files
                .iter()
                .find(|(rel, _)| rel == f)
                .map(|(_, dest)| iri_path(dest))
        };
        let c = Component {
            kind: "library",
            bom_ref: unique(purl.clone()),
            name: d.meta.name.clone(),
            version: (!d.meta.version.is_empty()).then(|| d.meta.version.clone()),
            licenses: licence_choices(&d.licences, url_of),
            purl: Some(purl),
            external_references: d
                .licence_files
                .iter()
                .map(|(_, dest)| licence_reference(dest))
                .collect(),
            properties: vec![property("shenzi:dist-info", d.dist_info_dest.clone())],
            components: of_dist.remove(&i).unwrap_or_default(),
            ..Default::default()
        };
        app_deps.push(c.bom_ref.clone());
        components.push(c);
    }

    for (p, files) in of_deb {
        let purl = deb_purl(&inv.vendor, &p);
        let copyright = inv.copyrights.get(&p.name);
        let mut props = Vec::new();
        if let Some(s) = &p.source {
            props.push(property("shenzi:deb-source", s.clone()));
        }
        components.push(Component {
            kind: "library",
            bom_ref: unique(purl.clone()),
            name: p.name.clone(),
            version: Some(p.version.clone()),
            licenses: copyright
                .map(|c| {
                    vec![LicenceChoice::Licence {
                        license: LicenceObject {
                            id: None,
                            name: Some("Debian copyright file".into()),
                            url: Some(iri_path(c)),
                        },
                    }]
                })
                .unwrap_or_default(),
            purl: Some(purl),
            external_references: copyright
                .map(|c| licence_reference(c))
                .into_iter()
                .collect(),
            properties: props,
            components: files,
            ..Default::default()
        });
    }
    components.extend(loose);

    // Dependencies: the application needs the interpreter and the distributions; each native
    // file the files it loads (every file gets an entry, empty when it needs nothing bundled).
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for d in &files {
        deps.insert(format!("file:{d}"), BTreeSet::new());
    }
    for (from, to) in build.edges {
        let (f, t) = (format!("file:{from}"), format!("file:{to}"));
        if f != t && deps.contains_key(&t) {
            if let Some(s) = deps.get_mut(&f) {
                s.insert(t);
            }
        }
    }
    let mut dependencies = vec![Dependency {
        bom_ref: "app".into(),
        depends_on: app_deps,
    }];
    dependencies.extend(deps.into_iter().map(|(r, s)| Dependency {
        bom_ref: r,
        depends_on: s.into_iter().collect(),
    }));

    let metadata = BomMetadata {
        timestamp: build.epoch.map(rfc3339),
        lifecycles: vec![Lifecycle { phase: "build" }],
        tools: Tools {
            components: vec![Component {
                kind: "application",
                bom_ref: "tool:shenzi".into(),
                name: "shenzi".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
                ..Default::default()
            }],
        },
        component: Component {
            kind: "application",
            bom_ref: "app".into(),
            name: build.app.to_string(),
            ..Default::default()
        },
        properties: build
            .floors
            .iter()
            .map(|(k, v)| property(&format!("shenzi:{k}_floor"), v.clone()))
            .collect(),
    };
    let mut bom = Bom {
        schema: "http://cyclonedx.org/schema/bom-1.6.schema.json",
        bom_format: "CycloneDX",
        spec_version: SPEC_VERSION,
        serial_number: None,
        version: 1,
        metadata,
        components,
        dependencies,
    };
    let unsigned = serde_json::to_vec(&bom)?;
    bom.serial_number = Some(content_uuid(&unsigned));
    Ok(serde_json::to_string_pretty(&bom)? + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls() {
        assert_eq!(normalize_name("Shenzi_Scripts"), "shenzi-scripts");
        assert_eq!(normalize_name("zope.interface"), "zope-interface");
        assert_eq!(normalize_name("a--b__c"), "a-b-c");
        assert_eq!(pypi_purl("Pillow", "13.0.0"), "pkg:pypi/pillow@13.0.0");
        let p = Package {
            name: "libc6".into(),
            arch: "amd64".into(),
            version: "1:2.36-9+deb12u10".into(),
            source: Some("glibc".into()),
        };
        assert_eq!(
            deb_purl("debian", &p),
            "pkg:deb/debian/libc6@1:2.36-9%2Bdeb12u10?arch=amd64"
        );
    }

    #[test]
    fn times_and_serials() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(315_532_800), "1980-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        let u = content_uuid(b"x");
        assert_eq!(u, content_uuid(b"x"));
        assert_ne!(u, content_uuid(b"y"));
        let hex = u.strip_prefix("urn:uuid:").unwrap();
        assert_eq!(hex.len(), 36);
        assert_eq!(&hex[14..15], "8");
        assert!(matches!(&hex[19..20], "8" | "9" | "a" | "b"));
    }

    #[test]
    fn native_headers() {
        assert!(is_native_header(b"\x7fELF\x02\x01\x01\x00"));
        assert!(is_native_header(&[0xcf, 0xfa, 0xed, 0xfe, 0, 0, 0, 0]));
        assert!(is_native_header(&[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2]));
        // A Java class file (version 52) is no fat Mach-O.
        assert!(!is_native_header(&[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52]));
        assert!(!is_native_header(b"#!/bin/sh"));
        assert!(!is_native_header(b"\x7fEL"));
    }

    #[test]
    fn record_fields() {
        let r = "numpy/__init__.py,sha256=x,10\n\"odd,name.py\",sha256=y,2\n\
                 \"with \"\"quote\"\".py\",,\n../../../bin/f2py,sha256=z,1\n";
        assert_eq!(
            record_paths(r),
            [
                "numpy/__init__.py",
                "odd,name.py",
                "with \"quote\".py",
                "../../../bin/f2py"
            ]
        );
    }

    #[test]
    fn iri_paths() {
        assert_eq!(
            iri_path("licenses/libssl3/copyright"),
            "licenses/libssl3/copyright"
        );
        assert_eq!(iri_path("a b/c:d#e"), "a%20b/c%3Ad%23e");
    }
}
