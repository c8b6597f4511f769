//! SSOT membership: the modules the config names, resolved in this unit, and whether a
//! module is in the SSOT of a resource kind; what messages call them.

use std::collections::BTreeMap;

use super::{ModPath, Model, Site, SsotModules};
use crate::config::Config;
use crate::crates::CrateGraph;
use crate::ids::ModId;
use crate::packs::PackIndex;
use crate::resolve::Resolver;
use crate::workspace::TargetKind;

/// The SSOT modules of each resource kind in this unit, and the config's module paths that
/// exist here. Every module the config names must exist; a config shared by many
/// independent crates (a scan of a folder) names crates of other units too, and there the
/// engine checks that each path exists in some unit (`found_config_paths`).
pub(super) fn resolve_ssot(
    res: &mut Resolver,
    g: &CrateGraph,
    packs: &PackIndex,
    cfg: &Config,
    shared_config: bool,
) -> Result<(SsotModules, Vec<String>), crate::error::Error> {
    let mut ssot = BTreeMap::new();
    for (resource, _) in packs.resources() {
        let mut v = Vec::new();
        for p in cfg.ssot_for(&resource) {
            v.extend(res.config_module(&p.segs));
        }
        ssot.insert(resource, v);
    }
    let mut found_config_paths = Vec::new();
    if g.crates.is_empty() {
        return Ok((ssot, found_config_paths));
    }
    for p in cfg.all_module_paths() {
        let found = !res.config_module(&p.segs).is_empty();
        if found {
            found_config_paths.push(p.text.clone());
        }
        if !shared_config && !found {
            let crates: Vec<&str> = {
                let mut c: Vec<&str> = g
                    .crates
                    .iter()
                    .filter(|c| c.kind == TargetKind::Lib || c.kind == TargetKind::Bin)
                    .map(|c| c.name.as_str())
                    .collect();
                c.sort();
                c.dedup();
                c
            };
            let help = match did_you_mean(g, &p.text) {
                Some(m) => format!("did you mean `{m}`?"),
                None => format!(
                    "module paths start with a crate name; crates here: {}",
                    crates.join(", ")
                ),
            };
            return Err(cfg
                .error(
                    p.span.clone(),
                    format!("module `{}` does not exist in this workspace", p.text),
                )
                .with_help(help));
        }
    }
    Ok((ssot, found_config_paths))
}

/// The existing module path closest to a misspelled one (`app::databse` -> `app::database`).
fn did_you_mean(g: &CrateGraph, wanted: &str) -> Option<String> {
    let mut best: Option<(usize, String)> = None;
    for c in &g.crates {
        if c.kind == TargetKind::Orphan {
            continue;
        }
        for node in c.modules.iter() {
            let mut key = vec![c.name.clone()];
            key.extend(node.path.iter().cloned());
            let key = key.join("::");
            let d = edit_distance(wanted, &key);
            if best
                .as_ref()
                .is_none_or(|(bd, bk)| d < *bd || (d == *bd && key < *bk))
            {
                best = Some((d, key));
            }
        }
    }
    let (d, key) = best?;
    // Close enough to be a typo: a third of the length, at least two edits.
    (d <= (wanted.chars().count() / 3).max(2)).then_some(key)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

impl<'g> Model<'g> {
    /// The SSOT modules of a resource kind to name in messages: those of this unit, or the
    /// configured ones (at most three) when none is here.
    pub fn ssot_names(&self, resource: &str) -> Vec<ModPath> {
        let mut v: Vec<ModPath> = self
            .ssot
            .get(resource)
            .into_iter()
            .flatten()
            .map(|&m| self.mod_path(m))
            .collect();
        v.dedup();
        if v.is_empty() {
            v = self
                .cfg
                .ssot_for(resource)
                .iter()
                .take(3)
                .map(|p| ModPath::from(p.segs.as_slice()))
                .collect();
        }
        v
    }

    /// Where SSOT004 looks: the SSOT modules of the kind, or every module when it has none.
    pub fn ssot_scope(&self, resource: &str, m: ModId) -> bool {
        self.cfg.ssot_for(resource).is_empty() || self.in_ssot(resource, m)
    }

    /// Whether module `m` is an SSOT module of `resource` or below one (in a crate of the
    /// same name: each target of a package has its own module tree).
    pub fn in_ssot(&self, resource: &str, m: ModId) -> bool {
        let Some(list) = self.ssot.get(resource) else {
            return false;
        };
        let target = &self.g.crates[m.krate];
        list.iter().any(|&sm| {
            self.g.crates[sm.krate].name == target.name
                && self.g.module(m).path.starts_with(self.g.module(sm).path)
        })
    }

    /// A lazy cache (see [`Site::lazy_cache_of`]) of a type the SSOT of its kind declares.
    pub fn ssot_cache(&self, s: &Site) -> bool {
        s.lazy_cache_of()
            .is_some_and(|m| self.in_ssot(&s.resource, m))
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{module_of, try_model, with_model};

    const CRATE: &str = r#"
//- /ssot-lint.toml
[ssot]
modules = ["app::db"]
//- /src/lib.rs
pub mod db;
pub mod dbx;
pub mod handlers;
//- /src/db.rs
pub mod pool;
//- /src/db/pool.rs
pub fn g() {}
//- /src/dbx.rs
pub fn x() {}
//- /src/handlers.rs
pub fn h() {}
"#;

    /// The SSOT module and what is below it, by whole segments (`dbx` is not below `db`).
    #[test]
    fn a_module_and_its_submodules_are_in_the_ssot() {
        with_model(CRATE, |m| {
            for (path, inside) in [
                ("app::db", true),
                ("app::db::pool", true),
                ("app::dbx", false),
                ("app::handlers", false),
                ("app", false),
            ] {
                let module = module_of(m, path);
                assert_eq!(m.in_ssot("sql", module), inside, "{path}");
                assert_eq!(m.ssot_scope("sql", module), inside, "{path}");
                // Every kind has the one SSOT of `[ssot] modules`.
                assert_eq!(m.in_ssot("redis", module), inside, "{path}");
            }
            assert_eq!(m.ssot_names("sql").len(), 1);
            assert_eq!(m.ssot_names("sql")[0].to_string(), "app::db");
            assert_eq!(m.found_config_paths, ["app::db"]);
        });
    }

    /// With no SSOT configured, SSOT004 looks everywhere and nothing is in an SSOT.
    #[test]
    fn no_ssot_configured() {
        let fixture = CRATE.replace("modules = [\"app::db\"]", "");
        with_model(&fixture, |m| {
            let h = module_of(m, "app::handlers");
            assert!(!m.in_ssot("sql", h));
            assert!(m.ssot_scope("sql", h));
            assert!(m.ssot_names("sql").is_empty());
        });
    }

    /// A module the config names must exist; a near miss is suggested.
    #[test]
    fn a_missing_module_is_a_config_error_with_a_suggestion() {
        let fixture = CRATE.replace("\"app::db\"", "\"app::hadlers\"");
        let e = try_model(&fixture, |_| ()).expect_err("the config names no module");
        let text = format!("{e}");
        assert_eq!(
            text,
            "module `app::hadlers` does not exist in this workspace"
        );
        let crate::error::Error::Config { help, .. } = e else {
            panic!("a config error: {e:?}");
        };
        assert_eq!(help.as_deref(), Some("did you mean `app::handlers`?"));
    }

    #[test]
    fn edit_distance_counts_single_character_edits() {
        assert_eq!(super::edit_distance("app::databse", "app::database"), 1);
        assert_eq!(super::edit_distance("", "abc"), 3);
        assert_eq!(super::edit_distance("kitten", "sitting"), 3);
    }
}
