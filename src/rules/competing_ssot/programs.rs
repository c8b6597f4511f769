//! SSOT006's programs: a binary target and the workspace crates it links.

use std::collections::BTreeSet;

use crate::semantic::Model;
use crate::workspace::{DepKind, TargetKind};

/// A program: a binary (or test) target and the workspace crates it links; a library no
/// binary links is a program of its own. Two modules compete only inside one program.
pub(super) struct Program {
    pub(super) name: String,
    /// The target crate it is built from.
    pub(super) root: usize,
    pub(super) crates: BTreeSet<usize>,
}

/// The programs, and per crate the crates it links (itself included).
pub(super) fn programs(c: &Model) -> (Vec<Program>, Vec<BTreeSet<usize>>) {
    let g = c.g;
    // What a crate links into a program: its `[dependencies]` that are workspace libraries
    // (not `[dev-dependencies]`: those only build tests), and its own package's library.
    let lib_of = |pkg: &str| {
        g.crates.iter().position(|cr| {
            cr.kind == TargetKind::Lib
                && crate::workspace::underscore(&g.packages[cr.package].name) == pkg
        })
    };
    let deps = |k: usize| -> Vec<usize> {
        let cr = &g.crates[k];
        let pkg = &g.packages[cr.package];
        // A build script links its `[build-dependencies]` only.
        let wanted = if cr.kind == TargetKind::BuildScript {
            DepKind::Build
        } else {
            DepKind::Normal
        };
        let mut v: Vec<usize> = pkg
            .deps
            .iter()
            .filter(|d| d.kind == wanted)
            .filter_map(|d| lib_of(&d.package))
            .collect();
        if !matches!(cr.kind, TargetKind::Lib | TargetKind::BuildScript)
            && let Some(l) = lib_of(&crate::workspace::underscore(&pkg.name))
        {
            v.push(l);
        }
        v
    };
    let links = |root: usize| -> BTreeSet<usize> {
        let mut seen = BTreeSet::from([root]);
        if g.crates[root].kind == TargetKind::Orphan {
            // A file no target reaches links nothing.
            return seen;
        }
        let mut stack = vec![root];
        while let Some(k) = stack.pop() {
            for d in deps(k) {
                if seen.insert(d) {
                    stack.push(d);
                }
            }
        }
        seen
    };
    // Test, bench and example targets are test code: they form no program while test code
    // is allowed (their own sites are left out anyway).
    let is_test = |k: usize| {
        let cr = &g.crates[k];
        c.cfg.allow_tests && (cr.kind.is_test_code() || c.test_packages.contains_key(&cr.package))
    };
    let mut out: Vec<Program> = Vec::new();
    let mut linked: BTreeSet<usize> = BTreeSet::new();
    for (k, cr) in g.crates.iter().enumerate() {
        if cr.kind == TargetKind::Lib || is_test(k) {
            continue;
        }
        let crates = links(k);
        linked.extend(crates.iter().copied());
        out.push(Program {
            name: cr.name.clone(),
            root: k,
            crates,
        });
    }
    for (k, cr) in g.crates.iter().enumerate() {
        if cr.kind == TargetKind::Lib && !linked.contains(&k) && !is_test(k) {
            out.push(Program {
                name: cr.name.clone(),
                root: k,
                crates: links(k),
            });
        }
    }
    let all = (0..g.crates.len()).map(links).collect();
    (out, all)
}
