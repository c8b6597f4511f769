//! From packages to crates: every target's module tree (`mod x;` to `x.rs` / `x/mod.rs`,
//! `#[path]`, inline modules), parsed in parallel waves with rayon. Each file is parsed
//! once, and its inline module tree built once, even when several targets include it: a
//! crate holds, per file it includes, where it includes it and a reference to the tree.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

mod modules;

use modules::Interner;
pub use modules::{FileTree, ModNode, ModulePath, Modules};

use crate::ids::{CrateId, FileId, ModId};
use crate::parse;
use crate::summary::FileSummary;
use crate::vfs::{FileSystem, normalize};
use crate::workspace::{Package, TargetKind, Unit, deps_for};

#[derive(Debug, Clone)]
pub struct FileEntry {
    pub path: PathBuf,
    /// Relative to the output root, with `/` separators.
    pub rel: String,
    pub summary: Arc<FileSummary>,
    /// Could not be read (reported as SSOT000).
    pub read_error: Option<String>,
    pub bytes: u64,
    /// The prefilter left the file unparsed: its summary has only its module structure.
    pub skeleton: bool,
    /// The text as read for the summary (`None` when it could not be read): the rules read
    /// this one, never the file again.
    pub text: Option<Arc<str>>,
}

#[derive(Debug, Clone)]
pub enum ExternRef {
    /// A published crate, by package name with underscores.
    Package(String),
    /// A crate of this workspace.
    Crate(CrateId),
}

#[derive(Debug, Clone)]
pub struct CrateDef {
    pub name: String,
    pub package: usize,
    pub kind: TargetKind,
    pub externs: BTreeMap<String, ExternRef>,
    pub modules: Modules,
}

/// The crates of a unit with their module trees, and the files they include with their
/// summaries; read through a file-system view, which it keeps for the texts.
pub struct CrateGraph<'v> {
    /// The view the files were read through (rules re-read a text there for fix edits).
    pub fs: &'v dyn FileSystem,
    pub files: Vec<FileEntry>,
    pub crates: Vec<CrateDef>,
    pub packages: Vec<Package>,
    /// The unit's root (the workspace root or the lone package's directory).
    pub root: PathBuf,
    /// Every file read is inside this directory (real path): the scan root.
    pub read_root: PathBuf,
    /// `mod` declarations whose file cannot be read (missing, outside the workspace, not a
    /// regular file, too large): the declaring file, the declaration, why.
    pub unreadable_modules: Vec<(FileId, crate::summary::Span, String)>,
    /// `mod` declarations whose file does not exist (warnings, not findings).
    pub missing_modules: Vec<(FileId, crate::summary::Span, String)>,
}

impl std::fmt::Debug for CrateGraph<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrateGraph")
            .field("files", &self.files)
            .field("crates", &self.crates)
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl std::ops::Index<FileId> for Vec<FileEntry> {
    type Output = FileEntry;

    fn index(&self, f: FileId) -> &FileEntry {
        &self[f.index()]
    }
}

impl std::ops::IndexMut<FileId> for Vec<FileEntry> {
    fn index_mut(&mut self, f: FileId) -> &mut FileEntry {
        &mut self[f.index()]
    }
}

impl std::ops::Index<CrateId> for Vec<CrateDef> {
    type Output = CrateDef;

    fn index(&self, k: CrateId) -> &CrateDef {
        &self[k.index()]
    }
}

impl CrateGraph<'_> {
    /// The same graph, reading through `fs` from now on.
    pub fn with_view(self, fs: &dyn FileSystem) -> CrateGraph<'_> {
        CrateGraph {
            fs,
            files: self.files,
            crates: self.crates,
            packages: self.packages,
            root: self.root,
            read_root: self.read_root,
            unreadable_modules: self.unreadable_modules,
            missing_modules: self.missing_modules,
        }
    }

    /// Every file's id, in order.
    pub fn file_ids(&self) -> impl Iterator<Item = FileId> + use<'_> {
        (0..self.files.len()).map(FileId::new)
    }

    /// Every crate's id, in order.
    pub fn crate_ids(&self) -> impl Iterator<Item = CrateId> + use<'_> {
        (0..self.crates.len()).map(CrateId::new)
    }

    /// Module `m`.
    pub fn module(&self, m: ModId) -> ModNode<'_> {
        self.crates[m.krate].modules.get(m.node)
    }

    /// A file's text as the summaries saw it (rules compute fix edits on it).
    pub fn source(&self, file: FileId) -> Arc<str> {
        match &self.files[file].text {
            Some(t) => t.clone(),
            None => self
                .fs
                .read_text(&self.files[file].path, Some(&self.read_root))
                .map(Arc::from)
                .unwrap_or_else(|_| Arc::from("")),
        }
    }

    /// The 1-based line of byte `offset` of a file: from its line starts, or, for a summary
    /// of the module structure alone (which keeps none), from its text.
    pub fn line_of(&self, file: FileId, offset: u32) -> usize {
        let starts = &self.files[file].summary.line_starts;
        if !starts.is_empty() {
            return starts.partition_point(|&s| s <= offset).max(1);
        }
        let text = self.source(file);
        let upto = text
            .as_bytes()
            .get(..offset as usize)
            .unwrap_or(text.as_bytes());
        memchr::memchr_iter(b'\n', upto).count() + 1
    }
}

fn rel_path(root: &Path, p: &Path) -> String {
    let Ok(r) = p.strip_prefix(root) else {
        return p.to_string_lossy().replace('\\', "/");
    };
    r.components()
        .map(|c| c.as_os_str().to_string_lossy().to_string())
        .collect::<Vec<_>>()
        .join("/")
}

struct Pending {
    krate: usize,
    path: PathBuf,
    mod_path: Vec<String>,
    parent: Option<usize>,
    is_test: bool,
    /// Directory that `mod x;` in this file resolves against.
    dir: PathBuf,
    /// The name under which the parent module knows it.
    name: Option<String>,
}

/// Deepest module path followed through `mod` declarations.
pub const MAX_MODULE_DEPTH: usize = 64;

pub fn build<'v>(fs: &'v dyn FileSystem, unit: &Unit, out_root: &Path) -> CrateGraph<'v> {
    build_with(fs, unit, out_root, &|_, text, edition| {
        Arc::new(parse::summarize(text, edition))
    })
}

/// How a file's text becomes its summary (the prefilter parses only some files).
/// Shared: a summary kept from an earlier run (see [`crate::cache::Memo`]) is not copied.
pub type Summarize<'a> = dyn Fn(&Path, &str, ra_ap_syntax::Edition) -> Arc<FileSummary> + Sync + 'a;

/// Every target's module tree, each file read through `fs` (only inside `out_root`) and
/// made a summary by `summarize`.
pub fn build_with<'v>(
    fs: &'v dyn FileSystem,
    unit: &Unit,
    out_root: &Path,
    summarize: &Summarize,
) -> CrateGraph<'v> {
    let mut g = CrateGraph {
        fs,
        files: Vec::new(),
        crates: Vec::new(),
        packages: unit.packages.clone(),
        root: unit.root.clone(),
        read_root: out_root.to_path_buf(),
        unreadable_modules: Vec::new(),
        missing_modules: Vec::new(),
    };
    let mut file_ids: HashMap<PathBuf, FileId> = HashMap::new();
    let mut queue: Vec<Pending> = Vec::new();

    // Crates: one per target.
    for (pi, pkg) in unit.packages.iter().enumerate() {
        for t in &pkg.targets {
            let k = g.crates.len();
            g.crates.push(CrateDef {
                name: t.name.clone(),
                package: pi,
                kind: t.kind,
                externs: BTreeMap::new(),
                modules: Modules::default(),
            });
            queue.push(root_pending(k, &t.root, t.kind.is_test_code()));
        }
    }

    let mut interner = Interner::default();
    // Each file's inline module tree, built once whatever the number of crates that include it.
    let mut trees: HashMap<FileId, Arc<FileTree>> = HashMap::new();
    let mut reached: HashSet<PathBuf> = HashSet::new();
    // (crate, file): a file is walked once per crate (`mod` cycles through #[path]).
    let mut in_crate: HashSet<(usize, FileId)> = HashSet::new();
    // The crate that first included a file below its root. A crate of unreached files
    // does not include a file another crate already includes that way, so each file is in
    // at most two such crates (as root, and below one root): a chain of `#[path]` files is
    // walked once, not once from each of its files.
    let mut included_by: HashMap<FileId, usize> = HashMap::new();
    // Files no module tree reached, checked as crates of their own one after the other,
    // each unless an earlier one's tree included it (all parsed in one parallel wave).
    let mut orphans: Option<std::collections::VecDeque<(usize, PathBuf)>> = None;
    let mut prefetch: Vec<PathBuf> = Vec::new();
    loop {
        if queue.is_empty() {
            let pending = orphans.get_or_insert_with(|| {
                let mut v = std::collections::VecDeque::new();
                for (pi, pkg) in unit.packages.iter().enumerate() {
                    for f in crate::workspace::package_rs_files(fs, pkg) {
                        if !reached.contains(&f) {
                            prefetch.push(f.clone());
                            v.push_back((pi, f));
                        }
                    }
                }
                v
            });
            while let Some((pi, f)) = pending.pop_front() {
                if reached.contains(&f) {
                    continue;
                }
                let pkg = &unit.packages[pi];
                {
                    let k = g.crates.len();
                    let (name, mod_path) = orphan_identity(pkg, &f);
                    g.crates.push(CrateDef {
                        name,
                        package: pi,
                        kind: TargetKind::Orphan,
                        externs: BTreeMap::new(),
                        modules: Modules::default(),
                    });
                    let mut pend = root_pending(k, &f, pkg.in_test_folder(&f));
                    pend.mod_path = mod_path;
                    queue.push(pend);
                    reached.insert(f);
                }
                break;
            }
            if queue.is_empty() {
                break;
            }
        }
        // Parse every new file of this wave in parallel.
        let mut new_paths: Vec<PathBuf> = queue
            .iter()
            .map(|p| p.path.clone())
            .chain(std::mem::take(&mut prefetch))
            .filter(|p| !file_ids.contains_key(p))
            .collect();
        new_paths.sort();
        new_paths.dedup();
        type Parsed = (
            PathBuf,
            Arc<FileSummary>,
            Option<String>,
            u64,
            Option<Arc<str>>,
        );
        let parsed: Vec<Parsed> = new_paths
            .into_par_iter()
            .map(|p| {
                let krate_edition = edition_for(unit, &p);
                match fs.read_text(&p, Some(out_root)) {
                    Ok(text) => {
                        let n = text.len() as u64;
                        let s = summarize(&p, &text, krate_edition);
                        (p, s, None, n, Some(Arc::from(text)))
                    }
                    Err(e) => (p, Arc::default(), Some(e.to_string()), 0, None),
                }
            })
            .collect();
        for (p, s, err, bytes, text) in parsed {
            let id = FileId::new(g.files.len());
            g.files.push(FileEntry {
                rel: rel_path(out_root, &p),
                path: p.clone(),
                summary: s,
                read_error: err,
                bytes,
                skeleton: false,
                text,
            });
            file_ids.insert(p, id);
        }
        let wave = std::mem::take(&mut queue);
        for pend in wave {
            reached.insert(pend.path.clone());
            // A module file reached through a symlink reaches its target too.
            if let Some(canon) = fs.real_path(&pend.path) {
                reached.insert(canon);
            }
            let Some(&fid) = file_ids.get(&pend.path) else {
                continue;
            };
            let summary = g.files[fid].summary.clone();
            let krate = pend.krate;
            // Guard against `mod` cycles through #[path].
            if !in_crate.insert((krate, fid)) {
                continue;
            }
            if pend.parent.is_some() {
                let first = *included_by.entry(fid).or_insert(krate);
                if first != krate && g.crates[krate].kind == TargetKind::Orphan {
                    continue;
                }
            }
            let tree = trees
                .entry(fid)
                .or_insert_with(|| Arc::new(FileTree::new(&summary)))
                .clone();
            let prefix = interner.path(pend.mod_path);
            let base = g.crates[krate]
                .modules
                .push(fid, prefix, pend.parent, pend.is_test, tree);
            if let (Some(p), Some(name)) = (pend.parent, &pend.name) {
                let name = interner.name(name);
                g.crates[krate].modules.declare(p, name, base);
            }
            for decl in &summary.mod_decls {
                let parent_mod = base + decl.parent;
                // Every file keeps its path: a chain of `#[path]` files thousands deep
                // would take memory quadratic in its length. Real trees are a few deep.
                if g.crates[krate].modules.get(parent_mod).path.len() >= MAX_MODULE_DEPTH {
                    g.unreadable_modules.push((
                        fid,
                        decl.span.clone(),
                        format!(
                            "module `{}`: nested more than {MAX_MODULE_DEPTH} modules deep; not followed",
                            decl.name
                        ),
                    ));
                    continue;
                }
                let inline = &summary.modules[decl.parent].inline_path;
                let mut dir = pend.dir.clone();
                for seg in inline {
                    dir.push(seg);
                }
                // `mod r#async;` is in `async.rs`.
                let file_name = decl.name.strip_prefix("r#").unwrap_or(&decl.name);
                // #[path] is relative to the directory of the current file; so is each
                // #[cfg_attr(.., path)], tried in order before the default files.
                let path_dir = if inline.is_empty() {
                    pend.path
                        .parent()
                        .map(Path::to_path_buf)
                        .unwrap_or_default()
                } else {
                    dir.clone()
                };
                let mut candidates: Vec<PathBuf> = match &decl.path_attr {
                    Some(p) => vec![path_dir.join(p)],
                    None => decl
                        .cfg_path_attrs
                        .iter()
                        .map(|p| path_dir.join(p))
                        .collect(),
                };
                let explicit = candidates.len();
                if decl.path_attr.is_none() {
                    candidates.push(dir.join(format!("{file_name}.rs")));
                    candidates.push(dir.join(file_name).join("mod.rs"));
                }
                let Ok((chosen, file)) = module_file(fs, &candidates, out_root).map_err(|why| {
                    let shown: Vec<String> = candidates
                        .iter()
                        .map(|c| rel_path(out_root, &normalize(c)))
                        .collect();
                    match &why {
                        // Refused: a finding at the declaration.
                        Some((i, e)) => g.unreadable_modules.push((
                            fid,
                            decl.span.clone(),
                            format!(
                                "module `{}`: {}: {e}",
                                decl.name,
                                shown.get(*i).map(String::as_str).unwrap_or_default()
                            ),
                        )),
                        // Absent (often behind a `cfg`, or left out of a published
                        // package): a warning naming the declaration.
                        None => g.missing_modules.push((
                            fid,
                            decl.span.clone(),
                            format!(
                                "module `{}` not found (looked for {})",
                                decl.name,
                                shown.join(" and ")
                            ),
                        )),
                    }
                    // Refused here, so not read as a file of its own either.
                    for c in &candidates {
                        reached.insert(normalize(c));
                    }
                }) else {
                    continue;
                };
                let is_mod_rs =
                    chosen < explicit || file.file_name().is_some_and(|n| n == "mod.rs");
                let child_dir = if is_mod_rs {
                    file.parent().map(Path::to_path_buf).unwrap_or_default()
                } else {
                    dir.join(file_name)
                };
                let parent_node = g.crates[krate].modules.get(parent_mod);
                let mut mod_path = parent_node.path.to_vec();
                mod_path.push(decl.name.clone());
                // Behind a feature only test builds turn on: test code too.
                let off = &g.packages[g.crates[krate].package].test_features;
                let is_test = decl.is_test
                    || parent_node.is_test
                    || decl
                        .feature_cfgs
                        .iter()
                        .any(|a| crate::parse::cfg::attr_is_cfg_test_with(a, &|f| off.contains(f)));
                queue.push(Pending {
                    krate,
                    path: file,
                    mod_path,
                    parent: Some(parent_mod),
                    is_test,
                    dir: child_dir,
                    name: Some(decl.name.clone()),
                });
            }
        }
    }
    link_externs(&mut g);
    g
}

/// The first candidate that is a readable module file (normalized), or why none is: the
/// first candidate that exists but may not be read, or `None` when none exists.
fn module_file(
    fs: &dyn FileSystem,
    candidates: &[PathBuf],
    root: &Path,
) -> Result<(usize, PathBuf), Option<(usize, crate::vfs::ReadError)>> {
    let mut why = None;
    for (i, c) in candidates.iter().enumerate() {
        match fs.check(c, Some(root)) {
            Ok(_) => return Ok((i, normalize(c))),
            Err(crate::vfs::ReadError::Missing) => {}
            Err(e) => {
                why.get_or_insert((i, e));
            }
        }
    }
    Err(why)
}

/// Where an unreached file would sit: `src/database/helpers.rs` of package `app` is checked
/// as module `app::database::helpers`, so SSOT membership works for it too.
fn orphan_identity(pkg: &Package, f: &Path) -> (String, Vec<String>) {
    let stem = f
        .file_stem()
        .map(|s| s.to_string_lossy().replace('-', "_"))
        .unwrap_or_default();
    let Ok(rel) = f.strip_prefix(pkg.dir.join("src")) else {
        return (stem, Vec::new());
    };
    let name = pkg
        .lib_name()
        .map(str::to_string)
        .unwrap_or_else(|| crate::workspace::underscore(&pkg.name));
    let mut segs: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().to_string())
        .collect();
    if let Some(last) = segs.pop() {
        let last = last.trim_end_matches(".rs").to_string();
        if !matches!(last.as_str(), "mod" | "lib" | "main") {
            segs.push(last);
        }
    }
    (name, segs)
}

fn root_pending(krate: usize, root: &Path, is_test: bool) -> Pending {
    Pending {
        krate,
        path: root.to_path_buf(),
        mod_path: Vec::new(),
        parent: None,
        is_test,
        dir: root.parent().map(Path::to_path_buf).unwrap_or_default(),
        name: None,
    }
}

/// The edition a file is read at: its package's (the deepest package directory holding
/// it). A file outside every package directory (a `[lib] path` or `#[path]` into a sibling
/// folder) takes the unit's edition when all its packages share one, else 2015 (cargo's
/// default).
pub(crate) fn edition_for(unit: &Unit, file: &Path) -> ra_ap_syntax::Edition {
    let owner = unit
        .packages
        .iter()
        .filter(|p| file.starts_with(&p.dir))
        .max_by_key(|p| p.dir.components().count());
    if let Some(p) = owner {
        return p.edition;
    }
    match unit.packages.split_first() {
        Some((first, rest)) if rest.iter().all(|p| p.edition == first.edition) => first.edition,
        _ => ra_ap_syntax::Edition::Edition2015,
    }
}

/// The extern prelude of every crate: its dependencies (renames applied), the package's own
/// lib for its other targets, workspace crates by path.
fn link_externs(g: &mut CrateGraph) {
    let lib_of: HashMap<String, CrateId> = g
        .crates
        .iter()
        .enumerate()
        .filter(|(_, c)| c.kind == TargetKind::Lib)
        .map(|(i, c)| {
            (
                crate::workspace::underscore(&g.packages[c.package].name),
                CrateId::new(i),
            )
        })
        .collect();
    for k in 0..g.crates.len() {
        if !g.crates[k].externs.is_empty() {
            continue;
        }
        let pkg = &g.packages[g.crates[k].package];
        let kind = g.crates[k].kind;
        let mut ex = BTreeMap::new();
        for (name, dep) in deps_for(pkg, kind) {
            let r = match lib_of.get(&dep.package) {
                Some(&lk) => ExternRef::Crate(lk),
                None => ExternRef::Package(dep.package.clone()),
            };
            ex.insert(name, r);
        }
        if kind != TargetKind::Lib
            && kind != TargetKind::BuildScript
            && let Some(&lk) = lib_of.get(&crate::workspace::underscore(&pkg.name))
        {
            let lib_name = g.crates[lk].name.clone();
            ex.insert(lib_name, ExternRef::Crate(lk));
        }
        for std in ["std", "core", "alloc"] {
            ex.entry(std.to_string())
                .or_insert(ExternRef::Package(std.to_string()));
        }
        g.crates[k].externs = ex;
    }
}
