//! Emission: turns a [`SliceLayout`] into the [`Output`] of one slice. Nothing is decided here;
//! every offset comes from the layout.
//!
//! In place, only the header area and the signature change (a list of writes). A shift or an
//! object file's growth assembles a new image from the input (see `shift` and `grow_object`),
//! then the header and load commands are written over its start. Either way the signature is
//! hashed from an [`Image`]: the input with the new bytes over it.

use crate::error::Result;
use crate::image::Image;
use crate::layout::{Placement, SignatureAt, SliceLayout};
use crate::output::Output;
use crate::sign;
use crate::view::MachO;

/// The new content of the slice `m` laid out as `lay`.
pub(crate) fn emit(m: &MachO, lay: &SliceLayout) -> Result<Output> {
    let image = match &lay.placement {
        Placement::Unchanged => return Ok(Output::Unchanged),
        Placement::InPlace => None,
        Placement::Shift(s) => Some(crate::shift::emit(m, s)?),
        Placement::GrowObject(g) => Some(crate::grow_object::emit(m, g)?),
    };
    let header = m.encode_commands(&lay.commands)?;
    match image {
        Some(mut img) => {
            img.set_len(lay.new_len);
            crate::bytes::put(&mut img, 0, &header, "load commands")?;
            if let Some(at) = &lay.signature {
                let sig = signature(at, &img)?;
                crate::bytes::put(&mut img, at.offset, &sig, "code signature")?;
            }
            Ok(Output::Pieces(img.into_pieces()))
        }
        None => {
            let mut region = header;
            let old_end = m.commands_end() as usize;
            if region.len() < old_end {
                region.resize(old_end, 0);
            }
            let mut writes = vec![(0u64, region)];
            if let Some(at) = &lay.signature {
                let mut img = Image::over(m.data());
                img.set_len(lay.new_len);
                crate::bytes::put(&mut img, 0, &writes[0].1, "load commands")?;
                writes.push((at.offset, signature(at, &img)?));
            }
            Ok(Output::Patch {
                writes,
                new_len: lay.new_len,
            })
        }
    }
}

/// The signature over `img`, zero-padded to the space reserved for it.
fn signature(at: &SignatureAt, img: &Image) -> Result<Vec<u8>> {
    let mut sig = sign::build(&at.params, img, at.offset)?;
    sig.resize(at.size as usize, 0);
    Ok(sig)
}
