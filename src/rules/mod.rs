//! The rules, one file each. [`RULES`] is the registry: `--explain`, `--list-rules` and the
//! README's rule table are generated from it.

pub mod competing_ssot;
pub mod deprecated_path;
pub mod detached_initialization;
pub mod global_pool_outside_ssot;
pub mod pool_outside_ssot;
pub mod syntax_error;
pub mod uninitialized_access;
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
    deprecated_path::RULE,
    uninitialized_access::RULE,
    detached_initialization::RULE,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The README's rule table is generated from the registry; this fails when they drift.
    /// `SSOT_BLESS=1 cargo test readme_rule_table` regenerates it.
    #[test]
    fn readme_rule_table() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
        let readme = std::fs::read_to_string(path).expect("README.md");
        let start = readme.find("<!-- rules:start").expect("rules:start marker");
        let start = start + readme[start..].find('\n').expect("newline") + 1;
        let end = readme.find("<!-- rules:end -->").expect("rules:end marker");
        let table = markdown_table();
        if std::env::var_os("SSOT_BLESS").is_some() {
            let new = format!("{}{}{}", &readme[..start], table, &readme[end..]);
            std::fs::write(path, new).expect("write README.md");
            return;
        }
        assert_eq!(
            &readme[start..end],
            table,
            "README rule table drifted: SSOT_BLESS=1 cargo test readme_rule_table"
        );
    }

    /// Every rule's documentation has ruff's headings plus known limitations.
    #[test]
    fn rule_docs_have_headings() {
        for r in RULES {
            for h in [
                "## What it does",
                "## Why is this bad?",
                "## Example",
                "## Fix safety",
                "## Known limitations",
            ] {
                assert!(r.doc.contains(h), "{} lacks `{h}`", r.code);
            }
            assert!(lookup(r.code).is_some() && lookup(r.name).is_some());
        }
    }
}
