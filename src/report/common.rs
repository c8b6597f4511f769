//! What every printer shares: the trait, where a finding starts and ends, its severity,
//! its fingerprint, and text escaping.

use std::collections::HashMap;

use crate::diagnostic::{Applicability, Finding, Fix};
use crate::engine::Outcome;
use crate::lines::{LineIndex, floor_char_boundary};
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
    /// SARIF URIs and annotation paths so that GitHub finds the files.
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

/// The project's address: `repository` in Cargo.toml, the one place it is set. It has none
/// yet, and then no output links anywhere (a link to an address that does not exist helps
/// nobody): SARIF carries each rule's whole documentation instead.
pub const REPOSITORY: Option<&str> = {
    let r = env!("CARGO_PKG_REPOSITORY");
    if r.is_empty() { None } else { Some(r) }
};
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Where the rules are documented (the README's rule table), when the project has an
/// address.
pub fn rules_uri() -> Option<String> {
    rules_uri_of(REPOSITORY)
}

fn rules_uri_of(repository: Option<&str>) -> Option<String> {
    repository.map(|r| format!("{}/blob/main/README.md#rules", r.trim_end_matches('/')))
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
/// the byte offset and the character (code point) offset from the start of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
    pub byte_column: u32,
    pub offset: u32,
    pub char_offset: u32,
}

/// Start and end (exclusive) of a span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub start: Pos,
    pub end: Pos,
}

/// The text of a finding's file (every file with findings is in `outcome.sources`).
pub fn source<'o>(outcome: &'o Outcome, f: &Finding) -> &'o str {
    outcome
        .sources
        .get(&f.file)
        .map(String::as_str)
        .unwrap_or("")
}

/// Positions in the files of an outcome. Each file's line index is built once, so a
/// printer's work grows with the findings and the text, never with findings × text (40,000
/// findings in one file would otherwise rescan it 40,000 times).
pub struct Positions<'o> {
    outcome: &'o Outcome,
    indexes: HashMap<&'o str, LineIndex>,
}

impl<'o> Positions<'o> {
    pub fn new(outcome: &'o Outcome) -> Self {
        let indexes = outcome
            .sources
            .iter()
            .map(|(file, text)| (file.as_str(), LineIndex::new(text)))
            .collect();
        Positions { outcome, indexes }
    }

    fn text(&self, file: &str) -> (&'o str, Option<&LineIndex>) {
        let text = self.outcome.sources.get(file).map_or("", String::as_str);
        (text, self.indexes.get(file))
    }

    /// The position of a byte offset of `file`.
    pub fn pos(&self, file: &str, offset: u32) -> Pos {
        let (text, index) = self.text(file);
        let Some(index) = index else {
            return Pos {
                line: 1,
                column: 1,
                byte_column: 1,
                offset: 0,
                char_offset: 0,
            };
        };
        let off = floor_char_boundary(text, offset as usize);
        let (line, column) = index.line_col(text, off);
        let line_start = index.line_start(line).unwrap_or(0);
        Pos {
            line,
            column,
            byte_column: (off - line_start) as u32 + 1,
            offset: off as u32,
            char_offset: index.char_offset(text, off),
        }
    }

    /// Start and end of a span of `file`.
    pub fn region(&self, file: &str, span: &Span) -> Region {
        Region {
            start: self.pos(file, span.start),
            end: self.pos(file, span.end.max(span.start)),
        }
    }

    /// Where a finding starts and ends; from its own line and column when the text is
    /// missing.
    pub fn finding(&self, f: &Finding) -> Region {
        if source(self.outcome, f).is_empty() {
            let p = Pos {
                line: f.line,
                column: f.column,
                byte_column: f.column,
                offset: f.span.start,
                char_offset: f.span.start,
            };
            return Region { start: p, end: p };
        }
        self.region(&f.file, &f.span)
    }

    /// Line `line` (1-based) of `file`, without its line break; empty past the end.
    pub fn line(&self, file: &str, line: u32) -> &'o str {
        let (text, index) = self.text(file);
        let Some(start) = index.and_then(|i| i.line_start(line)) else {
            return "";
        };
        let rest = &text[start..];
        let l = rest.find('\n').map_or(rest, |e| &rest[..e]);
        l.strip_suffix('\r').unwrap_or(l)
    }

    /// The edits of a fix as (region, content), within the finding's file.
    pub fn fix_edits(&self, f: &Finding, fix: &Fix) -> Vec<(Region, String)> {
        fix.edits
            .iter()
            .map(|e| (self.region(&f.file, &e.range), e.content.clone()))
            .collect()
    }

    /// The flagged line, whitespace collapsed: what a fingerprint keeps of the code.
    pub fn snippet(&self, f: &Finding) -> String {
        self.line(&f.file, f.line)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Line-insensitive identities of findings: rule, path, normalized snippet and the
    /// index of the occurrence among findings with the same three (in output order).
    pub fn identities(&self, findings: &[Finding]) -> Vec<Identity> {
        let mut seen: HashMap<(String, String, String), u32> = HashMap::new();
        findings
            .iter()
            .map(|f| {
                let snip = self.snippet(f);
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

/// Whether a finding's related locations are the steps of a call chain, in program order
/// (SSOT007): printers show them as a chain (human), a `codeFlow` (SARIF), children
/// (rustc-json), in order everywhere else.
pub fn is_flow(f: &Finding) -> bool {
    f.code == crate::rules::RuleCode::Ssot007
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

/// Escape text for XML attributes and content. Characters XML 1.0 does not allow (control
/// characters other than tab and line breaks, U+FFFE, U+FFFF) become U+FFFD, and `##[` is
/// written `#&#35;[` so that no line of the document is a GitHub workflow command.
pub fn xml(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            '\n' => o.push_str("&#10;"),
            '\r' => o.push_str("&#13;"),
            '\t' => o.push_str("&#9;"),
            '#' if o.ends_with('#') && chars.peek() == Some(&'[') => o.push_str("&#35;"),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => o.push('\u{fffd}'),
            c => o.push(c),
        }
    }
    o
}

/// A relative path as a URI reference (RFC 3986): every byte but the unreserved characters
/// and `/` percent-encoded, so that no `#`, `?`, `%`, space or `:` changes what it names.
pub fn percent_encode_path(path: &str) -> String {
    let mut o = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
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

#[cfg(test)]
mod tests {
    #[test]
    fn rule_links_come_from_the_repository_address_alone() {
        assert_eq!(super::rules_uri_of(None), None);
        assert_eq!(
            super::rules_uri_of(Some("https://example.org/ssot-lint/")).as_deref(),
            Some("https://example.org/ssot-lint/blob/main/README.md#rules")
        );
        assert_eq!(super::rules_uri(), super::rules_uri_of(super::REPOSITORY));
    }
}
