//! Attributes the walk reads: `#[cfg(test)]`-like test markers, `#[path = ".."]` and
//! `#[cfg_attr(.., path = "..")]`, and where an item starts past its attributes.

use ra_ap_syntax::{AstNode, SyntaxKind, SyntaxNode, TextRange, ast};

/// The range of an item from its first token after attributes and comments.
pub(super) fn item_start_range(node: &SyntaxNode) -> TextRange {
    let start = node
        .children_with_tokens()
        .find(|e| {
            !matches!(
                e.kind(),
                SyntaxKind::ATTR | SyntaxKind::COMMENT | SyntaxKind::WHITESPACE
            )
        })
        .map(|e| e.text_range().start())
        .unwrap_or(node.text_range().start());
    TextRange::new(start, node.text_range().end())
}

pub(super) fn attr_is_test(a: &ast::Attr) -> bool {
    let text = a.syntax().text().to_string();
    let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if t.starts_with("#[cfg(") || t.starts_with("#![cfg(") {
        // `cfg(test)`, `cfg(all(test, ...))`; not `cfg(any(test, unix))`, `cfg(not(test))`.
        return super::cfg::attr_is_cfg_test(&text);
    }
    let path = a
        .path()
        .and_then(|p| p.segment())
        .and_then(|s| s.name_ref())
        .map(|n| n.text().to_string());
    matches!(
        path.as_deref(),
        Some("test" | "rstest" | "test_case" | "quickcheck" | "bench")
    )
}

pub(super) fn attrs_test(item: &ast::Item) -> bool {
    attrs_test_node(item.syntax())
}

pub(super) fn attrs_test_node(node: &SyntaxNode) -> bool {
    node.children()
        .filter_map(ast::Attr::cast)
        .any(|a| attr_is_test(&a))
}

pub(super) fn path_attr(a: &ast::Attr) -> Option<String> {
    let t = a.syntax().text().to_string();
    let t = t.trim_start_matches("#[").trim_end_matches(']').trim();
    let rest = t
        .strip_prefix("path")?
        .trim_start()
        .strip_prefix('=')?
        .trim();
    let s = rest.strip_prefix('"')?.strip_suffix('"')?;
    Some(s.to_string())
}

/// The `path = "..."` of a `#[cfg_attr(predicate, path = "...")]` attribute's text.
pub fn cfg_attr_path(text: &str) -> Option<String> {
    let t = text.trim_start_matches("#[").trim_end_matches(']').trim();
    let inner = t
        .strip_prefix("cfg_attr")?
        .trim_start()
        .strip_prefix('(')?
        .strip_suffix(')')?;
    // The attributes after the predicate, split at top-level commas.
    let b = inner.as_bytes();
    let (mut depth, mut in_str, mut start, mut i) = (0i32, false, 0usize, 0usize);
    let mut parts = Vec::new();
    while i < b.len() {
        match b[i] {
            b'\\' if in_str => i += 1,
            b'"' => in_str = !in_str,
            b'(' if !in_str => depth += 1,
            b')' if !in_str => depth -= 1,
            b',' if !in_str && depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(inner.get(start..).unwrap_or_default());
    parts.iter().skip(1).find_map(|p| {
        let rest = p
            .trim()
            .strip_prefix("path")?
            .trim_start()
            .strip_prefix('=')?;
        let s = rest.trim().strip_prefix('"')?.strip_suffix('"')?;
        Some(s.to_string())
    })
}
