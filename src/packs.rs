//! Rule packs: the TOML files in `lints/` (embedded at build time) and `[[pack]]` tables of
//! the project's config, deserialized with spans and compiled into a [`PackIndex`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use serde::Deserialize;
use serde_spanned::Spanned;

use crate::error::Error;

/// The packs shipped in `lints/`, embedded by `build.rs`.
pub const BUILTIN: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/packs.rs"));

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulePackSource {
    pub name: Spanned<String>,
    pub resource: Spanned<String>,
    #[serde(default)]
    pub crates: Vec<Spanned<String>>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub accessor: Option<Spanned<String>>,
    #[serde(default)]
    pub constructor: Vec<ConstructorSource>,
    #[serde(default)]
    pub builder: Vec<BuilderSource>,
    #[serde(default)]
    pub method: Vec<MethodSource>,
    #[serde(default)]
    pub holder_type: Vec<HolderSource>,
    /// A generic pool (bb8, r2d2): its resource kind comes from its manager, and
    /// `resource` is only the default when the manager cannot be told.
    #[serde(default)]
    pub generic: bool,
    #[serde(default)]
    pub manager: Vec<ManagerSource>,
}

/// Manager types of a generic pool and the resource kind a pool of them is.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManagerSource {
    pub paths: Vec<Spanned<String>>,
    pub resource: Spanned<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConstructorSource {
    pub paths: Vec<Spanned<String>>,
    #[serde(default)]
    pub returns: Option<Spanned<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuilderSource {
    pub root: Vec<Spanned<String>>,
    pub terminal: Vec<Spanned<String>>,
    #[serde(default)]
    pub returns: Option<Spanned<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MethodSource {
    pub receiver: Vec<Spanned<String>>,
    pub names: Vec<Spanned<String>>,
    #[serde(default)]
    pub returns: Option<Spanned<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolderSource {
    pub paths: Vec<Spanned<String>>,
}

/// A compiled rule pack.
#[derive(Debug, Clone)]
pub struct RulePack {
    pub name: String,
    pub resource: String,
    pub crates: Vec<String>,
    pub description: Option<String>,
    pub accessor: Option<String>,
    /// Where it came from: `lints/sqlx.toml` or the config file.
    pub origin: String,
    pub counts: [usize; 4],
    /// The kind of its pools comes from their manager (see [`RulePackSource::generic`]).
    pub generic: bool,
}

#[derive(Debug, Clone)]
pub struct ConstructorEntry {
    pub pack: usize,
    pub returns: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct BuilderEntry {
    pub pack: usize,
    pub terminals: BTreeSet<String>,
    pub returns: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct MethodEntry {
    pub pack: usize,
    pub returns: Option<Vec<String>>,
}

/// Every pack's paths, keyed by canonical path (`sqlx::PgPool::connect` as segments).
#[derive(Debug, Default, Clone)]
pub struct PackIndex {
    pub packs: Vec<RulePack>,
    pub constructors: HashMap<Vec<String>, ConstructorEntry>,
    pub builders: HashMap<Vec<String>, Vec<BuilderEntry>>,
    /// (receiver type path, method name)
    pub methods: HashMap<(Vec<String>, String), MethodEntry>,
    pub holders: HashMap<Vec<String>, usize>,
    /// Manager types of generic pools: path -> resource kind.
    pub managers: HashMap<Vec<String>, String>,
    /// Every prefix of every path above: an external glob import can only bring in a name
    /// that some pack knows of.
    pub known_prefixes: BTreeSet<Vec<String>>,
    /// What the prefilter takes from the paths above, made once (`add` forgets it).
    pub names: std::sync::OnceLock<std::sync::Arc<PackNames>>,
    /// The method names a construction on a value can go through, made once (`add`
    /// forgets it).
    method_names: std::sync::OnceLock<std::sync::Arc<MethodNames>>,
}

/// The names of the packs' connection methods and of their builders' terminals: a method
/// chain on a value that calls none of them builds nothing, whatever the value's type.
#[derive(Debug, Default)]
pub struct MethodNames {
    methods: rustc_hash::FxHashSet<String>,
    terminals: rustc_hash::FxHashSet<String>,
}

impl MethodNames {
    /// Whether calling `names` in turn on a value can build a pool or client: the first is a
    /// connection method of a pack type, or one of them is a builder's terminal.
    pub fn can_build<'a>(&self, mut names: impl Iterator<Item = &'a str>) -> bool {
        let Some(first) = names.next() else {
            return false;
        };
        self.methods.contains(first)
            || self.terminals.contains(first)
            || names.any(|n| self.terminals.contains(n))
    }
}

/// The names the prefilter looks for (see `prefilter::Names`).
#[derive(Debug, Default)]
pub struct PackNames {
    /// The names of the pack paths (hashed with `idents::hash`), by first segment.
    pub by_crate: HashMap<String, crate::idents::IdSet>,
    /// The pack crates, with underscores: first segments and every pack's `crates`.
    pub crates: std::collections::HashSet<String>,
}

/// Parse a pack path with `syn`: a plain path without generics or leading `::`.
fn check_path(origin: &Path, text: &str, p: &Spanned<String>) -> Result<Vec<String>, Error> {
    let span = Some(p.span());
    check_nesting(origin, text, p)?;
    let parsed: syn::Path = syn::parse_str(p.get_ref()).map_err(|e| {
        Error::config(
            origin,
            text,
            span.clone(),
            format!("`{}` is not a Rust path: {e}", p.get_ref()),
        )
    })?;
    if parsed.leading_colon.is_some() || parsed.segments.iter().any(|s| !s.arguments.is_none()) {
        return Err(Error::config(
            origin,
            text,
            span,
            format!(
                "`{}`: write pack paths without a leading `::` and without generic arguments",
                p.get_ref()
            ),
        ));
    }
    Ok(parsed
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect())
}

fn check_ident(origin: &Path, text: &str, p: &Spanned<String>) -> Result<String, Error> {
    syn::parse_str::<syn::Ident>(p.get_ref()).map_err(|_| {
        Error::config(
            origin,
            text,
            Some(p.span()),
            format!("`{}` is not a method name", p.get_ref()),
        )
    })?;
    Ok(p.get_ref().clone())
}

fn non_empty<T>(
    origin: &Path,
    text: &str,
    v: &[T],
    span: std::ops::Range<usize>,
    what: &str,
) -> Result<(), Error> {
    if v.is_empty() {
        return Err(Error::config(
            origin,
            text,
            Some(span),
            format!("`{what}` must not be empty"),
        ));
    }
    Ok(())
}

impl PackIndex {
    /// The built-in packs, compiled once per process (every run of a language server
    /// shares them).
    pub fn builtin_shared() -> Result<std::sync::Arc<PackIndex>, Error> {
        static BUILTIN: std::sync::OnceLock<std::sync::Arc<PackIndex>> = std::sync::OnceLock::new();
        if let Some(p) = BUILTIN.get() {
            return Ok(p.clone());
        }
        let p = std::sync::Arc::new(PackIndex::builtin()?);
        Ok(BUILTIN.get_or_init(|| p).clone())
    }

    pub fn builtin() -> Result<PackIndex, Error> {
        let mut idx = PackIndex::default();
        for (file, text) in BUILTIN {
            let src: RulePackSource = toml::from_str(text).map_err(|e| {
                Error::config(
                    Path::new(&format!("lints/{file}")),
                    text,
                    e.span(),
                    e.message().to_string(),
                )
            })?;
            idx.add(src, Path::new(&format!("lints/{file}")), text)?;
        }
        Ok(idx)
    }

    /// See [`MethodNames`].
    pub fn method_names(&self) -> &MethodNames {
        self.method_names.get_or_init(|| {
            std::sync::Arc::new(MethodNames {
                methods: self.methods.keys().map(|(_, m)| m.clone()).collect(),
                terminals: self
                    .builders
                    .values()
                    .flatten()
                    .flat_map(|b| b.terminals.iter().cloned())
                    .collect(),
            })
        })
    }

    /// Validate and add one pack. `origin` and `text` are for error spans.
    pub fn add(&mut self, src: RulePackSource, origin: &Path, text: &str) -> Result<(), Error> {
        self.names = std::sync::OnceLock::new();
        self.method_names = std::sync::OnceLock::new();
        let pack = self.packs.len();
        let resource = src.resource.get_ref().clone();
        if resource.is_empty()
            || !resource
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(Error::config(
                origin,
                text,
                Some(src.resource.span()),
                "`resource` must be a plain name like `sql` or `redis`",
            ));
        }
        let valid_kind = |r: &str| {
            !r.is_empty()
                && r.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        for mg in &src.manager {
            if !valid_kind(mg.resource.get_ref()) {
                return Err(Error::config(
                    origin,
                    text,
                    Some(mg.resource.span()),
                    "`resource` must be a plain name like `sql` or `redis`",
                ));
            }
            for p in &mg.paths {
                let path = check_path(origin, text, p)?;
                self.add_prefixes(&path);
                self.managers.insert(path, mg.resource.get_ref().clone());
            }
        }
        let mut counts = [0; 4];
        let returns = |r: &Option<Spanned<String>>| -> Result<Option<Vec<String>>, Error> {
            r.as_ref().map(|r| check_path(origin, text, r)).transpose()
        };
        for c in &src.constructor {
            let ret = returns(&c.returns)?;
            for p in &c.paths {
                let path = check_path(origin, text, p)?;
                self.add_prefixes(&path);
                self.constructors.insert(
                    path,
                    ConstructorEntry {
                        pack,
                        returns: ret.clone(),
                    },
                );
                counts[0] += 1;
            }
        }
        for b in &src.builder {
            let ret = returns(&b.returns)?;
            let mut terminals = BTreeSet::new();
            for t in &b.terminal {
                terminals.insert(check_ident(origin, text, t)?);
            }
            if let Some(first) = b.root.first() {
                non_empty(origin, text, &b.terminal, first.span(), "terminal")?;
            }
            for r in &b.root {
                let path = check_path(origin, text, r)?;
                self.add_prefixes(&path);
                self.builders.entry(path).or_default().push(BuilderEntry {
                    pack,
                    terminals: terminals.clone(),
                    returns: ret.clone(),
                });
                counts[1] += 1;
            }
        }
        for m in &src.method {
            let ret = returns(&m.returns)?;
            for r in &m.receiver {
                let recv = check_path(origin, text, r)?;
                self.add_prefixes(&recv);
                for n in &m.names {
                    let name = check_ident(origin, text, n)?;
                    self.methods.insert(
                        (recv.clone(), name),
                        MethodEntry {
                            pack,
                            returns: ret.clone(),
                        },
                    );
                    counts[2] += 1;
                }
            }
        }
        for h in &src.holder_type {
            for p in &h.paths {
                let path = check_path(origin, text, p)?;
                self.add_prefixes(&path);
                self.holders.insert(path, pack);
                counts[3] += 1;
            }
        }
        self.packs.push(RulePack {
            name: src.name.get_ref().clone(),
            resource,
            crates: src.crates.iter().map(|c| c.get_ref().clone()).collect(),
            description: src.description.clone(),
            accessor: src.accessor.as_ref().map(|a| a.get_ref().clone()),
            origin: origin.display().to_string(),
            counts,
            generic: src.generic,
        });
        Ok(())
    }

    /// Every prefix of a path some pack knows of, added as the path is (packs only grow,
    /// so the set is built once, not per pack). A prefix already there has its own
    /// prefixes there too.
    fn add_prefixes(&mut self, p: &[String]) {
        for i in (1..=p.len()).rev() {
            if !self.known_prefixes.insert(p[..i].to_vec()) {
                break;
            }
        }
    }

    pub fn is_known_prefix(&self, p: &[String]) -> bool {
        self.known_prefixes.contains(p)
    }

    /// Resource kinds, sorted.
    pub fn resources(&self) -> BTreeMap<String, Vec<usize>> {
        let mut m: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, p) in self.packs.iter().enumerate() {
            m.entry(p.resource.clone()).or_default().push(i);
        }
        m
    }
}

pub fn path_text(p: &[String]) -> String {
    p.join("::")
}

/// Deepest bracket nesting and most `::` separators a config value may have: `syn` parses
/// it recursively on the calling thread.
pub const MAX_CONFIG_NESTING: usize = 32;
pub const MAX_CONFIG_SEGMENTS: usize = 64;

/// A config or pack value too deep or too long to parse is a config error at its span.
pub fn check_nesting(
    path: &Path,
    text: &str,
    v: &serde_spanned::Spanned<String>,
) -> Result<(), crate::error::Error> {
    let s = v.get_ref();
    let (mut depth, mut max) = (0usize, 0usize);
    for c in s.chars() {
        match c {
            '(' | '[' | '{' | '<' => {
                depth += 1;
                max = max.max(depth);
            }
            ')' | ']' | '}' | '>' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    let segments = s.matches("::").count() + 1;
    let why = if max > MAX_CONFIG_NESTING {
        format!("nested {max} deep (at most {MAX_CONFIG_NESTING})")
    } else if segments > MAX_CONFIG_SEGMENTS {
        format!("{segments} path segments (at most {MAX_CONFIG_SEGMENTS})")
    } else {
        return Ok(());
    };
    Err(crate::error::Error::config(
        path,
        text,
        Some(v.span()),
        format!("value too complex to parse: {why}"),
    ))
}
