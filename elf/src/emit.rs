//! Emission: turns a [`Layout`] into the writes of a [`Rewrite`]. Nothing is decided here;
//! every offset comes from the layout.
//!
//! Order: zeros over what nothing refers to any more, the new segment (copies and fresh
//! blocks), then every patch on top — headers, strings, the dynamic table, version needs,
//! symbols, the interpreter.

use std::collections::BTreeMap;

use crate::consts::*;
use crate::edit::{Entry, Target, Val};
use crate::error::{Error, Result};
use crate::grow::TABLE_TAGS;
use crate::layout::{Layout, Strings, What};
use crate::output::{Plan, Rewrite, Writes};
use crate::view::Elf;

pub(crate) fn emit(elf: &Elf, t: &Target, lay: &Layout) -> Result<Rewrite> {
    let ctx = elf.ctx;
    let mut w = Writes::new();
    for &(a, b) in &lay.freed {
        w.put_background(a, vec![0; (b - a) as usize]);
    }

    // The segment: copies and fresh blocks; the dynamic table and program headers go on top.
    if let Some(seg) = &lay.segment {
        let mut bytes = vec![0u8; seg.len as usize];
        for it in &seg.items {
            let at = (it.offset - seg.offset) as usize;
            let fresh: Option<Vec<u8>> = match (&it.what, it.from) {
                (_, Some((o, _))) => Some(elf.data[o as usize..(o + it.len) as usize].to_vec()),
                (What::Interp, None) => {
                    let mut v = t
                        .interpreter
                        .clone()
                        .unwrap_or_else(|| elf.interpreter().unwrap_or_default().to_vec());
                    v.push(0);
                    Some(v)
                }
                (What::Dynstr, None) => match &lay.strings {
                    Strings::Rebuilt(r) => Some(r.table.clone()),
                    Strings::InPlace(_) => None,
                },
                (What::Note, None) => t.cache.add.clone(),
                _ => None,
            };
            if let Some(b) = fresh {
                bytes[at..at + b.len()].copy_from_slice(&b);
            }
        }
        w.put_container(seg.offset, bytes);
    }

    // Headers.
    let mut h = elf.ehdr.clone();
    if let Some(a) = t.os_abi {
        h.ident[7] = a;
    }
    h.e_phoff = lay.phoff;
    h.e_phnum = u16::try_from(lay.phdrs.len())
        .map_err(|_| Error::Unsupported("too many program headers".into()))?;
    h.e_shoff = lay.shoff;
    if elf.ehdr.e_shnum != 0 {
        h.e_shnum = lay.shdrs.len() as u16;
    }
    h.e_shstrndx = lay.shstrndx;
    w.put_header(0, h.encode(ctx, elf.data));
    let mut b = Vec::new();
    for p in &lay.phdrs {
        p.encode(ctx, &mut b);
    }
    w.put_header(lay.phoff, b);
    if lay.shoff != 0 {
        let mut b = Vec::new();
        for s in &lay.shdrs {
            s.encode(ctx, &mut b);
        }
        w.put_header(lay.shoff, b);
    }
    if let Some((off, names)) = &lay.shstrtab {
        w.put(*off, names.clone());
    }

    // Strings, the dynamic table, version needs.
    if let Strings::InPlace(p) = &lay.strings {
        let base = elf.dynstr.map_or(0, |d| d.offset);
        for (rel, bytes) in &p.writes {
            w.put(base + rel, bytes.clone());
        }
    }
    if let Some(d) = lay.dynamic {
        w.put(d.offset, dynamic_bytes(elf, t, lay, d.slots, d.vaddr));
    }
    for (field, s, orig) in &t.verneed {
        // A rebuilt table may have moved a string that kept its value.
        let Some(at) = lay.strings.offset_of(s).or(*orig) else {
            continue;
        };
        if Some(at) == *orig {
            continue;
        }
        let mut b = Vec::new();
        ctx.put_u32(&mut b, at as u32);
        w.put(lay.move_off(*field), b);
    }

    // Symbols: new names, versions, hash tables; values that follow moved sections.
    let moves = SectionMoves::of(elf, lay);
    if !t.symbols.is_empty() {
        let name_at = |s: &[u8]| lay.strings.offset_of(s);
        let value = |shndx: u16, v: u64| moves.value(shndx, v);
        for (off, bytes) in crate::symbols::writes(elf, &t.symbols, &name_at, &value)? {
            w.put(lay.move_off(off), bytes);
        }
    }
    // A renamed table was written whole, with its values already fixed.
    let skip_dynsym = !t.symbols.renamed.is_empty();
    moves.fix_symbol_tables(elf, lay, skip_dynsym, &mut w);

    if let (Some(i), Some((off, room))) = (&t.interpreter, lay.interp) {
        let mut b = i.clone();
        b.resize(room as usize, 0);
        w.put(off, b);
    }

    w.check_overlaps().map_err(|d| Error::Malformed {
        what: "layout",
        detail: d,
    })?;
    let writes = w.finish(elf.data, lay.new_len);
    let mut steps = lay.describe(elf);
    describe_target(t, &mut steps);
    if writes.is_empty() && lay.new_len == lay.old_len {
        steps = vec!["nothing to change".into()];
    }
    Ok(Rewrite {
        plan: Plan {
            grows: lay.grows(),
            old_len: lay.old_len,
            new_len: lay.new_len,
            steps,
            warnings: t.warnings.clone(),
        },
        new_len: lay.new_len,
        writes,
    })
}

/// Steps for what the edit set asks that the layout does not show.
fn describe_target(t: &Target, steps: &mut Vec<String>) {
    for (_, s, orig) in &t.verneed {
        if orig.is_none() {
            steps.push(format!("vn_file -> \"{}\"", String::from_utf8_lossy(s)));
        }
    }
    if let Some(i) = &t.interpreter {
        steps.push(format!("interpreter -> \"{}\"", String::from_utf8_lossy(i)));
    }
    if !t.symbols.renamed.is_empty() {
        steps.push(format!(
            "rename {} dynamic symbols; rebuild the hash tables",
            t.symbols.renamed.len()
        ));
    }
    if !t.symbols.unversioned.is_empty() {
        steps.push(format!(
            "clear the version of {} dynamic symbols",
            t.symbols.unversioned.len()
        ));
    }
    if t.cache.remove.is_some() {
        steps.push("remove the stale resolution cache note".into());
    }
    if t.cache.add.is_some() {
        steps.push("add a resolution cache note".into());
    }
    if let Some(a) = t.os_abi {
        steps.push(format!("EI_OSABI -> {a}"));
    }
}

/// Serialises the dynamic table with `slots` entries at address `table_vaddr`.
fn dynamic_bytes(elf: &Elf, t: &Target, lay: &Layout, slots: u64, table_vaddr: u64) -> Vec<u8> {
    let ctx = elf.ctx;
    let fix = |tag: u64, v: u64| match tag {
        DT_STRTAB => lay.dynstr_vaddr,
        DT_STRSZ => lay.dynstr_size,
        t if TABLE_TAGS.iter().any(|&(tag, _)| tag == t) => lay.move_vaddr(v),
        _ => v,
    };
    let mut b = Vec::new();
    for (i, Entry { tag, val }) in t.entries.iter().enumerate() {
        let v = match val {
            Val::Raw(v) => fix(*tag, *v),
            Val::SelfRelative(abs) => {
                abs.wrapping_sub(table_vaddr.wrapping_add(i as u64 * ctx.dyn_size()))
                    & ctx.word_mask()
            }
            Val::Str { s, orig } => match (&lay.strings, orig) {
                (Strings::InPlace(_), Some(o)) => *o,
                _ => lay.strings.offset_of(s).or(*orig).unwrap_or(0),
            },
        };
        ctx.put_word(&mut b, *tag);
        ctx.put_word(&mut b, v);
    }
    for _ in t.entries.len() as u64..slots {
        ctx.put_word(&mut b, DT_NULL);
        ctx.put_word(&mut b, 0);
    }
    b
}

/// Sections whose address changed: index → (old address, size, new address).
struct SectionMoves(BTreeMap<usize, (u64, u64, u64)>);

impl SectionMoves {
    fn of(elf: &Elf, lay: &Layout) -> SectionMoves {
        let mut moves = BTreeMap::new();
        for (i, (old, new)) in elf.shdrs.iter().zip(&lay.shdrs).enumerate() {
            if old.sh_addr != new.sh_addr
                && old.sh_flags & SHF_ALLOC != 0
                && new.sh_type != SHT_NULL
            {
                moves.insert(i, (old.sh_addr, old.sh_size.max(new.sh_size), new.sh_addr));
            }
        }
        SectionMoves(moves)
    }

    /// The new value of a symbol defined in section `shndx`, if that section moved.
    fn value(&self, shndx: u16, value: u64) -> Option<u64> {
        let &(old, size, new) = self.0.get(&usize::from(shndx))?;
        (value >= old && value <= old + size).then(|| new + (value - old))
    }

    /// Rewrites `st_value` of every symbol (in `.symtab` and `.dynsym`) whose section moved,
    /// where the symbol table now lives.
    fn fix_symbol_tables(&self, elf: &Elf, lay: &Layout, skip_dynsym: bool, w: &mut Writes) {
        if self.0.is_empty() {
            return;
        }
        let ctx = elf.ctx;
        let (entsize, shndx_at, value_at) = if ctx.is64() {
            (24u64, 6usize, 8usize)
        } else {
            (16, 14, 4)
        };
        for s in elf
            .shdrs
            .iter()
            .filter(|s| s.sh_type == SHT_SYMTAB || (s.sh_type == SHT_DYNSYM && !skip_dynsym))
        {
            let Ok(syms) = crate::headers::table(
                elf.data,
                s.sh_offset,
                s.sh_size / entsize,
                entsize,
                "symbols",
            ) else {
                continue;
            };
            for (k, sym) in syms.enumerate() {
                let shndx = ctx.u16(&sym[shndx_at..]);
                let Some(v) = self.value(shndx, ctx.word_at(&sym[value_at..])) else {
                    continue;
                };
                let mut b = Vec::new();
                ctx.put_word(&mut b, v);
                w.put(
                    lay.move_off(s.sh_offset + k as u64 * entsize + value_at as u64),
                    b,
                );
            }
        }
    }
}
