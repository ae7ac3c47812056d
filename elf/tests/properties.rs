//! Properties of the ELF engine over corpus binaries and random edit sets: the summary after an
//! edit is exactly what was asked; one pass equals one edit at a time; repeating an edit is a
//! no-op; in-place edits touch only dynamic data; growth keeps every section's content; outputs
//! run.

#[path = "../../tests/common/corpus.rs"]
mod common;
#[path = "../../tests/common/object_elf.rs"]
mod object_elf;

use common::*;
use object_elf::object_elf;
use proptest::prelude::*;
use shenzi_elf::{EditSet, Elf, Options, RpathOp, Summary};

#[derive(Debug, Clone)]
enum Op {
    Rpath(String),
    AddNeeded(String),
    RemoveNeeded(String),
    ReplaceNeeded(String, String),
    Soname(String),
}

fn op() -> impl Strategy<Value = Op> {
    let name = prop_oneof![
        Just("libextra.so".to_string()),
        Just("libalt.so".to_string()),
        Just("libm.so.6".to_string()),
        "lib[a-z]{1,40}\\.so(\\.[0-9])?",
    ];
    prop_oneof![
        prop_oneof!["[a-z/$]{0,20}", "(/[a-z0-9]{1,30}){1,150}"]
            .prop_map(|s| Op::Rpath(format!("$ORIGIN/lib:{s}"))),
        name.clone().prop_map(Op::AddNeeded),
        name.clone().prop_map(Op::RemoveNeeded),
        (
            prop_oneof![
                Just("libdemo.so".to_string()),
                Just("libm.so.6".to_string()),
                name.clone()
            ],
            name.clone()
        )
            .prop_map(|(a, b)| Op::ReplaceNeeded(a, b)),
        "lib[a-z]{1,60}\\.so".prop_map(Op::Soname),
    ]
}

fn edit_set(ops: &[Op]) -> EditSet {
    let mut e = EditSet::default();
    for o in ops {
        match o {
            Op::Rpath(s) => e.rpath = vec![RpathOp::Set(s.as_bytes().to_vec())],
            Op::AddNeeded(s) => e.add_needed.push(s.as_bytes().to_vec()),
            Op::RemoveNeeded(s) => e.remove_needed.push(s.as_bytes().to_vec()),
            Op::ReplaceNeeded(a, b) => e
                .replace_needed
                .push((a.as_bytes().to_vec(), b.as_bytes().to_vec())),
            Op::Soname(s) => e.soname = Some(s.as_bytes().to_vec()),
        }
    }
    e
}

/// The edit set split into single edits, in the order one pass applies them.
fn singles(e: &EditSet) -> Vec<EditSet> {
    let one = |f: &dyn Fn(&mut EditSet)| {
        let mut x = EditSet::default();
        f(&mut x);
        x
    };
    let mut v = Vec::new();
    if e.soname.is_some() {
        v.push(one(&|x| x.soname = e.soname.clone()));
    }
    if !e.rpath.is_empty() {
        v.push(one(&|x| x.rpath = e.rpath.clone()));
    }
    v.extend(
        e.remove_needed
            .iter()
            .map(|r| one(&|x| x.remove_needed = vec![r.clone()])),
    );
    v.extend(
        e.replace_needed
            .iter()
            .map(|r| one(&|x| x.replace_needed = vec![r.clone()])),
    );
    v.extend(
        e.add_needed
            .iter()
            .map(|r| one(&|x| x.add_needed = vec![r.clone()])),
    );
    v
}

/// What the summary must say after the edit set, computed independently of the engine.
fn model(before: &Summary, e: &EditSet) -> Summary {
    let s = |b: &Vec<u8>| String::from_utf8(b.clone()).unwrap();
    let mut m = before.clone();
    if let Some(n) = &e.soname {
        m.soname = Some(s(n));
    }
    if let Some(RpathOp::Set(r)) = e.rpath.first() {
        m.runpath = Some(s(r).split(':').map(String::from).collect());
        m.rpath = None;
    }
    for r in &e.remove_needed {
        m.needed.retain(|n| *n != s(r));
    }
    for (a, b) in &e.replace_needed {
        for n in m.needed.iter_mut() {
            if *n == s(a) {
                *n = s(b);
            }
        }
    }
    for a in &e.add_needed {
        if !m.needed.contains(&s(a)) {
            m.needed.insert(0, s(a));
        }
    }
    m
}

fn apply(data: &[u8], e: &EditSet) -> Vec<u8> {
    let elf = Elf::parse(data).unwrap();
    shenzi_elf::plan(&elf, e, &Options::default(), None)
        .unwrap()
        .output(data)
}

fn summary(data: &[u8]) -> Summary {
    Summary::of(&Elf::parse(data).unwrap()).unwrap()
}

fn seeds() -> Vec<(Variant, &'static str, Vec<u8>)> {
    let mut v = Vec::new();
    for name in ["pie", "nopie", "rpath", "lld", "i686", "ppc64", "aarch64"] {
        if let Some(var) = variant(name) {
            for f in ["prog", "lib/libdemo.so"] {
                let data = std::fs::read(var.dir.join(f)).unwrap();
                v.push((var.clone(), f, data));
            }
        }
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, .. ProptestConfig::default() })]

    #[test]
    fn edits_do_what_was_asked(seed in 0usize..14, ops in proptest::collection::vec(op(), 1..6)) {
        let seeds = seeds();
        prop_assume!(!seeds.is_empty());
        let (_, _, data) = &seeds[seed % seeds.len()];
        let e = edit_set(&ops);
        let before = summary(data);
        let out = apply(data, &e);
        let after = summary(&out);
        let want = model(&before, &e);
        prop_assert_eq!(&after, &want);
        // The object crate, an independent parser, reads the same state.
        let seen = object_elf(&out);
        prop_assert_eq!(&seen.needed, &want.needed);
        prop_assert_eq!(&seen.soname, &want.soname);
        prop_assert_eq!(seen.runpath, want.runpath.as_ref().map(|v| v.join(":")));
        prop_assert_eq!(seen.rpath, want.rpath.as_ref().map(|v| v.join(":")));

        // Repeating the edit is a no-op (for edit sets whose parts do not feed each other).
        prop_assume!(e.needed_edits_independent());
        let again = shenzi_elf::plan(&Elf::parse(&out).unwrap(), &e, &Options::default(), None).unwrap();
        prop_assert!(again.is_noop(), "second application changed: {:?}", again.plan.steps);

        // One pass equals one edit at a time, in the edit set's order.
        let mut step = data.clone();
        for single in singles(&e) {
            step = apply(&step, &single);
        }
        prop_assert_eq!(summary(&step), after);
    }

    #[test]
    fn layout_keeps_content(seed in 0usize..14, ops in proptest::collection::vec(op(), 1..4)) {
        let seeds = seeds();
        prop_assume!(!seeds.is_empty());
        let (_, _, data) = &seeds[seed % seeds.len()];
        let e = edit_set(&ops);
        let elf = Elf::parse(data).unwrap();
        let rw = shenzi_elf::plan(&elf, &e, &Options::default(), None).unwrap();
        let out = rw.output(data);
        let new = Elf::parse(&out).unwrap();
        prop_assert_eq!(new.section_headers().len(), elf.section_headers().len());
        let dynstr = elf.dynstr().unwrap();
        let dynamic = elf.dynamic().unwrap();
        let (ds, de) = (dynstr.offset(), dynstr.offset() + dynstr.size());
        let (dys, dye) = (dynamic.offset(), dynamic.offset() + dynamic.capacity() * elf.ctx().dyn_size());
        let verneed = elf.section_headers().iter().find(|s| s.sh_type == 0x6fff_fffe).map(|s| (s.sh_offset, s.sh_offset + s.sh_size));
        let in_verneed = |i: u64| !e.replace_needed.is_empty() && verneed.is_some_and(|(a, b)| (a..b).contains(&i));
        if !rw.plan.grows {
            prop_assert_eq!(out.len(), data.len());
            for (i, (a, b)) in data.iter().zip(&out).enumerate() {
                let i = i as u64;
                if a != b {
                    prop_assert!((ds..de).contains(&i) || (dys..dye).contains(&i) || in_verneed(i), "in-place edit changed byte {:#x}", i);
                }
            }
        }
        // Every section other than the dynamic string table and dynamic table keeps its bytes,
        // wherever it now lives.
        for (i, (s, t)) in elf.section_headers().iter().zip(new.section_headers()).enumerate() {
            let verneed_edited = s.sh_type == 0x6fff_fffe && !e.replace_needed.is_empty();
            // Symbol values follow moved sections.
            let symbols = (s.sh_type == 2 || s.sh_type == 11) && rw.plan.grows;
            if !s.has_file_data() || s.sh_offset == ds || s.sh_offset == dys || s.sh_type == 8 || verneed_edited || symbols {
                continue;
            }
            let a = &data[s.sh_offset as usize..(s.sh_offset + s.sh_size) as usize];
            let b = &out[t.sh_offset as usize..(t.sh_offset + t.sh_size) as usize];
            prop_assert!(a == b, "section {} ({}) changed", i, String::from_utf8_lossy(elf.section_name(i)));
        }
    }
}

/// A sample of random edits on the programs themselves: the outputs run.
#[test]
fn sampled_outputs_run() {
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 12,
        ..ProptestConfig::default()
    });
    let seeds = seeds();
    if seeds.is_empty() {
        return;
    }
    let dir = scratch("outputs");
    let n = std::sync::atomic::AtomicUsize::new(0);
    runner
        .run(
            &(0usize..14, proptest::collection::vec(op(), 1..4)),
            |(seed, ops)| {
                let (v, file, data) = &seeds[seed % seeds.len()];
                if *file != "prog" {
                    return Ok(());
                }
                // Keep the program loadable: only rpath edits that keep $ORIGIN/lib, and adding libextra.
                let ops: Vec<Op> = ops
                    .into_iter()
                    .filter(|o| {
                        matches!(o, Op::Rpath(_))
                            || matches!(o, Op::AddNeeded(n) if n == "libextra.so")
                    })
                    .collect();
                let e = edit_set(&ops);
                let out = apply(data, &e);
                let k = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let work = dir.join(format!("run{k}"));
                copy_tree(&v.dir, &work);
                std::fs::write(work.join("prog"), &out).unwrap();
                let o = run_prog(v, &work.join("prog"));
                let expect = if e.add_needed.is_empty() {
                    v.expected.clone()
                } else {
                    format!("extra:loaded\n{}", v.expected)
                };
                let got = stdout(&o);
                prop_assert_eq!(
                    got.trim(),
                    expect,
                    "{} with {:?}: {}",
                    v.name,
                    ops,
                    stderr(&o)
                );
                Ok(())
            },
        )
        .unwrap();
}
