//! A pull-request summary (`$GITHUB_STEP_SUMMARY`, a PR comment): counts per rule, the
//! findings as a table with links, and who owns each resource as a Mermaid graph.

use super::common::{self, Context, Printer};
use crate::engine::Outcome;

pub struct Markdown;

/// Text for a table cell, escaped so that nothing the tree chose becomes markup: HTML's
/// special characters, `|` (which would end the cell), and the brackets, emphasis and escape
/// characters of markdown as character references; control characters as `escape::text`
/// shows them. A message's `code spans` become `<code>` elements with their text escaped the same
/// way (a name holding a backtick cannot end one early).
fn cell(s: &str) -> String {
    let s = crate::escape::text(s);
    let parts: Vec<&str> = s.split('`').collect();
    let mut o = String::with_capacity(s.len());
    for (i, part) in parts.iter().enumerate() {
        let code = i % 2 == 1 && i + 1 < parts.len();
        if code {
            o.push_str("<code>");
        } else if i % 2 == 1 {
            // An unpaired backtick: literal.
            o.push_str("&#96;");
        }
        for c in part.chars() {
            match c {
                '&' => o.push_str("&amp;"),
                '<' => o.push_str("&lt;"),
                '>' => o.push_str("&gt;"),
                '|' | '\\' | '[' | ']' | '*' | '~' => o.push_str(&format!("&#{};", c as u32)),
                c => o.push(c),
            }
        }
        if code {
            o.push_str("</code>");
        }
    }
    o
}

impl Printer for Markdown {
    fn print(&self, outcome: &Outcome, ctx: &Context) -> String {
        let n = outcome.findings.len();
        let fixable = outcome
            .findings
            .iter()
            .filter(|f| common::fixable(f))
            .count();
        let mut s = String::from("## ssot-lint\n\n");
        match n {
            0 => s.push_str("No findings.\n"),
            1 => s.push_str("**1 finding**"),
            n => s.push_str(&format!("**{n} findings**")),
        }
        if n > 0 {
            s.push_str(&format!(
                " ({fixable} fixable with `cargo ssot-lint --fix --unsafe-fixes`)\n\n| rule | name | findings | fixable |\n|---|---|---:|---:|\n"
            ));
            let rules = common::rules_uri();
            for (code, name, c, k) in common::counts(&outcome.findings) {
                let code = match &rules {
                    Some(uri) => format!("[{code}]({uri})"),
                    None => code.to_string(),
                };
                s.push_str(&format!("| {code} | {name} | {c} | {k} |\n"));
            }
            s.push_str("\n### Findings\n\n| location | rule | message |\n|---|---|---|\n");
            for f in &outcome.findings {
                let loc = format!("{}:{}:{}", f.file, f.line, f.column);
                let path = common::percent_encode_path(&f.file);
                let link = match &ctx.link_base {
                    Some(b) => format!("{}/{path}#L{}", b.trim_end_matches('/'), f.line),
                    None => format!("{path}#L{}", f.line),
                };
                s.push_str(&format!(
                    "| [{}]({link}) | {} | {} |\n",
                    cell(&loc),
                    f.code,
                    cell(&f.message)
                ));
            }
        }
        if !outcome.suppressed.is_empty() {
            s.push_str(&format!(
                "\n{} suppressed by `ssot-lint: allow(..)` comments.\n",
                outcome.suppressed.len()
            ));
        }
        s.push_str("\n### Who owns each resource\n\n");
        s.push_str("SSOT: green, thick border; competing modules: yellow; legacy managers initialized by hand: red; deprecated shims: grey, dashed.\n\n```mermaid\n");
        s.push_str(&super::graph::mermaid(&outcome.ownership));
        s.push_str("```\n");
        s
    }
}
