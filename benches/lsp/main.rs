//! The language server's latency benchmark (not a timed test): `cargo bench --bench lsp`.
//!
//! It writes a generated backend workspace (`workspace.rs`: by default 10 service crates of
//! 50 modules of about 210 lines, about 100,000 lines of Rust), starts `ssot-lint server`
//! (the release build) and drives it over stdio as an editor does: `initialize`, `didOpen`
//! of a module that runs queries through the SSOT, then keystrokes: each an incremental
//! `didChange` that types or deletes one character inside a function body, never saved.
//! A keystroke's latency is the time from writing its `didChange` to reading the
//! `publishDiagnostics` of its version (the server's debounce included, at its default).
//! The first keystrokes warm the server up; the figures are over the rest: median, 90th
//! percentile, minimum and maximum, and the server's mean CPU time per keystroke (user +
//! system, from `/proc`: less sensitive to other load on the machine than the wall time).
//!
//! Options: `--crates N` (10), `--modules N` (50), `--lines N` (210), `--keystrokes N` (50),
//! `--warmup N` (10), `--pause-ms N` (between keystrokes, 100: a fast typist), `--dir DIR`
//! (an existing workspace instead, with `--file REL` the file to type into), `--keep` (keep
//! the generated workspace), `--bin PATH` (another build of `ssot-lint` to drive).

#[path = "../../tests/common/lsp.rs"]
mod client;
mod workspace;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::json;

fn opt<T: std::str::FromStr>(args: &[String], name: &str) -> Option<T> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
}

/// User + system CPU time of a process so far (Linux `/proc`, in clock ticks), in seconds.
#[cfg(target_os = "linux")]
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces), from its closing parenthesis.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    // SAFETY: sysconf only reads a configuration value.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    Some(ticks / hz)
}

#[cfg(not(target_os = "linux"))]
fn cpu_seconds(_pid: u32) -> Option<f64> {
    None
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let shape = workspace::Shape {
        crates: opt(&args, "--crates").unwrap_or(10),
        modules: opt(&args, "--modules").unwrap_or(50),
        lines: opt(&args, "--lines").unwrap_or(210),
    };
    let keystrokes: usize = opt(&args, "--keystrokes").unwrap_or(50);
    let warmup: usize = opt(&args, "--warmup").unwrap_or(10);
    let pause = Duration::from_millis(opt(&args, "--pause-ms").unwrap_or(100));
    let (root, rel, generated) = match opt::<PathBuf>(&args, "--dir") {
        Some(dir) => {
            let rel: String = opt(&args, "--file").expect("--file REL with --dir");
            (dir.canonicalize().expect("--dir"), rel, false)
        }
        None => {
            let root = workspace::temp_root("lsp-bench");
            let lines = workspace::generate(&root, &shape);
            println!(
                "workspace: {} crates x {} modules, {lines} lines of Rust, in {}",
                shape.crates + 2,
                shape.modules,
                root.display()
            );
            (root, workspace::edited_file(&shape), true)
        }
    };
    // `--bin PATH`: another build of the server (to compare two builds on one workspace).
    let bin_arg: Option<String> = opt(&args, "--bin");
    let bin = bin_arg
        .as_deref()
        .unwrap_or(env!("CARGO_BIN_EXE_ssot-lint"));
    let path = root.join(&rel);
    let text = std::fs::read_to_string(&path).expect("the file to type into");
    // Type at the end of the first `let mut out` (inside a function body).
    let anchor = "let mut out";
    let at = text.find(anchor).expect("a `let mut out` to type into") + anchor.len();
    let line = text[..at].matches('\n').count() as u64;
    let col = (at - text[..at].rfind('\n').map_or(0, |i| i + 1)) as u64;

    // The server's summary cache in a cache home of its own (not the user's), removed after.
    let cache_home = workspace::temp_root("lsp-bench-cache");
    let mut c = client::Client::start(bin, &root, &cache_home);
    let pid = c.pid();
    let t0 = Instant::now();
    client::initialize(&mut c, &root, json!({}));
    let uri = client::uri(&path);
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "rust", "version": 0, "text": text}}),
    );
    let first = c.diagnostics(&uri, 0);
    let cold = t0.elapsed();
    println!(
        "first diagnostics (cold: start, initialize, open, first lint): {:.0} ms, {} diagnostics",
        cold.as_secs_f64() * 1000.0,
        first.len()
    );

    let mut wall = Vec::new();
    let mut cpu_at_start = None;
    for k in 1..=(warmup + keystrokes) {
        if k == warmup + 1 {
            cpu_at_start = cpu_seconds(pid);
        }
        std::thread::sleep(pause);
        // Odd keystrokes type an `x`, even ones delete it.
        let change = if k % 2 == 1 {
            json!({"range": {"start": {"line": line, "character": col},
                             "end": {"line": line, "character": col}}, "text": "x"})
        } else {
            json!({"range": {"start": {"line": line, "character": col},
                             "end": {"line": line, "character": col + 1}}, "text": ""})
        };
        let t = Instant::now();
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": k}, "contentChanges": [change]}),
        );
        let d = c.diagnostics(&uri, k as i64);
        let dt = t.elapsed().as_secs_f64() * 1000.0;
        assert_eq!(d.len(), first.len(), "a keystroke changed the findings");
        if k > warmup {
            wall.push(dt);
        }
    }
    let cpu = cpu_at_start
        .zip(cpu_seconds(pid))
        .map_or(f64::NAN, |(a, b)| (b - a) * 1000.0 / keystrokes as f64);
    assert!(c.shutdown().success(), "the server did not exit cleanly");
    wall.sort_by(f64::total_cmp);
    println!(
        "keystroke -> diagnostics, {} keystrokes after {warmup} to warm up, {} ms apart:",
        wall.len(),
        pause.as_millis()
    );
    println!(
        "  wall ms: median {:.1}, p90 {:.1}, min {:.1}, max {:.1}",
        percentile(&wall, 0.5),
        percentile(&wall, 0.9),
        wall.first().copied().unwrap_or(f64::NAN),
        wall.last().copied().unwrap_or(f64::NAN)
    );
    println!("  server CPU per keystroke (user+system, mean): {cpu:.1} ms");
    println!(
        "  budget: median <= 50 ms: {}",
        if percentile(&wall, 0.5) <= 50.0 {
            "met"
        } else {
            "NOT met"
        }
    );
    let _ = std::fs::remove_dir_all(&cache_home);
    if generated && !args.iter().any(|a| a == "--keep") {
        let _ = std::fs::remove_dir_all(&root);
    }
}
