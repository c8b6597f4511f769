//! The prefilter never changes findings: every fixture gives the same output (stdout and
//! exit status) with the prefilter (the default) and with `--no-prefilter` (every file
//! parsed), and neither run reports a disagreement between the lexer's module structure and
//! the parser's.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn cases(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            if p.join("expected.short").is_file() {
                out.push(p.clone());
            }
            if p.file_name().is_some_and(|n| n != "src" && n != "target") {
                cases(&p, out);
            }
        }
    }
}

fn run(case: &Path, extra: &[&str]) -> (String, String, Option<i32>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ssot-lint"));
    cmd.current_dir(case)
        .arg("--format")
        .arg("short")
        .args(extra);
    if let Ok(args) = std::fs::read_to_string(case.join("args")) {
        cmd.args(
            args.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#')),
        );
    }
    let out = cmd.output().expect("run ssot-lint");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

#[test]
fn every_fixture_is_the_same_without_the_prefilter() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut list = Vec::new();
    cases(&root, &mut list);
    assert!(list.len() > 20, "fixture cases found: {}", list.len());
    let mut failures = Vec::new();
    for case in &list {
        let with = run(case, &[]);
        let without = run(case, &["--no-prefilter"]);
        if with.0 != without.0 || with.2 != without.2 {
            failures.push(format!(
                "== {}\n-- with the prefilter ({:?}):\n{}\n-- without ({:?}):\n{}",
                case.display(),
                with.2,
                with.0,
                without.2,
                without.0
            ));
        }
        for err in [&with.1, &without.1] {
            if err.contains("internal:") {
                failures.push(format!("== {}\n{}", case.display(), err));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        list.len(),
        failures.join("\n")
    );
}

/// SSOT000 in a file that cannot lead to a pool or client (it is only lexed): what the lexer
/// sees is reported (an invalid token or literal, unbalanced brackets), a pure grammar error
/// is not; in a file that can matter, the grammar error is reported. `--no-prefilter` prints
/// the same.
#[test]
fn syntax_errors_of_files_that_cannot_matter_are_the_lexical_ones() {
    let d = tempfile::tempdir().expect("tempdir");
    let dir = d.path();
    common::write(
        dir,
        "Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nsqlx = \"0.8\"\n",
    );
    common::write(
        dir,
        "src/lib.rs",
        "pub mod brackets;\npub mod grammar;\npub mod grammar_pool;\npub mod literal;\npub mod token;\n",
    );
    common::write(dir, "src/grammar.rs", "pub fn f() { let = 1; }\n");
    common::write(
        dir,
        "src/grammar_pool.rs",
        "pub fn g(url: &str) { let = 1; let _ = sqlx::PgPool::connect_lazy(url); }\n",
    );
    common::write(dir, "src/brackets.rs", "pub fn f() { let _x = (1; }\n");
    common::write(dir, "src/token.rs", "pub fn f() { let _x = 1 ` 2; }\n");
    common::write(
        dir,
        "src/literal.rs",
        "pub fn f() -> &'static str { \"abc }\n",
    );
    let lines = |args: &[&str]| -> Vec<String> {
        let o = common::run(dir, args);
        common::stdout(&o)
            .lines()
            .filter(|l| l.contains("SSOT000"))
            .map(str::to_string)
            .collect()
    };
    let with = lines(&["--format", "short"]);
    assert_eq!(
        with,
        [
            "src/brackets.rs:1:25: SSOT000 syntax error: expected COMMA (and 3 more)",
            "src/grammar_pool.rs:1:26: SSOT000 syntax error: expected pattern",
            "src/literal.rs:2:1: SSOT000 syntax error: expected SEMICOLON (and 2 more)",
            "src/token.rs:1:24: SSOT000 syntax error: expected SEMICOLON (and 1 more)",
        ],
        "{with:#?}"
    );
    assert_eq!(with, lines(&["--format", "short", "--no-prefilter"]));
}

/// A generic pool's manager reached through a chain of glob re-exports in files that name no
/// pack: each build of the graph finds one more file the model needs (Model::needs_parse).
/// The engine builds it at most four times (the fourth parses every file), and the output is
/// the same as without the prefilter.
#[test]
fn a_chain_of_files_the_model_asks_for_is_built_a_bounded_number_of_times() {
    let d = tempfile::tempdir().expect("tempdir");
    let dir = d.path();
    common::write(
        dir,
        "Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nr2d2 = \"0.8\"\n",
    );
    common::write(dir, "ssot-lint.toml", "[ssot]\nmodules = [\"app::db\"]\n");
    let n = 12;
    let mut lib = String::from("pub mod db;\npub mod pools;\n");
    for i in 0..n {
        lib.push_str(&format!("pub mod m{i};\n"));
        let body = if i + 1 < n {
            format!("pub use crate::m{}::*;\n", i + 1)
        } else {
            "pub struct Manager {\n    pub dir: std::path::PathBuf,\n}\n".to_string()
        };
        common::write(dir, &format!("src/m{i}.rs"), &body);
    }
    common::write(dir, "src/lib.rs", &lib);
    common::write(
        dir,
        "src/db.rs",
        "pub fn url() -> &'static str {\n    \"x\"\n}\n",
    );
    common::write(
        dir,
        "src/pools.rs",
        "pub fn make(m: crate::m0::Manager) {\n    let _p = r2d2::Pool::builder().build(m);\n}\n",
    );
    let with = common::run(dir, &["--no-cache", "--format", "short"]);
    let without = common::run(dir, &["--no-cache", "--format", "short", "--no-prefilter"]);
    assert_eq!(common::stdout(&with), common::stdout(&without));
    assert_eq!(with.status.code(), without.status.code());
    let stats = std::process::Command::new(env!("CARGO_BIN_EXE_ssot-lint"))
        .current_dir(dir)
        .args(["--no-cache", "--format", "short"])
        .env("SSOT_PREFILTER_STATS", "1")
        .output()
        .expect("run ssot-lint");
    let builds = common::stderr(&stats)
        .lines()
        .filter(|l| l.starts_with("prefilter: "))
        .count();
    assert!((2..=4).contains(&builds), "{builds} builds");
}
