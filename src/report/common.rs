//! What every printer shares: the trait, where a finding starts and ends, its severity,
//! its fingerprint, and text escaping.

use crate::diagnostic::{Applicability, Finding, Fix};
use crate::engine::{Outcome, line_col};
use crate::rules::{self, RuleInfo};
use crate::summary::Span;

/// One output format. `print` returns the whole output (printers never write files).
pub trait Printer {
    fn print(&self, outcome: &Outcome, ctx: &Context) -> String;
}

/// What a printer may take from the environment, fixed by the caller (tests fix it too).
#[derive(Debug, Clone)]
pub struct Context {
    pub color: bool,
    pub width: usize,
    /// Links in the markdown summary: `{base}/{path}#L{line}` (GitHub: the blob URL of the
    /// commit); relative links when `None`.
    pub link_base: Option<String>,
    /// GitHub's per-step limit of annotations of one kind (error, warning, notice).
    pub github_step_limit: usize,
    /// The lint root relative to the repository checkout (`$GITHUB_WORKSPACE`), prefixed to
    /// SARIF URIs so that code scanning finds the files.
    pub uri_prefix: Option<String>,
}

impl Default for Context {
    fn default() -> Self {
        Context {
            color: false,
            width: 100,
            link_base: None,
            github_step_limit: 10,
            uri_prefix: None,
        }
    }
}

/// The tool's home page (the repository), used for `helpUri` and `informationUri`.
pub const HOME: &str = {
    let r = env!("CARGO_PKG_REPOSITORY");
    if r.is_empty() {
        "https://github.com/ssot-lint/ssot-lint"
    } else {
        r
    }
};
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Where a rule is documented.
pub fn help_uri(code: impl AsRef<str>) -> String {
    format!(
        "{HOME}/blob/main/README.md#{}",
        code.as_ref().to_ascii_lowercase()
    )
}

pub use crate::diagnostic::Severity;

/// A finding's severity, from the rule registry (an unknown code is an error).
pub fn severity(code: impl AsRef<str>) -> Severity {
    rules::lookup(code.as_ref()).map_or(Severity::Error, |r| r.severity)
}

/// Most important first (for formats that can show only some), from the rule registry.
pub fn importance(code: impl AsRef<str>) -> u8 {
    rules::lookup(code.as_ref()).map_or(7, |r| r.importance)
}

pub fn rule(code: &str) -> Option<&'static RuleInfo> {
    rules::lookup(code)
}

/// A position: 1-based line, 1-based column in characters, 1-based column in UTF-8 bytes,
/// and the byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
    pub byte_column: u32,
    pub offset: u32,
}

pub fn pos(text: &str, offset: u32) -> Pos {
    let mut off = (offset as usize).min(text.len());
    while off > 0 && !text.is_char_boundary(off) {
        off -= 1;
    }
    let (line, column) = line_col(text, off);
    let line_start = text[..off].rfind('\n').map(|i| i + 1).unwrap_or(0);
    Pos {
        line,
        column,
        byte_column: (off - line_start) as u32 + 1,
        offset: off as u32,
    }
}

/// Start and end (exclusive) of a span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub start: Pos,
    pub end: Pos,
}

pub fn region(text: &str, span: &Span) -> Region {
    let start = pos(text, span.start);
    let end = pos(text, span.end.max(span.start));
    Region { start, end }
}

/// The text of a finding's file (every file with findings is in `outcome.sources`).
pub fn source<'o>(outcome: &'o Outcome, f: &Finding) -> &'o str {
    outcome
        .sources
        .get(&f.file)
        .map(String::as_str)
        .unwrap_or("")
}

/// Where a finding starts and ends; from its own line and column when the text is missing.
pub fn finding_region(outcome: &Outcome, f: &Finding) -> Region {
    let text = source(outcome, f);
    if text.is_empty() {
        let p = Pos {
            line: f.line,
            column: f.column,
            byte_column: f.column,
            offset: f.span.start,
        };
        return Region { start: p, end: p };
    }
    region(text, &f.span)
}

/// The flagged line, whitespace collapsed: what a fingerprint keeps of the code.
pub fn snippet(outcome: &Outcome, f: &Finding) -> String {
    let text = source(outcome, f);
    let line = text
        .split('\n')
        .nth(f.line.saturating_sub(1) as usize)
        .unwrap_or("");
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// 64-bit FNV-1a, as 16 hex digits: stable across runs, platforms and Rust versions.
pub fn fnv_hex(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain([0u8]) {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// Line-insensitive identities of findings: rule, path, normalized snippet and the index of
/// the occurrence among findings with the same three (in output order).
pub fn identities(outcome: &Outcome, findings: &[Finding]) -> Vec<Identity> {
    let mut seen: std::collections::HashMap<(String, String, String), u32> =
        std::collections::HashMap::new();
    findings
        .iter()
        .map(|f| {
            let snip = snippet(outcome, f);
            let n = seen
                .entry((f.code.to_string(), f.file.clone(), snip.clone()))
                .or_default();
            let id = Identity {
                code: f.code.to_string(),
                path: f.file.clone(),
                snippet: snip,
                occurrence: *n,
            };
            *n += 1;
            id
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Identity {
    pub code: String,
    pub path: String,
    pub snippet: String,
    pub occurrence: u32,
}

impl Identity {
    pub fn fingerprint(&self) -> String {
        let occ = self.occurrence.to_string();
        fnv_hex(&[&self.code, &self.path, &self.snippet, &occ])
    }
}

pub fn fixable(f: &Finding) -> bool {
    f.fix
        .as_ref()
        .is_some_and(|x| x.applicability >= Applicability::Unsafe)
}

pub fn applicability_str(a: Applicability) -> &'static str {
    match a {
        Applicability::Safe => "safe",
        Applicability::Unsafe => "unsafe",
        Applicability::Display => "display",
    }
}

/// The edits of a fix as (region, content), within the finding's file.
pub fn fix_edits(text: &str, fix: &Fix) -> Vec<(Region, String, Span)> {
    fix.edits
        .iter()
        .map(|e| (region(text, &e.range), e.content.clone(), e.range.clone()))
        .collect()
}

/// Escape text for XML attributes and content.
pub fn xml(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            '\n' => o.push_str("&#10;"),
            '\r' => o.push_str("&#13;"),
            '\t' => o.push_str("&#9;"),
            c if (c as u32) < 0x20 => {}
            c => o.push(c),
        }
    }
    o
}

/// Counts per rule, in rule order: (code, name, count, fixable).
pub fn counts(findings: &[Finding]) -> Vec<(&'static str, &'static str, usize, usize)> {
    let mut v = Vec::new();
    for r in rules::RULES {
        let n = findings.iter().filter(|f| f.code == r.code).count();
        if n > 0 {
            let k = findings
                .iter()
                .filter(|f| f.code == r.code && fixable(f))
                .count();
            v.push((r.code.as_str(), r.name, n, k));
        }
    }
    v
}
