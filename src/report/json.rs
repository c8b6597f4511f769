//! `json` (schema version 1, documented in the README) and `json-lines`.

use serde_json::{Value, json};

use super::common::{self, Context, Positions, Printer};
use crate::diagnostic::Finding;
use crate::engine::Outcome;

pub const SCHEMA_VERSION: u32 = 1;

/// One finding in schema version 1.
pub fn finding(at: &Positions, f: &Finding) -> Value {
    let r = at.finding(f);
    let fixes: Vec<Value> = f
        .fix
        .iter()
        .map(|fix| {
            let edits: Vec<Value> = at
                .fix_edits(f, fix)
                .into_iter()
                .map(|(er, content)| {
                    json!({
                        "path": f.file,
                        "line": er.start.line,
                        "column": er.start.column,
                        "end_line": er.end.line,
                        "end_column": er.end.column,
                        "byte_start": er.start.offset,
                        "byte_end": er.end.offset,
                        "content": content,
                    })
                })
                .collect();
            json!({
                "title": fix.title,
                "applicability": common::applicability_str(fix.applicability),
                "edits": edits,
            })
        })
        .collect();
    let related: Vec<Value> = f
        .related
        .iter()
        .map(|r| {
            json!({
                "path": r.file,
                "line": r.line,
                "column": r.column,
                "message": r.message,
            })
        })
        .collect();
    json!({
        "code": f.code,
        "name": f.name,
        "severity": common::severity(f.code).as_str(),
        "message": f.message,
        "help": f.help,
        "path": f.file,
        "line": r.start.line,
        "column": r.start.column,
        "end_line": r.end.line,
        "end_column": r.end.column,
        "byte_start": r.start.offset,
        "byte_end": r.end.offset,
        "related": related,
        "fixes": fixes,
    })
}

pub struct Json;
impl Printer for Json {
    fn print(&self, outcome: &Outcome, _: &Context) -> String {
        let at = Positions::new(outcome);
        let findings: Vec<Value> = outcome.findings.iter().map(|f| finding(&at, f)).collect();
        let by_rule: serde_json::Map<String, Value> = common::counts(&outcome.findings)
            .into_iter()
            .map(|(code, _, n, _)| (code.to_string(), json!(n)))
            .collect();
        let doc = json!({
            "version": SCHEMA_VERSION,
            "tool": { "name": "ssot-lint", "version": common::VERSION },
            "findings": findings,
            "summary": {
                "findings": outcome.findings.len(),
                "fixable": outcome.findings.iter().filter(|f| common::fixable(f)).count(),
                "suppressed": outcome.suppressed.len(),
                "by_rule": by_rule,
            },
        });
        serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
    }
}

pub struct JsonLines;
impl Printer for JsonLines {
    fn print(&self, outcome: &Outcome, _: &Context) -> String {
        let mut s = String::new();
        let at = Positions::new(outcome);
        for f in &outcome.findings {
            s.push_str(&finding(&at, f).to_string());
            s.push('\n');
        }
        s
    }
}
