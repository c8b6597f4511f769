//! The prefilter never changes findings: every fixture gives the same output (stdout and
//! exit status) with `--prefilter` and without it (every file parsed), and neither run
//! reports a disagreement between the lexer's module structure and the parser's.

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
        let with = run(case, &["--prefilter"]);
        let without = run(case, &[]);
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
        if with.1.contains("internal:") {
            failures.push(format!("== {}\n{}", case.display(), with.1));
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
