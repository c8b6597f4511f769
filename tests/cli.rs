//! The binary as a user meets it: a new crate, config errors, exit statuses, flags.

use std::path::Path;
use std::process::Command;

mod common;
use common::{run, stderr, stdout, write};

const MANIFEST: &str = "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nsqlx = { version = \"0.8\", features = [\"postgres\"] }\n";

fn two_module_crate() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    write(d.path(), "Cargo.toml", MANIFEST);
    write(
        d.path(),
        "src/lib.rs",
        "pub mod database;\npub mod handlers;\n",
    );
    write(
        d.path(),
        "src/database.rs",
        "use sqlx::postgres::PgPoolOptions;\n\npub async fn pool(url: &str) -> sqlx::Result<sqlx::PgPool> {\n    PgPoolOptions::new().max_connections(5).connect(url).await\n}\n",
    );
    write(
        d.path(),
        "src/handlers.rs",
        "pub async fn handle(url: &str) -> sqlx::Result<()> {\n    let pool = sqlx::PgPool::connect(url).await?;\n    drop(pool);\n    Ok(())\n}\n",
    );
    d
}

/// The new-user walk-through of the engine issue: SSOT006, then SSOT001, then clean.
#[test]
fn new_user_two_modules_then_config_then_clean() {
    let d = two_module_crate();
    let o = run(d.path(), &["--format", "short"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "src/handlers.rs:2:16: SSOT006 sql pools/clients are built or held in 2 modules: `app::database`, `app::handlers`\n"
    );

    write(
        d.path(),
        "ssot-lint.toml",
        "[ssot]\nmodules = [\"app::database\"]\n",
    );
    let o = run(d.path(), &["--format", "short"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stdout(&o),
        "src/handlers.rs:2:16: SSOT001 `sqlx::PgPool::connect` builds a sql pool/client outside the SSOT module `app::database`\n"
    );

    write(
        d.path(),
        "src/handlers.rs",
        "pub async fn handle(url: &str) -> sqlx::Result<()> {\n    let pool = crate::database::pool(url).await?;\n    drop(pool);\n    Ok(())\n}\n",
    );
    let o = run(d.path(), &["--format", "short"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert_eq!(stdout(&o), "");
}

/// One module building pools: a first run with no config is clean.
#[test]
fn single_module_without_config_is_clean() {
    let d = tempfile::tempdir().expect("tempdir");
    write(d.path(), "Cargo.toml", MANIFEST);
    write(
        d.path(),
        "src/lib.rs",
        "pub async fn a(u: &str) { let _p = sqlx::PgPool::connect(u).await; }\npub async fn b(u: &str) { let _p = sqlx::PgPool::connect_lazy(u); }\n",
    );
    let o = run(d.path(), &["--format", "short"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

fn config_error(config: &str) -> (i32, String) {
    let d = two_module_crate();
    write(d.path(), "ssot-lint.toml", config);
    let o = run(d.path(), &["--format", "short"]);
    (o.status.code().unwrap_or(-1), stderr(&o))
}

#[test]
fn unknown_config_key_names_file_line_column() {
    let (code, err) =
        config_error("[ssot]\nmodules = [\"app::database\"]\n\n[alow]\ntests = false\n");
    assert_eq!(code, 2);
    assert!(err.contains("ssot-lint.toml:4:2"), "{err}");
    assert!(err.contains("unknown field `alow`"), "{err}");
}

#[test]
fn malformed_value_names_file_line_column() {
    let (code, err) = config_error("[ssot]\nmodules = \"app::database\"\n");
    assert_eq!(code, 2);
    assert!(err.contains("ssot-lint.toml:2:11"), "{err}");
}

#[test]
fn missing_ssot_module_names_file_line_column() {
    let (code, err) = config_error("[ssot]\nmodules = [\"app::db\"]\n");
    assert_eq!(code, 2);
    assert!(err.contains("ssot-lint.toml:2:12"), "{err}");
    assert!(err.contains("module `app::db` does not exist"), "{err}");
}

#[test]
fn misspelled_ssot_module_gets_did_you_mean() {
    let (code, err) = config_error("[ssot]\nmodules = [\"app::databse\"]\n");
    assert_eq!(code, 2);
    assert!(
        err.contains("module `app::databse` does not exist"),
        "{err}"
    );
    assert!(err.contains("did you mean `app::database`?"), "{err}");
}

#[test]
fn unknown_resource_kind_is_an_error() {
    let (code, err) = config_error("[ssot]\nredsi = [\"app::database\"]\n");
    assert_eq!(code, 2);
    assert!(err.contains("ssot-lint.toml:2:1"), "{err}");
    assert!(err.contains("unknown resource kind `redsi`"), "{err}");
}

/// `[[resource]]` (issue 20): unknown keys, kinds, backends, names and modules are errors
/// at file:line:col, exit 2; a declared resource's construction outside its SSOT is
/// reported naming it.
#[test]
fn resource_config_errors_name_file_line_column() {
    let base = "[ssot]\nmodules = [\"app::database\"]\n\n[[resource]]\nname = \"jobs\"\nkind = \"sql\"\nssot = [\"app::handlers\"]\n";
    for (extra, at, what) in [
        (
            "colour = \"red\"\n",
            "ssot-lint.toml:8:1",
            "unknown field `colour`",
        ),
        (
            "backend = \"oracle\"\n",
            "ssot-lint.toml:8:11",
            "unknown backend `oracle`",
        ),
    ] {
        let (code, err) = config_error(&format!("{base}{extra}"));
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(at), "{at}: {err}");
        assert!(err.contains(what), "{what}: {err}");
    }
    for (config, at, what) in [
        (
            base.replace("kind = \"sql\"", "kind = \"sqll\""),
            "ssot-lint.toml:6:8",
            "unknown resource kind `sqll` in [[resource]]",
        ),
        (
            base.replace("[\"app::handlers\"]", "[\"app::jobs\"]"),
            "ssot-lint.toml:7:9",
            "module `app::jobs` does not exist",
        ),
        (
            base.replace("[\"app::handlers\"]", "[]"),
            "ssot-lint.toml:7:8",
            "names no SSOT module",
        ),
        (
            base.replace("\"jobs\"", "\"sql\""),
            "ssot-lint.toml:5:8",
            "`sql` cannot name a [[resource]]",
        ),
        (
            format!(
                "{base}\n{}",
                base.replace("[ssot]\nmodules = [\"app::database\"]\n", "")
            ),
            "ssot-lint.toml:11:8",
            "a second [[resource]] named `jobs`",
        ),
    ] {
        let (code, err) = config_error(&config);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(at), "{at}: {err}");
        assert!(err.contains(what), "{what}: {err}");
    }
    // The declared resource's SSOT is `app::handlers`: its construction there is silent,
    // and the default resource's SSOT builds none outside.
    let d = two_module_crate();
    write(d.path(), "ssot-lint.toml", base);
    let o = run(d.path(), &["--format", "short"]);
    assert_eq!(
        (o.status.code(), stdout(&o)),
        (Some(0), String::new()),
        "{}",
        stderr(&o)
    );
}

#[test]
fn bad_accessor_template_is_an_error() {
    let (code, err) = config_error(
        "[ssot]\nmodules = [\"app::database\"]\n[accessor]\nsql = \"crate::database::pool(.await\"\n",
    );
    assert_eq!(code, 2);
    assert!(err.contains("ssot-lint.toml:4:7"), "{err}");
}

#[test]
fn bad_project_pack_path_points_into_config() {
    let (code, err) = config_error(
        "[[pack]]\nname = \"internal\"\nresource = \"sql\"\n[[pack.constructor]]\npaths = [\"internal::connect(\"]\n",
    );
    assert_eq!(code, 2);
    assert!(err.contains("ssot-lint.toml:5:10"), "{err}");
    assert!(err.contains("is not a Rust path"), "{err}");
}

#[test]
fn config_in_cargo_metadata_is_read_with_spans() {
    let d = two_module_crate();
    let mut m = MANIFEST.to_string();
    m.push_str("\n[package.metadata.ssot-lint]\nssot = { modules = [\"app::nope\"] }\n");
    write(d.path(), "Cargo.toml", &m);
    let o = run(d.path(), &["--format", "short"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("Cargo.toml:10:21"), "{}", stderr(&o));
}

#[test]
fn project_pack_from_config_fires() {
    let d = two_module_crate();
    write(
        d.path(),
        "ssot-lint.toml",
        "[ssot]\nmodules = [\"app::database\"]\n[[pack]]\nname = \"internal\"\nresource = \"sql\"\n[[pack.constructor]]\npaths = [\"internal_db::connect\"]\n",
    );
    write(
        d.path(),
        "src/extra.rs",
        "pub fn f() { let _c = internal_db::connect(); }\n",
    );
    write(
        d.path(),
        "src/lib.rs",
        "pub mod database;\npub mod extra;\n",
    );
    std::fs::remove_file(d.path().join("src/handlers.rs")).expect("rm");
    let mut m = MANIFEST.to_string();
    m.push_str("internal-db = \"1\"\n");
    write(d.path(), "Cargo.toml", &m);
    let o = run(d.path(), &["--format", "short"]);
    assert_eq!(
        stdout(&o),
        "src/extra.rs:1:23: SSOT001 `internal_db::connect` builds a sql pool/client outside the SSOT module `app::database`\n"
    );
}

#[test]
fn paths_restrict_reporting_not_resolution() {
    let d = two_module_crate();
    write(
        d.path(),
        "ssot-lint.toml",
        "[ssot]\nmodules = [\"app::database\"]\n",
    );
    let o = run(d.path(), &["--format", "short", "src/database.rs"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let o = run(d.path(), &["--format", "short", "src/handlers.rs"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn cargo_subcommand_drops_its_own_name() {
    let d = two_module_crate();
    let o = Command::new(env!("CARGO_BIN_EXE_cargo-ssot-lint"))
        .current_dir(d.path())
        .args(["ssot-lint", "--format", "short"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stdout(&o).contains("SSOT006"));
}

#[test]
fn explain_and_list_rules() {
    let d = tempfile::tempdir().expect("tempdir");
    let o = run(d.path(), &["--explain", "SSOT001"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).starts_with("# SSOT001 (pool-outside-ssot)"));
    let o = run(d.path(), &["--explain", "pool-outside-ssot"]);
    assert_eq!(o.status.code(), Some(0));
    let o = run(d.path(), &["--explain", "SSOT999"]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(d.path(), &["--list-rules"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    for pack in [
        "sqlx",
        "redis",
        "mongodb",
        "lapin",
        "rdkafka",
        "deadpool-postgres",
        "rusqlite",
        "mysql_async",
        "mysql",
        "tiberius",
        "libsql",
        "surrealdb",
        "deadpool-sqlite",
        "deadpool-libsql",
        "deadpool-tiberius",
    ] {
        assert!(
            out.lines().any(|l| l.trim_start().starts_with(pack)),
            "{pack} missing:\n{out}"
        );
    }
}

#[test]
fn human_output_labels_the_expression_and_gives_help() {
    let d = two_module_crate();
    write(
        d.path(),
        "ssot-lint.toml",
        "[ssot]\nmodules = [\"app::database\"]\n[accessor]\nsql = \"crate::database::pool().await?\"\n",
    );
    let o = run(d.path(), &["--format", "human"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("SSOT001"), "{out}");
    assert!(out.contains("src/handlers.rs:2:16"), "{out}");
    assert!(out.contains("sqlx::PgPool::connect(url)"), "{out}");
    assert!(out.contains("crate::database::pool().await?"), "{out}");
}

#[test]
fn select_and_ignore() {
    let d = two_module_crate();
    let o = run(d.path(), &["--format", "short", "--ignore", "SSOT006"]);
    assert_eq!(o.status.code(), Some(0));
    let o = run(
        d.path(),
        &["--format", "short", "--select", "competing-ssot"],
    );
    assert_eq!(o.status.code(), Some(1));
    let o = run(d.path(), &["--format", "short", "--select", "SSOT42"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn unparsable_file_is_reported_and_the_run_goes_on() {
    let d = two_module_crate();
    write(
        d.path(),
        "ssot-lint.toml",
        "[ssot]\nmodules = [\"app::database\"]\n",
    );
    write(
        d.path(),
        "src/lib.rs",
        "pub mod database;\npub mod handlers;\npub mod broken;\n",
    );
    write(
        d.path(),
        "src/broken.rs",
        "fn f( {\n    let p = sqlx::PgPool::connect_lazy(\"x\");\n}\n",
    );
    let o = run(d.path(), &["--format", "short"]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        out.contains("src/broken.rs:1:") && out.contains("SSOT000 syntax error"),
        "{out}"
    );
    assert!(out.contains("src/handlers.rs:2:16: SSOT001"), "{out}");
}

/// A file no module tree reaches is still checked, as the module its path implies.
#[test]
fn unreached_file_is_checked_as_the_module_its_path_implies() {
    let d = two_module_crate();
    write(
        d.path(),
        "ssot-lint.toml",
        "[ssot]\nmodules = [\"app::database\"]\n",
    );
    write(
        d.path(),
        "src/database/extra.rs",
        "pub fn f() { let _p = sqlx::PgPool::connect_lazy(\"x\"); }\n",
    );
    write(
        d.path(),
        "src/old/legacy.rs",
        "pub fn f() { let _p = sqlx::PgPool::connect_lazy(\"x\"); }\n",
    );
    let o = run(d.path(), &["--format", "short"]);
    assert_eq!(
        stdout(&o),
        "src/handlers.rs:2:16: SSOT001 `sqlx::PgPool::connect` builds a sql pool/client outside the SSOT module `app::database`\n\
         src/old/legacy.rs:1:23: SSOT001 `sqlx::PgPool::connect_lazy` builds a sql pool/client outside the SSOT module `app::database`\n"
    );
}

/// The reference backend follows the pattern: the workspace, with its ssot-lint.toml (or
/// none), lints clean.
#[test]
fn own_workspace_and_reference_backend_are_clean() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let o = run(root, &["--format", "short"]);
    assert_eq!(stdout(&o), "");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(&root.join("backend"), &["--format", "short"]);
    assert_eq!(stdout(&o), "");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}
