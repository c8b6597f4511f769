//! A file's module structure from its tokens, without a parse: its modules, `mod x;`
//! declarations with their `#[path]`/`#[cfg(test)]` attributes, and the `mod` items of each
//! module, when they all sit at the top level of the file or in inline modules (so the
//! parser is certain to see the same). Also: whether brackets balance, and whether two
//! summaries have the same structure (`--no-prefilter` checks the skeletons against the
//! parse).

use ra_ap_syntax::SyntaxKind;

use super::lexer::{Tok, is_close, open};
use crate::summary::{FileSummary, ItemDef, ItemKind, ModDecl, ModuleSummary};

/// `#[cfg(test)]`-like attribute, exactly as the parse stage decides it (`parse.rs`).
pub(crate) fn attr_is_test(text: &str) -> bool {
    let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if t.starts_with("#[cfg(") || t.starts_with("#![cfg(") {
        return super::cfg::attr_is_cfg_test(text);
    }
    false
}

/// `#[path = "..."]`, exactly as the parse stage reads it.
pub(crate) fn path_attr(text: &str) -> Option<String> {
    let t = text.trim_start_matches("#[").trim_end_matches(']').trim();
    let rest = t
        .strip_prefix("path")?
        .trim_start()
        .strip_prefix('=')?
        .trim();
    let s = rest.strip_prefix('"')?.strip_suffix('"')?;
    Some(s.to_string())
}

/// Whether token `at` sits inside the braces of an inline `mod x { .. }` (brackets are
/// balanced when this matters: an unbalanced file is parsed).
pub(crate) fn in_inline_mod(toks: &[Tok], at: usize) -> bool {
    let mut stack: Vec<bool> = Vec::new();
    for (i, t) in toks[..at].iter().enumerate() {
        if open(t.kind).is_some() {
            let is_mod = t.kind == SyntaxKind::L_CURLY
                && i >= 2
                && toks[i - 2].kind == SyntaxKind::MOD_KW
                && toks[i - 1].kind.is_any_identifier();
            stack.push(is_mod);
        } else if is_close(t.kind) {
            stack.pop();
        }
    }
    stack.iter().any(|m| *m)
}

/// Index just past the group opened at `i` (brackets must match); `None` when unbalanced
/// or when a `mod` keyword is inside.
pub(crate) fn skip_group(toks: &[Tok], i: usize) -> Option<usize> {
    group(toks, i, false)
}

/// Index just past the group opened at `i` (brackets must match); with `mods` false, `None`
/// at a `mod` keyword inside.
pub(crate) fn group(toks: &[Tok], i: usize, mods: bool) -> Option<usize> {
    let mut stack = vec![open(toks[i].kind)?];
    let mut j = i + 1;
    while j < toks.len() {
        let k = toks[j].kind;
        if k == SyntaxKind::MOD_KW && !mods {
            return None;
        }
        if let Some(c) = open(k) {
            stack.push(c);
        } else if is_close(k) {
            if stack.pop() != Some(k) {
                return None;
            }
            if stack.is_empty() {
                return Some(j + 1);
            }
        }
        j += 1;
    }
    None
}

/// The module structure of a file whose `mod` items all sit at the top level or in the
/// bodies of inline modules (no `mod` inside a function, an `impl`, a macro call...), with
/// balanced brackets; `None` otherwise. Modules and declarations come in the parse stage's
/// order (pre-order), with the same parents and test flags.
pub(crate) fn skeleton(toks: &[Tok], text: &str) -> Option<(Vec<ModuleSummary>, Vec<ModDecl>)> {
    let mut modules = vec![ModuleSummary::default()];
    let mut decls = Vec::new();
    skeleton_items(toks, text, 0, toks.len(), 0, 0, &mut modules, &mut decls)?;
    Some((modules, decls))
}

/// Inline modules nested deeper than this are left to the parser.
pub(crate) const SKELETON_DEPTH: usize = 64;

/// The items of module `module` in `toks[from..to]` (see [`skeleton`]).
#[allow(clippy::too_many_arguments)]
pub(crate) fn skeleton_items(
    toks: &[Tok],
    text: &str,
    from: usize,
    to: usize,
    module: usize,
    depth: usize,
    modules: &mut Vec<ModuleSummary>,
    decls: &mut Vec<ModDecl>,
) -> Option<()> {
    let toks = &toks[..to];
    let mut attrs: Vec<&str> = Vec::new();
    // Whether an item may start here (after a finished item, an attribute or `pub`).
    let mut item_start = true;
    let mut i = from;
    while i < toks.len() {
        let k = toks[i].kind;
        match k {
            SyntaxKind::POUND => {
                let inner = toks.get(i + 1).is_some_and(|t| t.kind == SyntaxKind::BANG);
                let b = if inner { i + 2 } else { i + 1 };
                if toks.get(b).is_none_or(|t| t.kind != SyntaxKind::L_BRACK) {
                    return None;
                }
                let end = skip_group(toks, b)?;
                if inner {
                    attrs.clear();
                } else {
                    let s = toks[i].start as usize;
                    let e = toks[end - 1].end as usize;
                    attrs.push(text.get(s..e)?);
                }
                i = end;
                continue;
            }
            SyntaxKind::PUB_KW => {
                i += 1;
                if toks.get(i).is_some_and(|t| t.kind == SyntaxKind::L_PAREN) {
                    i = skip_group(toks, i)?;
                }
                continue;
            }
            SyntaxKind::MOD_KW => {
                if !item_start {
                    return None;
                }
                let name_tok = toks.get(i + 1)?;
                if name_tok.kind != SyntaxKind::IDENT {
                    return None;
                }
                // As the parse stage names it: a raw identifier without its `r#`.
                let name_text = name_tok.text(text);
                let name = name_text
                    .strip_prefix("r#")
                    .unwrap_or(name_text)
                    .to_string();
                let is_test = modules[module].is_test
                    || attrs.iter().any(|a| attr_is_test(a))
                    || attrs.iter().any(|a| attr_path_is_test(a));
                match toks.get(i + 2).map(|t| t.kind) {
                    Some(SyntaxKind::SEMICOLON) => {
                        decls.push(ModDecl {
                            name: name.clone(),
                            path_attr: attrs.iter().find_map(|a| path_attr(a)),
                            cfg_path_attrs: attrs
                                .iter()
                                .filter_map(|a| crate::parse::cfg_attr_path(a))
                                .collect(),
                            is_test,
                            feature_cfgs: attrs
                                .iter()
                                .filter(|a| super::cfg::attr_names_feature(a))
                                .map(|a| a.to_string())
                                .collect(),
                            parent: module,
                            span: name_tok.start..name_tok.end,
                        });
                        modules[module].items.push(mod_item(name, None));
                        i += 3;
                    }
                    Some(SyntaxKind::L_CURLY) => {
                        if depth >= SKELETON_DEPTH {
                            return None;
                        }
                        let idx = modules.len();
                        let mut inline_path = modules[module].inline_path.clone();
                        inline_path.push(name.clone());
                        modules.push(ModuleSummary {
                            inline_path,
                            parent: Some(module),
                            is_test,
                            ..Default::default()
                        });
                        modules[module].items.push(mod_item(name, Some(idx)));
                        let end = group(toks, i + 2, true)?;
                        skeleton_items(toks, text, i + 3, end - 1, idx, depth + 1, modules, decls)?;
                        i = end;
                    }
                    _ => return None,
                }
                attrs.clear();
                item_start = true;
                continue;
            }
            _ => {}
        }
        attrs.clear();
        if open(k).is_some() {
            i = skip_group(toks, i)?;
            item_start = k == SyntaxKind::L_CURLY;
            continue;
        }
        if is_close(k) {
            return None;
        }
        item_start = k == SyntaxKind::SEMICOLON;
        i += 1;
    }
    Some(())
}

/// `#[test]`, `#[tokio::test]`, `#[rstest]`...: the attribute path's last segment, as the
/// parse stage decides it.
pub(crate) fn attr_path_is_test(text: &str) -> bool {
    let t = text.trim_start_matches('#').trim_start();
    let Some(t) = t.strip_prefix('[') else {
        return false;
    };
    let path: String = t
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':' || c.is_whitespace())
        .filter(|c| !c.is_whitespace())
        .collect();
    let last = path.rsplit("::").next().unwrap_or("");
    matches!(
        last,
        "test" | "rstest" | "test_case" | "quickcheck" | "bench"
    )
}

pub(crate) fn mod_item(name: String, module: Option<usize>) -> ItemDef {
    ItemDef {
        name,
        kind: ItemKind::Mod,
        module,
        alias_of: None,
        adt: None,
        func: None,
    }
}

/// Whether two summaries have the same `mod` items in each module.
pub(crate) fn same_mod_items(a: &FileSummary, b: &FileSummary) -> bool {
    let mods = |m: &ModuleSummary| -> Vec<(String, Option<usize>)> {
        m.items
            .iter()
            .filter(|i| i.kind == ItemKind::Mod)
            .map(|i| (i.name.clone(), i.module))
            .collect()
    };
    a.modules.len() == b.modules.len()
        && a.modules
            .iter()
            .zip(&b.modules)
            .all(|(x, y)| mods(x) == mods(y))
}

/// Whether two summaries describe the same module structure.
pub(crate) fn same_structure(a: &FileSummary, b: &FileSummary) -> bool {
    a.modules.len() == b.modules.len()
        && a.mod_decls.len() == b.mod_decls.len()
        && a.modules.iter().zip(&b.modules).all(|(x, y)| {
            x.inline_path == y.inline_path && x.parent == y.parent && x.is_test == y.is_test
        })
        && a.mod_decls.iter().zip(&b.mod_decls).all(|(x, y)| {
            x.name == y.name
                && x.path_attr == y.path_attr
                && x.cfg_path_attrs == y.cfg_path_attrs
                && x.is_test == y.is_test
                && x.feature_cfgs == y.feature_cfgs
                && x.parent == y.parent
                && x.span == y.span
        })
}
