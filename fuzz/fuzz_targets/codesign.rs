//! Code-signature blobs: parsing and verifying an arbitrary blob against an arbitrary image never
//! panics or over-allocates.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = shenzi_macho::sign::parse(data);
    if data.len() >= 2 {
        let cut = data.len() / 2;
        let _ = shenzi_macho::sign::verify(data, cut as u64, &data[cut..]);
    }
});
