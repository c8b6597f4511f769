//! Suppression comments: `// ssot-lint: allow(CODE) reason`.

use ra_ap_syntax::{SyntaxKind, SyntaxNode};

use super::{line_starts, range};
use crate::summary::Suppression;

/// `// ssot-lint: allow(SSOT001, pool-outside-ssot) reason`
pub(super) fn suppressions(root: &SyntaxNode, text: &str) -> Vec<Suppression> {
    let starts = line_starts(text);
    let mut out = Vec::new();
    for tok in root
        .descendants_with_tokens()
        .filter_map(|e| e.into_token())
    {
        if tok.kind() != SyntaxKind::COMMENT {
            continue;
        }
        let t = tok.text();
        // Doc comments document; only plain comments suppress.
        if ["///", "//!", "/**", "/*!"]
            .iter()
            .any(|d| t.starts_with(d))
        {
            continue;
        }
        let Some(pos) = t.find("ssot-lint:") else {
            continue;
        };
        let rest = t[pos + "ssot-lint:".len()..].trim_start();
        let Some(args) = rest.strip_prefix("allow(") else {
            continue;
        };
        let Some(close) = args.find(')') else {
            continue;
        };
        let rules: Vec<String> = args[..close]
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        let start = u32::from(tok.text_range().start());
        let line_idx = starts.partition_point(|&s| s <= start) - 1;
        let line_start = starts[line_idx] as usize;
        let trailing = !text[line_start..start as usize].trim().is_empty();
        let line = if trailing {
            line_idx as u32 + 1
        } else {
            line_idx as u32 + 2
        };
        out.push(Suppression {
            rules,
            line,
            span: range(tok.text_range()),
        });
    }
    out
}
