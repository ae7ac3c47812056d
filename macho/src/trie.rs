//! The export trie (LC_DYLD_INFO export area or LC_DYLD_EXPORTS_TRIE): read it node by node,
//! move the image offsets it records, and write it back with the same shape.
//!
//! Node offsets are ULEB128-encoded, so a changed address can change every later node's offset;
//! the writer recomputes them until they are stable.

use std::collections::HashMap;

use crate::bytes::{put_uleb, uleb};
use crate::consts::*;
use crate::error::{malformed, Result};

struct Node {
    terminal: Vec<u8>,
    edges: Vec<(Vec<u8>, usize)>,
}

/// Rewrites the terminal information of a trie with `f(image offset) -> image offset` and
/// returns the re-encoded trie (same nodes, same order).
pub fn rewrite(trie: &[u8], f: &dyn Fn(u64) -> u64) -> Result<Vec<u8>> {
    if trie.is_empty() {
        return Ok(Vec::new());
    }
    let mut index: HashMap<usize, usize> = HashMap::new();
    let mut order: Vec<usize> = Vec::new();
    let mut nodes: Vec<Node> = Vec::new();
    let mut stack = vec![0usize];
    index.insert(0, 0);
    order.push(0);
    nodes.push(Node {
        terminal: Vec::new(),
        edges: Vec::new(),
    });
    while let Some(off) = stack.pop() {
        let me = index[&off];
        let mut pos = off;
        let tsize = uleb(trie, &mut pos, "export trie")? as usize;
        let tstart = pos;
        let tend = tstart
            .checked_add(tsize)
            .filter(|&e| e <= trie.len())
            .ok_or_else(|| malformed("export trie", format!("node at {off:#x} overruns")))?;
        let mut terminal = Vec::new();
        if tsize > 0 {
            let mut p = tstart;
            let flags = uleb(trie, &mut p, "export trie")?;
            put_uleb(&mut terminal, flags);
            if flags & EXPORT_SYMBOL_FLAGS_REEXPORT != 0 {
                // Ordinal and imported name: copied unchanged.
                let rest = trie.get(p..tend).ok_or_else(|| {
                    malformed("export trie", format!("node at {off:#x} overruns"))
                })?;
                terminal.extend_from_slice(rest);
            } else {
                let addr = uleb(trie, &mut p, "export trie")?;
                let absolute =
                    flags & EXPORT_SYMBOL_FLAGS_KIND_MASK == EXPORT_SYMBOL_FLAGS_KIND_ABSOLUTE;
                put_uleb(&mut terminal, if absolute { addr } else { f(addr) });
                if flags & EXPORT_SYMBOL_FLAGS_STUB_AND_RESOLVER != 0 {
                    let resolver = uleb(trie, &mut p, "export trie")?;
                    put_uleb(&mut terminal, f(resolver));
                }
                if p > tend {
                    return Err(malformed(
                        "export trie",
                        format!("node at {off:#x} overruns"),
                    ));
                }
                terminal.extend_from_slice(&trie[p..tend]);
            }
        }
        pos = tend;
        let count = *trie
            .get(pos)
            .ok_or_else(|| malformed("export trie", format!("node at {off:#x} truncated")))?;
        pos += 1;
        let mut edges = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let rest = trie.get(pos..).unwrap_or(&[]);
            let len = rest
                .iter()
                .position(|&b| b == 0)
                .ok_or_else(|| malformed("export trie", "unterminated edge label"))?;
            let label = rest[..len].to_vec();
            pos += len + 1;
            let child = uleb(trie, &mut pos, "export trie")? as usize;
            if child >= trie.len() {
                return Err(malformed(
                    "export trie",
                    format!("child offset {child:#x} overruns"),
                ));
            }
            let ci = match index.get(&child) {
                Some(_) => {
                    return Err(malformed(
                        "export trie",
                        format!("node {child:#x} reached twice"),
                    ))
                }
                None => {
                    let ci = nodes.len();
                    index.insert(child, ci);
                    order.push(child);
                    nodes.push(Node {
                        terminal: Vec::new(),
                        edges: Vec::new(),
                    });
                    stack.push(child);
                    ci
                }
            };
            edges.push((label, ci));
        }
        nodes[me] = Node { terminal, edges };
    }
    // Emit nodes in their original file order.
    let mut seq: Vec<usize> = (0..nodes.len()).collect();
    seq.sort_by_key(|&i| order[i]);
    let mut offs: Vec<usize> = order.clone();
    for _ in 0..64 {
        let mut out = Vec::with_capacity(trie.len() + 16);
        let mut new_offs = vec![0usize; nodes.len()];
        for &i in &seq {
            new_offs[i] = out.len();
            let n = &nodes[i];
            put_uleb(&mut out, n.terminal.len() as u64);
            out.extend_from_slice(&n.terminal);
            out.push(n.edges.len() as u8);
            for (label, child) in &n.edges {
                out.extend_from_slice(label);
                out.push(0);
                put_uleb(&mut out, offs[*child] as u64);
            }
        }
        if new_offs == offs {
            return Ok(out);
        }
        offs = new_offs;
    }
    Err(malformed("export trie", "node offsets do not settle"))
}
