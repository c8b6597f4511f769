//! A pull-request summary (`$GITHUB_STEP_SUMMARY`, a PR comment): counts per rule, the
//! findings as a table with links, and who owns each resource as a Mermaid graph.

use super::common::{self, Context, Printer};
use crate::engine::Outcome;

pub struct Markdown;

/// Text for a table cell: `|` escaped, newlines as `<br>`.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', "<br>")
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
            for (code, name, c, k) in common::counts(&outcome.findings) {
                s.push_str(&format!(
                    "| [{code}]({}) | {name} | {c} | {k} |\n",
                    common::help_uri(code)
                ));
            }
            s.push_str("\n### Findings\n\n| location | rule | message |\n|---|---|---|\n");
            for f in &outcome.findings {
                let loc = format!("{}:{}:{}", f.file, f.line, f.column);
                let link = match &ctx.link_base {
                    Some(b) => format!("{}/{}#L{}", b.trim_end_matches('/'), f.file, f.line),
                    None => format!("{}#L{}", f.file, f.line),
                };
                s.push_str(&format!(
                    "| [{}]({}) | {} | {} |\n",
                    cell(&loc),
                    link.replace(' ', "%20"),
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
