//! The symbol table (`nlist`/`nlist_64`): import ordinals and, when the image shifts, the
//! addresses that move.

use crate::bytes::{Ctx, ReadAt};
use crate::command::Command;
use crate::consts::*;
use crate::error::{malformed, Result};
use crate::image::Image;
use crate::view::MachO;

/// (symoff, nsyms) of LC_SYMTAB, if any.
pub fn symtab(m: &MachO) -> Option<(u64, u64)> {
    match m.index().symtab.map(|i| m.commands()[i].command()) {
        Some(Command::Symtab(s)) => Some((s.symoff.into(), s.nsyms.into())),
        _ => None,
    }
}

fn nlist_size(ctx: Ctx) -> u64 {
    if ctx.is64 {
        16
    } else {
        12
    }
}

/// The highest two-level library ordinal any undefined symbol refers to (1-based), if any.
pub fn max_import_ordinal(m: &MachO) -> Result<Option<u8>> {
    let Some((off, n)) = symtab(m) else {
        return Ok(None);
    };
    let (ctx, data) = (m.ctx(), m.data());
    let size = nlist_size(ctx);
    let mut max = None;
    for i in 0..n {
        let at = off + i * size;
        let n_type = *data.get(at as usize + 4).unwrap_or(&0);
        if n_type & N_STAB != 0 || n_type & N_TYPE != 0 {
            continue;
        }
        let desc = ctx.u16(data, at + 6, "symbol")?;
        let ord = (desc >> 8) as u8;
        if (1..=0xfd).contains(&ord) {
            max = max.max(Some(ord));
        }
    }
    Ok(max)
}

/// Adds `delta` to the n_value of every symbol whose value is an address at or above
/// `threshold`: defined section symbols and the stabs that carry addresses (N_FUN, N_STSYM,
/// N_LCSYM, N_BNSYM, N_ENSYM with a section). Other stabs (N_OSO holds a timestamp) and
/// absolute symbols are left alone. `symoff` is where the table now sits in `out`.
pub fn shift_symbols(
    ctx: Ctx,
    out: &mut Image,
    symoff: u64,
    nsyms: u64,
    threshold: u64,
    delta: u64,
) -> Result<()> {
    let size = nlist_size(ctx);
    for i in 0..nsyms {
        let at = symoff + i * size;
        let mut ts = [0u8; 2];
        let [n_type, n_sect] = if out.read_at(at + 4, &mut ts) {
            ts
        } else {
            [0, 0]
        };
        let moves = if n_type & N_STAB != 0 {
            matches!(n_type, N_FUN | N_STSYM | N_LCSYM | N_BNSYM | N_ENSYM) && n_sect != 0
        } else {
            n_type & N_TYPE == N_SECT
        };
        if !moves {
            continue;
        }
        let v = ctx.word(out, at + 8, "symbol")?;
        if v >= threshold {
            let moved = v.checked_add(delta).ok_or_else(|| {
                malformed("symbol", format!("value {v:#x} overflows when shifted"))
            })?;
            ctx.put_word(out, at + 8, moved, "symbol")?;
        }
    }
    Ok(())
}
