//! Issue 20 at the binary: `ssot-lint init` adopts the tool in one command, and SSOT006
//! presumes the SSOT from evidence (the ten-program library).

use std::path::Path;

mod common;
use common::{run, stderr, stdout};

fn copy_tree(from: &Path, to: &Path, skip: &[&str]) {
    for e in std::fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        let name = e.file_name();
        if skip.iter().any(|s| name == *s) {
            continue;
        }
        let dest = to.join(&name);
        if e.file_type().expect("type").is_dir() {
            std::fs::create_dir_all(&dest).expect("mkdir");
            copy_tree(&e.path(), &dest, &[]);
        } else {
            std::fs::copy(e.path(), dest).expect("copy");
        }
    }
}

fn fixture(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
}

/// The incident fixture with its config removed: `init` writes a config with which the
/// next run reports exactly what the incident's own config reports; a second `init`
/// refuses to overwrite it, and so does one where the config is a symlink.
#[test]
fn init_on_the_incident_reproduces_its_config() {
    let d = tempfile::tempdir().expect("tempdir");
    copy_tree(
        &fixture("incident"),
        d.path(),
        &["ssot-lint.toml", "expected.short", "target"],
    );
    let o = run(d.path(), &["init"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("ssot-lint.toml (1 resource with a presumed SSOT)"),
        "{}",
        stderr(&o)
    );
    let written = std::fs::read_to_string(d.path().join("ssot-lint.toml")).expect("written");
    assert!(
        written.contains("sql = [\"netra_backend::database\"]"),
        "{written}"
    );
    assert!(
        written.contains("\"netra_backend::core::database\" = \"netra_backend::database\""),
        "{written}"
    );
    let expected =
        std::fs::read_to_string(fixture("incident/expected.short")).expect("expected.short");
    let o = run(d.path(), &["--format", "short"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(stdout(&o), expected);

    let before = written.clone();
    let o = run(d.path(), &["init"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("never overwrites a config"),
        "{}",
        stderr(&o)
    );
    let after = std::fs::read_to_string(d.path().join("ssot-lint.toml")).expect("kept");
    assert_eq!(after, before, "the config is untouched");

    #[cfg(unix)]
    {
        std::fs::remove_file(d.path().join("ssot-lint.toml")).expect("rm");
        let elsewhere = tempfile::tempdir().expect("tempdir");
        let target = elsewhere.path().join("x.toml");
        std::os::unix::fs::symlink(&target, d.path().join("ssot-lint.toml")).expect("symlink");
        let o = run(d.path(), &["init"]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(!target.exists(), "nothing written through the symlink");
    }
}

/// With no resource that two modules own there is nothing to presume: the config says so
/// and names no module.
#[test]
fn init_on_a_clean_crate_writes_an_empty_ssot() {
    let d = tempfile::tempdir().expect("tempdir");
    common::write(
        d.path(),
        "Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    common::write(
        d.path(),
        "src/lib.rs",
        "pub async fn pool(u: &str) -> sqlx::PgPool { sqlx::PgPool::connect(u).await.unwrap() }\n",
    );
    let o = run(d.path(), &["init"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let written = std::fs::read_to_string(d.path().join("ssot-lint.toml")).expect("written");
    assert!(written.contains("No resource has two owners"), "{written}");
    let o = run(d.path(), &["--format", "short"]);
    assert_eq!((o.status.code(), stdout(&o)), (Some(0), String::new()));
}

/// Ten worker binaries that each open a Redis client next to the library every one of
/// them links: one SSOT006, not on the library's line, presuming the library because the
/// workers' crates depend on it.
#[test]
fn ten_programs_one_finding_presuming_the_library() {
    for case in [
        "resources/ten-program-library/fire",
        "resources/ten-program-library-shared-module/fire",
    ] {
        let o = run(&fixture(case), &["--format", "json", "--no-cache"]);
        assert_eq!(o.status.code(), Some(1), "{case}: {}", stderr(&o));
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
        let findings = v["findings"].as_array().expect("findings");
        assert_eq!(findings.len(), 1, "{case}: {findings:?}");
        let f = &findings[0];
        assert_eq!(f["code"], "SSOT006");
        assert!(
            !f["path"]
                .as_str()
                .unwrap_or_default()
                .starts_with("worker-runtime/"),
            "{case}: {f}"
        );
        let help = f["help"].as_str().unwrap_or_default();
        assert!(
            help.contains(
                "`[ssot] redis = [\"worker_runtime::redis\"]` (the other owners' crates depend on its crate)"
            ),
            "{case}: {help}"
        );
    }
}
