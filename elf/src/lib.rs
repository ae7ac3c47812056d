//! Read, edit and rewrite the dynamic-linking data of ELF files — DT_NEEDED, DT_RPATH and
//! DT_RUNPATH, DT_SONAME, PT_INTERP, dynamic symbol names and versions — for 32/64-bit,
//! little/big-endian files, with patchelf 0.19's semantics.
//!
//! The flow, one module per step: `bytes →` [`Elf`] (a bounds-checked view) `→` [`EditSet`]
//! (what to change) `→` [`plan`] (resolve the target state, then lay it out in place or grow
//! the file; the layout is a value that `--dry-run` prints) `→` [`Rewrite`] (byte ranges to
//! write) `→` [`OutputCheck`] (the output parses and holds the requested state). Nothing here
//! touches the file system: the caller writes the `Rewrite` to a file or a buffer; questions
//! about the file system (shrink-rpath, the resolution cache) go through a [`LibraryProbe`].
//!
//! [`strip`] removes debug information and the static symbol table from executables and
//! shared libraries, leaving every byte a loader reads as it was.
//!
//! Reading:
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use shenzi_elf::Elf;
//! // Any dynamically linked ELF file will do; this example reads its own executable.
//! let bytes = std::fs::read(std::env::current_exe()?)?;
//! let elf = Elf::parse(&bytes)?;
//! let needed = elf.needed()?;
//! assert!(needed.iter().any(|n| n.starts_with(b"libc.so")));
//! if let Some(run_path) = elf.run_path()? {
//!     println!("{:?}: {}", run_path.tag, String::from_utf8_lossy(run_path.value));
//! }
//! # Ok(()) }
//! ```
//!
//! Editing, and checking the result before it replaces anything:
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use shenzi_elf::{Elf, EditSet, Options, OutputCheck, RpathOp, RunPathTag};
//! let bytes = std::fs::read(std::env::current_exe()?)?;
//! let elf = Elf::parse(&bytes)?;
//! let mut edits = EditSet::default();
//! edits.rpath = vec![RpathOp::Set(b"$ORIGIN/../lib".to_vec())];
//! let opts = Options::default();
//! let rewrite = shenzi_elf::plan(&elf, &edits, &opts, None)?;
//! println!("{}", rewrite.plan.steps.join("\n"));
//! let patched = rewrite.output(&bytes);
//! OutputCheck::new(&elf, &edits, &opts)?.run(&patched, None)?;
//! let run_path = Elf::parse(&patched)?.run_path()?.unwrap();
//! assert_eq!((run_path.tag, run_path.value), (RunPathTag::Runpath, &b"$ORIGIN/../lib"[..]));
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod check;
pub mod consts;
mod ctx;
mod edit;
mod emit;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod grow;
mod headers;
mod layout;
mod ldcache;
mod output;
mod plan;
mod read;
mod strip;
mod strtab;
mod summary;
mod symbols;
mod view;

pub use check::{check, OutputCheck};
pub use ctx::{Class, Ctx, Endian};
pub use edit::{EditSet, LibraryProbe, RpathOp};
pub use error::{Error, Result};
pub use headers::{Ehdr, Phdr, Shdr};
pub use output::{Plan, Rewrite, Write};
pub use plan::{plan, Options};
pub use read::{peek, Ident, RunPath, RunPathTag, VersionNeed};
pub use strip::{strip, RemovedSection, Stripped};
pub use summary::Summary;
pub use view::{Dyn, Dynamic, Elf, StrTab};

/// Whether `data` starts with the ELF magic.
pub fn is_elf(data: &[u8]) -> bool {
    data.starts_with(b"\x7fELF")
}
