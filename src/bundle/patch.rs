//! The ELF edits that make the bundle self-contained: for each bundled object, the search path
//! (`$ORIGIN`-relative) that finds each of its bundled dependencies where the layout put them,
//! without entries that point outside the bundle; needed names of renamed libraries; their
//! sonames. Objects whose references already work are left byte-identical.

use std::collections::BTreeSet;

use petgraph::visit::EdgeRef;
use shenzi_elf::{EditSet, RpathOp};

use super::place::Placement;
use super::plan::{file_name, join_inside, parent, relative, Plan, Source};
use super::resolve::Graph;

/// `$ORIGIN`-relative entry for reaching bundle directory `to` from `from`.
fn origin_entry(from: &str, to: &str) -> String {
    match relative(from, to).as_str() {
        "." => "$ORIGIN".into(),
        r => format!("$ORIGIN/{r}"),
    }
}

/// Where an existing `$ORIGIN` entry points inside the bundle, if it does.
fn expand_origin(entry: &str, dir: &str) -> Option<String> {
    let rest = entry
        .strip_prefix("$ORIGIN")
        .or_else(|| entry.strip_prefix("${ORIGIN}"))?;
    if !(rest.is_empty() || rest.starts_with('/')) || rest.contains('$') {
        return None;
    }
    join_inside(dir, rest)
}

/// Fills `item.edit` for every bundled ELF object that needs one. Returns how many.
pub fn plan_edits(graph: &Graph, placement: &Placement, plan: &mut Plan) -> usize {
    let mut count = 0;
    let mut nodes: Vec<_> = placement.dests.iter().collect();
    nodes.sort_by(|a, b| a.1.cmp(b.1));
    for (&ix, dests) in nodes {
        let node = &graph.g[ix];
        let info = &node.info;
        for dest in dests {
            let Some(item) = plan.items.get(dest) else {
                continue;
            };
            if !matches!(item.source, Source::File(_)) {
                continue;
            }
            let dir = parent(dest).to_string();
            let old: &[String] = &info.run_path;
            let mut new: Vec<String> = Vec::new();
            let mut reach: BTreeSet<String> = BTreeSet::new();
            for e in old {
                if let Some(target) = expand_origin(e, &dir) {
                    if !new.contains(e) {
                        new.push(e.clone());
                        reach.insert(target);
                    }
                }
            }
            let mut edits = EditSet::default();
            let mut deps: Vec<_> = graph.g.edges(ix).collect();
            deps.sort_by(|a, b| a.weight().cmp(b.weight()));
            for e in deps {
                let name = e.weight();
                let Some(dep_dest) = placement.dest_for(e.target(), name) else {
                    continue;
                };
                let dep_dir = parent(dep_dest);
                if !reach.contains(dep_dir) {
                    reach.insert(dep_dir.to_string());
                    new.push(origin_entry(&dir, dep_dir));
                }
                let actual = file_name(dep_dest);
                if actual != name.as_str()
                    && !edits
                        .replace_needed
                        .iter()
                        .any(|(o, _)| o == name.as_bytes())
                {
                    edits
                        .replace_needed
                        .push((name.as_bytes().to_vec(), actual.as_bytes().to_vec()));
                }
            }
            if placement.dlopen_callers.contains(dest) && !reach.contains("lib") {
                new.push(origin_entry(&dir, "lib"));
            }
            if new.as_slice() != old {
                edits.rpath = vec![if new.is_empty() {
                    RpathOp::Remove
                } else {
                    RpathOp::Set(new.join(":").into_bytes())
                }];
                edits.force_rpath = info.run_path_tag == Some(shenzi_elf::RunPathTag::Rpath);
            }
            if let Some(soname) = &info.soname {
                let fname = file_name(dest);
                if dest.starts_with("lib/") && fname != soname && fname.contains('-') {
                    edits.soname = Some(fname.as_bytes().to_vec());
                }
            }
            if !edits.is_empty() {
                if let Some(item) = plan.items.get_mut(dest) {
                    item.edit = Some(super::plan::Edit::Elf(edits));
                    count += 1;
                }
            }
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_entries() {
        assert_eq!(origin_entry("python/bin", "python/lib"), "$ORIGIN/../lib");
        assert_eq!(origin_entry("lib", "lib"), "$ORIGIN");
        assert_eq!(
            expand_origin("$ORIGIN/../numpy.libs", "sp/numpy/core"),
            Some("sp/numpy/numpy.libs".into())
        );
        assert_eq!(expand_origin("${ORIGIN}", "lib"), Some("lib".into()));
        assert_eq!(expand_origin("/usr/lib", "lib"), None);
        assert_eq!(expand_origin("$ORIGIN/../../..", "a"), None);
    }
}
