//! The semantic model: what the rules read, computed once per unit between resolution and
//! the rules ([`Model::build`]). Rules read it through `crate::rules::Context`; none of them
//! computes a fact another rule needs. One concern a file:
//!
//! - [`membership`]: the SSOT modules of each resource kind, and what is in them;
//! - [`resources`]: database backends, migration connections, the locations a construction
//!   names;
//! - [`holders`]: the types that hold a pool or client (pack and project types), and a
//!   generic pool's manager kind;
//! - [`types`]: the declared types of fields and bindings, a local's type from its
//!   initializer;
//! - [`classify`]: the sites: constructions and holders, each with its typed [`ModPath`],
//!   SSOT membership and test-code status ([`Site`]);
//! - [`inits`]: the initialization index ([`InitIndex`]) and initializations by hand;
//! - [`failing`]: what a failing read of a holder is (SSOT004's and SSOT007's);
//! - [`reach`]: the call graph from the entry points, walked in program order: the failing
//!   reads reached before their holder's initialization completed (SSOT007);
//! - [`testcode`]: which code is test or `[allow]`ed code, left to no rule.
//!
//! This file holds the model itself, its construction and the files rules visit.

mod classify;
pub mod failing;
mod holders;
mod identity;
mod inits;
mod membership;
mod path;
pub mod reach;
mod resources;
mod site;
mod testcode;
mod types;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use crate::config::Config;
use crate::crates::CrateGraph;
use crate::ids::{AdtId, CrateId, FileId, ModId};
use crate::packs::PackIndex;
use crate::resolve::{Resolver, Scope};
use crate::summary::{FileSummary, FnSummary};

pub use classify::Construction;
pub use identity::{Outside, evidence_in};
pub use inits::InitIndex;
pub use path::ModPath;
pub use site::{Site, SiteKind};
pub use types::{Local, local};

/// One file of one crate, as a rule visits it.
#[derive(Clone, Copy)]
pub struct FileView<'g> {
    pub krate: CrateId,
    pub file: FileId,
    /// The module node of the file's root module in the crate (the file's modules are
    /// numbered from there, in the order of its summary).
    pub base: usize,
    pub summary: &'g FileSummary,
}

impl<'g> FileView<'g> {
    /// The file's module `local` (an index into its summary's modules) in this crate.
    pub fn module(&self, local: usize) -> ModId {
        ModId::new(self.krate, self.base + local)
    }

    /// The enclosing function, by index into the file's `fns`.
    pub fn func(&self, f: Option<usize>) -> Option<&'g FnSummary> {
        f.map(|f| &self.summary.fns[f])
    }

    /// Where names are resolved: the file's module `local`, inside function `func`.
    pub fn scope(&self, local: usize, func: Option<usize>) -> Scope<'g> {
        Scope {
            module: self.module(local),
            func: self.func(func),
            fns: Some(&self.summary.fns),
        }
    }
}

/// The SSOT modules of each resource kind, resolved in a unit.
pub type SsotModules = BTreeMap<String, Vec<ModId>>;

/// The facts every rule reads (see the module documentation).
#[derive(Clone)]
pub struct Model<'g> {
    pub g: &'g CrateGraph<'g>,
    pub packs: &'g PackIndex,
    pub cfg: &'g Config,
    pub res: Resolver<'g>,
    /// Resolved SSOT modules per resource kind.
    pub ssot: SsotModules,
    /// Resolved SSOT modules of each `[[resource]]`, in the config's order.
    pub declared_ssot: Vec<Vec<ModId>>,
    /// Project types that hold a pool: the type -> its pack and display path.
    holder_adts: HashMap<AdtId, (usize, String)>,
    /// Config module paths that exist in this unit (for a shared config's check).
    pub found_config_paths: Vec<String>,
    /// Constructions, holders and initializations by hand, computed once by [`Model::build`]
    /// (sorted by file and offset; the initializations last, in crate, file, function order).
    pub sites: Arc<Vec<Site>>,
    /// The initializations of the graph, computed once by [`Model::build`].
    pub inits: Arc<InitIndex>,
    /// Per resource kind, the backends its SSOT's sites build or hold (see
    /// [`Model::other_database`]), computed once from [`Self::sites`]: `None` when a site
    /// there names none. A kind whose SSOT has no sites is absent.
    ssot_backends: HashMap<String, Option<BTreeSet<&'static str>>>,
    /// Constructions (file, offset) that are a dedicated connection, a migration runner's or a
    /// `LISTEN`er's (see [`Model::dedicated_connection`]), among those of kinds with no SSOT
    /// configured.
    pub migration_connections: BTreeSet<(FileId, u32)>,
    /// Per construction (file, offset) of a kind with no SSOT configured, the settings types
    /// its function is configured from (see [`Model::settings_sources`]), when there are any.
    pub settings: HashMap<(FileId, u32), BTreeSet<String>>,
    /// Files the prefilter left unparsed in which a generic pool's manager was looked for in
    /// vain: the engine parses them and builds the model again (see `classify`).
    pub needs_parse: BTreeSet<FileId>,
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
        let (ssot, found_config_paths) =
            membership::resolve_ssot(&mut res, g, packs, cfg, shared_config)?;
        let mut c = Model {
            found_config_paths,
            g,
            packs,
            cfg,
            res,
            ssot,
            declared_ssot: Vec::new(),
            holder_adts: HashMap::new(),
            sites: Default::default(),
            inits: Default::default(),
            ssot_backends: HashMap::new(),
            migration_connections: BTreeSet::new(),
            settings: HashMap::new(),
            needs_parse: BTreeSet::new(),
            notes: Vec::new(),
            test_packages: testcode::test_packages(g),
            file_allowed: Vec::new(),
        };
        c.resolve_declared();
        c.find_test_code();
        c.find_holder_adts();
        Ok(c)
    }

    /// Every file of every crate, crate by crate, in file order.
    pub fn files(&self) -> Vec<FileView<'g>> {
        let mut out = Vec::new();
        for k in self.g.crate_ids() {
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
    pub fn file_base(&self, k: CrateId) -> Vec<(FileId, usize)> {
        let mut v: Vec<(FileId, usize)> = self.g.crates[k]
            .modules
            .files()
            .map(|(file, base, _)| (file, base))
            .collect();
        v.sort_unstable();
        v
    }

    /// The path of module `m`, crate name first.
    pub fn mod_path(&self, m: ModId) -> ModPath {
        let mut p = vec![self.g.crates[m.krate].name.clone()];
        p.extend(self.g.module(m).path.iter().cloned());
        ModPath::new(p)
    }
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
        // The sites and the call graph read the same model and decide nothing for each
        // other: the call graph is computed beside the sites, on a copy (always on a copy, so
        // that the output does not depend on the number of threads).
        let mut copy = m.clone();
        let (mut sites, calls) = rayon::join(|| m.find_sites(), || copy.call_graph());
        drop(copy);
        m.assign_resources(&mut sites);
        m.note_fallbacks_and_caches(&sites);
        for s in &sites {
            if s.is_construction()
                && !s.allowed
                && !s.is_fallback()
                && m.cfg.ssot_for(&s.resource).is_empty()
                && m.dedicated_connection(s)
            {
                m.migration_connections.insert((s.file, s.span.start));
            }
            if s.is_construction()
                && !s.allowed
                && m.cfg.ssot_for(&s.resource).is_empty()
                && s.declared.is_none()
            {
                let found = m.settings_sources(s);
                if !found.is_empty() {
                    m.settings.insert((s.file, s.span.start), found);
                }
            }
        }
        m.inits = Arc::new(m.init_index(&sites, calls));
        let first_init = sites.len();
        sites.extend(m.hand_initializers());
        m.assign_resources(&mut sites[first_init..]);
        m.ssot_backends = Self::ssot_backends(&sites);
        m.sites = Arc::new(sites);
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
            let key = (s.file, s.span.start);
            eprintln!(
                "site: {}:{} {} {:?} in_ssot={} allowed={} dedicated={} settings={:?} {:?}",
                self.g.files[s.file].rel,
                s.span.start,
                s.path,
                self.resource_name(s),
                s.in_ssot,
                s.allowed,
                self.migration_connections.contains(&key),
                self.settings.get(&key).cloned().unwrap_or_default(),
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
            } else if let Some(m) = s.lazy_cache_of() {
                self.notes.push(format!(
                    "{}:{line}: static `{}` caches, on first use, a `{}` that `{}` declares: counted with that module",
                    file.rel,
                    s.what(),
                    s.type_text(),
                    self.mod_path(m)
                ));
            }
        }
    }
}
