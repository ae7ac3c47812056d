//! Mutation robustness: corpus files (built by corpus/macho/build.sh into target/corpus-macho)
//! with random bytes changed in the header, load commands and linkedit tables go through
//! parsing, planning (in place and shifted), signing and verification. Every outcome is fine
//! except a panic or a hang. Skipped when the corpus has not been built.

use shenzi_macho::{check, rewrite, summarize, verify, EditSet, Options, RpathOp};

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[test]
fn mutated_corpus_files_never_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/corpus-macho");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        if std::env::var("SHENZI_REQUIRE_ORACLES").is_ok_and(|v| v == "1") {
            panic!("corpus not built (run corpus/macho/setup.sh)");
        }
        eprintln!("skipping: corpus not built");
        return;
    };
    let mut files: Vec<_> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            (n.ends_with(".dylib") || n.ends_with("-main")) && !n.starts_with("large")
        })
        .collect();
    files.sort();
    assert!(files.len() >= 10, "corpus too small: {files:?}");
    let mut grow = EditSet::default();
    grow.rpath = vec![RpathOp::Add(vec![b'g'; 20000])];
    grow.change = vec![(b"/usr/lib/libSystem.B.dylib".to_vec(), b"/x".to_vec())];
    let mut small = EditSet::default();
    small.id = Some(b"@rpath/m.dylib".to_vec());
    let mut opts = Options::default();
    opts.identifier = b"m".to_vec();
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    for f in &files {
        let good = std::fs::read(f).unwrap();
        for round in 0..150 {
            let mut b = good.clone();
            let n = 1 + rng.next() % 6;
            for _ in 0..n {
                // Half the hits in the first 2 KiB (headers, load commands), half anywhere.
                let at = if rng.next().is_multiple_of(2) {
                    rng.next() as usize % good.len().min(2048)
                } else {
                    rng.next() as usize % good.len()
                };
                b[at] = rng.next() as u8;
            }
            let _ = summarize(&b);
            let _ = verify(&b);
            for e in [&grow, &small] {
                if let Ok(r) = rewrite(&b, e, &opts) {
                    let out = r.apply(&b);
                    let _ = check(&out, true);
                }
            }
            let _ = round;
        }
    }
}
