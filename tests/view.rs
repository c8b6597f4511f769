//! Every read of the pipeline goes through the file-system view (`ssot_lint::vfs`): a crate
//! held whole in memory, with a disk that holds nothing, gives the same output as the crate
//! on disk. Checked for every fixture case, in two ways: an in-memory tree (no disk at
//! all), and an overlay over an empty directory of the real disk.

use std::path::{Path, PathBuf};

use ssot_lint::LintOptions;
use ssot_lint::report::Format;
use ssot_lint::vfs::{Disk, FileSystem, Memory, Overlay};

/// Every fixture case: a directory with an `expected.short`.
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
            cases(&p, out);
        }
    }
}

/// The files of a case, relative to it.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("list").flatten() {
            let p = e.path();
            let t = e.file_type().expect("type");
            assert!(
                !t.is_symlink(),
                "{}: symlinks are not held in memory",
                p.display()
            );
            if t.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).expect("below").to_path_buf();
                out.push((rel, std::fs::read(&p).expect("read")));
            }
        }
    }
    out.sort();
    out
}

/// The case's options: its `args` file holds `--select=..`/`--ignore=..` lines and paths.
fn options(case: &Path, start: &Path) -> LintOptions {
    let mut o = LintOptions {
        start: Some(start.to_path_buf()),
        ..Default::default()
    };
    let args = std::fs::read_to_string(case.join("args")).unwrap_or_default();
    for a in args.lines().map(str::trim).filter(|l| !l.starts_with('#')) {
        if let Some(v) = a.strip_prefix("--select=") {
            o.select.push(v.to_string());
        } else if let Some(v) = a.strip_prefix("--ignore=") {
            o.ignore.push(v.to_string());
        } else if !a.is_empty() && !a.starts_with('-') {
            // A path operand, relative to the case.
            o.paths.push(start.join(a));
        } else {
            assert!(
                a.is_empty(),
                "{}: argument `{a}` not known here",
                case.display()
            );
        }
    }
    o
}

/// What a user sees of a run: the JSON output and SARIF (suppressed findings too), the
/// warnings and notes with the root written `<root>`.
fn seen(fs: &dyn FileSystem, opts: &LintOptions, root: &Path) -> String {
    let o = match ssot_lint::lint(fs, opts) {
        Ok(o) => o,
        Err(e) => return format!("error: {e}").replace(&*root.to_string_lossy(), "<root>"),
    };
    let mut s = ssot_lint::report::render(Format::Json, &o, false, 100);
    s.push_str(&ssot_lint::report::render(Format::Sarif, &o, false, 100));
    for w in o.warnings.iter().chain(&o.notes) {
        s.push_str(&w.replace(&*root.to_string_lossy(), "<root>"));
        s.push('\n');
    }
    s.push_str(&format!(
        "{} files, {} lines, {} bytes\n",
        o.files_checked, o.lines, o.bytes
    ));
    s
}

#[test]
fn a_crate_in_memory_reads_as_on_disk() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut list = Vec::new();
    cases(&fixtures, &mut list);
    assert!(list.len() > 100, "{} cases", list.len());
    let mut compared = 0;
    for case in list {
        let on_disk = seen(&Disk, &options(&case, &case), &case);
        // A case inside another case's tree (a package run from its own folder, below the
        // workspace that encloses it) is held with that tree: discovery looks upward.
        let top = case
            .ancestors()
            .skip(1)
            .take_while(|a| a.starts_with(&fixtures) && *a != fixtures)
            .filter(|a| a.join("Cargo.toml").is_file())
            .last()
            .unwrap_or(&case)
            .to_path_buf();
        let below = case.strip_prefix(&top).expect("below").to_path_buf();
        let files = files(&top);
        // No disk at all.
        let mem_top = Path::new("/in-memory/case");
        let root = mem_top.join(&below);
        let mem = Memory::new(files.iter().map(|(rel, b)| (mem_top.join(rel), b.clone())));
        assert_eq!(
            seen(&mem, &options(&case, &root), &root),
            on_disk,
            "{}: in memory",
            case.display()
        );
        // An overlay that holds the whole crate over an empty directory.
        let empty = tempfile::tempdir().expect("tempdir");
        let dir_top = empty.path().canonicalize().expect("canonical");
        let dir = dir_top.join(&below);
        let mut overlay = Overlay::new(&Disk);
        for (rel, b) in &files {
            overlay.insert(&dir_top.join(rel), String::from_utf8_lossy(b).into_owned());
        }
        assert_eq!(
            seen(&overlay, &options(&case, &dir), &dir),
            on_disk,
            "{}: in an overlay over an empty directory",
            case.display()
        );
        assert_eq!(
            std::fs::read_dir(&dir_top).expect("list").count(),
            0,
            "nothing written"
        );
        compared += 1;
    }
    assert!(compared > 100);
}

/// A process that lints twice (the language server, `--fix`'s passes): a module directory
/// that became a symlink to a folder outside the workspace between the runs is refused in the
/// second run, not read through a real path remembered from the first.
#[test]
fn a_directory_swapped_for_a_symlink_between_runs_is_not_read_through() {
    let d = tempfile::tempdir().expect("tempdir");
    let root = d.path().canonicalize().expect("canonical").join("ws");
    let outside = d.path().canonicalize().expect("canonical").join("outside");
    let write = |p: &Path, t: &str| {
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, t).expect("write");
    };
    write(
        &root.join("Cargo.toml"),
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nsqlx = \"0.8\"\n",
    );
    write(
        &root.join("ssot-lint.toml"),
        "[ssot]\nmodules = [\"app::store\"]\n",
    );
    write(&root.join("src/lib.rs"), "pub mod db;\npub mod store;\n");
    write(
        &root.join("src/store.rs"),
        "pub fn pool() -> sqlx::PgPool { sqlx::PgPool::connect_lazy(\"x\").unwrap() }\n",
    );
    write(&root.join("src/db/mod.rs"), "pub fn f() {}\n");
    // What lies outside: a pool built where nothing in the workspace builds one.
    let secret = "pub fn f() { let _p = sqlx::PgPool::connect_lazy(\"outside-secret\"); }\n";
    write(&outside.join("mod.rs"), secret);
    let opts = LintOptions {
        start: Some(root.clone()),
        ..Default::default()
    };
    let first = seen(&Disk, &opts, &root);
    assert!(!first.contains("connect_lazy"), "{first}");
    std::fs::remove_dir_all(root.join("src/db")).expect("rm");
    std::os::unix::fs::symlink(&outside, root.join("src/db")).expect("symlink");
    let second = seen(&Disk, &opts, &root);
    assert!(
        !second.contains("connect_lazy") && !second.contains("outside-secret"),
        "the second run read through the symlink: {second}"
    );
}
