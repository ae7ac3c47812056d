//! How offsets and addresses move when an image grows: everything at or past the insertion
//! point moves by Δ, in the file and (for a linked image) in memory.

use crate::bytes::Ctx;
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
