//! The semantic model: what the rules read, computed once per unit between resolution and
//! the rules. It holds the resolved SSOT modules, the project's holder types, the
//! [`Site`]s (constructions, holders, initializations by hand, each with its typed
//! [`ModPath`], SSOT membership and test-code status), the [`InitIndex`] and which modules
//! are test or allowed code. Rules read it through [`crate::rules::Context`]; none of them
//! computes a fact another rule needs.

mod path;
mod site;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::rc::Rc;

use crate::config::Config;
use crate::crates::CrateGraph;
use crate::packs::{PackIndex, path_text};
use crate::resolve::{Res, Resolver, Scope};
use crate::summary::{
    ArgRef, Chain, ChainRoot, FileSummary, FnSummary, LetBinding, RawPath, RawType, Span,
};
use crate::workspace::TargetKind;

pub use path::ModPath;
pub use site::{Site, SiteKind};

/// One file of one crate, as a rule visits it.
#[derive(Clone, Copy)]
pub struct FileView<'g> {
    pub krate: usize,
    pub file: usize,
    /// The module node of the file's root module in the crate (the file's modules are
    /// numbered from there, in the order of its summary).
    pub base: usize,
    pub summary: &'g FileSummary,
}

impl<'g> FileView<'g> {
    /// The module node of the file's module `local` (an index into its summary's modules).
    pub fn module(&self, local: usize) -> usize {
        self.base + local
    }

    /// The enclosing function, by index into the file's `fns`.
    pub fn func(&self, f: Option<usize>) -> Option<&'g FnSummary> {
        f.map(|f| &self.summary.fns[f])
    }

    /// Where names are resolved: the file's module `local`, inside function `func`.
    pub fn scope(&self, local: usize, func: Option<usize>) -> Scope<'g> {
        Scope {
            krate: self.krate,
            module: self.module(local),
            func: self.func(func),
            fns: Some(&self.summary.fns),
        }
    }
}

/// What a generic pool's manager says about its resource kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ManagerKind {
    /// A pool of this pack's kind.
    Pack(usize),
    /// A project manager that wraps no pack client: not a resource.
    NotResource,
    /// Cannot be told (a generic parameter, an unknown crate): the pack's default kind.
    Unknown,
}

/// Either a type or a builder in progress, for typing receivers.
#[derive(Debug, Clone, PartialEq)]
enum ValueType {
    Type(Vec<String>),
    Builder {
        pack: usize,
        root: Vec<String>,
        terminals: Vec<String>,
        returns: Option<Vec<String>>,
        span: Span,
    },
}

#[derive(Debug, Clone)]
pub struct Construction {
    pub pack: usize,
    pub what: String,
    /// Root span for the location (the original root for a split chain).
    pub span: Span,
    pub returns: Option<Vec<String>>,
    /// A connection opened by a method on a value of a pack type (not a construction of
    /// the pool/client itself).
    pub by_method: bool,
    /// The index of the terminal method in the chain (`build` of a builder).
    pub terminal: Option<usize>,
    /// A generic pool's manager built by a pack constructor in the same file (its start):
    /// one resource with the pool, reported at the pool.
    pub manager_site: Option<u32>,
}

pub struct Model<'g> {
    pub g: &'g CrateGraph<'g>,
    pub packs: &'g PackIndex,
    pub cfg: &'g Config,
    pub res: Resolver<'g>,
    /// Resolved SSOT modules per resource kind.
    pub ssot: BTreeMap<String, Vec<(usize, usize)>>,
    /// Project types that hold a pool: (file, adt index) -> pack.
    holder_adts: HashMap<(usize, usize), (usize, String)>,
    /// Config module paths that exist in this unit (for a shared config's check).
    pub found_config_paths: Vec<String>,
    /// Constructions, holders and initializations by hand, computed once by [`Model::build`]
    /// (sorted by file and offset; the initializations last, in crate, file, function order).
    pub sites: Rc<Vec<Site>>,
    /// The initializations of the graph, computed once by [`Model::build`].
    pub inits: Rc<InitIndex>,
    /// Per resource kind, the backends its SSOT's sites build or hold (see
    /// [`Model::other_database`]), computed once from [`Self::sites`]: `None` when a site
    /// there names none. A kind whose SSOT has no sites is absent.
    ssot_backends: HashMap<String, Option<BTreeSet<&'static str>>>,
    /// Constructions (file, offset) that are a migration runner's one-off connection (see
    /// [`Model::migration_connection`]), among those of kinds with no SSOT configured.
    pub migration_connections: BTreeSet<(usize, u32)>,
    /// Files the prefilter left unparsed in which a generic pool's manager was looked for in
    /// vain: the engine parses them and builds the model again (see `classify`).
    pub needs_parse: BTreeSet<usize>,
    /// What `-v` explains (test code decisions, skipped files).
    pub notes: Vec<String>,
    /// Packages that are test code, with the reason (`-v` prints it).
    pub test_packages: BTreeMap<usize, String>,
    /// Per crate, per file of the crate ([`crate::crates::Modules::files`] order): the
    /// file is an `[allow]` path or, unless `[allow] tests = false`, test code as a whole
    /// (test targets, packages and folders). A crate costs this per file, not per module.
    file_allowed: Vec<Vec<bool>>,
}

impl<'g> Model<'g> {
    fn new(
        g: &'g CrateGraph,
        packs: &'g PackIndex,
        cfg: &'g Config,
        shared_config: bool,
    ) -> Result<Self, crate::error::Error> {
        let mut res = Resolver::new(g, packs);
        let mut ssot = BTreeMap::new();
        for (resource, _) in packs.resources() {
            let mut v = Vec::new();
            for p in cfg.ssot_for(&resource) {
                v.extend(res.config_module(&p.segs));
            }
            ssot.insert(resource, v);
        }
        // Every module the config names must exist. A config shared by many independent
        // crates (a scan of a folder) names crates of other units too: there the engine
        // checks that each path exists in some unit (`found_config_paths`).
        let mut found_config_paths = Vec::new();
        if !g.crates.is_empty() {
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
        }
        let mut c = Model {
            found_config_paths,
            g,
            packs,
            cfg,
            res,
            ssot,
            holder_adts: HashMap::new(),
            sites: Default::default(),
            inits: Default::default(),
            ssot_backends: HashMap::new(),
            migration_connections: BTreeSet::new(),
            needs_parse: BTreeSet::new(),
            notes: Vec::new(),
            test_packages: test_packages(g),
            file_allowed: Vec::new(),
        };
        c.file_allowed = (0..g.crates.len())
            .map(|k| {
                (g.crates[k].modules.files())
                    .map(|(file, _, _)| c.file_allowed_at(k, file))
                    .collect()
            })
            .collect();
        for (p, why) in c.test_packages.iter().filter(|_| cfg.allow_tests) {
            c.notes.push(format!(
                "package `{}` is treated as test code: {why}",
                g.packages[*p].name
            ));
        }
        c.find_holder_adts();
        Ok(c)
    }

    /// Every file of every crate, crate by crate, in file order.
    pub fn files(&self) -> Vec<FileView<'g>> {
        let mut out = Vec::new();
        for k in 0..self.g.crates.len() {
            for (file, base) in self.file_base(k) {
                out.push(FileView {
                    krate: k,
                    file,
                    base,
                    summary: &self.g.files[file].summary,
                });
            }
        }
        out
    }

    /// The files of crate `k` in file order, each with the index of its root module node
    /// (a file's modules are numbered from there, in the order of its summary).
    pub fn file_base(&self, k: usize) -> Vec<(usize, usize)> {
        let mut v: Vec<(usize, usize)> = self.g.crates[k]
            .modules
            .files()
            .map(|(file, base, _)| (file, base))
            .collect();
        v.sort_unstable();
        v
    }

    /// Methods that initialize a resource by hand (a `self` method the init index lists),
    /// outside test and allowed code, in crate, file and function order.
    fn hand_initializers(&self) -> Vec<Site> {
        let mut out = Vec::new();
        for k in 0..self.g.crates.len() {
            for (fid, base) in self.file_base(k) {
                let s = &self.g.files[fid].summary;
                for (fi, f) in s.fns.iter().enumerate() {
                    if f.self_type.is_none() {
                        continue;
                    }
                    let Some(kinds) = self.inits.fns.get(&(fid, fi)) else {
                        continue;
                    };
                    let m = base + f.module;
                    if self.allowed(k, m, f.is_test) {
                        continue;
                    }
                    for kind in kinds {
                        out.push(Site {
                            kind: SiteKind::Initialization,
                            in_ssot: self.in_ssot(kind, k, m),
                            allowed: false,
                            resource: kind.clone(),
                            file: fid,
                            span: f.span.start..f.span.start,
                            krate: k,
                            module: m,
                            path: self.mod_path(k, m),
                            func: Some(fi),
                        });
                    }
                }
            }
        }
        out
    }

    /// Project types that hold a pool or client: a field of a pack's holder type (through
    /// `Option`/`Arc`/`Box`/cells/locks/enums, whatever wraps it), or a newtype (a single
    /// field) of such a project type. A type that reaches a pool only through a field of
    /// another project type (an application context) is not a holder.
    fn find_holder_adts(&mut self) {
        let mut adts: Vec<(usize, usize, usize, usize)> = Vec::new(); // (crate, module node, file, adt)
        for k in 0..self.g.crates.len() {
            for (file, base, len) in self.g.crates[k].modules.files() {
                // In module node order, each module's in file order.
                let mut local: Vec<(usize, usize)> = (self.g.files[file].summary.adts.iter())
                    .enumerate()
                    .filter(|(_, a)| a.module < len)
                    .map(|(ai, a)| (a.module, ai))
                    .collect();
                local.sort_unstable();
                adts.extend(local.into_iter().map(|(m, ai)| (k, base + m, file, ai)));
            }
        }
        let mut resolved: Vec<Vec<Res>> = Vec::with_capacity(adts.len());
        for &(k, mi, f, ai) in &adts {
            let s = &self.g.files[f].summary;
            let scope = Scope {
                krate: k,
                module: mi,
                func: None,
                fns: None,
            };
            let mut v = Vec::new();
            for (_, t) in &s.adts[ai].fields {
                v.extend(self.res.resolve_type_paths(scope, t));
            }
            resolved.push(v);
        }
        // Direct holders first: a field of a pack holder type. Twice, so that a generic
        // pool of a project manager (itself a direct holder) finds its manager's kind.
        for _ in 0..2 {
            for (i, &(_, _, f, ai)) in adts.iter().enumerate() {
                if self.holder_adts.contains_key(&(f, ai)) {
                    continue;
                }
                let pack_paths: Vec<Res> = resolved[i]
                    .iter()
                    .filter(|r| match r {
                        Res::Ext(p) => self.packs.holders.contains_key(p),
                        _ => false,
                    })
                    .cloned()
                    .collect();
                if pack_paths.is_empty() {
                    continue;
                }
                if let Some(h) = self.holder_among(&resolved[i]) {
                    self.holder_adts.insert((f, ai), h);
                }
            }
        }
        // Newtypes of holders, transitively (bounded by the number of types): a single-field
        // struct, or an enum with a single-payload variant (`MongoDb(MongoDb)`), the way
        // `Option<Holder>` is one.
        let mut single: Vec<Vec<Vec<Res>>> = Vec::with_capacity(adts.len());
        for &(k, mi, f, ai) in &adts {
            let fields = &self.g.files[f].summary.adts[ai].fields;
            let scope = Scope {
                krate: k,
                module: mi,
                func: None,
                fns: None,
            };
            let variant = |n: &str| n.split_once('.').map(|(v, _)| v.to_string());
            let mut v = Vec::new();
            for (n, t) in fields {
                let alone = match variant(n) {
                    Some(var) => {
                        fields
                            .iter()
                            .filter(|(m, _)| variant(m).as_deref() == Some(var.as_str()))
                            .count()
                            == 1
                    }
                    None => fields.len() == 1,
                };
                if alone {
                    v.push(self.res.resolve_type_paths(scope, t));
                }
            }
            single.push(v);
        }
        loop {
            let mut changed = false;
            for (i, &(_, _, f, ai)) in adts.iter().enumerate() {
                if self.holder_adts.contains_key(&(f, ai)) {
                    continue;
                }
                if let Some(h) = single[i].iter().flatten().find_map(|r| self.holder_of(r)) {
                    self.holder_adts.insert((f, ai), h);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
    }

    /// The pack and holder type path if type `t`, written in `scope`, holds a pool or client.
    pub fn holder_in(
        &mut self,
        scope: Scope,
        t: &crate::summary::RawType,
    ) -> Option<(usize, String)> {
        let rs = self.res.resolve_type_paths(scope, t);
        self.holder_among(&rs)
    }

    /// The pack and display path if `r` is a holder type (a pack type or a project holder).
    pub fn holder_of(&self, r: &Res) -> Option<(usize, String)> {
        match r {
            Res::Ext(p) => self.packs.holders.get(p).map(|&pk| (pk, path_text(p))),
            Res::Item(k, m, i) => {
                let node = self.g.crates[*k].modules.get(*m);
                let item = &self.g.files[node.file].summary.modules[node.local].items[*i];
                let adt = item.adt?;
                let (pk, _) = self.holder_adts.get(&(node.file, adt))?;
                let mut path = vec![self.g.crates[*k].name.clone()];
                path.extend(node.path.iter().cloned());
                path.push(item.name.clone());
                Some((*pk, path_text(&path)))
            }
            _ => None,
        }
    }

    /// The path of module node `m` of crate `k`, crate name first.
    pub fn mod_path(&self, k: usize, m: usize) -> ModPath {
        let mut p = vec![self.g.crates[k].name.clone()];
        p.extend(self.g.crates[k].modules.get(m).path.iter().cloned());
        ModPath::new(p)
    }

    /// Sites of `kind` outside the SSOT of their resource (when one is configured), with the
    /// SSOT modules to name and their text for messages (`a` or `b`).
    pub fn outside_ssot<'s>(
        &self,
        sites: &'s [Site],
        kind: fn(&Site) -> bool,
    ) -> Vec<(&'s Site, Vec<ModPath>, String)> {
        sites
            .iter()
            .filter(|s| {
                kind(s)
                    && !s.in_ssot
                    && !s.allowed
                    && !self.cfg.ssot_for(&s.resource).is_empty()
                    && self.other_database(s).is_none()
                    && !self.ssot_cache(s)
                    && !s.is_fallback()
            })
            .map(|s| {
                let names = self.ssot_names(&s.resource);
                let text = names
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("` or `");
                (s, names, text)
            })
            .collect()
    }

    /// The backends the SSOT of each resource kind builds or holds, when it has sites there
    /// (one pass over the sites; [`Self::other_database`] looks a kind up).
    fn ssot_backends(sites: &[Site]) -> HashMap<String, Option<BTreeSet<&'static str>>> {
        let mut out: HashMap<String, Option<BTreeSet<&'static str>>> = HashMap::new();
        for s in sites.iter().filter(|s| s.owns() && s.in_ssot && !s.allowed) {
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

    /// A site outside the SSOT of its kind whose type names a database backend the SSOT
    /// neither builds nor holds (a SQLite file read next to an SSOT of Postgres pools): a
    /// different database, which that SSOT does not own. Returns the SSOT's backends.
    pub fn other_database(&self, s: &Site) -> Option<Vec<&'static str>> {
        if s.in_ssot || self.cfg.ssot_for(&s.resource).is_empty() {
            return None;
        }
        let b = s.backend()?;
        let owned = self.ssot_backends.get(&s.resource)?.as_ref()?;
        (!owned.contains(b)).then(|| owned.iter().copied().collect())
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
            krate: s.krate,
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

    /// A lazy cache (see [`Site::lazy_cache_of`]) of a type the SSOT of its kind declares.
    pub fn ssot_cache(&self, s: &Site) -> bool {
        s.lazy_cache_of()
            .is_some_and(|(k, m)| self.in_ssot(&s.resource, k, m))
    }

    /// `-v` notes for the sites of `kind` left out as [`Self::other_database`].
    pub fn note_other_databases(&mut self, sites: &[Site], kind: fn(&Site) -> bool) {
        for s in sites.iter().filter(|s| kind(s) && !s.allowed) {
            let Some(owned) = self.other_database(s) else {
                continue;
            };
            let file = &self.g.files[s.file];
            let line = self.g.line_of(s.file, s.span.start);
            self.notes.push(format!(
                "{}:{line}: `{}` {} a {} database; the {} SSOT `{}` builds only {}: a different database, not reported (name its module in [ssot] to give it an owner)",
                file.rel,
                s.what(),
                if s.is_holder() { "holds" } else { "opens" },
                s.backend().unwrap_or_default(),
                s.resource,
                self.ssot_names(&s.resource)
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("` / `"),
                owned.join(" and "),
            ));
        }
    }

    /// The SSOT modules of a resource kind to name in messages: those of this unit, or the
    /// configured ones (at most three) when none is here.
    pub fn ssot_names(&self, resource: &str) -> Vec<ModPath> {
        let mut v: Vec<ModPath> = self
            .ssot
            .get(resource)
            .into_iter()
            .flatten()
            .map(|&(k, m)| self.mod_path(k, m))
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
    pub fn ssot_scope(&self, resource: &str, k: usize, m: usize) -> bool {
        self.cfg.ssot_for(resource).is_empty() || self.in_ssot(resource, k, m)
    }

    pub fn in_ssot(&self, resource: &str, k: usize, m: usize) -> bool {
        let Some(list) = self.ssot.get(resource) else {
            return false;
        };
        let target = &self.g.crates[k];
        list.iter().any(|&(sk, sm)| {
            let s = &self.g.crates[sk];
            s.name == target.name
                && target
                    .modules
                    .get(m)
                    .path
                    .starts_with(s.modules.get(sm).path)
        })
    }

    /// Whether code in module node `m` of crate `k` is left to no rule: an `[allow]` path,
    /// or (unless `[allow] tests = false`) test code: `test_flag` (a `#[test]` function, a
    /// `#[cfg(test)]` item), a test module, target or package, a file no target reaches
    /// under `tests/`, `benches/` or `examples/` of its package.
    pub fn allowed(&self, k: usize, m: usize, test_flag: bool) -> bool {
        let node = self.g.crates[k].modules.get(m);
        self.file_allowed[k][node.file_index]
            || ((node.is_test || test_flag) && self.cfg.allow_tests)
    }

    /// [`Self::allowed`] for what every module of `file` in crate `k` shares (its path, the
    /// crate, the package, the folder), computed once per file of a crate.
    fn file_allowed_at(&self, k: usize, file: usize) -> bool {
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
        let pkg = &self.g.packages[c.package];
        self.g.files[file]
            .path
            .strip_prefix(&pkg.dir)
            .ok()
            .and_then(|r| r.components().next())
            .is_some_and(|c| {
                matches!(
                    c.as_os_str().to_str(),
                    Some("tests" | "benches" | "examples")
                )
            })
    }

    /// Every construction and holder site in the graph, deduplicated, by file and offset.
    fn find_sites(&mut self) -> Vec<Site> {
        let mut out = Vec::new();
        let mut seen: HashSet<(usize, u32)> = HashSet::new();
        let mut consumed: HashSet<(usize, u32)> = HashSet::new();
        for k in 0..self.g.crates.len() {
            for (fid, base) in self.file_base(k) {
                let summary = self.g.files[fid].summary.clone();
                for chain in &summary.chains {
                    let m = base + chain.module;
                    if let Some(c) = self.classify(k, m, &summary, chain) {
                        if !seen.insert((fid, c.span.start)) {
                            continue;
                        }
                        if let Some(ms) = c.manager_site {
                            consumed.insert((fid, ms));
                        }
                        if c.by_method && self.receiver_built_here(k, m, &summary, chain) {
                            // `let p = Pool::new(cfg)?; p.init().await?;` is one resource,
                            // reported at its construction.
                            continue;
                        }
                        let func = chain.func.map(|f| &summary.fns[f]);
                        let resource = self.packs.packs[c.pack].resource.clone();
                        out.push(Site {
                            kind: SiteKind::Construction {
                                pack: c.pack,
                                what: c.what,
                                full_span: chain.span.clone(),
                                in_macro: chain.in_macro,
                                by_method: c.by_method,
                                fallback: chain.fallback,
                            },
                            in_ssot: self.in_ssot(&resource, k, m),
                            allowed: self.allowed(
                                k,
                                m,
                                chain.is_test || func.is_some_and(|f| f.is_test),
                            ),
                            resource,
                            file: fid,
                            span: c.span,
                            krate: k,
                            module: m,
                            path: self.mod_path(k, m),
                            func: chain.func,
                        });
                    }
                }
                for st in &summary.statics {
                    let m = base + st.module;
                    let scope = Scope {
                        krate: k,
                        module: m,
                        func: st.func.map(|f| &summary.fns[f]),
                        fns: Some(&summary.fns),
                    };
                    let Some((pack, holder_type)) = self.holder_in(scope, &st.ty) else {
                        continue;
                    };
                    if !seen.insert((fid, st.span.start)) {
                        continue;
                    }
                    let resource = self.packs.packs[pack].resource.clone();
                    // Of a type another module declares (a module's own global is its own).
                    let lazy_cache_of = self
                        .lazy_cache_of(scope, &summary, st)
                        .filter(|&(dk, dm)| self.mod_path(dk, dm) != self.mod_path(k, m));
                    out.push(Site {
                        kind: SiteKind::Holder {
                            name: st.name.clone(),
                            holder_type,
                            lazy_cache_of,
                        },
                        in_ssot: self.in_ssot(&resource, k, m),
                        allowed: self.allowed(k, m, st.is_test),
                        resource,
                        file: fid,
                        span: st.span.clone(),
                        krate: k,
                        module: m,
                        path: self.mod_path(k, m),
                        func: st.func,
                    });
                }
            }
        }
        // A manager built for a generic pool is one resource with the pool.
        out.retain(|s| !s.is_construction() || !consumed.contains(&(s.file, s.span.start)));
        out.sort_by_key(|a| (a.file, a.span.start));
        out
    }

    /// For a `static` of a project holder type that its file fills only lazily
    /// (`get_or_init`/`get_or_try_init`, never `set`/`store`/.. or an assignment): the
    /// module that declares the type.
    fn lazy_cache_of(
        &mut self,
        scope: Scope,
        s: &FileSummary,
        st: &crate::summary::StaticSummary,
    ) -> Option<(usize, usize)> {
        let rs = self.res.resolve_type_paths(scope, &st.ty);
        let decl = rs.iter().find_map(|r| match r {
            Res::Item(k, m, _) if self.holder_of(r).is_some() => Some(Some((*k, *m))),
            Res::Ext(p) if self.packs.holders.contains_key(p) => Some(None),
            _ => None,
        })??;
        let named = |p: &RawPath| p.segs.last() == Some(&st.name);
        let mut lazy = false;
        for ch in &s.chains {
            if !matches!(&ch.root, ChainRoot::Value(p) if named(p)) {
                continue;
            }
            for m in &ch.methods {
                match m.name.as_str() {
                    "get_or_init" | "get_or_try_init" => lazy = true,
                    n if STORE_METHODS.contains(&n) => return None,
                    _ => {}
                }
            }
        }
        let assigned = s
            .fns
            .iter()
            .flat_map(|f| &f.assigns)
            .any(|a| matches!(&a.target, ChainRoot::Value(p) if named(p)));
        (lazy && !assigned).then_some(decl)
    }

    /// How a resolved path is named in messages: through a type alias with cfg-gated twins
    /// (`#[cfg(feature = "sqlite")] type Connection = SqliteConnection;` and a postgres
    /// twin), every variant, not only the first one resolution picked.
    fn display_path(&mut self, scope: Scope, p: &RawPath, path: &[String]) -> String {
        let plain = path_text(path);
        if p.segs.len() < 2 || p.anchor.is_some() {
            return plain;
        }
        let q = &p.segs[..p.segs.len() - 1];
        let Some(Res::Item(k, m, i)) = self.res.resolve_segments(scope, q, p.global, false) else {
            return plain;
        };
        let node = self.g.crates[k].modules.get(m);
        let items = &self.g.files[node.file].summary.modules[node.local].items;
        let alias = &items[i];
        if alias.kind != crate::summary::ItemKind::TypeAlias {
            return plain;
        }
        let twins: Vec<usize> = items
            .iter()
            .enumerate()
            .filter(|(_, it)| {
                it.name == alias.name && it.kind == crate::summary::ItemKind::TypeAlias
            })
            .map(|(j, _)| j)
            .collect();
        if twins.len() < 2 {
            return plain;
        }
        let last = p.segs[p.segs.len() - 1].clone();
        let mut alts: Vec<String> = Vec::new();
        for j in twins {
            if let Some(Res::Ext(mut e)) = self.res.expand(Res::Item(k, m, j)) {
                e.push(last.clone());
                let t = path_text(&e);
                if !alts.contains(&t) {
                    alts.push(t);
                }
            }
        }
        if alts.len() < 2 {
            return plain;
        }
        alts.join("` / `")
    }

    /// Whether a chain's receiver is a local bound to a construction of the same function.
    fn receiver_built_here(&mut self, k: usize, m: usize, s: &FileSummary, chain: &Chain) -> bool {
        let (ChainRoot::Value(p), Some(fi)) = (&chain.root, chain.func) else {
            return false;
        };
        if !p.is_single() {
            return false;
        }
        let Some(Local::Let(l)) = local(&s.fns[fi], &p.segs[0], chain.root_span.start) else {
            return false;
        };
        let Some(init) = l.init else { return false };
        self.classify(k, m, s, &s.chains[init]).is_some()
    }

    fn scope<'s>(&self, k: usize, m: usize, s: &'s FileSummary, chain: &Chain) -> Scope<'s> {
        Scope {
            krate: k,
            module: m,
            func: chain.func.map(|f| &s.fns[f]),
            fns: Some(&s.fns),
        }
    }

    fn is_local(s: &FileSummary, chain_func: Option<usize>, name: &str, offset: u32) -> bool {
        chain_func.is_some_and(|f| local(&s.fns[f], name, offset).is_some())
    }

    pub fn classify(
        &mut self,
        k: usize,
        m: usize,
        s: &FileSummary,
        chain: &Chain,
    ) -> Option<Construction> {
        let mut c = self.classify_depth(k, m, s, chain, 0)?;
        if self.packs.packs[c.pack].generic {
            // A generic pool is of its manager's kind; of no kind when the manager is a
            // project type that wraps no pack client.
            let arg = c
                .terminal
                .and_then(|i| chain.methods[i].first_arg.clone())
                .or_else(|| chain.root_arg.clone());
            if let Some(arg) = arg {
                // A project type or function in a file the prefilter did not parse gives a
                // kind (or none) that only its parse can tell: such files go to `needs_parse`.
                let was = std::mem::replace(&mut self.res.recording, true);
                let (kind, site) =
                    self.arg_manager_kind(k, m, s, chain.func, &arg, chain.root_span.start);
                self.res.recording = was;
                if !was {
                    self.needs_parse.extend(self.res.skeleton_misses.drain(..));
                }
                match kind {
                    ManagerKind::Pack(pk) => {
                        c.pack = pk;
                        c.manager_site = site;
                    }
                    ManagerKind::NotResource => return None,
                    ManagerKind::Unknown => {}
                }
            }
        }
        Some(c)
    }

    /// The kind a generic pool's manager argument gives it.
    fn arg_manager_kind(
        &mut self,
        k: usize,
        m: usize,
        s: &FileSummary,
        func: Option<usize>,
        arg: &ArgRef,
        at: u32,
    ) -> (ManagerKind, Option<u32>) {
        let unknown = (ManagerKind::Unknown, None);
        match arg {
            ArgRef::Local(name) => {
                let Some(fi) = func else { return unknown };
                let f = &s.fns[fi];
                let scope = Scope {
                    krate: k,
                    module: m,
                    func: Some(f),
                    fns: Some(&s.fns),
                };
                match local(f, name, at) {
                    Some(Local::Let(l)) => {
                        if let Some(t) = l.ty.as_ref().and_then(|t| t.head.clone()) {
                            let r = self.res.resolve_path(scope, &t);
                            return (self.manager_kind_of(r.as_ref()), None);
                        }
                        return match l.init {
                            Some(i) => self.chain_manager_kind(k, m, s, &s.chains[i]),
                            None => unknown,
                        };
                    }
                    Some(Local::Param(t)) => {
                        let Some(h) = t.head.clone() else {
                            return unknown;
                        };
                        let r = self.res.resolve_path(scope, &h);
                        return (self.manager_kind_of(r.as_ref()), None);
                    }
                    None => {}
                }
                // A unit struct passed by name: `.build(TsCheckerManager)`.
                let p = RawPath {
                    global: false,
                    anchor: None,
                    segs: vec![name.clone()],
                    span: at..at,
                    seg_ends: vec![at],
                };
                let r = self.res.resolve_path(scope, &p);
                (self.manager_kind_of(r.as_ref()), None)
            }
            ArgRef::Expr(span) => {
                match s.chains.iter().find(|c| &c.span == span && c.func == func) {
                    Some(ch) => self.chain_manager_kind(k, m, s, ch),
                    None => unknown,
                }
            }
        }
    }

    /// The kind of the manager a chain yields: a pack construction (`RedisConnectionManager::new`),
    /// a project function by its return type, `ProjectManager::new(..)` by its type.
    fn chain_manager_kind(
        &mut self,
        k: usize,
        m: usize,
        s: &FileSummary,
        ch: &Chain,
    ) -> (ManagerKind, Option<u32>) {
        if let Some(c) = self.classify_depth(k, m, s, ch, 1)
            && !self.packs.packs[c.pack].generic
        {
            return (ManagerKind::Pack(c.pack), Some(c.span.start));
        }
        let ChainRoot::Call(p) = &ch.root else {
            return (ManagerKind::Unknown, None);
        };
        let scope = self.scope(k, m, s, ch);
        match self.res.resolve_path(scope, p) {
            Some(Res::Item(ik, im, ii)) => {
                let node = self.g.crates[ik].modules.get(im);
                let fs = self.g.files[node.file].summary.clone();
                let Some(fi) = fs.modules[node.local].items[ii].func else {
                    return (ManagerKind::Unknown, None);
                };
                let Some(ret) = fs.fns[fi].ret.as_ref().and_then(|r| r.head.clone()) else {
                    return (ManagerKind::Unknown, None);
                };
                let fscope = Scope {
                    krate: ik,
                    module: im,
                    func: None,
                    fns: None,
                };
                let r = self.res.resolve_path(fscope, &ret);
                (self.manager_kind_of(r.as_ref()), None)
            }
            _ if p.segs.len() >= 2 => {
                let mut q = p.clone();
                q.segs.pop();
                q.seg_ends.pop();
                let r = self.res.resolve_path(scope, &q);
                (self.manager_kind_of(r.as_ref()), None)
            }
            _ => (ManagerKind::Unknown, None),
        }
    }

    /// The kind of a manager type: a pack's `[[manager]]` or client type, or a project type
    /// (a holder of a pack client, or no resource at all).
    fn manager_kind_of(&self, r: Option<&Res>) -> ManagerKind {
        match r {
            Some(Res::Ext(p)) => {
                if let Some(kind) = self.packs.managers.get(p) {
                    return self
                        .pack_of_kind(kind)
                        .map_or(ManagerKind::Unknown, ManagerKind::Pack);
                }
                match self.packs.holders.get(p) {
                    Some(&pk) if !self.packs.packs[pk].generic => ManagerKind::Pack(pk),
                    _ => ManagerKind::Unknown,
                }
            }
            Some(r @ Res::Item(k, m, i)) => {
                let node = self.g.crates[*k].modules.get(*m);
                let item = &self.g.files[node.file].summary.modules[node.local].items[*i];
                if item.adt.is_none() {
                    return ManagerKind::Unknown;
                }
                match self.holder_of(r) {
                    Some((pk, _)) => ManagerKind::Pack(pk),
                    None => ManagerKind::NotResource,
                }
            }
            _ => ManagerKind::Unknown,
        }
    }

    /// A non-generic pack of a resource kind (whose accessor and name stand for the kind).
    fn pack_of_kind(&self, kind: &str) -> Option<usize> {
        let packs = &self.packs.packs;
        (0..packs.len())
            .find(|&i| packs[i].resource == kind && !packs[i].generic)
            .or_else(|| (0..packs.len()).find(|&i| packs[i].resource == kind))
    }

    /// The holder among resolved type paths: the first pack holder type or project holder;
    /// a generic pool takes its manager's kind (the paths after it: its type arguments).
    fn holder_among(&self, rs: &[Res]) -> Option<(usize, String)> {
        for (i, r) in rs.iter().enumerate() {
            let Some((pk, text)) = self.holder_of(r) else {
                continue;
            };
            if !self.packs.packs[pk].generic {
                return Some((pk, text));
            }
            let kind = rs[i + 1..]
                .iter()
                .map(|a| self.manager_kind_of(Some(a)))
                .find(|k| !matches!(k, ManagerKind::Unknown));
            return match kind {
                Some(ManagerKind::Pack(p2)) => Some((p2, text)),
                Some(ManagerKind::NotResource) => None,
                _ => Some((pk, text)),
            };
        }
        None
    }

    fn classify_depth(
        &mut self,
        k: usize,
        m: usize,
        s: &FileSummary,
        chain: &Chain,
        depth: u32,
    ) -> Option<Construction> {
        if depth > 8 {
            return None;
        }
        let scope = self.scope(k, m, s, chain);
        let start = chain.root_span.clone();
        let (ty, methods_from) = match &chain.root {
            ChainRoot::Call(p) => {
                let path = self.res.resolve_ext(scope, p)?;
                if let Some(c) = self.packs.constructors.get(&path) {
                    let (pack, returns) = (c.pack, c.returns.clone());
                    return Some(Construction {
                        pack,
                        by_method: false,
                        what: self.display_path(scope, p, &path),
                        span: start,
                        returns,
                        terminal: None,
                        manager_site: None,
                    });
                }
                if let Some(bs) = self.packs.builders.get(&path) {
                    let b = &bs[0];
                    (
                        ValueType::Builder {
                            pack: b.pack,
                            root: path.clone(),
                            terminals: bs
                                .iter()
                                .flat_map(|b| b.terminals.iter().cloned())
                                .collect(),
                            returns: b.returns.clone(),
                            span: start.clone(),
                        },
                        0,
                    )
                } else {
                    return None;
                }
            }
            ChainRoot::Value(p) => {
                if p.is_single() && Self::is_local(s, chain.func, &p.segs[0], start.start) {
                    (
                        self.local_type(k, m, s, chain.func?, &p.segs[0], start.start, depth)?,
                        0,
                    )
                } else {
                    let path = self.res.resolve_ext(scope, p)?;
                    if chain.methods.is_empty() {
                        let c = self.packs.constructors.get(&path)?;
                        let (pack, returns) = (c.pack, c.returns.clone());
                        return Some(Construction {
                            pack,
                            by_method: false,
                            what: self.display_path(scope, p, &path),
                            span: start,
                            returns,
                            terminal: None,
                            manager_site: None,
                        });
                    }
                    return None;
                }
            }
            ChainRoot::SelfField(f) => (self.self_field_type(k, m, s, chain, f)?, 0),
            ChainRoot::BindingField(b, f) => {
                let func = &s.fns[chain.func?];
                let ((ik, im), fty) = self.binding_field_type(scope, func, b, f, start.start)?;
                let head = fty.head?;
                let fscope = Scope {
                    krate: ik,
                    module: im,
                    func: None,
                    fns: None,
                };
                (ValueType::Type(self.res.resolve_ext(fscope, &head)?), 0)
            }
            ChainRoot::Other => return None,
        };
        for (mi, method) in chain.methods.iter().enumerate().skip(methods_from) {
            match &ty {
                ValueType::Builder {
                    pack,
                    root,
                    terminals,
                    returns,
                    span,
                } => {
                    if terminals.iter().any(|t| t == &method.name) {
                        return Some(Construction {
                            pack: *pack,
                            by_method: false,
                            what: format!("{}().{}()", path_text(root), method.name),
                            span: span.clone(),
                            returns: returns.clone(),
                            terminal: Some(mi),
                            manager_site: None,
                        });
                    }
                    // Setters keep the builder.
                }
                ValueType::Type(t) => {
                    let key = (t.clone(), method.name.clone());
                    if let Some(e) = self.packs.methods.get(&key) {
                        return Some(Construction {
                            pack: e.pack,
                            by_method: true,
                            what: format!("{}::{}", path_text(t), method.name),
                            span: start,
                            returns: e.returns.clone(),
                            terminal: Some(mi),
                            manager_site: None,
                        });
                    }
                    // A type-preserving call we cannot type: stop.
                    return None;
                }
            }
        }
        None
    }

    fn self_field_type(
        &mut self,
        k: usize,
        m: usize,
        s: &FileSummary,
        chain: &Chain,
        field: &str,
    ) -> Option<ValueType> {
        let func = &s.fns[chain.func?];
        let st = func.self_type.clone()?;
        let scope = Scope {
            krate: k,
            module: m,
            func: None,
            fns: None,
        };
        self.field_value_type(scope, &st, field)
    }

    /// The declared type of `field` of the project type `ty` (written in `scope`), with the
    /// scope its declaration is resolved in.
    pub fn field_type(
        &mut self,
        scope: Scope,
        ty: &RawPath,
        field: &str,
    ) -> Option<((usize, usize), crate::summary::RawType)> {
        // A struct, or an enum variant (`Self::Fresh`, `Db::Fresh`: fields `Fresh.0`, ...).
        let (res, field) = match self.res.resolve_path(scope, ty) {
            Some(r @ Res::Item(..)) => (r, field.to_string()),
            _ if ty.segs.len() >= 2 => {
                let mut q = ty.clone();
                let variant = q.segs.pop()?;
                q.seg_ends.pop();
                (
                    self.res.resolve_path(scope, &q)?,
                    format!("{variant}.{field}"),
                )
            }
            _ => return None,
        };
        let Res::Item(ik, im, ii) = res else {
            return None;
        };
        let node = self.g.crates[ik].modules.get(im);
        let fs = &self.g.files[node.file].summary;
        let adt = fs.modules[node.local].items[ii].adt?;
        let (_, fty) = fs.adts[adt].fields.iter().find(|(n, _)| *n == field)?;
        Some(((ik, im), fty.clone()))
    }

    /// The type a method call on `ty.field` dispatches on, when it is a published crate's.
    fn field_value_type(&mut self, scope: Scope, ty: &RawPath, field: &str) -> Option<ValueType> {
        let ((ik, im), fty) = self.field_type(scope, ty, field)?;
        let head = fty.head?;
        let fscope = Scope {
            krate: ik,
            module: im,
            func: None,
            fns: None,
        };
        let t = self.res.resolve_ext(fscope, &head)?;
        Some(ValueType::Type(t))
    }

    /// The declared type of `binding.field`: the binding typed by its declaration or, for a
    /// pattern binding (`Self::Fresh(fresh)`), by the field it binds.
    fn binding_field_type(
        &mut self,
        scope: Scope,
        func: &FnSummary,
        binding: &str,
        field: &str,
        at: u32,
    ) -> Option<((usize, usize), crate::summary::RawType)> {
        let pattern = match local(func, binding, at) {
            Some(Local::Let(l)) => l.field_of.as_ref(),
            _ => None,
        };
        if let Some((pty, pfield)) = pattern {
            let ((ik, im), bty) = self.field_type(scope, pty, pfield)?;
            let head = bty.head?;
            let bscope = Scope {
                krate: ik,
                module: im,
                func: None,
                fns: None,
            };
            return self.field_type(bscope, &head, field);
        }
        let ty = Self::binding_decl_type(func, binding, at)?;
        self.field_type(scope, &ty, field)
    }

    /// The declared type of a binding (a parameter or an annotated `let`), as written.
    fn binding_decl_type(func: &FnSummary, name: &str, before: u32) -> Option<RawPath> {
        match local(func, name, before)? {
            Local::Let(l) => l.ty.as_ref().and_then(|t| t.head.clone()),
            Local::Param(t) => t.head.clone(),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn local_type(
        &mut self,
        k: usize,
        m: usize,
        s: &FileSummary,
        f: usize,
        name: &str,
        before: u32,
        depth: u32,
    ) -> Option<ValueType> {
        let func = &s.fns[f];
        let scope = Scope {
            krate: k,
            module: m,
            func: Some(func),
            fns: Some(&s.fns),
        };
        match local(func, name, before)? {
            Local::Let(l) => {
                if let Some((ty, field)) = &l.field_of {
                    return self.field_value_type(scope, ty, field);
                }
                if let Some(t) = l.ty.as_ref().and_then(|t| t.head.clone()) {
                    return self.res.resolve_ext(scope, &t).map(ValueType::Type);
                }
                let init = &s.chains[l.init?];
                self.chain_value_type(k, m, s, init, depth + 1)
            }
            Local::Param(t) => {
                let head: RawPath = t.head.clone()?;
                self.res.resolve_ext(scope, &head).map(ValueType::Type)
            }
        }
    }

    /// The type of a chain's value: a constructor's `returns`, or a builder in progress.
    fn chain_value_type(
        &mut self,
        k: usize,
        m: usize,
        s: &FileSummary,
        chain: &Chain,
        depth: u32,
    ) -> Option<ValueType> {
        if depth > 8 {
            return None;
        }
        if let Some(c) = self.classify_depth(k, m, s, chain, depth) {
            return c.returns.map(ValueType::Type);
        }
        let scope = self.scope(k, m, s, chain);
        match &chain.root {
            ChainRoot::Call(p) => {
                let path = self.res.resolve_ext(scope, p)?;
                let bs = self.packs.builders.get(&path)?;
                let b = &bs[0];
                Some(ValueType::Builder {
                    pack: b.pack,
                    root: path.clone(),
                    terminals: bs
                        .iter()
                        .flat_map(|b| b.terminals.iter().cloned())
                        .collect(),
                    returns: b.returns.clone(),
                    span: chain.root_span.clone(),
                })
            }
            ChainRoot::Value(p) if p.is_single() && chain.func.is_some() => {
                let t = self.local_type(
                    k,
                    m,
                    s,
                    chain.func?,
                    &p.segs[0],
                    chain.root_span.start,
                    depth + 1,
                )?;
                // Setters on a builder keep it a builder.
                match t {
                    ValueType::Builder { .. } => Some(t),
                    ValueType::Type(_) if chain.methods.is_empty() => Some(t),
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

/// What a name in a function body is bound to.
#[derive(Clone, Copy)]
pub enum Local<'s> {
    Let(&'s LetBinding),
    /// A parameter, with its declared type.
    Param(&'s RawType),
}

/// The binding `name` refers to at offset `at` of `func`: the last `let` of that name that
/// starts before `at`, else the parameter of that name.
pub fn local<'s>(func: &'s FnSummary, name: &str, at: u32) -> Option<Local<'s>> {
    if let Some(l) = func
        .lets
        .iter()
        .rev()
        .find(|l| l.name == name && l.offset <= at)
    {
        return Some(Local::Let(l));
    }
    func.params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, t)| Local::Param(t))
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

/// Packages that are test code as a whole: a package that other packages of the unit
/// depend on only as a `[dev-dependencies]` entry (test support), and a member that lives
/// under a `tests/` folder of the workspace (a load-test or integration-test crate) that no
/// other package depends on as a normal or build dependency.
fn test_packages(g: &CrateGraph) -> BTreeMap<usize, String> {
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
        if !normal && !dev_of.is_empty() {
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
    /// The model of a graph: the SSOT modules, holder types and test-code status, then the
    /// sites, the initialization index and the initializations by hand, each computed once.
    pub fn build(
        g: &'g CrateGraph,
        packs: &'g PackIndex,
        cfg: &'g Config,
        shared_config: bool,
    ) -> Result<Self, crate::error::Error> {
        let mut m = Model::new(g, packs, cfg, shared_config)?;
        let mut sites = m.find_sites();
        m.note_fallbacks_and_caches(&sites);
        for s in &sites {
            if s.is_construction()
                && !s.allowed
                && !s.is_fallback()
                && m.cfg.ssot_for(&s.resource).is_empty()
                && m.migration_connection(s)
            {
                m.migration_connections.insert((s.file, s.span.start));
            }
        }
        m.inits = Rc::new(m.init_index(&sites));
        sites.extend(m.hand_initializers());
        m.ssot_backends = Self::ssot_backends(&sites);
        m.sites = Rc::new(sites);
        Ok(m)
    }

    /// With `SSOT_DUMP_SITES` set, every site on stderr: a developer's check (see
    /// ARCHITECTURE.md) that two builds, or a run with and without the prefilter, find the
    /// same sites whatever the config reports.
    pub fn dump_sites(&self) {
        if std::env::var_os("SSOT_DUMP_SITES").is_none() {
            return;
        }
        for s in self.sites.iter() {
            eprintln!(
                "site: {}:{} {} {:?} in_ssot={} allowed={} {:?}",
                self.g.files[s.file].rel,
                s.span.start,
                s.path,
                s.resource,
                s.in_ssot,
                s.allowed,
                s.kind
            );
        }
    }

    /// `-v` notes for the constructions left out as fallbacks and the statics counted as
    /// lazy caches of another module's type.
    fn note_fallbacks_and_caches(&mut self, sites: &[Site]) {
        for s in sites.iter().filter(|s| !s.allowed) {
            let file = &self.g.files[s.file];
            let line = self.g.line_of(s.file, s.span.start);
            if s.is_fallback() {
                self.notes.push(format!(
                    "{}:{line}: `{}` builds a {} pool/client only when none is handed in (a fallback): not reported, not an owner",
                    file.rel,
                    s.what(),
                    s.resource
                ));
            } else if let Some((k, m)) = s.lazy_cache_of() {
                self.notes.push(format!(
                    "{}:{line}: static `{}` caches, on first use, a `{}` that `{}` declares: counted with that module",
                    file.rel,
                    s.what(),
                    s.type_text(),
                    self.mod_path(k, m)
                ));
            }
        }
    }
}

/// Methods that store a value into a cell or lock eagerly (`OnceLock::set`,
/// `ArcSwap::store`, `Option::replace`, ...). `get_or_init`/`get_or_try_init` are not:
/// they initialize on first use and leave nothing half-initialized.
const STORE_METHODS: &[&str] = &["set", "store", "swap", "replace", "insert"];

/// The initializations of a graph: functions that construct a pool or client (directly or
/// through functions of the workspace they call) and store it eagerly where later readers
/// get it (a field or a global of a holder type), or that call such a function.
#[derive(Debug, Default)]
pub struct InitIndex {
    /// (file, function) -> the resource kinds it initializes.
    pub fns: HashMap<(usize, usize), std::collections::BTreeSet<String>>,
    /// Names of initializing methods (functions with a `self` type), and whether every
    /// one of that name returns a `Result`.
    pub methods: HashMap<String, bool>,
}

impl InitIndex {
    pub fn is_init(&self, file: usize, func: usize) -> bool {
        self.fns.contains_key(&(file, func))
    }
}

impl Model<'_> {
    /// What initialization a chain performs, for messages; `None` when it is not one: a
    /// call of a function of the workspace that initializes (see [`InitIndex`]), or a
    /// method of that name (`manager.lock().await.initialize()`: receivers are not typed).
    /// Only the first `upto` methods of the chain count.
    pub fn init_call(&mut self, scope: Scope, chain: &Chain, upto: usize) -> Option<String> {
        let methods = &chain.methods[..upto.min(chain.methods.len())];
        if let Some(last) = methods.last() {
            return self
                .inits
                .methods
                .contains_key(&last.name)
                .then(|| format!("{}()", last.name));
        }
        let ChainRoot::Call(p) = &chain.root else {
            return None;
        };
        match self.res.resolve_path(scope, p) {
            Some(Res::Item(ik, im, ii)) => {
                let node = self.g.crates[ik].modules.get(im);
                let item = &self.g.files[node.file].summary.modules[node.local].items[ii];
                item.func
                    .is_some_and(|f| self.inits.is_init(node.file, f))
                    .then(|| format!("{}()", p.text()))
            }
            // `Self::init(..)`, `Manager::initialize(..)`: an initializing method by name.
            _ if p.segs.len() >= 2
                && p.segs
                    .last()
                    .is_some_and(|l| self.inits.methods.contains_key(l)) =>
            {
                Some(format!("{}()", p.text()))
            }
            _ => None,
        }
    }
}

impl Model<'_> {
    /// The kind held by a place an assignment or a store method writes to.
    fn place_kind(
        &mut self,
        scope: Scope,
        func: &FnSummary,
        place: &ChainRoot,
        at: u32,
    ) -> Option<String> {
        let (ty_scope, ty) = match place {
            ChainRoot::SelfField(f) => {
                let st = func.self_type.clone()?;
                let s = Scope {
                    func: None,
                    ..scope
                };
                self.field_type(s, &st, f)?
            }
            ChainRoot::BindingField(b, f) => self.binding_field_type(scope, func, b, f, at)?,
            ChainRoot::Value(p) => {
                if p.is_single() && local(func, &p.segs[0], at).is_some() {
                    return None;
                }
                let Res::Item(ik, im, ii) = self.res.resolve_path(scope, p)? else {
                    return None;
                };
                let node = self.g.crates[ik].modules.get(im);
                let fs = &self.g.files[node.file].summary;
                let item = &fs.modules[node.local].items[ii];
                if item.kind != crate::summary::ItemKind::Static {
                    return None;
                }
                let st = fs
                    .statics
                    .iter()
                    .find(|st| st.name == item.name && st.module == node.local)?;
                ((ik, im), st.ty.clone())
            }
            _ => return None,
        };
        let s = Scope {
            krate: ty_scope.0,
            module: ty_scope.1,
            func: None,
            fns: None,
        };
        let (pack, _) = self.holder_in(s, &ty)?;
        Some(self.packs.packs[pack].resource.clone())
    }

    /// Compute the [`InitIndex`] (once per run).
    fn init_index(&mut self, sites: &[Site]) -> InitIndex {
        type Key = (usize, usize);
        let mut constructs: HashMap<Key, std::collections::BTreeSet<String>> = HashMap::new();
        for s in sites {
            if s.is_construction()
                && let Some(f) = s.func
            {
                constructs
                    .entry((s.file, f))
                    .or_default()
                    .insert(s.resource.clone());
            }
        }
        // Methods by (crate, self type name, method name).
        let mut methods: HashMap<(usize, String, String), Vec<Key>> = HashMap::new();
        for k in 0..self.g.crates.len() {
            for (fid, _) in self.file_base(k) {
                let s = &self.g.files[fid].summary;
                for (fi, f) in s.fns.iter().enumerate() {
                    if let Some(t) = f.self_type.as_ref().and_then(|t| t.segs.last()) {
                        methods
                            .entry((k, t.clone(), f.name.clone()))
                            .or_default()
                            .push((fid, fi));
                    }
                }
            }
        }
        let mut stores: HashMap<Key, std::collections::BTreeSet<String>> = HashMap::new();
        let mut callees: HashMap<Key, Vec<Key>> = HashMap::new();
        for k in 0..self.g.crates.len() {
            for (fid, base) in self.file_base(k) {
                let s = self.g.files[fid].summary.clone();
                for (fi, f) in s.fns.iter().enumerate() {
                    let scope = Scope {
                        krate: k,
                        module: base + f.module,
                        func: Some(f),
                        fns: Some(&s.fns),
                    };
                    for a in &f.assigns {
                        if let Some(kind) = self.place_kind(scope, f, &a.target, a.span.start) {
                            stores.entry((fid, fi)).or_default().insert(kind);
                        }
                    }
                }
                for chain in &s.chains {
                    let Some(fi) = chain.func else { continue };
                    let f = &s.fns[fi];
                    let scope = Scope {
                        krate: k,
                        module: base + chain.module,
                        func: Some(f),
                        fns: Some(&s.fns),
                    };
                    if chain
                        .methods
                        .iter()
                        .any(|m| STORE_METHODS.contains(&m.name.as_str()))
                        && let Some(kind) =
                            self.place_kind(scope, f, &chain.root, chain.root_span.start)
                    {
                        stores.entry((fid, fi)).or_default().insert(kind);
                    }
                    let self_name = f.self_type.as_ref().and_then(|t| t.segs.last()).cloned();
                    let mut found: Vec<Key> = Vec::new();
                    match &chain.root {
                        ChainRoot::Call(p) => {
                            if let Some(Res::Item(ik, im, ii)) = self.res.resolve_path(scope, p) {
                                let node = self.g.crates[ik].modules.get(im);
                                let fs = &self.g.files[node.file].summary;
                                if let Some(cf) = fs.modules[node.local].items[ii].func {
                                    found.push((node.file, cf));
                                }
                            } else if p.segs.len() >= 2 && p.anchor.is_none() {
                                // `Self::f(..)` / `Type::f(..)`: a method of a project type.
                                let ty = &p.segs[p.segs.len() - 2];
                                let ty = if ty == "Self" {
                                    self_name.clone().unwrap_or_default()
                                } else {
                                    ty.clone()
                                };
                                let name = p.segs[p.segs.len() - 1].clone();
                                if let Some(v) = methods.get(&(k, ty, name)) {
                                    found.extend(v.iter().copied());
                                }
                            }
                        }
                        ChainRoot::Value(p) if p.is_single() && p.segs[0] == "self" => {
                            if let (Some(t), Some(m)) = (&self_name, chain.methods.first())
                                && let Some(v) = methods.get(&(k, t.clone(), m.name.clone()))
                            {
                                found.extend(v.iter().copied());
                            }
                        }
                        _ => {}
                    }
                    if !found.is_empty() {
                        callees.entry((fid, fi)).or_default().extend(found);
                    }
                }
            }
        }
        // What a function constructs, through callees up to three calls deep.
        for _ in 0..3 {
            let mut add: Vec<(Key, String)> = Vec::new();
            for (f, cs) in &callees {
                for c in cs {
                    if let Some(kinds) = constructs.get(c) {
                        add.extend(kinds.iter().map(|kd| (*f, kd.clone())));
                    }
                }
            }
            for (f, kd) in add {
                constructs.entry(f).or_default().insert(kd);
            }
        }
        let mut fns: HashMap<Key, std::collections::BTreeSet<String>> = HashMap::new();
        for (f, kinds) in &stores {
            let both: std::collections::BTreeSet<String> = kinds
                .iter()
                .filter(|kd| constructs.get(f).is_some_and(|c| c.contains(*kd)))
                .cloned()
                .collect();
            if !both.is_empty() {
                fns.insert(*f, both);
            }
        }
        // A function that calls an initialization initializes, up to two calls deep.
        for _ in 0..2 {
            let mut add: Vec<(Key, String)> = Vec::new();
            for (f, cs) in &callees {
                for c in cs {
                    if c != f
                        && let Some(kinds) = fns.get(c)
                    {
                        add.extend(kinds.iter().map(|kd| (*f, kd.clone())));
                    }
                }
            }
            for (f, kd) in add {
                fns.entry(f).or_default().insert(kd);
            }
        }
        let mut idx = InitIndex {
            fns,
            methods: HashMap::new(),
        };
        let keys: Vec<Key> = idx.fns.keys().copied().collect();
        for (fid, fi) in keys {
            let f = &self.g.files[fid].summary.fns[fi];
            if f.self_type.is_some() {
                let e = idx.methods.entry(f.name.clone()).or_insert(true);
                *e &= f.returns_result;
            }
        }
        idx
    }
}
