//! The performance benchmark (not a timed test): `cargo bench --bench corpus -- DIR`.
//!
//! Over a directory of Rust code, in one run, with paired runs per repetition: the files,
//! lines and MB; the parse-only time (every `.rs` file parsed with `ra_ap_syntax` at its
//! package's edition, nothing else: the limit of a linter that parses everything); the cold
//! lint (`ssot-lint --format short DIR`, the prefilter on); their ratio to the parse; peak
//! memory (max RSS via GNU time when `/usr/bin/time` exists); CPU seconds (user + system,
//! less sensitive to other load than the wall time); and ast-grep's 2-pattern rule when
//! ast-grep is installed.
//!
//! Then the summary cache on a copy of the directory (the directory itself is never written):
//! cold (empty cache), warm (nothing changed) and one file changed, paired, with their CPU
//! seconds (`--no-cache-runs` skips them). The runs above use `--no-cache`.
//!
//! Options: `--threads N` (default 2), `--runs N` (default 5), `--ast-grep PATH`,
//! `--rule PATH` (default ../shared/bench/queries/ast-grep-rule.yml next to the repo),
//! `--no-prefilter-too` (also time `--no-prefilter`, which parses every file),
//! `--one-thread-too` (also time the cold lint on 1 thread: the speed-up from 1 to N).
//! `--parse-only DIR` is the parse worker it runs as a child.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use rayon::prelude::*;

// The same allocator as the linter's binaries, so the parse-only limit is measured the way the
// linter parses.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn rs_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "rs"))
        .map(|e| e.into_path())
        .collect();
    v.sort();
    v
}

/// `edition = "20xx"` of the nearest Cargo.toml's [package] (naive line scan).
fn edition_of(file: &Path, root: &Path) -> ra_ap_syntax::Edition {
    use ra_ap_syntax::Edition;
    for dir in file.ancestors().skip(1) {
        let m = dir.join("Cargo.toml");
        if let Ok(text) = std::fs::read_to_string(&m) {
            let mut in_pkg = false;
            for l in text.lines().map(str::trim) {
                if l.starts_with('[') {
                    in_pkg = l == "[package]";
                } else if in_pkg
                    && l.starts_with("edition")
                    && let Some(v) = l.split('"').nth(1)
                {
                    return match v {
                        "2018" => Edition::Edition2018,
                        "2021" => Edition::Edition2021,
                        "2024" => Edition::Edition2024,
                        _ => Edition::Edition2015,
                    };
                }
            }
            return Edition::Edition2015;
        }
        if dir == root {
            break;
        }
    }
    ra_ap_syntax::Edition::Edition2015
}

fn parse_only(dir: &Path) {
    let files = rs_files(dir);
    let errs: usize = files
        .par_iter()
        .map(|f| {
            let ed = edition_of(f, dir);
            let Ok(b) = std::fs::read(f) else { return 0 };
            let text = String::from_utf8_lossy(&b);
            let p = ra_ap_syntax::SourceFile::parse(&text, ed);
            usize::from(!p.errors().is_empty())
        })
        .sum();
    println!("parsed {} files, {errs} with errors", files.len());
}

struct Sample {
    wall: f64,
    rss_mb: Option<f64>,
    cpu: Option<f64>,
}

fn time_cmd(mut argv: Vec<String>, threads: usize, cwd: &Path) -> Sample {
    let time = Path::new("/usr/bin/time");
    let tmp = std::env::temp_dir().join(format!("ssot-bench-time-{}", std::process::id()));
    if time.exists() {
        let mut v = vec![
            time.display().to_string(),
            "-f".into(),
            "%U %S %M".into(),
            "-o".into(),
            tmp.display().to_string(),
        ];
        v.append(&mut argv);
        argv = v;
    }
    let t = Instant::now();
    let out = Command::new(&argv[0])
        .args(&argv[1..])
        .current_dir(cwd)
        .env("RAYON_NUM_THREADS", threads.to_string())
        .output();
    let wall = t.elapsed().as_secs_f64();
    if let Ok(o) = &out
        && !matches!(o.status.code(), Some(0 | 1))
    {
        eprintln!(
            "warning: {:?} exited {:?}: {}",
            argv,
            o.status.code(),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    // GNU time's last line: user s, system s, max RSS KB.
    let fields: Vec<f64> = std::fs::read_to_string(&tmp)
        .ok()
        .and_then(|s| s.lines().last().map(str::to_string))
        .map(|l| {
            l.split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    let (cpu, rss_mb) = match fields[..] {
        [u, s, kb] => (Some(u + s), Some(kb * 1024.0 / 1e6)),
        _ => (None, None),
    };
    Sample { wall, rss_mb, cpu }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        return f64::NAN;
    }
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    ssot_lint::alloc::tune();
    if let Some(i) = args.iter().position(|a| a == "--parse-only") {
        parse_only(Path::new(&args[i + 1]));
        return;
    }
    let opt = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let flags: Vec<&String> = {
        let mut skip = false;
        let mut v = Vec::new();
        for a in &args {
            if skip {
                skip = false;
                continue;
            }
            if matches!(a.as_str(), "--threads" | "--runs" | "--ast-grep" | "--rule") {
                skip = true;
                continue;
            }
            v.push(a);
        }
        v
    };
    let Some(dir) = flags.iter().find(|a| !a.starts_with("--")) else {
        // `cargo bench` without a directory (e.g. `cargo bench --workspace`): nothing to do.
        eprintln!("usage: cargo bench --bench corpus -- DIR [--threads N] [--runs N]");
        return;
    };
    let dir = PathBuf::from(dir)
        .canonicalize()
        .expect("benchmark directory");
    let threads: usize = opt("--threads").and_then(|s| s.parse().ok()).unwrap_or(2);
    let runs: usize = opt("--runs").and_then(|s| s.parse().ok()).unwrap_or(5);
    let no_pf = flags.iter().any(|a| *a == "--no-prefilter-too");
    let one_thread = flags.iter().any(|a| *a == "--one-thread-too");
    let lint = env!("CARGO_BIN_EXE_ssot-lint").to_string();
    let me = std::env::current_exe()
        .expect("current exe")
        .display()
        .to_string();
    let ast_grep = opt("--ast-grep").or_else(|| {
        let p = "/tmp/astgrep/node_modules/.bin/ast-grep";
        Path::new(p).exists().then(|| p.to_string())
    });
    let rule = opt("--rule").unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/bench/queries/ast-grep-rule.yml")
            .display()
            .to_string()
    });

    let files = rs_files(&dir);
    let (mut lines, mut bytes) = (0usize, 0u64);
    for f in &files {
        if let Ok(b) = std::fs::read(f) {
            bytes += b.len() as u64;
            lines += b.iter().filter(|c| **c == b'\n').count();
        }
    }
    println!(
        "corpus: {} ({} .rs files, {} lines, {:.1} MB); {threads} threads, {runs} paired runs (+1 warm-up), medians",
        dir.display(),
        files.len(),
        lines,
        bytes as f64 / 1e6
    );

    let d = dir.display().to_string();
    let mut cmds: Vec<(&str, Vec<String>)> = vec![
        (
            "parse-only",
            vec![me.clone(), "--parse-only".into(), d.clone()],
        ),
        (
            "ssot-lint (cold)",
            vec![
                lint.clone(),
                "--no-cache".into(),
                "--format".into(),
                "short".into(),
                d.clone(),
            ],
        ),
    ];
    // The 1-thread run (its index) overrides the thread count.
    let mut one: Option<usize> = None;
    if no_pf {
        cmds.push((
            "ssot-lint --no-prefilter (every file parsed)",
            vec![
                lint.clone(),
                "--no-prefilter".into(),
                "--no-cache".into(),
                "--format".into(),
                "short".into(),
                d.clone(),
            ],
        ));
    }
    if one_thread {
        one = Some(cmds.len());
        cmds.push((
            "ssot-lint (cold, 1 thread)",
            vec![
                lint.clone(),
                "--no-cache".into(),
                "--format".into(),
                "short".into(),
                d.clone(),
            ],
        ));
    }
    if let Some(ag) = &ast_grep {
        cmds.push((
            "ast-grep scan (2 patterns)",
            vec![
                ag.clone(),
                "scan".into(),
                format!("-j{threads}"),
                "-r".into(),
                rule.clone(),
                d.clone(),
            ],
        ));
    } else {
        println!("ast-grep not found (npm install --prefix /tmp/astgrep @ast-grep/cli): skipped");
    }
    let mut walls: Vec<Vec<f64>> = vec![Vec::new(); cmds.len()];
    let mut rss: Vec<Vec<f64>> = vec![Vec::new(); cmds.len()];
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); cmds.len()];
    let mut cpus: Vec<Vec<f64>> = vec![Vec::new(); cmds.len()];
    for r in 0..=runs {
        let samples: Vec<Sample> = cmds
            .iter()
            .enumerate()
            .map(|(i, (_, argv))| {
                let n = if one == Some(i) { 1 } else { threads };
                time_cmd(argv.clone(), n, &dir)
            })
            .collect();
        if r == 0 {
            continue; // warm-up
        }
        for (i, s) in samples.iter().enumerate() {
            walls[i].push(s.wall);
            if let Some(m) = s.rss_mb {
                rss[i].push(m);
            }
            if let Some(c) = s.cpu {
                cpus[i].push(c);
            }
            ratios[i].push(s.wall / samples[0].wall);
        }
    }
    println!(
        "| what | wall s | / parse-only (paired) | CPU s (user+sys) | peak RSS MB |\n| --- | ---: | ---: | ---: | ---: |"
    );
    for (i, (name, _)) in cmds.iter().enumerate() {
        let peak = rss[i].iter().copied().fold(f64::NAN, f64::max);
        let cpu = median(cpus[i].clone());
        let shown = |x: f64, digits: usize| {
            if x.is_nan() {
                "-".to_string()
            } else {
                format!("{x:.digits$}")
            }
        };
        println!(
            "| {name} | {:.2} | {:.2} | {} | {} |",
            median(walls[i].clone()),
            median(ratios[i].clone()),
            shown(cpu, 2),
            shown(peak, 0)
        );
    }
    if let Some(oi) = one {
        let pairs: Vec<f64> = walls[oi]
            .iter()
            .zip(&walls[1])
            .map(|(a, b)| a / b)
            .collect();
        println!(
            "1 -> {threads} threads: the cold lint is {:.2}x faster (median of paired ratios)",
            median(pairs)
        );
    }
    if let Some(ai) = cmds.iter().position(|(n, _)| n.starts_with("ast-grep")) {
        let pairs: Vec<f64> = walls[ai]
            .iter()
            .zip(&walls[1])
            .map(|(a, l)| a / l)
            .collect();
        println!(
            "ssot-lint is {:.1}x faster than ast-grep (median of paired ratios)",
            median(pairs)
        );
    }
    if !flags.iter().any(|a| *a == "--no-cache-runs") {
        let argv: Vec<String> = cmds[1]
            .1
            .iter()
            .filter(|a| *a != "--no-cache" && **a != d)
            .cloned()
            .collect();
        cache_runs(&dir, &files, argv, threads, runs);
    }
}

/// Copy the corpus's `.rs` files and manifests (everything but caches) to `to`.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    for e in walkdir::WalkDir::new(from)
        .into_iter()
        .filter_map(Result::ok)
    {
        let Ok(rel) = e.path().strip_prefix(from) else {
            continue;
        };
        if rel
            .components()
            .any(|c| c.as_os_str() == ".ssot-lint-cache")
        {
            continue;
        }
        let dst = to.join(rel);
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dst)?;
        } else if e.file_type().is_file() {
            std::fs::copy(e.path(), &dst)?;
        }
    }
    Ok(())
}

/// The cache: on a copy of the corpus (the corpus itself is never written), per repetition
/// a cold run (no cache), a warm run (nothing changed) and a run after one file changed (a
/// comment appended to a file in the middle of the sorted list), paired.
fn cache_runs(dir: &Path, files: &[PathBuf], argv: Vec<String>, threads: usize, runs: usize) {
    let tmp = std::env::temp_dir().join(format!("ssot-bench-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    if let Err(e) = copy_tree(dir, &tmp) {
        println!(
            "cache runs skipped: cannot copy the corpus to {}: {e}",
            tmp.display()
        );
        return;
    }
    let Some(changed) = files
        .get(files.len() / 2)
        .and_then(|f| f.strip_prefix(dir).ok())
        .map(|r| tmp.join(r))
    else {
        return;
    };
    // The cache in a directory of the benchmark's own, emptied for each repetition.
    let cache = std::env::temp_dir().join(format!("ssot-bench-cache-dir-{}", std::process::id()));
    let mut cmd = argv;
    cmd.push("--cache-dir".into());
    cmd.push(cache.display().to_string());
    cmd.push(tmp.display().to_string());
    let names = [
        "cold (empty cache)",
        "warm (nothing changed)",
        "one file changed",
    ];
    let mut walls: Vec<Vec<f64>> = vec![Vec::new(); 3];
    let mut cpus: Vec<Vec<f64>> = vec![Vec::new(); 3];
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); 3];
    let mut rss: Vec<f64> = vec![f64::NAN; 3];
    for r in 0..=runs {
        let _ = std::fs::remove_dir_all(&cache);
        let mut s = Vec::new();
        for i in 0..3 {
            if i == 2 {
                let mut t = std::fs::read(&changed).unwrap_or_default();
                t.extend_from_slice(format!("\n// changed by the benchmark, run {r}\n").as_bytes());
                let _ = std::fs::write(&changed, t);
            }
            let sample = time_cmd(cmd.clone(), threads, &tmp);
            let cpu = sample.cpu.unwrap_or(f64::NAN);
            s.push((sample, cpu));
        }
        if r == 0 {
            continue; // warm-up
        }
        for (i, (sample, cpu)) in s.iter().enumerate() {
            walls[i].push(sample.wall);
            cpus[i].push(*cpu);
            ratios[i].push(sample.wall / s[0].0.wall);
            if let Some(m) = sample.rss_mb {
                rss[i] = rss[i].max(m);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    let _ = std::fs::remove_dir_all(&cache);
    println!(
        "\nthe cache ({}, on a copy):\n| run | wall s | CPU s | / cold (paired) | peak RSS MB |\n| --- | ---: | ---: | ---: | ---: |",
        cmd[1..cmd.len() - 1].join(" ")
    );
    for i in 0..3 {
        println!(
            "| {} | {:.2} | {:.2} | {:.3} | {} |",
            names[i],
            median(walls[i].clone()),
            median(cpus[i].clone()),
            median(ratios[i].clone()),
            if rss[i].is_nan() {
                "-".to_string()
            } else {
                format!("{:.0}", rss[i])
            }
        );
    }
}
