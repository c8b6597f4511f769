//! Type inference, syntactic and local: the declared type of a field or a binding, the
//! type of a local from its initializer, a builder in progress along a chain.

use super::Model;
use crate::ids::ModId;
use crate::resolve::{Res, Scope};
use crate::summary::{
    Chain, ChainRoot, FileSummary, FnSummary, LetBinding, RawPath, RawType, Span,
};

/// Either a type or a builder in progress, for typing receivers.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum ValueType {
    Type(Vec<String>),
    Builder {
        pack: usize,
        root: Vec<String>,
        terminals: Vec<String>,
        returns: Option<Vec<String>>,
        span: Span,
    },
}

/// What a name in a function body is bound to.
#[derive(Clone, Copy)]
pub enum Local<'s> {
    Let(&'s LetBinding),
    /// A parameter, with its declared type.
    Param(&'s RawType),
}

/// The binding `name` refers to at offset `at` of `func`: the last `let` of that name that
/// starts before `at`, else the parameter of that name.
pub fn local<'s>(func: &'s FnSummary, name: &str, at: u32) -> Option<Local<'s>> {
    if let Some(l) = func
        .lets
        .iter()
        .rev()
        .find(|l| l.name == name && l.offset <= at)
    {
        return Some(Local::Let(l));
    }
    func.params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, t)| Local::Param(t))
}

impl<'g> Model<'g> {
    pub(super) fn self_field_type(
        &mut self,
        m: ModId,
        s: &FileSummary,
        chain: &Chain,
        field: &str,
    ) -> Option<ValueType> {
        let func = &s.fns[chain.func?];
        let st = func.self_type.clone()?;
        let scope = Scope {
            module: m,
            func: None,
            fns: None,
        };
        self.field_value_type(scope, &st, field)
    }

    /// The declared type of `field` of the project type `ty` (written in `scope`), with the
    /// scope its declaration is resolved in.
    pub fn field_type(
        &mut self,
        scope: Scope,
        ty: &RawPath,
        field: &str,
    ) -> Option<(ModId, crate::summary::RawType)> {
        // A struct, or an enum variant (`Self::Fresh`, `Db::Fresh`: fields `Fresh.0`, ...).
        let (res, field) = match self.res.resolve_path(scope, ty) {
            Some(r @ Res::Item(..)) => (r, field.to_string()),
            _ if ty.segs.len() >= 2 => {
                let mut q = ty.clone();
                let variant = q.segs.pop()?;
                q.seg_ends.pop();
                (
                    self.res.resolve_path(scope, &q)?,
                    format!("{variant}.{field}"),
                )
            }
            _ => return None,
        };
        let Res::Item(im, ii) = res else {
            return None;
        };
        let node = self.g.module(im);
        let fs = &self.g.files[node.file].summary;
        let adt = fs.modules[node.local].items[ii].adt?;
        let (_, fty) = fs.adts[adt].fields.iter().find(|(n, _)| *n == field)?;
        Some((im, fty.clone()))
    }

    /// The type a method call on `ty.field` dispatches on, when it is a published crate's.
    pub(super) fn field_value_type(
        &mut self,
        scope: Scope,
        ty: &RawPath,
        field: &str,
    ) -> Option<ValueType> {
        let (im, fty) = self.field_type(scope, ty, field)?;
        let head = fty.head?;
        let fscope = Scope {
            module: im,
            func: None,
            fns: None,
        };
        let t = self.res.resolve_ext(fscope, &head)?;
        Some(ValueType::Type(t))
    }

    /// The declared type of `binding.field`: the binding typed by its declaration or, for a
    /// pattern binding (`Self::Fresh(fresh)`), by the field it binds.
    pub(super) fn binding_field_type(
        &mut self,
        scope: Scope,
        func: &FnSummary,
        binding: &str,
        field: &str,
        at: u32,
    ) -> Option<(ModId, crate::summary::RawType)> {
        let pattern = match local(func, binding, at) {
            Some(Local::Let(l)) => l.field_of.as_ref(),
            _ => None,
        };
        if let Some((pty, pfield)) = pattern {
            let (im, bty) = self.field_type(scope, pty, pfield)?;
            let head = bty.head?;
            let bscope = Scope {
                module: im,
                func: None,
                fns: None,
            };
            return self.field_type(bscope, &head, field);
        }
        let ty = Self::binding_decl_type(func, binding, at)?;
        self.field_type(scope, &ty, field)
    }

    /// The declared type of a binding (a parameter or an annotated `let`), as written.
    pub(super) fn binding_decl_type(func: &FnSummary, name: &str, before: u32) -> Option<RawPath> {
        match local(func, name, before)? {
            Local::Let(l) => l.ty.as_ref().and_then(|t| t.head.clone()),
            Local::Param(t) => t.head.clone(),
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn local_type(
        &mut self,
        m: ModId,
        s: &FileSummary,
        f: usize,
        name: &str,
        before: u32,
        depth: u32,
    ) -> Option<ValueType> {
        let func = &s.fns[f];
        let scope = Scope {
            module: m,
            func: Some(func),
            fns: Some(&s.fns),
        };
        match local(func, name, before)? {
            Local::Let(l) => {
                if let Some((ty, field)) = &l.field_of {
                    return self.field_value_type(scope, ty, field);
                }
                if let Some(t) = l.ty.as_ref().and_then(|t| t.head.clone()) {
                    return self.res.resolve_ext(scope, &t).map(ValueType::Type);
                }
                let init = &s.chains[l.init?];
                self.chain_value_type(m, s, init, depth + 1)
            }
            Local::Param(t) => {
                let head: RawPath = t.head.clone()?;
                self.res.resolve_ext(scope, &head).map(ValueType::Type)
            }
        }
    }

    /// The type of a chain's value: a constructor's `returns`, or a builder in progress.
    pub(super) fn chain_value_type(
        &mut self,
        m: ModId,
        s: &FileSummary,
        chain: &Chain,
        depth: u32,
    ) -> Option<ValueType> {
        if depth > 8 {
            return None;
        }
        if let Some(c) = self.classify_depth(m, s, chain, depth) {
            return c.returns.map(ValueType::Type);
        }
        let scope = self.scope(m, s, chain);
        match &chain.root {
            ChainRoot::Call(p) => {
                let path = self.res.resolve_ext(scope, p)?;
                let bs = self.packs.builders.get(&path)?;
                let b = &bs[0];
                Some(ValueType::Builder {
                    pack: b.pack,
                    root: path.clone(),
                    terminals: bs
                        .iter()
                        .flat_map(|b| b.terminals.iter().cloned())
                        .collect(),
                    returns: b.returns.clone(),
                    span: chain.root_span.clone(),
                })
            }
            ChainRoot::Value(p) if p.is_single() && chain.func.is_some() => {
                let t = self.local_type(
                    m,
                    s,
                    chain.func?,
                    &p.segs[0],
                    chain.root_span.start,
                    depth + 1,
                )?;
                // Setters on a builder keep it a builder.
                match t {
                    ValueType::Builder { .. } => Some(t),
                    ValueType::Type(_) if chain.methods.is_empty() => Some(t),
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Local, local};
    use crate::resolve::Scope;
    use crate::testing::{module_of, with_model};

    /// A name refers to the last `let` of that name before the offset, else a parameter.
    #[test]
    fn a_local_is_the_last_binding_before_the_use() {
        let text = "fn f(p: u8) {\n    let p = 1;\n    let q = 2;\n    let p = 3;\n}\n";
        let s = crate::parse::summarize(text, ra_ap_syntax::Edition::Edition2021);
        let f = &s.fns[0];
        let at = |needle: &str| text.find(needle).expect("in the text") as u32;
        let line = |l: Local| match l {
            Local::Let(b) => text[..b.offset as usize].matches('\n').count() + 1,
            Local::Param(_) => 0,
        };
        assert_eq!(local(f, "p", at("let p = 1")).map(line), Some(0));
        assert_eq!(local(f, "p", at("let q")).map(line), Some(2));
        assert_eq!(local(f, "p", at("}")).map(line), Some(4));
        assert!(local(f, "r", at("}")).is_none());
    }

    /// A field's declared type, with the module its declaration is resolved in; an enum
    /// variant's fields are `Variant.0`.
    #[test]
    fn field_types() {
        let fixture = r#"
//- /src/lib.rs
pub mod db;
pub mod app;
//- /src/db.rs
pub struct Database {
    pub pool: sqlx::PgPool,
}
pub enum Conn {
    Fresh(sqlx::PgConnection),
}
//- /src/app.rs
use crate::db::Database;
"#;
        with_model(fixture, |m| {
            let app = module_of(m, "app::app");
            let scope = Scope {
                module: app,
                func: None,
                fns: None,
            };
            let path = |t: &str| {
                crate::parse::summarize(
                    &format!("static X: {t} = todo!();"),
                    ra_ap_syntax::Edition::Edition2021,
                )
                .statics
                .remove(0)
                .ty
                .head
                .expect("a path")
            };
            let (decl, ty) = m
                .field_type(scope, &path("Database"), "pool")
                .expect("typed");
            assert_eq!(decl, module_of(m, "app::db"));
            assert_eq!(
                ty.head.map(|h| h.segs),
                Some(vec!["sqlx".into(), "PgPool".into()])
            );
            let (_, ty) = m
                .field_type(scope, &path("crate::db::Conn::Fresh"), "0")
                .expect("a variant's field");
            assert_eq!(
                ty.head.map(|h| h.segs),
                Some(vec!["sqlx".into(), "PgConnection".into()])
            );
            assert!(m.field_type(scope, &path("Database"), "nope").is_none());
        });
    }
}
