//! The fixture crates compiled and run: the proof that the tool's fixes remove the outage,
//! not only its findings.
//!
//! - `the_fix_removes_the_outage`: `fixtures/incident`'s start-up (its `main`: the start-up
//!   sequence of the incident report, then agent requests) runs over a temporary SQLite
//!   file and fails with `DatabaseManager not initialized` before any request is answered;
//!   a copy fixed by `ssot-lint --fix --unsafe-fixes` has no finding left, builds, and
//!   answers every request.
//! - `fixture_crates_compile`: every fixture crate with a committed `Cargo.lock` builds, and
//!   so does its `fixed/` tree (and `fixtures/incident.fixed`).
//!
//! Cargo builds them offline (`--offline --locked`: `.ci/run` fetches their dependencies
//! first, `cargo fetch --locked --manifest-path <crate>/Cargo.toml` does it by hand) into
//! one shared target directory, `target/fixtures`, so sqlx and tokio compile once. Each tree
//! is built from a fresh copy in a temporary directory: two trees of one package name share
//! cargo's fingerprint there, and only newer files make cargo rebuild the one it built last.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::{stderr, stdout};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Copy a crate's tree (without `target/`, `fixed/` and the lint cache) into `to`.
fn copy_crate(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        let name = e.file_name();
        if ["target", "fixed", ".ssot-lint-cache"]
            .iter()
            .any(|n| name == std::ffi::OsStr::new(n))
        {
            continue;
        }
        let (src, dst) = (e.path(), to.join(&name));
        if e.file_type().expect("type").is_dir() {
            std::fs::create_dir_all(&dst).expect("mkdir");
            copy_crate(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).expect("copy");
        }
    }
}

/// `cargo build` of the crate at `dir` into the shared target directory; the path of its
/// binary (when it has one).
fn build(dir: &Path) -> Result<Option<PathBuf>, String> {
    let o = Command::new(env!("CARGO"))
        .current_dir(dir)
        .args([
            "build",
            "--offline",
            "--locked",
            "--quiet",
            "--message-format=json",
        ])
        .env("CARGO_TARGET_DIR", root().join("target/fixtures"))
        .env("CARGO_TERM_COLOR", "never")
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !o.status.success() {
        return Err(format!(
            "cargo build failed in {} (dependencies missing offline? `cargo fetch --locked \
             --manifest-path <crate>/Cargo.toml` fetches them):\n{}{}",
            dir.display(),
            rendered(&stdout(&o)),
            stderr(&o)
        ));
    }
    Ok(stdout(&o).lines().find_map(|l| {
        let v: serde_json::Value = serde_json::from_str(l).ok()?;
        (v["reason"] == "compiler-artifact")
            .then(|| v["executable"].as_str().map(PathBuf::from))
            .flatten()
    }))
}

/// The compiler's messages, as cargo would print them, from `--message-format=json`.
fn rendered(json_lines: &str) -> String {
    json_lines
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["message"]["rendered"].as_str().map(String::from))
        .collect()
}

fn lint(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ssot-lint"))
        .current_dir(dir)
        .args(["--no-cache", "--format", "short"])
        .args(args)
        .output()
        .expect("run ssot-lint")
}

/// Run the incident's service against a SQLite file in `data`, one request per message.
fn serve(exe: &Path, data: &Path, messages: &[&str]) -> Output {
    // A copy: the next build of a tree of the same name overwrites cargo's binary.
    let copy = data.join("netra_backend");
    std::fs::copy(exe, &copy).expect("copy the binary");
    let url = format!("sqlite://{}?mode=rwc", data.join("netra.db").display());
    // Another test's thread may fork while the copy's file is still open for writing here;
    // its child holds the descriptor until it execs, and running the copy meanwhile fails
    // with ETXTBSY. The descriptor goes with that exec: try again.
    let mut tries = 0;
    loop {
        match Command::new(&copy)
            .args(messages)
            .env("DATABASE_URL", &url)
            .output()
        {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && tries < 50 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            r => return r.expect("run the incident's binary"),
        }
    }
}

#[test]
fn the_fix_removes_the_outage() {
    let messages = ["first", "second", "third"];

    // Before: start-up reaches the legacy manager before anything finished `initialize()`.
    let before = tempfile::tempdir().expect("tempdir");
    copy_crate(&root().join("fixtures/incident"), before.path());
    let exe = build(before.path())
        .unwrap_or_else(|e| panic!("{e}"))
        .expect("the incident has a binary");
    let data = tempfile::tempdir().expect("tempdir");
    let o = serve(&exe, data.path(), &messages);
    assert_eq!(
        (o.status.code(), stdout(&o).as_str(), stderr(&o).as_str()),
        (Some(1), "", "Error: \"DatabaseManager not initialized\"\n"),
        "the unfixed incident must fail at start-up, before the first request is answered"
    );

    // The tool fixes a copy; nothing is left to report.
    let fixed = tempfile::tempdir().expect("tempdir");
    copy_crate(&root().join("fixtures/incident"), fixed.path());
    let o = lint(fixed.path(), &["--fix", "--unsafe-fixes"]);
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "--fix failed: {}",
        stderr(&o)
    );
    let o = lint(fixed.path(), &[]);
    assert_eq!(
        (o.status.code(), stdout(&o).as_str()),
        (Some(0), ""),
        "findings left after --fix --unsafe-fixes: {}",
        stderr(&o)
    );

    // After: it builds, starts, and answers every request.
    let exe = build(fixed.path())
        .unwrap_or_else(|e| panic!("{e}"))
        .expect("the incident has a binary");
    let data = tempfile::tempdir().expect("tempdir");
    let o = serve(&exe, data.path(), &messages);
    let mut want = String::from("health: healthy\n");
    for (n, m) in messages.iter().enumerate() {
        for event in [
            "agent_started",
            "agent_thinking",
            "tool_executing",
            "tool_completed",
            "agent_completed",
        ] {
            want.push_str(&format!("request {}: {event}: {m}\n", n + 1));
        }
    }
    assert_eq!(
        (o.status.code(), stdout(&o)),
        (Some(0), want),
        "the fixed incident must answer every request; stderr:\n{}",
        stderr(&o)
    );
    assert!(
        !stderr(&o).contains("not initialized"),
        "stderr: {}",
        stderr(&o)
    );
    assert!(
        data.path().join("netra.db").is_file(),
        "the SQLite file was not created"
    );
}

/// Fixture crates with a committed `Cargo.lock` (they are meant to compile), each with its
/// `fixed/` tree when it has one.
fn compiled_fixtures() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            if !p.is_dir() || p.file_name().is_some_and(|n| n == "src" || n == "target") {
                continue;
            }
            if p.join("Cargo.lock").is_file() {
                out.push(p.clone());
            }
            walk(&p, out);
        }
    }
    let mut out = Vec::new();
    walk(&root().join("fixtures"), &mut out);
    out
}

#[test]
fn fixture_crates_compile() {
    let list = compiled_fixtures();
    for must in [
        "fixtures/incident",
        "fixtures/incident.fixed",
        "fixtures/rules/uninitialized-access/manager-static-lock/fixed",
    ] {
        assert!(list.contains(&root().join(must)), "{must} is not compiled");
    }
    let mut failures = Vec::new();
    for dir in &list {
        let tmp = tempfile::tempdir().expect("tempdir");
        copy_crate(dir, tmp.path());
        if let Err(e) = build(tmp.path()) {
            failures.push(format!(
                "== {}\n{e}",
                dir.strip_prefix(root()).unwrap_or(dir).display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixture crates do not compile:\n{}",
        failures.len(),
        list.len(),
        failures.join("\n")
    );
}
