//! Every output format on the incident fixture, snapshotted; the ones with a real client
//! (cargo_metadata, the SARIF Multitool, @actions/core) are checked against it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::write;

fn incident() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/incident")
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ssot-lint"))
        .current_dir(dir)
        .env("COLUMNS", "100")
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_SERVER_URL")
        .env_remove("GITHUB_REPOSITORY")
        .env_remove("GITHUB_SHA")
        .env_remove("GITHUB_WORKSPACE")
        .args(args)
        .output()
        .expect("run ssot-lint")
}

/// The incident's output in `format`, with its absolute root written `[ROOT]`.
fn format(format: &str) -> String {
    let o = run_in(&incident(), &["--format", format]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let root = incident().canonicalize().expect("canonical");
    String::from_utf8_lossy(&o.stdout).replace(&root.display().to_string(), "[ROOT]")
}

/// Rule documentation inside an output (SARIF's rule help, rustc's `explanation`) is checked
/// against the registry and then written as a placeholder, so that a change to a rule's
/// documentation does not change these snapshots.
fn docs_redacted(format_name: &str, out: &str) -> String {
    let explain =
        |code: &str| ssot_lint::rules::explain(ssot_lint::rules::lookup(code).expect("known rule"));
    match format_name {
        "sarif" => {
            let mut v: serde_json::Value = serde_json::from_str(out).expect("json");
            for r in v["runs"][0]["tool"]["driver"]["rules"]
                .as_array_mut()
                .expect("rules")
            {
                let code = r["id"].as_str().expect("id").to_string();
                let info = ssot_lint::rules::lookup(&code).expect("rule");
                assert_eq!(r["help"]["text"], explain(&code));
                assert_eq!(r["shortDescription"]["text"], info.summary);
                assert!(
                    r["help"]["markdown"]
                        .as_str()
                        .is_some_and(|m| m.contains(info.doc.trim()))
                );
                assert!(
                    r["fullDescription"]["text"]
                        .as_str()
                        .is_some_and(|m| m.starts_with(info.summary))
                );
                for (k, sub) in [
                    ("help", "text"),
                    ("help", "markdown"),
                    ("shortDescription", "text"),
                    ("fullDescription", "text"),
                ] {
                    r[k][sub] = serde_json::json!(format!("[{code} {k}.{sub}]"));
                }
            }
            serde_json::to_string_pretty(&v).expect("json") + "\n"
        }
        "rustc-json" => out
            .lines()
            .map(|l| {
                let mut v: serde_json::Value = serde_json::from_str(l).expect("json line");
                if let Some(code) = v["message"]["code"]["code"].as_str().map(str::to_string) {
                    assert_eq!(v["message"]["code"]["explanation"], explain(&code));
                    v["message"]["code"]["explanation"] =
                        serde_json::json!(format!("[explain {code}]"));
                }
                v.to_string() + "\n"
            })
            .collect(),
        _ => out.to_string(),
    }
}

macro_rules! snapshot_format {
    ($name:ident, $format:literal) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(docs_redacted($format, &format($format)));
        }
    };
}

snapshot_format!(incident_short, "short");
snapshot_format!(incident_json, "json");
snapshot_format!(incident_json_lines, "json-lines");
snapshot_format!(incident_sarif, "sarif");
snapshot_format!(incident_github, "github");
snapshot_format!(incident_rustc_json, "rustc-json");
snapshot_format!(incident_checkstyle, "checkstyle");
snapshot_format!(incident_junit, "junit");
snapshot_format!(incident_gitlab, "gitlab");
snapshot_format!(incident_rdjson, "rdjson");
snapshot_format!(incident_markdown, "markdown");

#[test]
fn incident_graph_mermaid_and_dot() {
    for g in ["mermaid", "dot"] {
        let o = run_in(&incident(), &["--graph", g]);
        assert_eq!(o.status.code(), Some(0));
        insta::assert_snapshot!(
            format!("incident_graph_{g}"),
            String::from_utf8_lossy(&o.stdout)
        );
    }
}

/// The README shows the incident's ownership graph as the tool draws it.
#[test]
fn readme_shows_the_incidents_graph() {
    let o = run_in(&incident(), &["--graph", "mermaid"]);
    let graph = String::from_utf8_lossy(&o.stdout).into_owned();
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README");
    assert!(
        readme.contains(&format!("```mermaid\n{graph}```")),
        "README lacks the incident graph:\n{graph}"
    );
}

fn json(format_name: &str) -> serde_json::Value {
    serde_json::from_str(&format(format_name)).expect("valid JSON")
}

/// The JSON schema's positions agree with the source text and with `short`.
#[test]
fn json_positions_point_at_the_flagged_code() {
    let v = json("json");
    assert_eq!(v["version"], 1);
    let findings = v["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), format("short").lines().count());
    for f in findings {
        let text = std::fs::read_to_string(incident().join(f["path"].as_str().expect("path")))
            .expect("source");
        let (a, b) = (
            f["byte_start"].as_u64().expect("start") as usize,
            f["byte_end"].as_u64().expect("end") as usize,
        );
        let line = text[..a].matches('\n').count() + 1;
        assert_eq!(f["line"].as_u64(), Some(line as u64));
        let end_line = text[..b].matches('\n').count() + 1;
        assert_eq!(f["end_line"].as_u64(), Some(end_line as u64));
        for fix in f["fixes"].as_array().expect("fixes") {
            assert!(
                ["safe", "unsafe", "display"]
                    .contains(&fix["applicability"].as_str().unwrap_or(""))
            );
        }
    }
    assert_eq!(
        v["summary"]["findings"].as_u64(),
        Some(findings.len() as u64)
    );
}

/// rust-analyzer reads `--message-format=json` with cargo_metadata: every finding comes
/// back with its code, level, span and (where it has one) a machine-applicable suggestion.
#[test]
fn rustc_json_round_trips_through_cargo_metadata() {
    use cargo_metadata::Message;
    let o = run_in(&incident(), &["--message-format=json"]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let short = format("short");
    let mut got = Vec::new();
    let mut finished = false;
    let mut suggestions = 0;
    for m in Message::parse_stream(out.as_bytes()) {
        match m.expect("a cargo message") {
            Message::CompilerMessage(cm) => {
                let d = &cm.message;
                let code = d.code.as_ref().expect("code").code.clone();
                let sp = d.spans.iter().find(|s| s.is_primary).expect("primary span");
                let text = std::fs::read_to_string(incident().join(&sp.file_name)).expect("src");
                // Byte offsets and 1-based character columns agree.
                let line_start = text[..sp.byte_start as usize]
                    .rfind('\n')
                    .map(|i| i + 1)
                    .unwrap_or(0);
                let col = text[line_start..sp.byte_start as usize].chars().count() + 1;
                assert_eq!(sp.column_start, col);
                for c in &d.children {
                    for s in &c.spans {
                        if let Some(r) = &s.suggested_replacement {
                            suggestions += 1;
                            assert!(s.suggestion_applicability.is_some(), "{r}");
                        }
                    }
                }
                assert!(d.rendered.as_deref().is_some_and(|r| r.contains(&code)));
                got.push(format!(
                    "{}:{}:{}: {} {}",
                    sp.file_name, sp.line_start, sp.column_start, code, d.message
                ));
            }
            Message::BuildFinished(b) => {
                assert!(!b.success);
                finished = true;
            }
            other => panic!("unexpected message {other:?}"),
        }
    }
    assert!(finished, "no build-finished");
    // cargo's other JSON spellings (rust-analyzer's default check command uses one).
    let ansi = run_in(
        &incident(),
        &["--message-format=json-diagnostic-rendered-ansi"],
    );
    assert_eq!(String::from_utf8_lossy(&ansi.stdout), out);
    assert_eq!(got.join("\n") + "\n", short);
    assert!(suggestions >= 6, "{suggestions} suggestions");
}

// ---------------------------------------------------------------------------------------
// External clients: run when installed (`.ci/run` installs them).

fn have(cmd: &str, arg: &str) -> bool {
    Command::new(cmd)
        .arg(arg)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A crate with a suppressed finding (SARIF `suppressions`) next to a reported one.
fn suppressed_crate() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nsqlx = \"0.8\"\n",
    );
    write(
        d.path(),
        "ssot-lint.toml",
        "[ssot]\nmodules = [\"app::db\"]\n",
    );
    write(d.path(), "src/lib.rs", "pub mod db;\npub mod tools;\n");
    write(
        d.path(),
        "src/db.rs",
        "pub fn pool() -> sqlx::PgPool { sqlx::PgPool::connect_lazy(\"x\").unwrap() }\n",
    );
    write(
        d.path(),
        "src/tools.rs",
        "pub fn a() {\n    // ssot-lint: allow(SSOT001) the migration tool owns its pool\n    let _p = sqlx::PgPool::connect_lazy(\"x\");\n    let _q = sqlx::PgPool::connect_lazy(\"y\");\n}\n",
    );
    d
}

#[test]
fn sarif_lists_comment_suppressed_findings_as_suppressed() {
    let d = suppressed_crate();
    let o = run_in(d.path(), &["--format", "sarif"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let results = v["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 2, "{results:#?}");
    let sup: Vec<&serde_json::Value> = results
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(sup.len(), 1);
    assert_eq!(
        sup[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        3
    );
    assert_eq!(sup[0]["suppressions"][0]["kind"], "inSource");
    assert_eq!(
        sup[0]["suppressions"][0]["justification"],
        "// ssot-lint: allow(SSOT001) the migration tool owns its pool"
    );
    // The other formats report the unsuppressed finding only.
    let o = run_in(d.path(), &["--format", "short"]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "src/tools.rs:4:14: SSOT001 `sqlx::PgPool::connect_lazy` builds a sql pool/client outside the SSOT module `app::db`\n"
    );
}

/// Runs Microsoft's SARIF Multitool with GitHub's ingestion rules; returns its findings.
fn multitool(sarif: &str) -> Vec<String> {
    let d = tempfile::tempdir().expect("tempdir");
    let input = d.path().join("out.sarif");
    let output = d.path().join("validation.sarif");
    std::fs::write(&input, sarif).expect("write");
    // The npm wrapper runs the tool through a shell: the `;` needs quotes inside the arg.
    let o = Command::new("sarif-multitool")
        .arg("validate")
        .arg(&input)
        .args([
            "--rule-kind",
            "'Gh;Sarif'",
            "--level",
            "'Error;Warning'",
            "-o",
        ])
        .arg(&output)
        .output()
        .expect("sarif-multitool");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&output).expect("validation output"))
            .expect("json");
    let mut problems: Vec<String> = v["runs"][0]["results"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|r| format!("{} {} {}", r["ruleId"], r["level"], r["message"]))
        // SARIF2005 recommends the tool's `informationUri`: the project has no address yet
        // (Cargo.toml's `repository`), and links to none (issue 22, defect 7).
        .filter(|p| {
            ssot_lint::report::common::REPOSITORY.is_some()
                || !p.contains("Warning_ProvideToolnformationUri")
        })
        .collect();
    // Tool notifications (a rule that crashed, an unreadable file) are failures too.
    for inv in v["runs"][0]["invocations"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        for n in inv["toolExecutionNotifications"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            if n["level"] == "error" || n["level"] == "warning" {
                problems.push(format!("notification {}", n["message"]));
            }
        }
    }
    problems
}

#[test]
fn sarif_passes_the_multitool_with_github_rules() {
    if !have("sarif-multitool", "--version") {
        assert!(
            std::env::var_os("SSOT_REQUIRE_CLIENTS").is_none(),
            "sarif-multitool is not installed"
        );
        eprintln!(
            "sarif-multitool not installed (npm install -g @microsoft/sarif-multitool): skipped"
        );
        return;
    }
    assert_eq!(multitool(&format("sarif")), Vec::<String>::new());
    let d = suppressed_crate();
    let o = run_in(d.path(), &["--format", "sarif"]);
    assert_eq!(
        multitool(&String::from_utf8_lossy(&o.stdout)),
        Vec::<String>::new()
    );
    // The check can fail: a result without a location breaks GitHub's rules.
    let mut v: serde_json::Value = serde_json::from_str(&format("sarif")).expect("json");
    v["runs"][0]["results"][0]
        .as_object_mut()
        .expect("result")
        .remove("locations");
    assert!(!multitool(&v.to_string()).is_empty());
}

/// reviewdog's format, checked by `@umbrelladocs/rdformat-validator` (strict, no fields
/// outside the specification) when it is installed next to @actions/core (see github.rs).
#[test]
fn rdjson_passes_the_rdformat_validator() {
    let modules = std::env::var_os("SSOT_NODE_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/npm/node_modules"));
    let validator = modules.join(".bin/rdformat-validator");
    if !validator.is_file() {
        assert!(
            std::env::var_os("SSOT_REQUIRE_CLIENTS").is_none(),
            "rdformat-validator is not installed"
        );
        eprintln!("@umbrelladocs/rdformat-validator not installed: skipped");
        return;
    }
    let d = tempfile::tempdir().expect("tempdir");
    let validate = |text: &str| {
        let f = d.path().join("out.json");
        std::fs::write(&f, text).expect("write");
        Command::new(&validator)
            .args(["--strict", "--no-extra-fields"])
            .arg(&f)
            .output()
            .expect("rdformat-validator")
    };
    let o = validate(&format("rdjson"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    // It can fail: a message that is not a string.
    let o = validate("{\"diagnostics\": [{\"message\": 1}]}");
    assert!(!o.status.success());
}

/// A crate whose flagged line follows non-ASCII text (an em dash, an accent, CJK, and a byte
/// order mark when `bom`), with an accessor so that SSOT001 carries a fix.
fn non_ascii_crate(bom: bool) -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nsqlx = \"0.8\"\n",
    );
    write(
        d.path(),
        "ssot-lint.toml",
        "[ssot]\nmodules = [\"app::db\"]\n[accessor]\nsql = \"crate::db::pool()\"\n",
    );
    write(d.path(), "src/lib.rs", "pub mod db;\npub mod h;\n");
    write(
        d.path(),
        "src/db.rs",
        "pub fn pool() -> sqlx::PgPool { sqlx::PgPool::connect_lazy(\"x\").unwrap() }\n",
    );
    let bom = if bom { "\u{feff}" } else { "" };
    write(
        d.path(),
        "src/h.rs",
        &format!(
            "{bom}// Handlers — café, 数据 «ü»\npub fn a() {{\n    let _p = sqlx::PgPool::connect_lazy(\"é—\"); // ✓\n}}\n"
        ),
    );
    d
}

/// SARIF declares `columnKind: unicodeCodePoints`, so `charOffset`/`charLength` (of results
/// and of fixes) count code points, not bytes: the characters they cover are the flagged
/// code, and a byte order mark is no character (as the Multitool reads the file).
#[test]
fn sarif_char_offsets_count_code_points() {
    for bom in [false, true] {
        let d = non_ascii_crate(bom);
        let o = run_in(d.path(), &["--format", "sarif"]);
        assert_eq!(o.status.code(), Some(1));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
        let text = std::fs::read_to_string(d.path().join("src/h.rs")).expect("read");
        let chars: Vec<char> = text.trim_start_matches('\u{feff}').chars().collect();
        let covered = |region: &serde_json::Value| -> String {
            let at = region["charOffset"].as_u64().expect("charOffset") as usize;
            let n = region["charLength"].as_u64().expect("charLength") as usize;
            chars[at..at + n].iter().collect()
        };
        let result = &v["runs"][0]["results"][0];
        assert_eq!(
            covered(&result["locations"][0]["physicalLocation"]["region"]),
            "sqlx::PgPool::connect_lazy"
        );
        let deleted = &result["fixes"][0]["artifactChanges"][0]["replacements"][0]["deletedRegion"];
        assert_eq!(covered(deleted), "sqlx::PgPool::connect_lazy(\"é—\")");
    }
}

/// The same log through the Multitool's `rewrite --insert RegionSnippets`, which recomputes
/// every region from the file and rejects a log whose offsets disagree with it.
#[test]
fn sarif_regions_pass_the_multitool_region_snippets_on_non_ascii_text() {
    if !have("sarif-multitool", "--version") {
        assert!(
            std::env::var_os("SSOT_REQUIRE_CLIENTS").is_none(),
            "sarif-multitool is not installed"
        );
        eprintln!("sarif-multitool not installed: skipped");
        return;
    }
    for bom in [false, true] {
        let d = non_ascii_crate(bom);
        let o = run_in(d.path(), &["--format", "sarif"]);
        assert_eq!(o.status.code(), Some(1));
        std::fs::write(d.path().join("in.sarif"), &o.stdout).expect("write");
        // URIs are relative: the Multitool resolves them from its working directory.
        let rw = Command::new("sarif-multitool")
            .current_dir(d.path())
            .args([
                "rewrite",
                "in.sarif",
                "--insert",
                "RegionSnippets",
                "--log",
                "ForceOverwrite",
                "-o",
                "out.sarif",
            ])
            .output()
            .expect("sarif-multitool");
        assert!(
            rw.status.success(),
            "{}{}",
            String::from_utf8_lossy(&rw.stdout),
            String::from_utf8_lossy(&rw.stderr)
        );
        let v: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(d.path().join("out.sarif")).expect("rewritten log"),
        )
        .expect("json");
        assert_eq!(
            v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["snippet"]["text"],
            "sqlx::PgPool::connect_lazy"
        );
    }
}

/// The common JUnit schema (`junit-10.xsd`, as Jenkins and pytest use it): `.ci/run` takes
/// it from pytest's source distribution into `target/junit-schema/`; `SSOT_JUNIT_XSD` names
/// another copy.
fn junit_schema() -> Option<PathBuf> {
    let xsd = std::env::var_os("SSOT_JUNIT_XSD")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/junit-schema/junit-10.xsd")
        });
    if xsd.is_file() && have("xmllint", "--version") {
        return Some(xsd);
    }
    assert!(
        std::env::var_os("SSOT_REQUIRE_CLIENTS").is_none(),
        "xmllint or {} is missing",
        xsd.display()
    );
    eprintln!("xmllint or the JUnit schema is not installed (see .ci/run): skipped");
    None
}

/// `xmllint --schema`'s verdict on a document: its error lines, empty when valid.
fn xmllint_schema(xsd: &Path, document: &str) -> String {
    let d = tempfile::tempdir().expect("tempdir");
    let f = d.path().join("out.xml");
    std::fs::write(&f, document).expect("write");
    let o = Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(xsd)
        .arg(&f)
        .output()
        .expect("xmllint");
    if o.status.success() {
        String::new()
    } else {
        String::from_utf8_lossy(&o.stderr).into_owned()
    }
}

#[test]
fn junit_is_valid_against_the_junit_10_schema() {
    let Some(xsd) = junit_schema() else { return };
    assert_eq!(xmllint_schema(&xsd, &format("junit")), "");
    // A clean run, and a run whose file names need escaping.
    let clean = tempfile::tempdir().expect("tempdir");
    write(
        clean.path(),
        "Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    write(clean.path(), "src/lib.rs", "pub fn f() {}\n");
    let o = run_in(clean.path(), &["--format", "junit"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        xmllint_schema(&xsd, &String::from_utf8_lossy(&o.stdout)),
        ""
    );
    let d = non_ascii_crate(false);
    let o = run_in(d.path(), &["--format", "junit"]);
    assert_eq!(
        xmllint_schema(&xsd, &String::from_utf8_lossy(&o.stdout)),
        ""
    );
    // The check can fail: a line attribute on a test case is outside the schema.
    let bad = format("junit").replacen("classname=", "line=\"4\" classname=", 1);
    assert!(xmllint_schema(&xsd, &bad).contains("line"), "{bad}");
}

/// Issue 22, defect 7: the project's address is set in one place, Cargo.toml's `repository`,
/// and it has none yet: no output links to an address (SARIF carries each rule's whole
/// documentation; rdjson and the summary name the codes), and the README's `uses:`/`repo:`
/// examples are marked placeholders, not an address that does not exist.
#[test]
fn no_output_links_to_an_address_the_project_does_not_have() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let toml: toml::Table = std::fs::read_to_string(&manifest)
        .expect("Cargo.toml")
        .parse()
        .expect("toml");
    let repository = toml["package"].get("repository").and_then(|r| r.as_str());
    assert_eq!(repository, ssot_lint::report::common::REPOSITORY);
    if repository.is_none() {
        for f in ["sarif", "rdjson", "markdown"] {
            let out = format(f);
            for url in out.split("https://").skip(1) {
                assert!(
                    url.starts_with("json.schemastore.org/"),
                    "{f}: https://{url}"
                );
            }
        }
        let sarif: serde_json::Value = serde_json::from_str(&format("sarif")).expect("json");
        let driver = &sarif["runs"][0]["tool"]["driver"];
        assert!(driver.get("informationUri").is_none());
        assert!(driver["rules"][0].get("helpUri").is_none());
        let o = run_in(&incident(), &["--explain", "SSOT001", "--format", "json"]);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
        assert!(v["url"].is_null());
    }
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README");
    assert!(
        !readme.contains("github.com/ssot-lint"),
        "README links to no address"
    );
    assert!(readme.contains("uses: OWNER/ssot-lint@REF   # placeholder"));
    assert!(readme.contains("repo: <URL of your copy of this repository>   # placeholder"));
}
