//! GitHub Actions workflow commands: `::error title=..,file=..,line=..::message`, escaped
//! exactly as `@actions/core` escapes them, properties in its order.

use super::common::{self, Context, Positions, Printer, Severity};
use crate::engine::Outcome;

pub struct Github;

/// `@actions/core`'s `escapeData`.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// `@actions/core`'s `escapeProperty`.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Annotation properties, in the order `core.error(message, properties)` writes them.
#[derive(Debug, Default, Clone)]
pub struct Properties {
    pub title: Option<String>,
    pub file: Option<String>,
    pub line: Option<u32>,
    pub end_line: Option<u32>,
    pub col: Option<u32>,
    pub end_column: Option<u32>,
}

/// One workflow command line, with its newline.
pub fn command(kind: &str, p: &Properties, message: &str) -> String {
    let mut props: Vec<String> = Vec::new();
    let mut put = |k: &str, v: Option<String>| {
        // core skips empty values (and 0, which is falsy).
        if let Some(v) = v.filter(|v| !v.is_empty() && v != "0") {
            props.push(format!("{k}={}", escape_property(&v)));
        }
    };
    put("title", p.title.clone());
    put("file", p.file.clone());
    put("line", p.line.map(|x| x.to_string()));
    put("endLine", p.end_line.map(|x| x.to_string()));
    put("col", p.col.map(|x| x.to_string()));
    put("endColumn", p.end_column.map(|x| x.to_string()));
    let mut s = format!("::{kind}");
    if !props.is_empty() {
        s.push(' ');
        s.push_str(&props.join(","));
    }
    s.push_str("::");
    s.push_str(&escape_data(message));
    s.push('\n');
    s
}

impl Printer for Github {
    fn print(&self, outcome: &Outcome, ctx: &Context) -> String {
        let mut order: Vec<&crate::diagnostic::Finding> = outcome.findings.iter().collect();
        // Most important first: errors, then by rule, then in path order (stable sort).
        order.sort_by_key(|f| {
            (
                std::cmp::Reverse(common::severity(f.code)),
                common::importance(f.code),
            )
        });
        let limit = ctx.github_step_limit;
        let (mut errors, mut warnings) = (0usize, 0usize);
        let mut out = String::new();
        let at = Positions::new(outcome);
        for f in &order {
            let sev = common::severity(f.code);
            let n = match sev {
                Severity::Error => &mut errors,
                Severity::Warning => &mut warnings,
            };
            if *n >= limit {
                continue;
            }
            *n += 1;
            let r = at.finding(f);
            let mut message = f.message.clone();
            if let Some(h) = &f.help {
                message.push_str("\nhelp: ");
                message.push_str(h);
            }
            let p = Properties {
                title: Some(format!("{} {}", f.code, f.name)),
                // Relative to the repository checkout, as GitHub resolves it, whatever the
                // working directory (the SARIF URIs and summary links are too).
                file: Some(match &ctx.uri_prefix {
                    Some(p) => format!("{p}/{}", f.file),
                    None => f.file.clone(),
                }),
                line: Some(r.start.line),
                end_line: Some(r.end.line),
                col: Some(r.start.column),
                end_column: Some(r.end.column),
            };
            out.push_str(&command(sev.as_str(), &p, &message));
        }
        let shown = errors + warnings;
        let total = outcome.findings.len();
        if shown < total {
            let p = Properties {
                title: Some("ssot-lint".into()),
                ..Default::default()
            };
            out.push_str(&command(
                "notice",
                &p,
                &format!(
                    "{total} findings, {shown} shown as annotations (GitHub shows at most {limit} errors and {limit} warnings per step): see all of them in the code scanning results (SARIF upload) or the job summary"
                ),
            ));
        }
        out
    }
}
