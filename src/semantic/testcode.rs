//! Test-code status: which code no rule looks at (test targets, packages, folders and
//! functions, `[allow]` paths).

use std::collections::BTreeMap;

use super::Model;
use crate::crates::CrateGraph;
use crate::ids::{CrateId, FileId, ModId};
use crate::workspace::TargetKind;

/// Packages that are test code as a whole: a package that other packages of the unit
/// depend on only as a `[dev-dependencies]` entry (test support; not one with a binary
/// target, a program), and a member that lives under a `tests/` folder of the workspace (a
/// load-test or integration-test crate) that no other package depends on as a normal or
/// build dependency.
pub(super) fn test_packages(g: &CrateGraph) -> BTreeMap<usize, String> {
    use crate::workspace::{DepKind, underscore};
    let mut out = BTreeMap::new();
    for (pi, pkg) in g.packages.iter().enumerate() {
        let me = underscore(&pkg.name);
        let mut dev_of: Vec<&str> = Vec::new();
        let mut normal = false;
        for other in &g.packages {
            if other.name == pkg.name {
                continue;
            }
            for d in other.deps.iter().filter(|d| d.package == me) {
                match d.kind {
                    DepKind::Dev => dev_of.push(&other.name),
                    _ => normal = true,
                }
            }
        }
        dev_of.sort();
        dev_of.dedup();
        // A package with a binary target is a program (the product's CLI that end-to-end
        // tests drive), never test support, unless its name says it is test support
        // (`crates_io_test_db`, whose binary is a test runner's setup script).
        let named_test = pkg
            .name
            .split(['-', '_'])
            .any(|w| matches!(w, "test" | "tests" | "testing" | "testutils" | "fixtures"));
        let program = !named_test
            && g.crates
                .iter()
                .any(|c| c.package == pi && c.kind == crate::workspace::TargetKind::Bin);
        if !normal && !dev_of.is_empty() && !program {
            out.insert(
                pi,
                format!(
                    "only a [dev-dependencies] entry of {}",
                    dev_of
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            continue;
        }
        // The folder name alone never makes a library other packages build on test code.
        if !normal
            && let Ok(rel) = pkg.dir.strip_prefix(&g.root)
            && rel.components().any(|c| c.as_os_str() == "tests")
        {
            out.insert(
                pi,
                format!(
                    "a workspace member under a `tests/` folder ({})",
                    rel.display()
                ),
            );
        }
    }
    out
}

impl<'g> Model<'g> {
    /// Which files of each crate are test or allowed code as a whole (`file_allowed`), and
    /// the `-v` notes for the packages that are test code.
    pub(super) fn find_test_code(&mut self) {
        let g = self.g;
        self.file_allowed = g
            .crate_ids()
            .map(|k| {
                (g.crates[k].modules.files())
                    .map(|(file, _, _)| self.file_allowed_at(k, file))
                    .collect()
            })
            .collect();
        for (p, why) in self.test_packages.iter().filter(|_| self.cfg.allow_tests) {
            self.notes.push(format!(
                "package `{}` is treated as test code: {why}",
                g.packages[*p].name
            ));
        }
    }

    /// Whether code in module `m` is left to no rule: an `[allow]` path,
    /// or (unless `[allow] tests = false`) test code: `test_flag` (a `#[test]` function, a
    /// `#[cfg(test)]` item), a test module, target or package, a file no target reaches
    /// under `tests/`, `benches/` or `examples/` of its package.
    pub fn allowed(&self, m: ModId, test_flag: bool) -> bool {
        let node = self.g.module(m);
        self.file_allowed[m.krate.index()][node.file_index]
            || ((node.is_test || test_flag) && self.cfg.allow_tests)
    }

    /// [`Self::allowed`] for what every module of `file` in crate `k` shares (its path, the
    /// crate, the package, the folder), computed once per file of a crate.
    pub(super) fn file_allowed_at(&self, k: CrateId, file: FileId) -> bool {
        let c = &self.g.crates[k];
        let rel = &self.g.files[file].rel;
        if self.cfg.allow_paths.is_match(rel) {
            return true;
        }
        if !self.cfg.allow_tests {
            return false;
        }
        if c.kind.is_test_code() || self.test_packages.contains_key(&c.package) {
            return true;
        }
        // Test code is decided by target kind: a library or binary module stays production
        // code wherever its file lies (`#[path = "../tests/support/db.rs"]`). Only a file
        // no target reaches has no kind; then its folder decides (tests/, benches/,
        // examples/ of its package).
        if c.kind != TargetKind::Orphan {
            return false;
        }
        self.g.packages[c.package].in_test_folder(&self.g.files[file].path)
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{module_of, with_model};

    const CRATE: &str = r#"
//- /Cargo.toml
[workspace]
members = ["app", "support"]
//- /app/Cargo.toml
[package]
name = "app"
version = "0.1.0"
edition = "2021"
[dev-dependencies]
support = { path = "../support" }
//- /app/src/lib.rs
pub mod db;
#[cfg(test)]
mod tests;
//- /app/src/db.rs
pub fn f() {}
//- /app/src/tests.rs
fn t() {}
//- /app/tests/it.rs
fn it() {}
//- /support/Cargo.toml
[package]
name = "support"
version = "0.1.0"
edition = "2021"
//- /support/src/lib.rs
pub fn helper() {}
"#;

    /// Test modules, test targets and packages only dev-depended on are test code; a
    /// `#[test]` flag makes any code test code; `[allow] tests = false` turns it all off.
    #[test]
    fn test_code_is_left_to_no_rule() {
        with_model(CRATE, |m| {
            let db = module_of(m, "app::db");
            assert!(!m.allowed(db, false));
            assert!(m.allowed(db, true), "a #[test] function");
            assert!(m.allowed(module_of(m, "app::tests"), false));
            assert!(m.allowed(module_of(m, "it"), false), "tests/it.rs");
            assert!(m.allowed(module_of(m, "support"), false));
            assert_eq!(m.test_packages.len(), 1);
            assert_eq!(
                m.test_packages.values().next().map(String::as_str),
                Some("only a [dev-dependencies] entry of `app`")
            );
            assert!(
                m.notes
                    .iter()
                    .any(|n| n.starts_with("package `support` is treated as test code")),
                "{:?}",
                m.notes
            );
        });
        let off = format!("{CRATE}//- /ssot-lint.toml\n[allow]\ntests = false\n");
        with_model(&off, |m| {
            assert!(!m.allowed(module_of(m, "app::tests"), false));
            assert!(!m.allowed(module_of(m, "support"), false));
            assert!(!m.allowed(module_of(m, "app::db"), true));
        });
    }

    /// `[allow] paths` exempts the files they match.
    #[test]
    fn allowed_paths() {
        let fixture = format!("{CRATE}//- /ssot-lint.toml\n[allow]\npaths = [\"app/src/db.rs\"]\n");
        with_model(&fixture, |m| {
            assert!(m.allowed(module_of(m, "app::db"), false));
            assert!(!m.allowed(module_of(m, "app"), false));
        });
    }
}
