//! A file deleted, or replaced by a directory or a symlink, between discovery and read
//! (issue 10, item 12): the run reports it and goes on. The window is made deterministic by
//! a view over the disk that changes the tree when the unit's config is read: after
//! discovery, before any source is read. What it does to the tree is what a concurrent
//! `git checkout` or a hostile process could do there.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::vfs::{DirEntry, Disk, EntryKind, FileSystem, PrivateFile, ReadError, Walk};

type Hook = Box<dyn FnOnce() + Send>;

/// The disk, with a hook run once, right before `ssot-lint.toml` is first read.
struct Racing {
    hook: Mutex<Option<Hook>>,
}

impl FileSystem for Racing {
    fn lstat(&self, path: &Path) -> Option<EntryKind> {
        Disk.lstat(path)
    }
    fn stat(&self, path: &Path) -> Option<EntryKind> {
        Disk.stat(path)
    }
    fn canonicalize(&self, path: &Path) -> std::io::Result<PathBuf> {
        Disk.canonicalize(path)
    }
    fn check(&self, path: &Path, within: Option<&Path>) -> Result<PathBuf, ReadError> {
        Disk.check(path, within)
    }
    fn read(&self, path: &Path, within: Option<&Path>) -> Result<Vec<u8>, ReadError> {
        if path.ends_with("ssot-lint.toml")
            && let Some(hook) = self.hook.lock().ok().and_then(|mut h| h.take())
        {
            hook();
        }
        Disk.read(path, within)
    }
    fn read_dir(&self, dir: &Path) -> std::io::Result<Vec<DirEntry>> {
        Disk.read_dir(dir)
    }
    fn walk(&self, walk: &Walk) -> Vec<DirEntry> {
        Disk.walk(walk)
    }
    fn read_private(&self, path: &Path, max: u64) -> Result<Vec<u8>, Option<String>> {
        Disk.read_private(path, max)
    }
    fn create_private(&self, dir: &Path, name: &str) -> Result<Box<dyn PrivateFile>, String> {
        Disk.create_private(dir, name)
    }
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, text).expect("write");
}

/// A package whose lib has one SSOT001 (`src/handlers.rs`), a binary `src/main.rs` and a
/// module file `src/extra.rs`; `change` runs between discovery and read.
fn lint_with(change: impl FnOnce(&Path) + Send + 'static) -> (Vec<String>, Vec<String>) {
    let d = tempfile::tempdir().expect("tempdir");
    let root = d.path().canonicalize().expect("canonical");
    write(
        &root,
        "Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nsqlx = \"0.8\"\n",
    );
    write(&root, "ssot-lint.toml", "[ssot]\nmodules = [\"app::db\"]\n");
    write(&root, "src/lib.rs", "pub mod db;\npub mod handlers;\n");
    write(
        &root,
        "src/db.rs",
        "pub fn pool(url: &str) { let _ = sqlx::PgPool::connect_lazy(url); }\n",
    );
    write(
        &root,
        "src/handlers.rs",
        "pub fn h(url: &str) { let _ = sqlx::PgPool::connect_lazy(url); }\n",
    );
    write(&root, "src/main.rs", "mod extra;\nfn main() {}\n");
    write(&root, "src/extra.rs", "pub fn e() {}\n");
    let r = root.clone();
    let fs = Racing {
        hook: Mutex::new(Some(Box::new(move || change(&r)))),
    };
    let outcome = crate::engine::lint(
        &fs,
        &crate::engine::LintOptions {
            start: Some(root.clone()),
            ..Default::default()
        },
    )
    .expect("the run goes on");
    assert!(fs.hook.lock().is_ok_and(|h| h.is_none()), "the hook ran");
    let findings = outcome
        .findings
        .iter()
        .map(|f| {
            format!(
                "{}:{}:{}: {} {}",
                f.file, f.line, f.column, f.code, f.message
            )
        })
        .collect();
    (findings, outcome.warnings)
}

const SSOT001: &str = "src/handlers.rs:1:31: SSOT001 `sqlx::PgPool::connect_lazy` builds a sql pool/client outside the SSOT module `app::db`";

#[test]
fn nothing_changed() {
    let (findings, warnings) = lint_with(|_| {});
    assert_eq!(findings, [SSOT001]);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn a_target_root_deleted_after_discovery_is_reported() {
    let (findings, _) = lint_with(|root| {
        std::fs::remove_file(root.join("src/main.rs")).expect("rm");
    });
    assert_eq!(
        findings,
        [
            SSOT001.to_string(),
            "src/main.rs:1:1: SSOT000 cannot read file: no such file".to_string(),
        ]
    );
}

#[test]
fn a_target_root_replaced_by_a_directory_is_reported() {
    let (findings, _) = lint_with(|root| {
        std::fs::remove_file(root.join("src/main.rs")).expect("rm");
        std::fs::create_dir(root.join("src/main.rs")).expect("mkdir");
    });
    assert_eq!(
        findings,
        [
            SSOT001.to_string(),
            "src/main.rs:1:1: SSOT000 cannot read file: not a regular file; not read".to_string(),
        ]
    );
}

#[cfg(unix)]
#[test]
fn a_target_root_replaced_by_a_symlink_out_of_the_workspace_is_not_read() {
    let (findings, _) = lint_with(|root| {
        std::fs::remove_file(root.join("src/main.rs")).expect("rm");
        std::os::unix::fs::symlink("/etc/passwd", root.join("src/main.rs")).expect("symlink");
    });
    assert_eq!(
        findings,
        [
            SSOT001.to_string(),
            "src/main.rs:1:1: SSOT000 cannot read file: it resolves outside the workspace; not read"
                .to_string(),
        ]
    );
}

#[cfg(unix)]
#[test]
fn a_module_file_replaced_by_a_symlink_inside_is_read_through_it() {
    let (findings, warnings) = lint_with(|root| {
        std::fs::remove_file(root.join("src/extra.rs")).expect("rm");
        std::os::unix::fs::symlink("handlers.rs", root.join("src/extra.rs")).expect("symlink");
    });
    assert_eq!(
        findings,
        [
            "src/extra.rs:1:31: SSOT001 `sqlx::PgPool::connect_lazy` builds a sql pool/client outside the SSOT module `app::db`".to_string(),
            SSOT001.to_string(),
        ]
    );
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn a_module_file_deleted_after_discovery_is_a_warning() {
    let (findings, warnings) = lint_with(|root| {
        std::fs::remove_file(root.join("src/extra.rs")).expect("rm");
    });
    assert_eq!(findings, [SSOT001]);
    assert_eq!(
        warnings,
        ["src/main.rs:1: module `extra` not found (looked for src/extra.rs and src/extra/mod.rs)"]
    );
}
