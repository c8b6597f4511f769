//! A `--fix` killed with SIGKILL at any point leaves every file wholly old or wholly new.
//!
//! The crate has 20 files with unused suppressions (SSOT100, safe fixes). A reference run
//! gives the fixed texts and the run's duration; then the run is repeated on the original
//! tree and killed after delays spread over that duration (denser near its end, where the
//! writes are), and every file is compared with its old and its new text.

#![cfg(unix)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const FILES: usize = 20;
const RUNS: usize = 30;
/// Stop early past this (a loaded machine makes each run slower), after at least `MIN_RUNS`.
const BUDGET: Duration = Duration::from_secs(14);
const MIN_RUNS: usize = 10;

fn module(i: usize) -> String {
    let mut s = format!("//! Module {i}: every suppression here is stale.\n");
    for j in 0..12 {
        s.push_str(&format!(
            "\n// ssot-lint: allow(SSOT002) stale since #{i}{j}\npub fn f{j}() -> usize {{\n    {j} // ssot-lint: allow(SSOT001) nothing built\n}}\n"
        ));
    }
    s
}

fn sources() -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    m.insert(
        "Cargo.toml".to_string(),
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nsqlx = { version = \"0.8\", features = [\"postgres\"] }\n".to_string(),
    );
    m.insert(
        "ssot-lint.toml".to_string(),
        "[ssot]\nmodules = [\"app::db\"]\n".to_string(),
    );
    let mut lib = String::from("pub mod db;\n");
    for i in 0..FILES {
        lib.push_str(&format!("pub mod m{i};\n"));
        m.insert(format!("src/m{i}.rs"), module(i));
    }
    m.insert("src/lib.rs".to_string(), lib);
    m.insert(
        "src/db.rs".to_string(),
        "pub async fn pool(url: &str) -> Result<sqlx::PgPool, sqlx::Error> {\n    sqlx::PgPool::connect(url).await\n}\n".to_string(),
    );
    m
}

/// Put the original tree back: the files, and no leftover temp files.
fn restore(dir: &Path, files: &BTreeMap<String, String>) {
    let src = dir.join("src");
    if let Ok(rd) = std::fs::read_dir(&src) {
        for e in rd.flatten() {
            let _ = std::fs::remove_file(e.path());
        }
    }
    for (rel, text) in files {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }
}

fn fix_cmd(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ssot-lint"));
    c.current_dir(dir)
        .args(["--fix", "--format", "short"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

/// A small xorshift: the delays vary from run to run without a dependency.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn sigkill_leaves_each_file_old_or_new() {
    let original = sources();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    restore(dir, &original);

    // The reference run: the fixed texts, and how long a run takes.
    let t0 = Instant::now();
    let status = fix_cmd(dir).status().expect("run");
    let full = t0.elapsed();
    assert_eq!(status.code(), Some(0), "the reference run fixes everything");
    let fixed: BTreeMap<String, String> = original
        .keys()
        .map(|rel| {
            let t = std::fs::read_to_string(dir.join(rel)).expect("read");
            (rel.clone(), t)
        })
        .collect();
    let changed = original.iter().filter(|(k, v)| fixed[*k] != **v).count();
    assert_eq!(changed, FILES, "every module file is fixed");

    let mut seed = 0x9e37_79b9_7f4a_7c15u64
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
    let full_us = full.as_micros().max(1) as u64;
    let (mut all_old, mut all_new, mut mixed) = (0, 0, 0);
    let mut failures = Vec::new();
    let started = Instant::now();
    let mut runs = 0;
    for run in 0..RUNS {
        if run >= MIN_RUNS && started.elapsed() > BUDGET {
            break;
        }
        runs += 1;
        restore(dir, &original);
        // A third of the runs anywhere in [0, 1.1 x full], the rest in [0.55, 1.05 x full],
        // where the files are written (before the final lint).
        let r = next(&mut seed) % 1000;
        let delay_us = if run % 3 == 0 {
            full_us * 11 * r / 10_000
        } else {
            full_us * 55 / 100 + full_us * 5 * r / 10_000
        };
        let mut child = fix_cmd(dir).spawn().expect("spawn");
        std::thread::sleep(Duration::from_micros(delay_us));
        let _ = child.kill(); // SIGKILL; fails only when the run has already ended
        let _ = child.wait();
        let (mut old, mut new) = (0, 0);
        for (rel, before) in &original {
            let now = std::fs::read(dir.join(rel)).expect("every file still exists");
            if now == before.as_bytes() {
                old += 1;
            }
            if now == fixed[rel].as_bytes() {
                new += 1;
            }
            if now != before.as_bytes() && now != fixed[rel].as_bytes() {
                failures.push(format!(
                    "run {run} (killed after {delay_us} us): {rel} is neither old nor new ({} bytes)",
                    now.len()
                ));
            }
        }
        // Besides the crate's files, at most the temp file of the write in progress.
        for e in std::fs::read_dir(dir.join("src"))
            .expect("read_dir")
            .flatten()
        {
            let name = e.file_name().to_string_lossy().into_owned();
            let known = original.contains_key(&format!("src/{name}"));
            let temp = name.starts_with(".ssot-lint-") && name.ends_with(".tmp");
            if !known && !temp {
                failures.push(format!("run {run}: unexpected file src/{name}"));
            }
        }
        if new == original.len() {
            all_new += 1;
        } else if old == original.len() {
            all_old += 1;
        } else {
            mixed += 1;
        }
    }
    eprintln!(
        "{runs} runs of ~{full:?}: {all_old} killed before writing, {mixed} mid-write, {all_new} after"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
