//! GitLab Code Quality: an array of issues with a fingerprint each.

use serde_json::{Value, json};

use super::common::{self, Context, Positions, Printer, Severity};
use crate::engine::Outcome;

pub struct Gitlab;

impl Printer for Gitlab {
    fn print(&self, outcome: &Outcome, _: &Context) -> String {
        let at = Positions::new(outcome);
        let ids = at.identities(&outcome.findings);
        let issues: Vec<Value> = outcome
            .findings
            .iter()
            .zip(&ids)
            .map(|(f, id)| {
                let r = at.finding(f);
                json!({
                    "type": "issue",
                    "check_name": f.code,
                    "description": format!("{} {}: {}", f.code, f.name, f.message),
                    "categories": ["Bug Risk"],
                    "severity": match common::severity(f.code) {
                        Severity::Error => "major",
                        Severity::Warning => "minor",
                    },
                    "fingerprint": id.fingerprint(),
                    "location": {
                        "path": f.file,
                        "positions": {
                            "begin": { "line": r.start.line, "column": r.start.column },
                            "end": { "line": r.end.line, "column": r.end.column },
                        },
                    },
                })
            })
            .collect();
        serde_json::to_string_pretty(&issues).unwrap_or_default() + "\n"
    }
}
