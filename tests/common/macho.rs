//! Helpers of the Mach-O integration tests: the corpus, the oracles (LLVM tools, the
//! macholib/hashlib script in corpus/macho/oracle.py, the object crate) and listing comparison
//! modulo a shift.
//!
//! A missing oracle skips a test locally but fails it when SHENZI_REQUIRE_ORACLES=1 (CI).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

pub use super::{require_oracles, root};

pub fn shenzi() -> Command {
    Command::new(env!("CARGO_BIN_EXE_shenzi"))
}

/// Returns `Some(())` when the oracle is there; otherwise skips (None) or panics under
/// SHENZI_REQUIRE_ORACLES=1.
pub fn need(ok: bool, what: &str) -> Option<()> {
    if ok {
        return Some(());
    }
    if require_oracles() {
        panic!("oracle missing: {what} (run corpus/macho/setup.sh)");
    }
    eprintln!("skipping: {what} is missing (run corpus/macho/setup.sh)");
    None
}

/// An LLVM tool by its versioned or plain name.
pub fn tool(name: &str) -> Option<String> {
    [format!("{name}-19"), name.to_string()]
        .into_iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

pub fn python() -> Option<PathBuf> {
    let p = root().join("target/macho-venv/bin/python");
    let ok = Command::new(&p)
        .args(["-c", "import macholib"])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some(p)
}

/// Builds the corpus once per test binary; None when clang/lld are missing.
pub fn corpus() -> Option<PathBuf> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        tool("clang")?;
        let out = root().join("target/corpus-macho");
        let st = Command::new("sh")
            .arg(root().join("corpus/macho/build.sh"))
            .arg(&out)
            .output()
            .ok()?;
        if !st.status.success() {
            panic!(
                "corpus/macho/build.sh failed:\n{}",
                String::from_utf8_lossy(&st.stderr)
            );
        }
        Some(out)
    });
    need(dir.is_some(), "clang-19/lld-19")?;
    dir.clone()
}

/// Corpus inputs (thin and fat, libraries and programs).
pub fn corpus_files() -> Option<Vec<PathBuf>> {
    let dir = corpus()?;
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            p.is_file()
                && (n.ends_with(".dylib") || n.ends_with("-main"))
                && !n.starts_with("large")
        })
        .collect();
    v.sort();
    assert!(v.len() >= 12, "corpus too small: {v:?}");
    Some(v)
}

/// Every .so/.dylib extracted from the macOS wheels (corpus/macho/fetch_wheels.sh).
pub fn wheel_files() -> Option<Vec<PathBuf>> {
    let dir = root().join("target/wheels-macho");
    let mut v = Vec::new();
    fn walk(d: &Path, v: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() && p.file_name().is_some_and(|n| n != "dl") {
                walk(&p, v);
            } else if p.extension().is_some_and(|x| x == "so" || x == "dylib") {
                v.push(p);
            }
        }
    }
    walk(&dir, &mut v);
    v.sort();
    need(
        v.len() >= 50,
        "macOS wheel binaries (corpus/macho/fetch_wheels.sh)",
    )?;
    Some(v)
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("spawn")
}

pub fn ok(cmd: &mut Command) -> String {
    let o = run(cmd);
    assert!(
        o.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&o.stderr),
        String::from_utf8_lossy(&o.stdout)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A scratch copy of `src` in a fresh temp dir.
pub fn scratch(src: &Path) -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join(src.file_name().unwrap());
    std::fs::copy(src, &p).unwrap();
    (d, p)
}

pub fn oracle(args: &[&std::ffi::OsStr]) -> Value {
    let py = python().expect("python with macholib");
    let out = ok(Command::new(py)
        .arg(root().join("corpus/macho/oracle.py"))
        .args(args));
    serde_json::from_str(&out).expect("oracle json")
}

/// The oracle's verdict per slice: (arch, json).
pub fn check(file: &Path) -> Vec<Value> {
    let v = oracle(&["check".as_ref(), file.as_os_str()]);
    v.as_object()
        .unwrap()
        .values()
        .next()
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

pub fn sections(file: &Path) -> Vec<Value> {
    oracle(&["sections".as_ref(), file.as_os_str()])
        .as_array()
        .unwrap()
        .clone()
}

/// Asserts llvm-objdump and llvm-otool read the file without complaint; returns otool -l.
pub fn llvm_accepts(file: &Path, arch: Option<&str>) -> String {
    let objdump = tool("llvm-objdump").unwrap();
    let otool = tool("llvm-otool").unwrap();
    let mut c = Command::new(&objdump);
    c.args(["--macho", "--private-headers"]);
    if let Some(a) = arch {
        c.arg(format!("--arch={a}"));
    }
    let o = run(c.arg(file));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        o.status.success() && !text.contains("malformed"),
        "llvm-objdump on {file:?}: {text}"
    );
    let o = run(Command::new(&otool).arg("-l").arg(file));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        o.status.success() && !text.contains("malformed"),
        "llvm-otool on {file:?}: {text}"
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// One slice as the `object` crate reads it: dylib references (in order), LC_RPATHs, id.
#[derive(Debug, PartialEq, Eq)]
pub struct ObjectSlice {
    pub dylibs: Vec<String>,
    pub rpaths: Vec<String>,
    pub id: Option<String>,
}

fn object_thin<M: object::read::macho::MachHeader<Endian = object::Endianness>>(
    data: &[u8],
) -> ObjectSlice {
    use object::read::macho::LoadCommandVariant;
    let header = M::parse(data, 0).expect("object: Mach-O header");
    let endian = header.endian().expect("object: byte order");
    let mut cmds = header
        .load_commands(endian, data, 0)
        .expect("object: load commands");
    let mut out = ObjectSlice {
        dylibs: Vec::new(),
        rpaths: Vec::new(),
        id: None,
    };
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    while let Some(c) = cmds.next().expect("object: a load command") {
        match c.variant().expect("object: a load command's body") {
            LoadCommandVariant::Dylib(d) => {
                let name = c.string(endian, d.dylib.name).expect("object: dylib name");
                out.dylibs.push(text(name));
            }
            LoadCommandVariant::IdDylib(d) => {
                let name = c.string(endian, d.dylib.name).expect("object: id");
                out.id = Some(text(name));
            }
            LoadCommandVariant::Rpath(r) => {
                let path = c.string(endian, r.path).expect("object: rpath");
                out.rpaths.push(text(path));
            }
            _ => {}
        }
    }
    // Every segment's file range lies in the slice.
    let mut segs = header
        .load_commands(endian, data, 0)
        .expect("object: load commands");
    while let Some(c) = segs.next().unwrap() {
        let range = match c.variant().unwrap() {
            LoadCommandVariant::Segment64(s, _) => {
                Some((s.fileoff.get(endian), s.filesize.get(endian)))
            }
            LoadCommandVariant::Segment32(s, _) => Some((
                u64::from(s.fileoff.get(endian)),
                u64::from(s.filesize.get(endian)),
            )),
            _ => None,
        };
        if let Some((off, size)) = range {
            assert!(
                off.checked_add(size)
                    .is_some_and(|e| e <= data.len() as u64),
                "object: a segment runs past the file"
            );
        }
    }
    out
}

/// Every slice of a Mach-O file (thin or fat) as the `object` crate reads it: a second,
/// independent parser of what the tests write.
pub fn object_macho(data: &[u8]) -> Vec<ObjectSlice> {
    use object::macho::{MachHeader32, MachHeader64};
    use object::read::macho::{MachOFatFile32, MachOFatFile64};
    let thin = |d: &[u8]| match object::FileKind::parse(d).expect("object: file kind") {
        object::FileKind::MachO64 => object_thin::<MachHeader64<object::Endianness>>(d),
        object::FileKind::MachO32 => object_thin::<MachHeader32<object::Endianness>>(d),
        k => panic!("object: not a thin Mach-O file ({k:?})"),
    };
    use object::read::macho::FatArch;
    match object::FileKind::parse(data).expect("object: file kind") {
        object::FileKind::MachOFat32 => MachOFatFile32::parse(data)
            .expect("object: fat header")
            .arches()
            .iter()
            .map(|a| thin(a.data(data).expect("object: a fat slice")))
            .collect(),
        object::FileKind::MachOFat64 => MachOFatFile64::parse(data)
            .expect("object: fat header")
            .arches()
            .iter()
            .map(|a| thin(a.data(data).expect("object: a fat slice")))
            .collect(),
        _ => vec![thin(data)],
    }
}

/// Asserts the oracle parses the file and every signature it has verifies, and that the
/// `object` crate reads the same dependencies, rpaths and id; returns the per-slice summaries.
pub fn oracle_accepts(file: &Path) -> Vec<Value> {
    let v = check(file);
    let by_object = object_macho(&std::fs::read(file).unwrap());
    assert_eq!(
        by_object.len(),
        v.len(),
        "{file:?}: slices per object vs macholib"
    );
    for (o, s) in by_object.iter().zip(&v) {
        let names = |k: &str| -> Vec<String> {
            s[k].as_array()
                .map(|a| {
                    a.iter()
                        .map(|d| {
                            d.as_array()
                                .and_then(|p| p.last())
                                .unwrap_or(d)
                                .as_str()
                                .unwrap_or_default()
                                .to_string()
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        assert_eq!(
            o.dylibs,
            names("dylibs"),
            "{file:?}: dylibs per object vs macholib"
        );
        assert_eq!(
            o.rpaths,
            names("rpaths"),
            "{file:?}: rpaths per object vs macholib"
        );
        assert_eq!(
            o.id.as_deref(),
            s["id"].as_str(),
            "{file:?}: id per object vs macholib"
        );
    }
    for s in &v {
        if !s["signature"].is_null() {
            assert_eq!(
                s["signature"]["valid"],
                Value::Bool(true),
                "{file:?} {}: signature does not verify: {}",
                s["arch"],
                s["signature"]["problems"]
            );
        }
    }
    v
}

/// The geometry a shift is judged by, from the oracle's view of the original slice.
#[derive(Debug, Clone, Copy)]
pub struct Geometry {
    /// Lowest file offset of section data.
    pub first: u64,
    /// vmaddr of the header segment.
    pub base: u64,
    /// End of the image in memory, relative to base.
    pub span: u64,
}

pub fn geometry(slice: &Value) -> Geometry {
    let secs = slice["sections"].as_array().unwrap();
    let first = secs
        .iter()
        .filter(|s| s["offset"].as_u64().unwrap() != 0 && s["size"].as_u64().unwrap() != 0)
        .map(|s| s["offset"].as_u64().unwrap())
        .min()
        .unwrap();
    let segs = slice["segments"].as_array().unwrap();
    let text = segs
        .iter()
        .find(|s| s["fileoff"].as_u64() == Some(0) && s["filesize"].as_u64().unwrap() > 0)
        .unwrap();
    let base = text["vmaddr"].as_u64().unwrap();
    let end = segs
        .iter()
        .map(|s| s["vmaddr"].as_u64().unwrap() + s["vmsize"].as_u64().unwrap())
        .max()
        .unwrap();
    Geometry {
        first,
        base,
        span: end - base,
    }
}

fn hex_token(t: &str) -> Option<u64> {
    if let Some(h) = t.strip_prefix("0x") {
        return u64::from_str_radix(h, 16).ok();
    }
    if t.len() == 16 && t.chars().all(|c| c.is_ascii_hexdigit()) {
        return u64::from_str_radix(t, 16).ok();
    }
    None
}

/// Lines whose numbers are sizes, counts or section-relative offsets: they never move.
fn constant_line(l: &str) -> bool {
    const KEYS: [&str; 18] = [
        "section offset",
        "Number of",
        "encoding[",
        "page_size",
        "size =",
        "max_valid_pointer",
        "pointer_format",
        "page_count",
        "seg_count",
        "seg_offset[",
        "starts_offset",
        "imports_",
        "symbols_",
        "fixups_version",
        "page_start",
        "name_offset",
        "lib_ordinal",
        "weak_import",
    ];
    let t = l.trim_start();
    KEYS.iter().any(|k| t.starts_with(k)) || t.starts_with("Version:")
}

/// Compares an llvm-objdump listing of the original with the shifted file's: same lines, and
/// every number that is an image offset or unslid address past the insertion point moved by
/// exactly `delta`, every other number unchanged. Returns how many numbers moved.
pub fn same_modulo_shift(old: &str, new: &str, g: Geometry, delta: u64) -> Result<usize, String> {
    let ol: Vec<&str> = old.lines().skip(1).collect();
    let nl: Vec<&str> = new.lines().skip(1).collect();
    if ol.len() != nl.len() {
        return Err(format!("{} lines became {}", ol.len(), nl.len()));
    }
    let moves =
        |x: u64| (x >= g.first && x < g.span) || (x >= g.base + g.first && x < g.base + g.span);
    let mut moved = 0;
    for (a, b) in ol.iter().zip(&nl) {
        if constant_line(a) {
            if a != b {
                return Err(format!("constant line changed:\n  {a}\n  {b}"));
            }
            continue;
        }
        // Section-relative offsets of the unwind index and the raw chained pointer column do
        // not follow the image.
        let clean = |l: &str| {
            let mut out = Vec::new();
            let toks: Vec<&str> = l
                .split(|c: char| c.is_whitespace() || ",=:[]()".contains(c))
                .filter(|t| !t.is_empty())
                .collect();
            let mut i = 0;
            while i < toks.len() {
                let t = toks[i];
                let prev = if i > 0 { toks[i - 1] } else { "" };
                let raw_pointer = t.len() == 18 && t.starts_with("0x") && l.contains(" rebase")
                    || t.len() == 18 && l.contains(" bind ");
                let sec_rel = (prev == "offset" && i >= 3 && toks[i - 2] == "page")
                    || (prev == "section" && i >= 2 && toks[i - 2] == "in")
                    || (prev == "offset"
                        && i >= 2
                        && toks[i - 2] == "LSDA"
                        && l.contains("2nd level"))
                    || prev.starts_with("encoding");
                if !(raw_pointer || sec_rel) {
                    out.push(t.to_string());
                }
                i += 1;
            }
            out
        };
        let (ta, tb) = (clean(a), clean(b));
        if ta.len() != tb.len() {
            return Err(format!("line shape changed:\n  {a}\n  {b}"));
        }
        for (x, y) in ta.iter().zip(&tb) {
            match (hex_token(x), hex_token(y)) {
                (Some(u), Some(v)) => {
                    let low = u & 0x00ff_ffff_ffff_ffff;
                    let want = if moves(low) { u + delta } else { u };
                    if v != want {
                        return Err(format!(
                            "{x} became {y}, expected {want:#x} (shift {delta:#x}):\n  {a}\n  {b}"
                        ));
                    }
                    if want != u {
                        moved += 1;
                    }
                }
                _ if x == y => {}
                _ => return Err(format!("token {x} became {y}:\n  {a}\n  {b}")),
            }
        }
    }
    Ok(moved)
}

/// llvm-objdump --macho OPTION [--arch A] FILE.
pub fn listing(opt: &str, file: &Path, arch: Option<&str>) -> String {
    let objdump = tool("llvm-objdump").unwrap();
    let mut c = Command::new(objdump);
    c.args(["--macho", opt]);
    if let Some(a) = arch {
        c.arg(format!("--arch={a}"));
    }
    let o = run(c.arg(file));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!text.contains("malformed"), "{opt} on {file:?}: {text}");
    text
}

/// Shifts `f` with an rpath too long for the padding and checks the result against the
/// original: oracles accept it, code is byte-identical and moved by Δ, and every dyld table
/// listing is equal modulo Δ. Returns the number of slices checked.
pub fn check_growth(f: &Path) -> usize {
    let (_d, out) = scratch(f);
    // Longer than the file's header padding (read from the plan of a small edit).
    let plan = ok(shenzi()
        .args(["patch", "--dry-run", "--add-rpath", "/p"])
        .arg(&out));
    let room = plan
        .lines()
        .filter_map(|l| l.trim().strip_prefix("load commands: "))
        .filter_map(|l| l.split_whitespace().nth(2)?.parse::<usize>().ok())
        .max()
        .expect("plan shows the room");
    let long = format!("@loader_path/{}", "grow/".repeat(room / 5 + 8));
    let dry = ok(shenzi()
        .args(["patch", "--dry-run", "--add-rpath", &long])
        .arg(&out));
    assert!(dry.contains("shift by"), "{f:?}: expected a shift: {dry}");
    assert_eq!(
        std::fs::read(f).unwrap(),
        std::fs::read(&out).unwrap(),
        "--dry-run wrote"
    );
    ok(shenzi().args(["patch", "--add-rpath", &long]).arg(&out));
    llvm_accepts(&out, None);
    let before = oracle_accepts(f);
    let after = oracle_accepts(&out);
    let old_secs = sections(f);
    let new_secs = sections(&out);
    let fat = old_secs.len() > 1;
    for (k, (os, ns)) in old_secs.iter().zip(&new_secs).enumerate() {
        let arch = os["arch"].as_str().unwrap();
        assert_eq!(
            after[k]["rpaths"].as_array().unwrap().last().unwrap(),
            &long
        );
        assert_eq!(before[k]["dylibs"], after[k]["dylibs"]);
        assert_eq!(before[k]["id"], after[k]["id"]);
        let g = geometry(os);
        let o = os["sections"].as_array().unwrap();
        let n = ns["sections"].as_array().unwrap();
        assert_eq!(o.len(), n.len());
        let delta = n[0]["addr"].as_u64().unwrap() - o[0]["addr"].as_u64().unwrap();
        let align = if arch == "arm64" { 0x4000 } else { 0x1000 };
        assert!(
            delta > 0 && delta % align == 0,
            "{f:?} {arch}: shift {delta:#x}"
        );
        for (a, b) in o.iter().zip(n) {
            let name = format!("{},{}", a["segname"], a["sectname"]);
            assert_eq!(
                b["addr"].as_u64().unwrap(),
                a["addr"].as_u64().unwrap() + delta,
                "{name}"
            );
            let code = a["flags"].as_u64().unwrap() & 0x8000_0400 != 0;
            let in_text = a["segname"] == "__TEXT"
                && a["sectname"] != "__unwind_info"
                && a["sectname"] != "__init_offsets";
            if code || in_text {
                assert_eq!(
                    a["sha256"], b["sha256"],
                    "{f:?} {arch}: {name} bytes changed"
                );
            }
            if a["sectname"] == "__init_offsets" && !fat {
                // Image offsets of initialisers: each moves with the code.
                let words = |file: &Path, s: &Value| -> Vec<u64> {
                    let bytes = std::fs::read(file).unwrap();
                    let off = s["offset"].as_u64().unwrap() as usize;
                    let size = s["size"].as_u64().unwrap() as usize;
                    bytes[off..off + size]
                        .chunks(4)
                        .map(|c| u32::from_le_bytes(c.try_into().unwrap()) as u64)
                        .collect()
                };
                let want: Vec<u64> = words(f, a).iter().map(|w| w + delta).collect();
                assert_eq!(words(&out, b), want, "{f:?}: __init_offsets");
            }
        }
        let a = if fat { Some(arch) } else { None };
        let mut moved = 0;
        for opt in [
            "--rebase",
            "--bind",
            "--lazy-bind",
            "--weak-bind",
            "--exports-trie",
            "--chained-fixups",
            "--dyld-info",
            "--unwind-info",
            "--function-starts",
        ] {
            let x = listing(opt, f, a);
            let y = listing(opt, &out, a);
            match same_modulo_shift(&x, &y, g, delta) {
                Ok(m) => moved += m,
                Err(e) => panic!("{f:?} {arch} {opt}: {e}"),
            }
        }
        assert!(moved > 0, "{f:?} {arch}: no listed address moved");
        check_rebased_pointers(f, &out, arch, a, g, delta);
    }
    old_secs.len()
}

/// The stored value of every opcode-rebased pointer moved with its target.
fn check_rebased_pointers(
    f: &Path,
    out: &Path,
    arch: &str,
    a: Option<&str>,
    g: Geometry,
    delta: u64,
) {
    let list = listing("--rebase", f, a);
    let addrs: Vec<u64> = list
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .filter_map(|t| t.strip_prefix("0x"))
        .filter_map(|h| u64::from_str_radix(h, 16).ok())
        .collect();
    if addrs.is_empty() {
        return;
    }
    let moved = |x: u64| if x >= g.base + g.first { x + delta } else { x };
    let strs: Vec<String> = addrs.iter().map(|x| format!("{x:#x}")).collect();
    let new_strs: Vec<String> = addrs.iter().map(|x| format!("{:#x}", moved(*x))).collect();
    let mut args: Vec<&std::ffi::OsStr> = vec!["words".as_ref(), f.as_os_str(), arch.as_ref()];
    args.extend(strs.iter().map(|s| s.as_ref() as &std::ffi::OsStr));
    let old = oracle(&args);
    let mut args: Vec<&std::ffi::OsStr> = vec!["words".as_ref(), out.as_os_str(), arch.as_ref()];
    args.extend(new_strs.iter().map(|s| s.as_ref() as &std::ffi::OsStr));
    let new = oracle(&args);
    for ((addr, o), n) in addrs
        .iter()
        .zip(old.as_array().unwrap())
        .zip(new.as_array().unwrap())
    {
        let o = o.as_u64().unwrap();
        let n = n.as_u64().unwrap();
        let low = o & 0x00ff_ffff_ffff_ffff;
        let want = if low >= g.base + g.first && low < g.base + g.span {
            o + delta
        } else {
            o
        };
        assert_eq!(
            n, want,
            "{f:?} {arch}: pointer at {addr:#x}: {o:#x} became {n:#x}"
        );
    }
}

/// `llvm-otool -l` without the file name line and without what llvm-install-name-tool decides
/// on its own rather than by the options: the sizes that depend on the signature's identifier
/// (it names the signature after the output file; cctools and shenzi keep the old identifier)
/// and the placement of linkedit tables (its writer packs them again; an in-place edit leaves
/// them where the linker put them).
pub fn otool_l_without_name(file: &Path) -> String {
    let text = llvm_accepts(file, None);
    let mut out = Vec::new();
    let mut block = String::new();
    for l in text.lines().skip(1) {
        let t = l.trim_start();
        if t.starts_with("cmd ") {
            block = t.to_string();
        } else if t.starts_with("segname __LINKEDIT") {
            block = "__LINKEDIT".into();
        }
        let layout = [
            "symoff ",
            "stroff ",
            "indirectsymoff ",
            "dataoff ",
            "rebase_off ",
            "bind_off ",
            "weak_bind_off ",
            "lazy_bind_off ",
            "export_off ",
        ];
        if layout.iter().any(|k| t.starts_with(k)) {
            out.push("(linkedit layout)".to_string());
            continue;
        }
        let sized = (block == "cmd LC_CODE_SIGNATURE" && t.starts_with("datasize"))
            || (block == "__LINKEDIT" && (t.starts_with("filesize") || t.starts_with("vmsize")));
        out.push(if sized {
            "(signature-dependent size)".to_string()
        } else {
            l.to_string()
        });
    }
    out.join("\n")
}
