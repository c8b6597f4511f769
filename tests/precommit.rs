//! The real pre-commit (PyPI) runs this repository's hook with `try-repo` on a temporary git
//! repository: it fails with our finding, and passes once the code is fixed. The hook is
//! `language: python`: pre-commit pip-installs this repository, and pyproject.toml's maturin
//! builds the binary with cargo, so this test takes minutes the first time (its build goes to
//! target/pre-commit and is reused). Runs when `pre-commit` is installed; `.ci/run` installs it
//! and sets `SSOT_REQUIRE_CLIENTS=1` so that it cannot be skipped there. scripts/ci-dist.sh
//! runs the `ssot-lint-system` hook and the wheel.

use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::write;

fn git(dir: &Path, args: &[&str]) {
    let o = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .output()
        .expect("git");
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn try_repo(repo: &Path, home: &Path) -> Output {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    Command::new("pre-commit")
        .current_dir(repo)
        .args(["try-repo"])
        .arg(root)
        .args(["ssot-lint", "--color", "never"])
        .env("PRE_COMMIT_HOME", home)
        // A quick build of the hook: this tests its wiring, not its speed.
        .env("CARGO_TARGET_DIR", root.join("target/pre-commit"))
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
        .env("CARGO_PROFILE_RELEASE_LTO", "false")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "256")
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .output()
        .expect("pre-commit")
}

#[test]
fn pre_commit_try_repo_fails_on_a_finding_and_passes_once_fixed() {
    if !Command::new("pre-commit")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        assert!(
            std::env::var_os("SSOT_REQUIRE_CLIENTS").is_none(),
            "pre-commit is not installed (pip install pre-commit)"
        );
        eprintln!("pre-commit not installed (pip install pre-commit): skipped");
        return;
    }
    let repo = tempfile::tempdir().expect("tempdir");
    let home = tempfile::tempdir().expect("tempdir");
    let r = repo.path();
    git(r, &["init", "-q"]);
    write(
        r,
        "Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nsqlx = \"0.8\"\n",
    );
    write(r, "ssot-lint.toml", "[ssot]\nmodules = [\"app::db\"]\n");
    write(r, "src/lib.rs", "pub mod db;\npub mod web;\n");
    write(
        r,
        "src/db.rs",
        "pub fn pool() -> sqlx::PgPool { sqlx::PgPool::connect_lazy(\"x\").unwrap() }\n",
    );
    write(
        r,
        "src/web.rs",
        "pub fn h() { let _p = sqlx::PgPool::connect_lazy(\"y\"); }\n",
    );
    git(r, &["add", "-A"]);
    let o = try_repo(r, home.path());
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        out.contains("src/web.rs:1:23: SSOT001 `sqlx::PgPool::connect_lazy` builds a sql pool/client outside the SSOT module `app::db`"),
        "{out}"
    );
    assert!(out.contains("Failed"), "{out}");

    write(
        r,
        "src/web.rs",
        "pub fn h() { let _p = crate::db::pool(); }\n",
    );
    git(r, &["add", "-A"]);
    let o = try_repo(r, home.path());
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("Passed"), "{out}");
    assert!(!out.contains("SSOT001"), "{out}");
}
