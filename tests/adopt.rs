//! Adopting the tool: baselines, `--new-from-rev`, pre-commit paths (nested workspaces,
//! files of no package), the GitHub Action's script, `--exit-zero`, `--statistics`,
//! `--explain --format json`, colour.

use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::{stderr, stdout, write};

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ssot-lint"))
        .current_dir(dir)
        .env_remove("GITHUB_WORKSPACE")
        .args(args)
        .output()
        .expect("run ssot-lint")
}

const MANIFEST: &str = "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nsqlx = \"0.8\"\n";

/// A crate with an SSOT and two SSOT001 findings in `src/handlers.rs`.
fn legacy_crate() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    write(d.path(), "Cargo.toml", MANIFEST);
    write(
        d.path(),
        "ssot-lint.toml",
        "[ssot]\nmodules = [\"app::db\"]\n",
    );
    write(d.path(), "src/lib.rs", "pub mod db;\npub mod handlers;\n");
    write(
        d.path(),
        "src/db.rs",
        "pub fn pool() -> sqlx::PgPool { sqlx::PgPool::connect_lazy(\"x\").unwrap() }\n",
    );
    write(d.path(), "src/handlers.rs", HANDLERS);
    d
}

const HANDLERS: &str = "pub fn a() {\n    let _p = sqlx::PgPool::connect_lazy(\"a\");\n}\n\npub fn b() {\n    let _p = sqlx::PgPool::connect_lazy(\"a\");\n}\n";

#[test]
fn baseline_hides_old_findings_after_they_move_and_reports_the_new_one() {
    let d = legacy_crate();
    let base = d.path().join("ssot-lint-baseline.json");
    let o = run(d.path(), &["--write-baseline", "ssot-lint-baseline.json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("wrote 2 baseline entries"),
        "{}",
        stderr(&o)
    );
    let b: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&base).expect("baseline")).expect("json");
    // Two identical lines: told apart by their occurrence index, not their line.
    assert_eq!(b["entries"][0]["occurrence"], 0);
    assert_eq!(b["entries"][1]["occurrence"], 1);
    assert_eq!(
        b["entries"][0]["snippet"],
        "let _p = sqlx::PgPool::connect_lazy(\"a\");"
    );

    // Lines inserted above shift every finding; one new violation is added.
    let shifted = format!(
        "// a header\n// that moves everything down\n\npub fn c() {{\n    let _n = sqlx::PgPool::connect_lazy(\"new\");\n}}\n\n{HANDLERS}"
    );
    write(d.path(), "src/handlers.rs", &shifted);
    let o = run(
        d.path(),
        &["--format", "short", "--baseline", "ssot-lint-baseline.json"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "src/handlers.rs:5:14: SSOT001 `sqlx::PgPool::connect_lazy` builds a sql pool/client outside the SSOT module `app::db`\n"
    );
    assert!(
        stderr(&o).contains("2 findings not shown; 0 entries gone"),
        "{}",
        stderr(&o)
    );

    // Fix one old finding: the baseline says one entry is gone, and pruning drops it.
    write(
        d.path(),
        "src/handlers.rs",
        &shifted.replacen("    let _p = sqlx::PgPool::connect_lazy(\"a\");\n", "", 1),
    );
    let o = run(
        d.path(),
        &["--format", "short", "--baseline", "ssot-lint-baseline.json"],
    );
    assert!(
        stderr(&o).contains("1 entries gone (fixed): --prune-baseline"),
        "{}",
        stderr(&o)
    );
    let o = run(
        d.path(),
        &[
            "--format",
            "short",
            "--baseline",
            "ssot-lint-baseline.json",
            "--prune-baseline",
        ],
    );
    assert!(
        stderr(&o).contains("1 entries gone (fixed), pruned"),
        "{}",
        stderr(&o)
    );
    let b: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&base).expect("baseline")).expect("json");
    assert_eq!(b["entries"].as_array().map(Vec::len), Some(1));
    // The remaining old finding is still hidden; only the new one is reported.
    let o = run(
        d.path(),
        &["--format", "short", "--baseline", "ssot-lint-baseline.json"],
    );
    assert_eq!(stdout(&o).lines().count(), 1, "{}", stdout(&o));
    assert!(stdout(&o).contains(":5:14:"));
}

#[test]
fn a_malformed_baseline_is_an_error() {
    let d = legacy_crate();
    write(d.path(), "b.json", "{\"version\": 1}");
    let o = run(d.path(), &["--baseline", "b.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not a baseline"), "{}", stderr(&o));
}

fn git(dir: &Path, args: &[&str]) {
    let o = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .output()
        .expect("git");
    assert!(o.status.success(), "git {args:?}: {}", stderr(&o));
}

#[test]
fn new_from_rev_reports_findings_on_changed_lines_only() {
    let d = legacy_crate();
    git(d.path(), &["init", "-q"]);
    git(d.path(), &["add", "-A"]);
    git(d.path(), &["commit", "-qm", "legacy"]);
    // Shift the old findings and add one; a new untracked file adds another.
    write(
        d.path(),
        "src/handlers.rs",
        &format!(
            "// moved\n{HANDLERS}pub fn c() {{\n    let _n = sqlx::PgPool::connect_lazy(\"new\");\n}}\n"
        ),
    );
    write(
        d.path(),
        "src/lib.rs",
        "pub mod db;\npub mod handlers;\npub mod extra;\n",
    );
    write(
        d.path(),
        "src/extra.rs",
        "pub fn e() { let _e = sqlx::PgPool::connect_lazy(\"e\"); }\n",
    );
    let o = run(d.path(), &["--format", "short", "--new-from-rev", "HEAD"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "src/extra.rs:1:23: SSOT001 `sqlx::PgPool::connect_lazy` builds a sql pool/client outside the SSOT module `app::db`\n\
         src/handlers.rs:10:14: SSOT001 `sqlx::PgPool::connect_lazy` builds a sql pool/client outside the SSOT module `app::db`\n"
    );
    assert!(
        stderr(&o).contains("2 findings on lines unchanged since HEAD"),
        "{}",
        stderr(&o)
    );
    let o = run(d.path(), &["--new-from-rev", "no-such-rev"]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(d.path(), &["--new-from-rev", "--output=x"]);
    assert_eq!(o.status.code(), Some(2));
}

/// From the root of a monorepo, a file of a nested workspace (its own `[workspace]`, outside
/// the root's members) is linted in that workspace, paths shown from the root.
#[test]
fn nested_workspace_file_is_linted_in_its_own_workspace() {
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "Cargo.toml",
        "[workspace]\nmembers = [\"app\"]\nexclude = [\"examples\"]\n",
    );
    write(d.path(), "app/Cargo.toml", MANIFEST);
    write(d.path(), "app/src/lib.rs", "pub fn f() {}\n");
    write(
        d.path(),
        "examples/Cargo.toml",
        "[workspace]\nmembers = [\"demo\"]\n",
    );
    write(
        d.path(),
        "examples/demo/Cargo.toml",
        &MANIFEST.replace("\"app\"", "\"demo\""),
    );
    write(
        d.path(),
        "examples/ssot-lint.toml",
        "[ssot]\nmodules = [\"demo::db\"]\n",
    );
    write(
        d.path(),
        "examples/demo/src/lib.rs",
        "pub mod db;\npub mod web;\n",
    );
    write(
        d.path(),
        "examples/demo/src/db.rs",
        "pub fn pool() -> sqlx::PgPool { sqlx::PgPool::connect_lazy(\"x\").unwrap() }\n",
    );
    write(
        d.path(),
        "examples/demo/src/web.rs",
        "pub fn h() { let _p = sqlx::PgPool::connect_lazy(\"y\"); }\n",
    );
    let o = run(
        d.path(),
        &[
            "--format",
            "short",
            "examples/demo/src/web.rs",
            "app/src/lib.rs",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "examples/demo/src/web.rs:1:23: SSOT001 `sqlx::PgPool::connect_lazy` builds a sql pool/client outside the SSOT module `demo::db`\n"
    );
    // The SSOT file itself is clean, also from the root.
    let o = run(d.path(), &["--format", "short", "examples/demo/src/db.rs"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn a_file_of_no_package_is_an_error() {
    let d = legacy_crate();
    write(d.path(), "scripts/gen.rs", "fn main() {}\n");
    // Inside the package directory but in `target/`, which no package includes.
    write(d.path(), "target/debug/build/out.rs", "fn main() {}\n");
    let o = run(
        d.path(),
        &["--format", "short", "target/debug/build/out.rs"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("belongs to no package"),
        "{}",
        stderr(&o)
    );
    // A folder of crates (no manifest at its root) with a loose file beside them.
    let mono = tempfile::tempdir().expect("tempdir");
    write(mono.path(), "app/Cargo.toml", MANIFEST);
    write(mono.path(), "app/src/lib.rs", "pub fn f() {}\n");
    write(mono.path(), "tools/loose.rs", "fn main() {}\n");
    let o = run(mono.path(), &["--format", "short", "tools/loose.rs"]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("tools/loose.rs belongs to no package"),
        "{}",
        stderr(&o)
    );
    let o = run(mono.path(), &["--format", "short", "app/src/lib.rs"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(d.path(), &["--format", "short", "src/does_not_exist.rs"]);
    assert_eq!(o.status.code(), Some(2));
    // A file of the package that no module declares is still its package's.
    let o = run(d.path(), &["--format", "short", "scripts/gen.rs"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn exit_zero_statistics_and_explain_json() {
    let d = legacy_crate();
    let o = run(d.path(), &["--format", "short", "--exit-zero"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o).lines().count(), 2);
    // Errors still exit 2.
    let o = run(d.path(), &["--exit-zero", "--select", "SSOT999"]);
    assert_eq!(o.status.code(), Some(2));
    // With --fix: what remains does not fail the run either (nothing is fixable here).
    let o = run(
        d.path(),
        &["--format", "short", "--fix", "--exit-zero", "--allow-dirty"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 2);
    let o = run(
        d.path(),
        &["--format", "short", "--statistics", "--select", "SSOT001"],
    );
    assert!(
        stdout(&o).ends_with("     2  SSOT001  pool-outside-ssot          0 fixable\n"),
        "{}",
        stdout(&o)
    );
    write(
        d.path(),
        "ssot-lint.toml",
        "[ssot]\nmodules = [\"app::db\"]\n[accessor]\nsql = \"crate::db::pool()\"\n",
    );
    let o = run(d.path(), &["--format", "short", "--statistics"]);
    assert!(
        stdout(&o).ends_with("     2  SSOT001  pool-outside-ssot          2 fixable\n"),
        "{}",
        stdout(&o)
    );
    let o = run(d.path(), &["--explain", "SSOT001", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["code"], "SSOT001");
    assert_eq!(v["name"], "pool-outside-ssot");
    assert_eq!(v["fixable"], true);
    assert!(
        v["explanation"]
            .as_str()
            .is_some_and(|e| e.contains("## What it does"))
    );
}

/// `--output FORMAT=FILE` writes more formats from the same run.
#[test]
fn extra_outputs_are_written() {
    let d = legacy_crate();
    let o = run(
        d.path(),
        &[
            "--format",
            "short",
            "--output",
            "sarif=out.sarif",
            "--output",
            "markdown=summary.md",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let sarif = std::fs::read_to_string(d.path().join("out.sarif")).expect("sarif");
    let v: serde_json::Value = serde_json::from_str(&sarif).expect("json");
    assert_eq!(v["runs"][0]["results"].as_array().map(Vec::len), Some(2));
    let md = std::fs::read_to_string(d.path().join("summary.md")).expect("md");
    assert!(md.contains("```mermaid"), "{md}");
    let o = run(d.path(), &["--output", "nope=x"]);
    assert_eq!(o.status.code(), Some(2));
}

/// What action.yml runs, as far as a machine without GitHub can: the script writes the
/// annotations, the SARIF file, the step summary and the step outputs.
#[test]
fn github_action_script_writes_annotations_sarif_and_summary() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let action = std::fs::read_to_string(root.join("action.yml")).expect("action.yml");
    assert!(action.contains("using: composite"));
    assert!(action.contains("cargo install --locked --path \"$GITHUB_ACTION_PATH\""));
    assert!(action.contains("bash \"$GITHUB_ACTION_PATH/scripts/github-action.sh\""));
    let tmp = tempfile::tempdir().expect("tempdir");
    let summary = tmp.path().join("summary.md");
    let outputs = tmp.path().join("outputs");
    std::fs::write(&summary, "earlier step\n").expect("write");
    // A checkout with the incident where this repository has it; the SARIF inside it
    // (ssot-lint writes only inside the workspace it lints).
    let checkout = tmp.path().join("checkout");
    let incident = checkout.join("fixtures/incident");
    for e in walkdir::WalkDir::new(root.join("fixtures/incident"))
        .into_iter()
        .flatten()
    {
        let rel = e
            .path()
            .strip_prefix(root.join("fixtures/incident"))
            .expect("rel");
        if e.file_type().is_dir() {
            std::fs::create_dir_all(incident.join(rel)).expect("mkdir");
        } else {
            std::fs::copy(e.path(), incident.join(rel)).expect("copy");
        }
    }
    let sarif = incident.join("ssot-lint.sarif");
    let script = |fail: &str| {
        Command::new("bash")
            .arg(root.join("scripts/github-action.sh"))
            .current_dir(&incident)
            .env("SSOT_LINT", env!("CARGO_BIN_EXE_ssot-lint"))
            .env("SSOT_SARIF_FILE", &sarif)
            .env("SSOT_ARGS", "--select SSOT001,SSOT004")
            .env("SSOT_FAIL_ON_FINDINGS", fail)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("GITHUB_OUTPUT", &outputs)
            .env("GITHUB_WORKSPACE", &checkout)
            .output()
            .expect("bash")
    };
    let o = script("true");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 4, "{out}");
    assert!(
        out.lines().all(|l| l.starts_with("::error title=SSOT00")),
        "{out}"
    );
    let md = std::fs::read_to_string(&summary).expect("summary");
    assert!(md.starts_with("earlier step\n## ssot-lint\n"), "{md}");
    assert!(
        md.contains("**4 findings**") && md.contains("```mermaid"),
        "{md}"
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif).expect("sarif")).expect("json");
    // URIs relative to the checkout, as upload-sarif needs them.
    assert_eq!(
        v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "fixtures/incident/src/db/database_manager.rs"
    );
    let outs = std::fs::read_to_string(&outputs).expect("outputs");
    assert!(
        outs.contains(&format!("sarif-file={}\n", sarif.display())),
        "{outs}"
    );
    assert!(outs.contains("exit-code=1\n"), "{outs}");
    let o = script("false");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// Colour on a terminal only, never with NO_COLOR: run under `script` (a pseudo-terminal).
#[test]
fn colour_only_on_a_terminal_and_never_with_no_color() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("`script` (util-linux) not installed: skipped");
        return;
    }
    let d = legacy_crate();
    let tty = |no_color: Option<&str>| -> String {
        let mut c = Command::new("script");
        c.current_dir(d.path())
            .args(["-qec"])
            .arg(format!(
                "{} --format human",
                env!("CARGO_BIN_EXE_ssot-lint")
            ))
            .arg("/dev/null")
            .env("COLUMNS", "100")
            .env_remove("NO_COLOR");
        if let Some(v) = no_color {
            c.env("NO_COLOR", v);
        }
        String::from_utf8_lossy(&c.output().expect("script").stdout).into_owned()
    };
    let coloured = tty(None);
    assert!(coloured.contains("SSOT001"), "{coloured}");
    assert!(
        coloured.contains("\x1b["),
        "no colour on a terminal:\n{coloured}"
    );
    let plain = tty(Some("1"));
    assert!(
        plain.contains("SSOT001") && !plain.contains("\x1b["),
        "{plain}"
    );
    let piped = run(d.path(), &["--format", "human"]);
    assert!(!stdout(&piped).contains("\x1b["));
}

/// Issue 22, defect 4: in a shallow clone (CI's default checkout), a revision that was not
/// fetched is a clear error with what to do, not git's bare command line.
#[test]
fn new_from_rev_in_a_shallow_clone_says_to_fetch_the_history() {
    let d = legacy_crate();
    git(d.path(), &["init", "-q", "-b", "main"]);
    git(d.path(), &["add", "-A"]);
    git(d.path(), &["commit", "-qm", "one"]);
    write(d.path(), "README", "two\n");
    git(d.path(), &["add", "-A"]);
    git(d.path(), &["commit", "-qm", "two"]);
    let clone = tempfile::tempdir().expect("tempdir");
    let url = format!("file://{}", d.path().display());
    git(clone.path(), &["clone", "-q", "--depth", "1", &url, "work"]);
    let work = clone.path().join("work");
    for rev in ["HEAD~1", "origin/no-such-branch"] {
        let o = run(&work, &["--new-from-rev", rev]);
        assert_eq!(o.status.code(), Some(2));
        let e = stderr(&o);
        assert!(
            e.contains(&format!("--new-from-rev: `{rev}` is not a commit of this repository, which is a shallow clone"))
                && e.contains("`fetch-depth: 0`"),
            "{e}"
        );
    }
    // In a full clone: not a shallow clone, and still a clear message.
    let o = run(d.path(), &["--new-from-rev", "origin/main"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(
            "`origin/main` is not a commit of this repository (a branch that was not fetched?"
        ),
        "{}",
        stderr(&o)
    );
}

/// The action's `trusted-rev` (issue 23, item 9): a pull request that weakens the config and
/// records its own violation in the baseline passes when they are read from its tree, and
/// fails when they are read from the base revision.
#[test]
fn github_action_reads_config_and_baseline_from_the_trusted_revision() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let d = legacy_crate();
    let action = |env: &[(&str, &str)]| {
        let out = tempfile::tempdir().expect("tempdir");
        let outputs = out.path().join("outputs");
        let mut c = Command::new("bash");
        c.arg(root.join("scripts/github-action.sh"))
            .current_dir(d.path())
            .env("SSOT_LINT", env!("CARGO_BIN_EXE_ssot-lint"))
            .env("GITHUB_OUTPUT", &outputs)
            .env_remove("GITHUB_WORKSPACE");
        for (k, v) in env {
            c.env(k, v);
        }
        let o = c.output().expect("bash");
        let outs = std::fs::read_to_string(&outputs).unwrap_or_default();
        (o, outs)
    };
    git(d.path(), &["init", "-q"]);
    let o = run(d.path(), &["--write-baseline", "ssot-lint-baseline.json"]);
    assert_eq!(o.status.code(), Some(0));
    git(d.path(), &["add", "-A"]);
    git(d.path(), &["commit", "-qm", "base"]);
    // The pull request: a new violation, hidden by its own config and its own baseline.
    write(
        d.path(),
        "src/handlers.rs",
        &format!(
            "{HANDLERS}\npub fn c() {{\n    let _n = sqlx::PgPool::connect_lazy(\"new\");\n}}\n"
        ),
    );
    let o = run(d.path(), &["--write-baseline", "ssot-lint-baseline.json"]);
    assert_eq!(o.status.code(), Some(0));
    write(
        d.path(),
        "ssot-lint.toml",
        "[ssot]\nmodules = [\"app::db\"]\n[allow]\npaths = [\"src/handlers.rs\"]\n",
    );
    git(d.path(), &["commit", "-qam", "the pull request"]);
    let args = ("SSOT_ARGS", "--baseline ssot-lint-baseline.json");
    let (o, outs) = action(&[args]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(outs.contains("exit-code=0\n"), "{outs}");
    let (o, outs) = action(&[
        ("SSOT_TRUSTED_REV", "HEAD~1"),
        ("SSOT_BASELINE", "ssot-lint-baseline.json"),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let annotations = stdout(&o);
    assert_eq!(annotations.lines().count(), 1, "{annotations}");
    assert!(
        annotations
            .starts_with("::error title=SSOT001 pool-outside-ssot,file=src/handlers.rs,line=10,"),
        "{annotations}"
    );
    assert!(
        outs.contains("sarif-file=") && outs.contains("exit-code=1\n"),
        "{outs}"
    );
    // A config kept in the base's Cargo.toml metadata is read from there.
    std::fs::remove_file(d.path().join("ssot-lint.toml")).expect("rm");
    std::fs::remove_file(d.path().join("ssot-lint-baseline.json")).expect("rm");
    write(
        d.path(),
        "Cargo.toml",
        &format!("{MANIFEST}\n[package.metadata.ssot-lint.ssot]\nmodules = [\"app::db\"]\n"),
    );
    git(d.path(), &["commit", "-qam", "config in the manifest"]);
    write(
        d.path(),
        "ssot-lint.toml",
        "[ssot]\nmodules = [\"app::db\"]\n[allow]\npaths = [\"src/**\"]\n",
    );
    let (o, _) = action(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let (o, _) = action(&[("SSOT_TRUSTED_REV", "HEAD")]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 3, "{}", stdout(&o));
    // A revision that is not there: an error, and no SARIF to upload.
    let (o, outs) = action(&[("SSOT_TRUSTED_REV", "origin/main")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("`fetch-depth: 0`"), "{}", stderr(&o));
    assert_eq!(outs, "exit-code=2\n");
}

/// The action's trusted copy of a config kept in a `Cargo.toml` sits in a scratch folder
/// inside the tree; a folder scan (no manifest at the top) must not take it for one of the
/// tree's manifests (it used to: "workspace member .../trusted/app has no Cargo.toml").
#[test]
fn github_action_trusted_manifest_is_not_part_of_a_folder_scan() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "ws/Cargo.toml",
        "[workspace]\nmembers = [\"app\"]\n\n[workspace.metadata.ssot-lint.ssot]\nmodules = [\"app::db\"]\n",
    );
    write(d.path(), "ws/app/Cargo.toml", MANIFEST);
    write(
        d.path(),
        "ws/app/src/lib.rs",
        "pub mod db;\npub mod handlers;\n",
    );
    write(
        d.path(),
        "ws/app/src/db.rs",
        "pub fn pool() -> sqlx::PgPool { sqlx::PgPool::connect_lazy(\"x\").unwrap() }\n",
    );
    write(d.path(), "ws/app/src/handlers.rs", HANDLERS);
    git(d.path(), &["init", "-q"]);
    git(d.path(), &["add", "-A"]);
    git(d.path(), &["commit", "-qm", "base"]);
    let o = Command::new("bash")
        .arg(root.join("scripts/github-action.sh"))
        .current_dir(d.path())
        .env("SSOT_LINT", env!("CARGO_BIN_EXE_ssot-lint"))
        .env("SSOT_TRUSTED_REV", "HEAD")
        .env("SSOT_CONFIG", "ws/Cargo.toml")
        .env_remove("GITHUB_OUTPUT")
        .env_remove("GITHUB_WORKSPACE")
        .output()
        .expect("bash");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(stderr(&o), "", "the scratch folder was scanned");
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines.iter().all(|l| l
            .starts_with("::error title=SSOT001 pool-outside-ssot,file=ws/app/src/handlers.rs,")),
        "{}",
        stdout(&o)
    );
}

/// Issue 22, defect 6: a new line identical to a baselined one, inserted above it, takes its
/// entry, so `--baseline` reports the old line; `--new-from-rev` reports the new one. `--help`
/// and the README say which to use when.
#[test]
fn an_identical_line_inserted_above_and_which_to_use_when() {
    let d = legacy_crate();
    git(d.path(), &["init", "-q"]);
    let o = run(d.path(), &["--write-baseline", "ssot-lint-baseline.json"]);
    assert_eq!(o.status.code(), Some(0));
    git(d.path(), &["add", "-A"]);
    git(d.path(), &["commit", "-qm", "base"]);
    write(
        d.path(),
        "src/handlers.rs",
        &format!(
            "pub fn z() {{\n    let _p = sqlx::PgPool::connect_lazy(\"a\");\n}}\n\n{HANDLERS}"
        ),
    );
    let line = |n: u32| {
        format!(
            "src/handlers.rs:{n}:14: SSOT001 `sqlx::PgPool::connect_lazy` builds a sql pool/client outside the SSOT module `app::db`\n"
        )
    };
    let o = run(
        d.path(),
        &["--format", "short", "--baseline", "ssot-lint-baseline.json"],
    );
    assert_eq!(stdout(&o), line(10), "the old line, not the new one");
    let o = run(d.path(), &["--format", "short", "--new-from-rev", "HEAD"]);
    assert_eq!(stdout(&o), line(2));
    let help = stdout(&run(d.path(), &["--help"]));
    assert!(
        help.contains("inserted above it, takes its entry and the old line is reported instead")
            && help.contains("on pull requests prefer --new-from-rev")
            && help.contains("The choice for CI on pull requests"),
        "{help}"
    );
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README");
    assert!(readme.contains("**Which to use when.**"), "README");
}
