//! Which resource a site belongs to. A resource is one database, cache or broker: the
//! default resource of its kind (`[ssot] modules`, `[ssot] sql`), or one the config
//! declares (`[[resource]]`, with its own SSOT modules, optional backend and identity
//! evidence). A site belongs to the declared resource whose SSOT it is in; else, in the
//! SSOT of its kind, to the default resource; else to the declared resource whose
//! evidence (`connects`) it names; else to the default resource of its kind.

use std::collections::BTreeSet;

use super::{ModPath, Model, Site};
use crate::ids::ModId;

/// What a site outside the SSOT of its resource is reported with.
pub struct Outside<'s> {
    pub site: &'s Site,
    /// The SSOT modules of its resource, to name in messages.
    pub names: Vec<ModPath>,
    /// Their text, joined (`a` or `b`).
    pub ssot_text: String,
    /// What messages add after the SSOT: ` of resource `job-queue``, or for a site of
    /// another backend than the default resource's SSOT builds, the resource and both
    /// backends. Empty for a site of the default resource of the SSOT's backend.
    pub of_resource: String,
    /// For a site of another backend: how to declare it as a resource of its own.
    pub declare_help: Option<String>,
    /// Whether the kind's accessor can replace it: a site of the default resource of the
    /// SSOT's own backend (a declared resource or another database has another accessor).
    pub accessor_fits: bool,
}

/// Whether a literal a construction names (`sqlite://jobs.db?mode=rwc`,
/// `JOBS_DATABASE_URL`) is the evidence `c` a `[[resource]]` gives: the same text, or one
/// of its parts between `/`, `:`, `?`, `=` and `&`.
pub fn names_evidence(literal: &str, c: &str) -> bool {
    literal == c
        || literal
            .split(['/', ':', '?', '=', '&'])
            .any(|part| part == c)
}

/// Whether a string literal says where a resource lives: a URL (`sqlite://app.db`,
/// `redis://cache/`), a database file (`jobs.db`, `{id}.sqlite`), or an environment variable
/// that names one (`JOBS_DATABASE_URL`, `REDIS_URL`).
pub fn identity_literal(l: &str) -> bool {
    if l.is_empty() || l.len() > 200 || l.contains(char::is_whitespace) {
        return false;
    }
    let lower = l.to_ascii_lowercase();
    let file = [".db", ".sqlite", ".sqlite3", ".db3", ".duckdb", ".redb"]
        .iter()
        .any(|x| {
            lower
                .split(['?', '#'])
                .next()
                .is_some_and(|p| p.ends_with(x))
        });
    if file {
        return true;
    }
    if l.contains('{') {
        return false;
    }
    if l.contains("://") {
        return true;
    }
    let env = l.starts_with(|ch: char| ch.is_ascii_uppercase())
        && l.contains('_')
        && l.chars()
            .all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit() || ch == '_');
    env && [
        "URL", "URI", "DSN", "DATABASE", "DB", "REDIS", "HOST", "ADDR", "PATH", "FILE",
    ]
    .iter()
    .any(|w| l.split('_').any(|part| part == *w))
}

/// Identity evidence in a text: the locations and environment variables it names as
/// string literals (see [`identity_literal`]).
pub fn evidence_in(text: &str) -> BTreeSet<String> {
    text.split('"')
        .skip(1)
        .step_by(2)
        .filter(|l| identity_literal(l))
        .map(str::to_string)
        .collect()
}

/// Whether `word` occurs in `text` as a whole identifier at least `n` times.
fn word_count_at_least(text: &str, word: &str, n: usize) -> bool {
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    text.match_indices(word)
        .filter(|(i, _)| {
            !text[..*i].chars().next_back().is_some_and(ident)
                && !text[i + word.len()..].chars().next().is_some_and(ident)
        })
        .nth(n.saturating_sub(1))
        .is_some()
}

impl<'g> Model<'g> {
    /// The settings a construction's function is configured from: each parameter whose
    /// type is a struct or enum of the workspace (not a pool, client or holder type) and
    /// which the function reads (`cfg.uri`, `match config { .. }`), by the type's path
    /// (`app::config::QueueConfig`); for a function that takes none, those of the functions
    /// of its module that call it. Two owners configured from different settings types are
    /// set up separately (a job queue's `queue.uri` and the application's `database.uri`):
    /// SSOT006 takes them for different databases.
    pub(super) fn settings_sources(&mut self, s: &Site) -> BTreeSet<String> {
        let Some(fi) = s.func else {
            return BTreeSet::new();
        };
        if !s.is_construction() {
            return BTreeSet::new();
        }
        let out = self.settings_params(s.module, s.file, fi);
        if !out.is_empty() {
            return out;
        }
        // A function handed only a location (`fn connect(url: &str)`) is configured from
        // what the functions of its module that call it read (`connect(&qcfg.uri)` in
        // `create_provider(qcfg: &RedisQueueConfig)`).
        let g = self.g;
        let fns = &g.files[s.file].summary.fns;
        let text = g.source(s.file);
        let name = format!("{}(", fns[fi].name);
        let mut out = BTreeSet::new();
        for (ci, f) in fns.iter().enumerate() {
            if ci == fi || f.is_test || f.module != fns[fi].module {
                continue;
            }
            let body = text
                .get(f.span.start as usize..f.span.end as usize)
                .unwrap_or_default();
            if word_count_at_least(body, &name[..name.len() - 1], 1) && body.contains(&name) {
                out.extend(self.settings_params(s.module, s.file, ci));
            }
        }
        out
    }

    /// The settings types function `fi` of `file` (in module `m`) takes and reads.
    fn settings_params(
        &mut self,
        m: ModId,
        file: crate::ids::FileId,
        fi: usize,
    ) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let g = self.g;
        let summary = &g.files[file].summary;
        let f = &summary.fns[fi];
        let text = g.source(file);
        let Some(body) = text.get(f.span.start as usize..f.span.end as usize) else {
            return out;
        };
        let scope = crate::resolve::Scope {
            module: m,
            func: Some(f),
            fns: Some(&summary.fns),
        };
        for (name, ty) in &f.params {
            let Some(head) = &ty.head else { continue };
            // Declared once in the signature, read at least once in the body.
            if name == "self" || !word_count_at_least(body, name, 2) {
                continue;
            }
            if self.holder_in(scope, ty).is_some() {
                continue;
            }
            // A type in a file the prefilter left unparsed is found once that file is
            // parsed: such files go to `needs_parse` (the engine builds the graph again).
            let was = std::mem::replace(&mut self.res.recording, true);
            let found = self.res.resolve_path(scope, head);
            self.res.recording = was;
            if !was {
                self.needs_parse.extend(self.res.skeleton_misses.drain(..));
            }
            if let Some(crate::resolve::Res::Item(im, i)) = found {
                let node = g.module(im);
                let item = &g.files[node.file].summary.modules[node.local].items[i];
                if item.adt.is_some() {
                    out.insert(format!("{}::{}", self.mod_path(im), item.name));
                }
            }
        }
        out
    }

    /// The span of the function a site is in (the site's own outside one): where its
    /// identity evidence is read ([`evidence_in`]).
    pub fn enclosing_span(&self, s: &Site) -> crate::summary::Span {
        match s.func {
            Some(f) => self.g.files[s.file].summary.fns[f].span.clone(),
            None => s.full_span().clone(),
        }
    }

    /// The SSOT modules of each declared resource, resolved in this unit (their existence is
    /// checked with the config's other module paths).
    pub(super) fn resolve_declared(&mut self) {
        self.declared_ssot = self
            .cfg
            .resources
            .iter()
            .map(|r| {
                r.ssot
                    .iter()
                    .flat_map(|p| self.res.config_module(&p.segs))
                    .collect()
            })
            .collect();
    }

    /// Whether module `m` is in the SSOT of declared resource `r` or below one.
    pub fn in_declared(&self, r: usize, m: ModId) -> bool {
        let target = &self.g.crates[m.krate];
        self.declared_ssot.get(r).is_some_and(|list| {
            list.iter().any(|&sm| {
                self.g.crates[sm.krate].name == target.name
                    && self.g.module(m).path.starts_with(self.g.module(sm).path)
            })
        })
    }

    /// The declared resource a site belongs to (see the module documentation), if any.
    fn declared_of(&self, s: &Site) -> Option<usize> {
        let fits = |r: &crate::config::Resource| {
            r.kind == s.resource
                && match (&r.backend, s.backend()) {
                    (Some(b), Some(sb)) => b == sb,
                    _ => true,
                }
        };
        let list = &self.cfg.resources;
        if let Some(i) = (0..list.len()).find(|&i| fits(&list[i]) && self.in_declared(i, s.module))
        {
            return Some(i);
        }
        if s.in_ssot || list.iter().all(|r| r.connects.is_empty()) {
            return None;
        }
        let literals = self.literal_locations(s);
        (0..list.len()).find(|&i| {
            fits(&list[i])
                && list[i]
                    .connects
                    .iter()
                    .any(|c| literals.iter().any(|l| names_evidence(l, c)))
        })
    }

    /// Gives each site its resource: a declared one's sites are in its SSOT or not.
    pub(super) fn assign_resources(&self, sites: &mut [Site]) {
        if self.cfg.resources.is_empty() {
            return;
        }
        for s in sites.iter_mut() {
            if let Some(r) = self.declared_of(s) {
                s.declared = Some(r);
                s.in_ssot = self.in_declared(r, s.module);
            }
        }
        // A backend is identity too: a site outside every SSOT, of a backend its default
        // resource's SSOT does not build, belongs to the one declared resource of its kind
        // and backend that gives no `connects` evidence (what `ssot-lint init` declares for
        // a second backend).
        let defaults = Self::ssot_backends(sites);
        let list = &self.cfg.resources;
        for s in sites
            .iter_mut()
            .filter(|s| s.declared.is_none() && !s.in_ssot)
        {
            let Some(b) = s.backend() else { continue };
            let Some(Some(owned)) = defaults.get(&s.resource) else {
                continue;
            };
            if owned.contains(b) {
                continue;
            }
            let mut of_backend = (0..list.len()).filter(|&i| {
                list[i].kind == s.resource
                    && list[i].backend.as_deref() == Some(b)
                    && list[i].connects.is_empty()
            });
            if let (Some(r), None) = (of_backend.next(), of_backend.next()) {
                s.declared = Some(r);
            }
        }
    }

    /// Whether the resource of a site has an SSOT in the config.
    pub fn has_ssot(&self, s: &Site) -> bool {
        s.declared.is_some() || !self.cfg.ssot_for(&s.resource).is_empty()
    }

    /// The name of a site's resource: the declared one's, or its kind.
    pub fn resource_name<'s>(&'s self, s: &'s Site) -> &'s str {
        match s.declared {
            Some(r) => &self.cfg.resources[r].name,
            None => &s.resource,
        }
    }

    /// The SSOT modules of a site's resource to name in messages (see
    /// [`Self::ssot_names`]).
    pub fn resource_ssot_names(&self, s: &Site) -> Vec<ModPath> {
        let Some(r) = s.declared else {
            return self.ssot_names(&s.resource);
        };
        let mut v: Vec<ModPath> = self.declared_ssot[r]
            .iter()
            .map(|&m| self.mod_path(m))
            .collect();
        v.dedup();
        if v.is_empty() {
            v = self.cfg.resources[r]
                .ssot
                .iter()
                .take(3)
                .map(|p| ModPath::from(p.segs.as_slice()))
                .collect();
        }
        v
    }

    /// Sites of `kind` outside the SSOT of their resource (when one is configured), each
    /// with what its message names. Every one is reported, whatever its backend: a site of
    /// another database than the SSOT's is told to declare it.
    pub fn outside_ssot<'s>(&self, sites: &'s [Site], kind: fn(&Site) -> bool) -> Vec<Outside<'s>> {
        // The identity evidence of each kind's default SSOT, read once.
        let mut ssot_evidence: std::collections::HashMap<&str, BTreeSet<String>> =
            Default::default();
        let mut evidence = |s: &Site| {
            let text = self.g.source(s.file);
            let span = self.enclosing_span(s);
            evidence_in(
                text.get(span.start as usize..span.end as usize)
                    .unwrap_or_default(),
            )
        };
        let mut out = Vec::new();
        for s in sites.iter().filter(|s| {
            kind(s)
                && !s.in_ssot
                && !s.allowed
                && self.has_ssot(s)
                && !self.ssot_cache(s)
                && !s.is_fallback()
        }) {
            let names = self.resource_ssot_names(s);
            let ssot_text = names
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("` or `");
            let declare = |what: &str| {
                format!(
                    "if it is a database of its own, declare it in the config: `[[resource]] name = \"..\" kind = \"{}\"{what} ssot = [\"{}\"]`",
                    s.resource, s.path
                )
            };
            let (of_resource, declare_help) = match (s.declared, self.other_database(s)) {
                (Some(r), _) => (
                    format!(" of resource `{}`", self.cfg.resources[r].name),
                    None,
                ),
                (None, Some(owned)) => {
                    let b = s.backend().unwrap_or_default();
                    (
                        format!(
                            " of resource `{}` (that SSOT builds {}, this is {b})",
                            s.resource,
                            owned.join(" and ")
                        ),
                        Some(declare(&format!(" backend = \"{b}\""))),
                    )
                }
                (None, None) => {
                    let theirs = ssot_evidence.entry(s.resource.as_str()).or_insert_with(|| {
                        sites
                            .iter()
                            .filter(|o| {
                                o.owns()
                                    && o.in_ssot
                                    && o.declared.is_none()
                                    && o.resource == s.resource
                            })
                            .flat_map(&mut evidence)
                            .collect()
                    });
                    let mine = evidence(s);
                    if !mine.is_empty() && !theirs.is_empty() && mine.is_disjoint(theirs) {
                        let list = |v: &BTreeSet<String>| {
                            v.iter()
                                .map(|l| format!("`{l}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        };
                        (
                            format!(
                                " of resource `{}` (that SSOT names {}, this names {})",
                                s.resource,
                                list(theirs),
                                list(&mine)
                            ),
                            Some(declare(&format!(
                                " connects = [{}]",
                                mine.iter()
                                    .map(|l| format!("\"{l}\""))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ))),
                        )
                    } else if !self.cfg.resources.is_empty() {
                        (format!(" of resource `{}`", s.resource), None)
                    } else {
                        (String::new(), None)
                    }
                }
            };
            out.push(Outside {
                accessor_fits: s.declared.is_none() && declare_help.is_none(),
                site: s,
                names,
                ssot_text,
                of_resource,
                declare_help,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::{identity_literal, names_evidence};
    use crate::testing::with_model;

    #[test]
    fn identity_literals_are_locations_and_their_variables() {
        for yes in [
            "sqlite://jobs.db",
            "jobs.db",
            "{id}.sqlite",
            "REDIS_URL",
            "JOBS_DATABASE_URL",
            "redis://127.0.0.1/",
        ] {
            assert!(identity_literal(yes), "{yes}");
        }
        for no in [
            "",
            "failed",
            "SELECT 1",
            "{}",
            "MAX_CONNECTIONS",
            "url",
            "pool size",
        ] {
            assert!(!identity_literal(no), "{no}");
        }
    }

    #[test]
    fn evidence_is_a_whole_part_of_a_literal() {
        assert!(names_evidence("sqlite://jobs.db?mode=rwc", "jobs.db"));
        assert!(names_evidence("JOBS_DATABASE_URL", "JOBS_DATABASE_URL"));
        assert!(!names_evidence("sqlite://myjobs.db", "jobs.db"));
        assert!(!names_evidence("DATABASE_URL", "JOBS_DATABASE_URL"));
    }

    /// A site in a declared resource's SSOT belongs to it; one that names its evidence
    /// elsewhere belongs to it and is outside its SSOT; one of another backend than the
    /// default SSOT's is outside the default resource's SSOT (no longer exempt).
    #[test]
    fn sites_belong_to_resources_by_ssot_then_evidence() {
        let fixture = r#"
//- /ssot-lint.toml
[ssot]
modules = ["app::db"]
[[resource]]
name = "job-queue"
kind = "sql"
backend = "sqlite"
ssot = ["app::jobs"]
connects = ["jobs.db"]
[[resource]]
name = "billing"
kind = "sql"
backend = "mysql"
ssot = ["app::ledger"]
//- /src/lib.rs
pub mod db;
pub mod jobs;
pub mod worker;
pub mod import;
pub mod mysql;
pub mod ledger;
//- /src/ledger.rs
pub fn nothing() {}
//- /src/db.rs
pub async fn pool(url: &str) -> sqlx::PgPool {
    sqlx::PgPool::connect(url).await.unwrap()
}
//- /src/jobs.rs
pub async fn queue() -> sqlx::SqlitePool {
    sqlx::SqlitePool::connect("sqlite://jobs.db").await.unwrap()
}
//- /src/worker.rs
pub async fn own_queue() -> sqlx::SqlitePool {
    sqlx::SqlitePool::connect("sqlite://jobs.db?mode=rwc").await.unwrap()
}
//- /src/import.rs
pub async fn old() -> sqlx::SqlitePool {
    sqlx::SqlitePool::connect("sqlite://old.db").await.unwrap()
}
//- /src/mysql.rs
pub async fn billing(url: &str) -> sqlx::MySqlPool {
    sqlx::MySqlPool::connect(url).await.unwrap()
}
"#;
        with_model(fixture, |m| {
            let sites = m.sites.clone();
            let at = |module: &str| {
                sites
                    .iter()
                    .find(|s| s.path.to_string() == module)
                    .expect(module)
            };
            let (db, jobs, worker, import) = (
                at("app::db"),
                at("app::jobs"),
                at("app::worker"),
                at("app::import"),
            );
            assert_eq!((db.declared, db.in_ssot), (None, true));
            assert_eq!((jobs.declared, jobs.in_ssot), (Some(0), true));
            assert_eq!((worker.declared, worker.in_ssot), (Some(0), false));
            assert_eq!((import.declared, import.in_ssot), (None, false));
            let mysql = at("app::mysql");
            assert_eq!((mysql.declared, mysql.in_ssot), (Some(1), false));
            assert_eq!(m.resource_name(worker), "job-queue");
            let outside = m.outside_ssot(&sites, crate::semantic::Site::is_construction);
            let got: std::collections::BTreeMap<String, (String, String, bool, bool)> = outside
                .iter()
                .map(|o| {
                    (
                        o.site.path.to_string(),
                        (
                            o.ssot_text.clone(),
                            o.of_resource.clone(),
                            o.declare_help.is_some(),
                            o.accessor_fits,
                        ),
                    )
                })
                .collect();
            let want = |ssot: &str, of: &str, declare: bool| {
                (ssot.to_string(), of.to_string(), declare, false)
            };
            assert_eq!(
                got,
                std::collections::BTreeMap::from([
                    (
                        "app::import".to_string(),
                        want(
                            "app::db",
                            " of resource `sql` (that SSOT builds postgres, this is sqlite)",
                            true
                        )
                    ),
                    (
                        "app::mysql".to_string(),
                        want("app::ledger", " of resource `billing`", false)
                    ),
                    (
                        "app::worker".to_string(),
                        want("app::jobs", " of resource `job-queue`", false)
                    ),
                ])
            );
        });
    }

    /// The settings a construction is configured from: the workspace types of the
    /// parameters its function reads, by path (a pool parameter and an unread one are
    /// none), or of its callers' in its module when it takes none.
    #[test]
    fn settings_types_a_construction_is_configured_from() {
        let fixture = r#"
//- /src/lib.rs
pub mod config;
pub mod db;
pub mod jobs;
pub mod prepare;
pub mod queue;
pub mod settings;
//- /src/settings/mod.rs
pub mod cache;
//- /src/settings/cache.rs
pub struct Configuration {
    pub url: String,
}
//- /src/prepare.rs
use crate::settings::cache;
pub async fn cache(config: &cache::Configuration) -> sqlx::PgPool {
    sqlx::PgPool::connect(&config.url).await.unwrap()
}
//- /src/jobs.rs
pub async fn create(q: &crate::config::QueueConfig) -> sqlx::PgPool {
    connect(&q.uri).await
}
async fn connect(url: &str) -> sqlx::PgPool {
    sqlx::PgPool::connect(url).await.unwrap()
}
//- /src/config.rs
pub struct Database {
    pub uri: String,
}
pub struct QueueConfig {
    pub uri: String,
}
//- /src/db.rs
pub async fn connect(config: &crate::config::Database, _unused: &crate::config::QueueConfig) -> sqlx::PgPool {
    sqlx::PgPool::connect(&config.uri).await.unwrap()
}
//- /src/queue.rs
use crate::config::QueueConfig;
pub async fn connect(cfg: &QueueConfig, pool: &sqlx::PgPool) -> sqlx::PgPool {
    let _ = pool;
    sqlx::PgPool::connect(&cfg.uri).await.unwrap()
}
"#;
        with_model(fixture, |m| {
            let of = |module: &str| -> Vec<String> {
                let s = m
                    .sites
                    .iter()
                    .find(|s| s.path.to_string() == module)
                    .expect("a construction there");
                m.settings
                    .get(&(s.file, s.span.start))
                    .map(|set| set.iter().cloned().collect())
                    .unwrap_or_default()
            };
            assert_eq!(of("app::db"), ["app::config::Database"]);
            assert_eq!(of("app::queue"), ["app::config::QueueConfig"]);
            // Handed only a location: configured from what its caller reads.
            assert_eq!(of("app::jobs"), ["app::config::QueueConfig"]);
            // The qualifier `cache` is the imported module, not the function `cache`.
            assert_eq!(of("app::prepare"), ["app::settings::cache::Configuration"]);
        });
    }
}
