//! How offsets and addresses move when an image grows: everything at or past the insertion
//! point moves by Δ, in the file and (for a linked image) in memory ([`Shift`]); which tables
//! each load command kind points at ([`Command::tables`]); and which file offsets and addresses
//! it records, moved by [`LoadCommand::relocate`], which refuses the kinds it cannot move. The
//! shift of a linked image and the growth of an object file both move commands through it.

use crate::bytes::Ctx;
use crate::command::{Command, LoadCommand};
use crate::consts::*;
use crate::error::{malformed, Error, Result};

/// File offsets and image offsets at or above `off` move by `delta`; unslid addresses at or
/// above `addr` move by `delta` (an object file has no addresses that move: `addr` is None).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shift {
    pub off: u64,
    pub addr: Option<u64>,
    pub delta: u64,
}

impl Shift {
    // Wrapping: a hostile value near the top of the range must not panic; real values never
    // wrap, and load-command fields use the checked forms below.
    pub fn file(&self, v: u64) -> u64 {
        if v >= self.off {
            v.wrapping_add(self.delta)
        } else {
            v
        }
    }

    /// An image offset (from the header, as mapped): moves with the file in a linked image;
    /// an object file has none.
    pub fn image(&self, v: u64) -> u64 {
        if self.moves_addresses() {
            self.file(v)
        } else {
            v
        }
    }

    pub fn vm(&self, v: u64) -> u64 {
        match self.addr {
            Some(a) if v >= a => v.wrapping_add(self.delta),
            _ => v,
        }
    }

    pub fn moves_addresses(&self) -> bool {
        self.addr.is_some()
    }

    /// [`Shift::file`], failing instead of wrapping.
    pub fn file_checked(&self, v: u64) -> Result<u64> {
        if v < self.off {
            return Ok(v);
        }
        v.checked_add(self.delta)
            .ok_or_else(|| malformed("layout", "a moved file offset overflows"))
    }

    /// [`Shift::file`] of a 32-bit field.
    pub fn file32(&self, v: u32) -> Result<u32> {
        u32::try_from(self.file_checked(v.into())?).map_err(|_| {
            Error::Unsupported("a moved file offset no longer fits its 32-bit field".into())
        })
    }
}

/// Moves the program counter of each state of a thread command (`states`: the bytes after
/// `cmd` and `cmdsize`).
pub fn shift_thread(ctx: Ctx, cputype: u32, states: &mut [u8], s: &Shift) -> Result<()> {
    let w = "thread state";
    let mut pos = 0u64;
    while pos + 8 <= states.len() as u64 {
        let flavor = ctx.u32(states, pos, w)?;
        let count = u64::from(ctx.u32(states, pos + 4, w)?);
        let state = pos + 8;
        match (cputype, flavor) {
            (CPU_TYPE_X86_64, X86_THREAD_STATE64) => {
                let at = state + 16 * 8; // rip
                let pc = ctx.u64(states, at, w)?;
                ctx.put_u64(states, at, s.vm(pc), w)?;
            }
            (CPU_TYPE_ARM64, ARM_THREAD_STATE64) => {
                let at = state + 32 * 8; // pc
                let pc = ctx.u64(states, at, w)?;
                ctx.put_u64(states, at, s.vm(pc), w)?;
            }
            (CPU_TYPE_X86, X86_THREAD_STATE32) => {
                let at = state + 10 * 4; // eip
                let pc = u64::from(ctx.u32(states, at, w)?);
                let moved = u32::try_from(s.vm(pc))
                    .map_err(|_| malformed(w, "the moved entry point exceeds 32 bits"))?;
                ctx.put_u32(states, at, moved, w)?;
            }
            _ => {
                return Err(Error::Unsupported(format!(
                    "cannot move the entry point of thread state flavor {flavor}"
                )))
            }
        }
        pos = state + count * 4;
    }
    Ok(())
}

/// A table outside any section that a load command points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Table {
    pub what: &'static str,
    /// Which of the command's tables (for [`LoadCommand::set_table`]).
    pub slot: usize,
    pub offset: u64,
    pub size: u64,
    /// The command records the byte size (not a count), so the table can be given a new one.
    pub sized: bool,
}

impl Command {
    /// The tables outside sections this command points at: symbol and string tables, the
    /// dynamic symbol table's tables, dyld-info streams and linkedit blobs.
    pub(crate) fn tables(&self, is64: bool) -> Vec<Table> {
        let t = |what, slot, offset: u32, size: u64, sized| Table {
            what,
            slot,
            offset: offset.into(),
            size,
            sized,
        };
        let n = |count: u32, unit: u64| u64::from(count) * unit;
        match self {
            Command::Symtab(s) => vec![
                t(
                    "symbol table",
                    0,
                    s.symoff,
                    n(s.nsyms, if is64 { 16 } else { 12 }),
                    false,
                ),
                t("string table", 1, s.stroff, s.strsize.into(), true),
            ],
            Command::Dysymtab(d) => vec![
                t("table of contents", 0, d.tocoff, n(d.ntoc, 8), false),
                t(
                    "module table",
                    1,
                    d.modtaboff,
                    n(d.nmodtab, if is64 { 56 } else { 52 }),
                    false,
                ),
                t(
                    "referenced symbols",
                    2,
                    d.extrefsymoff,
                    n(d.nextrefsyms, 4),
                    false,
                ),
                t(
                    "indirect symbol table",
                    3,
                    d.indirectsymoff,
                    n(d.nindirectsyms, 4),
                    false,
                ),
                t(
                    "external relocations",
                    4,
                    d.extreloff,
                    n(d.nextrel, 8),
                    false,
                ),
                t("local relocations", 5, d.locreloff, n(d.nlocrel, 8), false),
            ],
            Command::DyldInfo { info: d, .. } => vec![
                t("rebase info", 0, d.rebase_off, d.rebase_size.into(), true),
                t("bind info", 1, d.bind_off, d.bind_size.into(), true),
                t(
                    "weak bind info",
                    2,
                    d.weak_bind_off,
                    d.weak_bind_size.into(),
                    true,
                ),
                t(
                    "lazy bind info",
                    3,
                    d.lazy_bind_off,
                    d.lazy_bind_size.into(),
                    true,
                ),
                t("export info", 4, d.export_off, d.export_size.into(), true),
            ],
            Command::LinkeditData(_, l) => {
                vec![t("linkedit data", 0, l.dataoff, l.datasize.into(), true)]
            }
            Command::Segment(_)
            | Command::Dylib(..)
            | Command::Rpath(_)
            | Command::EntryPoint(_)
            | Command::Thread { .. }
            | Command::Routines(_)
            | Command::EncryptionInfo(_)
            | Command::Note(_)
            | Command::TwolevelHints(_)
            | Command::Symseg(_)
            | Command::BuildVersion(_)
            | Command::VersionMin(..)
            | Command::Uuid(_)
            | Command::SourceVersion(_)
            | Command::FilesetEntry(_)
            | Command::Other(_)
            | Command::Unknown(_) => Vec::new(),
        }
    }
}

impl LoadCommand {
    /// Gives table `slot` (of [`Command::tables`]) a new offset, and a new byte size when the
    /// command records one.
    pub(crate) fn set_table(&mut self, slot: usize, offset: u64, size: Option<u64>) -> Result<()> {
        let off = narrow_offset(offset)?;
        let size = size.map(narrow_offset).transpose()?;
        let set = |o: &mut u32, s: Option<&mut u32>| {
            *o = off;
            if let (Some(s), Some(v)) = (s, size) {
                *s = v;
            }
        };
        match (&mut self.command, slot) {
            (Command::Symtab(s), 0) => s.symoff = off,
            (Command::Symtab(s), 1) => set(&mut s.stroff, Some(&mut s.strsize)),
            (Command::Dysymtab(d), 0) => d.tocoff = off,
            (Command::Dysymtab(d), 1) => d.modtaboff = off,
            (Command::Dysymtab(d), 2) => d.extrefsymoff = off,
            (Command::Dysymtab(d), 3) => d.indirectsymoff = off,
            (Command::Dysymtab(d), 4) => d.extreloff = off,
            (Command::Dysymtab(d), 5) => d.locreloff = off,
            (Command::DyldInfo { info: d, .. }, 0) => {
                set(&mut d.rebase_off, Some(&mut d.rebase_size))
            }
            (Command::DyldInfo { info: d, .. }, 1) => set(&mut d.bind_off, Some(&mut d.bind_size)),
            (Command::DyldInfo { info: d, .. }, 2) => {
                set(&mut d.weak_bind_off, Some(&mut d.weak_bind_size))
            }
            (Command::DyldInfo { info: d, .. }, 3) => {
                set(&mut d.lazy_bind_off, Some(&mut d.lazy_bind_size))
            }
            (Command::DyldInfo { info: d, .. }, 4) => {
                set(&mut d.export_off, Some(&mut d.export_size))
            }
            (Command::LinkeditData(_, l), 0) => set(&mut l.dataoff, Some(&mut l.datasize)),
            (c, _) => {
                return Err(Error::Internal(format!(
                    "no table {slot} in load command {:#x}",
                    c.cmd()
                )))
            }
        }
        Ok(())
    }

    /// Moves every file offset and address this command records by `s` (the header, at file
    /// offset 0, never moves). Refuses the kinds whose fields cannot be moved.
    pub(crate) fn relocate(&mut self, ctx: Ctx, cputype: u32, s: &Shift) -> Result<()> {
        for t in self.command.tables(ctx.is64) {
            self.set_table(t.slot, s.file_checked(t.offset)?, None)?;
        }
        match &mut self.command {
            Command::Segment(g) => {
                g.vmaddr = s.vm(g.vmaddr);
                g.fileoff = s.file_checked(g.fileoff)?;
                for x in &mut g.sections {
                    x.addr = s.vm(x.addr);
                    x.offset = s.file32(x.offset)?;
                    x.reloff = s.file32(x.reloff)?;
                }
            }
            Command::Symtab(_)
            | Command::Dysymtab(_)
            | Command::DyldInfo { .. }
            | Command::LinkeditData(..) => {}
            Command::EntryPoint(e) => e.entryoff = s.image(e.entryoff),
            Command::Thread { .. } => {
                if s.moves_addresses() {
                    crate::moves::shift_thread(ctx, cputype, &mut self.tail, s)?;
                }
            }
            Command::Routines(r) => r.init_address = s.vm(r.init_address),
            Command::EncryptionInfo(e) => e.cryptoff = s.file32(e.cryptoff)?,
            Command::Note(n) => n.offset = s.file_checked(n.offset)?,
            Command::TwolevelHints(h) => h.offset = s.file32(h.offset)?,
            Command::Symseg(g) => g.offset = s.file32(g.offset)?,
            Command::FilesetEntry(_) => {
                return Err(Error::Unsupported(
                    "cannot grow a file set (kernel collection): LC_FILESET_ENTRY".into(),
                ))
            }
            Command::Dylib(..)
            | Command::Rpath(_)
            | Command::BuildVersion(_)
            | Command::VersionMin(..)
            | Command::Uuid(_)
            | Command::SourceVersion(_)
            | Command::Other(_) => {}
            Command::Unknown(cmd) => {
                let name = command_name(*cmd).map_or_else(String::new, |n| format!("{n} "));
                return Err(Error::Unsupported(format!(
                    "cannot grow the load commands: load command {name}({cmd:#x}) is one \
                     shenzi does not know how to move"
                )));
            }
        }
        Ok(())
    }
}

fn narrow_offset(v: u64) -> Result<u32> {
    u32::try_from(v).map_err(|_| {
        Error::Unsupported("a moved file offset no longer fits its 32-bit field".into())
    })
}
