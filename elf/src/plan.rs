//! The layout planner: decides whether an edit fits in place or the file must grow, and turns that
//! decision into a `Rewrite`.
//!
//! In place, only bytes that must change are written: strings go into bytes the edit frees, the
//! dynamic table is rewritten within its slots, the interpreter within its old length.
//!
//! When something does not fit, `grow.rs` lays out a new segment.

use std::collections::{BTreeMap, BTreeSet};

use crate::consts::*;
use crate::edit::{EditSet, Entry, LibraryProbe, Target, Val};
use crate::error::{Error, Result};
use crate::headers::Phdr;
use crate::output::{Plan, Rewrite, Writes};
use crate::strtab;
use crate::view::Elf;

/// Extra DT_NULL slots given to a dynamic table that has to move, so later additions fit in place.
pub(crate) const SPARE_DYN_SLOTS: u64 = 8;

/// How the planner may change the file.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Refuse (with `Error::NoRoom`) instead of growing the file.
    pub no_grow: bool,
    /// Alignment of an added segment; defaults to the machine's largest page size.
    pub page_size: Option<u64>,
}

pub(crate) fn align_up(v: u64, a: u64) -> u64 {
    let a = a.max(1);
    v.div_ceil(a).saturating_mul(a)
}

pub(crate) fn name(elf: &Elf, i: usize) -> String {
    let n = elf.section_name(i);
    if n.is_empty() {
        format!("section {i}")
    } else {
        String::from_utf8_lossy(n).into_owned()
    }
}

pub(crate) fn overlaps(a: (u64, u64), b: (u64, u64)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

/// Plans the edit.
pub fn plan(
    elf: &Elf,
    edits: &EditSet,
    opts: &Options,
    probe: Option<&dyn LibraryProbe>,
) -> Result<Rewrite> {
    if elf.ehdr.e_type != ET_EXEC && elf.ehdr.e_type != ET_DYN {
        return Err(Error::Unsupported(format!(
            "cannot edit an ELF file of type {} (only executables and shared objects)",
            elf.ehdr.e_type
        )));
    }
    if let Some(p) = opts.page_size {
        if !p.is_power_of_two() {
            return Err(Error::Unsupported(format!(
                "page size {p} is not a power of two"
            )));
        }
    }
    let t = Target::resolve(elf, edits, probe)?;
    if t.interpreter.is_some() && elf.find_phdr(PT_INTERP).is_none() {
        return Err(Error::Unsupported(
            "cannot set the interpreter: the file has no PT_INTERP (a static executable or a shared library)".into(),
        ));
    }
    let original = Target::resolve(elf, &EditSet::default(), None)?;
    let dyn_changed = t.entries != original.entries || t.verneed != original.verneed;
    if dyn_changed && elf.dynamic.is_none() {
        return Err(Error::Unsupported(
            "the file has no dynamic section (statically linked): nothing to edit there".into(),
        ));
    }
    if elf.is_self_relocating() {
        // No loader ever reads these, and glibc's self-relocation asserts that a static PIE has
        // no DT_RPATH/DT_RUNPATH: such an edit could only break the program.
        let search = |t: &Target| -> Vec<Entry> {
            t.entries
                .iter()
                .filter(|e| matches!(e.tag, DT_NEEDED | DT_RPATH | DT_RUNPATH))
                .cloned()
                .collect()
        };
        if search(&t) != search(&original) {
            return Err(Error::Unsupported(
                "refusing to change DT_NEEDED/DT_RPATH/DT_RUNPATH of a static PIE or dynamic loader: \
                 its self-relocation rejects an rpath, and it loads no libraries itself"
                    .into(),
            ));
        }
    }
    let needs_strings = t.entries.iter().any(|e| matches!(e.val, Val::Str { .. }));
    if dyn_changed && needs_strings && elf.dynstr.is_none() {
        return Err(Error::Unsupported(
            "the dynamic table has no string table (DT_STRTAB/DT_STRSZ) to hold names".into(),
        ));
    }
    Planner {
        elf,
        t,
        dyn_changed,
        opts,
        w: Writes::new(),
        steps: Vec::new(),
    }
    .run()
}

pub(crate) struct Planner<'e, 'a> {
    pub(crate) elf: &'e Elf<'a>,
    pub(crate) t: Target,
    pub(crate) dyn_changed: bool,
    pub(crate) opts: &'e Options,
    pub(crate) w: Writes,
    pub(crate) steps: Vec<String>,
}

impl<'e, 'a> Planner<'e, 'a> {
    fn run(mut self) -> Result<Rewrite> {
        let elf = self.elf;
        let old_len = elf.data.len() as u64;

        // Strings the new state needs and where they already are.
        let wanted = self.wanted_strings();
        let kept: BTreeSet<u64> = wanted.iter().filter_map(|(_, o)| *o).collect();
        let mut dropped: Vec<u64> = Vec::new();
        if let Some(d) = &elf.dynamic {
            dropped.extend(
                d.entries
                    .iter()
                    .filter(|e| STRING_TAGS.contains(&e.tag))
                    .map(|e| e.val),
            );
        }
        dropped.extend(elf.verneed.iter().map(|v| v.name));
        dropped.retain(|o| !kept.contains(o));
        let new_strings: Vec<Vec<u8>> = wanted
            .iter()
            .filter(|(_, o)| o.is_none())
            .map(|(s, _)| s.clone())
            .collect();
        let live = elf.fixed_refs.as_ref().map(|f| {
            f.iter()
                .copied()
                .chain(kept.iter().copied())
                .collect::<Vec<_>>()
        });

        let in_place_strings = if new_strings.is_empty() {
            Some(strtab::InPlace {
                offsets: BTreeMap::new(),
                writes: Vec::new(),
            })
        } else {
            strtab::place_in_place(elf.dynstr_bytes(), live.as_deref(), &dropped, &new_strings)
        };
        let capacity = elf.dynamic.as_ref().map_or(0, |d| d.capacity);
        let dyn_fits = !self.dyn_changed || (self.t.entries.len() as u64) < capacity;
        let interp_phdr = elf.find_phdr(PT_INTERP);
        let interp_fits = match (&self.t.interpreter, interp_phdr) {
            (Some(i), Some(p)) => (i.len() as u64) < elf.phdrs[p].p_filesz,
            _ => true,
        };

        if let (Some(placed), true, true) = (&in_place_strings, dyn_fits, interp_fits) {
            self.in_place(placed)?;
            return self.finish(old_len, old_len, false);
        }

        let mut short = Vec::new();
        if in_place_strings.is_none() {
            let need: usize = new_strings.iter().map(|s| s.len() + 1).sum();
            short.push(format!(
                "the new strings need {need} bytes and .dynstr has no free room for them"
            ));
        }
        if !dyn_fits {
            short.push(format!(
                "the dynamic table needs {} entries and has room for {}",
                self.t.entries.len() + 1,
                capacity
            ));
        }
        if !interp_fits {
            short.push(format!(
                "the interpreter needs {} bytes and PT_INTERP holds {}",
                self.t.interpreter.as_ref().map_or(0, |i| i.len() + 1),
                interp_phdr.map_or(0, |p| elf.phdrs[p].p_filesz)
            ));
        }
        if self.opts.no_grow {
            return Err(Error::NoRoom(format!(
                "edit does not fit without growing the file: {}",
                short.join("; ")
            )));
        }
        if !dyn_fits && elf.is_self_relocating() {
            return Err(Error::Unsupported(format!(
                "refusing to move .dynamic of a static PIE or dynamic loader (it relocates itself through _DYNAMIC): {}",
                short.join("; ")
            )));
        }
        self.steps.push(format!("grow: {}", short.join("; ")));
        self.grow(in_place_strings, !dyn_fits, !interp_fits, &wanted)
    }

    /// Every string the final dynamic table and version records reference, in order, with its
    /// current offset when unchanged.
    fn wanted_strings(&self) -> Vec<(Vec<u8>, Option<u64>)> {
        let mut out = Vec::new();
        for e in &self.t.entries {
            if let Val::Str { s, orig } = &e.val {
                out.push((s.clone(), *orig));
            }
        }
        for (_, s, orig) in &self.t.verneed {
            out.push((s.clone(), *orig));
        }
        out
    }

    pub(crate) fn header_only_edits(&mut self, phdrs: &mut [Phdr]) -> Result<()> {
        if let Some(x) = self.t.execstack {
            let Some(i) = phdrs.iter().position(|p| p.p_type == PT_GNU_STACK) else {
                return Err(Error::Unsupported(
                    "the file has no PT_GNU_STACK to change".into(),
                ));
            };
            let f = phdrs[i].p_flags;
            phdrs[i].p_flags = if x { f | PF_X } else { f & !PF_X };
            if f != phdrs[i].p_flags {
                self.steps.push(format!(
                    "PT_GNU_STACK flags {f:#x} -> {:#x}",
                    phdrs[i].p_flags
                ));
            }
        }
        Ok(())
    }

    pub(crate) fn write_ehdr(&mut self, e_phnum: u16, e_shoff: u64) {
        let elf = self.elf;
        let mut h = elf.ehdr.clone();
        if let Some(a) = self.t.os_abi {
            h.ident[7] = a;
            self.steps
                .push(format!("EI_OSABI {} -> {a}", elf.ehdr.ident[7]));
        }
        h.e_phnum = e_phnum;
        h.e_shoff = e_shoff;
        let bytes = h.encode(elf.ctx, elf.data);
        self.w.put_header(0, bytes);
    }

    pub(crate) fn write_phdrs(&mut self, phdrs: &[Phdr]) {
        let mut b = Vec::new();
        for p in phdrs {
            p.encode(self.elf.ctx, &mut b);
        }
        self.w.put_header(self.elf.ehdr.e_phoff, b);
    }

    /// Serialises the dynamic table with `slots` entries.
    pub(crate) fn dynamic_bytes(
        &self,
        strings: &BTreeMap<Vec<u8>, u64>,
        fix: &dyn Fn(u64, u64) -> u64,
        slots: u64,
        table_vaddr: u64,
    ) -> Vec<u8> {
        let ctx = self.elf.ctx;
        let mut b = Vec::new();
        for (i, Entry { tag, val }) in self.t.entries.iter().enumerate() {
            let v = match val {
                Val::Raw(v) => fix(*tag, *v),
                Val::SelfRelative(abs) => {
                    abs.wrapping_sub(table_vaddr.wrapping_add(i as u64 * ctx.dyn_size()))
                        & ctx.word_mask()
                }
                Val::Str { s, orig } => orig
                    .filter(|_| !strings.contains_key(s))
                    .unwrap_or_else(|| strings[s]),
            };
            ctx.put_word(&mut b, *tag);
            ctx.put_word(&mut b, v);
        }
        for _ in self.t.entries.len() as u64..slots {
            ctx.put_word(&mut b, DT_NULL);
            ctx.put_word(&mut b, 0);
        }
        b
    }

    pub(crate) fn write_verneed(
        &mut self,
        strings: &BTreeMap<Vec<u8>, u64>,
        field_at: &dyn Fn(u64) -> u64,
    ) {
        let ctx = self.elf.ctx;
        for (field, s, orig) in self.t.verneed.clone() {
            // A rebuilt table may have moved a string that kept its value.
            let Some(at) = strings.get(&s).copied().or(orig) else {
                continue;
            };
            if Some(at) == orig {
                continue;
            }
            let mut b = Vec::new();
            ctx.put_u32(&mut b, at as u32);
            self.w.put(field_at(field), b);
            if orig.is_none() {
                self.steps
                    .push(format!("vn_file -> \"{}\"", String::from_utf8_lossy(&s)));
            }
        }
    }

    pub(crate) fn describe_strings(&mut self, offsets: &BTreeMap<Vec<u8>, u64>, base: u64) {
        for (s, o) in offsets {
            self.steps.push(format!(
                "string \"{}\" at .dynstr+{o:#x} (file offset {:#x})",
                String::from_utf8_lossy(s),
                base + o
            ));
        }
    }

    fn in_place(&mut self, placed: &strtab::InPlace) -> Result<()> {
        let elf = self.elf;
        let mut phdrs = elf.phdrs.clone();
        self.header_only_edits(&mut phdrs)?;
        self.write_ehdr(elf.ehdr.e_phnum, elf.ehdr.e_shoff);
        self.write_phdrs(&phdrs);
        if self.dyn_changed {
            let d = elf
                .dynamic
                .as_ref()
                .ok_or_else(|| Error::Unsupported("no dynamic table".into()))?;
            let base = elf.dynstr.map_or(0, |s| s.offset);
            for (rel, bytes) in &placed.writes {
                self.w.put(base + rel, bytes.clone());
            }
            self.describe_strings(&placed.offsets, base);
            let bytes = self.dynamic_bytes(&placed.offsets, &|_, v| v, d.capacity, d.vaddr);
            self.steps.push(format!(
                "in place: dynamic table at {:#x}, {} of {} slots used",
                d.offset,
                self.t.entries.len() + 1,
                d.capacity
            ));
            self.w.put(d.offset, bytes);
            self.write_verneed(&placed.offsets, &|f| f);
        }
        if let (Some(i), Some(p)) = (self.t.interpreter.clone(), elf.find_phdr(PT_INTERP)) {
            let ph = elf.phdrs[p];
            let mut b = i.clone();
            b.resize(ph.p_filesz as usize, 0);
            self.w.put(ph.p_offset, b);
            self.steps.push(format!(
                "in place: interpreter \"{}\" at {:#x}",
                String::from_utf8_lossy(&i),
                ph.p_offset
            ));
        }
        Ok(())
    }

    pub(crate) fn finish(self, old_len: u64, new_len: u64, grows: bool) -> Result<Rewrite> {
        self.w.check_overlaps().map_err(|d| Error::Malformed {
            what: "layout",
            detail: d,
        })?;
        let writes = self.w.finish(self.elf.data, new_len);
        let mut steps = self.steps;
        if writes.is_empty() && new_len == old_len {
            steps = vec!["nothing to change".into()];
        }
        Ok(Rewrite {
            plan: Plan {
                grows,
                old_len,
                new_len,
                steps,
                warnings: self.t.warnings,
            },
            new_len,
            writes,
        })
    }
}
