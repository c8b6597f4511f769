//! Resources a site opens beyond its kind: the database backend an SSOT builds (a site of
//! another backend is another database), a migration runner's one-off connection, the
//! locations a construction names (`sqlite://app.db`).

use std::collections::{BTreeSet, HashMap};

use super::{Model, Site};
use crate::resolve::Scope;

impl<'g> Model<'g> {
    /// The backends the SSOT of each resource kind builds or holds, when it has sites there
    /// (one pass over the sites; [`Self::other_database`] looks a kind up).
    pub(super) fn ssot_backends(sites: &[Site]) -> HashMap<String, Option<BTreeSet<&'static str>>> {
        let mut out: HashMap<String, Option<BTreeSet<&'static str>>> = HashMap::new();
        for s in sites
            .iter()
            .filter(|s| s.owns() && s.in_ssot && !s.allowed && s.declared.is_none())
        {
            let e = out
                .entry(s.resource.clone())
                .or_insert_with(|| Some(BTreeSet::new()));
            match s.backend() {
                Some(b) => {
                    if let Some(set) = e {
                        set.insert(b);
                    }
                }
                None => *e = None,
            }
        }
        out
    }

    /// A site of the default resource of its kind, outside its SSOT, whose type names a
    /// database backend the SSOT neither builds nor holds (a SQLite file read next to an
    /// SSOT of Postgres pools): perhaps a database of its own, which its message says how
    /// to declare. Returns the SSOT's backends.
    pub fn other_database(&self, s: &Site) -> Option<Vec<&'static str>> {
        if s.in_ssot || s.declared.is_some() || self.cfg.ssot_for(&s.resource).is_empty() {
            return None;
        }
        let b = s.backend()?;
        let owned = self.ssot_backends.get(&s.resource)?.as_ref()?;
        (!owned.contains(b)).then(|| owned.iter().copied().collect())
    }

    /// A dedicated connection that no pool can stand for: a migration runner's one-off
    /// connection ([`Self::migration_connection`]) or a listener's (a construction in a
    /// function that sends PostgreSQL's `LISTEN` on its connection: a session that must
    /// stay open for notifications, which a pooled connection is not).
    pub fn dedicated_connection(&mut self, s: &Site) -> bool {
        self.listen_connection(s) || self.migration_connection(s)
    }

    /// A construction of a single connection (not a pool) in a function whose code sends
    /// `LISTEN channel` (a string literal, a format string too): a notification listener.
    pub fn listen_connection(&self, s: &Site) -> bool {
        let Some(fi) = s.func else { return false };
        // A pool is never a listener's session.
        if !s.is_construction() || s.what().to_ascii_lowercase().contains("pool") {
            return false;
        }
        let f = &self.g.files[s.file].summary.fns[fi];
        let text = self.g.source(s.file);
        let Some(body) = text.get(f.span.start as usize..f.span.end as usize) else {
            return false;
        };
        body.split('"').skip(1).step_by(2).any(|l| {
            let w = l.trim_start();
            w.len() > 7
                && w.get(..7)
                    .is_some_and(|h| h.eq_ignore_ascii_case("listen "))
        })
    }

    /// A construction bound to a local (`let conn = &mut PgConnection::establish(url)?;`) in a
    /// function that runs migrations on it (`conn.run_pending_migrations(..)`,
    /// `MIGRATOR.run(&pool)`, `sqlx::migrate!().run(&pool)`) and returns no pool: the
    /// one-off connection of a migration runner.
    pub fn migration_connection(&mut self, s: &Site) -> bool {
        let Some(fi) = s.func else { return false };
        if !s.is_construction() {
            return false;
        }
        let summary = &self.g.files[s.file].summary;
        let f = &summary.fns[fi];
        let text = self.g.source(s.file);
        let (fs, start) = (f.span.start as usize, s.full_span().start as usize);
        let Some(before) = text.get(fs..start) else {
            return false;
        };
        // `let [mut] name [: T] = [&[mut]]` right before the construction.
        let Some(at) = before.rfind("let ") else {
            return false;
        };
        let stmt = before[at + 4..].trim_end();
        let stmt = stmt
            .strip_suffix("&mut")
            .or_else(|| stmt.strip_suffix('&'))
            .unwrap_or(stmt)
            .trim_end();
        let Some(lhs) = stmt.strip_suffix('=') else {
            return false;
        };
        let lhs = lhs.split(':').next().unwrap_or_default().trim();
        let name = lhs.strip_prefix("mut ").unwrap_or(lhs).trim();
        if name.is_empty() || !name.chars().all(|ch| ch.is_alphanumeric() || ch == '_') {
            return false;
        }
        let word = |t: &str| {
            t.match_indices(name).any(|(i, _)| {
                let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
                !t[..i].chars().next_back().is_some_and(ident)
                    && !t[i + name.len()..].chars().next().is_some_and(ident)
            })
        };
        let migrates = summary.chains.iter().any(|ch| {
            ch.func == Some(fi)
                && ch.span.start >= s.full_span().end
                && ch
                    .methods
                    .iter()
                    .any(|m| m.name == "run" || m.name.contains("migration"))
                && text
                    .get(ch.span.start as usize..ch.span.end as usize)
                    .is_some_and(|t| t.to_ascii_lowercase().contains("migrat") && word(t))
        });
        if !migrates {
            return false;
        }
        // A function that hands the connection out (or a constructor, `-> Self`) is a
        // factory, not a migration runner.
        let ret = f.ret.clone();
        if ret
            .as_ref()
            .is_some_and(|r| r.all.iter().any(|p| p.segs.iter().any(|x| x == "Self")))
        {
            return false;
        }
        let scope = Scope {
            module: s.module,
            func: None,
            fns: None,
        };
        ret.is_none_or(|r| self.holder_in(scope, &r).is_none())
    }

    /// The string literals a construction's expression names (`"sqlite://app.db"`,
    /// `env::var("DATABASE_URL")`): where it opens, when the code says it there.
    pub fn literal_locations(&self, s: &Site) -> BTreeSet<String> {
        let text = self.g.source(s.file);
        let Some(t) = text.get(s.full_span().start as usize..s.full_span().end as usize) else {
            return BTreeSet::new();
        };
        t.split('"')
            .skip(1)
            .step_by(2)
            // A location has no spaces and is no format string (an error message is none).
            .filter(|l| !l.is_empty() && !l.contains(char::is_whitespace) && !l.contains('{'))
            .map(str::to_string)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::with_model;

    /// A site of another backend than the SSOT's is another database; a construction names
    /// its locations; a migration runner's connection is one.
    #[test]
    fn other_databases_locations_and_migration_connections() {
        let fixture = r#"
//- /ssot-lint.toml
[ssot]
modules = ["app::db"]
//- /src/lib.rs
pub mod db;
pub mod local;
//- /src/db.rs
pub async fn pool(url: &str) -> sqlx::PgPool {
    sqlx::PgPool::connect(url).await.unwrap()
}
//- /src/local.rs
pub async fn cache() {
    let _ = sqlx::SqlitePool::connect("sqlite://cache.db").await;
}
pub async fn migrate() {
    let mut conn = sqlx::PgConnection::connect("postgres://x").await.unwrap();
    sqlx::migrate!().run(&mut conn).await.unwrap();
}
"#;
        with_model(fixture, |m| {
            let sites = m.sites.clone();
            let sqlite = sites
                .iter()
                .find(|s| s.what().contains("SqlitePool"))
                .expect("the sqlite site");
            assert_eq!(m.other_database(sqlite), Some(vec!["postgres"]));
            assert_eq!(
                m.literal_locations(sqlite).into_iter().collect::<Vec<_>>(),
                ["sqlite://cache.db"]
            );
            let pg = sites
                .iter()
                .find(|s| s.what().contains("PgPool"))
                .expect("the SSOT's site");
            assert_eq!(m.other_database(pg), None, "in the SSOT");
            let conn = sites
                .iter()
                .find(|s| s.what().contains("PgConnection"))
                .expect("the migration connection");
            assert_eq!(m.other_database(conn), None, "the same backend");
            assert!(m.migration_connection(conn));
            assert!(!m.migration_connection(sqlite));
        });
    }

    /// A single connection on which its function sends `LISTEN` is a listener's; one that
    /// only queries, or a pool, is not.
    #[test]
    fn a_listen_connection_is_dedicated() {
        let fixture = r#"
//- /src/lib.rs
pub mod events;
//- /src/events.rs
pub async fn listen(url: &str, channel: &str) {
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::query(&format!("LISTEN {channel}")).execute(&mut conn).await.unwrap();
}
pub async fn query(url: &str) {
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::query("SELECT 1").execute(&mut conn).await.unwrap();
}
pub async fn pool(url: &str) -> sqlx::PgPool {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    sqlx::query("LISTEN events").execute(&pool).await.unwrap();
    pool
}
"#;
        with_model(fixture, |m| {
            let sites = m.sites.clone();
            let mut got: Vec<(String, bool)> = sites
                .iter()
                .filter(|s| s.is_construction())
                .map(|s| {
                    let f = s
                        .func
                        .map(|f| m.g.files[s.file].summary.fns[f].name.clone());
                    (f.unwrap_or_default(), m.listen_connection(s))
                })
                .collect();
            got.sort();
            assert_eq!(
                got,
                [
                    ("listen".to_string(), true),
                    ("pool".to_string(), false),
                    ("query".to_string(), false)
                ]
            );
        });
    }
}
