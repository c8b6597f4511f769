//! Macro calls: token trees that parse as Rust are re-parsed and walked as if written in
//! place, with their ranges mapped back into the file.

use ra_ap_syntax::{
    AstNode, SourceFile, SyntaxKind,
    ast::{self, HasModuleItem},
};

use super::{Ctx, Walker};

/// Macros whose token trees are not Rust code to look into.
const NOT_RUST_MACROS: &[&str] = &[
    "quote",
    "quote_spanned",
    "parse_quote",
    "parse_quote_spanned",
    "format_ident",
    "stringify",
    "concat",
    "include_str",
    "include_bytes",
    "env",
    "option_env",
    "compile_error",
    "asm",
    "global_asm",
    "cfg",
    "concat_idents",
    "macro_rules",
];

/// Macros whose arguments are expressions (even when a `;` appears in a nested block).
const EXPR_MACROS: &[&str] = &[
    "println",
    "print",
    "eprintln",
    "eprint",
    "format",
    "write",
    "writeln",
    "assert",
    "assert_eq",
    "assert_ne",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "panic",
    "vec",
    "dbg",
    "info",
    "warn",
    "error",
    "debug",
    "trace",
    "event",
    "matches",
    "todo",
    "unimplemented",
    "unreachable",
    "format_args",
    "anyhow",
    "bail",
    "ensure",
    "join",
    "try_join",
    "pin",
];

/// How a macro's token tree is re-parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Items (`static`, `fn`, `lazy_static!`, `thread_local!`).
    Items,
    /// Statements: a function body (a top-level `;` or `=>`).
    Statements,
    /// An argument list (expressions).
    Args,
}

impl Walker {
    /// Walk a macro call's token tree as Rust where it parses as Rust.
    pub(super) fn expand_macro(&mut self, mc: &ast::MacroCall, ctx: &Ctx) {
        if self.depth >= 4 || !self.may_hold_mod(mc.syntax().text_range()) {
            return;
        }
        let Some(tt) = mc.token_tree() else { return };
        let tt_text = tt.syntax().text().to_string();
        if tt_text.len() < 2 {
            return;
        }
        let inner = &tt_text[1..tt_text.len() - 1];
        if inner.trim().is_empty() {
            return;
        }
        let inner_start = u32::from(tt.syntax().text_range().start()) as i64 + 1 + self.shift;
        let name = mc
            .path()
            .and_then(|p| p.segment())
            .and_then(|s| s.name_ref())
            .map(|n| n.text().to_string())
            .unwrap_or_default();

        if NOT_RUST_MACROS.contains(&name.as_str())
            || !["(", "static", "mod ", "use ", "::"]
                .iter()
                .any(|t| inner.contains(t))
        {
            return;
        }
        const FN_PREFIX: &str = "fn __ssot_lint_macro() {\n";
        const ARGS_PREFIX: &str = "fn __ssot_lint_macro() { __ssot_lint_macro(\n";
        // One error-tolerant parse, in the shape the token tree looks like: items, statements
        // (a top-level `;` or `=>`), or an argument list.
        let mut first = None;
        let (mut semi, mut arrow) = (false, false);
        for el in tt.syntax().children_with_tokens().skip(1) {
            let k = el.kind();
            if k.is_trivia() {
                continue;
            }
            first.get_or_insert(k);
            semi |= k == SyntaxKind::SEMICOLON;
            arrow |= k == SyntaxKind::FAT_ARROW;
        }
        let item_start = matches!(
            first,
            Some(
                SyntaxKind::STATIC_KW
                    | SyntaxKind::PUB_KW
                    | SyntaxKind::FN_KW
                    | SyntaxKind::STRUCT_KW
                    | SyntaxKind::ENUM_KW
                    | SyntaxKind::IMPL_KW
                    | SyntaxKind::USE_KW
                    | SyntaxKind::MOD_KW
                    | SyntaxKind::CONST_KW
                    | SyntaxKind::TYPE_KW
                    | SyntaxKind::TRAIT_KW
                    | SyntaxKind::POUND
            )
        );
        let (text, prefix, shape) = if name == "lazy_static" {
            // `static ref X: T = e;` is lazy_static's own syntax; blank out `ref` (same length).
            (inner.replace("static ref ", "static     "), 0, Shape::Items)
        } else if item_start || name == "thread_local" {
            (inner.to_string(), 0, Shape::Items)
        } else if (semi || arrow) && !EXPR_MACROS.contains(&name.as_str()) {
            (
                format!("{FN_PREFIX}{inner}\n}}"),
                FN_PREFIX.len(),
                Shape::Statements,
            )
        } else {
            (
                format!("{ARGS_PREFIX}{inner}\n);}}"),
                ARGS_PREFIX.len(),
                Shape::Args,
            )
        };
        let file = SourceFile::parse(&text, self.edition).tree();
        let saved = (self.shift, self.in_macro);
        self.shift = inner_start - prefix as i64;
        self.in_macro = true;
        self.depth += 1;
        if shape == Shape::Items {
            self.walk_items(file.items(), ctx);
        } else if let Some(ast::Item::Fn(f)) = file.items().next()
            && let Some(body) = f.body()
        {
            self.walk_body(body.syntax(), ctx);
        }
        self.depth -= 1;
        (self.shift, self.in_macro) = saved;
    }
}
