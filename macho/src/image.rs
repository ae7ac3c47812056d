//! A new image assembled without copying its input: runs of input bytes and of zeros, and a
//! copy of each 4 KiB page an edit has written to. Shifting a file of any size holds in memory
//! only the pages its edits touch; the signature is hashed from the runs and the pages, and the
//! output is described by them ([`Image::into_pieces`]), so the caller can write it without
//! ever holding the whole.

use std::collections::BTreeMap;

use crate::bytes::{ReadAt, WriteAt};
use crate::error::{truncated, Result};
use crate::output::Piece;

const PAGE: u64 = 4096;
const ZEROS: [u8; PAGE as usize] = [0; PAGE as usize];

/// Where a run's bytes come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Src {
    /// The input, from this offset.
    Input(u64),
    Zeros,
}

/// `len` bytes of the image at `at`.
#[derive(Debug, Clone, Copy)]
struct Run {
    at: u64,
    len: u64,
    src: Src,
}

/// A new image over `input`.
#[derive(Debug)]
pub(crate) struct Image<'a> {
    input: &'a [u8],
    /// In order, without gaps, covering `[0, len)`.
    runs: Vec<Run>,
    /// Page number → the page's current bytes (zero past `len`).
    pages: BTreeMap<u64, Box<[u8]>>,
    len: u64,
}

impl<'a> Image<'a> {
    /// An empty image whose runs will come from `input`.
    pub fn new(input: &'a [u8]) -> Image<'a> {
        Image {
            input,
            runs: Vec::new(),
            pages: BTreeMap::new(),
            len: 0,
        }
    }

    /// The input itself.
    pub fn over(input: &'a [u8]) -> Image<'a> {
        let mut img = Image::new(input);
        img.push(Src::Input(0), input.len() as u64);
        img
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    /// Appends the input's bytes `[offset, offset + len)`.
    pub fn push_input(&mut self, offset: u64, len: u64) -> Result<()> {
        let have = self.input.len();
        if offset.checked_add(len).is_none_or(|e| e > have as u64) {
            return Err(truncated("image", offset, len, have));
        }
        self.check_growth(len)?;
        self.push(Src::Input(offset), len);
        Ok(())
    }

    /// Appends `len` zero bytes.
    pub fn push_zeros(&mut self, len: u64) -> Result<()> {
        self.check_growth(len)?;
        self.push(Src::Zeros, len);
        Ok(())
    }

    fn check_growth(&self, len: u64) -> Result<()> {
        match self.len.checked_add(len) {
            Some(_) => Ok(()),
            None => Err(crate::error::malformed("layout", "file size overflows")),
        }
    }

    /// Appends a run, merged with the last one when it continues it.
    fn push(&mut self, src: Src, len: u64) {
        if len == 0 {
            return;
        }
        let at = self.len;
        self.len += len;
        // A written page the new bytes fall into takes them too.
        let idx = at / PAGE;
        if !at.is_multiple_of(PAGE) {
            if let Some(p) = self.pages.get_mut(&idx) {
                let o = (at % PAGE) as usize;
                let n = (PAGE as usize - o).min(len as usize);
                if let Src::Input(from) = src {
                    p[o..o + n].copy_from_slice(&self.input[from as usize..from as usize + n]);
                }
            }
        }
        if let Some(last) = self.runs.last_mut() {
            let continues = match (last.src, src) {
                (Src::Zeros, Src::Zeros) => true,
                (Src::Input(a), Src::Input(b)) => a + last.len == b,
                _ => false,
            };
            if continues {
                last.len += len;
                return;
            }
        }
        self.runs.push(Run { at, len, src });
    }

    /// Appends the bytes `[start, end)` of `other` (an image over the same input), written
    /// pages included.
    pub fn push_from(&mut self, other: &Image<'a>, start: u64, end: u64) -> Result<()> {
        let end = end.min(other.len);
        if start >= end {
            return Ok(());
        }
        self.check_growth(end - start)?;
        let mut pos = start;
        while pos < end {
            let (stop, page) = other.next_stop(pos, end);
            match page {
                Some(p) => {
                    let o = (pos % PAGE) as usize;
                    let bytes = &p[o..o + (stop - pos) as usize];
                    let at = self.len;
                    self.push(Src::Zeros, stop - pos);
                    self.put(at, bytes);
                }
                None => {
                    for r in other.runs_in(pos, stop) {
                        match r.src {
                            Src::Input(o) => self.push(Src::Input(o), r.len),
                            Src::Zeros => self.push(Src::Zeros, r.len),
                        }
                    }
                }
            }
            pos = stop;
        }
        Ok(())
    }

    /// Makes the image `len` bytes long: cut off, or extended with zeros.
    pub fn set_len(&mut self, len: u64) {
        if len >= self.len {
            self.push(Src::Zeros, len - self.len);
            return;
        }
        self.runs.retain(|r| r.at < len);
        if let Some(last) = self.runs.last_mut() {
            last.len = last.len.min(len - last.at);
        }
        let first_gone = len.div_ceil(PAGE);
        self.pages.split_off(&first_gone);
        if let Some(p) = self.pages.get_mut(&(len / PAGE)) {
            p[(len % PAGE) as usize..].fill(0);
        }
        self.len = len;
    }

    /// The runs overlapping `[start, end)`, cut to it.
    fn runs_in(&self, start: u64, end: u64) -> impl Iterator<Item = Run> + '_ {
        cut(&self.runs, start, end)
    }

    /// From `pos` (below `end`): where the next change between written and unwritten bytes
    /// is, and the written page `pos` is in, if it is.
    fn next_stop(&self, pos: u64, end: u64) -> (u64, Option<&[u8]>) {
        let idx = pos / PAGE;
        if let Some(p) = self.pages.get(&idx) {
            return (end.min((idx + 1) * PAGE), Some(p));
        }
        let next = self
            .pages
            .range(idx + 1..)
            .next()
            .map_or(u64::MAX, |(k, _)| k * PAGE);
        (end.min(next), None)
    }

    /// The run bytes (no written page) of `[start, end)`, in slices.
    fn visit_runs(&self, start: u64, end: u64, f: &mut dyn FnMut(&[u8])) {
        for r in self.runs_in(start, end) {
            match r.src {
                Src::Input(o) => f(&self.input[o as usize..(o + r.len) as usize]),
                Src::Zeros => zeros(r.len, f),
            }
        }
    }

    /// Calls `f` with the bytes of `[start, end)` in order, in as few slices as it can; bytes
    /// past the end of the image are zeros.
    pub fn visit(&self, start: u64, end: u64, f: &mut dyn FnMut(&[u8])) {
        let inside = end.min(self.len);
        let mut pos = start;
        while pos < inside {
            let (stop, page) = self.next_stop(pos, inside);
            match page {
                Some(p) => f(&p[(pos % PAGE) as usize..(stop - (pos / PAGE) * PAGE) as usize]),
                None => self.visit_runs(pos, stop, f),
            }
            pos = stop;
        }
        if pos < end {
            zeros(end - pos, f);
        }
    }

    /// Whether `[start, end)` is one run of the input that no edit touched: its bytes, then.
    pub fn input_slice(&self, start: u64, end: u64) -> Option<&'a [u8]> {
        if end > self.len
            || self
                .pages
                .range(start / PAGE..end.div_ceil(PAGE))
                .next()
                .is_some()
        {
            return None;
        }
        let mut runs = self.runs_in(start, end);
        match (runs.next(), runs.next()) {
            (Some(r), None) if r.len == end - start => match r.src {
                Src::Input(o) => Some(&self.input[o as usize..(o + r.len) as usize]),
                Src::Zeros => None,
            },
            _ => None,
        }
    }

    /// Hands the input bytes behind `[start, end)` to the page-release hook.
    pub fn release(&self, start: u64, end: u64) {
        for r in self.runs_in(start, end) {
            if let Src::Input(o) = r.src {
                crate::sign::release(&self.input[o as usize..(o + r.len) as usize]);
            }
        }
    }

    /// Writes `src` at `at`, which the caller has checked lies inside the image.
    fn put(&mut self, at: u64, src: &[u8]) {
        let mut done = 0usize;
        while done < src.len() {
            let pos = at + done as u64;
            let idx = pos / PAGE;
            let o = (pos % PAGE) as usize;
            let n = (PAGE as usize - o).min(src.len() - done);
            let page = self.page_mut(idx);
            page[o..o + n].copy_from_slice(&src[done..done + n]);
            done += n;
        }
    }

    /// Page `idx`, copied from the runs when first written.
    fn page_mut(&mut self, idx: u64) -> &mut [u8] {
        let (runs, input, len) = (&self.runs, self.input, self.len);
        self.pages.entry(idx).or_insert_with(|| {
            let mut p = vec![0u8; PAGE as usize].into_boxed_slice();
            let start = idx * PAGE;
            let mut at = 0usize;
            for r in cut(runs, start, (start + PAGE).min(len)) {
                let n = r.len as usize;
                if let Src::Input(o) = r.src {
                    p[at..at + n].copy_from_slice(&input[o as usize..o as usize + n]);
                }
                at += n;
            }
            p
        })
    }

    /// The image as pieces: runs of the input, zeros, and the written pages.
    pub fn into_pieces(self) -> Vec<Piece> {
        let mut out = Vec::new();
        let base = |out: &mut Vec<Piece>, start: u64, end: u64| {
            for r in cut(&self.runs, start, end) {
                push_piece(
                    out,
                    match r.src {
                        Src::Input(o) => Piece::Input {
                            offset: o,
                            len: r.len,
                        },
                        Src::Zeros => Piece::Zeros(r.len),
                    },
                );
            }
        };
        let mut pos = 0u64;
        for (idx, page) in self.pages {
            let start = idx * PAGE;
            base(&mut out, pos, start);
            let end = (start + PAGE).min(self.len);
            let bytes = &page[..(end - start) as usize];
            // Consecutive written pages make one piece (one write for the caller).
            match out.last_mut() {
                Some(Piece::Bytes(b)) if pos == start => b.extend_from_slice(bytes),
                _ => out.push(Piece::Bytes(bytes.to_vec())),
            }
            pos = end;
        }
        base(&mut out, pos, self.len);
        out
    }
}

/// The runs of `runs` overlapping `[start, end)`, cut to it.
fn cut(runs: &[Run], start: u64, end: u64) -> impl Iterator<Item = Run> + '_ {
    let first = runs.partition_point(|r| r.at + r.len <= start);
    runs[first..]
        .iter()
        .take_while(move |r| r.at < end)
        .map(move |r| {
            let s = r.at.max(start);
            let e = (r.at + r.len).min(end);
            let src = match r.src {
                Src::Input(o) => Src::Input(o + (s - r.at)),
                Src::Zeros => Src::Zeros,
            };
            Run {
                at: s,
                len: e.saturating_sub(s),
                src,
            }
        })
        .filter(|r| r.len > 0)
}

/// Appends `p`, merged with the last piece when it continues it.
fn push_piece(out: &mut Vec<Piece>, p: Piece) {
    match (out.last_mut(), &p) {
        (Some(Piece::Zeros(a)), Piece::Zeros(b)) => *a += b,
        (
            Some(Piece::Input { offset, len }),
            Piece::Input {
                offset: o2,
                len: l2,
            },
        ) if *offset + *len == *o2 => *len += l2,
        _ => out.push(p),
    }
}

fn zeros(mut n: u64, f: &mut dyn FnMut(&[u8])) {
    while n > 0 {
        let k = n.min(PAGE);
        f(&ZEROS[..k as usize]);
        n -= k;
    }
}

impl ReadAt for Image<'_> {
    fn size(&self) -> u64 {
        self.len
    }

    fn read_at(&self, off: u64, dst: &mut [u8]) -> bool {
        if off
            .checked_add(dst.len() as u64)
            .is_none_or(|e| e > self.len)
        {
            return false;
        }
        // Most reads are a few bytes inside one written page.
        let o = (off % PAGE) as usize;
        if o + dst.len() <= PAGE as usize {
            if let Some(p) = self.pages.get(&(off / PAGE)) {
                dst.copy_from_slice(&p[o..o + dst.len()]);
                return true;
            }
        }
        let mut at = 0usize;
        self.visit(off, off + dst.len() as u64, &mut |b| {
            dst[at..at + b.len()].copy_from_slice(b);
            at += b.len();
        });
        true
    }
}

impl WriteAt for Image<'_> {
    fn write_at(&mut self, off: u64, src: &[u8]) -> bool {
        if off
            .checked_add(src.len() as u64)
            .is_none_or(|e| e > self.len)
        {
            return false;
        }
        self.put(off, src);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// One step of building or editing an image.
    #[derive(Debug, Clone)]
    enum Step {
        Input(u16, u16),
        Zeros(u16),
        Write(u32, Vec<u8>),
        SetLen(u32),
        /// A copy of `[start, end)` of the image so far, with `n` more written bytes at `at`.
        Relayout(u32, u32, u32, u8),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (any::<u16>(), 0..20_000u16).prop_map(|(o, n)| Step::Input(o, n)),
            (0..20_000u16).prop_map(Step::Zeros),
            (
                0..80_000u32,
                proptest::collection::vec(any::<u8>(), 0..9000)
            )
                .prop_map(|(a, b)| Step::Write(a, b)),
            (0..80_000u32).prop_map(Step::SetLen),
            (0..80_000u32, 0..80_000u32, 0..80_000u32, any::<u8>())
                .prop_map(|(a, b, c, n)| Step::Relayout(a, b, c, n)),
        ]
    }

    proptest! {
        /// Every way of reading an image (integer reads, `visit`, the pieces applied to the
        /// input) gives the bytes a plain vector built by the same steps holds.
        #[test]
        fn image_reads_as_the_bytes_it_was_built_from(
            steps in proptest::collection::vec(step(), 1..24)
        ) {
            let input: Vec<u8> = (0..70_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
            let mut img = Image::new(&input);
            let mut model: Vec<u8> = Vec::new();
            for s in steps {
                match s {
                    Step::Input(o, n) => {
                        let (o, n) = (u64::from(o), u64::from(n));
                        let ok = img.push_input(o, n).is_ok();
                        prop_assert_eq!(ok, o + n <= input.len() as u64);
                        if ok {
                            model.extend_from_slice(&input[o as usize..(o + n) as usize]);
                        }
                    }
                    Step::Zeros(n) => {
                        img.push_zeros(u64::from(n)).unwrap();
                        model.resize(model.len() + n as usize, 0);
                    }
                    Step::Write(at, b) => {
                        let ok = img.write_at(u64::from(at), &b);
                        prop_assert_eq!(ok, at as usize + b.len() <= model.len());
                        if ok {
                            model[at as usize..at as usize + b.len()].copy_from_slice(&b);
                        }
                    }
                    Step::SetLen(n) => {
                        img.set_len(u64::from(n));
                        model.resize(n as usize, 0);
                    }
                    Step::Relayout(a, b, at, n) => {
                        let (a, b) = (a.min(b), a.max(b));
                        let mut next = Image::new(&input);
                        next.push_from(&img, 0, u64::from(a)).unwrap();
                        next.push_zeros(100).unwrap();
                        next.push_from(&img, u64::from(a), u64::from(b)).unwrap();
                        let mut m: Vec<u8> = model[..(a as usize).min(model.len())].to_vec();
                        m.resize(m.len() + 100, 0);
                        let hi = (b as usize).min(model.len());
                        m.extend_from_slice(&model[(a as usize).min(hi)..hi]);
                        let bytes = vec![n; n as usize];
                        if next.write_at(u64::from(at), &bytes) {
                            m[at as usize..at as usize + bytes.len()].copy_from_slice(&bytes);
                        }
                        img = next;
                        model = m;
                    }
                }
                prop_assert_eq!(img.len(), model.len() as u64);
            }
            let mut seen = Vec::new();
            img.visit(0, img.len() + 10, &mut |b| seen.extend_from_slice(b));
            prop_assert_eq!(&seen[..model.len()], &model[..]);
            prop_assert!(seen[model.len()..].iter().all(|&b| b == 0));
            for at in (0..model.len()).step_by(997) {
                let mut b = [0u8; 8];
                if img.read_at(at as u64, &mut b) {
                    prop_assert_eq!(&b[..], &model[at..at + 8]);
                } else {
                    prop_assert!(at + 8 > model.len());
                }
                if let Some(s) = img.input_slice(at as u64, (at + 5000).min(model.len()) as u64) {
                    prop_assert_eq!(s, &model[at..(at + 5000).min(model.len())]);
                }
            }
            let pieces = img.into_pieces();
            // As few pieces as the content allows: none empty, no two that could be one.
            prop_assert!(pieces.iter().all(|p| !p.is_empty()), "{:?}", pieces.iter().map(Piece::len).collect::<Vec<_>>());
            for w in pieces.windows(2) {
                let mergeable = match (&w[0], &w[1]) {
                    (Piece::Bytes(_), Piece::Bytes(_)) | (Piece::Zeros(_), Piece::Zeros(_)) => true,
                    (Piece::Input { offset, len }, Piece::Input { offset: o2, .. }) => offset + len == *o2,
                    _ => false,
                };
                prop_assert!(!mergeable, "{:?}", w);
            }
            prop_assert_eq!(Output::Pieces(pieces).apply(&input), model);
        }
    }

    use crate::output::Output;
}
