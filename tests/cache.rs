//! The cache (units' results and per-file summaries) never changes what a run prints: every fixture, copied to a temporary
//! directory, gives byte for byte the same stdout and exit status without the cache, with
//! an empty cache (cold), with the cache it wrote (warm), and after one of its files changed;
//! with the prefilter (the default) and without. A damaged, foreign or misplaced cache is
//! ignored and the output stays the same; nothing is written in the linted tree (the cache
//! lives in the user's cache directory: here `XDG_CACHE_HOME` in a temporary directory of
//! the test). A unit's result is not reused after any change it depended on (the tests at
//! the end).

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

/// The user cache directory of a test: `xdg` beside the linted tree in its temporary
/// directory.
fn xdg_of(case: &Path) -> PathBuf {
    case.parent().expect("parent").join("xdg")
}

fn run(case: &Path, extra: &[&str]) -> (String, Option<i32>, String) {
    run_env(case, extra, &[])
}

/// [`run`] with more environment (the test's own cache home, not in CI, unless `env` says
/// otherwise).
fn run_env(case: &Path, extra: &[&str], env: &[(&str, &str)]) -> (String, Option<i32>, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ssot-lint"));
    cmd.current_dir(case)
        .env("XDG_CACHE_HOME", xdg_of(case))
        .env_remove("CI")
        .env_remove("SSOT_LINT_CACHE_DIR")
        .envs(env.iter().copied())
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

/// The per-root cache directories of a test's cache home.
fn cache_dirs(case: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(xdg_of(case).join("ssot-lint")) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir() && p.file_name().is_some_and(|n| n.len() == 32))
        .collect();
    v.sort();
    v
}

/// The one cache directory of a tree's root.
fn cache_dir(case: &Path) -> PathBuf {
    let dirs = cache_dirs(case);
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
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
    (failures, cache_dirs(&dir).len())
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
    assert!(cache_dirs(&dir).is_empty(), "--no-cache wrote a cache");
    let first = run(&dir, &["-v"]);
    assert_eq!((&first.0, first.1), (&reference.0, reference.1));
    assert!(
        first.2.contains("note: cache: 0 per-file results reused"),
        "{}",
        first.2
    );
    let cache = cache_dir(&dir);
    let file = cache.join("summaries.bin");
    let good = std::fs::read(&file).expect("cache written");
    assert!(
        std::fs::read_to_string(cache.join("CACHEDIR.TAG"))
            .expect("tag")
            .starts_with("Signature: 8a477f597d28d172789f06886806bc55")
    );
    let warm = run(&dir, &["-v"]);
    assert_eq!((&warm.0, warm.1), (&reference.0, reference.1));
    assert!(warm.2.contains(" 0 computed"), "{}", warm.2);

    let damaged = damaged_copies(&good, 97, 3);
    // Without the result cache, so that the summaries are asked for.
    let results = cache.join("results.bin");
    for (what, bytes) in damaged {
        std::fs::write(&file, &bytes).expect("write");
        let _ = std::fs::remove_file(&results);
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
        let _ = std::fs::remove_file(&results);
        let again = run(&dir, &["-v"]);
        assert_eq!((&again.0, again.1), (&reference.0, reference.1));
        assert!(again.2.contains(" 0 computed"), "cache {what}: {}", again.2);
    }
}

#[test]
fn a_cache_path_that_is_not_a_directory_or_points_elsewhere_is_not_used() {
    let (tmp, dir) = incident_copy();
    let reference = run(&dir, &["--no-cache"]);
    let _ = run(&dir, &[]);
    let cache = cache_dir(&dir);
    std::fs::remove_dir_all(&cache).expect("rm");
    // A file where the directory would be: left alone, the run goes on.
    std::fs::write(&cache, "not a directory").expect("write");
    let got = run(&dir, &["-v"]);
    assert_eq!((&got.0, got.1), (&reference.0, reference.1));
    assert!(got.2.contains("not written"), "{}", got.2);
    assert_eq!(
        std::fs::read_to_string(&cache).expect("read"),
        "not a directory"
    );
    std::fs::remove_file(&cache).expect("rm");
    // A symlink to a directory elsewhere: nothing is read or written there.
    #[cfg(unix)]
    {
        let outside = tmp.path().join("outside");
        std::fs::create_dir(&outside).expect("mkdir");
        std::os::unix::fs::symlink(&outside, &cache).expect("symlink");
        let got = run(&dir, &["-v"]);
        assert_eq!((&got.0, got.1), (&reference.0, reference.1));
        assert!(got.2.contains("symlink"), "{}", got.2);
        assert_eq!(
            std::fs::read_dir(&outside).expect("read_dir").count(),
            0,
            "wrote through a symlink"
        );
    }
}

/// No cache in the tree is ever read by default, nor one written there; `--cache-dir`
/// (or `SSOT_LINT_CACHE_DIR`) puts it where it says, even in the tree (its files are
/// authenticated); `--no-cache` and `--diff` read and write none; in CI there is one only
/// where a directory is named.
#[test]
fn the_cache_is_where_it_is_named_and_never_in_the_tree_by_default() {
    let (tmp, dir) = incident_copy();
    std::fs::create_dir(dir.join("target")).expect("mkdir");
    let reference = run(&dir, &["--no-cache"]);
    let got = run(&dir, &[]);
    assert_eq!((&got.0, got.1), (&reference.0, reference.1));
    assert!(!dir.join("target/ssot-lint").exists());
    assert!(!dir.join(".ssot-lint-cache").exists());
    let user = cache_dir(&dir);
    assert!(user.join("results.bin").is_file());
    // Named: there, and nowhere else.
    std::fs::remove_dir_all(xdg_of(&dir).join("ssot-lint")).expect("rm");
    let named = dir.join("target/ssot-lint");
    let got = run(&dir, &["--cache-dir", "target/ssot-lint"]);
    assert_eq!((&got.0, got.1), (&reference.0, reference.1));
    assert!(named.join("summaries.bin").is_file());
    assert!(named.join("results.bin").is_file());
    assert!(
        cache_dirs(&dir).is_empty(),
        "the user cache was written too"
    );
    let env_dir = tmp.path().join("env-cache");
    let env_dir_s = env_dir.display().to_string();
    let got = run_env(&dir, &[], &[("SSOT_LINT_CACHE_DIR", &env_dir_s)]);
    assert_eq!((&got.0, got.1), (&reference.0, reference.1));
    assert!(env_dir.join("results.bin").is_file());
    // --no-cache does not read it: garbage there changes nothing and is left as it is.
    let file = named.join("summaries.bin");
    std::fs::write(&file, "garbage").expect("write");
    let got = run(
        &dir,
        &["--cache-dir", "target/ssot-lint", "--no-cache", "-v"],
    );
    assert_eq!((&got.0, got.1), (&reference.0, reference.1));
    assert!(!got.2.contains("note: cache:"), "{}", got.2);
    assert_eq!(std::fs::read_to_string(&file).expect("read"), "garbage");
    // --diff writes nothing, the cache included.
    std::fs::remove_dir_all(&named).expect("rm");
    let _ = run(&dir, &["--cache-dir", "target/ssot-lint", "--diff"]);
    assert!(!named.exists(), "--diff wrote the cache");
    // In CI: no cache unless one is named.
    let got = run_env(&dir, &["-v"], &[("CI", "true")]);
    assert_eq!((&got.0, got.1), (&reference.0, reference.1));
    assert!(got.2.contains("cache: off in CI"), "{}", got.2);
    assert!(cache_dirs(&dir).is_empty(), "a CI run wrote the user cache");
    let got = run_env(
        &dir,
        &["--cache-dir", "target/ssot-lint"],
        &[("CI", "true")],
    );
    assert_eq!((&got.0, got.1), (&reference.0, reference.1));
    assert!(named.join("results.bin").is_file());
}

// The result cache: a lint unit's outcome is reused only while nothing it read, looked for
// or listed changed. Each test lets the tree age past the racy window first (so the
// result is stored by stamps alone), checks that a warm run reuses it, then changes one
// thing and requires the output of a run without the cache.

/// Past the result cache's racy window (see `src/results.rs`).
fn settle() {
    std::thread::sleep(std::time::Duration::from_millis(2200));
}

/// Cache the outcome and check that the next run reuses it, with the output of a run
/// without the cache.
fn warm(dir: &Path, extra: &[&str]) {
    let reference = run(dir, &[extra, &["--no-cache"]].concat());
    cached_run(dir, extra, &reference, None);
    cached_run(
        dir,
        extra,
        &reference,
        Some("cache: 1 lint units reused, 0 linted"),
    );
}

/// A run with the cache (`-v`) prints what `reference` (a run without it) prints and, when
/// given, says `cache_says` on stderr.
fn cached_run(
    dir: &Path,
    extra: &[&str],
    reference: &(String, Option<i32>, String),
    cache_says: Option<&str>,
) {
    let got = run(dir, &[extra, &["-v"]].concat());
    assert_eq!((&got.0, got.1), (&reference.0, reference.1), "{}", got.2);
    if let Some(says) = cache_says {
        assert!(got.2.contains(says), "{}", got.2);
    }
}

/// Let the tree age past the racy window and check that its outcome is cached and reused
/// ([`warm`]); then, after `change`, a cached run lints the unit again and prints what a run
/// without the cache prints, which differs from before.
fn changed(dir: &Path, extra: &[&str], change: impl FnOnce()) {
    settle();
    warm(dir, extra);
    let before = run(dir, &[extra, &["--no-cache"]].concat());
    change();
    let reference = run(dir, &[extra, &["--no-cache"]].concat());
    assert_ne!(before.0, reference.0, "the change changes the output");
    cached_run(
        dir,
        extra,
        &reference,
        Some("cache: 0 lint units reused, 1 linted"),
    );
    // And the new outcome is the one kept.
    cached_run(dir, extra, &reference, None);
}

const CONNECTS: &str = "pub async fn open() {\n    let _p = sqlx::SqlitePool::connect(\"sqlite::memory:\").await;\n}\n";

#[test]
fn a_text_changed_with_its_size_and_mtime_restored_is_linted_again() {
    let (_tmp, dir) = incident_copy();
    let file = dir.join("src/health.rs");
    changed(&dir, &[], || {
        let mtime = std::fs::metadata(&file)
            .and_then(|m| m.modified())
            .expect("mtime");
        let text = std::fs::read_to_string(&file).expect("read");
        let new = text.replace("SqlitePool::connect(", "SqlitePool::konnect(");
        assert_eq!(new.len(), text.len());
        std::fs::write(&file, new).expect("write");
        std::fs::File::options()
            .write(true)
            .open(&file)
            .and_then(|f| f.set_modified(mtime))
            .expect("restore mtime");
    });
}

#[test]
fn a_module_file_that_appears_where_one_was_missing_is_read() {
    let (_tmp, dir) = incident_copy();
    let lib = dir.join("src/lib.rs");
    let mut text = std::fs::read_to_string(&lib).expect("read");
    text.push_str("pub mod extra;\n");
    std::fs::write(&lib, text).expect("write");
    changed(&dir, &[], || {
        std::fs::write(dir.join("src/extra.rs"), CONNECTS).expect("write");
    });
    // `x/mod.rs` instead of `x.rs`.
    std::fs::remove_file(dir.join("src/extra.rs")).expect("rm");
    changed(&dir, &[], || {
        std::fs::create_dir(dir.join("src/extra")).expect("mkdir");
        std::fs::write(dir.join("src/extra/mod.rs"), CONNECTS).expect("write");
    });
}

#[test]
fn a_new_binary_and_a_new_unreached_file_are_linted() {
    let (_tmp, dir) = incident_copy();
    changed(&dir, &[], || {
        std::fs::create_dir_all(dir.join("src/bin")).expect("mkdir");
        std::fs::write(
            dir.join("src/bin/tool.rs"),
            format!("{CONNECTS}fn main() {{}}\n"),
        )
        .expect("write");
    });
    changed(&dir, &[], || {
        std::fs::write(dir.join("src/db/stray.rs"), CONNECTS).expect("write");
    });
}

#[test]
fn a_config_change_or_another_selection_is_another_result() {
    let (_tmp, dir) = incident_copy();
    changed(&dir, &[], || {
        let cfg = dir.join("ssot-lint.toml");
        let text = std::fs::read_to_string(&cfg).expect("read");
        let new = text.replace("\"netra_backend::core::database\" = ", "# ");
        assert_ne!(new, text);
        std::fs::write(&cfg, new).expect("write");
    });
    settle();
    warm(&dir, &[]);
    // Another rule selection: not the outcome of the full run.
    let reference = run(&dir, &["--select", "SSOT001", "--no-cache"]);
    let got = run(&dir, &["--select", "SSOT001", "-v"]);
    assert_eq!((&got.0, got.1), (&reference.0, reference.1), "{}", got.2);
    assert!(got.2.contains("0 lint units reused"), "{}", got.2);
    warm(&dir, &["--select", "SSOT001"]);
    // Only findings in one file (the outcome is filtered per unit).
    let reference = run(&dir, &["src/health.rs", "--no-cache"]);
    let got = run(&dir, &["src/health.rs", "-v"]);
    assert_eq!((&got.0, got.1), (&reference.0, reference.1), "{}", got.2);
    assert!(got.2.contains("0 lint units reused"), "{}", got.2);
}

#[test]
fn a_damaged_or_foreign_result_cache_is_ignored_and_rebuilt() {
    let (_tmp, dir) = incident_copy();
    settle();
    let reference = run(&dir, &["--no-cache"]);
    warm(&dir, &[]);
    let file = cache_dir(&dir).join("results.bin");
    let good = std::fs::read(&file).expect("results written");
    let damaged = damaged_copies(&good, 31, 2);
    for (what, bytes) in damaged {
        std::fs::write(&file, &bytes).expect("write");
        let got = run(&dir, &["-v"]);
        assert_eq!(
            (&got.0, got.1),
            (&reference.0, reference.1),
            "cache {what}: {}",
            got.2
        );
        assert!(
            got.2.contains("results.bin ignored"),
            "cache {what}: {}",
            got.2
        );
        assert!(!got.2.contains("panicked"), "cache {what}: {}", got.2);
        let again = run(&dir, &["-v"]);
        assert_eq!((&again.0, again.1), (&reference.0, reference.1));
        assert!(
            again.2.contains("cache: 1 lint units reused"),
            "cache {what}: {}",
            again.2
        );
    }
}

/// Damaged copies of a cache file: truncated (to `1/cut` of it, and inside its header), bytes
/// flipped every `step` bytes, another format version ("SSOTLC\0" then the version byte),
/// garbage and empty.
fn damaged_copies(good: &[u8], step: usize, cut: usize) -> Vec<(&'static str, Vec<u8>)> {
    let mut flipped = good.to_vec();
    for i in (20..flipped.len()).step_by(step) {
        flipped[i] ^= 0x5a;
    }
    let mut other_version = good.to_vec();
    other_version[7] = 0x7f;
    vec![
        ("truncated", good[..good.len() / cut].to_vec()),
        ("truncated header", good[..12].to_vec()),
        ("bytes flipped", flipped),
        ("another version", other_version),
        ("garbage", b"\x00\xffnot a cache at all".repeat(100)),
        ("empty", Vec::new()),
    ]
}
