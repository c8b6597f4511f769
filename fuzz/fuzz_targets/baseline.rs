//! Arbitrary text as a baseline file (issue 23, item 8), applied to the findings of a fixed
//! crate, with and without `--prune-baseline`; held in memory (`ssot_lint::vfs::Memory`).
//!
//! What must hold: never a panic; a baseline that does not load is an error whose message is
//! bounded (it may quote what the parser read); one that loads hides exactly the findings it
//! matches, one per entry; with pruning, the file written back is a baseline that hides the
//! same findings again and has no entry gone.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use ssot_lint::Outcome;
use ssot_lint::vfs::{FileSystem, Memory};

const ROOT: &str = "/fuzz/input";

/// The fixed crate's outcome, linted once: findings of several rules in two files.
fn outcome() -> &'static Outcome {
    static O: OnceLock<Outcome> = OnceLock::new();
    O.get_or_init(|| {
        ssot_lint_fuzz::init();
        let mut files = std::collections::BTreeMap::new();
        files.insert(
            "src/lib.rs".to_string(),
            "pub mod db;\npub mod handlers;\n// ssot-lint: allow(SSOT001) nothing\npub fn f() {}\n".to_string(),
        );
        files.insert(
            "src/db.rs".to_string(),
            "pub async fn pool(url: &str) -> sqlx::Result<sqlx::PgPool> {\n    sqlx::PgPool::connect(url).await\n}\n".to_string(),
        );
        files.insert(
            "src/handlers.rs".to_string(),
            "pub async fn a(u: &str) { let _ = sqlx::PgPool::connect(u).await; }\npub async fn b(u: &str) { let _ = sqlx::PgPool::connect(u).await; }\npub async fn c(u: &str) { let _ = sqlx::PgPool::connect(u).await; }\n".to_string(),
        );
        let (view, root) = ssot_lint_fuzz::memory_tree(&files);
        let opts = ssot_lint::LintOptions {
            start: Some(root),
            ..Default::default()
        };
        let o = ssot_lint::lint(&view, &opts).expect("the fixed crate lints");
        assert!(o.findings.len() >= 4, "{:?}", o.findings);
        o
    })
}

fuzz_target!(|data: &[u8]| {
    let base = outcome();
    let path = PathBuf::from(ROOT).join("baseline.json");
    let view = Memory::new([(path.clone(), data.to_vec())]);
    for prune in [false, true] {
        let mut o = base.clone();
        o.root = PathBuf::from(ROOT);
        match ssot_lint::output::apply_baseline(&view, &path, prune, &mut o) {
            Ok(report) => {
                assert_eq!(base.findings.len() - o.findings.len(), report.hidden);
                if prune {
                    let Ok(written) = view.read_private(&path, u64::MAX) else {
                        panic!("--prune-baseline wrote nothing");
                    };
                    let again = Memory::new([(path.clone(), written)]);
                    let mut o2 = base.clone();
                    o2.root = PathBuf::from(ROOT);
                    let r2 = ssot_lint::output::apply_baseline(&again, &path, false, &mut o2)
                        .expect("a pruned baseline loads");
                    assert_eq!((r2.hidden, r2.gone), (report.hidden, 0));
                }
            }
            Err(e) => {
                let shown = ssot_lint_fuzz::render_error(&e);
                assert!(
                    shown.len() < 2_000,
                    "an error of {} bytes: {shown}",
                    shown.len()
                );
            }
        }
    }
    let _ = Path::new(ROOT);
});
