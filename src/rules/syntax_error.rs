//! SSOT000 syntax-error.

use super::{Context, Pass, RuleCode, RuleInfo};
use crate::diagnostic::Severity;
use crate::crates::CrateGraph;
use crate::ids::FileId;
use crate::diagnostic::Finding;
use crate::workspace::TargetKind;

fn run(cx: &mut Context) {
    let (found, skipped) = check(cx.model.g);
    if !skipped.is_empty() {
        cx.model.notes.push(format!(
            "{} problem(s) in files no target reaches or a build script may generate were not reported: {}",
            skipped.len(),
            skipped.join(", ")
        ));
    }
    for f in found {
        cx.report(f);
    }
}

pub const RULE: RuleInfo = RuleInfo {
    code: RuleCode::Ssot000,
    name: "syntax-error",
    label: "here",
    severity: Severity::Warning,
    importance: 6,
    pass: Pass::Check(run),
    summary: "a file that does not parse cleanly (reported; the rest of the run goes on)",
    fix: None,
    doc: r#"
## What it does
Reports a file that does not parse cleanly, at its first syntax error, or that cannot be read.
At a manifest: a package a folder scan cannot load (its `Cargo.toml` does not parse, is a
symlink out of the folder, is over the size cap) and a target that exists but cannot be read
(a `[lib] path` outside the workspace, a FIFO): code cargo would build that ssot-lint cannot
see is a finding, never a silent drop.

## Why is this bad?
ssot-lint still checks every part of the file the parser recovered, but a construction
inside the broken region may be missed. The run goes on with every other file.

## Example
```rust
fn broken( { let pool = PgPool::connect(url).await?; }
```

## Fix safety
No fix.

A `.rs` file that no target's module tree reaches is still checked for pools, but a parse
failure or a missing module there is not a finding (it may not be Rust at all); nor is a
missing module file in a package with a build script (which may generate it: ssot-lint
never runs build scripts). `-v` lists them.

## Known limitations
The parser is rust-analyzer's, run at the package's edition. Code that only a proc-macro
makes valid (custom syntax inside attribute macros) is still parsed as plain Rust.
A file that cannot lead to a pool or client (it names no pack crate, no module of the
config and nothing derived from them) is only lexed, not parsed. There only what the lexer
sees is reported: an invalid token or literal (an unterminated string, a bad escape),
unbalanced or mismatched brackets, nesting too deep to analyse, a binary file, a file that
cannot be read or is too large. A pure grammar error in such a file (`let = 1;` in a function
body, say) is not reported. `--no-prefilter` parses every file but reports the same, so the
output never depends on it.
"#,
};

/// Files only reached as unreached-file crates (no module tree of a target includes them).
pub fn unreached_files(g: &CrateGraph) -> std::collections::BTreeSet<FileId> {
    let in_target: std::collections::HashSet<FileId> = g
        .crates
        .iter()
        .filter(|c| c.kind != TargetKind::Orphan)
        .flat_map(|c| c.modules.files().map(|(file, _, _)| file))
        .collect();
    g.crates
        .iter()
        .filter(|c| c.kind == TargetKind::Orphan)
        .flat_map(|c| c.modules.files().map(|(file, _, _)| file))
        .filter(|f| !in_target.contains(f))
        .collect()
}

/// The findings, and the unreached files that failed to parse or name a missing module
/// (not findings: a file no target compiles may not be Rust at all, like a shell script
/// named `.rs`, or an asset that only looks like Rust).
fn check(g: &CrateGraph) -> (Vec<Finding>, Vec<String>) {
    let unreached = unreached_files(g);
    let mut skipped = Vec::new();
    let mut out = Vec::new();
    // A `mod` whose file cannot be read: at the declaration, never with the file's text.
    // Packages with a build script: a missing module file there may be one the build script
    // generates (`mod version;` from build.rs), which ssot-lint never runs.
    let generated: std::collections::HashSet<FileId> = g
        .crates
        .iter()
        .filter(|c| {
            g.packages[c.package]
                .targets
                .iter()
                .any(|t| t.kind == TargetKind::BuildScript)
        })
        .flat_map(|c| c.modules.files().map(|(file, _, _)| file))
        .collect();
    for (fid, span, msg) in &g.unreadable_modules {
        if generated.contains(fid) && msg.contains(": file not found") {
            skipped.push(format!(
                "{} ({msg}; the package's build script may generate it)",
                g.files[*fid].rel
            ));
            continue;
        }
        if unreached.contains(fid) {
            // A missing module of a file no target compiles: not a finding either.
            skipped.push(format!("{} ({msg})", g.files[*fid].rel));
            continue;
        }
        out.push(Finding::new(
            RULE.code,
            RULE.name,
            *fid,
            span.clone(),
            msg.clone(),
        ));
    }
    for (fid, f) in g.file_ids().zip(&g.files) {
        if unreached.contains(&fid) && f.read_error.is_none() && !f.summary.syntax_errors.is_empty()
        {
            skipped.push(f.rel.clone());
            continue;
        }
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
        let more = match errs.len().max(f.summary.syntax_error_count) {
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
    (out, skipped)
}
