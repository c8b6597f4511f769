//! The rules, one file each. [`RULES`] is the registry: `--explain`, `--list-rules` and the
//! README's rule table are generated from it.

pub mod competing_ssot;
pub mod global_pool_outside_ssot;
pub mod pool_outside_ssot;
pub mod syntax_error;
pub mod unused_suppression;

/// A rule's identity and documentation.
#[derive(Debug, Clone, Copy)]
pub struct RuleInfo {
    pub code: &'static str,
    pub name: &'static str,
    /// One line: what it flags.
    pub summary: &'static str,
    /// `## What it does`, `## Why is this bad?`, `## Example`, `## Fix safety`,
    /// `## Known limitations`.
    pub doc: &'static str,
    /// What its fix does, if it has one.
    pub fix: Option<&'static str>,
}

pub const RULES: &[RuleInfo] = &[
    syntax_error::RULE,
    pool_outside_ssot::RULE,
    global_pool_outside_ssot::RULE,
    competing_ssot::RULE,
    unused_suppression::RULE,
];

/// Find a rule by code (`SSOT001`) or name (`pool-outside-ssot`), case-insensitively.
pub fn lookup(key: &str) -> Option<&'static RuleInfo> {
    RULES
        .iter()
        .find(|r| r.code.eq_ignore_ascii_case(key) || r.name.eq_ignore_ascii_case(key))
}

/// The README's rule table, generated.
pub fn markdown_table() -> String {
    let mut s = String::from("| code | name | flags | fix |\n|---|---|---|---|\n");
    for r in RULES {
        s.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            r.code,
            r.name,
            r.summary,
            r.fix.unwrap_or("—")
        ));
    }
    s
}

/// The text of `--explain CODE`.
pub fn explain(r: &RuleInfo) -> String {
    format!(
        "# {} ({})\n\n{}\n\n{}",
        r.code,
        r.name,
        r.summary,
        r.doc.trim()
    )
}

/// `SSOT001 ` prefix etc. of a module path list, for messages.
pub fn quote_list(items: &[String]) -> String {
    items
        .iter()
        .map(|m| format!("`{m}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
