//! Workspace stage: manifests, packages, targets and dependency renames, read with `toml`.
//!
//! No `cargo metadata`: it can need the network and runs nothing we want to run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use globset::Glob;
use ra_ap_syntax::Edition;

use crate::error::Error;

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
}

impl Package {
    pub fn lib_name(&self) -> Option<&str> {
        self.targets
            .iter()
            .find(|t| t.kind == TargetKind::Lib)
            .map(|t| t.name.as_str())
    }
}

/// One resolution universe: a workspace, or a lone package.
#[derive(Debug, Clone)]
pub struct Unit {
    pub root: PathBuf,
    pub manifest: PathBuf,
    pub packages: Vec<Package>,
}

pub fn underscore(name: &str) -> String {
    name.replace('-', "_")
}

fn read_toml(path: &Path) -> Result<toml::Table, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    toml::from_str::<toml::Table>(&text).map_err(|e| Error::Manifest {
        path: path.to_path_buf(),
        message: e.message().to_string(),
        span: e.span(),
        text,
    })
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

/// Find what to lint from `start` (a directory): the enclosing workspace or package, or,
/// when no manifest is at or above it, every workspace and package below it.
pub fn discover(start: &Path) -> Result<(PathBuf, Vec<Unit>), Error> {
    let start = start.canonicalize().map_err(|e| Error::Io {
        path: start.to_path_buf(),
        source: e,
    })?;
    let mut dir = Some(start.as_path());
    while let Some(d) = dir {
        let m = d.join("Cargo.toml");
        if m.is_file() {
            let root = workspace_root_for(&m)?;
            let unit = load_unit(&root)?;
            return Ok((unit.root.clone(), vec![unit]));
        }
        dir = d.parent();
    }
    // No manifest at or above: a monorepo of independent crates or a vendor folder.
    let mut manifests = Vec::new();
    let walker = ignore::WalkBuilder::new(&start)
        .hidden(false)
        .filter_entry(|e| e.file_name() != "target" && e.file_name() != ".git")
        .build();
    for entry in walker.flatten() {
        if entry.file_name() == "Cargo.toml" && entry.file_type().is_some_and(|t| t.is_file()) {
            manifests.push(entry.into_path());
        }
    }
    manifests.sort();
    let mut units: Vec<Unit> = Vec::new();
    for m in manifests {
        let dir = m.parent().unwrap_or(&start).to_path_buf();
        if units
            .iter()
            .any(|u| u.packages.iter().any(|p| p.dir == dir))
        {
            continue;
        }
        let root = workspace_root_for(&m)?;
        if units.iter().any(|u| u.root == root) {
            continue;
        }
        match load_unit(&root) {
            Ok(u) => units.push(u),
            Err(Error::Manifest { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok((start, units))
}

/// The workspace root a manifest belongs to (itself when it is not a member of one above).
fn workspace_root_for(manifest: &Path) -> Result<PathBuf, Error> {
    let dir = manifest.parent().unwrap_or(Path::new(".")).to_path_buf();
    let t = read_toml(manifest)?;
    if t.contains_key("workspace") {
        return Ok(dir);
    }
    if let Some(ws) = t
        .get("package")
        .and_then(|p| p.get("workspace"))
        .and_then(|w| w.as_str())
    {
        return Ok(dir.join(ws));
    }
    let mut up = dir.parent();
    while let Some(d) = up {
        let m = d.join("Cargo.toml");
        if m.is_file()
            && let Ok(t) = read_toml(&m)
            && let Some(ws) = t.get("workspace").and_then(|w| w.as_table())
        {
            if member_dirs(d, ws).iter().any(|md| md == &dir) {
                return Ok(d.to_path_buf());
            }
            break;
        }
        up = d.parent();
    }
    Ok(dir)
}

fn member_dirs(root: &Path, ws: &toml::Table) -> Vec<PathBuf> {
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
    for pat in pats("members") {
        if pat.contains(['*', '?', '[']) {
            let Ok(glob) = Glob::new(&pat) else { continue };
            let m = glob.compile_matcher();
            let depth = pat.split('/').count();
            for e in walkdir::WalkDir::new(root)
                .min_depth(1)
                .max_depth(depth)
                .into_iter()
                .flatten()
            {
                if e.file_type().is_dir()
                    && let Ok(rel) = e.path().strip_prefix(root)
                    && m.is_match(rel)
                    && e.path().join("Cargo.toml").is_file()
                {
                    out.push(normalize(e.path()));
                }
            }
        } else {
            out.push(normalize(&root.join(pat)));
        }
    }
    out.retain(|d| !excludes.iter().any(|x| d.starts_with(x)));
    out.sort();
    out.dedup();
    out
}

pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

pub fn load_unit(root: &Path) -> Result<Unit, Error> {
    let manifest = root.join("Cargo.toml");
    let t = read_toml(&manifest)?;
    let ws = t.get("workspace").and_then(|w| w.as_table()).cloned();
    let mut dirs = Vec::new();
    if t.contains_key("package") {
        dirs.push(root.to_path_buf());
    }
    if let Some(ws) = &ws {
        dirs.extend(member_dirs(root, ws));
    }
    dirs.dedup();
    let mut packages = Vec::new();
    let mut i = 0;
    while i < dirs.len() {
        let d = dirs[i].clone();
        i += 1;
        let m = d.join("Cargo.toml");
        let Ok(pt) = read_toml(&m) else { continue };
        let Some(pkg) = load_package(&d, &pt, ws.as_ref()) else {
            continue;
        };
        // Path dependencies inside the workspace are members too.
        for dep in &pkg.deps {
            if let Some(p) = &dep.path {
                let p = normalize(p);
                if p.starts_with(root) && !dirs.contains(&p) && p.join("Cargo.toml").is_file() {
                    dirs.push(p);
                }
            }
        }
        packages.push(pkg);
    }
    Ok(Unit {
        root: root.to_path_buf(),
        manifest,
        packages,
    })
}

fn load_package(dir: &Path, t: &toml::Table, ws: Option<&toml::Table>) -> Option<Package> {
    let p = t.get("package")?.as_table()?;
    let name = p.get("name")?.as_str()?.to_string();
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
            if let Some(s) = spec.as_table() {
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
    let targets = targets(dir, &name, t);
    Some(Package {
        name,
        dir: dir.to_path_buf(),
        manifest: dir.join("Cargo.toml"),
        edition,
        targets,
        deps,
    })
}

fn targets(dir: &Path, pkg_name: &str, t: &toml::Table) -> Vec<Target> {
    let mut out: Vec<Target> = Vec::new();
    let auto = |key: &str| {
        t.get("package")
            .and_then(|p| p.get(key))
            .and_then(|v| v.as_bool())
            != Some(false)
    };
    // lib
    let lib = t.get("lib").and_then(|l| l.as_table());
    let lib_path = lib
        .and_then(|l| l.get("path"))
        .and_then(|p| p.as_str())
        .map(|p| dir.join(p))
        .unwrap_or_else(|| dir.join("src/lib.rs"));
    if lib_path.is_file() {
        let name = lib
            .and_then(|l| l.get("name"))
            .and_then(|n| n.as_str())
            .unwrap_or(pkg_name);
        out.push(Target {
            kind: TargetKind::Lib,
            name: underscore(name),
            root: lib_path,
        });
    }
    // explicit [[bin]], [[test]], [[bench]], [[example]]
    for (key, kind, auto_dir) in [
        ("bin", TargetKind::Bin, "src/bin"),
        ("test", TargetKind::Test, "tests"),
        ("bench", TargetKind::Bench, "benches"),
        ("example", TargetKind::Example, "examples"),
    ] {
        if let Some(arr) = t.get(key).and_then(|v| v.as_array()) {
            for e in arr {
                let Some(name) = e.get("name").and_then(|n| n.as_str()) else {
                    continue;
                };
                let path = match e.get("path").and_then(|p| p.as_str()) {
                    Some(p) => dir.join(p),
                    None if kind == TargetKind::Bin && name == pkg_name => dir.join("src/main.rs"),
                    None => {
                        let f = dir.join(auto_dir).join(format!("{name}.rs"));
                        if f.is_file() {
                            f
                        } else {
                            dir.join(auto_dir).join(name).join("main.rs")
                        }
                    }
                };
                if path.is_file() {
                    out.push(Target {
                        kind,
                        name: underscore(name),
                        root: path,
                    });
                }
            }
        }
        let auto_key = format!("auto{key}s");
        let auto_key = if key == "bench" {
            "autobenches".to_string()
        } else {
            auto_key
        };
        if !auto(&auto_key) {
            continue;
        }
        if kind == TargetKind::Bin {
            let main = dir.join("src/main.rs");
            if main.is_file() && !out.iter().any(|t| t.root == main) {
                out.push(Target {
                    kind,
                    name: underscore(pkg_name),
                    root: main,
                });
            }
        }
        let d = dir.join(auto_dir);
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        let mut found: Vec<(String, PathBuf)> = Vec::new();
        for e in rd.flatten() {
            let p = e.path();
            if p.is_file() && p.extension().is_some_and(|x| x == "rs") {
                let stem = p
                    .file_stem()
                    .map(|s| s.to_string_lossy().to_string())
                    .unwrap_or_default();
                found.push((stem, p));
            } else if p.is_dir() && p.join("main.rs").is_file() {
                let stem = p
                    .file_name()
                    .map(|s| s.to_string_lossy().to_string())
                    .unwrap_or_default();
                found.push((stem, p.join("main.rs")));
            }
        }
        found.sort();
        for (name, p) in found {
            if !out.iter().any(|t| t.root == p) {
                out.push(Target {
                    kind,
                    name: underscore(&name),
                    root: p,
                });
            }
        }
    }
    // build script
    let build = match t.get("package").and_then(|p| p.get("build")) {
        Some(toml::Value::String(s)) => Some(dir.join(s)),
        Some(toml::Value::Boolean(false)) => None,
        _ => Some(dir.join("build.rs")),
    };
    if let Some(b) = build
        && b.is_file()
    {
        out.push(Target {
            kind: TargetKind::BuildScript,
            name: "build_script_build".into(),
            root: b,
        });
    }
    out
}

/// `.rs` files of a package that no target's module tree reached, outside `target/`, nested
/// packages and what `.gitignore` ignores.
pub fn package_rs_files(pkg: &Package) -> Vec<PathBuf> {
    let root = pkg.dir.clone();
    let walker = ignore::WalkBuilder::new(&pkg.dir)
        .hidden(false)
        .filter_entry(move |e| {
            let p = e.path();
            if e.file_type().is_some_and(|t| t.is_dir()) {
                if e.file_name() == "target" || e.file_name() == ".git" {
                    return false;
                }
                // A nested package is linted on its own (or not at all).
                if p != root && p.join("Cargo.toml").is_file() {
                    return false;
                }
            }
            true
        })
        .build();
    let mut v: Vec<PathBuf> = walker
        .flatten()
        .filter(|e| {
            e.file_type().is_some_and(|t| t.is_file())
                && e.path().extension().is_some_and(|x| x == "rs")
        })
        .map(|e| e.into_path())
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
