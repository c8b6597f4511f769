//! The human (miette) output, snapshotted at a fixed width with no colour.

use std::path::Path;
use std::process::Command;

#[test]
fn incident_human_output() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/incident");
    let out = Command::new(env!("CARGO_BIN_EXE_ssot-lint"))
        .current_dir(&dir)
        .env("COLUMNS", "100")
        .env("NO_COLOR", "1")
        .args(["--format", "human", "--select", "SSOT001,SSOT004,SSOT005"])
        .output()
        .expect("run ssot-lint");
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
}

/// SSOT007 on the incident: the start-up path that reaches the failing accessor, shown as a
/// numbered call chain under the finding, with the spawned initialization that comes too
/// late.
#[test]
fn incident_chain_human_output() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/incident");
    let out = Command::new(env!("CARGO_BIN_EXE_ssot-lint"))
        .current_dir(&dir)
        .env("COLUMNS", "100")
        .env("NO_COLOR", "1")
        .args(["--format", "human", "--select", "SSOT007"])
        .output()
        .expect("run ssot-lint");
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
}
