//! Properties of the Mach-O engine over corpus and wheel binaries (thin arm64 and x86_64, dyld-info
//! and chained fixups, fat32 and fat64) and random edit sets: the summary after an edit is exactly
//! what was asked; one pass equals one edit at a time; repeating an edit is a no-op; an edit that
//! fits touches only the load commands and the signature; a shift keeps every section's content;
//! every output parses strictly with valid signatures, and a sample is accepted by macholib with
//! recomputed page hashes and by llvm-objdump.

mod common;
use common::macho as common_macho;

use std::sync::OnceLock;

use common_macho::*;
use proptest::prelude::*;
use shenzi_macho::{Dependency, EditSet, Error, Layout, MachO, Options, Rewrite, RpathOp, Summary};

/// A string an edit names: an entry the seed already has (by index, into its rpaths or
/// dependencies), the same entry with one letter's case flipped (same length, so it fits), or a
/// literal.
#[derive(Debug, Clone)]
enum Text {
    Existing(usize),
    Flipped(usize),
    Lit(String),
}

#[derive(Debug, Clone)]
enum Op {
    AddRpath(Text),
    PrependRpath(Text),
    DeleteRpath(Text),
    ChangeRpath(Text, Text),
    SetRpath(Vec<Text>),
    RemoveAllRpaths,
    Change(Text, Text),
    Id(Text),
    AddDylib(Text),
}

fn text() -> impl Strategy<Value = Text> {
    prop_oneof![
        2 => (0usize..8).prop_map(Text::Existing),
        2 => (0usize..8).prop_map(Text::Flipped),
        2 => prop_oneof![
            Just("@loader_path/../lib".to_string()),
            Just("@executable_path/../lib".to_string()),
            Just("@rpath/libextra.dylib".to_string()),
            Just("/usr/lib/libSystem.B.dylib".to_string()),
        ]
        .prop_map(Text::Lit),
        2 => "@loader_path/[a-z]{1,6}".prop_map(Text::Lit),
        // Longer than any header padding in the corpus: forces a shift.
        1 => "(/[a-z0-9]{1,30}){40,160}".prop_map(|s| Text::Lit(format!("@rpath{s}"))),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => text().prop_map(Op::AddRpath),
        2 => text().prop_map(Op::PrependRpath),
        2 => text().prop_map(Op::DeleteRpath),
        2 => (text(), text()).prop_map(|(a, b)| Op::ChangeRpath(a, b)),
        1 => proptest::collection::vec(text(), 0..4).prop_map(Op::SetRpath),
        1 => Just(Op::RemoveAllRpaths),
        3 => (text(), text()).prop_map(|(a, b)| Op::Change(a, b)),
        2 => text().prop_map(Op::Id),
        2 => text().prop_map(Op::AddDylib),
    ]
}

/// Same length, different bytes.
fn flip(s: &str) -> String {
    let mut b = s.as_bytes().to_vec();
    match b.iter().rposition(|c| c.is_ascii_alphabetic()) {
        Some(i) => b[i] ^= 0x20,
        None => b.push(b'x'),
    }
    String::from_utf8(b).unwrap()
}

fn resolve(t: &Text, pool: &[String]) -> Vec<u8> {
    let pick = |i: usize| pool.get(i % pool.len().max(1)).cloned();
    match t {
        Text::Existing(i) => pick(*i).unwrap_or_else(|| "@loader_path/none".into()),
        Text::Flipped(i) => flip(&pick(*i).unwrap_or_else(|| "@loader_path/none".into())),
        Text::Lit(s) => s.clone(),
    }
    .into_bytes()
}

/// The edit set of `ops`, names resolved against the seed's first slice.
fn edit_set(ops: &[Op], s: &Summary) -> EditSet {
    let rp = &s.rpaths;
    let deps: Vec<String> = s.dependencies.iter().map(|d| d.name.clone()).collect();
    let ids: Vec<String> = s.id.iter().cloned().collect();
    let mut e = EditSet::default();
    for o in ops {
        match o {
            Op::AddRpath(t) => e.rpath.push(RpathOp::Add(resolve(t, rp))),
            Op::PrependRpath(t) => e.rpath.push(RpathOp::Prepend(resolve(t, rp))),
            Op::DeleteRpath(t) => e.rpath.push(RpathOp::Delete(resolve(t, rp))),
            Op::ChangeRpath(a, b) => e
                .rpath
                .push(RpathOp::Change(resolve(a, rp), resolve(b, rp))),
            Op::SetRpath(l) => e
                .rpath
                .push(RpathOp::Set(l.iter().map(|t| resolve(t, rp)).collect())),
            Op::RemoveAllRpaths => e.rpath.push(RpathOp::RemoveAll),
            Op::Change(a, b) => e.change.push((resolve(a, &deps), resolve(b, &deps))),
            Op::Id(t) => e.id = Some(resolve(t, &ids)),
            Op::AddDylib(t) => e.add_dylib.push(resolve(t, &deps)),
        }
    }
    e
}

/// The edit set split into single edits, in the order one pass applies them.
fn singles(e: &EditSet) -> Vec<EditSet> {
    let one = |f: &dyn Fn(&mut EditSet)| {
        let mut single = EditSet::default();
        f(&mut single);
        single
    };
    let mut v = Vec::new();
    if e.id.is_some() {
        v.push(one(&|s| s.id = e.id.clone()));
    }
    v.extend(
        e.change
            .iter()
            .map(|c| one(&|s| s.change = vec![c.clone()])),
    );
    v.extend(
        e.add_dylib
            .iter()
            .map(|a| one(&|s| s.add_dylib = vec![a.clone()])),
    );
    v.extend(e.rpath.iter().map(|r| one(&|s| s.rpath = vec![r.clone()])));
    v
}

/// What the summary of one slice must say after the edit set (signature aside), computed
/// independently of the engine.
fn model(before: &Summary, e: &EditSet) -> Summary {
    let s = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
    let mut m = before.clone();
    if let Some(id) = &e.id {
        m.id = Some(s(id));
    }
    for (a, b) in &e.change {
        for d in m.dependencies.iter_mut() {
            if d.name == s(a) {
                d.name = s(b);
            }
        }
    }
    for a in &e.add_dylib {
        if !m.dependencies.iter().any(|d| d.name == s(a)) {
            m.dependencies.push(Dependency {
                kind: "load",
                name: s(a),
            });
        }
    }
    let r = &mut m.rpaths;
    for op in &e.rpath {
        match op {
            RpathOp::Set(list) => {
                r.clear();
                for p in list {
                    if !r.contains(&s(p)) {
                        r.push(s(p));
                    }
                }
            }
            RpathOp::RemoveAll => r.clear(),
            RpathOp::Delete(p) => r.retain(|x| *x != s(p)),
            RpathOp::Change(old, new) => {
                if let Some(i) = r.iter().position(|x| *x == s(old)) {
                    if r.contains(&s(new)) {
                        if old != new {
                            r.remove(i);
                        }
                    } else {
                        r[i] = s(new);
                    }
                }
            }
            RpathOp::Add(p) => {
                if !r.contains(&s(p)) {
                    r.push(s(p));
                }
            }
            RpathOp::Prepend(p) => {
                if !r.contains(&s(p)) {
                    r.insert(0, s(p));
                }
            }
            other => unreachable!("no model for {other:?}"),
        }
    }
    m
}

/// Whether applying the edit set twice must equal applying it once: its dependency edits do not
/// feed each other, and no rpath is both removed (deleted or renamed) and produced (added,
/// prepended, set or renamed to) unless a set or remove-all makes the list independent of the
/// input.
fn idempotent(e: &EditSet) -> bool {
    let reset = e
        .rpath
        .iter()
        .any(|o| matches!(o, RpathOp::Set(_) | RpathOp::RemoveAll));
    let mut removed: Vec<&[u8]> = Vec::new();
    let mut produced: Vec<&[u8]> = Vec::new();
    for o in &e.rpath {
        match o {
            RpathOp::Delete(p) => removed.push(p),
            RpathOp::Change(a, b) => {
                removed.push(a);
                produced.push(b);
            }
            RpathOp::Add(p) | RpathOp::Prepend(p) => produced.push(p),
            RpathOp::Set(l) => produced.extend(l.iter().map(|p| p.as_slice())),
            RpathOp::RemoveAll => {}
            other => unreachable!("no model for {other:?}"),
        }
    }
    shenzi_macho::fuzzing::idempotent(e) && (reset || removed.iter().all(|r| !produced.contains(r)))
}

/// The signature a changed slice carries: linker-signed and ad-hoc stay what they were, an
/// identity signature becomes ad hoc, an unsigned arm64 slice gets a linker-style signature.
fn model_signature(before: &Summary) -> Option<String> {
    match before.signature.as_deref() {
        Some("identity") => Some("ad-hoc".into()),
        Some(k) => Some(k.into()),
        None if before.arch.starts_with("arm64") => Some("linker-signed".into()),
        None => None,
    }
}

fn opts() -> Options {
    let mut v = Options::default();
    v.identifier = b"prop".to_vec();
    v
}

fn rewrite(data: &[u8], e: &EditSet) -> Rewrite {
    shenzi_macho::rewrite(data, e, &opts()).unwrap_or_else(|err| panic!("rewrite {e:?}: {err}"))
}

struct Seed {
    name: String,
    data: Vec<u8>,
    before: Vec<Summary>,
    dylib: bool,
}

/// Corpus files and a few wheel binaries (ld64-built: arm64, x86_64, universal2), read once.
fn seeds() -> &'static [Seed] {
    static SEEDS: OnceLock<Vec<Seed>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut files = corpus_files().unwrap_or_default();
        let wheels = root().join("target/wheels-macho");
        let want = [
            "numpy-1.26.4-cp311-cp311-macosx_10_9_x86_64/numpy__core___operand_flag_tests.cpython-311-darwin.so",
            "numpy-1.26.4-cp311-cp311-macosx_11_0_arm64/numpy__core___operand_flag_tests.cpython-311-darwin.so",
            "pillow-10.3.0-cp311-cp311-macosx_10_10_x86_64/PIL__.dylibs__libXau.6.0.0.dylib",
            "pillow-10.3.0-cp311-cp311-macosx_11_0_arm64/PIL__.dylibs__libXau.6.0.0.dylib",
            "MarkupSafe-2.1.5-cp311-cp311-macosx_10_9_universal2/markupsafe___speedups.cpython-311-darwin.so",
        ];
        let have = want.iter().all(|w| wheels.join(w).is_file());
        if need(have, "macOS wheel binaries (corpus/macho/fetch_wheels.sh)").is_some() {
            files.extend(want.iter().map(|w| wheels.join(w)));
        }
        files
            .into_iter()
            .map(|f| {
                let data = std::fs::read(&f).unwrap();
                let before = shenzi_macho::summarize(&data).unwrap();
                let dylib = before.iter().all(|s| s.filetype == "dylib");
                Seed {
                    name: f.file_name().unwrap().to_string_lossy().into_owned(),
                    data,
                    before,
                    dylib,
                }
            })
            .collect()
    })
}

/// The seed and edit set of a case. An install name on a file that is not a library must be
/// refused; the rest of the edit set is then used without it.
fn case(seed: usize, ops: &[Op]) -> Option<(&'static Seed, EditSet)> {
    let seeds = seeds();
    if seeds.is_empty() {
        return None;
    }
    let s = &seeds[seed % seeds.len()];
    let mut e = edit_set(ops, &s.before[0]);
    if e.id.is_some() && !s.dylib {
        let r = shenzi_macho::rewrite(&s.data, &e, &opts());
        assert!(
            matches!(r, Err(Error::NotADylib { .. })),
            "{}: --id on a non-library: {:?}",
            s.name,
            r.map(|r| r.slices().to_vec())
        );
        e.id = None;
    }
    Some((s, e))
}

/// Checks the summaries of `out` against the model, slice by slice.
fn assert_model(s: &Seed, e: &EditSet, rw: &Rewrite, out: &[u8]) -> Result<(), TestCaseError> {
    let after = shenzi_macho::summarize(out).unwrap();
    prop_assert_eq!(after.len(), s.before.len());
    for (k, (b, a)) in s.before.iter().zip(&after).enumerate() {
        let want = model(b, e);
        let changed = rw.slices()[k].layout != Layout::Unchanged;
        prop_assert!(
            changed || want == *b,
            "{} {}: the edit should change the slice",
            s.name,
            b.arch
        );
        let sig = if changed {
            model_signature(b)
        } else {
            b.signature.clone()
        };
        let want = Summary {
            signature: sig,
            ..want
        };
        prop_assert_eq!(a, &want, "{} {}", s.name, b.arch);
    }
    Ok(())
}

/// File ranges of one slice: [start, end).
type Ranges = Vec<(u64, u64)>;

/// An in-place slice differs from the input only in the load-command area (up to the first
/// section), in the old signature and past the old end (a new or larger signature).
fn assert_in_place(name: &str, a: &[u8], b: &[u8]) -> Result<(), TestCaseError> {
    let m = MachO::parse(a).unwrap();
    let mut allowed: Ranges = vec![(0, m.first_content_offset())];
    if let Some((off, size)) = m.code_signature() {
        allowed.push((u64::from(off), u64::from(off) + u64::from(size)));
    }
    prop_assert!(
        b.len() >= a.len(),
        "{}: in-place edit shrank the file",
        name
    );
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let i = i as u64;
        prop_assert!(
            x == y || allowed.iter().any(|&(s, e)| (s..e).contains(&i)),
            "{}: in-place edit changed byte {:#x} outside {:x?}",
            name,
            i,
            allowed
        );
    }
    Ok(())
}

/// A shifted slice keeps every section: same name and size, address and offset moved by
/// `delta`, code and constant __TEXT byte-identical, other sections equal word by word except
/// pointers that moved by `delta`.
fn assert_shift_keeps_sections(
    name: &str,
    a: &[u8],
    b: &[u8],
    delta: u64,
) -> Result<(), TestCaseError> {
    let ma = MachO::parse(a).unwrap();
    let mb = MachO::parse(b).unwrap();
    prop_assert_eq!(ma.segments().count(), mb.segments().count());
    let word = if ma.is_64() { 8 } else { 4 };
    let read = |d: &[u8], o: usize, n: usize| -> u64 {
        let mut v = [0u8; 8];
        v[..n].copy_from_slice(&d[o..o + n]);
        if ma.is_little_endian() {
            u64::from_le_bytes(v)
        } else {
            u64::from_be_bytes(v) >> (64 - 8 * n)
        }
    };
    for (sa, sb) in ma.segments().zip(mb.segments()) {
        prop_assert_eq!(sa.name(), sb.name());
        prop_assert_eq!(sa.sections.len(), sb.sections.len());
        for (x, y) in sa.sections.iter().zip(&sb.sections) {
            let sect = format!(
                "{name}: {},{}",
                String::from_utf8_lossy(x.segment_name()),
                String::from_utf8_lossy(x.name())
            );
            prop_assert_eq!(x.name(), y.name(), "{}", sect);
            prop_assert_eq!(x.size, y.size, "{}", sect);
            prop_assert_eq!(y.addr, x.addr + delta, "{} address", sect);
            if !x.has_file_data() {
                continue;
            }
            prop_assert_eq!(
                u64::from(y.offset),
                u64::from(x.offset) + delta,
                "{} offset",
                sect
            );
            let (xo, yo, n) = (x.offset as usize, y.offset as usize, x.size as usize);
            let (old, new) = (&a[xo..xo + n], &b[yo..yo + n]);
            let code = x.flags & 0x8000_0400 != 0;
            let in_text = x.segment_name() == b"__TEXT"
                && x.name() != b"__unwind_info"
                && x.name() != b"__init_offsets";
            if code || in_text {
                prop_assert!(old == new, "{} bytes changed", sect);
            } else if x.name() == b"__unwind_info" {
                // Holds image offsets in a compressed index; its layout is compared
                // against llvm-objdump --unwind-info by tests/macho_corpus.rs.
                continue;
            } else {
                // __init_offsets holds 32-bit image offsets; other sections pointers.
                let w = if x.name() == b"__init_offsets" {
                    4
                } else {
                    word
                };
                let mask = if w == 8 {
                    u64::MAX
                } else {
                    u64::from(u32::MAX)
                };
                for k in (0..n.saturating_sub(w - 1)).step_by(w) {
                    let (u, v) = (read(old, k, w), read(new, k, w));
                    prop_assert!(
                        u == v || v == u.wrapping_add(delta) & mask,
                        "{} word at +{:#x}: {:#x} became {:#x} (shift {:#x})",
                        sect,
                        k,
                        u,
                        v,
                        delta
                    );
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, .. ProptestConfig::default() })]

    #[test]
    fn edits_do_what_was_asked(seed in 0usize..1000, ops in proptest::collection::vec(op(), 1..6)) {
        let Some((s, e)) = case(seed, &ops) else { return Ok(()) };
        let rw = rewrite(&s.data, &e);
        let out = rw.apply(&s.data);
        shenzi_macho::check(&out, true)
            .map_err(|err| TestCaseError::fail(format!("{}: output fails the check: {err}", s.name)))?;
        assert_model(s, &e, &rw, &out)?;

        // One pass equals one edit at a time, in the edit set's order.
        let mut step = s.data.clone();
        for single in singles(&e) {
            step = rewrite(&step, &single).apply(&step);
        }
        let one = shenzi_macho::summarize(&out).unwrap();
        for (k, (a, mut b)) in one.into_iter().zip(shenzi_macho::summarize(&step).unwrap()).enumerate() {
            // Steps that change an unsigned arm64 slice sign it even when the whole set
            // leaves it as it was.
            if rw.slices()[k].layout == Layout::Unchanged {
                b.signature.clone_from(&a.signature);
            }
            prop_assert_eq!(a, b, "{}: one edit at a time", &s.name);
        }

        // Repeating the edit is a no-op (for edit sets whose parts do not feed each other).
        if idempotent(&e) {
            let again = rewrite(&out, &e);
            prop_assert!(again.is_noop(), "{}: second application changed {:?}", s.name, again.slices());
        }
    }

    #[test]
    fn layout_keeps_content(seed in 0usize..1000, ops in proptest::collection::vec(op(), 1..4)) {
        let Some((s, e)) = case(seed, &ops) else { return Ok(()) };
        let rw = rewrite(&s.data, &e);
        let out = rw.apply(&s.data);
        let old = shenzi_macho::slices(&s.data).unwrap();
        let new = shenzi_macho::slices(&out).unwrap();
        prop_assert_eq!(old.len(), new.len());
        let shifted = rw.slices().iter().any(|p| matches!(p.layout, Layout::Shift { .. }));
        if rw.is_fat() && !shifted {
            // The fat header and the padding between slices stay as they were.
            prop_assert_eq!(out.len(), s.data.len());
            for (i, (x, y)) in s.data.iter().zip(&out).enumerate() {
                let inside = old.iter().any(|(o, d)| (*o..*o + d.len() as u64).contains(&(i as u64)));
                prop_assert!(x == y || inside, "{}: fat container byte {:#x} changed", s.name, i);
            }
        }
        for (k, ((_, a), (_, b))) in old.iter().zip(&new).enumerate() {
            let name = format!("{} {}", s.name, rw.slices()[k].arch);
            match rw.slices()[k].layout {
                Layout::Unchanged => prop_assert!(a == b, "{}: unchanged slice differs", name),
                Layout::InPlace => assert_in_place(&name, a, b)?,
                Layout::Shift { delta } => assert_shift_keeps_sections(&name, a, b, delta)?,
            }
        }
    }
}

/// A sample of random edits, judged by the independent parsers: macholib (with page hashes
/// recomputed by hashlib) reads the same dylibs, rpaths and id as the model, every signature
/// verifies, and llvm-objdump reads the headers without complaint.
#[test]
fn sampled_outputs_pass_the_oracles() {
    if seeds().is_empty() {
        return;
    }
    if need(
        python().is_some() && tool("llvm-objdump").is_some() && tool("llvm-otool").is_some(),
        "macholib venv, LLVM",
    )
    .is_none()
    {
        return;
    }
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 24,
        ..ProptestConfig::default()
    });
    let scratch = tempfile::tempdir().unwrap();
    let n = std::sync::atomic::AtomicUsize::new(0);
    runner
        .run(
            &(0usize..1000, proptest::collection::vec(op(), 1..5)),
            |(seed, ops)| {
                let (s, e) = case(seed, &ops).unwrap();
                let rw = rewrite(&s.data, &e);
                let out = rw.apply(&s.data);
                let k = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let f = scratch.path().join(format!("out{k}-{}", s.name));
                std::fs::write(&f, &out).unwrap();
                llvm_accepts(&f, None);
                let seen = oracle_accepts(&f);
                prop_assert_eq!(seen.len(), s.before.len());
                for ((b, o), plan) in s.before.iter().zip(&seen).zip(rw.slices()) {
                    let want = model(b, &e);
                    let dylibs: Vec<(String, String)> = o["dylibs"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|d| (d[0].as_str().unwrap().into(), d[1].as_str().unwrap().into()))
                        .collect();
                    let want_dylibs: Vec<(String, String)> = want
                        .dependencies
                        .iter()
                        .map(|d| (d.kind.into(), d.name.clone()))
                        .collect();
                    prop_assert_eq!(dylibs, want_dylibs, "{}", f.display());
                    let rpaths: Vec<String> = o["rpaths"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|r| r.as_str().unwrap().into())
                        .collect();
                    prop_assert_eq!(rpaths, want.rpaths, "{}", f.display());
                    prop_assert_eq!(o["id"].as_str(), want.id.as_deref(), "{}", f.display());
                    if plan.layout != Layout::Unchanged && model_signature(b).is_some() {
                        prop_assert!(!o["signature"].is_null(), "{}: not signed", f.display());
                    }
                }
                Ok(())
            },
        )
        .unwrap();
    assert!(n.into_inner() >= 24);
}

/// The shortest case the properties found: setting the rpaths of an unsigned arm64 file (which
/// gains a signature) and then adding one must hold on a second run, or `shenzi patch` refuses
/// its own output.
#[test]
fn set_then_add_rpath_on_an_unsigned_file_repeats_as_a_noop() {
    let Some(dir) = corpus() else { return };
    let data = std::fs::read(dir.join("arm64-libfoo-unsigned.dylib")).unwrap();
    for reset in [RpathOp::Set(vec![]), RpathOp::RemoveAll] {
        let mut e = EditSet::default();
        e.rpath = vec![reset, RpathOp::Add(b"@loader_path/x".to_vec())];
        let out = rewrite(&data, &e).apply(&data);
        assert_eq!(
            shenzi_macho::summarize(&out).unwrap()[0].rpaths,
            ["@loader_path/x"]
        );
        let again = rewrite(&out, &e);
        assert!(again.is_noop(), "{e:?}: {:?}", again.slices());
    }
}
