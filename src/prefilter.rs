//! The prefilter: which files of a unit are parsed in full. Most are lexed or only
//! byte-scanned ([`crate::parse::scan`]), not parsed; the relevance fixpoint below decides.
//!
//! Every file of a module tree is first *byte-lexed* ([`crate::parse::lexer::quick_scan`]): plain ASCII code with
//! no unusual literal and nothing broken gives the very tokens the real lexer would, at a
//! fraction of its cost. Every other file is *lexed* (`ra_ap_parser`'s lexer, the one the
//! parser runs first). The tokens give, without a parse: the identifiers a file mentions, its
//! `mod` declarations with their `#[path]`/`#[cfg(test)]` attributes (when they all sit at the
//! top level of the file or in inline modules, see [`Scan::skeleton`], [`crate::parse::skeleton`]), whether it has a
//! suppression comment, and its lexical errors. A file is fully parsed only if it is
//! *relevant*:
//!
//! - it names something that can lead to a pack path: a pack crate its crate depends on (or
//!   a dependency renamed from one), a segment of a module path of the config, or a name that
//!   a relevant file defines from one of those (an import or alias of one, a project type
//!   whose fields mention one, a static or function whose type or body does, an `init`-like
//!   method, an `extern crate .. as`, the names a glob import of a pack crate binds; see
//!   [`Names`]);
//! - or its `use` items name a module that exports such a name, or it glob-imports its parent
//!   module (`use super::*;`) and that module exports one (other globs through `super` or
//!   `crate`: some module of the crate does);
//! - or it belongs to a module the config names (an SSOT, a deprecated module or their
//!   submodules), or has an `ssot-lint:` comment.
//!
//! The names grow as relevant files are parsed, until a fixpoint. A file that is not relevant
//! cannot resolve to a pack path, hold one, or be reached by a name that does, so its full
//! summary cannot change a finding; it keeps a *skeleton* summary (its module structure and
//! line count). Where the lexer cannot place its `mod` items (in a macro call such as
//! `cfg_if!`, in a function body), the skeleton comes from a parse that walks only what can
//! hold a `mod` ([`crate::parse::structure`]); `--no-prefilter` checks both kinds of
//! skeleton against the full parse of every file. One thing such a file can still decide is the kind of a generic pool whose
//! manager is a project type or made by a project function (`r2d2::Pool::builder()
//! .build(make_manager())`: a project type is no database): when the model looks a manager up
//! in a skeleton in vain, it asks for the file (`Model::needs_parse`) and the engine builds
//! the graph again with it parsed (`build`'s `forced`). The prefilter is on by default;
//! `--no-prefilter` parses every file, and both must print the same output.
//!
//! SSOT000, in both modes: a relevant file reports its parse's errors; so does a file whose
//! text is lexically broken (a lexer error such as an unterminated literal or a bad escape,
//! an invalid token, unbalanced or mismatched brackets, nesting deeper than
//! [`crate::parse::lexer::DEEP_BRACKETS`], a binary file or one too deep for the parser), which is always parsed.
//! Any other file reports nothing: a pure grammar error in a file that cannot matter to any
//! rule is not a finding. Unreadable and oversized files are reported whatever their
//! relevance.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ra_ap_syntax::Edition;
use rayon::prelude::*;

use crate::cache::{Cache, Kind};
use crate::config::Config;
use crate::crates::{self, CrateGraph};
use crate::packs::PackIndex;
use crate::parse::scan::{Scan, fn_idents, quick, scan, skeleton_summary};
use crate::parse::skeleton::{same_mod_items, same_structure};
use crate::summary::{FileSummary, ItemKind};
use crate::workspace::{self, Unit};

pub use crate::idents::{IdMap, IdSet, hash};

mod reuse;
pub use reuse::Graphs;

/// The names the pack index and the config make relevant before any file is read: the pack
/// names (pack types, free functions) and the strong ones (config modules). The pack crates'
/// own names are strong only in the crates that depend on them (see [`pack_externs`]).
fn initial_triggers(packs: &PackIndex, cfg: &Config) -> Names {
    let mut strong: HashSet<String> = HashSet::new();
    for p in cfg.all_module_paths() {
        strong.extend(p.segs.iter().cloned());
    }
    for (from, to) in &cfg.deprecated {
        strong.extend(from.segs.iter().cloned());
        strong.extend(to.segs.iter().cloned());
    }
    if std::env::var_os("SSOT_PREFILTER_STATS").is_some() {
        let mut w: Vec<&String> = strong.iter().collect();
        w.sort();
        eprintln!("prefilter-t0: strong {w:?}");
    }
    Names {
        pack: packs
            .names
            .get_or_init(|| Arc::new(pack_names(packs)))
            .clone(),
        weak: IdSet::default(),
        strong: strong.iter().map(|n| hash(n)).collect(),
        crate_of: IdMap::default(),
        globbed: HashSet::new(),
    }
}

/// The names of the packs' paths by pack crate, and the pack crates.
fn pack_names(packs: &PackIndex) -> crate::packs::PackNames {
    let mut names: HashMap<String, HashSet<String>> = HashMap::new();
    let upper = |s: &str| s.chars().next().is_some_and(|c| c.is_uppercase());
    let mut add_path = |p: &[String], leaf_always: bool| {
        let Some(first) = p.first() else { return };
        let names = names.entry(first.clone()).or_default();
        for (i, s) in p.iter().enumerate() {
            let last = i + 1 == p.len();
            let parent_is_type = i > 0 && upper(&p[i - 1]);
            if i == 0 || upper(s) || (last && (leaf_always || !parent_is_type)) {
                names.insert(s.clone());
            }
        }
    };
    for p in packs.constructors.keys() {
        add_path(p, false);
    }
    for p in packs.builders.keys() {
        add_path(p, false);
    }
    for p in packs.holders.keys() {
        add_path(p, true);
    }
    for (p, _) in packs.methods.keys() {
        add_path(p, true);
    }
    let mut pack_crates: HashSet<String> = HashSet::new();
    for p in packs
        .constructors
        .keys()
        .chain(packs.builders.keys())
        .chain(packs.holders.keys())
        .chain(packs.methods.keys().map(|(r, _)| r))
    {
        if let Some(f) = p.first() {
            pack_crates.insert(f.clone());
        }
    }
    for pk in &packs.packs {
        for c in &pk.crates {
            pack_crates.insert(workspace::underscore(c));
        }
    }
    crate::packs::PackNames {
        by_crate: names
            .into_iter()
            .map(|(c, ns)| (c, ns.iter().map(|n| hash(n)).collect()))
            .collect(),
        crates: pack_crates,
    }
}

/// Trigger names, hashed. *Strong* names lead to a pack path wherever they are written: a
/// module of the config, a module that exports a trigger, a method called by name
/// (`init`-like methods of holders). *Weak* names (an import, alias, holder type, static or
/// init function made from a trigger) only when a path can reach them: through a `use` item,
/// or a path starting at `crate::`/`self::`/`super::` (an unqualified name needs a `use`; a
/// qualified one starts at a strong name or at one of those roots).
///
/// A pack crate's name, or a dependency renamed from one, is strong only in the files of the
/// crates that have it in their extern prelude (a published dependency, see
/// [`pack_externs`]): a pack path is only ever reached through a crate's extern prelude (the
/// resolver gives `Res::Ext` for nothing else), so elsewhere the name can only be a local
/// item, which leads to a pack path only if its own file is relevant (and then its name is
/// derived). A workspace crate, even one named like a pack crate, is resolved into its own
/// module tree, never to a pack path: its names are derived from its files like any other.
///
/// *Pack* names (the types and free functions the packs list) are names of items of the pack
/// crates. They lead to a pack path only through an import from a pack crate: a named one (a
/// path naming the crate, whose binding becomes a weak name) or a glob (`use sqlx::*;`, whose
/// bindings have no names to derive). A glob of a pack crate, or of a name bound to one
/// (`use sqlx as db; use db::*;`), makes the names that crate's pack paths use weak: its
/// bindings are reached by the file's own paths and, like any import, by `crate::`/`self::`/
/// `super::` paths and `use` items of other files.
#[derive(Debug, Default, Clone)]
pub struct Names {
    /// The names of the pack paths by their first segment (the pack crate), and the pack
    /// crates.
    pub pack: Arc<crate::packs::PackNames>,
    pub weak: IdSet,
    pub strong: IdSet,
    /// Names bound to a pack crate or to a path below one (`use sqlx as db;`,
    /// `extern crate sqlx as db;`, `use sqlx::postgres;`): the crate.
    pub crate_of: IdMap<String>,
    /// The pack crates a glob import made the pack names of weak.
    pub globbed: HashSet<String>,
}

impl Names {
    fn any(&self, h: u64) -> bool {
        self.weak.contains(&h) || self.strong.contains(&h)
    }

    fn len(&self) -> usize {
        self.weak.len() + self.strong.len() + self.crate_of.len()
    }

    /// Whether a file can reach a trigger (module docs); `ext`: the pack crates' names in the
    /// extern preludes of its crates.
    fn reaches(&self, sc: &Scan, ext: &IdMap<String>) -> bool {
        sc.idents
            .iter()
            .any(|h| self.strong.contains(h) || ext.contains_key(h))
            || sc.rel_use_idents.iter().any(|h| self.weak.contains(h))
            || sc.rel_path_idents.iter().any(|h| self.weak.contains(h))
    }
}

/// The names of a crate's extern prelude that lead to a pack crate: its published
/// dependencies (renames applied) whose package is a pack crate, hashed, and that crate.
fn pack_externs(c: &crates::CrateDef, pack_crates: &HashSet<String>) -> Vec<(u64, String)> {
    c.externs
        .iter()
        .filter_map(|(name, r)| match r {
            crates::ExternRef::Package(p) if pack_crates.contains(p) => {
                Some((hash(name), p.clone()))
            }
            _ => None,
        })
        .collect()
}

fn init_like(name: &str) -> bool {
    matches!(name, "initialize" | "init" | "setup" | "warm_up" | "warmup")
        || name.starts_with("init_")
        || name.starts_with("initialize_")
}

/// Build the crate graph of a unit, parsing only the files that can matter (all of them when
/// `prefilter` is off) and those in `forced` (files the model asked for, see
/// `Model::needs_parse`), and decide SSOT000's source per file (see the module docs). With
/// `graphs`, the crates as read last time are taken when the tree still holds them (see
/// [`reuse`]).
#[allow(clippy::too_many_arguments)]
pub fn build<'v>(
    fs: &'v dyn crate::vfs::FileSystem,
    unit: &Unit,
    out_root: &Path,
    packs: &PackIndex,
    cfg: &Config,
    prefilter: bool,
    cache: &Cache,
    forced: &HashSet<PathBuf>,
    graphs: Option<&Graphs>,
) -> CrateGraph<'v> {
    let t0 = initial_triggers(packs, cfg);
    // The pack crates among each package's published dependencies, for the files below its
    // directory (the crates of the fixpoint decide; this only chooses what to parse at once).
    let unit_libs: HashSet<String> = unit
        .packages
        .iter()
        .filter(|p| p.lib_name().is_some())
        .map(|p| workspace::underscore(&p.name))
        .collect();
    let pkg_ext: Vec<(&Path, IdMap<String>)> = unit
        .packages
        .iter()
        .map(|p| {
            let ext = p
                .deps
                .iter()
                .filter(|d| t0.pack.crates.contains(&d.package) && !unit_libs.contains(&d.package))
                .map(|d| (hash(&d.extern_name), d.package.clone()))
                .collect();
            (p.dir.as_path(), ext)
        })
        .collect();
    let no_ext = IdMap::default();
    let scans: Mutex<HashMap<PathBuf, Scan>> = Mutex::new(HashMap::new());
    let mismatch = std::sync::atomic::AtomicBool::new(false);
    let summarize = |path: &Path, text: &str, edition: Edition| -> Arc<FileSummary> {
        let ext = pkg_ext
            .iter()
            .filter(|(d, _)| path.starts_with(d))
            .max_by_key(|(d, _)| d.components().count())
            .map_or(&no_ext, |(_, e)| e);
        // The byte scan first; the lexer when it declines or when the file may be relevant.
        let mut sc = match cache.get_or(Kind::Quick, text, edition, || quick(text, edition)) {
            // The byte lexer accepts no text that is too deep (see `shallow`).
            Some(q) => q,
            _ => cache.get_or(Kind::Scan, text, edition, || scan(text, edition)),
        };
        let first_look = sc.marker || t0.reaches(&sc, ext);
        let summary = if prefilter && !first_look && !sc.broken && sc.skeleton.is_none() {
            // Only a parse can place its `mod` items: parse it for its structure alone (it
            // stays unparsed for the fixpoint, which parses it in full if it turns relevant).
            cache.get_shared(Kind::Structure, text, edition, || {
                crate::parse::structure(text, edition)
            })
        } else if !prefilter || first_look || sc.skeleton.is_none() || sc.broken {
            let s = cache.get_shared(Kind::Summary, text, edition, || {
                crate::parse::summarize(text, edition)
            });
            sc.fn_idents = cache.get_or(Kind::FnIdents, text, edition, || {
                fn_idents(text, &s, edition)
            });
            sc.parsed = true;
            // Without the prefilter, check the lexer's module structure (or the structure-only
            // parse's, where the lexer has none) against the parse.
            let structure = || match skeleton_summary(&sc, text) {
                Some(sk) => Some(sk),
                None if !sc.broken => Some(crate::parse::structure(text, edition)),
                None => None,
            };
            if !prefilter
                && let Some(sk) = structure()
                && !(same_structure(&sk, &s) && same_mod_items(&sk, &s))
            {
                mismatch.store(true, std::sync::atomic::Ordering::Relaxed);
                eprintln!(
                    "ssot-lint: internal: the prefilter's module structure of {} differs from the parse",
                    path.display()
                );
            }
            s
        } else {
            Arc::new(skeleton_summary(&sc, text).unwrap_or_default())
        };
        if let Ok(mut m) = scans.lock() {
            m.insert(path.to_path_buf(), sc);
        }
        summary
    };
    let (mut g, file_scans) = match graphs {
        Some(graphs) => {
            let key = reuse::key(unit, out_root, &t0, prefilter);
            graphs.graph(key, fs, unit, out_root, &summarize, &scans, cache)
        }
        None => {
            let g = crates::build_with(fs, unit, out_root, &summarize);
            let mut scans = scans.into_inner().unwrap_or_default();
            let file_scans: Vec<Scan> = g
                .files
                .iter()
                .map(|f| scans.remove(&f.path).unwrap_or_default())
                .collect();
            (g, file_scans)
        }
    };
    if !fixpoint(&mut g, unit, t0, file_scans, cfg, cache, forced) && prefilter {
        // The lexer saw a module structure the parser does not: never trust it.
        return build(fs, unit, out_root, packs, cfg, false, cache, forced, graphs);
    }
    g
}

#[allow(clippy::too_many_arguments)]
fn fixpoint(
    g: &mut CrateGraph,
    unit: &Unit,
    mut t: Names,
    mut scans: Vec<Scan>,
    cfg: &Config,
    cache: &Cache,
    asked: &HashSet<PathBuf>,
) -> bool {
    let mut consistent = true;
    let n = g.files.len();
    // Files of modules the config names (and their submodules) are always relevant, and so
    // are the files the model asked for.
    let mut forced: Vec<bool> = g.files.iter().map(|f| asked.contains(&f.path)).collect();
    let cfg_paths: Vec<Vec<String>> = cfg
        .all_module_paths()
        .map(|p| p.segs.clone())
        .chain(cfg.deprecated.iter().map(|(f, _)| f.segs.clone()))
        .collect();
    for c in &g.crates {
        for m in c.modules.iter() {
            let under = |p: &Vec<String>| {
                p.split_first()
                    .is_none_or(|(first, rest)| *first == c.name && m.path.starts_with(rest))
            };
            if cfg_paths.iter().any(under) {
                forced[m.file.index()] = true;
            }
        }
    }
    // The crates (by index) each file belongs to, and the names its root module goes by.
    let mut file_crates: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut file_names: Vec<Vec<String>> = vec![Vec::new(); n];
    for (k, c) in g.crates.iter().enumerate() {
        for (file, root, _) in c.modules.files() {
            file_crates[file.index()].push(k);
            let last = c.modules.get(root).path.last().cloned();
            file_names[file.index()].push(last.unwrap_or_else(|| c.name.clone()));
        }
    }
    // The pack crates' names in each file's crates' extern preludes, and the files of each
    // file's parent modules.
    let mut file_ext: Vec<IdMap<String>> = vec![IdMap::default(); n];
    let mut parent_files: Vec<Vec<usize>> = vec![Vec::new(); n];
    for c in &g.crates {
        let ext = pack_externs(c, &t.pack.crates);
        for (file, root, _) in c.modules.files() {
            file_ext[file.index()].extend(ext.iter().cloned());
            if let Some(p) = c.modules.get(root).parent {
                parent_files[file.index()].push(c.modules.get(p).file.index());
            }
        }
    }
    let mut crate_exports = vec![false; g.crates.len()];
    // Some module of the file exports a trigger.
    let mut file_exports = vec![false; n];
    let mut relevant = vec![false; n];
    let mut rounds = 0;
    let debug = std::env::var_os("SSOT_PREFILTER_STATS").is_some();
    loop {
        rounds += 1;
        let mut newly: Vec<usize> = Vec::new();
        for i in 0..n {
            if relevant[i] {
                continue;
            }
            let sc = &scans[i];
            let why = if forced[i] {
                Some("forced")
            } else if sc.marker {
                Some("marker")
            } else if t.reaches(sc, &file_ext[i]) {
                Some("names")
            } else if sc.glob_parent && parent_files[i].iter().any(|&p| file_exports[p]) {
                Some("glob-parent")
            } else if sc.glob_crate && file_crates[i].iter().any(|&k| crate_exports[k]) {
                Some("glob-crate")
            } else {
                None
            };
            if let Some(why) = why {
                if debug {
                    eprintln!("prefilter-why: round {rounds} {why} {}", g.files[i].rel);
                }
                relevant[i] = true;
                newly.push(i);
            }
        }
        if newly.is_empty() {
            break;
        }
        // Parse the newly relevant files that only have a skeleton.
        let to_parse: Vec<usize> = newly
            .iter()
            .copied()
            .filter(|&i| !scans[i].parsed)
            .collect();
        let results: Vec<(usize, Option<Parsed>)> = to_parse
            .par_iter()
            .map(|&i| {
                let p = &g.files[i].path;
                let ed = crates::edition_for(unit, p);
                match g.files[i].text.clone().ok_or(()) {
                    Ok(text) => {
                        let s = cache.get_shared(Kind::Summary, &text, ed, || {
                            crate::parse::summarize(&text, ed)
                        });
                        let fi =
                            cache.get_or(Kind::FnIdents, &text, ed, || fn_idents(&text, &s, ed));
                        (i, Some((s, fi)))
                    }
                    Err(_) => (i, None),
                }
            })
            .collect();
        for (i, r) in results {
            scans[i].parsed = true;
            let Some((s, fi)) = r else { continue };
            if !same_structure(&g.files[i].summary, &s) {
                consistent = false;
            }
            scans[i].fn_idents = fi;
            g.files[i].summary = s;
        }
        // Derive names from every relevant file until nothing changes.
        loop {
            let count = |v: &[bool]| v.iter().filter(|e| **e).count();
            let before = (t.len(), count(&crate_exports), count(&file_exports));
            for i in 0..n {
                if !relevant[i] {
                    continue;
                }
                let s = g.files[i].summary.clone();
                let around = Around {
                    ext: &file_ext[i],
                    parent_exports: parent_files[i].iter().any(|&p| file_exports[p]),
                    crate_exports: file_crates[i].iter().any(|&k| crate_exports[k]),
                };
                let (root_exports, any_exports) = derive(&s, &scans[i], &mut t, around);
                file_exports[i] |= any_exports;
                if root_exports {
                    if debug {
                        eprintln!("prefilter-exports: {}", g.files[i].rel);
                    }
                    for name in &file_names[i] {
                        t.strong.insert(hash(name));
                    }
                    for &k in &file_crates[i] {
                        crate_exports[k] = true;
                    }
                }
            }
            let after = (t.len(), count(&crate_exports), count(&file_exports));
            if before == after {
                break;
            }
        }
    }
    if std::env::var_os("SSOT_PREFILTER_STATS").is_some() {
        eprintln!(
            "prefilter: {} files, {} relevant, {} parsed, {} rounds, {} weak, {} strong, {} byte-lexed",
            n,
            relevant.iter().filter(|r| **r).count(),
            scans.iter().filter(|s| s.parsed).count(),
            rounds,
            t.weak.len(),
            t.strong.len(),
            scans.iter().filter(|s| s.quick).count()
        );
    }
    for (i, (f, sc)) in g.files.iter_mut().zip(&scans).enumerate() {
        f.skeleton = !sc.parsed;
        if debug && sc.parsed && !relevant[i] {
            let why = if sc.broken { "broken" } else { "structure" };
            eprintln!("prefilter-parsed: {why} {}", f.rel);
        }
    }
    // SSOT000: the parse's errors for relevant files and lexically broken ones, none for the
    // others (in both modes: the output does not depend on `--no-prefilter`).
    for i in 0..n {
        let s = &g.files[i].summary;
        if !relevant[i]
            && !scans[i].broken
            && (!s.syntax_errors.is_empty() || s.syntax_error_count != 0)
        {
            let mut s2 = (**s).clone();
            s2.syntax_errors.clear();
            s2.syntax_error_count = 0;
            g.files[i].summary = Arc::new(s2);
        }
    }
    consistent
}

/// A file's full summary and its functions' identifiers.
type Parsed = (Arc<FileSummary>, Vec<Vec<u64>>);

/// What [`derive`] needs to know about a file's surroundings.
#[derive(Clone, Copy)]
struct Around<'a> {
    /// The pack crates' names in the extern preludes of the file's crates.
    ext: &'a IdMap<String>,
    /// The module of a parent file exports a trigger (`use super::*;` at the top).
    parent_exports: bool,
    /// Some module of the file's crate exports a trigger (other relative globs).
    crate_exports: bool,
}

/// Add the names a relevant file defines from trigger names; whether its root module
/// exports a trigger (so its own name leads to one), and whether any of its modules does.
fn derive(s: &FileSummary, sc: &Scan, t: &mut Names, around: Around) -> (bool, bool) {
    use crate::summary::ImportKind;
    let debug = std::env::var_os("SSOT_PREFILTER_STATS").is_some();
    let weak = |t: &mut Names, name: &str, why: &str| {
        if t.weak.insert(hash(name)) && debug {
            eprintln!("prefilter-name: {why} {name}");
        }
    };
    let strong = |t: &mut Names, name: &str, why: &str| {
        if t.strong.insert(hash(name)) && debug {
            eprintln!("prefilter-name: {why} {name}");
        }
    };
    let ext = around.ext;
    let any = |t: &Names, h: u64| t.any(h) || ext.contains_key(&h);
    let hit = |t: &Names, segs: &[String]| segs.iter().any(|x| any(t, hash(x)));
    // The pack crate a path starts at, through the extern prelude or a name bound to one.
    let crate_of = |t: &Names, segs: &[String]| -> Option<String> {
        let h = hash(segs.first()?);
        ext.get(&h).or_else(|| t.crate_of.get(&h)).cloned()
    };
    let bind_crate = |t: &mut Names, name: &str, krate: Option<String>| {
        if let Some(c) = krate {
            t.crate_of.insert(hash(name), c);
        }
    };
    let ty_hit = |t: &Names, ty: &crate::summary::RawType| {
        ty.all.iter().any(|p| hit(t, &p.segs)) || ty.head.as_ref().is_some_and(|p| hit(t, &p.segs))
    };
    // Imports: a binding of a trigger is one; a binding of a strong name (a crate, a module
    // that exports) is strong. Returns whether the imports export a trigger, and whether
    // they glob-import the parent module (`use super::*;`, decided below).
    let imports = |imps: &[crate::summary::Import], t: &mut Names| -> (bool, bool) {
        let mut ex = false;
        let mut parent_glob = false;
        for imp in imps {
            match &imp.kind {
                ImportKind::Named(n) => {
                    bind_crate(t, n, crate_of(t, &imp.path));
                    let strong_leaf = |l: &String| {
                        let h = hash(l);
                        t.strong.contains(&h) || ext.contains_key(&h)
                    };
                    if imp.path.last().is_some_and(strong_leaf) {
                        strong(t, n, "import-module");
                        ex = true;
                    } else if hit(t, &imp.path) {
                        weak(t, n, "import");
                        ex = true;
                    }
                }
                ImportKind::Glob => {
                    let keyword = |x: &String| matches!(x.as_str(), "self" | "super" | "crate");
                    if let Some(c) = crate_of(t, &imp.path)
                        && t.globbed.insert(c.clone())
                    {
                        if let Some(names) = t.pack.by_crate.get(&c) {
                            t.weak.extend(names.iter().copied());
                        }
                        if debug {
                            eprintln!("prefilter-name: glob {c}::*");
                        }
                    }
                    if imp.path == ["super"] {
                        parent_glob = true;
                    } else if imp.path == ["self"] {
                        // The module's own items: nothing new.
                    } else if hit(t, &imp.path)
                        || (imp.path.iter().all(keyword) && around.crate_exports)
                    {
                        ex = true;
                    }
                }
                ImportKind::Underscore => {}
            }
        }
        (ex, parent_glob)
    };
    let mut exports = vec![false; s.modules.len()];
    let mut parent_globs = vec![false; s.modules.len()];
    for (mi, m) in s.modules.iter().enumerate() {
        let (mut ex, pg) = imports(&m.imports, t);
        parent_globs[mi] = pg;
        for (c, b) in &m.extern_crates {
            bind_crate(t, b, ext.get(&hash(c)).cloned());
            if any(t, hash(c)) {
                strong(t, b, "extern-crate");
                ex = true;
            }
        }
        for it in &m.items {
            if it.kind == ItemKind::TypeAlias && it.alias_of.as_ref().is_some_and(|a| ty_hit(t, a))
            {
                weak(t, &it.name, "alias");
                ex = true;
            }
            if it.kind == ItemKind::Mod && t.strong.contains(&hash(&it.name)) {
                ex = true;
            }
        }
        exports[mi] |= ex;
    }
    for a in &s.adts {
        if a.fields.iter().any(|(_, ty)| ty_hit(t, ty)) {
            weak(t, &a.name, "adt");
            exports[a.module] = true;
        }
    }
    for st in &s.statics {
        if ty_hit(t, &st.ty) {
            weak(t, &st.name, "static");
            if st.func.is_none() {
                exports[st.module] = true;
            }
        }
    }
    for (fi, f) in s.fns.iter().enumerate() {
        imports(&f.local_imports, t);
        // Functions matter across files by name only as initializations (SSOT005): a
        // method by its name alone, a function by its path.
        if !init_like(&f.name) {
            continue;
        }
        if f.self_type.is_some() {
            strong(t, &f.name, "init-method");
        } else if sc
            .fn_idents
            .get(fi)
            .is_some_and(|ids| ids.iter().any(|h| any(t, *h)))
        {
            weak(t, &f.name, "init-fn");
            if f.parent_fn.is_none() {
                exports[f.module] = true;
            }
        }
    }
    // A module that glob-imports its parent exports what the parent does; a parent exports
    // what its inline modules do.
    loop {
        let mut changed = false;
        for mi in 0..s.modules.len() {
            let from_parent = match s.modules[mi].parent {
                _ if !parent_globs[mi] => false,
                None => around.parent_exports,
                Some(p) => exports[p],
            };
            if from_parent && !exports[mi] {
                exports[mi] = true;
                changed = true;
            }
        }
        for mi in (1..s.modules.len()).rev() {
            if exports[mi]
                && let Some(p) = s.modules[mi].parent
                && !exports[p]
            {
                exports[p] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    // Inline modules that export: their names lead to a trigger. Weak names: only this
    // file (relevant already) has the module in scope; other files reach it by a path
    // through `crate`/`self`/`super` or through a module that exports (a strong name).
    for (m, _) in s.modules.iter().zip(&exports).skip(1).filter(|(_, e)| **e) {
        if let Some(name) = m.inline_path.last() {
            weak(t, name, "module");
        }
    }
    (
        exports.first().copied().unwrap_or(false),
        exports.iter().any(|e| *e),
    )
}
