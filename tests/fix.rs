//! `--fix`, `--diff`, `--unsafe-fixes`, `--allow-dirty`, run on temp copies.
//!
//! The fixture harness: every case directory under `fixtures/` that holds a `fixed/`
//! directory is copied to a temp dir (without `fixed/`) and fixed with
//! `--fix --unsafe-fixes` (plus the case's `args`); the tree must then equal `fixed/`
//! (`expected.short` and `args` aside), every `.rs` file must parse (no more syntax errors
//! than before), and a second run must change nothing. `SSOT_BLESS=1 cargo test` rewrites
//! the `fixed/` files from the actual output (review the diff before committing).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::{run, stderr, stdout, write};

fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).expect("read")
}

/// Every file below `dir` (relative path, bytes), skipping `target/` and, at the top,
/// the names in `skip_top`.
fn tree(dir: &Path, skip_top: &[&str]) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, skip_top: &[&str], out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
            let p = e.path();
            let rel = p
                .strip_prefix(root)
                .expect("prefix")
                .to_string_lossy()
                .replace('\\', "/");
            // Build output and the summary cache are not part of the tree.
            if (dir == root && skip_top.contains(&rel.as_str()))
                || rel == "target"
                || rel == ".ssot-lint-cache"
            {
                continue;
            }
            if p.is_dir() {
                walk(root, &p, skip_top, out);
            } else {
                out.insert(rel, std::fs::read(&p).expect("read"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, skip_top, &mut out);
    out
}

fn copy_tree(from: &Path, to: &Path, skip_top: &[&str]) {
    for (rel, bytes) in tree(from, skip_top) {
        let p = to.join(&rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, bytes).expect("write");
    }
}

fn syntax_errors(bytes: &[u8]) -> usize {
    ssot_lint::fix::syntax_errors(&String::from_utf8_lossy(bytes))
}

const MANIFEST: &str = "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nsqlx = { version = \"0.8\", features = [\"postgres\"] }\n";

const HANDLERS: &str = "\
//! Suppressions that suppress nothing.
pub async fn handler(url: &str) -> Result<(), sqlx::Error> {
    // the next line builds nothing
    // ssot-lint: allow(SSOT001) legacy pool, removed in #42
    let pool = crate::db::pool(url).await?;
    let _conn = pool.acquire().await?; // ssot-lint: allow(pool-outside-ssot)
    Ok(())
}

// ssot-lint: allow(SSOT002) nothing global here
pub fn nothing() {}
";

/// SSOT100's fix removes a comment with its line when it stands alone, and with the
/// blanks before it when it ends a line of code.
const HANDLERS_FIXED: &str = "\
//! Suppressions that suppress nothing.
pub async fn handler(url: &str) -> Result<(), sqlx::Error> {
    // the next line builds nothing
    let pool = crate::db::pool(url).await?;
    let _conn = pool.acquire().await?;
    Ok(())
}

pub fn nothing() {}
";

/// A crate whose only fixable findings are SSOT100 (unused suppressions) in `src/handlers.rs`.
fn suppression_crate() -> tempfile::TempDir {
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
        "pub async fn pool(url: &str) -> Result<sqlx::PgPool, sqlx::Error> {\n    sqlx::PgPool::connect(url).await\n}\n",
    );
    write(d.path(), "src/handlers.rs", HANDLERS);
    d
}

#[test]
fn fix_removes_unused_suppressions_byte_for_byte_and_is_idempotent() {
    let d = suppression_crate();
    let before = tree(d.path(), &[]);
    let o = run(d.path(), &["--fix", "--format", "short"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "", "nothing remains");
    assert!(
        stderr(&o).contains("fixed 3 findings in 1 file"),
        "{}",
        stderr(&o)
    );
    assert_eq!(read(d.path(), "src/handlers.rs"), HANDLERS_FIXED);
    // Only the fixed file changed, and no temp file was left behind.
    let mut expected = before.clone();
    expected.insert("src/handlers.rs".into(), HANDLERS_FIXED.as_bytes().to_vec());
    let after = tree(d.path(), &[]);
    assert_eq!(after, expected);
    assert_eq!(syntax_errors(HANDLERS_FIXED.as_bytes()), 0);

    let o = run(d.path(), &["--fix", "--format", "short"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("fixed 0 findings in 0 files"),
        "{}",
        stderr(&o)
    );
    assert_eq!(tree(d.path(), &[]), after, "a second --fix changes nothing");
}

#[test]
fn diff_prints_a_unified_diff_and_writes_nothing() {
    let d = suppression_crate();
    let before = tree(d.path(), &[]);
    let o = run(d.path(), &["--diff"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "\
--- a/src/handlers.rs
+++ b/src/handlers.rs
@@ -1,11 +1,9 @@
 //! Suppressions that suppress nothing.
 pub async fn handler(url: &str) -> Result<(), sqlx::Error> {
     // the next line builds nothing
-    // ssot-lint: allow(SSOT001) legacy pool, removed in #42
     let pool = crate::db::pool(url).await?;
-    let _conn = pool.acquire().await?; // ssot-lint: allow(pool-outside-ssot)
+    let _conn = pool.acquire().await?;
     Ok(())
 }
 \n-// ssot-lint: allow(SSOT002) nothing global here
 pub fn nothing() {}
"
    );
    assert!(
        stderr(&o).contains("would fix 3 findings in 1 file"),
        "{}",
        stderr(&o)
    );
    assert_eq!(tree(d.path(), &[]), before, "--diff writes nothing");

    // With --fix too, --diff still only prints.
    let o = run(d.path(), &["--fix", "--diff"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(tree(d.path(), &[]), before);

    // Nothing to change: no output, exit 0.
    run(d.path(), &["--fix"]);
    let o = run(d.path(), &["--diff"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
}

#[test]
fn unsafe_fixes_alone_changes_nothing() {
    let d = suppression_crate();
    let before = tree(d.path(), &[]);
    let o = run(d.path(), &["--unsafe-fixes", "--format", "short"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 3, "{}", stdout(&o));
    assert_eq!(tree(d.path(), &[]), before);
    // --allow-dirty alone is accepted too.
    let o = run(d.path(), &["--allow-dirty", "--format", "short"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(tree(d.path(), &[]), before);
}

fn git(dir: &Path, args: &[&str]) -> bool {
    Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn fix_refuses_uncommitted_changes_unless_allow_dirty() {
    let d = suppression_crate();
    if !git(d.path(), &["init", "-q"]) {
        eprintln!("git is not available; skipped");
        return;
    }
    assert!(git(d.path(), &["add", "."]));
    assert!(git(d.path(), &["commit", "-q", "-m", "init"]));

    // Uncommitted changes elsewhere do not block.
    let lib = read(d.path(), "src/lib.rs");
    write(d.path(), "src/lib.rs", &format!("{lib}// edited\n"));
    let o = run(d.path(), &["--diff"]);
    assert_eq!(o.status.code(), Some(1), "--diff never asks git");

    // An uncommitted change to a file the fix touches blocks --fix.
    let dirty = format!("{HANDLERS}// edited\n");
    write(d.path(), "src/handlers.rs", &dirty);
    let o = run(d.path(), &["--fix", "--format", "short"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("uncommitted changes to files that --fix would touch")
            && err.contains("src/handlers.rs")
            && err.contains("--allow-dirty"),
        "{err}"
    );
    assert!(!err.contains("src/lib.rs"), "{err}");
    assert_eq!(read(d.path(), "src/handlers.rs"), dirty, "nothing written");

    let o = run(d.path(), &["--fix", "--allow-dirty", "--format", "short"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        read(d.path(), "src/handlers.rs"),
        format!("{HANDLERS_FIXED}// edited\n")
    );

    // A committed tree needs no flag.
    write(d.path(), "src/handlers.rs", HANDLERS);
    assert!(git(d.path(), &["commit", "-q", "-am", "again"]));
    let o = run(d.path(), &["--fix"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(read(d.path(), "src/handlers.rs"), HANDLERS_FIXED);
}

/// A read-only file is reported and left alone, the other files are still fixed, and the
/// exit status is 2 (an error beats findings): the run did not do all it was asked to.
#[cfg(unix)]
#[test]
fn read_only_file_is_reported_and_the_others_are_fixed() {
    use std::os::unix::fs::PermissionsExt;
    let d = suppression_crate();
    write(
        d.path(),
        "src/lib.rs",
        "pub mod db;\npub mod handlers;\npub mod more;\n",
    );
    write(d.path(), "src/more.rs", HANDLERS);
    let more = d.path().join("src/more.rs");
    std::fs::set_permissions(&more, std::fs::Permissions::from_mode(0o444)).expect("chmod");
    let handlers = d.path().join("src/handlers.rs");
    std::fs::set_permissions(&handlers, std::fs::Permissions::from_mode(0o640)).expect("chmod");

    let o = run(d.path(), &["--fix", "--format", "short"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("cannot write src/more.rs") && err.contains("read-only"),
        "{err}"
    );
    assert!(err.contains("fixed 3 findings in 1 file"), "{err}");
    assert_eq!(read(d.path(), "src/handlers.rs"), HANDLERS_FIXED);
    assert_eq!(read(d.path(), "src/more.rs"), HANDLERS);
    // The remaining findings are those of the read-only file.
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 3, "{out}");
    assert!(out.lines().all(|l| l.starts_with("src/more.rs:")), "{out}");
    // Permissions are kept, of the rewritten file and of the read-only one.
    let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(&handlers), 0o640);
    assert_eq!(mode(&more), 0o444);
    let files = tree(d.path(), &[]);
    assert!(
        !files.keys().any(|k| k.contains(".ssot-lint-")),
        "no temp file left: {:?}",
        files.keys()
    );
}

#[cfg(unix)]
#[test]
fn fix_writes_through_a_symlink() {
    let d = suppression_crate();
    let real = d.path().join("real_handlers.rs");
    std::fs::rename(d.path().join("src/handlers.rs"), &real).expect("mv");
    std::os::unix::fs::symlink(&real, d.path().join("src/handlers.rs")).expect("symlink");
    let o = run(d.path(), &["--fix"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let link = std::fs::symlink_metadata(d.path().join("src/handlers.rs")).expect("meta");
    assert!(link.file_type().is_symlink(), "the link stays a link");
    assert_eq!(
        std::fs::read_to_string(&real).expect("read"),
        HANDLERS_FIXED
    );
}

#[test]
fn a_file_that_is_not_utf8_is_not_fixed() {
    let d = suppression_crate();
    let mut bytes = HANDLERS.as_bytes().to_vec();
    bytes.extend_from_slice(b"// \xff\xfe latin-1 residue\n");
    std::fs::write(d.path().join("src/handlers.rs"), &bytes).expect("write");
    let o = run(d.path(), &["--fix", "--format", "short"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("not valid UTF-8"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(d.path().join("src/handlers.rs")).expect("read"),
        bytes
    );
}

/// Fix a copy of `case` and compare with `expected` (a tree), then check parse and
/// idempotency. `only_ext` limits the comparison to files with these extensions.
fn check_fixed_case(
    case: &Path,
    expected_dir: &Path,
    skip_top: &[&str],
    only_ext: Option<&[&str]>,
) -> Result<(), String> {
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let work = tmp.path();
    copy_tree(case, work, skip_top);
    let original = tree(work, &[]);
    let mut args = vec![
        "--fix".to_string(),
        "--unsafe-fixes".into(),
        "--format".into(),
        "short".into(),
    ];
    if let Ok(a) = std::fs::read_to_string(case.join("args")) {
        args.extend(
            a.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(String::from),
        );
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = run(work, &args);
    let mut problems = Vec::new();
    if !matches!(o.status.code(), Some(0 | 1)) {
        problems.push(format!(
            "--fix exit status {:?}; stderr:\n{}",
            o.status.code(),
            stderr(&o)
        ));
    }
    let ignored = ["expected.short", "args"];
    let keep = |rel: &String| {
        !ignored.contains(&rel.as_str())
            && only_ext.is_none_or(|exts| {
                Path::new(rel)
                    .extension()
                    .is_some_and(|x| exts.iter().any(|e| x == *e))
            })
    };
    let fixed: BTreeMap<String, Vec<u8>> = tree(work, &[])
        .into_iter()
        .filter(|(k, _)| keep(k))
        .collect();
    let expected: BTreeMap<String, Vec<u8>> = tree(expected_dir, &[])
        .into_iter()
        .filter(|(k, _)| keep(k))
        .collect();
    if fixed != expected {
        if std::env::var_os("SSOT_BLESS").is_some() {
            for (rel, bytes) in &fixed {
                if expected.get(rel) != Some(bytes) {
                    let p = expected_dir.join(rel);
                    std::fs::create_dir_all(p.parent().expect("parent"))
                        .map_err(|e| e.to_string())?;
                    std::fs::write(p, bytes).map_err(|e| e.to_string())?;
                }
            }
        } else {
            let names: std::collections::BTreeSet<&String> =
                fixed.keys().chain(expected.keys()).collect();
            for rel in names {
                match (expected.get(rel), fixed.get(rel)) {
                    (Some(a), Some(b)) if a == b => {}
                    (Some(a), Some(b)) => {
                        let (a, b) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
                        let diff = similar::TextDiff::from_lines(&a, &b);
                        problems.push(format!(
                            "{rel} differs (- expected, + actual):\n{}",
                            diff.unified_diff().context_radius(2)
                        ));
                    }
                    (Some(_), None) => problems.push(format!("{rel} missing after the fix")),
                    (None, Some(_)) => problems.push(format!("{rel} not in the expected tree")),
                    (None, None) => {}
                }
            }
        }
    }
    for (rel, bytes) in tree(work, &[]) {
        if rel.ends_with(".rs") {
            let before = original.get(&rel).map_or(0, |b| syntax_errors(b));
            let after = syntax_errors(&bytes);
            if after > before {
                problems.push(format!(
                    "{rel}: {after} syntax errors after the fix, {before} before"
                ));
            }
        }
    }
    let after_first = tree(work, &[]);
    let o = run(work, &args);
    if tree(work, &[]) != after_first {
        problems.push(format!(
            "a second --fix changed the tree; stderr:\n{}",
            stderr(&o)
        ));
    }
    let o = run(work, &["--diff", "--unsafe-fixes"]);
    if o.status.code() != Some(0) || !stdout(&o).is_empty() {
        problems.push(format!(
            "the fixed tree is still fixable:\n{}{}",
            stdout(&o),
            stderr(&o)
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

fn cases_with_fixed(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if !p.is_dir() {
            continue;
        }
        if p.join("fixed").is_dir() && p.join("Cargo.toml").is_file() {
            out.push(p);
        } else if p
            .file_name()
            .is_some_and(|n| n != "src" && n != "target" && n != "fixed")
        {
            cases_with_fixed(&p, out);
        }
    }
}

/// Cases whose `fixed/` tree is right and the tool is not yet (relative to `fixtures/`,
/// with why). They are run and their differences printed, but do not fail the test; a
/// listed case that passes does, so the entry gets removed.
const KNOWN_WRONG: &[(&str, &str)] = &[];

/// Every fixture case with a `fixed/` tree fixes to it, parses, and converges.
#[test]
fn fixture_cases_fix_to_their_fixed_tree() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut list = Vec::new();
    cases_with_fixed(&root, &mut list);
    let mut failures = Vec::new();
    for case in &list {
        let rel = case
            .strip_prefix(&root)
            .expect("prefix")
            .to_string_lossy()
            .replace('\\', "/");
        let known = KNOWN_WRONG.iter().find(|(k, _)| *k == rel);
        match (
            check_fixed_case(case, &case.join("fixed"), &["fixed"], None),
            known,
        ) {
            (Ok(()), None) => {}
            (Ok(()), Some(_)) => failures.push(format!(
                "== {rel} passes now: remove it from KNOWN_WRONG in tests/fix.rs"
            )),
            (Err(e), Some((_, why))) => eprintln!("== {rel} (known wrong: {why})\n{e}"),
            (Err(e), None) => failures.push(format!("== {rel}\n{e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        list.len(),
        failures.join("\n")
    );
}

/// `fixtures/incident` fixes to `fixtures/incident.fixed` (its `.rs` and `.toml` files).
#[test]
fn incident_fixes_to_incident_fixed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    if let Err(e) = check_fixed_case(
        &root.join("incident"),
        &root.join("incident.fixed"),
        &[],
        Some(&["rs", "toml"]),
    ) {
        panic!("{e}");
    }
    // The fixed tree parses outright.
    for (rel, bytes) in tree(&root.join("incident.fixed"), &[]) {
        if rel.ends_with(".rs") {
            assert_eq!(syntax_errors(&bytes), 0, "{rel}");
        }
    }
}
