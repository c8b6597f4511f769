//! Report stage: one renderer per output format.

use std::fmt::Write as _;

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, Severity};

use crate::diagnostic::Finding;
use crate::engine::Outcome;
use crate::escape;

mod checkstyle;
pub mod common;
mod github;
mod gitlab;
pub mod graph;
mod json;
mod junit;
mod markdown;
mod rdjson;
mod rustc_json;
mod sarif;

pub use common::{Context, Printer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Short,
    /// Our own schema, versioned (`"version": 1`).
    Json,
    /// One JSON finding per line.
    JsonLines,
    /// SARIF 2.1.0 (GitHub code scanning).
    Sarif,
    /// GitHub Actions workflow commands (annotations).
    Github,
    /// cargo's `--message-format=json` (rust-analyzer, IDEs).
    RustcJson,
    Checkstyle,
    Junit,
    /// GitLab Code Quality.
    Gitlab,
    /// reviewdog's rdjson.
    Rdjson,
    /// A pull-request summary with the ownership graph.
    Markdown,
}

impl Format {
    /// The printer of this format: one implementation per format.
    pub fn printer(self) -> Box<dyn Printer> {
        match self {
            Format::Human => Box::new(HumanPrinter),
            Format::Short => Box::new(ShortPrinter),
            Format::Json => Box::new(json::Json),
            Format::JsonLines => Box::new(json::JsonLines),
            Format::Sarif => Box::new(sarif::Sarif),
            Format::Github => Box::new(github::Github),
            Format::RustcJson => Box::new(rustc_json::RustcJson),
            Format::Checkstyle => Box::new(checkstyle::Checkstyle),
            Format::Junit => Box::new(junit::Junit),
            Format::Gitlab => Box::new(gitlab::Gitlab),
            Format::Rdjson => Box::new(rdjson::Rdjson),
            Format::Markdown => Box::new(markdown::Markdown),
        }
    }

    /// The whole output of this format. The printer escapes what the tree chose by the
    /// format's own rules; then no line of a JSON or plain-text output can be read as a
    /// GitHub workflow command (see [`escape`]).
    pub fn print(self, outcome: &Outcome, ctx: &Context) -> String {
        let out = self.printer().print(outcome, ctx);
        match self {
            Format::Human | Format::Short => escape::lines(&out),
            Format::Json
            | Format::JsonLines
            | Format::Sarif
            | Format::RustcJson
            | Format::Gitlab
            | Format::Rdjson => escape::json(out),
            Format::Github | Format::Checkstyle | Format::Junit | Format::Markdown => out,
        }
    }

    /// Whether the printer draws the ownership graph (the engine then collects it).
    pub fn needs_ownership(self) -> bool {
        self == Format::Markdown
    }
}

struct HumanPrinter;
impl Printer for HumanPrinter {
    fn print(&self, outcome: &Outcome, ctx: &Context) -> String {
        human(outcome, ctx.color, ctx.width)
    }
}

struct ShortPrinter;
impl Printer for ShortPrinter {
    fn print(&self, outcome: &Outcome, _: &Context) -> String {
        short(&outcome.findings)
    }
}

pub fn render(format: Format, outcome: &Outcome, color: bool, width: usize) -> String {
    let ctx = Context {
        color,
        width,
        ..Context::default()
    };
    format.print(outcome, &ctx)
}

/// `{path}:{line}:{column}: {code} {message}`, one finding per line (the path and the
/// message as [`escape::text`] shows them: one line each).
pub fn short(findings: &[Finding]) -> String {
    let mut s = String::new();
    for f in findings {
        let _ = writeln!(
            s,
            "{}:{}:{}: {} {}",
            escape::text(&f.file),
            f.line,
            f.column,
            f.code,
            escape::text(&f.message)
        );
    }
    s
}

#[derive(Debug)]
struct HumanDiag {
    code: String,
    message: String,
    help: Option<String>,
    src: crate::snippet::Snippet,
    labels: Vec<LabeledSpan>,
}

/// A fix as a small diff under its finding: the edited lines before and after.
fn fix_diff(fix: &crate::diagnostic::Fix, text: &str) -> String {
    let kind = match fix.applicability {
        crate::diagnostic::Applicability::Safe => "fix",
        crate::diagnostic::Applicability::Unsafe => "unsafe fix (--unsafe-fixes)",
        crate::diagnostic::Applicability::Display => "suggestion (not applied)",
    };
    let mut s = format!("  {kind}: {}\n", escape::text(&fix.title));
    // Edits on the same lines are shown as one change of those lines, all of them applied.
    let mut edits: Vec<&crate::diagnostic::Edit> = fix
        .edits
        .iter()
        .filter(|e| {
            let (a, b) = (e.range.start as usize, e.range.end as usize);
            b <= text.len() && a <= b && text.is_char_boundary(a) && text.is_char_boundary(b)
        })
        .collect();
    edits.sort_by_key(|e| (e.range.start, e.range.end));
    let mut i = 0;
    while i < edits.len() {
        let a = edits[i].range.start as usize;
        let line_start = text[..a].rfind('\n').map(|i| i + 1).unwrap_or(0);
        let mut b = edits[i].range.end as usize;
        let mut line_end = text[b..].find('\n').map(|i| b + i).unwrap_or(text.len());
        let mut j = i + 1;
        while j < edits.len() && edits[j].range.start as usize <= line_end {
            b = b.max(edits[j].range.end as usize);
            line_end = text[b..].find('\n').map(|i| b + i).unwrap_or(text.len());
            j += 1;
        }
        let before = &text[line_start..line_end];
        let mut after = String::new();
        let mut at = line_start;
        for e in &edits[i..j] {
            let (ea, eb) = (e.range.start as usize, e.range.end as usize);
            if ea >= at {
                after.push_str(&text[at..ea]);
            }
            after.push_str(&e.content);
            at = at.max(eb);
        }
        after.push_str(&text[at..line_end]);
        let col = a - line_start;
        for l in before.lines() {
            let l = crate::snippet::cut_line(l, col);
            s.push_str(&format!("    - {}\n", escape::source(&l)));
        }
        for l in after.lines() {
            let l = crate::snippet::cut_line(l, col);
            s.push_str(&format!("    + {}\n", escape::source(&l)));
        }
        i = j;
    }
    s
}

impl std::fmt::Display for HumanDiag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}
impl std::error::Error for HumanDiag {}
impl Diagnostic for HumanDiag {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(&self.code))
    }
    fn severity(&self) -> Option<Severity> {
        Some(Severity::Warning)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.src)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
}

/// rustc-like snippets, rendered by miette from our own findings.
pub fn human(outcome: &Outcome, color: bool, width: usize) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(width)
        .with_links(false);
    let mut out = String::new();
    // Line starts per file, computed once (a file may have thousands of findings).
    let mut starts: std::collections::HashMap<&str, Vec<usize>> = std::collections::HashMap::new();
    let empty = String::new();
    for f in &outcome.findings {
        let text = outcome.sources.get(&f.file).unwrap_or(&empty);
        let line_starts = starts.entry(f.file.as_str()).or_insert_with(|| {
            std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        });
        let floor = |mut i: usize| {
            i = i.min(text.len());
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            i
        };
        let start = floor(f.span.start as usize);
        let mut end = floor(f.span.end as usize).max(start);
        // Label the first line of a multi-line expression only.
        if let Some(nl) = text[start..end].find('\n') {
            end = start + nl;
        }
        let label = crate::rules::lookup(f.code.as_str())
            .map_or("here", |r| r.label)
            .to_string();
        // What the tree chose (names, paths) is shown escaped: see `escape`.
        let mut spans: Vec<std::ops::Range<usize>> = Vec::new();
        spans.push(start..end);
        let mut messages = vec![label];
        let flow = common::is_flow(f);
        for r in &f.related {
            if !flow
                && r.file == f.file
                && let Some(off) = offset_of(text, line_starts, r.line, r.column)
                && off != start
            {
                spans.push(off..off);
                messages.push(escape::text(&r.message));
            }
        }
        let (src, mapped) = crate::snippet::Snippet::new(
            escape::text(&f.file),
            text,
            line_starts,
            &spans,
            f.line,
            f.column,
        );
        let labels: Vec<LabeledSpan> = mapped
            .into_iter()
            .zip(messages)
            .enumerate()
            .map(|(i, (r, m))| {
                if i == 0 {
                    LabeledSpan::new_primary_with_span(Some(m), r)
                } else {
                    LabeledSpan::new_with_span(Some(m), r)
                }
            })
            .collect();
        let mut help = f.help.as_deref().map(escape::text);
        let others: Vec<String> = f
            .related
            .iter()
            .filter(|r| flow || r.file != f.file)
            .enumerate()
            .map(|(i, r)| {
                let (file, message) = (escape::text(&r.file), escape::text(&r.message));
                if flow {
                    format!("{:>2}. {file}:{}:{}: {message}", i + 1, r.line, r.column)
                } else {
                    format!("{file}:{}:{}: {message}", r.line, r.column)
                }
            })
            .collect();
        if !others.is_empty() {
            let h = help.unwrap_or_default();
            let head = if flow { "\ncall chain:" } else { "" };
            help = Some(format!("{h}{head}\n{}", others.join("\n")));
        }
        let d = HumanDiag {
            code: f.code.to_string(),
            message: escape::text(&f.message),
            help,
            src,
            labels,
        };
        let _ = handler.render_report(&mut out, &d);
        if let Some(fix) = &f.fix {
            out.push_str(&fix_diff(fix, text));
        }
        out.push('\n');
    }
    out
}

fn offset_of(text: &str, starts: &[usize], line: u32, col: u32) -> Option<usize> {
    let ls = *starts.get((line as usize).checked_sub(1)?)?;
    let l = text.get(ls..)?;
    let l = &l[..l.find('\n').map_or(l.len(), |i| i + 1)];
    // A byte order mark is not a column.
    let skip = usize::from(ls == 0 && l.starts_with('\u{feff}'));
    Some(
        ls + l
            .char_indices()
            .nth((col as usize).saturating_sub(1) + skip)
            .map(|(b, _)| b)
            .unwrap_or(0),
    )
}
