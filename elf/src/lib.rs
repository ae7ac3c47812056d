//! Read, edit and rewrite the dynamic-linking data of ELF files: DT_NEEDED, DT_RPATH/DT_RUNPATH,
//! DT_SONAME and PT_INTERP, for 32/64-bit, little/big-endian files.
//!
//! The flow is `bytes → Elf (view) → EditSet → plan (in place | grow) → Rewrite (writes)`. Nothing
//! here touches the file system: the caller applies the `Rewrite` to a file or a buffer.
//!
//! ```no_run
//! # fn demo(bytes: &[u8]) -> Result<(), shenzi_elf::Error> {
//! use shenzi_elf::{Elf, EditSet, RpathOp, Options};
//! let elf = Elf::parse(bytes)?;
//! let edits = EditSet { rpath: vec![RpathOp::Set(b"$ORIGIN/../lib".to_vec())], ..Default::default() };
//! let rewrite = shenzi_elf::plan(&elf, &edits, &Options::default(), None)?;
//! let patched = rewrite.output(bytes);
//! # Ok(()) }
//! ```

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
pub use summary::Summary;
pub use view::{Dyn, Dynamic, Elf, StrTab};

/// Whether `data` starts with the ELF magic.
pub fn is_elf(data: &[u8]) -> bool {
    data.starts_with(b"\x7fELF")
}
