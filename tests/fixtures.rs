//! Runs the binary over every fixture case and compares its full `short` output.
//!
//! A case is a directory under `fixtures/` with an `expected.short` (empty: must stay
//! silent) and, optionally, an `args` file (one extra argument per line). The exit status
//! must be 1 when findings are expected and 0 otherwise. `SSOT_BLESS=1 cargo test` rewrites
//! the expected files from the current output (review the diff before committing).

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

fn run_case(case: &Path) -> Result<(), String> {
    let expected_path = case.join("expected.short");
    let expected = std::fs::read_to_string(&expected_path).map_err(|e| e.to_string())?;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ssot-lint"));
    cmd.current_dir(case).arg("--format").arg("short");
    if let Ok(args) = std::fs::read_to_string(case.join("args")) {
        cmd.args(
            args.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#')),
        );
    }
    let out = cmd.output().map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if std::env::var_os("SSOT_BLESS").is_some() && stdout != expected {
        std::fs::write(&expected_path, &stdout).map_err(|e| e.to_string())?;
        return Ok(());
    }
    let mut problems = Vec::new();
    if stdout != expected {
        let diff = similar::TextDiff::from_lines(&expected, &stdout);
        problems.push(format!(
            "output differs (- expected, + actual):\n{}",
            diff.unified_diff().context_radius(1)
        ));
    }
    let want = if expected.trim().is_empty() { 0 } else { 1 };
    if out.status.code() != Some(want) {
        problems.push(format!(
            "exit status {:?}, expected {want}; stderr:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

fn check_all(subdir: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(subdir);
    let mut list = Vec::new();
    if root.join("expected.short").is_file() {
        list.push(root.clone());
    }
    cases(&root, &mut list);
    assert!(
        !list.is_empty(),
        "no fixture cases under {}",
        root.display()
    );
    let failures: Vec<String> = list
        .iter()
        .filter_map(|c| {
            run_case(c)
                .err()
                .map(|e| format!("== {}\n{e}", c.display()))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        list.len(),
        failures.join("\n")
    );
}

#[test]
fn rule_packs() {
    check_all("packs");
}

#[test]
fn resolution_cases() {
    check_all("resolution");
}

#[test]
fn rules() {
    check_all("rules");
}

/// Issue 20's shapes: a resource is a database, not a kind.
#[test]
fn resources() {
    check_all("resources");
}

#[test]
fn incident() {
    check_all("incident");
}

#[test]
fn incident_fixed() {
    check_all("incident.fixed");
}

/// Every pack in lints/ has a fixture that fires and one that stays silent.
#[test]
fn every_pack_has_fire_and_silent_fixtures() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut missing = Vec::new();
    for e in std::fs::read_dir(root.join("lints")).expect("lints/") {
        let p = e.expect("entry").path();
        if p.extension().is_some_and(|x| x == "toml") {
            let name = p.file_stem().expect("stem").to_string_lossy().to_string();
            for kind in ["fire", "silent"] {
                let exp = root
                    .join("fixtures/packs")
                    .join(&name)
                    .join(kind)
                    .join("expected.short");
                match std::fs::read_to_string(&exp) {
                    Ok(t) if kind == "fire" && t.trim().is_empty() => {
                        missing.push(format!("{name}/fire is empty"))
                    }
                    Ok(t) if kind == "silent" && !t.trim().is_empty() => {
                        missing.push(format!("{name}/silent fires"))
                    }
                    Ok(_) => {}
                    Err(_) => missing.push(format!("{name}/{kind} missing")),
                }
            }
        }
    }
    assert!(missing.is_empty(), "{missing:?}");
}
