//! Holder types: the pack types that hold a pool or client, and the project types that do
//! (a field of one, a newtype of one); the resource kind of a generic pool's manager.

use super::Model;
use crate::ids::{AdtId, ModId};
use crate::packs::path_text;
use crate::resolve::{Res, Scope};

/// What a generic pool's manager says about its resource kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ManagerKind {
    /// A pool of this pack's kind.
    Pack(usize),
    /// A project manager that wraps no pack client: not a resource.
    NotResource,
    /// Cannot be told (a generic parameter, an unknown crate): the pack's default kind.
    Unknown,
}

impl<'g> Model<'g> {
    /// Project types that hold a pool or client: a field of a pack's holder type (through
    /// `Option`/`Arc`/`Box`/cells/locks/enums, whatever wraps it), or a newtype (a single
    /// field) of such a project type. A type that reaches a pool only through a field of
    /// another project type (an application context) is not a holder.
    pub(super) fn find_holder_adts(&mut self) {
        // Every type definition with the module that declares it.
        let mut adts: Vec<(ModId, AdtId)> = Vec::new();
        for k in self.g.crate_ids() {
            for (file, base, len) in self.g.crates[k].modules.files() {
                // In module node order, each module's in file order.
                let mut local: Vec<(usize, usize)> = (self.g.files[file].summary.adts.iter())
                    .enumerate()
                    .filter(|(_, a)| a.module < len)
                    .map(|(ai, a)| (a.module, ai))
                    .collect();
                local.sort_unstable();
                adts.extend(
                    local
                        .into_iter()
                        .map(|(m, adt)| (ModId::new(k, base + m), AdtId { file, adt })),
                );
            }
        }
        let mut resolved: Vec<Vec<Res>> = Vec::with_capacity(adts.len());
        for &(module, a) in &adts {
            let s = &self.g.files[a.file].summary;
            let scope = Scope {
                module,
                func: None,
                fns: None,
            };
            let mut v = Vec::new();
            for (_, t) in &s.adts[a.adt].fields {
                v.extend(self.res.resolve_type_paths(scope, t));
            }
            resolved.push(v);
        }
        // Direct holders first: a field of a pack holder type. Twice, so that a generic
        // pool of a project manager (itself a direct holder) finds its manager's kind.
        for _ in 0..2 {
            for (i, &(_, a)) in adts.iter().enumerate() {
                if self.holder_adts.contains_key(&a) {
                    continue;
                }
                let pack_paths: Vec<Res> = resolved[i]
                    .iter()
                    .filter(|r| match r {
                        Res::Ext(p) => self.packs.holders.contains_key(p),
                        _ => false,
                    })
                    .cloned()
                    .collect();
                if pack_paths.is_empty() {
                    continue;
                }
                if let Some(h) = self.holder_among(&resolved[i]) {
                    self.holder_adts.insert(a, h);
                }
            }
        }
        // Newtypes of holders, transitively (bounded by the number of types): a single-field
        // struct, or an enum with a single-payload variant (`MongoDb(MongoDb)`), the way
        // `Option<Holder>` is one.
        let mut single: Vec<Vec<Vec<Res>>> = Vec::with_capacity(adts.len());
        for &(module, a) in &adts {
            let fields = &self.g.files[a.file].summary.adts[a.adt].fields;
            let scope = Scope {
                module,
                func: None,
                fns: None,
            };
            let variant = |n: &str| n.split_once('.').map(|(v, _)| v.to_string());
            let mut v = Vec::new();
            for (n, t) in fields {
                let alone = match variant(n) {
                    Some(var) => {
                        fields
                            .iter()
                            .filter(|(m, _)| variant(m).as_deref() == Some(var.as_str()))
                            .count()
                            == 1
                    }
                    None => fields.len() == 1,
                };
                if alone {
                    v.push(self.res.resolve_type_paths(scope, t));
                }
            }
            single.push(v);
        }
        loop {
            let mut changed = false;
            for (i, &(_, a)) in adts.iter().enumerate() {
                if self.holder_adts.contains_key(&a) {
                    continue;
                }
                if let Some(h) = single[i].iter().flatten().find_map(|r| self.holder_of(r)) {
                    self.holder_adts.insert(a, h);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
    }

    /// The pack and holder type path if type `t`, written in `scope`, holds a pool or client.
    pub fn holder_in(
        &mut self,
        scope: Scope,
        t: &crate::summary::RawType,
    ) -> Option<(usize, String)> {
        let rs = self.res.resolve_type_paths(scope, t);
        self.holder_among(&rs)
    }

    /// The pack and display path if `r` is a holder type (a pack type or a project holder).
    pub fn holder_of(&self, r: &Res) -> Option<(usize, String)> {
        match r {
            Res::Ext(p) => self.packs.holders.get(p).map(|&pk| (pk, path_text(p))),
            Res::Item(m, i) => {
                let node = self.g.module(*m);
                let item = &self.g.files[node.file].summary.modules[node.local].items[*i];
                let adt = item.adt?;
                let (pk, _) = self.holder_adts.get(&AdtId {
                    file: node.file,
                    adt,
                })?;
                let mut path = vec![self.g.crates[m.krate].name.clone()];
                path.extend(node.path.iter().cloned());
                path.push(item.name.clone());
                Some((*pk, path_text(&path)))
            }
            _ => None,
        }
    }

    /// The kind of a manager type: a pack's `[[manager]]` or client type, or a project type
    /// (a holder of a pack client, or no resource at all).
    pub(super) fn manager_kind_of(&self, r: Option<&Res>) -> ManagerKind {
        match r {
            Some(Res::Ext(p)) => {
                if let Some(kind) = self.packs.managers.get(p) {
                    return self
                        .pack_of_kind(kind)
                        .map_or(ManagerKind::Unknown, ManagerKind::Pack);
                }
                match self.packs.holders.get(p) {
                    Some(&pk) if !self.packs.packs[pk].generic => ManagerKind::Pack(pk),
                    _ => ManagerKind::Unknown,
                }
            }
            Some(r @ Res::Item(m, i)) => {
                let node = self.g.module(*m);
                let item = &self.g.files[node.file].summary.modules[node.local].items[*i];
                if item.adt.is_none() {
                    return ManagerKind::Unknown;
                }
                match self.holder_of(r) {
                    Some((pk, _)) => ManagerKind::Pack(pk),
                    None => ManagerKind::NotResource,
                }
            }
            _ => ManagerKind::Unknown,
        }
    }

    /// A non-generic pack of a resource kind (whose accessor and name stand for the kind).
    pub(super) fn pack_of_kind(&self, kind: &str) -> Option<usize> {
        let packs = &self.packs.packs;
        (0..packs.len())
            .find(|&i| packs[i].resource == kind && !packs[i].generic)
            .or_else(|| (0..packs.len()).find(|&i| packs[i].resource == kind))
    }

    /// The holder among resolved type paths: the first pack holder type or project holder;
    /// a generic pool takes its manager's kind (the paths after it: its type arguments).
    pub(super) fn holder_among(&self, rs: &[Res]) -> Option<(usize, String)> {
        for (i, r) in rs.iter().enumerate() {
            let Some((pk, text)) = self.holder_of(r) else {
                continue;
            };
            if !self.packs.packs[pk].generic {
                return Some((pk, text));
            }
            let kind = rs[i + 1..]
                .iter()
                .map(|a| self.manager_kind_of(Some(a)))
                .find(|k| !matches!(k, ManagerKind::Unknown));
            return match kind {
                Some(ManagerKind::Pack(p2)) => Some((p2, text)),
                Some(ManagerKind::NotResource) => None,
                _ => Some((pk, text)),
            };
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use crate::resolve::{Res, Scope};
    use crate::testing::{module_of, with_model};

    const CRATE: &str = r#"
//- /src/lib.rs
pub mod db;
pub mod app;
//- /src/db.rs
pub struct Database {
    pool: Option<std::sync::Arc<sqlx::PgPool>>,
}
pub struct Handle(Database);
pub enum Store {
    Pg(Database),
    Empty,
}
pub struct Plain {
    name: String,
}
//- /src/app.rs
pub struct AppState {
    db: crate::db::Database,
    name: String,
}
"#;

    /// What `name`, written in `module`, holds.
    fn holder(m: &mut crate::semantic::Model, module: &str, name: &str) -> Option<String> {
        let scope = Scope {
            module: module_of(m, module),
            func: None,
            fns: None,
        };
        let ty = crate::parse::summarize(
            &format!("static X: {name} = todo!();"),
            ra_ap_syntax::Edition::Edition2021,
        )
        .statics
        .remove(0)
        .ty;
        m.holder_in(scope, &ty).map(|(_, t)| t)
    }

    /// A field of a pack's holder type makes a holder, through wrappers; so does a newtype
    /// or a single-payload variant of one; an application context that has a holder as one
    /// field among others does not.
    #[test]
    fn holder_types() {
        with_model(CRATE, |m| {
            assert_eq!(
                holder(m, "app::db", "Database").as_deref(),
                Some("app::db::Database")
            );
            assert_eq!(
                holder(m, "app::db", "Handle").as_deref(),
                Some("app::db::Handle")
            );
            assert_eq!(
                holder(m, "app::db", "Store").as_deref(),
                Some("app::db::Store")
            );
            assert_eq!(holder(m, "app::db", "Plain"), None);
            assert_eq!(holder(m, "app::app", "AppState"), None);
            assert_eq!(
                holder(m, "app::app", "Option<sqlx::PgPool>").as_deref(),
                Some("sqlx::PgPool")
            );
            let ext = Res::Ext(vec!["sqlx".into(), "PgPool".into()]);
            assert_eq!(
                m.holder_of(&ext).map(|(_, t)| t).as_deref(),
                Some("sqlx::PgPool")
            );
        });
    }

    /// A generic pool takes its manager's kind; a project manager that wraps no client makes
    /// it no resource.
    #[test]
    fn a_generic_pool_is_of_its_managers_kind() {
        let fixture = r#"
//- /Cargo.toml
[package]
name = "app"
version = "0.1.0"
edition = "2021"
[dependencies]
r2d2 = "0.8"
r2d2_redis = "0.14"
//- /src/lib.rs
pub struct Mine;
"#;
        with_model(fixture, |m| {
            let kind = |m: &mut crate::semantic::Model, t: &str| {
                let scope = Scope {
                    module: module_of(m, "app"),
                    func: None,
                    fns: None,
                };
                let ty = crate::parse::summarize(
                    &format!("static X: {t} = todo!();"),
                    ra_ap_syntax::Edition::Edition2021,
                )
                .statics
                .remove(0)
                .ty;
                m.holder_in(scope, &ty)
                    .map(|(pack, _)| m.packs.packs[pack].resource.clone())
            };
            assert_eq!(
                kind(m, "r2d2::Pool<r2d2_redis::RedisConnectionManager>").as_deref(),
                Some("redis")
            );
            assert_eq!(kind(m, "r2d2::Pool<Mine>"), None);
        });
    }
}
