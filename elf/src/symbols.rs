//! Dynamic symbols: renames (`--rename-dynamic-symbols`), cleared versions
//! (`--clear-symbol-version`), and what follows a renamed name: the SysV and GNU hash tables.
//!
//! A GNU hash table requires the hashed symbols to be sorted by bucket, so a rename can move
//! symbols within `.dynsym`; their `.gnu.version` entries and every dynamic relocation that names
//! a symbol by index then follow. Everything here produces writes at input file offsets, which
//! the layout translates if the tables moved.

use std::collections::BTreeMap;

use crate::consts::*;
use crate::ctx::slice;
use crate::error::{malformed, Error, Result};
use crate::view::{DynSym, Elf};

/// What the edit set asks of the dynamic symbols.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SymbolEdits {
    /// New name of each renamed symbol, by symbol index.
    pub renamed: BTreeMap<usize, Vec<u8>>,
    /// Symbols whose `.gnu.version` entry becomes 1 (unversioned), by index.
    pub unversioned: Vec<usize>,
}

impl SymbolEdits {
    pub fn is_empty(&self) -> bool {
        self.renamed.is_empty() && self.unversioned.is_empty()
    }
}

/// `.gnu.version` entry of an unversioned global symbol (VER_NDX_GLOBAL).
const VER_NDX_GLOBAL: u16 = 1;

impl<'a> Elf<'a> {
    /// Names of the dynamic symbols, by index.
    pub fn symbol_names(&self) -> Result<Vec<&'a [u8]>> {
        let Some(refs) = &self.fixed_refs else {
            return Err(malformed(
                "dynamic symbols",
                "the symbol table or its size cannot be found",
            ));
        };
        refs.symbols.iter().map(|&o| self.dynstr_at(o)).collect()
    }

    /// File offset and entry count of `.gnu.version` (one 16-bit entry per dynamic symbol).
    fn versym(&self) -> Option<(u64, u64)> {
        let s = self.dynsym?;
        let addr = self.dyn_val(DT_VERSYM)?;
        let off = self.vaddr_to_offset(addr, s.count.checked_mul(2)?)?;
        Some((off, s.count))
    }
}

/// Resolves renames (matched against the input's names: each symbol is renamed at most once)
/// and version clears.
pub(crate) fn resolve(
    elf: &Elf,
    rename: &[(Vec<u8>, Vec<u8>)],
    clear_version: &[Vec<u8>],
) -> Result<SymbolEdits> {
    let mut out = SymbolEdits::default();
    if rename.is_empty() && clear_version.is_empty() {
        return Ok(out);
    }
    if elf.dynsym.is_none() {
        return Err(Error::MissingTable(".dynsym"));
    }
    let names = elf.symbol_names()?;
    let map: BTreeMap<&[u8], &[u8]> = rename
        .iter()
        .map(|(a, b)| (a.as_slice(), b.as_slice()))
        .collect();
    for (i, n) in names.iter().enumerate() {
        if let Some(new) = map.get(n) {
            if new != n {
                out.renamed.insert(i, new.to_vec());
            }
        }
    }
    if !clear_version.is_empty() {
        let (off, count) = elf.versym().ok_or(Error::MissingTable(".gnu.version"))?;
        let table = slice(elf.data, off, count * 2, "symbol versions")?;
        for (i, n) in names.iter().enumerate() {
            let v = elf.ctx.u16(&table[2 * i..]);
            if clear_version.iter().any(|c| c.as_slice() == *n) && v != VER_NDX_GLOBAL {
                out.unversioned.push(i);
            }
        }
    }
    Ok(out)
}

fn gnu_hash(name: &[u8]) -> u32 {
    name.iter().fold(5381u32, |h, &c| {
        h.wrapping_mul(33).wrapping_add(u32::from(c))
    })
}

fn sysv_hash(name: &[u8]) -> u32 {
    let mut h = 0u32;
    for &c in name {
        h = (h << 4).wrapping_add(u32::from(c));
        let g = h & 0xf000_0000;
        if g != 0 {
            h ^= g >> 24;
        }
        h &= !g;
    }
    h
}

/// The GNU hash table header and where its parts are.
struct GnuHash {
    offset: u64,
    nbuckets: u64,
    symoffset: u64,
    bloom_words: u64,
    shift2: u32,
    /// One past the last hashed symbol (the chains cover `symoffset..end`).
    end: u64,
}

/// The GNU hash table, or `None` when there is none or it hashes no symbol (as in executables
/// that export nothing: their chain array is absent, whatever `symoffset` says).
fn read_gnu_hash(elf: &Elf, syms: &DynSym) -> Result<Option<GnuHash>> {
    let Some(addr) = elf.dyn_val(DT_GNU_HASH) else {
        return Ok(None);
    };
    let offset = elf
        .vaddr_to_offset(addr, 16)
        .ok_or_else(|| malformed("DT_GNU_HASH", "not mapped from the file"))?;
    let h = slice(elf.data, offset, 16, "GNU hash table")?;
    let c = elf.ctx;
    let (nbuckets, symoffset, bloom_words) = (
        u64::from(c.u32(h)),
        u64::from(c.u32(&h[4..])),
        u64::from(c.u32(&h[8..])),
    );
    if nbuckets == 0 || bloom_words == 0 || symoffset > syms.count {
        return Err(malformed(
            "GNU hash table",
            "empty buckets or bloom filter, or more unhashed symbols than symbols",
        ));
    }
    let buckets_at = 16 + bloom_words * c.word();
    let b = slice(
        elf.data,
        offset + buckets_at,
        nbuckets * 4,
        "GNU hash table",
    )?;
    let last = (0..nbuckets as usize)
        .map(|i| u64::from(c.u32(&b[4 * i..])))
        .max()
        .unwrap_or(0);
    if last == 0 {
        return Ok(None);
    }
    if last < symoffset || last >= syms.count {
        return Err(malformed(
            "GNU hash table",
            format!(
                "a bucket starts at symbol {last}, outside {symoffset}..{}",
                syms.count
            ),
        ));
    }
    // The chain of the last bucket ends at the first entry with its low bit set.
    let chains_at = offset + buckets_at + nbuckets * 4;
    let mut end = last;
    loop {
        if end >= syms.count {
            return Err(malformed("GNU hash table", "the last chain does not end"));
        }
        let v = c.u32(slice(
            elf.data,
            chains_at + (end - symoffset) * 4,
            4,
            "GNU hash chain",
        )?);
        end += 1;
        if v & 1 == 1 {
            break;
        }
    }
    Ok(Some(GnuHash {
        offset,
        nbuckets,
        symoffset,
        bloom_words,
        shift2: c.u32(&h[12..]),
        end,
    }))
}

/// A table of dynamic relocations: (file offset, byte size, entry size, with addend).
fn relocation_tables(elf: &Elf) -> Result<Vec<(u64, u64, u64)>> {
    let c = elf.ctx;
    let (rel, rela) = if c.is64() { (16, 24) } else { (8, 12) };
    let mut out = Vec::new();
    let mut add = |addr: Option<u64>, size: Option<u64>, ent: u64, what| -> Result<()> {
        if let (Some(a), Some(s)) = (addr, size) {
            if s == 0 {
                return Ok(());
            }
            let off = elf
                .vaddr_to_offset(a, s)
                .ok_or_else(|| malformed(what, "not mapped from the file"))?;
            out.push((off, s, ent));
        }
        Ok(())
    };
    add(
        elf.dyn_val(DT_RELA),
        elf.dyn_val(DT_RELASZ),
        rela,
        "DT_RELA",
    )?;
    add(elf.dyn_val(DT_REL), elf.dyn_val(DT_RELSZ), rel, "DT_REL")?;
    let plt = if elf.dyn_val(DT_PLTREL) == Some(DT_RELA) {
        rela
    } else {
        rel
    };
    add(
        elf.dyn_val(DT_JMPREL),
        elf.dyn_val(DT_PLTRELSZ),
        plt,
        "DT_JMPREL",
    )?;
    Ok(out)
}

/// The writes (at input file offsets) that give the dynamic symbols their new names, versions
/// and hash tables. `name_at` gives the string table offset of a new name; `value` the new
/// value of a symbol whose section moved (`st_shndx`, `st_value`), as the table is rewritten
/// whole when renames reorder it.
pub(crate) fn writes(
    elf: &Elf,
    edits: &SymbolEdits,
    name_at: &dyn Fn(&[u8]) -> Option<u64>,
    value: &dyn Fn(u16, u64) -> Option<u64>,
) -> Result<Vec<(u64, Vec<u8>)>> {
    let mut out = Vec::new();
    let Some(syms) = elf.dynsym else {
        return Ok(out);
    };
    let c = elf.ctx;
    let versym = elf.versym();
    let mut versions: Option<Vec<u16>> = match versym {
        Some((off, n)) => {
            let t = slice(elf.data, off, n * 2, "symbol versions")?;
            Some((0..n as usize).map(|i| c.u16(&t[2 * i..])).collect())
        }
        None => None,
    };
    if let Some(v) = versions.as_mut() {
        for &i in &edits.unversioned {
            v[i] = VER_NDX_GLOBAL;
        }
    }
    if edits.renamed.is_empty() {
        if let (Some((off, _)), Some(v)) = (versym, versions) {
            for &i in &edits.unversioned {
                let mut b = Vec::new();
                c.put_u16(&mut b, v[i]);
                out.push((off + 2 * i as u64, b));
            }
        }
        return Ok(out);
    }

    // Final names and entries.
    let names: Vec<Vec<u8>> = elf
        .symbol_names()?
        .into_iter()
        .enumerate()
        .map(|(i, n)| edits.renamed.get(&i).cloned().unwrap_or_else(|| n.to_vec()))
        .collect();
    let table = slice(
        elf.data,
        syms.offset,
        syms.count * syms.entsize,
        "dynamic symbols",
    )?;
    let mut entries: Vec<Vec<u8>> = table
        .chunks_exact(syms.entsize as usize)
        .map(<[u8]>::to_vec)
        .collect();
    for (&i, new) in &edits.renamed {
        let at = name_at(new).ok_or_else(|| {
            Error::Internal(format!(
                "no string placed for {}",
                String::from_utf8_lossy(new)
            ))
        })?;
        let mut b = Vec::new();
        c.put_u32(&mut b, at as u32);
        entries[i][..4].copy_from_slice(&b);
    }
    let (shndx_at, value_at) = if c.is64() { (6, 8) } else { (14, 4) };
    for e in entries.iter_mut() {
        if let Some(v) = value(c.u16(&e[shndx_at..]), c.word_at(&e[value_at..])) {
            let mut b = Vec::new();
            c.put_word(&mut b, v);
            e[value_at..value_at + b.len()].copy_from_slice(&b);
        }
    }

    // GNU hash order: hashed symbols sorted by bucket (stable, so unchanged buckets keep their
    // order), and the new position of every symbol.
    let gnu = read_gnu_hash(elf, &syms)?;
    let mut order: Vec<usize> = (0..syms.count as usize).collect();
    if let Some(g) = &gnu {
        let (first, end) = (g.symoffset as usize, g.end as usize);
        order[first..end].sort_by_key(|&i| gnu_hash(&names[i]) as u64 % g.nbuckets);
    }
    let moved = order.iter().enumerate().any(|(pos, &i)| pos != i);
    let mut new_pos = vec![0usize; order.len()];
    for (pos, &i) in order.iter().enumerate() {
        new_pos[i] = pos;
    }
    if moved {
        if elf.ehdr.e_machine == EM_MIPS {
            return Err(Error::Unsupported(
                "cannot rename these symbols: the GNU hash table would reorder .dynsym, and MIPS \
                 ties the order of dynamic symbols to its GOT"
                    .into(),
            ));
        }
        if [DT_ANDROID_REL, DT_ANDROID_RELA, DT_SYMTAB_SHNDX]
            .iter()
            .any(|&t| elf.dyn_val(t).is_some())
        {
            return Err(Error::Unsupported(
                "cannot rename these symbols: the GNU hash table would reorder .dynsym, and the \
                 file has packed relocations or an extended section index table that name \
                 symbols by index"
                    .into(),
            ));
        }
    }

    // The symbol table in its new order.
    let mut sym_bytes = Vec::with_capacity(table.len());
    for &i in &order {
        sym_bytes.extend_from_slice(&entries[i]);
    }
    out.push((syms.offset, sym_bytes));
    if let (Some((off, _)), Some(v)) = (versym, &versions) {
        let mut b = Vec::new();
        for &i in &order {
            c.put_u16(&mut b, v[i]);
        }
        out.push((off, b));
    }

    // Relocations that name a moved symbol.
    if moved {
        let mut seen = std::collections::BTreeSet::new();
        for (off, size, ent) in relocation_tables(elf)? {
            let t = slice(elf.data, off, size, "dynamic relocations")?;
            for (k, r) in t.chunks_exact(ent as usize).enumerate() {
                let at = off + k as u64 * ent;
                if !seen.insert(at) {
                    continue;
                }
                let w = c.word() as usize;
                let info = c.word_at(&r[w..]);
                let (sym, rest) = if c.is64() {
                    (info >> 32, info & 0xffff_ffff)
                } else {
                    (info >> 8, info & 0xff)
                };
                if sym == 0 {
                    continue;
                }
                let Some(&np) = new_pos.get(sym as usize) else {
                    return Err(malformed(
                        "dynamic relocation",
                        format!("entry at {at:#x} names symbol {sym} of {}", syms.count),
                    ));
                };
                if np as u64 != sym {
                    let info = if c.is64() {
                        ((np as u64) << 32) | rest
                    } else {
                        ((np as u64) << 8) | rest
                    };
                    let mut b = Vec::new();
                    c.put_word(&mut b, info);
                    out.push((at + w as u64, b));
                }
            }
        }
    }

    // Hash tables over the final names and order.
    if let Some(g) = &gnu {
        let (first, end) = (g.symoffset as usize, g.end as usize);
        let class_bits = c.word() * 8;
        let mut bloom = vec![0u64; g.bloom_words as usize];
        let mut buckets = vec![0u32; g.nbuckets as usize];
        let mut chains = Vec::with_capacity(end - first);
        for (pos, &i) in order.iter().enumerate().take(end).skip(first) {
            let h = gnu_hash(&names[i]);
            let word = (u64::from(h) / class_bits) % g.bloom_words;
            bloom[word as usize] |= 1 << (u64::from(h) % class_bits);
            bloom[word as usize] |= 1 << (u64::from(h >> (g.shift2 % 32)) % class_bits);
            let b = (u64::from(h) % g.nbuckets) as usize;
            if buckets[b] == 0 {
                buckets[b] = pos as u32;
            }
            let last = pos + 1 == end
                || u64::from(gnu_hash(&names[order[pos + 1]])) % g.nbuckets != b as u64;
            chains.push(if last { h | 1 } else { h & !1 });
        }
        let mut b = Vec::new();
        for w in bloom {
            c.put_word(&mut b, w);
        }
        for v in buckets.into_iter().chain(chains) {
            c.put_u32(&mut b, v);
        }
        out.push((g.offset + 16, b));
    }
    if let Some(addr) = elf.dyn_val(DT_HASH) {
        if elf.ehdr.e_machine == EM_S390 && c.is64() {
            return Err(Error::Unsupported(
                "cannot rebuild the 64-bit SysV hash table of s390x".into(),
            ));
        }
        let off = elf
            .vaddr_to_offset(addr, 8)
            .ok_or_else(|| malformed("DT_HASH", "not mapped from the file"))?;
        let h = slice(elf.data, off, 8, "SysV hash table")?;
        let (nbucket, nchain) = (u64::from(c.u32(h)), u64::from(c.u32(&h[4..])));
        if nbucket == 0 || nchain > syms.count {
            return Err(malformed(
                "SysV hash table",
                "no buckets, or more chains than symbols",
            ));
        }
        slice(elf.data, off, 8 + (nbucket + nchain) * 4, "SysV hash table")?;
        let first = (syms.count - nchain) as usize;
        let mut buckets = vec![0u32; nbucket as usize];
        let mut chain = vec![0u32; nchain as usize];
        for (pos, &i) in order.iter().enumerate().skip(first) {
            let k = (u64::from(sysv_hash(&names[i])) % nbucket) as usize;
            chain[pos - first] = buckets[k];
            buckets[k] = (pos - first) as u32;
        }
        let mut b = Vec::new();
        for v in buckets.into_iter().chain(chain) {
            c.put_u32(&mut b, v);
        }
        out.push((off + 8, b));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_functions() {
        // Values from the ELF gABI / glibc for these names.
        assert_eq!(gnu_hash(b""), 5381);
        assert_eq!(gnu_hash(b"printf"), 0x156b_2bb8);
        assert_eq!(sysv_hash(b"printf"), 0x077905a6);
    }
}
