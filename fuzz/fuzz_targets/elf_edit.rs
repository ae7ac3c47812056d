//! An edit set derived from the input, applied to the rest of the input (seeded with corpus
//! binaries): planning never panics, and a planned output parses and holds the requested state.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shenzi_elf::{EditSet, Elf, Options, RpathOp};

fn name(sel: u8) -> Vec<u8> {
    let pool: [&[u8]; 6] = [b"libextra.so", b"libm.so.6", b"libc.so.6", b"libdemo.so", b"x", b"libz.so.1"];
    pool[sel as usize % pool.len()].to_vec()
}

fuzz_target!(|input: &[u8]| {
    if input.len() < 8 {
        return;
    }
    let (ctl, data) = input.split_at(8);
    let mut e = EditSet::default();
    let rpath_len = (ctl[0] as usize) * 24;
    if ctl[1] & 1 != 0 {
        e.rpath.push(RpathOp::Set(vec![b'/'; rpath_len]));
    }
    if ctl[1] & 2 != 0 {
        e.add_needed.push(name(ctl[2]));
    }
    if ctl[1] & 4 != 0 {
        e.remove_needed.push(name(ctl[3]));
    }
    if ctl[1] & 8 != 0 {
        e.replace_needed.push((name(ctl[4]), vec![b'n'; ctl[5] as usize]));
    }
    if ctl[1] & 16 != 0 {
        e.soname = Some(vec![b's'; ctl[6] as usize]);
    }
    if ctl[1] & 32 != 0 {
        e.interpreter = Some(vec![b'i'; ctl[7] as usize + 1]);
    }
    if ctl[1] & 64 != 0 {
        e.rpath.push(RpathOp::Remove);
    }
    let opts = Options { no_grow: ctl[1] & 128 != 0, page_size: None };
    let Ok(elf) = Elf::parse(data) else { return };
    let Ok(rw) = shenzi_elf::plan(&elf, &e, &opts, None) else { return };
    let out = rw.output(data);
    let again = Elf::parse(&out).expect("planned output parses");
    let second = shenzi_elf::plan(&again, &e, &opts, None).expect("output re-plans");
    assert!(second.is_noop(), "output does not hold the requested state: {:?}", second.plan.steps);
});
