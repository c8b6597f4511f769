//! Flow facts: what the code around a chain does with its value (drops it, binds it,
//! matches it as an `Option`, tests it for `Err`), and what the branches that handle the
//! `None` or the `Err` contain. Facts only: which of them *fail* or *propagate* is decided
//! by the rules that read them.

use ra_ap_syntax::{
    AstNode, SyntaxKind, SyntaxNode,
    ast::{self, HasArgList, HasName},
};

use super::range;
use crate::summary::{Branch, ChainContext, Mark};

/// What a branch contains: the words of [`Mark`] in its text, and whether it leaves the
/// function or the loop or stops the program.
fn branch(node: &SyntaxNode) -> Branch {
    let t = node.text().to_string();
    let mut b = Branch {
        exits: exits(node),
        ..Branch::default()
    };
    for &m in Mark::ALL {
        if t.contains(m.text()) {
            b.marks |= m.bit();
        }
    }
    b
}

/// Whether a block leaves the function or the loop, or stops: `?`, `return`, `break`,
/// `continue`, `panic!`/`bail!`/`unreachable!`/`todo!`/`unimplemented!`, a call of
/// `Err(..)`, `exit(..)` or `abort(..)`.
fn exits(block: &SyntaxNode) -> bool {
    block.descendants().any(|n| match n.kind() {
        SyntaxKind::TRY_EXPR
        | SyntaxKind::RETURN_EXPR
        | SyntaxKind::BREAK_EXPR
        | SyntaxKind::CONTINUE_EXPR => true,
        SyntaxKind::MACRO_CALL => ast::MacroCall::cast(n)
            .and_then(|m| m.path())
            .and_then(|p| p.segment())
            .and_then(|s| s.name_ref())
            .is_some_and(|name| {
                matches!(
                    name.text(),
                    "panic" | "bail" | "unreachable" | "todo" | "unimplemented"
                )
            }),
        SyntaxKind::CALL_EXPR => ast::CallExpr::cast(n)
            .and_then(|c| c.expr())
            .is_some_and(|e| {
                matches!(
                    e.syntax().text().to_string().rsplit("::").next(),
                    Some("Err" | "exit" | "abort")
                )
            }),
        _ => false,
    })
}

/// The `None` branches, or [`ChainContext::Other`] when there is none.
fn none_branches(v: Vec<Branch>) -> ChainContext {
    if v.is_empty() {
        ChainContext::Other
    } else {
        ChainContext::NoneBranches(v)
    }
}

/// What the surrounding code does with the value of the spine `top`.
pub(super) fn chain_context(top: &SyntaxNode) -> ChainContext {
    let Some(parent) = top.parent() else {
        return ChainContext::Other;
    };
    match parent.kind() {
        SyntaxKind::EXPR_STMT => ChainContext::Stmt,
        SyntaxKind::LET_STMT => {
            let Some(l) = ast::LetStmt::cast(parent.clone()) else {
                return ChainContext::Other;
            };
            if let Some(le) = l.let_else() {
                // `let Some(..) = expr else { .. };`
                let some = l
                    .pat()
                    .is_some_and(|p| p.syntax().text().to_string().starts_with("Some"));
                return if some {
                    none_branches(vec![branch(le.syntax())])
                } else {
                    ChainContext::Other
                };
            }
            match l.pat() {
                Some(ast::Pat::WildcardPat(_)) => {
                    ChainContext::LetUnderscore(range(parent.text_range()))
                }
                Some(ast::Pat::IdentPat(ip)) => match ip.name() {
                    Some(n) => ChainContext::LetBind(n.text().to_string()),
                    None => ChainContext::Other,
                },
                _ => ChainContext::Other,
            }
        }
        SyntaxKind::MATCH_EXPR => {
            // `match expr { None => .., }`, or `_ => ..` next to a `Some(..)` arm.
            let Some(m) = ast::MatchExpr::cast(parent) else {
                return ChainContext::Other;
            };
            let Some(l) = m.match_arm_list() else {
                return ChainContext::Other;
            };
            let has_some = l.arms().any(|a| {
                a.pat()
                    .is_some_and(|p| p.syntax().text().to_string().starts_with("Some"))
            });
            let arms = l
                .arms()
                .filter(|a| {
                    let pat = a
                        .pat()
                        .map(|p| p.syntax().text().to_string())
                        .unwrap_or_default();
                    pat == "None" || (pat == "_" && has_some)
                })
                .filter_map(|a| a.expr().map(|e| branch(e.syntax())))
                .collect();
            none_branches(arms)
        }
        SyntaxKind::LET_EXPR => {
            let Some(le) = ast::LetExpr::cast(parent.clone()) else {
                return ChainContext::Other;
            };
            let pat = le
                .pat()
                .map(|p| p.syntax().text().to_string())
                .unwrap_or_default();
            let Some(if_expr) = parent.parent().and_then(ast::IfExpr::cast) else {
                return ChainContext::Other;
            };
            if pat.starts_with("Some") {
                // `if let Some(..) = expr { .. } else { .. }`: the `else`.
                let other = if_expr.else_branch().map(|e| match e {
                    ast::ElseBranch::Block(b) => branch(b.syntax()),
                    ast::ElseBranch::IfExpr(i) => branch(i.syntax()),
                });
                return none_branches(other.into_iter().collect());
            }
            if pat.starts_with("Err") && if_expr.else_branch().is_none() {
                // `if let Err(e) = expr { .. }` with no `else`: its block.
                let then = if_expr
                    .then_branch()
                    .map(|b| branch(b.syntax()))
                    .unwrap_or_default();
                return ChainContext::ErrBranch(then);
            }
            ChainContext::Other
        }
        _ => ChainContext::Other,
    }
}

/// Whether the spine `top` is a fallback for a value that was handed in: the `else` of
/// `if let Some(p) = injected { p } else { .. }`, the `None` arm of
/// `match injected { Some(p) => p, None => .. }`, or the closure of
/// `injected.unwrap_or_else(|| ..)`, where `injected` is a field (`self.pool`) or a local
/// name (`pool`), possibly `.take()`n or `.clone()`d: a library that builds its own pool
/// only when the caller gives none.
pub(super) fn is_fallback(top: &SyntaxNode) -> bool {
    // A value handed in: `self.pool`, `builder.pool`, `pool`, `self.pool.take()`.
    fn injected(e: Option<ast::Expr>) -> bool {
        match e {
            Some(ast::Expr::FieldExpr(_)) => true,
            Some(ast::Expr::PathExpr(p)) => p.path().is_some_and(|p| {
                p.qualifier().is_none()
                    && p.segment().is_some_and(|s| {
                        s.name_ref().is_some_and(|n| {
                            let t = n.text();
                            t.chars()
                                .next()
                                .is_some_and(|c| c.is_lowercase() || c == '_')
                        })
                    })
            }),
            Some(ast::Expr::MethodCallExpr(m)) => {
                m.name_ref()
                    .is_some_and(|n| matches!(n.text(), "take" | "clone" | "as_ref"))
                    && injected(m.receiver())
            }
            _ => false,
        }
    }
    // The name `Some(name)` binds.
    fn some_binding(p: Option<ast::Pat>) -> Option<String> {
        let Some(ast::Pat::TupleStructPat(tp)) = p else {
            return None;
        };
        if tp.path()?.syntax().text() != "Some" {
            return None;
        }
        let mut fields = tp.fields();
        let Some(ast::Pat::IdentPat(ip)) = fields.next() else {
            return None;
        };
        if fields.next().is_some() {
            return None;
        }
        Some(ip.name()?.text().to_string())
    }
    // `name` or `name.clone()`, alone.
    fn yields(e: Option<ast::Expr>, name: &str) -> bool {
        match e {
            Some(ast::Expr::PathExpr(p)) => p.syntax().text() == name,
            Some(ast::Expr::MethodCallExpr(m)) => {
                m.name_ref().is_some_and(|n| n.text() == "clone") && yields(m.receiver(), name)
            }
            Some(ast::Expr::BlockExpr(b)) => b
                .stmt_list()
                .is_some_and(|l| l.statements().next().is_none() && yields(l.tail_expr(), name)),
            _ => false,
        }
    }
    let inside = |outer: &SyntaxNode| outer.text_range().contains_range(top.text_range());
    for a in top.ancestors().skip(1) {
        match a.kind() {
            SyntaxKind::FN => return false,
            SyntaxKind::IF_EXPR => {
                let Some(i) = ast::IfExpr::cast(a.clone()) else {
                    continue;
                };
                let Some(ast::Expr::LetExpr(le)) = i.condition() else {
                    continue;
                };
                let Some(else_b) = i.else_branch() else {
                    continue;
                };
                let else_node = match &else_b {
                    ast::ElseBranch::Block(b) => b.syntax().clone(),
                    ast::ElseBranch::IfExpr(x) => x.syntax().clone(),
                };
                if inside(&else_node)
                    && injected(le.expr())
                    && some_binding(le.pat())
                        .is_some_and(|n| yields(i.then_branch().map(ast::Expr::BlockExpr), &n))
                {
                    return true;
                }
            }
            SyntaxKind::MATCH_EXPR => {
                let Some(m) = ast::MatchExpr::cast(a.clone()) else {
                    continue;
                };
                let Some(list) = m.match_arm_list() else {
                    continue;
                };
                let handed = list
                    .arms()
                    .any(|arm| some_binding(arm.pat()).is_some_and(|n| yields(arm.expr(), &n)));
                let in_none = list.arms().any(|arm| {
                    arm.pat().is_some_and(|p| {
                        matches!(p.syntax().text().to_string().as_str(), "None" | "_")
                    }) && arm.expr().is_some_and(|e| inside(e.syntax()))
                });
                if handed && in_none && injected(m.expr()) {
                    return true;
                }
            }
            SyntaxKind::METHOD_CALL_EXPR => {
                let Some(m) = ast::MethodCallExpr::cast(a.clone()) else {
                    continue;
                };
                let in_args = m.arg_list().is_some_and(|l| inside(l.syntax()));
                if in_args
                    && m.name_ref().is_some_and(|n| n.text() == "unwrap_or_else")
                    && injected(m.receiver())
                {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}
