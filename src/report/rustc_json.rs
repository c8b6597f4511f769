//! cargo's `--message-format=json`: one `compiler-message` per finding (rustc's diagnostic
//! schema), then `build-finished`. rust-analyzer's `check.overrideCommand` reads it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::common::{self, Context, Positions, Printer, Region};
use crate::diagnostic::{Applicability, Finding};
use crate::engine::Outcome;

pub struct RustcJson;

/// The package a file belongs to: its manifest, `path+file://` id and name.
#[derive(Clone)]
struct Pkg {
    manifest: PathBuf,
    id: String,
    name: String,
    edition: String,
}

fn package_of(file: &Path, root: &Path) -> Option<Pkg> {
    let mut dir = file.parent();
    while let Some(d) = dir {
        let m = d.join("Cargo.toml");
        if m.is_file()
            && let Ok(text) = std::fs::read_to_string(&m)
            && let Ok(t) = text.parse::<toml::Table>()
            && let Some(p) = t.get("package").and_then(|p| p.as_table())
        {
            let name = p.get("name").and_then(|n| n.as_str()).unwrap_or("unknown");
            let version = p.get("version").and_then(|n| n.as_str()).unwrap_or("0.0.0");
            let edition = p.get("edition").and_then(|n| n.as_str()).unwrap_or("2015");
            return Some(Pkg {
                manifest: m.clone(),
                id: format!("path+file://{}#{name}@{version}", d.display()),
                name: name.to_string(),
                edition: edition.to_string(),
            });
        }
        if d == root {
            break;
        }
        dir = d.parent();
    }
    None
}

fn applicability(a: Applicability) -> &'static str {
    match a {
        Applicability::Safe => "MachineApplicable",
        Applicability::Unsafe => "MaybeIncorrect",
        Applicability::Display => "HasPlaceholders",
    }
}

/// A rustc span: byte offsets, 1-based lines and character columns, the lines' text.
fn span(
    at: &Positions,
    file: &str,
    r: &Region,
    primary: bool,
    label: Option<&str>,
    replacement: Option<(&str, Applicability)>,
) -> Value {
    let lines: Vec<Value> = (r.start.line..=r.end.line.max(r.start.line))
        .map(|n| {
            let l = at.line(file, n);
            let hs = if n == r.start.line { r.start.column } else { 1 };
            let he = if n == r.end.line {
                r.end.column
            } else {
                l.chars().count() as u32 + 1
            };
            json!({ "text": l, "highlight_start": hs, "highlight_end": he })
        })
        .collect();
    json!({
        "file_name": file,
        "byte_start": r.start.offset,
        "byte_end": r.end.offset,
        "line_start": r.start.line,
        "line_end": r.end.line,
        "column_start": r.start.column,
        "column_end": r.end.column,
        "is_primary": primary,
        "text": lines,
        "label": label,
        "suggested_replacement": replacement.map(|x| x.0),
        "suggestion_applicability": replacement.map(|x| applicability(x.1)),
        "expansion": null,
    })
}

fn diagnostic(at: &Positions, f: &Finding) -> Value {
    let r = at.finding(f);
    let level = common::severity(f.code).as_str();
    let mut children: Vec<Value> = Vec::new();
    for rel in &f.related {
        children.push(json!({
            "message": format!("{}:{}:{}: {}", rel.file, rel.line, rel.column, rel.message),
            "code": null, "level": "note", "spans": [], "children": [], "rendered": null,
        }));
    }
    if let Some(h) = &f.help {
        children.push(json!({
            "message": h, "code": null, "level": "help", "spans": [], "children": [], "rendered": null,
        }));
    }
    if let Some(fix) = &f.fix {
        let spans: Vec<Value> = at
            .fix_edits(f, fix)
            .iter()
            .map(|(er, content)| {
                span(
                    at,
                    &f.file,
                    er,
                    true,
                    None,
                    Some((content, fix.applicability)),
                )
            })
            .collect();
        children.push(json!({
            "message": fix.title, "code": null, "level": "help", "spans": spans,
            "children": [], "rendered": null,
        }));
    }
    let mut rendered = format!(
        "{level}[{}]: {}\n  --> {}:{}:{}\n",
        f.code, f.message, f.file, r.start.line, r.start.column
    );
    for rel in &f.related {
        rendered.push_str(&format!(
            "  = note: {}:{}:{}: {}\n",
            rel.file, rel.line, rel.column, rel.message
        ));
    }
    if let Some(h) = &f.help {
        rendered.push_str(&format!("  = help: {h}\n"));
    }
    if let Some(fix) = &f.fix {
        rendered.push_str(&format!("  = help: {}\n", fix.title));
    }
    json!({
        "$message_type": "diagnostic",
        "message": f.message,
        "code": { "code": f.code, "explanation": crate::rules::lookup(f.code.as_str()).map(crate::rules::explain) },
        "level": level,
        "spans": [span(at, &f.file, &r, true, None, None)],
        "children": children,
        "rendered": rendered,
    })
}

impl Printer for RustcJson {
    fn print(&self, outcome: &Outcome, _: &Context) -> String {
        let mut pkgs: BTreeMap<String, Option<Pkg>> = BTreeMap::new();
        let mut out = String::new();
        let at = Positions::new(outcome);
        let unknown = Pkg {
            manifest: outcome.root.join("Cargo.toml"),
            id: format!("path+file://{}#unknown@0.0.0", outcome.root.display()),
            name: "unknown".into(),
            edition: "2021".into(),
        };
        for f in &outcome.findings {
            let pkg = pkgs
                .entry(f.file.clone())
                .or_insert_with(|| {
                    outcome
                        .abs_paths
                        .get(&f.file)
                        .and_then(|p| package_of(p, &outcome.root))
                })
                .clone()
                .unwrap_or_else(|| unknown.clone());
            let src = pkg
                .manifest
                .parent()
                .map(|d| d.join("src/lib.rs"))
                .unwrap_or_default();
            let msg = json!({
                "reason": "compiler-message",
                "package_id": pkg.id,
                "manifest_path": pkg.manifest,
                "target": {
                    "kind": ["lib"],
                    "crate_types": ["lib"],
                    "name": pkg.name.replace('-', "_"),
                    "src_path": src,
                    "edition": pkg.edition,
                    "doc": true,
                    "doctest": true,
                    "test": true,
                },
                "message": diagnostic(&at, f),
            });
            out.push_str(&msg.to_string());
            out.push('\n');
        }
        out.push_str(
            &json!({ "reason": "build-finished", "success": outcome.findings.is_empty() })
                .to_string(),
        );
        out.push('\n');
        out
    }
}
