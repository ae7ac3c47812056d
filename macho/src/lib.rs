//! Read, edit, grow and ad-hoc sign Mach-O files, thin (32/64-bit, either byte order) or fat
//! (fat32/fat64).
//!
//! The flow, one module per step: `bytes →` [`MachO`] (a bounds-checked parse into typed
//! [`LoadCommand`]s) `→` [`EditSet`] (what to change; the edit works on owned commands) `→`
//! plan (the commands fit in place, the image shifts by Δ, or an object file's data moves; the
//! code signature is placed; the result is a typed layout that `--dry-run` reports as a
//! [`SlicePlan`]) `→` emit (an [`Output`]: writes in place, or the new file as [`Piece`]s: runs
//! of the input and the bytes that changed, never a copy of the whole) `→` [`check`] (the
//! output parses, verifies and holds the requested state). Nothing here touches the file
//! system: the caller applies the [`Rewrite`] to a file or a buffer.
//!
//! A new load command kind is a variant of [`Command`] (with a struct for its fields); every
//! match over `Command` is exhaustive, so the compiler then points at each place that must say
//! how to read and write the kind and which file offsets and addresses it records (those move
//! when the image grows; a kind that cannot say is refused then, never copied unchanged).
//!
//! Known limits of growing (each refused with a clear error, never written wrongly): non-PIE
//! executables, classic relocations in linked images, threaded binds (old arm64e), chained
//! formats other than 64, 64_OFFSET and arm64e, chained fixups inside the header segment,
//! function variants, load command kinds this crate does not know, file types other than
//! executables, dylibs, bundles and object files. LC_SEGMENT_SPLIT_INFO is moved but its
//! content (used only by the shared-cache builder) is not rewritten.
//!
//! Reading (the examples build a small arm64 dylib in memory):
//!
//! ```
//! # fn main() -> Result<(), shenzi_macho::Error> {
//! use shenzi_macho::{Command, MachO};
//! let bytes = shenzi_macho::testing::dylib(b"@rpath/libdemo.dylib", &[b"/usr/lib/libSystem.B.dylib"]);
//! let m = MachO::parse(&bytes)?;
//! assert_eq!(m.arch(), "arm64");
//! assert_eq!(m.install_name(), Some(&b"@rpath/libdemo.dylib"[..]));
//! for c in m.commands() {
//!     if let Command::Segment(s) = c.command() {
//!         println!("{}: {:#x}+{:#x}", String::from_utf8_lossy(s.name()), s.vmaddr, s.vmsize);
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! Editing, and checking the result before it replaces anything:
//!
//! ```
//! # fn main() -> Result<(), shenzi_macho::Error> {
//! use shenzi_macho::{EditSet, Options, RpathOp};
//! let bytes = shenzi_macho::testing::dylib(b"@rpath/libdemo.dylib", &[]);
//! let mut edits = EditSet::default();
//! edits.rpath.push(RpathOp::Add(b"@loader_path/../lib".to_vec()));
//! let rewrite = shenzi_macho::rewrite(&bytes, &edits, &Options::default())?;
//! for plan in rewrite.slices() {
//!     println!("{}: {}", plan.arch, plan.headline());
//! }
//! let patched = rewrite.apply(&bytes);
//! shenzi_macho::check(&patched, true)?;
//! assert_eq!(shenzi_macho::expected_names(&bytes, &edits)?, shenzi_macho::names(&patched)?);
//! assert_eq!(shenzi_macho::summarize(&patched)?[0].rpaths, ["@loader_path/../lib"]);
//! # Ok(()) }
//! ```
//!
//! Signing ad-hoc, and verifying:
//!
//! ```
//! # fn main() -> Result<(), shenzi_macho::Error> {
//! use shenzi_macho::Options;
//! let bytes = shenzi_macho::testing::dylib(b"@rpath/libdemo.dylib", &[]);
//! let mut opts = Options::default();
//! opts.identifier = b"libdemo.dylib".to_vec();
//! let signed = shenzi_macho::resign(&bytes, &opts)?.apply(&bytes);
//! for (arch, report) in shenzi_macho::verify(&signed)? {
//!     let report = report.expect("signed");
//!     assert!(report.problems.is_empty(), "{arch}: {:?}", report.problems);
//!     assert_eq!(report.identifier, "libdemo.dylib");
//! }
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod bytes;
mod check;
mod codec;
mod command;
pub mod consts;
mod edit;
mod emit;
mod error;
mod fat;
mod fixups;
#[doc(hidden)]
pub mod fuzzing;
mod grow_object;
mod image;
mod layout;
mod moves;
mod output;
mod plan;
mod rewrite;
mod shift;
pub mod sign;
pub use sign::set_page_release;
mod summary;
mod symbols;
#[doc(hidden)]
pub mod testing;
mod trie;
mod unwind;
mod view;

pub use check::{check, expected_names, names, Names};
pub use command::{
    BuildVersion, Command, DyldInfo, DylibCommand, DylibKind, Dysymtab, EncryptionInfo, EntryPoint,
    FilesetEntry, LinkeditData, LinkeditKind, LoadCommand, Note, Routines, RpathCommand, Section,
    Segment, SourceVersion, Symseg, Symtab, TwolevelHints, Uuid, VersionMin, VersionMinKind,
};
pub use edit::{EditSet, RpathOp, Semantics};
pub use error::{Error, Result};
pub use fat::{is_fat, Fat, FatArch};
pub use layout::{Layout, SlicePlan};
pub use output::{Output, Piece};
pub use plan::Options;
pub use rewrite::Rewrite;
pub use summary::{Dependency, Summary};
pub use view::{arch_name, Dylib, Header, MachO};

/// Whether `data` starts like a Mach-O file (thin, either byte order, or fat).
pub fn is_macho(data: &[u8]) -> bool {
    let Some(m) = data.get(..4) else { return false };
    let v = u32::from_be_bytes([m[0], m[1], m[2], m[3]]);
    use consts::*;
    [MH_MAGIC, MH_MAGIC_64, FAT_MAGIC, FAT_MAGIC_64].contains(&v)
        || [MH_MAGIC, MH_MAGIC_64].contains(&v.swap_bytes())
}

/// The thin images of a file: (offset, bytes) of each slice, or the whole file when thin.
pub fn slices(data: &[u8]) -> Result<Vec<(u64, &[u8])>> {
    if is_fat(data) {
        let fat = Fat::parse(data)?;
        Ok(fat
            .arches()
            .iter()
            .map(|a| (a.offset, fat.slice(data, a)))
            .collect())
    } else {
        Ok(vec![(0, data)])
    }
}

/// Plans and produces the rewrite of a file: every slice gets the same edits and is signed on
/// its own (when it was signed, or is arm64, unless `opts.no_sign`).
pub fn rewrite(data: &[u8], edits: &EditSet, opts: &Options) -> Result<Rewrite> {
    rewrite::rewrite_with(data, edits, opts, false)
}

/// Signs every slice ad-hoc anew, keeping an existing identifier, requirements and
/// entitlements (a linker signature stays a linker signature); a slice without a signature
/// gets one with `opts.identifier`.
pub fn resign(data: &[u8], opts: &Options) -> Result<Rewrite> {
    rewrite::rewrite_with(data, &EditSet::default(), opts, true)
}

/// Summaries of every slice.
pub fn summarize(data: &[u8]) -> Result<Vec<Summary>> {
    slices(data)?
        .into_iter()
        .map(|(_, s)| Ok(Summary::of(&MachO::parse(s)?)))
        .collect()
}

/// Verifies the code signature of every slice: (arch, report), the report `None` for an
/// unsigned slice.
pub fn verify(data: &[u8]) -> Result<Vec<(String, Option<sign::Report>)>> {
    let mut out = Vec::new();
    for (_, s) in slices(data)? {
        let m = MachO::parse(s)?;
        let r = match m.code_signature() {
            None => None,
            Some((off, size)) => {
                let sig = bytes::slice(s, off.into(), size.into(), "code signature")?;
                Some(sign::verify(s, off.into(), sig)?)
            }
        };
        out.push((m.arch(), r));
    }
    Ok(out)
}

/// LC_RPATH paths that occur more than once, per slice (arch, path).
pub fn duplicate_rpaths(data: &[u8]) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    for (_, s) in slices(data)? {
        let m = MachO::parse(s)?;
        let rp = m.rpaths();
        for (i, (_, p)) in rp.iter().enumerate() {
            if rp[..i].iter().any(|(_, q)| q == p) {
                out.push((m.arch(), p.to_vec()));
            }
        }
    }
    Ok(out)
}
