//! SSOT006 competing-ssot.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::{Context, Pass, RuleCode, RuleInfo, quote_list};
use crate::diagnostic::Severity;
use crate::diagnostic::Finding;
use crate::ids::FileId;
use crate::semantic::{ModPath, Model, Site, SiteKind, evidence_in};

mod programs;
use programs::{Program, programs};

pub const RULE: RuleInfo = RuleInfo {
    code: RuleCode::Ssot006,
    name: "competing-ssot",
    label: "another module builds it here",
    severity: Severity::Error,
    importance: 2,
    pass: Pass::Check(run),
    summary: "more than one module constructs or holds the same resource within a program (one finding per inferred resource, listing its programs, at a site outside the presumed SSOT)",
    fix: None,
    doc: r#"
## What it does
For a resource kind with no SSOT module configured, finds every module that constructs a
pool/client of that kind or holds one in a `static`. A module and its descendants are one
owner (`backend::redis::pool` belongs to `backend::redis`; a crate root owns only
itself). A module that holds none and whose construction only makes a connection (not a
pool) for another module's pool belongs to that module: a connection callback or connector
that the function building the pool names, directly or through a function of the
callback's own file (`new_with_config(url, tls::pool_config())`; `make_manager_config(..)`
whose `custom_setup` boxes `establish_connection`). Modules compete only inside one
*program*: a binary target and the workspace crates it links through `[dependencies]` (not
`[dev-dependencies]`; a build script links its `[build-dependencies]`); a library that no
binary links is a program of its own. Test, bench and example targets are test code and
form no program (unless `[allow] tests = false`). So separate `[[bin]]` packages, a
workspace of independent examples, or a client library that a server only tests against
do not compete.

Owners of one kind whose types name different database backends (`SqlitePool` and
`PgPool`, `rusqlite` and `tokio-postgres`) are different databases and do not compete;
a construction that names no backend (`AnyPool`, sea-orm) competes with each.

A library's fallback, a pool built only when the caller hands in none
(`if let Some(p) = self.pool { p } else { PgPool::connect(..) }`,
`match pool { Some(p) => p, None => .. }`, `pool.unwrap_or_else(|| ..)`), owns nothing.
A global that caches, on first use (`get_or_init`/`get_or_try_init`, never set by hand),
a project type that holds a pool counts with the module that declares the type.

A dedicated connection makes no module compete; it is listed where other modules compete
anyway: a migration runner's (bound to a local in a function that runs migrations on it,
`conn.run_pending_migrations(..)`, `MIGRATOR.run(&pool)`, and returns no pool) and a
notification listener's (a single connection, not a pool, built in a function that sends
`LISTEN channel` on it: PostgreSQL keeps notifications to the session, which a pooled
connection is not).

Owners of one kind and backend are *resources*, inferred from identity evidence: the
locations and environment variables the functions that build or hold them name as string
literals (a URL `"sqlite://jobs.db"`, a database file `"sync.db"` or `"{id}.sqlite"`, a
variable like `"JOBS_DATABASE_URL"` or `"REDIS_URL"`). Two owners whose evidence is known and
shares nothing are different databases and do not compete. Without such literals, an owner
whose constructing function reads its connection settings from a parameter of a settings
type of the workspace (`fn connect(cfg: &QueueConfig)` reading `cfg.uri`, `match config {
..}`) is configured from that type: owners configured from types of which they share none
are configured separately (a job queue's section and the application's database section of
the settings) and do not compete. Owners with neither cannot be told
apart and compete, except SQLite files: modules that each open one at a path computed
elsewhere (per-file stores, another program's database an importer reads) compete only when
one of them holds its SQLite pool in a global of its own (the incident's shape) or when
they name the same location.

Each resource with two or more owners in a program gives **one** finding, however many
programs link it: the owners competing in several programs (a shared library's pool and
each worker binary's own client) are merged, and the programs are listed in the message,
not repeated as findings. It sits at a site outside the *presumed SSOT* (in a program's own
target crate when one is there, else the first by path), lists every owner, with the other
owners as related locations (JSON `related`). The presumed SSOT is chosen from evidence, in
this order: the owner in the crate that the other owners' crates depend on, the one the
most programs link, the one that holds the resource in a global (of a pack type, or of a
type it also builds), the one whose path is named like `db`/`database`/`pool`/`storage`/
`store`/`repo`, the one with the most constructions; the name breaks only a tie between
equals, and the help says which evidence decided. `ssot-lint init` writes these choices
into a config.

## Why is this bad?
Two modules that each build the database pool are two initialization patterns. Which one
a request meets depends on start-up order; the incident behind this tool was exactly that.

## Example
```text
src/admin.rs:3:5: SSOT006 sql pools/clients are built or held in 3 modules: `app::admin`, `app::storage`, `app::worker`
  help: designate one as the SSOT in ssot-lint.toml, e.g. `[ssot] sql = ["app::storage"]` (it builds the most (2)), ...
```
Designate one module as the SSOT in `ssot-lint.toml`:
```toml
[ssot]
modules = ["app::storage"]
```
Then every other construction is an SSOT001 finding with a fix.

## Fix safety
No fix: choosing the SSOT is a decision.

With an SSOT configured, it reports the competing *patterns* the way the incident
analysis needed them, once per kind, when some other module still initializes the resource
by hand (a type with a method that builds a pool and stores it in its own field, see
SSOT005): the SSOT, each legacy module, each module that builds or holds its own, and each
`[deprecated]` shim that re-exports the SSOT, with a related location per module. The SSOT
is said to initialize on first use only when it really does (`get_or_init`,
`get_or_try_init`, a `LazyLock`/`Lazy`/`lazy_static!` global in it).

## Known limitations
Databases of one kind are told apart by the backend their types name and by identity
evidence written as string literals in the function that builds them, or by the settings
type its parameter has; two databases of one backend whose locations come from elsewhere
(a global, one settings value passed as a string) still compete (declare them as
`[[resource]]`s), and one database reached from two different settings types (the whole
`Settings` in one module, its `DatabaseSettings` in another) is taken for two, and two SQLite modules opening one file from locations
computed differently are not seen to compete.
Two sibling modules that build one pool together compete unless the connection setup is
named as above (a callback passed through a field or a global is not seen). A fallback is recognized only in the three shapes above, on a field or
a local (`self.pool`, `pool`), not on a global.
Test code is left out. Programs are known from targets and `[dependencies]` between
workspace crates; a library linked by no binary of the workspace (a plugin loaded at run
time) is a program of its own. Owners come from module paths: two sibling modules that
are really one component still compete. With an SSOT configured and no legacy manager,
stray constructions and globals are SSOT001/SSOT002 findings only. A shim is known from
`[deprecated]`, not detected from its re-exports.
"#,
};

/// Owner module -> its sites.
type Owners<'s> = BTreeMap<ModPath, Vec<&'s Site>>;

/// The module a site counts for: its own, or for a lazy cache of a project holder type
/// (`static STORE: OnceCell<meta::Store>` filled by `get_or_try_init(Store::new)`), the
/// module that declares the type and builds what it caches.
fn owner_key(c: &Model, s: &Site) -> ModPath {
    match s.lazy_cache_of() {
        Some(m) => c.mod_path(m),
        None => s.path.clone(),
    }
}

/// Why a module looks like the SSOT of a kind, strongest evidence first: it holds the
/// resource in a global (of a pack type, or one it also builds: a lazy cache of a type
/// another module builds is no evidence), its path is named like a database module, it
/// builds the most.
fn evidence(c: &Model, sites: &[&Site], key: &ModPath) -> (u8, u8, usize) {
    let built = sites.iter().filter(|s| s.is_construction()).count();
    let holder = sites.iter().any(|s| match &s.kind {
        SiteKind::Holder { holder_type, .. } => {
            built > 0
                || c.packs.holders.contains_key(
                    &holder_type
                        .split("::")
                        .map(str::to_string)
                        .collect::<Vec<_>>(),
                )
        }
        _ => false,
    });
    let named = key
        .segs()
        .iter()
        .any(|seg| seg.split('_').any(|w| SSOT_NAMES.contains(&w)));
    (u8::from(holder), u8::from(named), built)
}

const SSOT_NAMES: &[&str] = &[
    "db",
    "database",
    "pool",
    "storage",
    "store",
    "repo",
    "persistence",
];

fn run(cx: &mut Context) {
    let c = &*cx.model;
    let sites = c.sites.clone();
    let mut out = check(c, &sites);
    out.extend(competing_patterns(c, &sites));
    for f in out {
        cx.report(f);
    }
}

/// Per site (file, offset): the text of its function and the identity evidence in it.
struct Facts {
    enclosing: HashMap<(FileId, u32), (String, BTreeSet<String>)>,
    /// Per site: the name of its function and of each function of its file that names
    /// that one (`make_manager_config` boxing `establish_connection` as a callback).
    callers: HashMap<(FileId, u32), BTreeSet<String>>,
}

impl Facts {
    fn text(&self, s: &Site) -> Option<&str> {
        self.enclosing
            .get(&(s.file, s.span.start))
            .map(|(t, _)| t.as_str())
    }

    fn evidence(&self, s: &Site) -> &BTreeSet<String> {
        static NONE: BTreeSet<String> = BTreeSet::new();
        self.enclosing
            .get(&(s.file, s.span.start))
            .map_or(&NONE, |(_, e)| e)
    }
}

/// Owners found competing for one inferred resource, merged over the programs where they
/// compete.
struct Group<'s> {
    kind: &'s str,
    backend: Option<&'static str>,
    owners: Owners<'s>,
    /// Indexes into the programs.
    programs: BTreeSet<usize>,
}

/// With no SSOT configured: one finding per inferred resource that two owners build or
/// hold, listing the programs in which they compete.
fn check(c: &Model, sites: &[Site]) -> Vec<Finding> {
    // The crates each file belongs to (a file can be in a lib and a bin).
    let mut file_crates: BTreeMap<FileId, BTreeSet<usize>> = BTreeMap::new();
    for (k, cr) in c.g.crates.iter().enumerate() {
        for (file, _, _) in cr.modules.files() {
            file_crates.entry(file).or_default().insert(k);
        }
    }
    let relevant: Vec<&Site> = sites
        .iter()
        .filter(|s| {
            s.owns()
                && !s.allowed
                && !s.is_fallback()
                && s.declared.is_none()
                && c.cfg.ssot_for(&s.resource).is_empty()
        })
        .collect();
    // A dedicated connection (a migration runner's, a listener's) makes no module compete
    // (it is still listed where other modules compete anyway).
    let migrations = &c.migration_connections;
    let (programs, links) = programs(c);
    // Each site's function text (read once per file): identity evidence and connectors.
    let mut texts: HashMap<FileId, std::sync::Arc<str>> = HashMap::new();
    let mut enclosing: HashMap<(FileId, u32), (String, BTreeSet<String>)> = HashMap::new();
    let mut callers: HashMap<(FileId, u32), BTreeSet<String>> = HashMap::new();
    for s in &relevant {
        let text = texts.entry(s.file).or_insert_with(|| c.g.source(s.file));
        let span = c.enclosing_span(s);
        let t = text
            .get(span.start as usize..span.end as usize)
            .unwrap_or_default();
        enclosing.insert((s.file, s.span.start), (t.to_string(), evidence_in(t)));
        if let Some(fi) = s.func {
            let fns = &c.g.files[s.file].summary.fns;
            let name = fns[fi].name.as_str();
            let mut names = BTreeSet::from([name.to_string()]);
            for f in fns.iter().filter(|f| f.name != name) {
                let body = text
                    .get(f.span.start as usize..f.span.end as usize)
                    .unwrap_or_default();
                if names_word(body, name) {
                    names.insert(f.name.clone());
                }
            }
            callers.insert((s.file, s.span.start), names);
        }
    }
    drop(texts);
    let facts = Facts { enclosing, callers };
    let in_program = |s: &Site, p: &Program| {
        file_crates
            .get(&s.file)
            .is_some_and(|ks| ks.iter().any(|k| p.crates.contains(k)))
    };
    let many_programs = programs
        .iter()
        .filter(|p| relevant.iter().any(|s| in_program(s, p)))
        .count()
        > 1;
    let mut groups: Vec<Group> = Vec::new();
    for (pi, prog) in programs.iter().enumerate() {
        // (kind, database backend) -> owner -> sites
        let mut by_kind: BTreeMap<(&str, Option<&'static str>), Owners> = BTreeMap::new();
        let in_prog: Vec<&Site> = relevant
            .iter()
            .copied()
            .filter(|s| in_program(s, prog))
            .collect();
        // Databases of different backends (a SQLite file next to a Postgres pool) do not
        // compete; a site whose backend cannot be told competes with each.
        let mut backends: BTreeMap<&str, BTreeSet<&'static str>> = BTreeMap::new();
        for s in &in_prog {
            if let Some(b) = s.backend() {
                backends.entry(&s.resource).or_default().insert(b);
            }
        }
        for s in &in_prog {
            let known = backends
                .get(s.resource.as_str())
                .cloned()
                .unwrap_or_default();
            let groups: Vec<Option<&'static str>> = if known.len() < 2 {
                vec![None]
            } else {
                match s.backend() {
                    Some(b) => vec![Some(b)],
                    None => known.iter().map(|b| Some(*b)).collect(),
                }
            };
            let owner = owner_of(c, s, &in_prog, &facts);
            for grp in groups {
                by_kind
                    .entry((&s.resource, grp))
                    .or_default()
                    .entry(owner.clone())
                    .or_default()
                    .push(s);
            }
        }
        for ((kind, grp), owners) in by_kind {
            for owners in identities(c, owners, &facts) {
                let competing = owners
                    .values()
                    .filter(|v| {
                        v.iter()
                            .any(|s| !migrations.contains(&(s.file, s.span.start)))
                    })
                    .count();
                if owners.len() < 2 || competing < 2 {
                    continue;
                }
                merge(
                    &mut groups,
                    Group {
                        kind,
                        backend: grp,
                        owners,
                        programs: BTreeSet::from([pi]),
                    },
                );
            }
        }
    }
    let mut out = Vec::new();
    for grp in &groups {
        out.extend(finding(c, grp, &programs, &links, &file_crates, many_programs));
    }
    out
}

/// Adds a group, merged with every group of its kind and backend that shares an owner (a
/// library that every program links, competing with each program's own module, is one
/// resource: one finding).
fn merge<'s>(groups: &mut Vec<Group<'s>>, mut g: Group<'s>) {
    while let Some(i) = groups.iter().position(|o| {
        o.kind == g.kind && o.backend == g.backend && o.owners.keys().any(|k| g.owners.contains_key(k))
    }) {
        let o = groups.remove(i);
        g.programs.extend(o.programs);
        for (k, v) in o.owners {
            let e = g.owners.entry(k).or_default();
            for s in v {
                if !e
                    .iter()
                    .any(|x| x.file == s.file && x.span.start == s.span.start)
                {
                    e.push(s);
                }
            }
        }
    }
    for v in g.owners.values_mut() {
        v.sort_by_key(|s| (s.file, s.span.start));
    }
    groups.push(g);
}

/// The owner a site counts for: the highest ancestor (not a crate root) that has sites of
/// its kind. A module that holds none and whose construction only makes a connection (no
/// pool) for another owner's pool belongs to that owner: a connection callback or
/// connector, named in the other owner's function that builds the pool, directly or
/// through a function of its own file (`new_with_config(url, tls::pool_config())`,
/// `make_manager_config(..)` whose `custom_setup` boxes `establish_connection`).
fn owner_of(c: &Model, s: &Site, in_prog: &[&Site], facts: &Facts) -> ModPath {
    let me = owner_key(c, s);
    let owner = in_prog
        .iter()
        .filter(|o| o.resource == s.resource)
        .map(|o| owner_key(c, o))
        .filter(|k| !k.is_crate_root() && me.is_below(k))
        .min_by_key(|k| k.segs().len())
        .unwrap_or_else(|| me.clone());
    if !s.is_construction() || s.what().to_ascii_lowercase().contains("pool") {
        return owner;
    }
    let holds = in_prog
        .iter()
        .any(|o| o.is_holder() && o.resource == s.resource && o.path.is_within(&owner));
    if holds {
        return owner;
    }
    // A top-level module the crate root's function names by path (`tls::pool_config()`).
    let named = (owner.segs().len() == 2).then(|| format!("{}::", owner.segs()[1]));
    let callers = facts.callers.get(&(s.file, s.span.start));
    let supplier = in_prog.iter().find(|o| {
        o.resource == s.resource
            && o.is_construction()
            && o.module.krate == s.module.krate
            && !o.path.is_within(&owner)
            && o.what().to_ascii_lowercase().contains("pool")
            && facts.text(o).is_some_and(|t| {
                named.as_ref().is_some_and(|n| {
                    o.path == ModPath::from(&owner.segs()[..1]) && names_word(t, n)
                }) || callers.is_some_and(|cs| cs.iter().any(|f| names_word(t, f)))
            })
    });
    match supplier {
        Some(o) => {
            let k = owner_key(c, o);
            in_prog
                .iter()
                .filter(|x| x.resource == s.resource)
                .map(|x| owner_key(c, x))
                .filter(|x| !x.is_crate_root() && k.is_below(x))
                .min_by_key(|x| x.segs().len())
                .unwrap_or(k)
        }
        None => owner,
    }
}

/// Whether `word` occurs in `t` not preceded by an identifier character (and, when it ends
/// with one, not followed by one).
fn names_word(t: &str, word: &str) -> bool {
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    t.match_indices(word).any(|(i, _)| {
        !t[..i].chars().next_back().is_some_and(ident)
            && (!word.ends_with(ident) || !t[i + word.len()..].chars().next().is_some_and(ident))
    })
}

/// Splits the owners of one kind and backend into the resources they are: owners whose
/// identity evidence (the locations and environment variables their code names) is known
/// and disjoint are different databases; else owners each configured from settings types
/// (`Model::settings`) of which they share none; owners with neither cannot be told apart
/// and compete, except SQLite files: those compete only with an owner that keeps its pool in a
/// global of its own (the incident's shape) or that names the same location.
fn identities<'s>(c: &Model, owners: Owners<'s>, facts: &Facts) -> Vec<Owners<'s>> {
    let keys: Vec<ModPath> = owners.keys().cloned().collect();
    let settings: Vec<BTreeSet<&String>> = keys
        .iter()
        .map(|k| {
            owners[k]
                .iter()
                .filter_map(|s| c.settings.get(&(s.file, s.span.start)))
                .flatten()
                .collect()
        })
        .collect();
    let evidence: Vec<BTreeSet<String>> = keys
        .iter()
        .map(|k| {
            owners[k]
                .iter()
                .flat_map(|s| facts.evidence(s).iter().cloned())
                .collect()
        })
        .collect();
    let sqlite = owners
        .values()
        .flatten()
        .filter(|s| s.lazy_cache_of().is_none())
        .all(|s| s.backend() == Some("sqlite"));
    let global: Vec<bool> = keys
        .iter()
        .map(|k| {
            owners[k]
                .iter()
                .any(|s| s.is_holder() && s.lazy_cache_of().is_none())
        })
        .collect();
    let same = |i: usize, j: usize| {
        if !evidence[i].is_empty() && !evidence[j].is_empty() {
            !evidence[i].is_disjoint(&evidence[j])
        } else if !settings[i].is_empty() && !settings[j].is_empty() {
            !settings[i].is_disjoint(&settings[j])
        } else if sqlite {
            global[i] || global[j]
        } else {
            true
        }
    };
    // Connected components of `same`.
    let mut comp: Vec<usize> = (0..keys.len()).collect();
    fn find(comp: &mut [usize], i: usize) -> usize {
        let mut r = i;
        while comp[r] != r {
            r = comp[r];
        }
        comp[i] = r;
        r
    }
    for i in 0..keys.len() {
        for j in i + 1..keys.len() {
            if same(i, j) {
                let (a, b) = (find(&mut comp, i), find(&mut comp, j));
                comp[a.max(b)] = a.min(b);
            }
        }
    }
    let mut out: BTreeMap<usize, Owners<'s>> = BTreeMap::new();
    let mut owners = owners;
    for (i, k) in keys.iter().enumerate() {
        let r = find(&mut comp, i);
        if let Some(v) = owners.remove(k) {
            out.entry(r).or_default().insert(k.clone(), v);
        }
    }
    out.into_values().collect()
}

/// Why an owner looks like the SSOT of a resource, strongest evidence first: the other
/// owners' crates depend on its crate, the most programs link it, it holds the resource
/// in a global, its path is named like a database module, it builds the most.
type Score = (usize, usize, u8, u8, usize);

fn score(
    c: &Model,
    grp: &Group,
    key: &ModPath,
    programs: &[Program],
    links: &[BTreeSet<usize>],
    file_crates: &BTreeMap<FileId, BTreeSet<usize>>,
) -> Score {
    let crates_of = |k: &ModPath| -> BTreeSet<usize> {
        grp.owners[k].iter().map(|s| s.module.krate.index()).collect()
    };
    let mine = crates_of(key);
    let depended = grp
        .owners
        .keys()
        .filter(|o| *o != key)
        .filter(|o| {
            crates_of(o).iter().any(|&k| {
                !mine.contains(&k) && mine.iter().any(|m| links[k].contains(m))
            })
        })
        .count();
    let linked = grp
        .programs
        .iter()
        .filter(|&&p| {
            grp.owners[key].iter().any(|s| {
                file_crates
                    .get(&s.file)
                    .is_some_and(|ks| ks.iter().any(|k| programs[p].crates.contains(k)))
            })
        })
        .count();
    let sites: Vec<&Site> = grp.owners[key].to_vec();
    let (holder, named, built) = evidence(c, &sites, key);
    (depended, linked, holder, named, built)
}

/// The finding of one group: at a site outside the presumed SSOT, every owner listed, the
/// others as related locations.
fn finding(
    c: &Model,
    grp: &Group,
    programs: &[Program],
    links: &[BTreeSet<usize>],
    file_crates: &BTreeMap<FileId, BTreeSet<usize>>,
    many_programs: bool,
) -> Option<Finding> {
    let kind = grp.kind;
    let names: Vec<ModPath> = grp.owners.keys().cloned().collect();
    let label = match grp.backend {
        Some(b) => format!("{kind} ({b})"),
        None => kind.to_string(),
    };
    let mut scored: Vec<(Score, &ModPath)> = names
        .iter()
        .map(|k| (score(c, grp, k, programs, links, file_crates), k))
        .collect();
    // Best first; by name between equals.
    scored.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    let (best, ssot) = scored[0];
    let next = scored.get(1).map(|s| s.0).unwrap_or_default();
    let why = if best.0 > next.0 {
        "the other owners' crates depend on its crate".to_string()
    } else if best.1 > next.1 {
        format!(
            "the most programs link it ({} of {})",
            best.1,
            grp.programs.len()
        )
    } else if best.2 > next.2 {
        "it holds the pool/client in a global".to_string()
    } else if best.3 > next.3 {
        "its name says so".to_string()
    } else if best.4 > next.4 {
        format!("it builds the most ({})", best.4)
    } else {
        "it comes first by name; nothing else sets it apart".to_string()
    };
    let roots: BTreeSet<usize> = grp.programs.iter().map(|&p| programs[p].root).collect();
    // The finding sits at a site outside the presumed SSOT, in a program's own target
    // crate when one is there (the code of the program that competes).
    let at = grp
        .owners
        .iter()
        .filter(|(k, _)| *k != ssot)
        .flat_map(|(_, v)| v.iter())
        .min_by_key(|s| {
            let own = file_crates
                .get(&s.file)
                .is_some_and(|ks| ks.iter().any(|k| roots.contains(k)));
            (!own, c.g.files[s.file].rel.clone(), s.span.start)
        })?;
    let list = quote_list(&names);
    let scope = if !many_programs {
        String::new()
    } else if grp.programs.len() == 1 {
        let p = grp.programs.iter().next().copied().unwrap_or_default();
        format!(" of program `{}`", programs[p].name)
    } else {
        let p: Vec<&str> = grp
            .programs
            .iter()
            .map(|&p| programs[p].name.as_str())
            .collect();
        format!(" of {} programs (`{}`)", p.len(), p.join("`, `"))
    };
    let message = format!(
        "{label} pools/clients are built or held in {} modules{scope}: {list}",
        names.len()
    );
    let help = format!(
        "designate one as the SSOT in ssot-lint.toml, e.g. `[ssot] {kind} = [\"{ssot}\"]` ({why}), and build the {kind} pool/client only there"
    );
    let mut f = Finding::new(
        RULE.code,
        RULE.name,
        at.file,
        at.span.start..at.span.start,
        message,
    )
    .with_help(help);
    f.presumed = Some(crate::diagnostic::Presumed {
        kind: kind.to_string(),
        backend: grp.backend.map(str::to_string),
        ssot: ssot.to_string(),
        why,
        owners: names.iter().map(ModPath::to_string).collect(),
    });
    for (m, v) in &grp.owners {
        if v.iter()
            .any(|s| s.file == at.file && s.span.start == at.span.start)
        {
            continue;
        }
        let Some(first) = v
            .iter()
            .min_by_key(|s| (c.g.files[s.file].rel.clone(), s.span.start))
        else {
            continue;
        };
        let tag = if m == ssot { " (presumed SSOT)" } else { "" };
        f.related_spans.push((
            first.file,
            first.span.clone(),
            format!("`{m}` {}s here{tag}", verb(first)),
        ));
    }
    Some(f)
}

/// What a module other than the SSOT does with a resource kind, in SSOT006's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    BuildsOwn,
    HoldsOwn,
    /// A legacy manager: a method that builds the resource and stores it by hand.
    InitializedByHand,
}

impl Role {
    fn label(self) -> &'static str {
        match self {
            Role::BuildsOwn => "builds its own",
            Role::HoldsOwn => "holds its own",
            Role::InitializedByHand => "legacy: initialized by hand",
        }
    }
}

/// With an SSOT configured: the full picture when another module still *holds* the
/// resource or initializes it by hand (a legacy manager): one grouped finding naming the
/// SSOT, every legacy module, every shim (a `[deprecated]` module that re-exports) and every
/// module that builds its own.
fn competing_patterns(c: &Model, sites: &[Site]) -> Vec<Finding> {
    // (kind, module) of initializing methods (a type initialized by hand), a location each.
    let mut init_mods: BTreeMap<(&str, &ModPath), (FileId, u32)> = BTreeMap::new();
    for s in sites
        .iter()
        .filter(|s| matches!(s.kind, SiteKind::Initialization))
    {
        let at = (s.file, s.span.start);
        let e = init_mods.entry((&s.resource, &s.path)).or_insert(at);
        *e = (*e).min(at);
    }
    let mut out = Vec::new();
    let kinds: Vec<String> = c.packs.resources().into_keys().collect();
    for kind in kinds {
        let ssot = c.ssot_names(&kind);
        if c.cfg.ssot_for(&kind).is_empty() || ssot.is_empty() {
            continue;
        }
        let ssot_text: Vec<String> = ssot.iter().map(ToString::to_string).collect();
        // module -> (role, first location)
        let mut roles: BTreeMap<&ModPath, (Role, FileId, u32)> = BTreeMap::new();
        for s in sites.iter().filter(|s| {
            s.owns()
                && s.resource == kind
                && !s.in_ssot
                && !s.allowed
                && s.declared.is_none()
                && !c.ssot_cache(s)
                && !s.is_fallback()
        }) {
            let role = if s.is_holder() {
                Role::HoldsOwn
            } else {
                Role::BuildsOwn
            };
            let e = roles.entry(&s.path).or_insert((role, s.file, s.span.start));
            if role == Role::HoldsOwn {
                e.0 = role;
            }
        }
        for (&(k2, m), &(fid, at)) in &init_mods {
            if k2 != kind || ssot.iter().any(|t| m.is_within(t)) {
                continue;
            }
            let e = roles
                .entry(m)
                .or_insert((Role::InitializedByHand, fid, at));
            e.0 = Role::InitializedByHand;
        }
        let Some(&(_, lfile, lat)) = roles.values().find(|r| r.0 == Role::InitializedByHand)
        else {
            continue;
        };
        let shims: Vec<String> = c
            .cfg
            .deprecated
            .iter()
            .filter(|(_, to)| {
                ssot_text
                    .iter()
                    .any(|t| to.segs.join("::").starts_with(t.as_str()))
            })
            .map(|(from, _)| from.text.clone())
            .collect();
        let lazy = if ssot_is_lazy(c, &kind) {
            " (initializes on first use)"
        } else {
            ""
        };
        let mut parts = vec![format!("SSOT `{}`{lazy}", ssot_text.join("`, `"))];
        for (m, (role, _, _)) in &roles {
            parts.push(format!("`{m}` ({})", role.label()));
        }
        for sh in &shims {
            parts.push(format!("`{sh}` (shim: deprecated, re-exports the SSOT)"));
        }
        let message = format!(
            "{} competing {kind} initialization patterns: {}",
            parts.len(),
            parts.join("; ")
        );
        let mut f =
            Finding::new(RULE.code, RULE.name, lfile, lat..lat, message).with_help(format!(
                "keep one: move every use to the SSOT `{}` and delete the legacy and shim modules",
                ssot_text[0]
            ));
        for (m, (role, fid, at)) in &roles {
            f.related_spans
                .push((*fid, *at..*at, format!("`{m}`: {}", role.label())));
        }
        out.push(f);
    }
    out
}

/// Whether the SSOT of a kind really initializes on first use: a `get_or_init` /
/// `get_or_try_init` call, or a `LazyLock`/`Lazy`/`lazy_static!` global, in its modules.
fn ssot_is_lazy(c: &Model, kind: &str) -> bool {
    let Some(mods) = c.ssot.get(kind) else {
        return false;
    };
    mods.iter().any(|&m| {
        let root = c.g.module(m).path;
        c.g.crates[m.krate].modules.iter().any(|node| {
            if !node.path.starts_with(root) {
                return false;
            }
            let s = &c.g.files[node.file].summary;
            s.chains.iter().any(|ch| {
                ch.module == node.local
                    && ch
                        .methods
                        .iter()
                        .any(|x| matches!(x.name.as_str(), "get_or_init" | "get_or_try_init"))
            }) || s.statics.iter().any(|st| {
                st.module == node.local
                    && (st.in_macro && !st.is_mut
                        || st.ty.all.iter().any(|p| {
                            p.segs.last().is_some_and(|l| {
                                matches!(l.as_str(), "LazyLock" | "Lazy" | "LazyCell")
                            })
                        }))
            })
        })
    })
}

fn verb(s: &Site) -> &'static str {
    if s.is_holder() { "hold" } else { "build" }
}
