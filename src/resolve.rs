//! Resolve stage: names to canonical paths, syntactically, the way rustc resolves them by
//! name: items, `use` (aliases, groups, globs, `self`/`super`/`crate`), `pub use` across
//! modules and workspace crates, type aliases, renamed dependencies, `extern crate .. as`,
//! function-local `use` and items, `<T>::f` and `T::<G>::f`.
//!
//! A name that cannot be resolved stays unresolved (`None`); nothing is guessed.

use std::collections::HashSet;

use rustc_hash::FxHashMap;

use crate::crates::{CrateGraph, ExternRef};
use crate::ids::{CrateId, FileId, ModId};
use crate::packs::PackIndex;
use crate::summary::{FnSummary, Import, ImportKind, ItemKind, RawPath, RawType};

/// What a path resolves to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Res {
    /// A path into a published crate, starting with its package name (underscored).
    Ext(Vec<String>),
    Module(ModId),
    /// An item of a module: the module and the index in its items.
    Item(ModId, usize),
    /// Something local that is not a pack path (a local item, an assoc item of a local type).
    Opaque,
}

/// Where a name is looked up: a module of a crate, optionally inside a function.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub module: ModId,
    pub func: Option<&'a FnSummary>,
    /// The file's function table, for nested functions' parents.
    pub fns: Option<&'a [FnSummary]>,
}

#[derive(Clone)]
pub struct Resolver<'g> {
    pub g: &'g CrateGraph<'g>,
    pub packs: &'g PackIndex,
    /// Names looked up in each module (by module, then name: a lookup allocates nothing).
    memo: FxHashMap<ModId, FxHashMap<Box<str>, Option<Res>>>,
    visiting: HashSet<(ModId, String)>,
    /// Qualifiers being looked up as a `use` of their name (see `resolve_segments`): an
    /// import whose path starts with its own name (`use log::log;` beside `fn log`) leads
    /// back to itself.
    qualifying: HashSet<(ModId, String)>,
    /// While set, the files of the unparsed modules (see `FileEntry::skeleton`) in which a
    /// name was looked up in vain are collected in `skeleton_misses`: the name may be there.
    pub recording: bool,
    pub skeleton_misses: Vec<FileId>,
}

const MAX_STEPS: usize = 64;

impl<'g> Resolver<'g> {
    pub fn new(g: &'g CrateGraph, packs: &'g PackIndex) -> Self {
        Resolver {
            g,
            packs,
            memo: FxHashMap::default(),
            visiting: HashSet::new(),
            qualifying: HashSet::new(),
            recording: false,
            skeleton_misses: Vec::new(),
        }
    }

    fn module_summary(&self, m: ModId) -> &'g crate::summary::ModuleSummary {
        let node = self.g.module(m);
        &self.g.files[node.file].summary.modules[node.local]
    }

    fn extern_res(&self, k: CrateId, name: &str) -> Option<Res> {
        match self.g.crates[k].externs.get(name)? {
            ExternRef::Package(p) => Some(Res::Ext(vec![p.clone()])),
            ExternRef::Crate(c) => Some(Res::Module(ModId::root(*c))),
        }
    }

    /// A name declared in module `m` (items, imports, globs), as `m::name` would find it.
    pub fn lookup_in_module(&mut self, m: ModId, name: &str) -> Option<Res> {
        let r = self.lookup_memo(m, name);
        if r.is_none() && self.recording {
            let file = self.g.module(m).file;
            if self.g.files[file].skeleton {
                self.skeleton_misses.push(file);
            }
        }
        r
    }

    fn lookup_memo(&mut self, m: ModId, name: &str) -> Option<Res> {
        if let Some(r) = self.memo.get(&m).and_then(|names| names.get(name)) {
            return r.clone();
        }
        let key = (m, name.to_string());
        if !self.visiting.insert(key.clone()) {
            return None;
        }
        let r = self.lookup_uncached(m, name);
        self.visiting.remove(&key);
        self.memo
            .entry(m)
            .or_default()
            .insert(key.1.into_boxed_str(), r.clone());
        r
    }

    fn lookup_uncached(&mut self, m: ModId, name: &str) -> Option<Res> {
        let ms = self.module_summary(m);
        // Items: types and modules first (a path qualifier lives in the type namespace).
        let mut best: Option<(usize, &crate::summary::ItemDef)> = None;
        for (i, it) in ms.items.iter().enumerate() {
            if it.name == name {
                let rank = |d: &crate::summary::ItemDef| match d.kind {
                    ItemKind::Mod | ItemKind::Type | ItemKind::TypeAlias | ItemKind::Trait => 0,
                    _ => 1,
                };
                if best.is_none_or(|(_, b)| rank(it) < rank(b)) {
                    best = Some((i, it));
                }
            }
        }
        if let Some((i, it)) = best {
            if it.kind == ItemKind::Mod {
                return self.g.crates[m.krate]
                    .modules
                    .child(m.node, name)
                    .map(|c| Res::Module(m.with_node(c)))
                    .or(Some(Res::Opaque));
            }
            return Some(Res::Item(m, i));
        }
        for imp in &ms.imports {
            if imp.kind == ImportKind::Named(name.to_string()) {
                let scope = Scope {
                    module: m,
                    func: None,
                    fns: None,
                };
                if let Some(r) = self.resolve_import(scope, imp) {
                    return Some(r);
                }
            }
        }
        for (krate_name, bound) in &ms.extern_crates {
            if bound == name {
                return if krate_name == "self" {
                    Some(Res::Module(ModId::root(m.krate)))
                } else {
                    self.extern_res(m.krate, krate_name)
                };
            }
        }
        for imp in &ms.imports {
            if imp.kind == ImportKind::Glob {
                let scope = Scope {
                    module: m,
                    func: None,
                    fns: None,
                };
                if let Some(r) = self.glob_lookup(scope, imp, name) {
                    return Some(r);
                }
            }
        }
        None
    }

    fn glob_lookup(&mut self, scope: Scope, imp: &Import, name: &str) -> Option<Res> {
        match self.resolve_segments(scope, &imp.path, imp.global, true)? {
            Res::Module(m2) => self.lookup_in_module(m2, name),
            Res::Ext(mut p) => {
                // An external glob brings in what the crate exports; only names a pack knows
                // can be told apart from the rest.
                p.push(name.to_string());
                self.packs.is_known_prefix(&p).then_some(Res::Ext(p))
            }
            _ => None,
        }
    }

    fn resolve_import(&mut self, scope: Scope, imp: &Import) -> Option<Res> {
        self.resolve_segments(scope, &imp.path, imp.global, true)
    }

    /// The first segment of a path, looked up in scope.
    fn resolve_first(&mut self, scope: Scope, name: &str, in_use: bool) -> Option<Res> {
        let k = scope.module.krate;
        match name {
            "crate" => return Some(Res::Module(ModId::root(k))),
            "self" => return Some(Res::Module(scope.module)),
            "super" => {
                return self
                    .g
                    .module(scope.module)
                    .parent
                    .map(|p| Res::Module(scope.module.with_node(p)));
            }
            "Self" => {
                let st = scope.func.and_then(|f| f.self_type.clone())?;
                let s = Scope {
                    func: None,
                    ..scope
                };
                return self.resolve_path(s, &st);
            }
            _ => {}
        }
        // Function scopes, innermost first: local items shadow, then local imports.
        let mut f = scope.func;
        let mut guard = 0;
        while let Some(func) = f {
            guard += 1;
            if guard > MAX_STEPS {
                break;
            }
            if func.local_items.iter().any(|n| n == name) {
                return Some(Res::Opaque);
            }
            for imp in &func.local_imports {
                if imp.kind == ImportKind::Named(name.to_string()) {
                    let s = Scope {
                        func: None,
                        ..scope
                    };
                    if let Some(r) = self.resolve_import(s, imp) {
                        return Some(r);
                    }
                }
            }
            for imp in &func.local_imports {
                if imp.kind == ImportKind::Glob {
                    let s = Scope {
                        func: None,
                        ..scope
                    };
                    if let Some(r) = self.glob_lookup(s, imp, name) {
                        return Some(r);
                    }
                }
            }
            f = match (func.parent_fn, scope.fns) {
                (Some(p), Some(fns)) => fns.get(p),
                _ => None,
            };
        }
        // 2015 edition: `use` paths start at the crate root.
        let edition_2015 =
            self.g.packages[self.g.crates[k].package].edition == ra_ap_syntax::Edition::Edition2015;
        let module = if in_use && edition_2015 {
            ModId::root(k)
        } else {
            scope.module
        };
        if let Some(r) = self.lookup_in_module(module, name) {
            return Some(r);
        }
        // `extern crate x as y;` at the crate root adds `y` to the extern prelude.
        if module.node != 0 {
            let root = self.module_summary(ModId::root(k));
            if root.extern_crates.iter().any(|(_, b)| b == name) {
                return self.lookup_in_module(ModId::root(k), name);
            }
        }
        self.extern_res(k, name)
    }

    pub fn resolve_segments(
        &mut self,
        scope: Scope,
        segs: &[String],
        global: bool,
        in_use: bool,
    ) -> Option<Res> {
        let (first, rest) = segs.split_first()?;
        let mut cur = if global {
            self.extern_res(scope.module.krate, first)?
        } else {
            self.resolve_first(scope, first, in_use)?
        };
        // A path qualifier is in the type namespace: a function of the module (a value)
        // cannot be one, so a `use` of the same name (`use config::cache;` next to
        // `fn cache(config: &cache::Configuration)`, which rustc accepts) is the qualifier.
        if !rest.is_empty()
            && !global
            && self.is_fn(&cur)
            && self.qualifying.insert((scope.module, first.clone()))
        {
            let ms = self.module_summary(scope.module);
            let plain = Scope {
                func: None,
                ..scope
            };
            let found = ms
                .imports
                .iter()
                .filter(|imp| imp.kind == ImportKind::Named(first.to_string()))
                .find_map(|imp| self.resolve_import(plain, imp));
            self.qualifying.remove(&(scope.module, first.clone()));
            if let Some(r) = found {
                cur = r;
            }
        }
        for seg in rest {
            cur = self.step(cur, seg)?;
        }
        Some(cur)
    }

    /// Whether `r` is a function item.
    fn is_fn(&self, r: &Res) -> bool {
        matches!(r, Res::Item(m, i) if self.module_summary(*m).items[*i].kind == ItemKind::Fn)
    }

    /// One more segment after `cur`.
    fn step(&mut self, cur: Res, seg: &str) -> Option<Res> {
        let mut cur = cur;
        for _ in 0..MAX_STEPS {
            match cur {
                Res::Ext(mut p) => {
                    p.push(seg.to_string());
                    return Some(Res::Ext(p));
                }
                Res::Module(m) => {
                    return match seg {
                        "self" => Some(Res::Module(m)),
                        "super" => self.g.module(m).parent.map(|p| Res::Module(m.with_node(p))),
                        _ => self.lookup_in_module(m, seg),
                    };
                }
                Res::Item(m, i) => {
                    let it = &self.module_summary(m).items[i];
                    if it.kind == ItemKind::TypeAlias {
                        cur = self.expand_alias(m, i)?;
                        continue;
                    }
                    return Some(Res::Opaque);
                }
                Res::Opaque => return Some(Res::Opaque),
            }
        }
        None
    }

    fn expand_alias(&mut self, m: ModId, i: usize) -> Option<Res> {
        let it = &self.module_summary(m).items[i];
        let head = it.alias_of.as_ref()?.head.clone()?;
        let scope = Scope {
            module: m,
            func: None,
            fns: None,
        };
        self.resolve_path(scope, &head)
    }

    /// Resolve a path written in `scope`. Type aliases at the end are expanded.
    pub fn resolve_path(&mut self, scope: Scope, p: &RawPath) -> Option<Res> {
        let r = if let Some(anchor) = &p.anchor {
            let mut cur = self.resolve_path(scope, anchor)?;
            for seg in &p.segs {
                cur = self.step(cur, seg)?;
            }
            cur
        } else {
            self.resolve_segments(scope, &p.segs, p.global, false)?
        };
        self.expand(r)
    }

    /// Expand type aliases until a non-alias.
    pub fn expand(&mut self, r: Res) -> Option<Res> {
        let mut cur = r;
        for _ in 0..MAX_STEPS {
            match cur {
                Res::Item(m, i) if self.module_summary(m).items[i].kind == ItemKind::TypeAlias => {
                    cur = self.expand_alias(m, i)?;
                }
                other => return Some(other),
            }
        }
        None
    }

    /// Resolve to an external path, if that is what it is.
    pub fn resolve_ext(&mut self, scope: Scope, p: &RawPath) -> Option<Vec<String>> {
        match self.resolve_path(scope, p)? {
            Res::Ext(v) => Some(v),
            _ => None,
        }
    }

    /// Every resolution of the paths in a type (for holder detection).
    pub fn resolve_type_paths(&mut self, scope: Scope, t: &RawType) -> Vec<Res> {
        t.all
            .iter()
            .filter_map(|p| self.resolve_path(scope, p))
            .collect()
    }

    /// Resolve a module path from the config (`app::database`) to a module.
    pub fn config_module(&mut self, segs: &[String]) -> Vec<ModId> {
        let mut out = Vec::new();
        let Some((first, rest)) = segs.split_first() else {
            return out;
        };
        for (k, c) in self.g.crates.iter().enumerate() {
            if &c.name != first || c.modules.is_empty() {
                continue;
            }
            let mut cur = Some(0usize);
            for seg in rest {
                cur = cur.and_then(|m| c.modules.child(m, seg));
            }
            if let Some(m) = cur {
                out.push(ModId::new(CrateId::new(k), m));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::check;

    const SSOT: &str = r#"
//- /ssot-lint.toml
[ssot]
modules = ["app::db"]
//- /src/lib.rs
pub mod db;
pub mod logs;
//- /src/db.rs
pub fn pool() {}
"#;

    /// `use log::log;` (the macro) beside `fn log`: the qualifier `log::` is looked up as
    /// that `use`, whose own path starts at `log` again. It was followed until the stack
    /// overflowed (a corpus crate; the whole run aborted).
    #[test]
    fn an_import_whose_path_starts_with_its_own_name_ends() {
        check(&format!(
            "{SSOT}{}",
            r#"//- /src/logs.rs
use log::log;
pub fn log() {}
pub async fn run(url: &str) {
    log::info!("x");
    let _ = log::Level::Info;
    let _ = sqlx::PgPool::connect(url).await;
          //^^^^^^^^^^^^^^^^^^^^^ SSOT001
}
"#
        ));
    }

    /// The same module without the pool: nothing to report, and the run ends.
    #[test]
    fn an_import_whose_path_starts_with_its_own_name_stays_silent() {
        check(&format!(
            "{SSOT}{}",
            r#"//- /src/logs.rs
use log::log;
pub fn log() {}
pub fn run() {
    log::info!("x");
    let _ = log::Level::Info;
}
"#
        ));
    }
}
