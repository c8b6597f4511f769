//! Site classification: which chains construct a pool or client (a pack constructor, a
//! builder's terminal, a connection method on a pack type) and which statics hold one.

use std::collections::HashSet;

use super::holders::ManagerKind;
use super::inits::STORE_METHODS;
use super::types::ValueType;
use super::{Local, Model, Site, SiteKind, local};
use crate::ids::{FileId, ModId};
use crate::packs::path_text;
use crate::resolve::{Res, Scope};
use crate::summary::{ArgRef, Chain, ChainRoot, FileSummary, RawPath, Span};

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

impl<'g> Model<'g> {
    /// Every construction and holder site in the graph, deduplicated, by file and offset.
    pub(super) fn find_sites(&mut self) -> Vec<Site> {
        let mut out = Vec::new();
        let mut seen: HashSet<(FileId, u32)> = HashSet::new();
        let mut consumed: HashSet<(FileId, u32)> = HashSet::new();
        for k in self.g.crate_ids() {
            for (fid, base) in self.file_base(k) {
                let summary = self.g.files[fid].summary.clone();
                for chain in &summary.chains {
                    let m = ModId::new(k, base + chain.module);
                    if let Some(c) = self.classify(m, &summary, chain) {
                        if !seen.insert((fid, c.span.start)) {
                            continue;
                        }
                        if let Some(ms) = c.manager_site {
                            consumed.insert((fid, ms));
                        }
                        if c.by_method && self.receiver_built_here(m, &summary, chain) {
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
                            in_ssot: self.in_ssot(&resource, m),
                            declared: None,
                            allowed: self
                                .allowed(m, chain.is_test || func.is_some_and(|f| f.is_test)),
                            resource,
                            file: fid,
                            span: c.span,
                            module: m,
                            path: self.mod_path(m),
                            func: chain.func,
                        });
                    }
                }
                for st in &summary.statics {
                    let m = ModId::new(k, base + st.module);
                    let scope = Scope {
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
                        .filter(|&d| self.mod_path(d) != self.mod_path(m));
                    out.push(Site {
                        kind: SiteKind::Holder {
                            name: st.name.clone(),
                            holder_type,
                            lazy_cache_of,
                        },
                        in_ssot: self.in_ssot(&resource, m),
                        declared: None,
                        allowed: self.allowed(m, st.is_test),
                        resource,
                        file: fid,
                        span: st.span.clone(),
                        module: m,
                        path: self.mod_path(m),
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
    pub(super) fn lazy_cache_of(
        &mut self,
        scope: Scope,
        s: &FileSummary,
        st: &crate::summary::StaticSummary,
    ) -> Option<ModId> {
        let rs = self.res.resolve_type_paths(scope, &st.ty);
        let decl = rs.iter().find_map(|r| match r {
            Res::Item(m, _) if self.holder_of(r).is_some() => Some(Some(*m)),
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
    pub(super) fn display_path(&mut self, scope: Scope, p: &RawPath, path: &[String]) -> String {
        let plain = path_text(path);
        if p.segs.len() < 2 || p.anchor.is_some() {
            return plain;
        }
        let q = &p.segs[..p.segs.len() - 1];
        let Some(Res::Item(m, i)) = self.res.resolve_segments(scope, q, p.global, false) else {
            return plain;
        };
        let node = self.g.module(m);
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
            if let Some(Res::Ext(mut e)) = self.res.expand(Res::Item(m, j)) {
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
    pub(super) fn receiver_built_here(&mut self, m: ModId, s: &FileSummary, chain: &Chain) -> bool {
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
        self.classify(m, s, &s.chains[init]).is_some()
    }

    pub(super) fn scope<'s>(&self, m: ModId, s: &'s FileSummary, chain: &Chain) -> Scope<'s> {
        Scope {
            module: m,
            func: chain.func.map(|f| &s.fns[f]),
            fns: Some(&s.fns),
        }
    }

    pub(super) fn is_local(
        s: &FileSummary,
        chain_func: Option<usize>,
        name: &str,
        offset: u32,
    ) -> bool {
        chain_func.is_some_and(|f| local(&s.fns[f], name, offset).is_some())
    }

    pub fn classify(&mut self, m: ModId, s: &FileSummary, chain: &Chain) -> Option<Construction> {
        let mut c = self.classify_depth(m, s, chain, 0)?;
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
                    self.arg_manager_kind(m, s, chain.func, &arg, chain.root_span.start);
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
    pub(super) fn arg_manager_kind(
        &mut self,
        m: ModId,
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
                            Some(i) => self.chain_manager_kind(m, s, &s.chains[i]),
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
                    Some(ch) => self.chain_manager_kind(m, s, ch),
                    None => unknown,
                }
            }
        }
    }

    /// The kind of the manager a chain yields: a pack construction (`RedisConnectionManager::new`),
    /// a project function by its return type, `ProjectManager::new(..)` by its type.
    pub(super) fn chain_manager_kind(
        &mut self,
        m: ModId,
        s: &FileSummary,
        ch: &Chain,
    ) -> (ManagerKind, Option<u32>) {
        if let Some(c) = self.classify_depth(m, s, ch, 1)
            && !self.packs.packs[c.pack].generic
        {
            return (ManagerKind::Pack(c.pack), Some(c.span.start));
        }
        let ChainRoot::Call(p) = &ch.root else {
            return (ManagerKind::Unknown, None);
        };
        let scope = self.scope(m, s, ch);
        match self.res.resolve_path(scope, p) {
            Some(Res::Item(im, ii)) => {
                let node = self.g.module(im);
                let fs = self.g.files[node.file].summary.clone();
                let Some(fi) = fs.modules[node.local].items[ii].func else {
                    return (ManagerKind::Unknown, None);
                };
                let Some(ret) = fs.fns[fi].ret.as_ref().and_then(|r| r.head.clone()) else {
                    return (ManagerKind::Unknown, None);
                };
                let fscope = Scope {
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

    pub(super) fn classify_depth(
        &mut self,
        m: ModId,
        s: &FileSummary,
        chain: &Chain,
        depth: u32,
    ) -> Option<Construction> {
        if depth > 8 {
            return None;
        }
        let scope = self.scope(m, s, chain);
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
                // Methods called on a value build only on a local, and only through a pack
                // type's connection method or a builder's terminal (see the loop below): the
                // rest builds nothing, and is passed over without a lookup unless the
                // resolver records the lookups made in vain (see `classify`).
                if !self.res.recording
                    && !chain.methods.is_empty()
                    && !self
                        .packs
                        .method_names()
                        .can_build(chain.methods.iter().map(|m| m.name.as_str()))
                {
                    return None;
                }
                if p.is_single() && Self::is_local(s, chain.func, &p.segs[0], start.start) {
                    (
                        self.local_type(m, s, chain.func?, &p.segs[0], start.start, depth)?,
                        0,
                    )
                } else {
                    if !chain.methods.is_empty() && !self.res.recording {
                        return None;
                    }
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
            ChainRoot::SelfField(f) => (self.self_field_type(m, s, chain, f)?, 0),
            ChainRoot::BindingField(b, f) => {
                let func = &s.fns[chain.func?];
                let (im, fty) = self.binding_field_type(scope, func, b, f, start.start)?;
                let head = fty.head?;
                let fscope = Scope {
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
}

#[cfg(test)]
mod tests {
    use crate::semantic::SiteKind;
    use crate::testing::with_model;

    /// Constructions (a constructor, a builder's terminal, a connection method on a pack
    /// value), holders (a static of a holder type) and what is not a site.
    #[test]
    fn sites_of_a_crate() {
        let fixture = r#"
//- /src/lib.rs
pub mod db;
pub mod cache;
//- /src/db.rs
use sqlx::postgres::PgPoolOptions;
static POOL: std::sync::OnceLock<sqlx::PgPool> = std::sync::OnceLock::new();
pub async fn pool(url: &str) -> sqlx::PgPool {
    let p = PgPoolOptions::new().max_connections(5).connect(url).await.unwrap();
    let opts = sqlx::postgres::PgConnectOptions::new();
    p
}
//- /src/cache.rs
pub fn client() -> redis::Client {
    redis::Client::open("redis://localhost").unwrap()
}
pub fn conn(c: &redis::Client) {
    let _ = c.get_connection();
}
"#;
        with_model(fixture, |m| {
            let sites: Vec<String> = m
                .sites
                .iter()
                .map(|s| {
                    let what = match &s.kind {
                        SiteKind::Construction {
                            what, by_method, ..
                        } => {
                            format!("builds {what}{}", if *by_method { " (method)" } else { "" })
                        }
                        SiteKind::Holder { holder_type, .. } => format!("holds {holder_type}"),
                        SiteKind::Initialization => "initializes".to_string(),
                    };
                    format!("{} {} {what}", s.path, s.resource)
                })
                .collect();
            // By file (files in the order they were reached: a wave in path order), then
            // offset; `PgConnectOptions::new()` builds options, no site.
            assert_eq!(
                sites,
                [
                    "app::cache redis builds redis::Client::open",
                    "app::cache redis builds redis::Client::get_connection (method)",
                    "app::db sql holds sqlx::PgPool",
                    "app::db sql builds sqlx::postgres::PgPoolOptions::new().connect()",
                ]
            );
        });
    }

    /// A static filled only lazily with a project holder type counts with the module that
    /// declares the type.
    #[test]
    fn a_lazy_cache_of_another_modules_type() {
        let fixture = r#"
//- /src/lib.rs
pub mod db;
pub mod web;
//- /src/db.rs
pub struct Store {
    pool: sqlx::PgPool,
}
impl Store {
    pub async fn new() -> Store { todo!() }
}
//- /src/web.rs
static STORE: tokio::sync::OnceCell<crate::db::Store> = tokio::sync::OnceCell::const_new();
pub async fn store() -> &'static crate::db::Store {
    STORE.get_or_init(crate::db::Store::new).await
}
"#;
        with_model(fixture, |m| {
            let s = m.sites.iter().find(|s| s.is_holder()).expect("the static");
            assert_eq!(s.path.to_string(), "app::web");
            let decl = s.lazy_cache_of().expect("a lazy cache");
            assert_eq!(m.mod_path(decl).to_string(), "app::db");
        });
    }
}
