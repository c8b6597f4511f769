//! Project configuration: `ssot-lint.toml` at the workspace root, or
//! `[workspace.metadata.ssot-lint]` / `[package.metadata.ssot-lint]` in the root `Cargo.toml`.
//! Every value keeps its span so that errors point at the line and column.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use serde_spanned::Spanned;

use crate::error::Error;

use crate::packs::{PackIndex, RulePackSource};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigSource {
    #[serde(default)]
    pub ssot: BTreeMap<Spanned<String>, Vec<Spanned<String>>>,
    #[serde(default)]
    pub allow: AllowSource,
    #[serde(default)]
    pub deprecated: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    pub accessor: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    pub pack: Vec<RulePackSource>,
    #[serde(default)]
    pub resource: Vec<ResourceSource>,
}

/// One `[[resource]]`: a database, cache or broker of its own, with its SSOT modules.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceSource {
    pub name: Spanned<String>,
    pub kind: Spanned<String>,
    #[serde(default)]
    pub backend: Option<Spanned<String>>,
    pub ssot: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    pub connects: Vec<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowSource {
    #[serde(default)]
    pub tests: Option<bool>,
    #[serde(default)]
    pub paths: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
struct CargoManifest {
    #[serde(default)]
    workspace: Option<MetaHolder>,
    #[serde(default)]
    package: Option<MetaHolder>,
}

#[derive(Deserialize)]
struct MetaHolder {
    #[serde(default)]
    metadata: Option<MetaTable>,
}

#[derive(Deserialize)]
struct MetaTable {
    #[serde(rename = "ssot-lint", default)]
    ssot_lint: Option<ConfigSource>,
}

/// A module path from the config (`app::database`), with where it was written.
#[derive(Debug, Clone)]
pub struct ConfigPath {
    pub segs: Vec<String>,
    pub text: String,
    pub span: Range<usize>,
}

/// A resource the config declares (`[[resource]]`): one database, cache or broker of a
/// kind, apart from the kind's default resource (`[ssot]`).
#[derive(Debug, Clone)]
pub struct Resource {
    pub name: String,
    pub kind: String,
    /// `postgres`, `sqlite`, `mysql`, `mssql`: a construction naming another backend is
    /// not this resource.
    pub backend: Option<String>,
    pub ssot: Vec<ConfigPath>,
    /// Identity evidence: literals (a file, a URL, an environment variable) a construction
    /// of this resource names.
    pub connects: Vec<String>,
}

/// The backends a `[[resource]]` may name (what [`crate::semantic::Site::backend`] tells).
pub const BACKENDS: &[&str] = &["postgres", "sqlite", "mysql", "mssql"];

#[derive(Debug, Clone)]
pub struct Config {
    /// The file the config came from, and its text (for error spans).
    pub file: Option<(PathBuf, String)>,
    /// `[ssot] modules`: SSOT modules for every resource kind without its own entry.
    pub default_ssot: Vec<ConfigPath>,
    pub ssot: BTreeMap<String, Vec<ConfigPath>>,
    pub allow_tests: bool,
    pub allow_paths: GlobSet,
    pub deprecated: Vec<(ConfigPath, ConfigPath)>,
    pub accessors: BTreeMap<String, String>,
    /// `[[resource]]`s, in the order written.
    pub resources: Vec<Resource>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            file: None,
            default_ssot: Vec::new(),
            ssot: BTreeMap::new(),
            allow_tests: true,
            allow_paths: GlobSet::empty(),
            deprecated: Vec::new(),
            accessors: BTreeMap::new(),
            resources: Vec::new(),
        }
    }
}

impl Config {
    /// SSOT modules of a resource kind (empty: none designated).
    pub fn ssot_for(&self, resource: &str) -> &[ConfigPath] {
        match self.ssot.get(resource) {
            Some(v) => v,
            None => &self.default_ssot,
        }
    }

    /// Every module path the config names, for validation against the workspace.
    pub fn all_module_paths(&self) -> impl Iterator<Item = &ConfigPath> {
        self.default_ssot
            .iter()
            .chain(self.ssot.values().flatten())
            .chain(self.deprecated.iter().map(|(_, to)| to))
            .chain(self.resources.iter().flat_map(|r| &r.ssot))
    }

    pub fn error(&self, span: Range<usize>, message: impl Into<String>) -> Error {
        match &self.file {
            Some((p, t)) => Error::config(p, t, Some(span), message),
            None => Error::Usage(message.into()),
        }
    }
}

/// Find and load the config for a workspace root, adding `[[pack]]`s to `packs`. `named` is
/// a config named on the command line (or shared by a scan's units) and the directory it
/// must be inside.
pub fn load(
    fs: &dyn crate::vfs::FileSystem,
    root: &Path,
    named: Option<(&Path, &Path)>,
    packs: &mut Arc<PackIndex>,
) -> Result<Config, Error> {
    // A file named on the command line must be a regular file inside the workspace it was
    // named in; one found in the workspace, inside the root. Either is read with the size
    // cap, and a refused file's text is never read, so an error cannot print it.
    let read = |p: &Path, within: &Path| {
        fs.read_utf8(p, Some(within)).map_err(|e| Error::Io {
            path: p.to_path_buf(),
            source: e.into(),
        })
    };
    if let Some((p, within)) = named {
        let text = read(p, within)?;
        // A manifest named on the command line (the action's trusted copy): its metadata.
        if p.file_name().is_some_and(|n| n == "Cargo.toml") {
            return manifest_config(p, &text, packs);
        }
        return parse_file(p, &text, packs);
    }
    let file = root.join("ssot-lint.toml");
    if fs.exists_here(&file) {
        let text = read(&file, root)?;
        return parse_file(&file, &text, packs);
    }
    let manifest = root.join("Cargo.toml");
    if fs.is_file(&manifest) {
        let text = read(&manifest, root)?;
        return manifest_config(&manifest, &text, packs);
    }
    Ok(Config::default())
}

/// The `[workspace.metadata.ssot-lint]` or `[package.metadata.ssot-lint]` table of a
/// manifest; the defaults without one.
fn manifest_config(
    manifest: &Path,
    text: &str,
    packs: &mut Arc<PackIndex>,
) -> Result<Config, Error> {
    let m: CargoManifest = toml::from_str(text).map_err(|e| toml_error(manifest, text, e))?;
    let src = m
        .workspace
        .and_then(|w| w.metadata)
        .and_then(|m| m.ssot_lint)
        .or_else(|| m.package.and_then(|p| p.metadata).and_then(|m| m.ssot_lint));
    match src {
        Some(src) => compile(src, manifest, text, packs),
        None => Ok(Config::default()),
    }
}

fn toml_error(path: &Path, text: &str, e: toml::de::Error) -> Error {
    Error::config(path, text, e.span(), e.message().trim().to_string())
}

pub fn parse_file(path: &Path, text: &str, packs: &mut Arc<PackIndex>) -> Result<Config, Error> {
    let src: ConfigSource = toml::from_str(text).map_err(|e| toml_error(path, text, e))?;
    compile(src, path, text, packs)
}

fn module_path(path: &Path, text: &str, s: &Spanned<String>) -> Result<ConfigPath, Error> {
    crate::packs::check_nesting(path, text, s)?;
    let parsed: syn::Path = syn::parse_str(s.get_ref()).map_err(|_| {
        Error::config(
            path,
            text,
            Some(s.span()),
            format!("`{}` is not a module path", s.get_ref()),
        )
        .with_help("write `crate_name::module::path`, e.g. `app::database`")
    })?;
    if parsed.leading_colon.is_some() || parsed.segments.iter().any(|s| !s.arguments.is_none()) {
        return Err(Error::config(
            path,
            text,
            Some(s.span()),
            format!("`{}` is not a module path", s.get_ref()),
        ));
    }
    Ok(ConfigPath {
        segs: parsed
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect(),
        text: s.get_ref().clone(),
        span: s.span(),
    })
}

/// Globs `[allow] paths` may have, bytes in one and bytes in all: the set is compiled into
/// one automaton, whose size grows with them (330,000 globs took 3.4 GB, then failed; 1,000
/// globs of 1,000 bytes of wildcards took 400 MB, then failed). Within these bounds
/// compiling costs at most about 40 MB.
pub const MAX_ALLOW_GLOBS: usize = 1000;
pub const MAX_GLOB_BYTES: usize = 1000;
pub const MAX_GLOBS_BYTES: usize = 32 * 1024;

fn compile(
    src: ConfigSource,
    path: &Path,
    text: &str,
    packs: &mut Arc<PackIndex>,
) -> Result<Config, Error> {
    // The built-in index is shared by every unit; a unit with packs of its own gets a copy.
    for p in src.pack {
        Arc::make_mut(packs).add(p, path, text)?;
    }
    let resources = packs.resources();
    let mut cfg = Config {
        file: Some((path.to_path_buf(), text.to_string())),
        ..Config::default()
    };
    for (key, mods) in &src.ssot {
        let list = mods
            .iter()
            .map(|m| module_path(path, text, m))
            .collect::<Result<Vec<_>, _>>()?;
        if key.get_ref() == "modules" {
            cfg.default_ssot = list;
        } else if resources.contains_key(key.get_ref()) {
            cfg.ssot.insert(key.get_ref().clone(), list);
        } else {
            let known: Vec<&str> = resources.keys().map(String::as_str).collect();
            return Err(Error::config(
                path,
                text,
                Some(key.span()),
                format!("unknown resource kind `{}` in [ssot]", key.get_ref()),
            )
            .with_help(format!(
                "use `modules` for every kind, or one of: {}",
                known.join(", ")
            )));
        }
    }
    cfg.allow_tests = src.allow.tests.unwrap_or(true);
    let mut gs = GlobSetBuilder::new();
    let mut total = 0;
    for (i, g) in src.allow.paths.iter().enumerate() {
        total += g.get_ref().len();
        let why = if i == MAX_ALLOW_GLOBS {
            format!("more than {MAX_ALLOW_GLOBS} globs in [allow] paths")
        } else if g.get_ref().len() > MAX_GLOB_BYTES {
            format!(
                "a glob of {} bytes in [allow] paths (at most {MAX_GLOB_BYTES})",
                g.get_ref().len()
            )
        } else if total > MAX_GLOBS_BYTES {
            format!("[allow] paths: more than {MAX_GLOBS_BYTES} bytes of globs in all")
        } else {
            String::new()
        };
        if !why.is_empty() {
            return Err(Error::config(path, text, Some(g.span()), why));
        }
        let glob = Glob::new(g.get_ref()).map_err(|e| {
            Error::config(
                path,
                text,
                Some(g.span()),
                format!("invalid glob `{}`: {e}", g.get_ref()),
            )
        })?;
        gs.add(glob);
    }
    cfg.allow_paths = gs.build().map_err(|e| {
        // The set as a whole is too large to compile: the error is at the list.
        let span = match (src.allow.paths.first(), src.allow.paths.last()) {
            (Some(a), Some(b)) => Some(a.span().start..b.span().end),
            _ => None,
        };
        Error::config(path, text, span, format!("[allow] paths: {e}"))
    })?;
    for (from, to) in &src.deprecated {
        cfg.deprecated
            .push((module_path(path, text, from)?, module_path(path, text, to)?));
    }
    for (kind, tmpl) in &src.accessor {
        if !resources.contains_key(kind.get_ref()) {
            return Err(Error::config(
                path,
                text,
                Some(kind.span()),
                format!("unknown resource kind `{}` in [accessor]", kind.get_ref()),
            ));
        }
        crate::packs::check_nesting(path, text, tmpl)?;
        syn::parse_str::<syn::Expr>(tmpl.get_ref()).map_err(|e| {
            Error::config(
                path,
                text,
                Some(tmpl.span()),
                format!(
                    "accessor `{}` is not a Rust expression: {e}",
                    tmpl.get_ref()
                ),
            )
        })?;
        cfg.accessors
            .insert(kind.get_ref().clone(), tmpl.get_ref().clone());
    }
    for r in &src.resource {
        cfg.resources
            .push(resource(r, &cfg, &resources, path, text)?);
    }
    Ok(cfg)
}

/// One `[[resource]]`, checked: a name of its own, a known kind and backend, at least one
/// SSOT module.
fn resource(
    r: &ResourceSource,
    cfg: &Config,
    kinds: &BTreeMap<String, Vec<usize>>,
    path: &Path,
    text: &str,
) -> Result<Resource, Error> {
    let err = |span: Range<usize>, m: String| Error::config(path, text, Some(span), m);
    let name = r.name.get_ref().trim();
    if name.is_empty() || kinds.contains_key(name) || name == "modules" {
        return Err(err(
            r.name.span(),
            format!("`{name}` cannot name a [[resource]]"),
        )
        .with_help(
            "a resource's name is its own, not empty and not a resource kind (`job-queue`)",
        ));
    }
    if cfg.resources.iter().any(|o| o.name == name) {
        return Err(err(
            r.name.span(),
            format!("a second [[resource]] named `{name}`"),
        ));
    }
    if !kinds.contains_key(r.kind.get_ref()) {
        let known: Vec<&str> = kinds.keys().map(String::as_str).collect();
        return Err(err(
            r.kind.span(),
            format!(
                "unknown resource kind `{}` in [[resource]]",
                r.kind.get_ref()
            ),
        )
        .with_help(format!("one of: {}", known.join(", "))));
    }
    if let Some(b) = &r.backend
        && !BACKENDS.contains(&b.get_ref().as_str())
    {
        return Err(err(
            b.span(),
            format!("unknown backend `{}` in [[resource]]", b.get_ref()),
        )
        .with_help(format!("one of: {}", BACKENDS.join(", "))));
    }
    if r.ssot.get_ref().is_empty() {
        return Err(err(
            r.ssot.span(),
            format!("[[resource]] `{name}` names no SSOT module"),
        )
        .with_help("the modules that build or hold it: `ssot = [\"app::jobs::store\"]`"));
    }
    let ssot = r
        .ssot
        .get_ref()
        .iter()
        .map(|m| module_path(path, text, m))
        .collect::<Result<Vec<_>, _>>()?;
    let mut connects = Vec::new();
    for c in &r.connects {
        if c.get_ref().trim().is_empty() {
            return Err(err(c.span(), "an empty `connects` entry".to_string()));
        }
        connects.push(c.get_ref().clone());
    }
    Ok(Resource {
        name: name.to_string(),
        kind: r.kind.get_ref().clone(),
        backend: r.backend.as_ref().map(|b| b.get_ref().clone()),
        ssot,
        connects,
    })
}
