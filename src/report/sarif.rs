//! SARIF 2.1.0, for GitHub code scanning (`github/codeql-action/upload-sarif`).

use serde_json::{Value, json};

use super::common::{self, Context, Positions, Printer, Region};
use crate::diagnostic::Finding;
use crate::engine::Outcome;
use crate::rules::{self, RULES};

pub struct Sarif;

fn level(code: &str) -> &'static str {
    common::severity(code).as_str()
}

fn region(r: &Region) -> Value {
    json!({
        "startLine": r.start.line,
        "startColumn": r.start.column,
        "endLine": r.end.line,
        "endColumn": r.end.column,
        "charOffset": r.start.char_offset,
        "charLength": r.end.char_offset - r.start.char_offset,
    })
}

/// `uri` relative to the repository checkout when the lint root is below it, percent-encoded
/// (RFC 3986: `a b#c.rs` is `a%20b%23c.rs`, not `a b` with a fragment).
fn uri(prefix: Option<&str>, file: &str) -> String {
    match prefix {
        Some(p) => common::percent_encode_path(&format!("{p}/{file}")),
        None => common::percent_encode_path(file),
    }
}

fn location(uri: String, region: Value) -> Value {
    json!({
        "physicalLocation": {
            "artifactLocation": { "uri": uri, "uriBaseId": "%SRCROOT%" },
            "region": region,
        }
    })
}

fn rule_descriptor(r: &rules::RuleInfo) -> Value {
    let full = format!(
        "{} {}",
        r.summary,
        r.fix.map(|f| format!("Fix: {f}.")).unwrap_or_default()
    );
    let mut d = json!({
        "id": r.code.as_str(),
        "name": r.name,
        "shortDescription": { "text": r.summary },
        "fullDescription": { "text": full.trim_end() },
        "help": {
            "text": rules::explain(r),
            "markdown": format!("# {} ({})\n\n{}\n\n{}", r.code, r.name, r.summary, r.doc.trim()),
        },
        "defaultConfiguration": { "level": level(r.code.as_str()) },
        "properties": { "tags": ["ssot-lint"], "precision": "high" },
    });
    if let Some(uri) = common::rules_uri() {
        d["helpUri"] = json!(uri);
    }
    d
}

fn result(
    prefix: Option<&str>,
    at: &Positions,
    f: &Finding,
    fingerprint: &str,
    suppression: Option<&str>,
) -> Value {
    let r = at.finding(f);
    let rule_index = RULES.iter().position(|x| x.code == f.code);
    let mut message = f.message.clone();
    if let Some(h) = &f.help {
        message = format!("{message}\nhelp: {h}");
    }
    let mut v = json!({
        "ruleId": f.code,
        "level": level(f.code.as_str()),
        "message": { "text": message },
        "locations": [location(uri(prefix, &f.file), region(&r))],
        "partialFingerprints": { "ssotLint/v1": fingerprint },
    });
    if let Some(i) = rule_index {
        v["ruleIndex"] = json!(i);
    }
    if !f.related.is_empty() {
        let related: Vec<Value> = f
            .related
            .iter()
            .enumerate()
            .map(|(i, rl)| {
                let mut l = location(
                    uri(prefix, &rl.file),
                    json!({ "startLine": rl.line, "startColumn": rl.column }),
                );
                l["id"] = json!(i);
                l["message"] = json!({ "text": rl.message });
                l
            })
            .collect();
        v["relatedLocations"] = json!(related);
        if common::is_flow(f) {
            // The call chain, step by step, as one thread of execution.
            let steps: Vec<Value> = f
                .related
                .iter()
                .map(|rl| {
                    let mut l = location(
                        uri(prefix, &rl.file),
                        json!({ "startLine": rl.line, "startColumn": rl.column }),
                    );
                    l["message"] = json!({ "text": rl.message });
                    json!({ "location": l })
                })
                .collect();
            v["codeFlows"] = json!([{
                "message": { "text": f.message },
                "threadFlows": [{ "locations": steps }],
            }]);
        }
    }
    if let Some(fix) = &f.fix {
        let replacements: Vec<Value> = at
            .fix_edits(f, fix)
            .into_iter()
            .map(|(er, content)| {
                json!({
                    "deletedRegion": region(&er),
                    "insertedContent": { "text": content },
                })
            })
            .collect();
        v["fixes"] = json!([{
            "description": {
                "text": format!("{} ({} fix)", fix.title, common::applicability_str(fix.applicability)),
            },
            "artifactChanges": [{
                "artifactLocation": { "uri": uri(prefix, &f.file), "uriBaseId": "%SRCROOT%" },
                "replacements": replacements,
            }],
        }]);
    }
    if let Some(comment) = suppression {
        v["suppressions"] = json!([{
            "kind": "inSource",
            "status": "accepted",
            "justification": comment.trim(),
        }]);
    }
    v
}

impl Printer for Sarif {
    fn print(&self, outcome: &Outcome, ctx: &Context) -> String {
        let prefix = ctx.uri_prefix.as_deref();
        let rules: Vec<Value> = RULES.iter().map(rule_descriptor).collect();
        let mut results: Vec<Value> = Vec::new();
        let at = Positions::new(outcome);
        let ids = at.identities(&outcome.findings);
        for (f, id) in outcome.findings.iter().zip(&ids) {
            results.push(result(prefix, &at, f, &id.fingerprint(), None));
        }
        let sids = at.identities(&outcome.suppressed);
        for (f, id) in outcome.suppressed.iter().zip(&sids) {
            results.push(result(
                prefix,
                &at,
                f,
                &id.fingerprint(),
                f.suppressed.as_deref(),
            ));
        }
        let mut doc = json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {
                    "driver": {
                        "name": "ssot-lint",
                        "semanticVersion": common::VERSION,
                        "rules": rules,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": results,
            }],
        });
        if let Some(home) = common::REPOSITORY {
            doc["runs"][0]["tool"]["driver"]["informationUri"] = json!(home);
        }
        serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
    }
}
