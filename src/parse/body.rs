//! Function bodies: bindings, assignments and expression chains (the candidates), with
//! what the code around each chain does with its value (see [`super::flow`]).

use ra_ap_syntax::{
    AstNode, SyntaxKind, SyntaxNode, TextRange,
    ast::{self, HasArgList, HasName},
};

use super::{Ctx, MAX_WALK_DEPTH, Walker, flow};
use crate::summary::*;

impl Walker {
    /// Walk an expression tree inside a function body (or a static initializer), to at
    /// most [`MAX_WALK_DEPTH`] levels.
    pub(super) fn walk_body(&mut self, node: &SyntaxNode, ctx: &Ctx) {
        if !self.may_hold_mod(node.text_range()) {
            return;
        }
        if self.body_depth >= MAX_WALK_DEPTH {
            self.too_deep
                .get_or_insert(self.span(node.text_range()).start);
            return;
        }
        self.body_depth += 1;
        self.walk_body_inner(node, ctx);
        self.body_depth -= 1;
    }

    pub(super) fn walk_body_inner(&mut self, node: &SyntaxNode, ctx: &Ctx) {
        if let Some(item) = ast::Item::cast(node.clone())
            && node.kind() != SyntaxKind::MACRO_CALL
        {
            self.walk_item(item, ctx);
            return;
        }
        match node.kind() {
            SyntaxKind::MACRO_CALL => {
                if let Some(mc) = ast::MacroCall::cast(node.clone()) {
                    self.expand_macro(&mc, ctx);
                }
                return;
            }
            SyntaxKind::LET_STMT => {
                if let Some(l) = ast::LetStmt::cast(node.clone()) {
                    let before = self.out.chains.len();
                    let init = l.initializer();
                    for child in node.children() {
                        self.walk_body(&child, ctx);
                    }
                    if let (Some(f), Some(ast::Pat::IdentPat(ip))) = (ctx.func, l.pat())
                        && let Some(name) = ip.name()
                    {
                        let init_span = init.map(|e| self.span(e.syntax().text_range()));
                        let init_chain = init_span.and_then(|s| {
                            (before..self.out.chains.len()).find(|&i| self.out.chains[i].span == s)
                        });
                        let ty = l.ty().map(|t| self.raw_type(&t));
                        let offset = self.span(node.text_range()).end;
                        self.out.fns[f].lets.push(LetBinding {
                            name: name.text().to_string(),
                            ty,
                            init: init_chain,
                            offset,
                            field_of: None,
                        });
                    } else if let (Some(f), Some(ast::Pat::RecordPat(rp))) = (ctx.func, l.pat()) {
                        let offset = self.span(node.text_range()).end;
                        let lets = self.record_pat_bindings(&rp, offset);
                        self.out.fns[f].lets.extend(lets);
                    }
                }
                return;
            }
            SyntaxKind::RECORD_PAT | SyntaxKind::TUPLE_STRUCT_PAT
                if node.parent().is_some_and(|p| {
                    !matches!(p.kind(), SyntaxKind::LET_STMT | SyntaxKind::PARAM)
                }) =>
            {
                // `match x { Self::Fresh(fresh) => .. }`, `if let Settings { pool, .. } = s`.
                if let Some(f) = ctx.func {
                    let offset = self.span(node.text_range()).end;
                    let lets = match ast::Pat::cast(node.clone()) {
                        Some(ast::Pat::RecordPat(rp)) => self.record_pat_bindings(&rp, offset),
                        Some(ast::Pat::TupleStructPat(tp)) => self.tuple_pat_bindings(&tp, offset),
                        _ => Vec::new(),
                    };
                    self.out.fns[f].lets.extend(lets);
                }
            }
            SyntaxKind::BIN_EXPR => {
                if let (Some(f), Some(b)) = (ctx.func, ast::BinExpr::cast(node.clone()))
                    && matches!(b.op_kind(), Some(ast::BinaryOp::Assignment { op: None }))
                    && let Some(target) = b.lhs().and_then(|l| self.place_root(&l))
                {
                    let span = self.span(node.text_range());
                    self.out.fns[f].assigns.push(Assign { target, span });
                }
            }
            _ => {}
        }
        if is_spine(node.kind()) && is_spine_top(node) {
            self.record_chain(node, ctx);
        }
        for child in node.children() {
            self.walk_body(&child, ctx);
        }
    }

    /// The bindings of a struct pattern `Settings { pool_options, url: u, .. }`, each typed
    /// later as the named field of the struct.
    pub(super) fn record_pat_bindings(&self, rp: &ast::RecordPat, offset: u32) -> Vec<LetBinding> {
        let mut out = Vec::new();
        let Some(path) = rp.path().and_then(|p| self.raw_path(&p)) else {
            return out;
        };
        let Some(list) = rp.record_pat_field_list() else {
            return out;
        };
        for field in list.fields() {
            let Some(ast::Pat::IdentPat(ip)) = field.pat() else {
                continue;
            };
            let Some(name) = ip.name().map(|n| n.text().to_string()) else {
                continue;
            };
            let fname = field
                .name_ref()
                .map(|n| n.text().to_string())
                .unwrap_or_else(|| name.clone());
            out.push(LetBinding {
                name,
                ty: None,
                init: None,
                offset,
                field_of: Some((path.clone(), fname)),
            });
        }
        out
    }

    pub(super) fn arg_ref(&self, e: &ast::Expr) -> Option<ArgRef> {
        let mut e = e.clone();
        // `&manager`, `(manager)`
        for _ in 0..4 {
            e = match e {
                ast::Expr::RefExpr(r) => r.expr()?,
                ast::Expr::ParenExpr(p) => p.expr()?,
                other => {
                    e = other;
                    break;
                }
            };
        }
        if let ast::Expr::PathExpr(p) = &e
            && let Some(rp) = p.path().and_then(|p| self.raw_path(&p))
            && rp.is_single()
        {
            return Some(ArgRef::Local(rp.segs[0].clone()));
        }
        Some(ArgRef::Expr(self.span(e.syntax().text_range())))
    }

    /// The bindings of a tuple-struct pattern `Self::Fresh(fresh)`: field `0`, `1`, ...
    pub(super) fn tuple_pat_bindings(
        &self,
        tp: &ast::TupleStructPat,
        offset: u32,
    ) -> Vec<LetBinding> {
        let Some(path) = tp.path().and_then(|p| self.raw_path(&p)) else {
            return Vec::new();
        };
        tp.fields()
            .enumerate()
            .filter_map(|(i, f)| match f {
                ast::Pat::IdentPat(ip) => Some(LetBinding {
                    name: ip.name()?.text().to_string(),
                    ty: None,
                    init: None,
                    offset,
                    field_of: Some((path.clone(), i.to_string())),
                }),
                _ => None,
            })
            .collect()
    }

    /// The root of an assignment's place: `self.f`, `binding.f`, a path, or any of these
    /// under `*` and a spine of method calls (`*self.pool.write().await`).
    pub(super) fn place_root(&self, e: &ast::Expr) -> Option<ChainRoot> {
        let mut cur = e.clone();
        for _ in 0..16 {
            cur = match cur {
                ast::Expr::PrefixExpr(p) => p.expr()?,
                ast::Expr::ParenExpr(p) => p.expr()?,
                ast::Expr::AwaitExpr(a) => a.expr()?,
                ast::Expr::TryExpr(t) => t.expr()?,
                ast::Expr::MethodCallExpr(m) => m.receiver()?,
                ast::Expr::FieldExpr(f) => {
                    let name = f.name_ref()?.text().to_string();
                    return match f.expr()? {
                        ast::Expr::PathExpr(p) => {
                            let rp = self.raw_path(&p.path()?)?;
                            if !rp.is_single() {
                                return None;
                            }
                            if rp.segs[0] == "self" {
                                Some(ChainRoot::SelfField(name))
                            } else {
                                Some(ChainRoot::BindingField(rp.segs[0].clone(), name))
                            }
                        }
                        _ => None,
                    };
                }
                ast::Expr::PathExpr(p) => {
                    return Some(ChainRoot::Value(self.raw_path(&p.path()?)?));
                }
                _ => return None,
            };
        }
        None
    }

    pub(super) fn record_chain(&mut self, top: &SyntaxNode, ctx: &Ctx) {
        let mut methods = Vec::new();
        let mut node = top.clone();
        let (root, root_node) = loop {
            match node.kind() {
                SyntaxKind::TRY_EXPR | SyntaxKind::AWAIT_EXPR | SyntaxKind::PAREN_EXPR => {
                    match node.children().find(|c| ast::Expr::can_cast(c.kind())) {
                        Some(inner) => node = inner,
                        None => return,
                    }
                }
                SyntaxKind::METHOD_CALL_EXPR => {
                    let Some(m) = ast::MethodCallExpr::cast(node.clone()) else {
                        return;
                    };
                    let Some(nr) = m.name_ref() else { return };
                    let end = m
                        .arg_list()
                        .map(|a| a.syntax().text_range().end())
                        .unwrap_or(node.text_range().end());
                    let span = self.span(TextRange::new(node.text_range().start(), end));
                    let first_arg = m
                        .arg_list()
                        .and_then(|a| a.args().next())
                        .and_then(|e| self.arg_ref(&e));
                    methods.push(ChainMethod {
                        name: nr.text().to_string(),
                        span,
                        name_offset: self.span(nr.syntax().text_range()).start,
                        first_arg,
                    });
                    match m.receiver() {
                        Some(r) => node = r.syntax().clone(),
                        None => return,
                    }
                }
                SyntaxKind::CALL_EXPR => {
                    let Some(c) = ast::CallExpr::cast(node.clone()) else {
                        return;
                    };
                    match c.expr() {
                        Some(ast::Expr::PathExpr(p)) => {
                            match p.path().and_then(|p| self.raw_path(&p)) {
                                Some(rp) => break (ChainRoot::Call(rp), p.syntax().clone()),
                                None => break (ChainRoot::Other, node.clone()),
                            }
                        }
                        _ => break (ChainRoot::Other, node.clone()),
                    }
                }
                SyntaxKind::PATH_EXPR => {
                    let Some(p) = ast::PathExpr::cast(node.clone()) else {
                        return;
                    };
                    match p.path().and_then(|p| self.raw_path(&p)) {
                        Some(rp) => break (ChainRoot::Value(rp), node.clone()),
                        None => return,
                    }
                }
                SyntaxKind::FIELD_EXPR => {
                    let Some(f) = ast::FieldExpr::cast(node.clone()) else {
                        return;
                    };
                    let base = match f.expr() {
                        Some(ast::Expr::PathExpr(p)) => p
                            .path()
                            .and_then(|p| self.raw_path(&p))
                            .filter(RawPath::is_single)
                            .map(|p| p.segs[0].clone()),
                        _ => None,
                    };
                    match (base, f.name_ref()) {
                        (Some(b), Some(n)) if b == "self" => {
                            break (ChainRoot::SelfField(n.text().to_string()), node.clone());
                        }
                        (Some(b), Some(n)) => {
                            break (
                                ChainRoot::BindingField(b, n.text().to_string()),
                                node.clone(),
                            );
                        }
                        _ => break (ChainRoot::Other, node.clone()),
                    }
                }
                _ => break (ChainRoot::Other, node.clone()),
            }
        };
        methods.reverse();
        let interesting = match &root {
            ChainRoot::Call(_) => true,
            ChainRoot::Value(p) => p.segs.len() > 1 || p.anchor.is_some() || !methods.is_empty(),
            ChainRoot::SelfField(_) | ChainRoot::BindingField(..) | ChainRoot::Other => {
                !methods.is_empty()
            }
        };
        if !interesting {
            return;
        }
        let mut awaited = false;
        let mut n = Some(top.clone());
        while let Some(x) = n {
            if x.kind() == SyntaxKind::AWAIT_EXPR {
                awaited = true;
                break;
            }
            n = x.children().find(|c| ast::Expr::can_cast(c.kind()));
        }
        let tried = top.kind() == SyntaxKind::TRY_EXPR;
        let (args_span, async_tail) =
            match ast::CallExpr::cast(root_node.parent().unwrap_or(root_node.clone())) {
                Some(call) if matches!(root, ChainRoot::Call(_)) => {
                    let args = call.arg_list();
                    let span = args.as_ref().map(|a| {
                        let r = a.syntax().text_range();
                        let s = self.span(r);
                        s.start + 1..s.end.saturating_sub(1).max(s.start + 1)
                    });
                    let tail = args
                        .and_then(|a| a.args().next())
                        .and_then(|first| match first {
                            ast::Expr::BlockExpr(b) if b.async_token().is_some() => {
                                let list = b.stmt_list()?;
                                if list.statements().next().is_some() {
                                    return None;
                                }
                                list.tail_expr().map(|t| self.span(t.syntax().text_range()))
                            }
                            _ => None,
                        });
                    (span, tail)
                }
                _ => (None, None),
            };
        let root_arg = match (
            &root,
            ast::CallExpr::cast(root_node.parent().unwrap_or(root_node.clone())),
        ) {
            (ChainRoot::Call(_), Some(call)) => call
                .arg_list()
                .and_then(|a| a.args().next())
                .and_then(|e| self.arg_ref(&e)),
            _ => None,
        };
        let context = flow::chain_context(top);
        let reach = self.reach(top);
        self.out.chains.push(Chain {
            reach,
            root_arg,
            fallback: flow::is_fallback(top),
            context,
            awaited,
            tried,
            args_span,
            async_tail,
            root,
            root_span: self.span(root_node.text_range()),
            methods,
            span: self.span(top.text_range()),
            func: ctx.func,
            module: ctx.module,
            in_macro: self.in_macro,
            is_test: ctx.is_test,
        });
    }
}

impl Walker {
    /// Where `node` runs within its function: deferred when a closure or an `async` block
    /// encloses it, else in the innermost branch around it, else always.
    fn reach(&self, node: &SyntaxNode) -> Reach {
        let mut child = node.clone();
        let mut parent = node.parent();
        let mut branch: Option<Reach> = None;
        while let Some(p) = parent {
            if ast::Item::can_cast(p.kind()) && p.kind() != SyntaxKind::MACRO_CALL {
                break;
            }
            let span = |e: &SyntaxNode| self.span(e.text_range());
            let decided_by = match p.kind() {
                SyntaxKind::CLOSURE_EXPR => return Reach::Deferred,
                SyntaxKind::BLOCK_EXPR
                    if ast::BlockExpr::cast(p.clone())
                        .is_some_and(|b| b.async_token().is_some()) =>
                {
                    return Reach::Deferred;
                }
                SyntaxKind::IF_EXPR => ast::IfExpr::cast(p.clone())
                    .and_then(|i| i.condition())
                    .filter(|c| c.syntax() != &child)
                    .map(|c| span(c.syntax())),
                SyntaxKind::MATCH_ARM => p
                    .ancestors()
                    .find_map(ast::MatchExpr::cast)
                    .and_then(|m| m.expr())
                    .map(|e| span(e.syntax())),
                SyntaxKind::WHILE_EXPR => ast::WhileExpr::cast(p.clone())
                    .and_then(|w| w.condition())
                    .filter(|c| c.syntax() != &child)
                    .map(|c| span(c.syntax())),
                SyntaxKind::FOR_EXPR => ast::ForExpr::cast(p.clone())
                    .and_then(|f| f.iterable())
                    .filter(|c| c.syntax() != &child)
                    .map(|c| span(c.syntax())),
                SyntaxKind::BIN_EXPR => ast::BinExpr::cast(p.clone())
                    .filter(|b| {
                        matches!(b.op_kind(), Some(ast::BinaryOp::LogicOp(_)))
                            && b.rhs().is_some_and(|r| r.syntax() == &child)
                    })
                    .and_then(|b| b.lhs())
                    .map(|e| span(e.syntax())),
                SyntaxKind::LET_ELSE => p
                    .parent()
                    .and_then(ast::LetStmt::cast)
                    .and_then(|l| l.initializer())
                    .map(|e| span(e.syntax())),
                _ => None,
            };
            if branch.is_none()
                && let Some(decided_by) = decided_by
            {
                let body = if p.kind() == SyntaxKind::MATCH_ARM {
                    span(&p)
                } else {
                    span(&child)
                };
                branch = Some(Reach::Branch { body, decided_by });
            }
            child = p.clone();
            parent = p.parent();
        }
        branch.unwrap_or(Reach::Always)
    }
}

pub(super) fn is_spine(k: SyntaxKind) -> bool {
    matches!(
        k,
        SyntaxKind::METHOD_CALL_EXPR
            | SyntaxKind::CALL_EXPR
            | SyntaxKind::PATH_EXPR
            | SyntaxKind::AWAIT_EXPR
            | SyntaxKind::TRY_EXPR
            | SyntaxKind::PAREN_EXPR
            | SyntaxKind::FIELD_EXPR
    )
}

/// Whether `node` is the outermost node of its spine (its parent does not continue it).
pub(super) fn is_spine_top(node: &SyntaxNode) -> bool {
    let Some(parent) = node.parent() else {
        return true;
    };
    match parent.kind() {
        SyntaxKind::AWAIT_EXPR | SyntaxKind::TRY_EXPR | SyntaxKind::PAREN_EXPR => false,
        SyntaxKind::METHOD_CALL_EXPR => ast::MethodCallExpr::cast(parent)
            .and_then(|m| m.receiver())
            .is_none_or(|r| r.syntax() != node),
        SyntaxKind::CALL_EXPR => ast::CallExpr::cast(parent)
            .and_then(|c| c.expr())
            .is_none_or(|e| e.syntax() != node),
        SyntaxKind::FIELD_EXPR => node.kind() != SyntaxKind::PATH_EXPR,
        _ => true,
    }
}
