//! Emission: turns a [`SliceLayout`] into the [`Output`] of one slice. Nothing is decided here;
//! every offset comes from the layout.
//!
//! In place, only the header area and the signature change (a list of writes). A shift or an
//! object file's growth rebuilds the image (see `shift` and `grow_object`), then the header
//! and load commands are written over its start.

use crate::error::Result;
use crate::layout::{Placement, SignatureAt, SliceLayout};
use crate::output::Output;
use crate::sign::{self, View};
use crate::view::MachO;

/// The new content of the slice `m` laid out as `lay`.
pub(crate) fn emit(m: &MachO, lay: &SliceLayout) -> Result<Output> {
    let image = match &lay.placement {
        Placement::Unchanged => return Ok(Output::Unchanged),
        Placement::InPlace => None,
        Placement::Shift(s) => Some(crate::shift::emit(m, s, lay.new_len)?),
        Placement::GrowObject(g) => Some(crate::grow_object::emit(m, g)),
    };
    let header = m.encode_commands(&lay.commands)?;
    match image {
        Some(mut img) => {
            img[..header.len()].copy_from_slice(&header);
            img.resize(lay.new_len as usize, 0);
            if let Some(at) = &lay.signature {
                let sig = signature(at, &View::new(&img, &[]))?;
                img[at.offset as usize..(at.offset + at.size) as usize].copy_from_slice(&sig);
            }
            Ok(Output::Whole(img))
        }
        None => {
            let mut region = header;
            let old_end = m.commands_end() as usize;
            if region.len() < old_end {
                region.resize(old_end, 0);
            }
            let mut writes = vec![(0u64, region)];
            if let Some(at) = &lay.signature {
                let overlay: Vec<(u64, &[u8])> =
                    writes.iter().map(|(o, b)| (*o, b.as_slice())).collect();
                let sig = signature(at, &View::new(m.data(), &overlay))?;
                writes.push((at.offset, sig));
            }
            Ok(Output::Patch {
                writes,
                new_len: lay.new_len,
            })
        }
    }
}

/// The signature over `view`, zero-padded to the space reserved for it.
fn signature(at: &SignatureAt, view: &View) -> Result<Vec<u8>> {
    let mut sig = sign::build(&at.params, view, at.offset)?;
    sig.resize(at.size as usize, 0);
    Ok(sig)
}
