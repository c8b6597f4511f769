//! SSOT000 syntax-error.

use super::RuleInfo;
use crate::crates::CrateGraph;
use crate::diagnostic::Finding;

pub const RULE: RuleInfo = RuleInfo {
    code: "SSOT000",
    name: "syntax-error",
    summary: "a file that does not parse cleanly (reported; the rest of the run goes on)",
    fix: None,
    doc: r#"
## What it does
Reports a file that does not parse cleanly, at its first syntax error, or that cannot be read.

## Why is this bad?
ssot-lint still checks every part of the file the parser recovered, but a construction
inside the broken region may be missed. The run goes on with every other file.

## Example
```rust
fn broken( { let pool = PgPool::connect(url).await?; }
```

## Fix safety
No fix.

## Known limitations
The parser is rust-analyzer's, run at the package's edition. Code that only a proc-macro
makes valid (custom syntax inside attribute macros) is still parsed as plain Rust.
"#,
};

pub fn check(g: &CrateGraph) -> Vec<Finding> {
    let mut out = Vec::new();
    for (fid, f) in g.files.iter().enumerate() {
        if let Some(e) = &f.read_error {
            out.push(Finding::new(
                RULE.code,
                RULE.name,
                fid,
                0..0,
                format!("cannot read file: {e}"),
            ));
            continue;
        }
        let errs = &f.summary.syntax_errors;
        let Some(first) = errs.first() else { continue };
        let more = match errs.len() {
            1 => String::new(),
            n => format!(" (and {} more)", n - 1),
        };
        out.push(Finding::new(
            RULE.code,
            RULE.name,
            fid,
            first.span.clone(),
            format!("syntax error: {}{more}", first.message),
        ));
    }
    out
}
