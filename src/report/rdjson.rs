//! reviewdog's rdjson (`DiagnosticResult`): columns are 1-based UTF-8 byte counts.

use serde_json::{Value, json};

use super::common::{self, Context, Positions, Printer, Region, Severity};
use crate::engine::Outcome;

pub struct Rdjson;

fn range(r: &Region) -> Value {
    json!({
        "start": { "line": r.start.line, "column": r.start.byte_column },
        "end": { "line": r.end.line, "column": r.end.byte_column },
    })
}

impl Printer for Rdjson {
    fn print(&self, outcome: &Outcome, _: &Context) -> String {
        let at = Positions::new(outcome);
        let diagnostics: Vec<Value> = outcome
            .findings
            .iter()
            .map(|f| {
                let r = at.finding(f);
                let mut d = json!({
                    "message": f.message,
                    "location": { "path": f.file, "range": range(&r) },
                    "severity": match common::severity(f.code) {
                        Severity::Error => "ERROR",
                        Severity::Warning => "WARNING",
                    },
                    "code": { "value": f.code },
                });
                if let Some(url) = common::rules_uri() {
                    d["code"]["url"] = json!(url);
                }
                if let Some(fix) = &f.fix {
                    let s: Vec<Value> = at
                        .fix_edits(f, fix)
                        .iter()
                        .map(|(er, content)| json!({ "range": range(er), "text": content }))
                        .collect();
                    d["suggestions"] = json!(s);
                }
                if !f.related.is_empty() {
                    let rl: Vec<Value> = f
                        .related
                        .iter()
                        .map(|x| {
                            json!({
                                "message": x.message,
                                "location": {
                                    "path": x.file,
                                    "range": { "start": { "line": x.line } },
                                },
                            })
                        })
                        .collect();
                    d["related_locations"] = json!(rl);
                }
                d
            })
            .collect();
        let mut doc = json!({
            "source": { "name": "ssot-lint" },
            "diagnostics": diagnostics,
        });
        if let Some(home) = common::REPOSITORY {
            doc["source"]["url"] = json!(home);
        }
        serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
    }
}
