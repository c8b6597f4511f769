//! The summary cache never changes what a run prints: every fixture, copied to a temporary
//! directory, gives byte for byte the same stdout and exit status without the cache, with
//! an empty cache (cold), with the cache it wrote (warm), and after one of its files changed;
//! with the prefilter (the default) and without. A damaged, foreign or misplaced cache is
//! ignored and the output stays the same; nothing is written outside the linted root.

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

/// Copy a tree (symlinks as symlinks), leaving out caches.
fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    let mut entries: Vec<_> = std::fs::read_dir(from)
        .expect("read_dir")
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name();
        if name == ".ssot-lint-cache" || name == "target" {
            continue;
        }
        let (src, dst) = (e.path(), to.join(&name));
        let ft = e.file_type().expect("file type");
        if ft.is_symlink() {
            #[cfg(unix)]
            std::os::unix::fs::symlink(std::fs::read_link(&src).expect("link"), &dst)
                .expect("symlink");
        } else if ft.is_dir() {
            copy(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).expect("copy");
        }
    }
}

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_symlink() {
            continue;
        }
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn run(case: &Path, extra: &[&str]) -> (String, Option<i32>, String) {
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
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The cache directories under a tree.
fn cache_dirs(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_symlink() || !p.is_dir() {
            continue;
        }
        if p.ends_with(".ssot-lint-cache") || p.ends_with("target/ssot-lint") {
            out.push(p);
        } else {
            cache_dirs(&p, out);
        }
    }
}

#[test]
fn every_fixture_is_the_same_cold_warm_and_after_a_change() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut list = Vec::new();
    cases(&root, &mut list);
    assert!(list.len() > 20, "fixture cases found: {}", list.len());
    // Cases in parallel (each in its own copy).
    let failures = std::sync::Mutex::new(Vec::new());
    let cached = std::sync::atomic::AtomicUsize::new(0);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(case) = list.get(i) else { break };
                    let (found, dirs) = check_case(case);
                    cached.fetch_add(dirs, std::sync::atomic::Ordering::Relaxed);
                    failures.lock().expect("lock").extend(found);
                }
            });
        }
    });
    let failures = failures.into_inner().expect("lock");
    let cached = cached.into_inner();
    assert!(
        cached >= list.len() / 2,
        "only {cached} cache directories written for {} cases",
        list.len()
    );
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Differences between runs with and without the cache on a copy of one case; how many
/// cache directories the runs wrote.
fn check_case(case: &Path) -> (Vec<String>, usize) {
    let mut failures = Vec::new();
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("case");
    copy(case, &dir);
    for mode in [&[][..], &["--no-prefilter"][..]] {
        let mut compare = |state: &str, dir: &Path| {
            let reference = run(dir, &[mode, &["--no-cache"]].concat());
            for pass in ["cold or updated", "warm"] {
                let got = run(dir, mode);
                if (&got.0, got.1) != (&reference.0, reference.1) {
                    failures.push(format!(
                        "== {} {mode:?} {state}, {pass} run:\n-- without the cache ({:?}):\n{}\n-- with it ({:?}):\n{}\n{}",
                        case.display(),
                        reference.1,
                        reference.0,
                        got.1,
                        got.0,
                        got.2
                    ));
                }
            }
        };
        compare("as it is", &dir);
        let mut files = Vec::new();
        rs_files(&dir, &mut files);
        if let Some(f) = files.first() {
            let mut text = std::fs::read(f).expect("read");
            text.extend_from_slice(b"\n// changed by the cache test\n");
            std::fs::write(f, text).expect("write");
            compare("one file changed", &dir);
        }
    }
    let mut dirs = Vec::new();
    cache_dirs(&dir, &mut dirs);
    (failures, dirs.len())
}

fn incident_copy() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("incident");
    copy(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/incident"),
        &dir,
    );
    (tmp, dir)
}

#[test]
fn a_damaged_or_foreign_cache_is_ignored_and_rebuilt() {
    let (_tmp, dir) = incident_copy();
    let reference = run(&dir, &["--no-cache"]);
    assert!(!reference.0.is_empty(), "the incident has findings");
    assert!(
        !dir.join(".ssot-lint-cache").exists(),
        "--no-cache wrote a cache"
    );
    let first = run(&dir, &["-v"]);
    assert_eq!((&first.0, first.1), (&reference.0, reference.1));
    assert!(
        first.2.contains("note: cache: 0 per-file results reused"),
        "{}",
        first.2
    );
    let file = dir.join(".ssot-lint-cache/summaries.bin");
    let good = std::fs::read(&file).expect("cache written");
    assert_eq!(
        std::fs::read_to_string(dir.join(".ssot-lint-cache/.gitignore")).expect("gitignore"),
        "*\n"
    );
    assert!(
        std::fs::read_to_string(dir.join(".ssot-lint-cache/CACHEDIR.TAG"))
            .expect("tag")
            .starts_with("Signature: 8a477f597d28d172789f06886806bc55")
    );
    let warm = run(&dir, &["-v"]);
    assert_eq!((&warm.0, warm.1), (&reference.0, reference.1));
    assert!(warm.2.contains(" 0 computed"), "{}", warm.2);

    let mut flipped = good.clone();
    for i in (20..flipped.len()).step_by(97) {
        flipped[i] ^= 0x5a;
    }
    let mut other_version = good.clone();
    // "SSOTLC\0\x01" then the checksum: another format version.
    other_version[7] = 0x7f;
    let damaged: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", good[..good.len() / 3].to_vec()),
        ("truncated header", good[..12].to_vec()),
        ("bytes flipped", flipped),
        ("another version", other_version),
        ("garbage", b"\x00\xffnot a cache at all".repeat(100)),
        ("empty", Vec::new()),
    ];
    for (what, bytes) in damaged {
        std::fs::write(&file, &bytes).expect("write");
        let got = run(&dir, &["-v"]);
        assert_eq!(
            (&got.0, got.1),
            (&reference.0, reference.1),
            "cache {what}: {}",
            got.2
        );
        assert!(got.2.contains("ignored"), "cache {what}: {}", got.2);
        assert!(!got.2.contains("panicked"), "cache {what}: {}", got.2);
        // Rebuilt: the next run reads it again.
        let again = run(&dir, &["-v"]);
        assert_eq!((&again.0, again.1), (&reference.0, reference.1));
        assert!(again.2.contains(" 0 computed"), "cache {what}: {}", again.2);
    }
}

#[test]
fn a_cache_path_that_is_not_a_directory_or_points_outside_is_not_used() {
    let (tmp, dir) = incident_copy();
    let reference = run(&dir, &["--no-cache"]);
    // A file where the directory would be: left alone, the run goes on.
    std::fs::write(dir.join(".ssot-lint-cache"), "not a directory").expect("write");
    let got = run(&dir, &["-v"]);
    assert_eq!((&got.0, got.1), (&reference.0, reference.1));
    assert!(got.2.contains("not written"), "{}", got.2);
    assert_eq!(
        std::fs::read_to_string(dir.join(".ssot-lint-cache")).expect("read"),
        "not a directory"
    );
    std::fs::remove_file(dir.join(".ssot-lint-cache")).expect("rm");
    // A symlink to a directory outside the root: nothing is written there.
    #[cfg(unix)]
    {
        let outside = tmp.path().join("outside");
        std::fs::create_dir(&outside).expect("mkdir");
        std::os::unix::fs::symlink(&outside, dir.join(".ssot-lint-cache")).expect("symlink");
        let got = run(&dir, &["-v"]);
        assert_eq!((&got.0, got.1), (&reference.0, reference.1));
        assert_eq!(
            std::fs::read_dir(&outside).expect("read_dir").count(),
            0,
            "wrote outside the root"
        );
        std::fs::remove_file(dir.join(".ssot-lint-cache")).expect("rm");
        // A `target` symlinked out of the root is not used either.
        std::os::unix::fs::symlink(&outside, dir.join("target")).expect("symlink");
        let got = run(&dir, &[]);
        assert_eq!((&got.0, got.1), (&reference.0, reference.1));
        assert_eq!(std::fs::read_dir(&outside).expect("read_dir").count(), 0);
        assert!(dir.join(".ssot-lint-cache/summaries.bin").is_file());
    }
}

#[test]
fn the_cache_goes_to_target_when_there_and_no_cache_reads_nothing() {
    let (_tmp, dir) = incident_copy();
    std::fs::create_dir(dir.join("target")).expect("mkdir");
    let reference = run(&dir, &["--no-cache"]);
    assert!(!dir.join("target/ssot-lint").exists());
    let got = run(&dir, &[]);
    assert_eq!((&got.0, got.1), (&reference.0, reference.1));
    let file = dir.join("target/ssot-lint/summaries.bin");
    assert!(file.is_file());
    assert!(!dir.join(".ssot-lint-cache").exists());
    // --no-cache does not read it: garbage there changes nothing and is left as it is.
    std::fs::write(&file, "garbage").expect("write");
    let got = run(&dir, &["--no-cache", "-v"]);
    assert_eq!((&got.0, got.1), (&reference.0, reference.1));
    assert!(!got.2.contains("note: cache:"), "{}", got.2);
    assert_eq!(std::fs::read_to_string(&file).expect("read"), "garbage");
    // --diff writes nothing, the cache included.
    std::fs::remove_file(&file).expect("rm");
    let _ = run(&dir, &["--diff"]);
    assert!(!file.exists(), "--diff wrote the cache");
}
