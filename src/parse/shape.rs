//! A type's shape as written, for a fix that rewrites the type: its named fields, its
//! inherent methods (signature pieces, body, tail expression), every `self.<field>` in
//! them with the code around it, and the struct literals that build it.
//!
//! Unlike [`super::summarize`] this is not part of every run: a rule re-parses the one file
//! that defines a type it fixes (DESIGN.md: "files with findings are re-parsed for fixes").
//! Syntax only; which field or method matters is the caller's decision.

use ra_ap_syntax::{
    AstNode, Edition, SourceFile, SyntaxKind, SyntaxNode, TextRange,
    ast::{self, HasName},
};

use crate::summary::Span;

/// An element of a comma-separated list (a field declaration, a field of a literal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListItem {
    pub name: String,
    /// The element, its attributes and leading comments included; not the comma.
    pub span: Span,
}

/// A method of an inherent `impl` of the type.
#[derive(Debug, Clone)]
pub struct Method {
    pub name: String,
    /// Where `async ` goes: the start of the `fn` keyword (after `pub`, `const`, ..).
    pub fn_kw: u32,
    pub is_async: bool,
    /// The return type, `->` excluded.
    pub ret: Option<Span>,
    /// The closing parenthesis of the parameter list (where `-> T` goes when there is none).
    pub params_end: u32,
    /// The body block, braces included.
    pub body: Option<Span>,
    /// The body's tail expression.
    pub tail: Option<Span>,
}

/// One `self.<field>` inside a method of the type, with the code around it.
#[derive(Debug, Clone)]
pub struct FieldUse {
    pub field: String,
    /// Index into [`TypeShape::methods`].
    pub method: usize,
    /// `self.field`.
    pub span: Span,
    /// The method calls applied to it, in order (`self.f.load(..).await` is `["load"]`).
    pub calls: Vec<String>,
    /// The whole spine: `self.f` and those calls, through `.await`, `?`, `*` and parentheses.
    pub spine: Span,
    /// The spine is the place of an assignment (`self.f = ..`, `*self.f.write() = ..`).
    pub assigned: bool,
    /// The statement the spine makes up alone (an expression statement or an assignment,
    /// its `;` included), when it is one.
    pub stmt: Option<Span>,
    /// The spine, negated with `!` or not, is the whole condition of an `if` with no
    /// `else`: that `if` (as a statement, its `;` if any included), and whether negated.
    pub guard: Option<(Span, bool)>,
}

/// The type's shape (see the module documentation).
#[derive(Debug, Clone, Default)]
pub struct TypeShape {
    /// The named fields of `struct Name { .. }`, in order; empty when there is none.
    pub fields: Vec<ListItem>,
    pub methods: Vec<Method>,
    pub uses: Vec<FieldUse>,
    /// Struct literals `Name { .. }` (and `Self { .. }` inside the type's impls): each
    /// literal's fields, in order.
    pub literals: Vec<Vec<ListItem>>,
}

/// The shape of the type `name` defined in `text` (its inherent impls in the same file).
/// `None` when the file defines no braced struct of that name.
pub fn type_shape(text: &str, edition: Edition, name: &str) -> Option<TypeShape> {
    // A byte order mark is not code; blanks keep every offset (as `summarize` does).
    let unmarked;
    let text = match text.strip_prefix('\u{feff}') {
        Some(rest) => {
            unmarked = format!("   {rest}");
            unmarked.as_str()
        }
        None => text,
    };
    if super::depth::source_too_deep(text).is_some() {
        return None;
    }
    let file = SourceFile::parse(text, edition).tree();
    let mut shape = TypeShape::default();
    let mut found = false;
    for node in file.syntax().descendants() {
        if let Some(s) = ast::Struct::cast(node.clone())
            && s.name().is_some_and(|n| n.text() == name)
            && let Some(list) = s.field_list()
        {
            let ast::FieldList::RecordFieldList(list) = list else {
                return None;
            };
            found = true;
            shape.fields = list
                .fields()
                .filter_map(|f| {
                    Some(ListItem {
                        name: f.name()?.text().to_string(),
                        span: span(f.syntax().text_range()),
                    })
                })
                .collect();
        } else if let Some(imp) = ast::Impl::cast(node.clone())
            && imp.trait_().is_none()
            && imp
                .self_ty()
                .is_some_and(|t| last_segment(&t).as_deref() == Some(name))
            && let Some(items) = imp.assoc_item_list()
        {
            for item in items.assoc_items() {
                if let ast::AssocItem::Fn(f) = item {
                    method(&mut shape, &f);
                }
            }
        } else if let Some(lit) = ast::RecordExpr::cast(node.clone()) {
            let Some(p) = lit.path() else { continue };
            let head = p
                .segment()
                .and_then(|s| s.name_ref())
                .map(|n| n.text().to_string());
            let in_impl = node.ancestors().any(|a| {
                ast::Impl::cast(a).is_some_and(|i| {
                    i.self_ty()
                        .is_some_and(|t| last_segment(&t).as_deref() == Some(name))
                })
            });
            let is_it = match head.as_deref() {
                Some("Self") => in_impl && p.qualifier().is_none(),
                Some(h) => h == name,
                None => false,
            };
            if let (true, Some(list)) = (is_it, lit.record_expr_field_list()) {
                shape.literals.push(
                    list.fields()
                        .filter_map(|f| {
                            let name = match f.name_ref() {
                                Some(n) => n.text().to_string(),
                                None => match f.expr()? {
                                    ast::Expr::PathExpr(p) => {
                                        p.path()?.segment()?.name_ref()?.text().to_string()
                                    }
                                    _ => return None,
                                },
                            };
                            Some(ListItem {
                                name,
                                span: span(f.syntax().text_range()),
                            })
                        })
                        .collect(),
                );
            }
        }
    }
    found.then_some(shape)
}

/// A function's signature pieces, found by the range its summary gives
/// ([`crate::summary::FnSummary::span`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// Declared `pub` (any `pub(..)` too).
    pub is_pub: bool,
    /// The return type, `->` excluded.
    pub ret: Option<Span>,
}

/// The signature of the function item whose range is `at`.
pub fn signature(text: &str, edition: Edition, at: &Span) -> Option<Signature> {
    if text.starts_with('\u{feff}') || super::depth::source_too_deep(text).is_some() {
        return None;
    }
    let file = SourceFile::parse(text, edition).tree();
    let f = file
        .syntax()
        .descendants()
        .filter_map(ast::Fn::cast)
        .find(|f| &span(f.syntax().text_range()) == at)?;
    Some(Signature {
        is_pub: ast::HasVisibility::visibility(&f).is_some(),
        ret: f
            .ret_type()
            .and_then(|r| r.ty())
            .map(|t| span(t.syntax().text_range())),
    })
}

fn span(r: TextRange) -> Span {
    u32::from(r.start())..u32::from(r.end())
}

/// The last segment of a type's path (`Manager` in `crate::db::Manager<T>`).
fn last_segment(t: &ast::Type) -> Option<String> {
    match t {
        ast::Type::PathType(p) => Some(p.path()?.segment()?.name_ref()?.text().to_string()),
        _ => None,
    }
}

fn method(shape: &mut TypeShape, f: &ast::Fn) {
    let (Some(name), Some(fn_kw), Some(params)) = (f.name(), f.fn_token(), f.param_list()) else {
        return;
    };
    let body = f.body();
    let index = shape.methods.len();
    shape.methods.push(Method {
        name: name.text().to_string(),
        fn_kw: u32::from(fn_kw.text_range().start()),
        is_async: f.async_token().is_some(),
        ret: f
            .ret_type()
            .and_then(|r| r.ty())
            .map(|t| span(t.syntax().text_range())),
        params_end: u32::from(params.syntax().text_range().end()),
        body: body.as_ref().map(|b| span(b.syntax().text_range())),
        tail: body
            .as_ref()
            .and_then(|b| b.stmt_list())
            .and_then(|l| l.tail_expr())
            .map(|t| span(t.syntax().text_range())),
    });
    let Some(body) = body else { return };
    for node in body.syntax().descendants() {
        let Some(fe) = ast::FieldExpr::cast(node.clone()) else {
            continue;
        };
        let is_self = matches!(fe.expr(), Some(ast::Expr::PathExpr(p))
            if p.path().is_some_and(|p| p.qualifier().is_none()
                && p.segment().is_some_and(|s| s.self_token().is_some())));
        let Some(field) = fe.name_ref().map(|n| n.text().to_string()) else {
            continue;
        };
        if !is_self {
            continue;
        }
        shape.uses.push(field_use(fe.syntax(), field, index));
    }
}

/// `self.field` and the spine built on it.
fn field_use(node: &SyntaxNode, field: String, method: usize) -> FieldUse {
    let mut calls = Vec::new();
    let mut top = node.clone();
    while let Some(parent) = top.parent() {
        let continues = match parent.kind() {
            SyntaxKind::AWAIT_EXPR | SyntaxKind::TRY_EXPR | SyntaxKind::PAREN_EXPR => true,
            SyntaxKind::PREFIX_EXPR => ast::PrefixExpr::cast(parent.clone())
                .is_some_and(|p| p.op_kind() == Some(ast::UnaryOp::Deref)),
            SyntaxKind::METHOD_CALL_EXPR => {
                let m = ast::MethodCallExpr::cast(parent.clone());
                match m.as_ref().and_then(|m| m.receiver()) {
                    Some(r) if r.syntax() == &top => {
                        if let Some(n) = m.as_ref().and_then(|m| m.name_ref()) {
                            calls.push(n.text().to_string());
                        }
                        true
                    }
                    _ => false,
                }
            }
            _ => false,
        };
        if !continues {
            break;
        }
        top = parent;
    }
    let spine = span(top.text_range());
    let parent = top.parent();
    let assigned = parent.as_ref().is_some_and(|p| {
        ast::BinExpr::cast(p.clone()).is_some_and(|b| {
            matches!(b.op_kind(), Some(ast::BinaryOp::Assignment { .. }))
                && b.lhs().is_some_and(|l| l.syntax() == &top)
        })
    });
    let stmt_node = if assigned {
        parent.clone()
    } else {
        Some(top.clone())
    };
    let stmt = stmt_node.and_then(|n| {
        let p = n.parent()?;
        (p.kind() == SyntaxKind::EXPR_STMT).then(|| span(p.text_range()))
    });
    // `if self.f { .. }` / `if !self.f { .. }` with no else.
    let (cond, negated) = match &parent {
        Some(p)
            if ast::PrefixExpr::cast(p.clone())
                .is_some_and(|x| x.op_kind() == Some(ast::UnaryOp::Not)) =>
        {
            (p.clone(), true)
        }
        _ => (top.clone(), false),
    };
    let guard = cond.parent().and_then(|p| {
        let i = ast::IfExpr::cast(p.clone())?;
        if i.condition()?.syntax() != &cond || i.else_branch().is_some() {
            return None;
        }
        // The `if` as a statement: its own, or the expression statement around it.
        let outer = match p.parent() {
            Some(s) if s.kind() == SyntaxKind::EXPR_STMT => s,
            Some(s) if s.kind() == SyntaxKind::STMT_LIST => p.clone(),
            _ => return None,
        };
        Some((span(outer.text_range()), negated))
    });
    FieldUse {
        field,
        method,
        span: span(node.text_range()),
        calls,
        spine,
        assigned,
        stmt,
        guard,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"
pub struct Manager {
    url: String,
    /// Set by `initialize()`.
    pool: Option<Pool>,
    ready: AtomicBool,
}

impl Manager {
    pub fn new(url: String) -> Self {
        Manager { url, pool: None, ready: AtomicBool::new(false) }
    }
    pub async fn initialize(&mut self) -> Result<(), E> {
        if self.ready.load(Ordering::SeqCst) {
            return Ok(());
        }
        self.pool = Some(connect(&self.url).await?);
        self.ready.store(true, Ordering::SeqCst);
        Ok(())
    }
    pub fn pool(&self) -> &Pool {
        self.pool.as_ref().expect("not initialized")
    }
    fn other(&self) {
        if !self.ready.load(Ordering::SeqCst) {
            return;
        }
    }
}

impl Drop for Manager {
    fn drop(&mut self) {}
}

fn make() -> Manager {
    Manager {
        url: String::new(),
        pool: None,
        ready: AtomicBool::new(false),
    }
}
"#;

    fn text(s: &Span) -> &str {
        &TEXT[s.start as usize..s.end as usize]
    }

    #[test]
    fn fields_methods_literals() {
        let s = type_shape(TEXT, Edition::Edition2021, "Manager").expect("a struct");
        let fields: Vec<(&str, &str)> = s
            .fields
            .iter()
            .map(|f| (f.name.as_str(), text(&f.span)))
            .collect();
        assert_eq!(
            fields,
            [
                ("url", "url: String"),
                ("pool", "/// Set by `initialize()`.\n    pool: Option<Pool>"),
                ("ready", "ready: AtomicBool"),
            ]
        );
        let names: Vec<&str> = s.methods.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["new", "initialize", "pool", "other"]);
        let pool = &s.methods[2];
        assert_eq!(pool.ret.as_ref().map(text), Some("&Pool"));
        assert_eq!(
            pool.tail.as_ref().map(text),
            Some("self.pool.as_ref().expect(\"not initialized\")")
        );
        assert_eq!(
            &TEXT[pool.fn_kw as usize..pool.fn_kw as usize + 7],
            "fn pool"
        );
        assert!(s.methods[1].is_async && !pool.is_async);
        assert_eq!(s.literals.len(), 2);
        let lit: Vec<&str> = s.literals[0].iter().map(|f| text(&f.span)).collect();
        assert_eq!(lit, ["url", "pool: None", "ready: AtomicBool::new(false)"]);
    }

    #[test]
    fn field_uses() {
        let s = type_shape(TEXT, Edition::Edition2021, "Manager").expect("a struct");
        let uses: Vec<String> = s
            .uses
            .iter()
            .map(|u| {
                format!(
                    "{} {} {:?} assigned={} stmt={:?} guard={:?}",
                    s.methods[u.method].name,
                    text(&u.spine),
                    u.calls,
                    u.assigned,
                    u.stmt.as_ref().map(text),
                    u.guard
                        .as_ref()
                        .map(|(g, n)| (text(g).lines().next().unwrap_or(""), *n)),
                )
            })
            .collect();
        assert_eq!(
            uses,
            [
                "initialize self.ready.load(Ordering::SeqCst) [\"load\"] assigned=false stmt=None guard=Some((\"if self.ready.load(Ordering::SeqCst) {\", false))",
                "initialize self.pool [] assigned=true stmt=Some(\"self.pool = Some(connect(&self.url).await?);\") guard=None",
                "initialize self.url [] assigned=false stmt=None guard=None",
                "initialize self.ready.store(true, Ordering::SeqCst) [\"store\"] assigned=false stmt=Some(\"self.ready.store(true, Ordering::SeqCst);\") guard=None",
                "pool self.pool.as_ref().expect(\"not initialized\") [\"as_ref\", \"expect\"] assigned=false stmt=None guard=None",
                "other self.ready.load(Ordering::SeqCst) [\"load\"] assigned=false stmt=None guard=Some((\"if !self.ready.load(Ordering::SeqCst) {\", true))",
            ]
        );
    }

    #[test]
    fn signatures() {
        let text = "mod a {\n    pub async fn pool() -> Result<&'static P, E> { todo!() }\n    fn b() {}\n}\n";
        let at = |n: &str| {
            let s = text.find(n).expect("fn") as u32;
            let e = text[s as usize..].find('}').expect("end") as u32 + s + 1;
            s..e
        };
        let sig = signature(text, Edition::Edition2021, &at("pub async fn pool")).expect("found");
        assert!(sig.is_pub);
        assert_eq!(
            sig.ret.map(|r| &text[r.start as usize..r.end as usize]),
            Some("Result<&'static P, E>")
        );
        let sig = signature(text, Edition::Edition2021, &at("fn b")).expect("found");
        assert_eq!(
            sig,
            Signature {
                is_pub: false,
                ret: None
            }
        );
    }

    #[test]
    fn no_struct_no_shape() {
        assert!(type_shape("enum Manager { A }", Edition::Edition2021, "Manager").is_none());
        assert!(type_shape("struct Manager(u8);", Edition::Edition2021, "Manager").is_none());
    }
}
