//! Ad-hoc code signatures: read the embedded signature of a thin image, build a new one over
//! the current bytes, and verify one.
//!
//! Layout (all big-endian): a SuperBlob (`0xfade0cc0`) indexing a CodeDirectory (`0xfade0c02`,
//! version 0x20400, SHA-256, pages over file bytes `[0, LC_CODE_SIGNATURE.dataoff)`: 4 KiB for a
//! new signature, the input's page size for a re-signature (zig's linker uses 16 KiB), with
//! the exec-segment fields taken from the header segment) and, for codesign-style signatures,
//! the requirements and entitlements blobs and an empty CMS wrapper.
//!
//! Re-signing follows cctools: a linker-signed input stays linker-signed (`CS_ADHOC |
//! CS_LINKER_SIGNED`, no special slots); a codesign ad-hoc input keeps its identifier, flags
//! and requirements/entitlements; an identity-signed input becomes ad-hoc (its requirements
//! named the certificate and are dropped) and the caller warns; an unsigned input gets a
//! linker-style signature.
//!
//! An identity-signed input also loses the hardened runtime (`CS_RUNTIME`) and library
//! validation (`CS_REQUIRE_LV`): both demand that every library it loads carry the same team
//! identifier, which no ad-hoc signature has, so a re-signed interpreter would be killed when it
//! loads a re-signed extension. Its entitlements stay.

use sha2::{Digest, Sha256};

use crate::bytes::{be32, be64, cstr, slice};
use crate::consts::*;
use crate::error::{malformed, Result};
use crate::image::Image;

/// Largest page size (log2) a signature may declare here: 1 GiB.
const MAX_PAGE_SHIFT: u8 = 30;

/// The page size (log2) a CodeDirectory declares, when this module can hash with it (0 means
/// one unpaged hash, which no linker writes).
fn page_shift_of(cd: &[u8]) -> Option<u8> {
    cd.get(39)
        .copied()
        .filter(|s| (1..=MAX_PAGE_SHIFT).contains(s))
}
const CD_HEADER: usize = 88;

/// What an existing signature is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Written by a linker (ld64, lld): `CS_LINKER_SIGNED`.
    LinkerSigned,
    /// `codesign -s -`.
    AdHoc,
    /// Signed with a certificate (a CMS blob with content).
    Identity,
}

/// The parts of an existing signature that a re-signature keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Existing {
    /// Who made it.
    pub kind: Kind,
    /// The CodeDirectory's identifier (normally the file name or a bundle id).
    pub identifier: Vec<u8>,
    /// The team identifier, if the CodeDirectory has one.
    pub team: Option<Vec<u8>>,
    /// CodeDirectory flags (`CS_ADHOC`, `CS_LINKER_SIGNED`, …).
    pub flags: u32,
    /// Page size of its code hashes, as a power of two.
    pub page_shift: u8,
    /// Exec-segment flags (`CS_EXECSEG_MAIN_BINARY`, …).
    pub exec_seg_flags: u64,
    /// Embedded special blobs (slot, bytes): requirements, entitlements, DER entitlements.
    pub blobs: Vec<(u32, Vec<u8>)>,
    /// Hashes of special slots whose content lives outside the binary (Info.plist, resources),
    /// by slot number.
    pub external: Vec<(u32, Vec<u8>)>,
}

/// Reads the SuperBlob at the start of `sig`.
pub fn parse(sig: &[u8]) -> Result<Existing> {
    let w = "code signature";
    if be32(sig, 0, w)? != CSMAGIC_EMBEDDED_SIGNATURE {
        return Err(malformed(w, "not an embedded signature SuperBlob"));
    }
    let count = u64::from(be32(sig, 8, w)?);
    slice(sig, 12, count * 8, w)?;
    let mut cd: Option<&[u8]> = None;
    let mut blobs = Vec::new();
    let mut identity = false;
    for i in 0..count {
        let ty = be32(sig, 12 + 8 * i, w)?;
        let off = u64::from(be32(sig, 16 + 8 * i, w)?);
        let len = u64::from(be32(sig, off + 4, w)?);
        let blob = slice(sig, off, len, w)?;
        match ty {
            CSSLOT_CODEDIRECTORY => cd = Some(blob),
            CSSLOT_REQUIREMENTS | CSSLOT_ENTITLEMENTS | CSSLOT_DER_ENTITLEMENTS => {
                blobs.push((ty, blob.to_vec()))
            }
            CSSLOT_SIGNATURESLOT => identity = len > 8,
            _ => {}
        }
    }
    let cd = cd.ok_or_else(|| malformed(w, "no CodeDirectory"))?;
    let version = be32(cd, 8, w)?;
    let flags = be32(cd, 12, w)?;
    let hash_off = u64::from(be32(cd, 16, w)?);
    let ident_off = be32(cd, 20, w)? as usize;
    let n_special = u64::from(be32(cd, 24, w)?);
    let hash_size = u64::from(*cd.get(36).unwrap_or(&0));
    let page_shift = page_shift_of(cd).ok_or_else(|| {
        malformed(
            w,
            format!("page size 2^{} is not supported", cd.get(39).unwrap_or(&0)),
        )
    })?;
    if ident_off >= cd.len() {
        return Err(malformed(w, "identifier offset outside the CodeDirectory"));
    }
    let identifier = cstr(cd, ident_off).to_vec();
    let team = if version >= CS_SUPPORTSTEAMID {
        let t = be32(cd, 52, w)? as usize;
        (t != 0 && t < cd.len()).then(|| cstr(cd, t).to_vec())
    } else {
        None
    };
    let exec_seg_flags = if version >= CS_SUPPORTSEXECSEG {
        be64(cd, 80, w)?
    } else {
        0
    };
    let mut external = Vec::new();
    let embedded = [
        CSSLOT_REQUIREMENTS,
        CSSLOT_ENTITLEMENTS,
        CSSLOT_DER_ENTITLEMENTS,
    ];
    for slot in 1..=n_special.min(16) {
        if embedded.contains(&(slot as u32)) {
            continue;
        }
        let at = hash_off
            .checked_sub(slot * hash_size)
            .ok_or_else(|| malformed(w, "special slots before the CodeDirectory"))?;
        let h = slice(cd, at, hash_size, w)?;
        if h.iter().any(|&b| b != 0) {
            external.push((slot as u32, h.to_vec()));
        }
    }
    let kind = if identity {
        Kind::Identity
    } else if flags & CS_LINKER_SIGNED != 0 {
        Kind::LinkerSigned
    } else {
        Kind::AdHoc
    };
    Ok(Existing {
        kind,
        identifier,
        team,
        flags,
        page_shift,
        exec_seg_flags,
        blobs,
        external,
    })
}

/// What a new signature will hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Params {
    pub identifier: Vec<u8>,
    pub flags: u32,
    /// Page size of the code hashes, as a power of two.
    pub page_shift: u8,
    pub linker_signed: bool,
    pub blobs: Vec<(u32, Vec<u8>)>,
    pub external: Vec<(u32, Vec<u8>)>,
    pub exec_seg_base: u64,
    pub exec_seg_limit: u64,
    pub exec_seg_flags: u64,
}

impl Params {
    /// The parameters a re-signature of `old` uses (or a fresh signature when `old` is None).
    pub fn from_existing(old: Option<&Existing>, identifier: &[u8], main_binary: bool) -> Params {
        let main = if main_binary {
            CS_EXECSEG_MAIN_BINARY
        } else {
            0
        };
        match old {
            None => Params {
                identifier: identifier.to_vec(),
                flags: CS_ADHOC | CS_LINKER_SIGNED,
                page_shift: CS_PAGE_SHIFT,
                linker_signed: true,
                blobs: Vec::new(),
                external: Vec::new(),
                exec_seg_base: 0,
                exec_seg_limit: 0,
                exec_seg_flags: main,
            },
            Some(o) => {
                let linker = o.kind == Kind::LinkerSigned;
                let blobs = match o.kind {
                    Kind::LinkerSigned => Vec::new(),
                    Kind::AdHoc => o.blobs.clone(),
                    Kind::Identity => {
                        let mut b: Vec<_> = o
                            .blobs
                            .iter()
                            .filter(|(s, _)| *s != CSSLOT_REQUIREMENTS)
                            .cloned()
                            .collect();
                        b.push((CSSLOT_REQUIREMENTS, empty_requirements()));
                        b.sort_by_key(|(s, _)| *s);
                        b
                    }
                };
                Params {
                    identifier: o.identifier.clone(),
                    page_shift: o.page_shift,
                    flags: match o.kind {
                        Kind::LinkerSigned => CS_ADHOC | CS_LINKER_SIGNED,
                        Kind::AdHoc => (o.flags & !CS_LINKER_SIGNED) | CS_ADHOC,
                        Kind::Identity => {
                            (o.flags & !(CS_LINKER_SIGNED | CS_RUNTIME | CS_REQUIRE_LV)) | CS_ADHOC
                        }
                    },
                    linker_signed: linker,
                    blobs,
                    external: if linker {
                        Vec::new()
                    } else {
                        o.external.clone()
                    },
                    exec_seg_base: 0,
                    exec_seg_limit: 0,
                    exec_seg_flags: if o.exec_seg_flags != 0 {
                        o.exec_seg_flags
                    } else {
                        main
                    },
                }
            }
        }
    }

    fn n_special(&self) -> u32 {
        self.blobs
            .iter()
            .map(|(s, _)| *s)
            .chain(self.external.iter().map(|(s, _)| *s))
            .max()
            .unwrap_or(0)
    }

    /// Byte size of the signature for `code_limit` bytes of code.
    pub fn size(&self, code_limit: u64) -> u64 {
        let n_code = code_limit.div_ceil(1 << self.page_shift);
        let n_blobs = 1 + self.blobs.len() as u64 + u64::from(!self.linker_signed);
        let cd = CD_HEADER as u64
            + self.identifier.len() as u64
            + 1
            + 32 * (u64::from(self.n_special()) + n_code);
        let others: u64 = self.blobs.iter().map(|(_, b)| b.len() as u64).sum::<u64>()
            + if self.linker_signed { 0 } else { 8 };
        12 + 8 * n_blobs + cd + others
    }
}

/// An empty requirement set, as `codesign -s -` writes.
fn empty_requirements() -> Vec<u8> {
    let mut b = Vec::with_capacity(12);
    b.extend_from_slice(&CSMAGIC_REQUIREMENTS.to_be_bytes());
    b.extend_from_slice(&12u32.to_be_bytes());
    b.extend_from_slice(&0u32.to_be_bytes());
    b
}

/// What to do with bytes of the input once their pages are hashed (see
/// [`set_page_release`]).
pub type PageRelease = fn(&[u8]);

static PAGE_RELEASE: std::sync::OnceLock<PageRelease> = std::sync::OnceLock::new();

/// Installs, once per process, a function that page hashing calls with each run of input
/// bytes (about 4 MiB) it has finished hashing. A caller that hands this
/// crate a memory map of a file can drop those pages from the map there
/// (`madvise(MADV_DONTNEED)`), so that signing or verifying a file of any size keeps only a
/// few MiB resident. The function must leave the
/// bytes readable and unchanged; it must ignore memory it did not map itself.
pub fn set_page_release(release: PageRelease) {
    let _ = PAGE_RELEASE.set(release);
}

/// Hands `bytes` (input this crate has finished reading) to the installed release function.
pub(crate) fn release(bytes: &[u8]) {
    if let Some(f) = PAGE_RELEASE.get() {
        f(bytes);
    }
}

/// Bytes hashed as one piece of work (at least a page), after which the input behind them is
/// given to the release function: few enough calls that the page-table work they cause stays
/// small, little enough memory held.
const WORK: u64 = 4 << 20;

/// SHA-256 of every page (of 2^`shift` bytes) of `img[0, limit)`. Every core takes the next
/// run of about 4 MiB until none is left, and hands the input behind each run to the release
/// hook once hashed.
pub(crate) fn page_hashes(img: &Image, limit: u64, shift: u8) -> Vec<[u8; 32]> {
    let page = 1u64 << shift;
    let n = limit.div_ceil(page) as usize;
    let mut out = vec![[0u8; 32]; n];
    let threads = std::thread::available_parallelism()
        .map(|t| t.get())
        .unwrap_or(1)
        .min(16);
    let per = (WORK / page).max(1) as usize;
    let work = std::sync::Mutex::new(out.chunks_mut(per).enumerate());
    std::thread::scope(|sc| {
        for _ in 0..threads {
            sc.spawn(|| loop {
                let next = work.lock().unwrap_or_else(|e| e.into_inner()).next();
                let Some((ci, chunk)) = next else {
                    return;
                };
                let first = (ci * per) as u64 * page;
                for (k, h) in chunk.iter_mut().enumerate() {
                    let start = first + k as u64 * page;
                    let end = (start + page).min(limit);
                    *h = match img.input_slice(start, end) {
                        Some(b) => Sha256::digest(b).into(),
                        None => {
                            let mut hasher = Sha256::new();
                            img.visit(start, end, &mut |b| hasher.update(b));
                            hasher.finalize().into()
                        }
                    };
                }
                img.release(first, (first + chunk.len() as u64 * page).min(limit));
            });
        }
    });
    out
}

/// Builds a signature over `img[0, code_limit)`.
pub(crate) fn build(p: &Params, img: &Image, code_limit: u64) -> Result<Vec<u8>> {
    let hashes = page_hashes(img, code_limit, p.page_shift);
    let n_special = p.n_special();
    let mut cd = Vec::with_capacity(CD_HEADER + p.identifier.len() + 32 * (hashes.len() + 8));
    let ident_off = CD_HEADER as u32;
    let hash_off = ident_off + p.identifier.len() as u32 + 1 + 32 * n_special;
    let limit32 = u32::try_from(code_limit)
        .map_err(|_| malformed("code signature", "code over 4 GiB is not supported"))?;
    let be = |v: &mut Vec<u8>, x: u32| v.extend_from_slice(&x.to_be_bytes());
    be(&mut cd, CSMAGIC_CODEDIRECTORY);
    be(&mut cd, 0); // length, below
    be(&mut cd, CS_SUPPORTSEXECSEG);
    be(&mut cd, p.flags);
    be(&mut cd, hash_off);
    be(&mut cd, ident_off);
    be(&mut cd, n_special);
    be(&mut cd, hashes.len() as u32);
    be(&mut cd, limit32);
    cd.extend_from_slice(&[CS_SHA256_LEN, CS_HASHTYPE_SHA256, 0, p.page_shift]);
    be(&mut cd, 0); // spare2
    be(&mut cd, 0); // scatterOffset
    be(&mut cd, 0); // teamOffset
    be(&mut cd, 0); // spare3
    cd.extend_from_slice(&0u64.to_be_bytes()); // codeLimit64
    cd.extend_from_slice(&p.exec_seg_base.to_be_bytes());
    cd.extend_from_slice(&p.exec_seg_limit.to_be_bytes());
    cd.extend_from_slice(&p.exec_seg_flags.to_be_bytes());
    cd.extend_from_slice(&p.identifier);
    cd.push(0);
    for slot in (1..=n_special).rev() {
        if let Some((_, b)) = p.blobs.iter().find(|(s, _)| *s == slot) {
            cd.extend_from_slice(&Sha256::digest(b));
        } else if let Some((_, h)) = p.external.iter().find(|(s, _)| *s == slot) {
            let mut h = h.clone();
            h.resize(32, 0);
            cd.extend_from_slice(&h);
        } else {
            cd.extend_from_slice(&[0u8; 32]);
        }
    }
    for h in &hashes {
        cd.extend_from_slice(h);
    }
    let cd_len = cd.len() as u32;
    cd[4..8].copy_from_slice(&cd_len.to_be_bytes());

    let mut entries: Vec<(u32, Vec<u8>)> = vec![(CSSLOT_CODEDIRECTORY, cd)];
    entries.extend(p.blobs.iter().cloned());
    if !p.linker_signed {
        let mut w = Vec::new();
        be(&mut w, CSMAGIC_BLOBWRAPPER);
        be(&mut w, 8);
        entries.push((CSSLOT_SIGNATURESLOT, w));
    }
    let mut sb = Vec::with_capacity(p.size(code_limit) as usize);
    be(&mut sb, CSMAGIC_EMBEDDED_SIGNATURE);
    be(&mut sb, 0);
    be(&mut sb, entries.len() as u32);
    let mut off = 12 + 8 * entries.len() as u32;
    for (slot, b) in &entries {
        be(&mut sb, *slot);
        be(&mut sb, off);
        off += b.len() as u32;
    }
    for (_, b) in &entries {
        sb.extend_from_slice(b);
    }
    let len = sb.len() as u32;
    sb[4..8].copy_from_slice(&len.to_be_bytes());
    Ok(sb)
}

/// The outcome of checking one image's signature.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Report {
    /// Who made the signature.
    pub kind: Kind,
    /// Its identifier.
    pub identifier: String,
    /// Number of code pages it hashes.
    pub pages: u64,
    /// Bytes per page.
    pub page_size: u64,
    /// Problems found; empty means the signature verifies.
    pub problems: Vec<String>,
}

/// Verifies the signature `sig` (found at `dataoff`) of `image`: every SHA-256 CodeDirectory's
/// page hashes and embedded special-slot hashes, and that it covers exactly `[0, dataoff)`.
pub fn verify(image: &[u8], dataoff: u64, sig: &[u8]) -> Result<Report> {
    let w = "code signature";
    let old = parse(sig)?;
    let count = u64::from(be32(sig, 8, w)?);
    let mut problems = Vec::new();
    let mut pages = 0;
    let mut page_size = 0;
    let mut seen_cd = false;
    for i in 0..count {
        let ty = be32(sig, 12 + 8 * i, w)?;
        if ty != CSSLOT_CODEDIRECTORY
            && !(CSSLOT_ALTERNATE_CODEDIRECTORIES..CSSLOT_ALTERNATE_CODEDIRECTORY_LIMIT)
                .contains(&ty)
        {
            continue;
        }
        let off = u64::from(be32(sig, 16 + 8 * i, w)?);
        let len = u64::from(be32(sig, off + 4, w)?);
        let cd = slice(sig, off, len, w)?;
        if cd.get(37) != Some(&CS_HASHTYPE_SHA256) {
            continue;
        }
        seen_cd = true;
        let hash_off = u64::from(be32(cd, 16, w)?);
        let n_special = u64::from(be32(cd, 24, w)?);
        let n_code = u64::from(be32(cd, 28, w)?);
        let limit = u64::from(be32(cd, 32, w)?);
        if *cd.get(36).unwrap_or(&0) != CS_SHA256_LEN {
            problems.push("unexpected hash size".into());
            continue;
        }
        let Some(page_shift) = page_shift_of(cd) else {
            problems.push(format!(
                "page size 2^{} is not supported",
                cd.get(39).unwrap_or(&0)
            ));
            continue;
        };
        let page = 1u64 << page_shift;
        if limit != dataoff {
            problems.push(format!(
                "code limit {limit:#x} is not the signature offset {dataoff:#x}"
            ));
        }
        if n_code != limit.div_ceil(page) {
            problems.push(format!(
                "{n_code} code slots for a code limit of {limit:#x}"
            ));
        }
        slice(cd, hash_off, n_code * 32, w)?;
        let got = page_hashes(
            &Image::over(image),
            limit.min(image.len() as u64),
            page_shift,
        );
        // Only the n_code hashes bounds-checked above exist; a mismatch in count is reported.
        for (k, h) in got.iter().enumerate().take(n_code as usize) {
            let want = &cd[hash_off as usize + 32 * k..hash_off as usize + 32 * (k + 1)];
            if want != h {
                problems.push(format!(
                    "page {k} (offset {:#x}) does not match its hash",
                    k as u64 * page
                ));
                if problems.len() > 8 {
                    break;
                }
            }
        }
        for (slot, blob) in &old.blobs {
            if u64::from(*slot) > n_special {
                problems.push(format!("special slot {slot} has no hash"));
                continue;
            }
            let Some(at) = hash_off.checked_sub(u64::from(*slot) * 32) else {
                problems.push(format!("special slot {slot} lies before the CodeDirectory"));
                continue;
            };
            if slice(cd, at, 32, w)? != Sha256::digest(blob).as_slice() {
                problems.push(format!("special slot {slot} does not match its blob"));
            }
        }
        pages = n_code;
        page_size = page;
    }
    if !seen_cd {
        problems.push("no SHA-256 CodeDirectory".into());
    }
    Ok(Report {
        kind: old.kind,
        identifier: String::from_utf8_lossy(&old.identifier).into_owned(),
        pages,
        page_size,
        problems,
    })
}
