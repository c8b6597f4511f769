//! SSOT100 unused-suppression (the suppression mechanism itself is `crate::suppress`).

use super::{SuppressionContext, Pass, RuleCode, RuleInfo};
use crate::diagnostic::Severity;
use crate::diagnostic::{Applicability, Edit, Finding, Fix};

pub const RULE: RuleInfo = RuleInfo {
    code: RuleCode::Ssot100,
    name: "unused-suppression",
    label: "suppresses nothing",
    severity: Severity::Warning,
    importance: 7,
    pass: Pass::AfterSuppressions(run),
    summary: "an `ssot-lint: allow(...)` comment that suppressed nothing",
    fix: Some("remove it (safe)"),
    doc: r#"
## What it does
Flags a `// ssot-lint: allow(CODE) reason` comment that suppressed no finding on its line
(at the end of a line) or on the next line (a comment on a line of its own).

## Why is this bad?
A stale suppression hides the next real finding at that place, and tells readers a rule
fired where it no longer does.

## Example
```rust
// ssot-lint: allow(SSOT001) migrated to the SSOT in #214
let pool = crate::database::pool().await?;
```

## Fix safety
Safe: removes the comment, with its line when it stands alone, or with the spaces before
it when it ends a line of code.

## Known limitations
A suppression naming a rule that is not selected in this run is not reported.
"#,
};

/// The comments no finding used, when every rule they name is selected.
fn run(cx: &SuppressionContext) -> Vec<Finding> {
    let g = cx.graph;
    let mut out = Vec::new();
    for (fid, file) in g.file_ids().zip(&g.files) {
        for (i, s) in file.summary.suppressions.iter().enumerate() {
            if cx.used.contains(&(fid, i)) {
                continue;
            }
            let all_enabled = s
                .rules
                .iter()
                .all(|r| super::lookup(r).is_some_and(|ri| cx.selection.enabled(ri.code)));
            if !all_enabled {
                continue;
            }
            let mut f = Finding::new(
                RULE.code,
                RULE.name,
                fid,
                s.span.clone(),
                format!(
                    "unused suppression: `allow({})` suppressed nothing",
                    s.rules.join(", ")
                ),
            )
            .with_help("remove the comment");
            let text = g.source(fid);
            f.fix = Some(Fix {
                title: "remove the unused suppression".into(),
                applicability: Applicability::Safe,
                edits: vec![Edit {
                    range: removal_range(&text, &s.span),
                    content: String::new(),
                }],
            });
            out.push(f);
        }
    }
    out
}

/// What to delete for a comment: its whole line when it stands alone, else the comment and
/// the blanks before it.
fn removal_range(text: &str, span: &std::ops::Range<u32>) -> std::ops::Range<u32> {
    let (a, b) = (span.start as usize, span.end as usize);
    if b > text.len() || a > b {
        return span.clone();
    }
    let line_start = text[..a].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line_end = text[b..].find('\n').map(|i| b + i).unwrap_or(text.len());
    let alone = text[line_start..a].trim().is_empty() && text[b..line_end].trim().is_empty();
    if alone {
        let end = if line_end < text.len() {
            line_end + 1
        } else {
            line_end
        };
        return line_start as u32..end as u32;
    }
    let start = text[..a].trim_end_matches([' ', '\t']).len();
    start as u32..span.end
}

#[cfg(test)]
mod tests {
    use crate::testing::{check, check_fix};

    const CRATE: &str = r#"
//- /ssot-lint.toml
[ssot]
modules = ["app::db"]
//- /src/lib.rs
pub mod db;
pub mod handlers;
//- /src/db.rs
pub async fn pool(url: &str) -> Result<sqlx::PgPool, sqlx::Error> {
    sqlx::PgPool::connect(url).await
}
"#;

    #[test]
    fn fires_on_a_suppression_that_suppresses_nothing() {
        check(&format!(
            "{CRATE}{}",
            r#"//- /src/handlers.rs
pub async fn handler(url: &str) -> Result<(), sqlx::Error> {
    // ssot-lint: allow(SSOT001) legacy pool, removed in #42
  //^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ SSOT100
    let _pool = crate::db::pool(url).await?;
    Ok(())
}
"#
        ));
    }

    #[test]
    fn silent_when_it_suppresses_a_finding() {
        check(&format!(
            "{CRATE}{}",
            r#"//- /src/handlers.rs
pub async fn handler(url: &str) -> Result<(), sqlx::Error> {
    // ssot-lint: allow(SSOT001) legacy pool, removed in #42
    let _pool = sqlx::PgPool::connect(url).await?;
    Ok(())
}
"#
        ));
    }

    #[test]
    fn fix_removes_the_comment_and_its_line() {
        check_fix(
            &format!(
                "{CRATE}{}",
                r#"//- /src/handlers.rs
pub async fn handler(url: &str) -> Result<(), sqlx::Error> {
    // ssot-lint: allow(SSOT001) legacy pool, removed in #42
    let _pool = crate::db::pool(url).await?; // ssot-lint: allow(pool-outside-ssot)
    Ok(())
}
"#
            ),
            r#"//- /src/handlers.rs
pub async fn handler(url: &str) -> Result<(), sqlx::Error> {
    let _pool = crate::db::pool(url).await?;
    Ok(())
}
"#,
        );
    }
}
