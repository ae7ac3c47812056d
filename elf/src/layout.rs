//! The result of planning, as data: where every piece of the edited file goes, the new program
//! and section headers, and the new length. [`crate::emit`] turns a `Layout` into bytes and
//! [`Layout::describe`] into the steps `--dry-run` prints, so both always agree.

use crate::headers::{Phdr, Shdr};
use crate::plan::name;
use crate::strtab;
use crate::view::Elf;

/// Where the strings of the edited dynamic table live.
pub(crate) enum Strings {
    /// In the existing `.dynstr`, in bytes the edit freed (writes relative to the table).
    InPlace(strtab::InPlace),
    /// A rebuilt table, in the new segment.
    Rebuilt(strtab::Rebuilt),
}

impl Strings {
    /// The table offset of a string of the new state.
    pub fn offset_of(&self, s: &[u8]) -> Option<u64> {
        match self {
            Strings::InPlace(p) => p.offsets.get(s).copied(),
            Strings::Rebuilt(r) => r.offsets.get(s).copied(),
        }
    }
}

/// What a block of the new segment holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum What {
    /// Sections copied verbatim (one, or the sections sharing a note segment).
    Sections(Vec<usize>),
    /// The program header table (when the sections after it cannot make room).
    PhdrTable,
    Interp,
    Dynstr,
    Dynamic,
    /// A resolution cache note.
    Note,
}

/// A block of the new segment.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub what: What,
    /// Offset and address of the input bytes this block copies, if it is a copy.
    pub from: Option<(u64, u64)>,
    pub offset: u64,
    pub len: u64,
}

/// The loadable segment that growth appends (or rebuilds, when an earlier growth added it).
#[derive(Debug, Clone)]
pub(crate) struct Segment {
    pub offset: u64,
    pub vaddr: u64,
    pub len: u64,
    /// Writable when it holds `.dynamic` (the loader writes DT_DEBUG there).
    pub writable: bool,
    pub align: u64,
    /// It replaces the segment an earlier growth added.
    pub rebuilds: bool,
    /// Sections moved only to make room for more program headers.
    pub evicted: Vec<usize>,
    pub items: Vec<Item>,
}

impl Segment {
    pub fn vaddr_of(&self, offset: u64) -> u64 {
        self.vaddr + (offset - self.offset)
    }

    pub fn item(&self, w: &What) -> Option<&Item> {
        self.items.iter().find(|i| i.what == *w)
    }

    /// (offset, address, length) of a block.
    pub fn place_of(&self, w: &What) -> Option<(u64, u64, u64)> {
        self.item(w)
            .map(|i| (i.offset, self.vaddr_of(i.offset), i.len))
    }

    /// Copied blocks: (input offset, input address, length, new offset).
    fn copies(&self) -> impl Iterator<Item = (u64, u64, u64, u64)> + '_ {
        self.items
            .iter()
            .filter_map(|i| i.from.map(|(o, v)| (o, v, i.len, i.offset)))
    }

    /// Where a byte of the input now lives.
    pub fn move_off(&self, o: u64) -> u64 {
        self.copies()
            .find(|c| o >= c.0 && o < c.0 + c.2)
            .map_or(o, |c| c.3 + (o - c.0))
    }

    /// Where an address of the input now is.
    pub fn move_vaddr(&self, v: u64) -> u64 {
        self.copies()
            .find(|c| v >= c.1 && v < c.1 + c.2)
            .map_or(v, |c| self.vaddr_of(c.3) + (v - c.1))
    }
}

/// Where the dynamic table goes and how many entries it has room for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DynamicAt {
    pub offset: u64,
    pub vaddr: u64,
    pub slots: u64,
}

/// A planned file.
pub(crate) struct Layout {
    pub old_len: u64,
    pub new_len: u64,
    /// Why the file grows (empty for an edit in place).
    pub why: Vec<String>,
    pub phoff: u64,
    pub phdrs: Vec<Phdr>,
    pub shoff: u64,
    pub shdrs: Vec<Shdr>,
    pub shstrndx: u16,
    /// A rebuilt section name table, at this offset (it gains the name of a new section).
    pub shstrtab: Option<(u64, Vec<u8>)>,
    pub segment: Option<Segment>,
    pub strings: Strings,
    /// The dynamic string table's address and size afterwards.
    pub dynstr_vaddr: u64,
    pub dynstr_size: u64,
    pub dynamic: Option<DynamicAt>,
    /// Where the interpreter string is written, and the bytes it may take.
    pub interp: Option<(u64, u64)>,
    /// Input ranges nothing refers to any more (old copies of moved data, a removed note):
    /// zeroed, so old paths do not linger in the file.
    pub freed: Vec<(u64, u64)>,
}

impl Layout {
    pub fn grows(&self) -> bool {
        self.segment.is_some()
    }

    /// Where a byte of the input now lives.
    pub fn move_off(&self, o: u64) -> u64 {
        self.segment.as_ref().map_or(o, |s| s.move_off(o))
    }

    /// Where an address of the input now is.
    pub fn move_vaddr(&self, v: u64) -> u64 {
        self.segment.as_ref().map_or(v, |s| s.move_vaddr(v))
    }

    /// The plan in words, in the order it happens.
    pub fn describe(&self, elf: &Elf) -> Vec<String> {
        let mut steps = Vec::new();
        if !self.why.is_empty() {
            steps.push(format!("grow: {}", self.why.join("; ")));
        }
        if let Some(seg) = &self.segment {
            if seg.rebuilds {
                steps.push(format!(
                    "rebuild the segment at offset {:#x} that an earlier growth added",
                    seg.offset
                ));
            }
            if !seg.evicted.is_empty() {
                let names: Vec<String> = seg.evicted.iter().map(|&i| name(elf, i)).collect();
                steps.push(format!(
                    "move {} to make room for more program headers",
                    names.join(", ")
                ));
            }
            steps.push(format!(
                "{} PT_LOAD [{}] at offset {:#x}, vaddr {:#x}, {:#x} bytes",
                if seg.rebuilds { "rebuilt" } else { "new" },
                if seg.writable { "RW" } else { "R" },
                seg.offset,
                seg.vaddr,
                seg.len
            ));
            for it in &seg.items {
                let label = match &it.what {
                    What::Sections(m) => m
                        .iter()
                        .map(|&i| name(elf, i))
                        .collect::<Vec<_>>()
                        .join(", "),
                    What::PhdrTable => "program header table".into(),
                    What::Interp => "interpreter".into(),
                    What::Dynstr => ".dynstr".into(),
                    What::Dynamic => {
                        format!(".dynamic ({} slots)", self.dynamic.map_or(0, |d| d.slots))
                    }
                    What::Note => crate::ldcache::SECTION.escape_ascii().to_string(),
                };
                steps.push(format!(
                    "  {label} -> offset {:#x} ({:#x} bytes)",
                    it.offset, it.len
                ));
            }
            if self.shoff != elf.ehdr.e_shoff {
                steps.push(format!("section header table -> offset {:#x}", self.shoff));
            }
        }
        if let Strings::InPlace(p) = &self.strings {
            let base = elf.dynstr.map_or(0, |d| d.offset);
            for (s, o) in &p.offsets {
                steps.push(format!(
                    "string \"{}\" at .dynstr+{o:#x} (file offset {:#x})",
                    String::from_utf8_lossy(s),
                    base + o
                ));
            }
        }
        if let (Some(d), None) = (self.dynamic, &self.segment) {
            steps.push(format!(
                "in place: dynamic table at {:#x}, {} slots",
                d.offset, d.slots
            ));
        }
        for p in self.phdrs.iter().zip(&elf.phdrs) {
            if p.0.p_type == crate::consts::PT_GNU_STACK && p.0.p_flags != p.1.p_flags {
                steps.push(format!(
                    "PT_GNU_STACK flags {:#x} -> {:#x}",
                    p.1.p_flags, p.0.p_flags
                ));
            }
        }
        let freed: u64 = self.freed.iter().map(|(a, b)| b - a).sum();
        if freed > 0 {
            steps.push(format!("zero {freed} bytes nothing refers to any more"));
        }
        if self.grows() {
            steps.push(format!("file {} -> {} bytes", self.old_len, self.new_len));
        }
        steps
    }
}
