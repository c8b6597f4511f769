//! Workspace stage: manifests, packages, targets and dependency renames, read with `toml`.
//!
//! No `cargo metadata`: it can need the network and runs nothing we want to run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use globset::Glob;
use ra_ap_syntax::Edition;

use crate::error::Error;
use crate::vfs::{EntryKind, FileSystem, Walk};

mod features;
mod targets;

use self::targets::targets;

pub use crate::vfs::normalize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    Lib,
    Bin,
    Test,
    Bench,
    Example,
    BuildScript,
    /// A `.rs` file under a package that no module tree reaches.
    Orphan,
}

impl TargetKind {
    /// Targets whose code is test code (allowed to build its own pools).
    pub fn is_test_code(self) -> bool {
        matches!(
            self,
            TargetKind::Test | TargetKind::Bench | TargetKind::Example
        )
    }
}

#[derive(Debug, Clone)]
pub struct Target {
    pub kind: TargetKind,
    /// The crate name code uses (`my_crate`).
    pub name: String,
    pub root: PathBuf,
}

#[derive(Debug, Clone)]
pub struct Dependency {
    /// The name code writes (`db` for `db = { package = "sqlx" }`), hyphens as underscores.
    pub extern_name: String,
    /// The package it names, hyphens as underscores.
    pub package: String,
    pub path: Option<PathBuf>,
    pub kind: DepKind,
    /// The features the entry turns on (`features = [..]`), and whether `default` too.
    pub features: Vec<String>,
    pub default_features: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DepKind {
    Normal,
    Dev,
    Build,
}

#[derive(Debug, Clone)]
pub struct Package {
    pub name: String,
    pub dir: PathBuf,
    pub manifest: PathBuf,
    pub edition: Edition,
    pub targets: Vec<Target>,
    pub deps: Vec<Dependency>,
    /// `[features]`: each feature and what it turns on.
    pub features: BTreeMap<String, Vec<String>>,
    /// The features only test builds turn on (see `workspace/features.rs`), set per unit.
    pub test_features: std::collections::BTreeSet<String>,
}

impl Package {
    pub fn lib_name(&self) -> Option<&str> {
        self.targets
            .iter()
            .find(|t| t.kind == TargetKind::Lib)
            .map(|t| t.name.as_str())
    }

    /// Whether `path` lies in the package's `tests/`, `benches/` or `examples/` folder (where
    /// a file no target reaches is test code).
    pub fn in_test_folder(&self, path: &Path) -> bool {
        path.strip_prefix(&self.dir)
            .ok()
            .and_then(|r| r.components().next())
            .is_some_and(|c| {
                matches!(
                    c.as_os_str().to_str(),
                    Some("tests" | "benches" | "examples")
                )
            })
    }
}

/// One resolution universe: a workspace, or a lone package.
#[derive(Debug, Clone)]
pub struct Unit {
    pub root: PathBuf,
    pub manifest: PathBuf,
    pub packages: Vec<Package>,
    /// What was skipped while loading it that cargo would skip too (a target path that
    /// does not exist, a member without a manifest).
    pub warnings: Vec<String>,
    /// Targets that exist but cannot be read (outside the workspace, not a regular file,
    /// too large): SSOT000 findings, never a silent drop.
    pub problems: Vec<Problem>,
}

/// Something of a manifest that discovery could not read or resolve: an SSOT000 finding at
/// the manifest (see `crate::engine`), never a warning the exit status ignores.
#[derive(Debug, Clone)]
pub struct Problem {
    pub manifest: PathBuf,
    /// The manifest's text, when it could be read (for the position and the snippet).
    pub text: Option<String>,
    /// What in it is wrong (a byte range of `text`).
    pub span: Option<std::ops::Range<usize>>,
    pub message: String,
}

impl Problem {
    /// A package a folder scan could not load: where the error points, or its manifest.
    fn package(manifest: &Path, e: Error) -> Problem {
        match e {
            Error::Manifest {
                message,
                span,
                text,
                ..
            } => Problem {
                manifest: manifest.to_path_buf(),
                span: span.filter(|_| !text.is_empty()),
                text: (!text.is_empty()).then_some(text),
                message: format!("package not linted: invalid manifest: {message}"),
            },
            Error::Io { source, .. } => Problem {
                manifest: manifest.to_path_buf(),
                text: None,
                span: None,
                message: format!("package not linted: cannot read its manifest: {source}"),
            },
            other => Problem {
                manifest: manifest.to_path_buf(),
                text: None,
                span: None,
                message: format!("package not linted: {other}"),
            },
        }
    }
}

/// What loading a package skipped: warnings (as cargo would skip it) and problems (what
/// cargo would build but cannot be read here).
#[derive(Debug, Default)]
struct Skipped {
    warnings: Vec<String>,
    problems: Vec<Problem>,
}

pub fn underscore(name: &str) -> String {
    name.replace('-', "_")
}

/// A manifest, read only when its real path is a regular file inside `root`.
fn read_toml(fs: &dyn FileSystem, path: &Path, root: &Path) -> Result<toml::Table, Error> {
    let text = fs.read_utf8(path, Some(root)).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e.into(),
    })?;
    toml::from_str::<toml::Table>(&text).map_err(|e| Error::Manifest {
        path: path.to_path_buf(),
        message: e.message().to_string(),
        span: e.span(),
        text,
    })
}

/// Whether a `[package]` table inherits a key from its workspace (`edition.workspace = true`).
fn inherits_keys(p: &toml::Value) -> bool {
    p.as_table().is_some_and(|p| {
        p.values().any(|v| {
            v.as_table()
                .and_then(|t| t.get("workspace"))
                .and_then(toml::Value::as_bool)
                == Some(true)
        })
    })
}

/// The `[workspace]` table of the nearest manifest above `dir` that has one, read as
/// [`workspace_root_for`] reads it.
fn enclosing_workspace(fs: &dyn FileSystem, dir: &Path) -> Option<toml::Table> {
    let mut up = dir.parent();
    while let Some(d) = up {
        let m = d.join("Cargo.toml");
        if fs.is_file(&m)
            && let Ok(t) = read_toml(fs, &m, d)
            && let Some(ws) = t.get("workspace").and_then(|w| w.as_table())
        {
            return Some(ws.clone());
        }
        up = d.parent();
    }
    None
}

fn edition_of(v: Option<&toml::Value>, ws: Option<&toml::Table>) -> Edition {
    let s = match v {
        Some(toml::Value::String(s)) => Some(s.clone()),
        Some(toml::Value::Table(t))
            if t.get("workspace").and_then(|w| w.as_bool()) == Some(true) =>
        {
            ws.and_then(|w| w.get("package"))
                .and_then(|p| p.get("edition"))
                .and_then(|e| e.as_str())
                .map(str::to_string)
        }
        _ => None,
    };
    match s.as_deref() {
        Some("2018") => Edition::Edition2018,
        Some("2021") => Edition::Edition2021,
        Some("2024") => Edition::Edition2024,
        _ => Edition::Edition2015,
    }
}

/// What [`discover`] found: the root finding paths are relative to, the units to lint, and
/// the packages of a scanned folder it could not load (each an SSOT000 finding).
#[derive(Debug)]
pub struct Discovery {
    pub root: PathBuf,
    pub units: Vec<Unit>,
    pub warnings: Vec<String>,
    pub problems: Vec<Problem>,
}

/// Find what to lint from `start` (a directory): the enclosing workspace or package, or,
/// when no manifest is at or above it, every workspace and package below it.
pub fn discover(fs: &dyn FileSystem, start: &Path) -> Result<Discovery, Error> {
    let start = fs.canonicalize(start).map_err(|e| Error::Io {
        path: start.to_path_buf(),
        source: e,
    })?;
    if !fs.is_dir(&start) {
        return Err(Error::Usage(format!(
            "{} is not a directory",
            start.display()
        )));
    }
    let mut dir = Some(start.as_path());
    while let Some(d) = dir {
        let m = d.join("Cargo.toml");
        // Present in any form: a manifest that cannot be read is an error, not a skip.
        if fs.exists_here(&m) {
            let root = workspace_root_for(fs, &m)?;
            let unit = load_unit(fs, &root, &root)?;
            return Ok(Discovery {
                root: unit.root.clone(),
                units: vec![unit],
                warnings: Vec::new(),
                problems: Vec::new(),
            });
        }
        dir = d.parent();
    }
    // No manifest at or above: a monorepo of independent crates or a vendor folder.
    let manifests = folder_manifests(fs, &start);
    let mut units: Vec<Unit> = Vec::new();
    let mut problems = Vec::new();
    let mut first_error = None;
    for m in manifests {
        let dir = m.parent().unwrap_or(&start).to_path_buf();
        if units
            .iter()
            .any(|u| u.packages.iter().any(|p| p.dir == dir))
        {
            continue;
        }
        // One broken package does not stop the scan, nor is it dropped: a finding (below).
        let loaded = workspace_root_for(fs, &m).and_then(|root| {
            if units.iter().any(|u| u.root == root) {
                return Ok(None);
            }
            if !root.starts_with(&start) {
                return Err(Error::Usage(
                    "its workspace is outside the scanned folder".into(),
                ));
            }
            // Its targets and modules may be anywhere in the scanned folder.
            load_unit(fs, &root, &start).map(Some)
        });
        match loaded {
            Ok(Some(u)) => units.push(u),
            Ok(None) => {}
            // One broken package does not stop the scan, and is not dropped either: an
            // SSOT000 finding at its manifest.
            Err(e) => {
                if first_error.is_none() {
                    first_error = Some(e.to_string());
                }
                problems.push(Problem::package(&m, e));
            }
        }
    }
    if units.is_empty()
        && let Some(e) = first_error
    {
        return Err(Error::Usage(format!(
            "no package below {} could be loaded: {e}",
            start.display()
        )));
    }
    Ok(Discovery {
        root: start,
        units,
        warnings: Vec::new(),
        problems,
    })
}

/// Every `Cargo.toml` a folder scan lints, sorted: below `start`, outside `.git/` and
/// (unless git tracks it) `target/`, of any kind (a symlink, a FIFO: read through the gate,
/// or a finding). What git ignores is left out only while git does not track it (untracked
/// build output, vendored copies): a crate a pull request commits is in every clone,
/// whatever `.gitignore` says.
/// `.ignore` files hide nothing here. When git cannot tell, no ignore file applies.
fn folder_manifests(fs: &dyn FileSystem, start: &Path) -> Vec<PathBuf> {
    let skip = ["target", ".git"];
    // Whatever its kind (a symlink, a FIFO, a device): the gate then refuses to read it,
    // and that is a finding.
    let is_manifest = |e: &crate::vfs::DirEntry| {
        e.file_name() == Some("Cargo.toml".as_ref()) && e.kind != EntryKind::Dir
    };
    let tracked = fs.tracked(start, "Cargo.toml");
    let walk = Walk {
        // Git's rules only where git can say what it tracks.
        ignore_files: tracked.is_some(),
        dot_ignore: false,
        skip_dirs: &skip,
        ..Walk::new(start)
    };
    let mut manifests: Vec<PathBuf> = fs
        .walk(&walk)
        .into_iter()
        .filter(is_manifest)
        .map(|e| e.path)
        .collect();
    // A tracked manifest is committed code, even under a folder named `target`.
    for t in tracked.unwrap_or_default() {
        let in_git_dir = t
            .strip_prefix(start)
            .ok()
            .is_some_and(|r| r.components().any(|c| c.as_os_str() == ".git"));
        if !in_git_dir && fs.exists_here(&t) {
            manifests.push(t);
        }
    }
    manifests.sort();
    manifests.dedup();
    manifests
}

fn manifest_error(path: &Path, text: &str, needle: Option<&str>, message: String) -> Error {
    let span = needle.and_then(|n| text.find(n).map(|i| i..i + n.len()));
    let has_span = span.is_some();
    Error::Manifest {
        path: path.to_path_buf(),
        message,
        span,
        text: if has_span {
            text.to_string()
        } else {
            String::new()
        },
    }
}

/// A manifest and its text, read only when its real path is a regular file inside `root`.
fn read_toml_text(
    fs: &dyn FileSystem,
    path: &Path,
    root: &Path,
) -> Result<(toml::Table, String), Error> {
    let text = fs.read_utf8(path, Some(root)).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e.into(),
    })?;
    match toml::from_str::<toml::Table>(&text) {
        Ok(t) => Ok((t, text)),
        Err(e) => Err(Error::Manifest {
            path: path.to_path_buf(),
            message: e.message().to_string(),
            span: e.span(),
            text,
        }),
    }
}

/// The workspace root a manifest belongs to (itself when it is not a member of one above).
fn workspace_root_for(fs: &dyn FileSystem, manifest: &Path) -> Result<PathBuf, Error> {
    let dir = manifest.parent().unwrap_or(Path::new(".")).to_path_buf();
    let (t, text) = read_toml_text(fs, manifest, &dir)?;
    if t.contains_key("workspace") {
        return Ok(dir);
    }
    if let Some(ws) = t
        .get("package")
        .and_then(|p| p.get("workspace"))
        .and_then(|w| w.as_str())
    {
        // As cargo: the named directory must hold a workspace that has this package as a
        // member; it is never linted in the package's place.
        let ws_dir = normalize(&dir.join(ws));
        let ws_dir = fs.canonicalize(&ws_dir).unwrap_or(ws_dir);
        let lists_us = read_toml(fs, &ws_dir.join("Cargo.toml"), &ws_dir)
            .ok()
            .and_then(|wt| {
                wt.get("workspace")
                    .and_then(|w| w.as_table())
                    .map(|w| member_dirs(fs, &ws_dir, w).0.contains(&dir))
            })
            .unwrap_or(false);
        if !lists_us {
            return Err(manifest_error(
                manifest,
                &text,
                Some(&format!("\"{ws}\"")),
                format!(
                    "package.workspace = \"{ws}\" does not name a workspace that has this package as a member"
                ),
            ));
        }
        return Ok(ws_dir);
    }
    let mut up = dir.parent();
    while let Some(d) = up {
        let m = d.join("Cargo.toml");
        if fs.is_file(&m)
            && let Ok(t) = read_toml(fs, &m, d)
            && let Some(ws) = t.get("workspace").and_then(|w| w.as_table())
        {
            if member_dirs(fs, d, ws).0.iter().any(|md| md == &dir) {
                return Ok(d.to_path_buf());
            }
            break;
        }
        up = d.parent();
    }
    Ok(dir)
}

/// Member directories of a workspace, and the member patterns that lead outside its root.
fn member_dirs(fs: &dyn FileSystem, root: &Path, ws: &toml::Table) -> (Vec<PathBuf>, Vec<String>) {
    let pats = |key: &str| -> Vec<String> {
        ws.get(key)
            .and_then(|m| m.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let excludes: Vec<PathBuf> = pats("exclude")
        .iter()
        .map(|e| normalize(&root.join(e)))
        .collect();
    let mut out = Vec::new();
    let mut outside = Vec::new();
    for pat in pats("members") {
        if pat.contains(['*', '?', '[']) {
            let Ok(glob) = Glob::new(&pat) else { continue };
            let m = glob.compile_matcher();
            let depth = pat.split('/').count();
            let walk = Walk {
                min_depth: 1,
                max_depth: Some(depth),
                ..Walk::new(root)
            };
            for e in fs.walk(&walk) {
                if e.kind == EntryKind::Dir
                    && let Ok(rel) = e.path.strip_prefix(root)
                    && m.is_match(rel)
                    && fs.is_file(&e.path.join("Cargo.toml"))
                {
                    out.push(normalize(&e.path));
                }
            }
        } else {
            let d = normalize(&root.join(&pat));
            if d.starts_with(root) {
                out.push(d);
            } else {
                outside.push(pat);
            }
        }
    }
    out.retain(|d| !excludes.iter().any(|x| d.starts_with(x)));
    out.sort();
    out.dedup();
    (out, outside)
}

/// Load a workspace or package. Every manifest read is inside `root`, every target file
/// inside `within` (the root, or the folder a scan was pointed at); a member outside the
/// root, a member whose manifest cannot be read or has no string `name`, and two packages
/// with one name are errors, as they are for cargo.
pub fn load_unit(fs: &dyn FileSystem, root: &Path, within: &Path) -> Result<Unit, Error> {
    let manifest = root.join("Cargo.toml");
    let (t, text) = read_toml_text(fs, &manifest, root)?;
    let ws = t.get("workspace").and_then(|w| w.as_table()).cloned();
    let mut dirs = Vec::new();
    if t.contains_key("package") {
        dirs.push(root.to_path_buf());
    }
    let mut skipped = Skipped::default();
    // A package in no workspace of its own that inherits keys (`edition.workspace = true`):
    // as cargo reads it, from the workspace that encloses it (a package that is not its
    // member: cargo refuses to build it, but its code is that workspace's edition). With
    // no enclosing workspace there is nothing to inherit: skipped with a notice, never
    // parsed as edition 2015 by accident.
    let mut inherit = ws.clone();
    if ws.is_none() && t.get("package").is_some_and(inherits_keys) {
        inherit = enclosing_workspace(fs, root);
        if inherit.is_none() {
            skipped.warnings.push(format!(
                "{}: the package inherits keys from a workspace (`workspace = true`) but no workspace encloses it (cargo refuses to build it); skipped",
                manifest.display()
            ));
            dirs.clear();
        }
    }
    if let Some(ws) = &ws {
        let (inside, outside) = member_dirs(fs, root, ws);
        if let Some(pat) = outside.first() {
            return Err(manifest_error(
                &manifest,
                &text,
                Some(&format!("\"{pat}\"")),
                format!("workspace member `{pat}` is outside the workspace root; not linted"),
            ));
        }
        dirs.extend(inside);
    }
    dirs.dedup();
    let mut packages: Vec<Package> = Vec::new();
    let mut i = 0;
    while i < dirs.len() {
        let d = dirs[i].clone();
        i += 1;
        let m = d.join("Cargo.toml");
        if !fs.exists_here(&m) {
            skipped.warnings.push(format!(
                "{}: workspace member {} has no Cargo.toml; skipped",
                manifest.display(),
                d.display()
            ));
            continue;
        }
        let (pt, ptext) = read_toml_text(fs, &m, root)?;
        let Some(pkg) = load_package(fs, &d, &pt, &ptext, inherit.as_ref(), within, &mut skipped)?
        else {
            continue;
        };
        if let Some(other) = packages.iter().find(|p| p.name == pkg.name) {
            return Err(Error::Usage(format!(
                "two packages named `{}`: {} and {}",
                pkg.name,
                other.manifest.display(),
                pkg.manifest.display()
            )));
        }
        // Path dependencies inside the workspace are members too.
        for dep in &pkg.deps {
            if let Some(p) = &dep.path {
                let p = normalize(p);
                if p.starts_with(root) && !dirs.contains(&p) && fs.is_file(&p.join("Cargo.toml")) {
                    dirs.push(p);
                }
            }
        }
        packages.push(pkg);
    }
    let test_features = features::test_only(&packages);
    for (p, f) in packages.iter_mut().zip(test_features) {
        p.test_features = f;
    }
    Ok(Unit {
        root: root.to_path_buf(),
        manifest,
        packages,
        warnings: skipped.warnings,
        problems: skipped.problems,
    })
}

fn load_package(
    fs: &dyn FileSystem,
    dir: &Path,
    t: &toml::Table,
    text: &str,
    ws: Option<&toml::Table>,
    root: &Path,
    skipped: &mut Skipped,
) -> Result<Option<Package>, Error> {
    let manifest = dir.join("Cargo.toml");
    let Some(pv) = t.get("package") else {
        return Ok(None);
    };
    let Some(p) = pv.as_table() else {
        return Err(manifest_error(
            &manifest,
            text,
            None,
            "`package` is not a table".into(),
        ));
    };
    let name = match p.get("name") {
        Some(toml::Value::String(n)) if !n.is_empty() => n.clone(),
        Some(_) => {
            return Err(manifest_error(
                &manifest,
                text,
                Some("name"),
                "package.name is not a non-empty string".into(),
            ));
        }
        None => {
            return Err(manifest_error(
                &manifest,
                text,
                None,
                "package.name is missing".into(),
            ));
        }
    };
    let edition = edition_of(p.get("edition"), ws);
    let mut deps = Vec::new();
    let ws_deps = ws
        .and_then(|w| w.get("dependencies"))
        .and_then(|d| d.as_table());
    let mut add = |table: Option<&toml::Value>, kind: DepKind| {
        let Some(table) = table.and_then(|v| v.as_table()) else {
            return;
        };
        for (key, spec) in table {
            let mut package = key.clone();
            let mut path = None;
            let mut features = Vec::new();
            let mut default_features = true;
            if let Some(s) = spec.as_table() {
                features = features::strings(s.get("features"));
                default_features = s
                    .get("default-features")
                    .or_else(|| s.get("default_features"))
                    .and_then(|v| v.as_bool())
                    .unwrap_or(true);
                if s.get("workspace").and_then(|w| w.as_bool()) == Some(true)
                    && let Some(w) = ws_deps.and_then(|d| d.get(key)).and_then(|v| v.as_table())
                {
                    if let Some(pk) = w.get("package").and_then(|v| v.as_str()) {
                        package = pk.to_string();
                    }
                    if let Some(pp) = w.get("path").and_then(|v| v.as_str()) {
                        // Workspace dependency paths are relative to the workspace root.
                        path = Some(PathBuf::from(pp));
                    }
                    // Features add up; `default-features` is the workspace entry's.
                    features.extend(features::strings(w.get("features")));
                    if let Some(d) = w.get("default-features").and_then(|v| v.as_bool()) {
                        default_features = d;
                    }
                }
                if let Some(pk) = s.get("package").and_then(|v| v.as_str()) {
                    package = pk.to_string();
                }
                if let Some(pp) = s.get("path").and_then(|v| v.as_str()) {
                    path = Some(dir.join(pp));
                }
            }
            deps.push(Dependency {
                extern_name: underscore(key),
                package: underscore(&package),
                path,
                kind,
                features,
                default_features,
            });
        }
    };
    add(t.get("dependencies"), DepKind::Normal);
    add(t.get("dev-dependencies"), DepKind::Dev);
    add(t.get("build-dependencies"), DepKind::Build);
    if let Some(targets) = t.get("target").and_then(|v| v.as_table()) {
        for (_, tt) in targets {
            add(tt.get("dependencies"), DepKind::Normal);
            add(tt.get("dev-dependencies"), DepKind::Dev);
            add(tt.get("build-dependencies"), DepKind::Build);
        }
    }
    let targets = targets(fs, dir, &name, t, text, root, skipped);
    Ok(Some(Package {
        name,
        dir: dir.to_path_buf(),
        manifest,
        edition,
        targets,
        deps,
        features: features::table(t.get("features")),
        test_features: Default::default(),
    }))
}

/// `.rs` files of a package that no target's module tree reached, outside `target/`, nested
/// packages, the cache directory and what ignore files leave out.
pub fn package_rs_files(fs: &dyn FileSystem, pkg: &Package) -> Vec<PathBuf> {
    let walk = Walk {
        ignore_files: true,
        skip_dirs: &["target", ".git", crate::vfs::TOOL_DIR],
        // A nested package is linted on its own (or not at all).
        skip_packages: true,
        ..Walk::new(&pkg.dir)
    };
    let mut v: Vec<PathBuf> = fs
        .walk(&walk)
        .into_iter()
        .filter(|e| e.kind == EntryKind::File && e.path.extension().is_some_and(|x| x == "rs"))
        .map(|e| e.path)
        .collect();
    v.sort();
    v
}

/// Dependencies visible to a target, by extern name.
pub fn deps_for(pkg: &Package, kind: TargetKind) -> BTreeMap<String, &Dependency> {
    let mut m = BTreeMap::new();
    for d in &pkg.deps {
        let visible = match d.kind {
            DepKind::Normal => kind != TargetKind::BuildScript,
            // Dev-dependencies are visible to `#[cfg(test)]` code of every target.
            DepKind::Dev => kind != TargetKind::BuildScript,
            DepKind::Build => kind == TargetKind::BuildScript,
        };
        if visible {
            m.entry(d.extern_name.clone()).or_insert(d);
        }
    }
    m
}

/// 1-based line of the first occurrence of `needle` in `text` (for messages that name the
/// line of a manifest key), or `None`.
fn line_of(text: &str, needle: &str) -> Option<usize> {
    let at = text.find(needle)?;
    Some(text[..at].matches('\n').count() + 1)
}
