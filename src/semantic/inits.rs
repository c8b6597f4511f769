//! The initialization index: functions that construct a pool or client and store it
//! where later readers get it, and their callers; initializations by hand.

use std::collections::HashMap;

use super::{Model, Site, SiteKind, local};
use crate::ids::{CrateId, FnId, ModId};
use crate::resolve::{Res, Scope};
use crate::summary::{Chain, ChainRoot, FnSummary};

/// Methods that store a value into a cell or lock eagerly (`OnceLock::set`,
/// `ArcSwap::store`, `Option::replace`, ...). `get_or_init`/`get_or_try_init` are not:
/// they initialize on first use and leave nothing half-initialized.
pub(super) const STORE_METHODS: &[&str] = &["set", "store", "swap", "replace", "insert"];

/// The initializations of a graph: functions that construct a pool or client (directly or
/// through functions of the workspace they call) and store it eagerly where later readers
/// get it (a field or a global of a holder type), or that call such a function.
#[derive(Debug, Default)]
pub struct InitIndex {
    /// Function -> the resource kinds it initializes.
    pub fns: HashMap<FnId, std::collections::BTreeSet<String>>,
    /// Names of initializing methods (functions with a `self` type), and whether every
    /// one of that name returns a `Result`.
    pub methods: HashMap<String, bool>,
}

impl InitIndex {
    pub fn is_init(&self, f: FnId) -> bool {
        self.fns.contains_key(&f)
    }
}

/// The calls between the workspace's functions (callee by path or by `self`/`Type` method),
/// the module of each function, and the kinds each stores (assigns, or writes with a store
/// method) and whether only by `insert` (a registry).
pub(super) struct CallGraph {
    fn_module: HashMap<FnId, ModId>,
    stores: HashMap<FnId, std::collections::BTreeSet<String>>,
    not_registry: std::collections::BTreeSet<FnId>,
    callees: HashMap<FnId, Vec<FnId>>,
}

impl<'g> Model<'g> {
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
            Some(Res::Item(im, ii)) => {
                let node = self.g.module(im);
                let item = &self.g.files[node.file].summary.modules[node.local].items[ii];
                item.func
                    .is_some_and(|func| {
                        self.inits.is_init(FnId {
                            file: node.file,
                            func,
                        })
                    })
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

    /// The kind held by a place an assignment or a store method writes to.
    pub(super) fn place_kind(
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
                let Res::Item(im, ii) = self.res.resolve_path(scope, p)? else {
                    return None;
                };
                let node = self.g.module(im);
                let fs = &self.g.files[node.file].summary;
                let item = &fs.modules[node.local].items[ii];
                if item.kind != crate::summary::ItemKind::Static {
                    return None;
                }
                let st = fs
                    .statics
                    .iter()
                    .find(|st| st.name == item.name && st.module == node.local)?;
                (im, st.ty.clone())
            }
            _ => return None,
        };
        let s = Scope {
            module: ty_scope,
            func: None,
            fns: None,
        };
        let (pack, _) = self.holder_in(s, &ty)?;
        Some(self.packs.packs[pack].resource.clone())
    }

    /// The calls between the workspace's functions and what each stores where (see
    /// [`CallGraph`]): the part of the [`InitIndex`] the sites do not decide, so that it can
    /// be computed beside them.
    pub(super) fn call_graph(&mut self) -> CallGraph {
        type Key = FnId;
        let mut methods: HashMap<(CrateId, String, String), Vec<Key>> = HashMap::new();
        let mut fn_module: HashMap<Key, ModId> = HashMap::new();
        for k in self.g.crate_ids() {
            for (fid, base) in self.file_base(k) {
                let s = &self.g.files[fid].summary;
                for (fi, f) in s.fns.iter().enumerate() {
                    fn_module
                        .entry(FnId {
                            file: fid,
                            func: fi,
                        })
                        .or_insert_with(|| ModId::new(k, base + f.module));
                    if let Some(t) = f.self_type.as_ref().and_then(|t| t.segs.last()) {
                        methods
                            .entry((k, t.clone(), f.name.clone()))
                            .or_default()
                            .push(FnId {
                                file: fid,
                                func: fi,
                            });
                    }
                }
            }
        }
        let mut stores: HashMap<Key, std::collections::BTreeSet<String>> = HashMap::new();
        // Functions that store other than by `insert` (an assignment, `set`, `replace`, ...):
        // the others only fill a registry (a map of stores by id).
        let mut not_registry: std::collections::BTreeSet<Key> = Default::default();
        let mut callees: HashMap<Key, Vec<Key>> = HashMap::new();
        for k in self.g.crate_ids() {
            for (fid, base) in self.file_base(k) {
                let s = self.g.files[fid].summary.clone();
                let at = |func| FnId { file: fid, func };
                for (fi, f) in s.fns.iter().enumerate() {
                    let scope = Scope {
                        module: ModId::new(k, base + f.module),
                        func: Some(f),
                        fns: Some(&s.fns),
                    };
                    for a in &f.assigns {
                        if let Some(kind) = self.place_kind(scope, f, &a.target, a.span.start) {
                            stores.entry(at(fi)).or_default().insert(kind);
                            not_registry.insert(at(fi));
                        }
                    }
                }
                for chain in &s.chains {
                    let Some(fi) = chain.func else { continue };
                    let f = &s.fns[fi];
                    let scope = Scope {
                        module: ModId::new(k, base + chain.module),
                        func: Some(f),
                        fns: Some(&s.fns),
                    };
                    if let Some(m) = chain
                        .methods
                        .iter()
                        .find(|m| STORE_METHODS.contains(&m.name.as_str()))
                        && let Some(kind) =
                            self.place_kind(scope, f, &chain.root, chain.root_span.start)
                    {
                        stores.entry(at(fi)).or_default().insert(kind);
                        if m.name != "insert" {
                            not_registry.insert(at(fi));
                        }
                    }
                    let self_name = f.self_type.as_ref().and_then(|t| t.segs.last()).cloned();
                    let mut found: Vec<Key> = Vec::new();
                    match &chain.root {
                        ChainRoot::Call(p) => {
                            if let Some(Res::Item(im, ii)) = self.res.resolve_path(scope, p) {
                                let node = self.g.module(im);
                                let fs = &self.g.files[node.file].summary;
                                if let Some(cf) = fs.modules[node.local].items[ii].func {
                                    found.push(FnId {
                                        file: node.file,
                                        func: cf,
                                    });
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
                        callees.entry(at(fi)).or_default().extend(found);
                    }
                }
            }
        }
        CallGraph {
            fn_module,
            stores,
            not_registry,
            callees,
        }
    }

    /// Compute the [`InitIndex`] (once per run) from the sites and the call graph.
    pub(super) fn init_index(&mut self, sites: &[Site], calls: CallGraph) -> InitIndex {
        type Key = FnId;
        let CallGraph {
            fn_module,
            stores,
            not_registry,
            callees,
        } = calls;
        let mut constructs: HashMap<Key, std::collections::BTreeSet<String>> = HashMap::new();
        for s in sites {
            if s.is_construction()
                && let Some(f) = s.func
            {
                constructs
                    .entry(FnId {
                        file: s.file,
                        func: f,
                    })
                    .or_default()
                    .insert(s.resource.clone());
            }
        }
        // What a function constructs itself, before its callees are counted.
        let direct: std::collections::BTreeSet<Key> = constructs.keys().copied().collect();
        // Methods by (crate, self type name, method name); the module of each function.
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
        // A composition root: it builds nothing itself, every function it calls that builds
        // one is in the SSOT of the kind, and it only inserts the results into a registry
        // (`self.stores.insert(id, backend::postgres::open(..))`): it initializes nothing.
        let composition_root = |f: &Key, kind: &str| {
            !direct.contains(f)
                && !not_registry.contains(f)
                && !self.cfg.ssot_for(kind).is_empty()
                && callees.get(f).is_some_and(|cs| {
                    cs.iter()
                        .filter(|c| constructs.get(*c).is_some_and(|k| k.contains(kind)))
                        .all(|c| fn_module.get(c).is_some_and(|&m| self.in_ssot(kind, m)))
                })
        };
        let mut fns: HashMap<Key, std::collections::BTreeSet<String>> = HashMap::new();
        for (f, kinds) in &stores {
            let both: std::collections::BTreeSet<String> = kinds
                .iter()
                .filter(|kd| constructs.get(f).is_some_and(|c| c.contains(*kd)))
                .filter(|kd| !composition_root(f, kd))
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
        for k in keys {
            let f = &self.g.files[k.file].summary.fns[k.func];
            if f.self_type.is_some() {
                let e = idx.methods.entry(f.name.clone()).or_insert(true);
                *e &= f.returns_result;
            }
        }
        idx
    }

    /// Methods that initialize a resource by hand (a `self` method the init index lists),
    /// outside test and allowed code, in crate, file and function order.
    pub(super) fn hand_initializers(&self) -> Vec<Site> {
        let mut out = Vec::new();
        for k in self.g.crate_ids() {
            for (fid, base) in self.file_base(k) {
                let s = &self.g.files[fid].summary;
                for (fi, f) in s.fns.iter().enumerate() {
                    if f.self_type.is_none() {
                        continue;
                    }
                    let Some(kinds) = self.inits.fns.get(&FnId {
                        file: fid,
                        func: fi,
                    }) else {
                        continue;
                    };
                    let m = ModId::new(k, base + f.module);
                    if self.allowed(m, f.is_test) {
                        continue;
                    }
                    for kind in kinds {
                        out.push(Site {
                            kind: SiteKind::Initialization,
                            in_ssot: self.in_ssot(kind, m),
                            declared: None,
                            allowed: false,
                            resource: kind.clone(),
                            file: fid,
                            span: f.span.start..f.span.start,
                            module: m,
                            path: self.mod_path(m),
                            func: Some(fi),
                        });
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::ids::FnId;
    use crate::testing::{module_of, with_model};

    const CRATE: &str = r#"
//- /src/lib.rs
pub mod db;
pub mod main_;
//- /src/db.rs
static POOL: std::sync::OnceLock<sqlx::PgPool> = std::sync::OnceLock::new();
pub struct Manager {
    pool: Option<sqlx::PgPool>,
}
impl Manager {
    pub async fn initialize(&mut self, url: &str) -> Result<(), sqlx::Error> {
        self.pool = Some(sqlx::PgPool::connect(url).await?);
        Ok(())
    }
}
pub async fn init(url: &str) {
    let p = sqlx::PgPool::connect(url).await.unwrap();
    let _ = POOL.set(p);
}
pub async fn build(url: &str) -> sqlx::PgPool {
    sqlx::PgPool::connect(url).await.unwrap()
}
//- /src/main_.rs
pub async fn start() {
    crate::db::init("").await;
}
"#;

    /// Functions that build a pool and store it eagerly initialize; so do their callers; a
    /// factory that hands the pool out does not. A method of that kind is an initialization
    /// by hand.
    #[test]
    fn the_initialization_index() {
        with_model(CRATE, |m| {
            let name = |f: &FnId| m.g.files[f.file].summary.fns[f.func].name.clone();
            let mut inits: Vec<(String, Vec<String>)> = m
                .inits
                .fns
                .iter()
                .map(|(f, kinds)| (name(f), kinds.iter().cloned().collect()))
                .collect();
            inits.sort();
            assert_eq!(
                inits,
                [
                    ("init".to_string(), vec!["sql".to_string()]),
                    ("initialize".to_string(), vec!["sql".to_string()]),
                    ("start".to_string(), vec!["sql".to_string()]),
                ]
            );
            assert_eq!(m.inits.methods.get("initialize"), Some(&true));
            let by_hand: Vec<String> = m
                .sites
                .iter()
                .filter(|s| matches!(s.kind, crate::semantic::SiteKind::Initialization))
                .map(|s| format!("{} {}", s.path, s.resource))
                .collect();
            assert_eq!(by_hand, ["app::db sql"]);
            assert_eq!(
                m.sites.last().map(|s| s.module),
                Some(module_of(m, "app::db"))
            );
        });
    }
}
