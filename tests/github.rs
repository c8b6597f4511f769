//! `--format github` against GitHub's own toolkit: the same annotations emitted through
//! `@actions/core` (`core.error(message, properties)`) must be the same bytes. Runs when
//! node and @actions/core are installed (`.ci/run` installs them under target/npm, or set
//! `SSOT_NODE_MODULES` to a node_modules directory holding @actions/core).

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::{run, write};

/// Findings whose messages hold `%`, `,`, `:` and a newline, a file name holding them too,
/// a range over two lines, and a warning next to the errors.
fn tricky_crate() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nsqlx = \"0.8\"\nredis = \"0.27\"\n",
    );
    write(
        d.path(),
        "ssot-lint.toml",
        "[ssot]\nsql = [\"app::database\"]\n",
    );
    write(
        d.path(),
        "src/lib.rs",
        "pub mod database;\npub mod handlers;\n",
    );
    write(
        d.path(),
        "src/database.rs",
        "static POOL: std::sync::OnceLock<sqlx::PgPool> = std::sync::OnceLock::new();\n\npub fn pool() -> &'static sqlx::PgPool {\n    POOL.get()\n        .expect(\"call init() first\")\n}\n\npub fn init() {\n    let _ = POOL.set(sqlx::PgPool::connect_lazy(\"x\").unwrap());\n}\n\npub fn cache() -> redis::Client { redis::Client::open(\"redis://x\").unwrap() }\n",
    );
    write(
        d.path(),
        "src/handlers.rs",
        "pub fn handle() {\n    let _p = sqlx::postgres::PgPoolOptions::new()\n        .max_connections(5)\n        .connect_lazy(\"x\");\n}\n",
    );
    write(
        d.path(),
        "src/cache%v2,old:x.rs",
        "// ssot-lint: allow(SSOT003) 100%, no: really\npub fn c() { let _c = redis::Client::open(\"redis://y\"); }\n",
    );
    d
}

fn importance(code: &str) -> usize {
    [
        "SSOT004", "SSOT005", "SSOT006", "SSOT001", "SSOT002", "SSOT003", "SSOT000",
    ]
    .iter()
    .position(|c| *c == code)
    .unwrap_or(7)
}

fn node_modules() -> Option<PathBuf> {
    let dir = std::env::var_os("SSOT_NODE_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/npm/node_modules"));
    dir.join("@actions/core/package.json")
        .is_file()
        .then_some(dir)
}

/// What `@actions/core` prints for these annotations (kind, message, properties).
fn through_actions_core(modules: &Path, items: &serde_json::Value) -> String {
    let d = tempfile::tempdir().expect("tempdir");
    let input = d.path().join("items.json");
    std::fs::write(&input, items.to_string()).expect("write");
    let script = "const core = require('@actions/core');\n\
        const items = JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8'));\n\
        for (const it of items) core[it.kind](it.message, it.properties);\n";
    let o = Command::new("node")
        .env("NODE_PATH", modules)
        .arg("-e")
        .arg(script)
        .arg(&input)
        .output()
        .expect("node");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).expect("utf-8")
}

/// The annotations our JSON says there are, in the order `--format github` promises:
/// errors before warnings, the most important rules first.
fn expected_items(json: &serde_json::Value) -> serde_json::Value {
    let mut findings: Vec<serde_json::Value> =
        json["findings"].as_array().expect("findings").clone();
    findings.sort_by_key(|f| {
        (
            f["severity"] != "error",
            importance(f["code"].as_str().unwrap_or("")),
        )
    });
    let items: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            let mut message = f["message"].as_str().expect("message").to_string();
            if let Some(h) = f["help"].as_str() {
                message = format!("{message}\nhelp: {h}");
            }
            serde_json::json!({
                "kind": f["severity"],
                "message": message,
                "properties": {
                    "title": format!("{} {}", f["code"].as_str().unwrap_or(""), f["name"].as_str().unwrap_or("")),
                    "file": f["path"],
                    "startLine": f["line"],
                    "endLine": f["end_line"],
                    "startColumn": f["column"],
                    "endColumn": f["end_column"],
                },
            })
        })
        .collect();
    serde_json::Value::Array(items)
}

#[test]
fn github_annotations_are_byte_identical_to_actions_core() {
    let d = tricky_crate();
    let ours = String::from_utf8(run(d.path(), &["--format", "github"]).stdout).expect("utf-8");
    // What the case must exercise.
    assert!(ours.contains("%25") && ours.contains("%0A"), "{ours}");
    assert!(ours.contains("file=src/cache%25v2%2Cold%3Ax.rs"), "{ours}");
    assert!(ours.contains("line=4,endLine=5,"), "{ours}");
    assert!(ours.contains("::warning "), "{ours}");
    let Some(modules) = node_modules() else {
        assert!(
            std::env::var_os("SSOT_REQUIRE_CLIENTS").is_none(),
            "@actions/core is not installed"
        );
        eprintln!("@actions/core not installed (see the module doc): comparison skipped");
        return;
    };
    let json: serde_json::Value =
        serde_json::from_slice(&run(d.path(), &["--format", "json"]).stdout).expect("json");
    let theirs = through_actions_core(&modules, &expected_items(&json));
    assert_eq!(ours, theirs);
}

/// GitHub shows 10 annotations of a kind per step: the rest are summed up in a notice,
/// written the way `core.notice` writes it.
#[test]
fn github_annotations_stop_at_ten_per_kind_with_a_notice() {
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
    write(d.path(), "src/lib.rs", "pub mod db;\npub mod a;\n");
    write(
        d.path(),
        "src/db.rs",
        "pub fn pool() -> sqlx::PgPool { sqlx::PgPool::connect_lazy(\"x\").unwrap() }\n",
    );
    let mut a = String::from("pub fn f() {\n");
    for i in 0..12 {
        a.push_str(&format!(
            "    let _p{i} = sqlx::PgPool::connect_lazy(\"x\");\n"
        ));
    }
    a.push_str("}\n// ssot-lint: allow(SSOT001) stale\n");
    write(d.path(), "src/a.rs", &a);
    let o = run(d.path(), &["--format", "github"]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8(o.stdout).expect("utf-8");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("::error ")).count(),
        10
    );
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("::warning ")).count(),
        1
    );
    // The first ten in order, then the notice, last.
    assert!(lines[0].contains("line=2,"), "{out}");
    assert!(lines[9].contains("line=11,"), "{out}");
    let notice = lines.last().expect("notice");
    assert!(
        notice.starts_with("::notice title=ssot-lint::13 findings, 11 shown"),
        "{out}"
    );
    if let Some(modules) = node_modules() {
        let msg = notice
            .split_once("::")
            .and_then(|(_, r)| r.split_once("::"))
            .expect("cmd")
            .1;
        let items = serde_json::json!([{ "kind": "notice", "message": msg, "properties": { "title": "ssot-lint" } }]);
        assert_eq!(
            format!("{notice}\n"),
            through_actions_core(&modules, &items)
        );
    }
}

/// Issue 22, defect 2: with the action's `working-directory` in a subfolder of the checkout,
/// annotations name files relative to the repository root (`GITHUB_WORKSPACE`), as the
/// SARIF URIs and the summary's links do; GitHub resolves `file=` from there.
#[test]
fn annotation_paths_are_relative_to_the_repository_root() {
    let repo = tempfile::tempdir().expect("tempdir");
    let svc = repo.path().join("services/api");
    let crate_dir = tricky_crate();
    for f in [
        "Cargo.toml",
        "ssot-lint.toml",
        "src/lib.rs",
        "src/database.rs",
        "src/handlers.rs",
    ] {
        let text = std::fs::read_to_string(crate_dir.path().join(f)).expect("read");
        write(&svc, f, &text);
    }
    let o = Command::new(env!("CARGO_BIN_EXE_ssot-lint"))
        .current_dir(&svc)
        .args(["--format", "github", "--output", "sarif=out.sarif"])
        .env("GITHUB_WORKSPACE", repo.path())
        .env("GITHUB_SERVER_URL", "https://github.example")
        .env("GITHUB_REPOSITORY", "o/r")
        .env("GITHUB_SHA", "abc")
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    let files: Vec<&str> = out
        .lines()
        .filter_map(|l| l.split(",file=").nth(1))
        .map(|rest| rest.split(',').next().unwrap_or(""))
        .collect();
    assert!(!files.is_empty(), "{out}");
    assert!(
        files.iter().all(|f| f.starts_with("services/api/src/")),
        "{files:?}"
    );
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(svc.join("out.sarif")).expect("sarif"))
            .expect("json");
    assert_eq!(
        sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
            ["uri"]
            .as_str()
            .map(|u| u.starts_with("services/api/src/")),
        Some(true)
    );
    // Without GITHUB_WORKSPACE, relative to the lint root.
    let o = run(&svc, &["--format", "github"]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(",file=src/"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}
