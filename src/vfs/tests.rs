use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::stamp::Content;
use super::*;

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, text).expect("write");
}

/// A package with a nested package, a `target/`, the tool's cache directory, and files
/// that ignore files leave out (`.gitignore` counts only in a git work tree).
const TREE: &[(&str, &str)] = &[
    ("Cargo.toml", "[package]\nname = \"app\"\n"),
    ("src/lib.rs", "mod a;\n"),
    ("src/a.rs", ""),
    ("src/gen/out.rs", ""),
    ("src/scratch.rs", ""),
    ("tools/x.rs", ""),
    ("nested/Cargo.toml", "[package]\nname = \"nested\"\n"),
    ("nested/src/lib.rs", ""),
    ("target/debug/build.rs", ""),
    (".ssot-lint-cache/x.rs", ""),
    (".gitignore", "src/gen/\n"),
    ("src/.ignore", "scratch.rs\n"),
];

/// The `.rs` files a package walk finds, relative to `root`.
fn package_walk(fs: &dyn FileSystem, root: &Path) -> BTreeSet<String> {
    let walk = Walk {
        ignore_files: true,
        skip_dirs: &["target", ".git", TOOL_DIR],
        skip_packages: true,
        ..Walk::new(root)
    };
    fs.walk(&walk)
        .into_iter()
        .filter(|e| e.kind == EntryKind::File && e.path.extension().is_some_and(|x| x == "rs"))
        .map(|e| {
            e.path
                .strip_prefix(root)
                .expect("below the root")
                .display()
                .to_string()
        })
        .collect()
}

fn set(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// The memory tree walks as the disk does (the `ignore` crate's rules): in a git work tree
/// and outside one.
#[test]
fn memory_walks_as_the_disk_does() {
    for git in [false, true] {
        let d = tempfile::tempdir().expect("tmp");
        let root = d.path().canonicalize().expect("canon");
        let mut files: Vec<(PathBuf, String)> = TREE
            .iter()
            .map(|(rel, text)| (root.join(rel), text.to_string()))
            .collect();
        if git {
            files.push((root.join(".git/HEAD"), "ref: refs/heads/main\n".into()));
        }
        for (p, t) in &files {
            write(
                &root,
                p.strip_prefix(&root).expect("rel").to_str().expect("utf8"),
                t,
            );
        }
        let mem = Memory::new(files.clone());
        let want = if git {
            set(&["src/a.rs", "src/lib.rs", "tools/x.rs"])
        } else {
            set(&["src/a.rs", "src/gen/out.rs", "src/lib.rs", "tools/x.rs"])
        };
        assert_eq!(package_walk(&Disk, &root), want, "disk, git: {git}");
        assert_eq!(package_walk(&mem, &root), want, "memory, git: {git}");
        // An overlay over an empty disk holding the tree walks the same.
        let empty = tempfile::tempdir().expect("tmp");
        let other = empty.path().canonicalize().expect("canon");
        let mut ov = Overlay::new(&Disk);
        for (p, t) in &files {
            ov.insert(&other.join(p.strip_prefix(&root).expect("rel")), t.clone());
        }
        // Ignore files are not applied to what only the overlay holds.
        let mut all = want.clone();
        all.insert("src/scratch.rs".into());
        if git {
            all.insert("src/gen/out.rs".into());
        }
        assert_eq!(package_walk(&ov, &other), all, "overlay, git: {git}");
    }
}

/// The gate holds in memory as on disk: inside the root, regular files only.
#[test]
fn memory_applies_the_gate() {
    let mem = Memory::new([("/w/src/lib.rs", "fn f() {}\n"), ("/elsewhere/x.rs", "")]);
    let root = Path::new("/w");
    assert_eq!(
        mem.read_text(Path::new("/w/src/../src/lib.rs"), Some(root))
            .expect("read"),
        "fn f() {}\n"
    );
    assert!(matches!(
        mem.read(Path::new("/elsewhere/x.rs"), Some(root)),
        Err(ReadError::Outside)
    ));
    assert!(matches!(
        mem.check(Path::new("/w/src"), Some(root)),
        Err(ReadError::NotRegular)
    ));
    assert!(matches!(
        mem.check(Path::new("/w/src/nope.rs"), Some(root)),
        Err(ReadError::Missing)
    ));
    assert_eq!(mem.stat(Path::new("/w/src")), Some(EntryKind::Dir));
    assert!(mem.canonicalize(Path::new("/w/nope")).is_err());
    let listed: Vec<PathBuf> = mem
        .read_dir(Path::new("/w"))
        .expect("dir")
        .into_iter()
        .map(|e| e.path)
        .collect();
    assert_eq!(listed, [PathBuf::from("/w/src")]);
    assert!(!mem.stamps());
    // The tool's own files are kept in memory.
    let mut f = mem
        .create_private(Path::new("/w/.cache"), "c.bin")
        .expect("create");
    std::io::Write::write_all(&mut f, b"abc").expect("write");
    f.commit().expect("commit");
    assert_eq!(
        mem.read_private(Path::new("/w/.cache/c.bin"), 10)
            .expect("read"),
        b"abc"
    );
    // Not over a file of the tree.
    assert!(
        mem.create_private(Path::new("/w/src/lib.rs"), "c.bin")
            .is_err()
    );
    // One secret per view.
    let k = mem.private_key(Path::new("/k")).expect("key");
    assert_eq!(mem.private_key(Path::new("/k")).expect("key"), k);
    assert_ne!(
        Memory::default().private_key(Path::new("/k")).expect("key"),
        k
    );
}

/// An overlay's texts win over the view below; what it does not hold is the view's.
#[test]
fn overlay_texts_win() {
    let mem = Memory::new([("/w/a.rs", "disk a"), ("/w/b.rs", "disk b")]);
    let mut ov = Overlay::new(&mem);
    assert!(ov.is_empty());
    ov.insert(Path::new("/w/./a.rs"), "mine".into());
    ov.insert(Path::new("/w/new/c.rs"), "new".into());
    let root = Some(Path::new("/w"));
    assert_eq!(ov.read_text(Path::new("/w/a.rs"), root).expect("a"), "mine");
    assert_eq!(
        ov.read_text(Path::new("/w/b.rs"), root).expect("b"),
        "disk b"
    );
    assert_eq!(
        ov.get(Path::new("/w/new/../new/c.rs")).map(String::as_str),
        Some("new")
    );
    assert!(ov.is_dir(Path::new("/w/new")));
    assert!(matches!(
        ov.read(Path::new("/w/new/c.rs"), Some(Path::new("/v"))),
        Err(ReadError::Outside)
    ));
    let mut listed: Vec<PathBuf> = ov
        .read_dir(Path::new("/w"))
        .expect("dir")
        .into_iter()
        .map(|e| e.path)
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        [
            PathBuf::from("/w/a.rs"),
            PathBuf::from("/w/b.rs"),
            PathBuf::from("/w/new")
        ]
    );
    assert!(!ov.stamps());
    assert!(
        Overlay::new(&Disk).stamps(),
        "an empty overlay reads the disk"
    );
}

/// The recorder notes each fact once, stamped before it was used: a file read with the
/// hash of its bytes, a path looked for, a directory walked with its listing.
#[test]
fn the_recorder_notes_what_was_read() {
    let d = tempfile::tempdir().expect("tmp");
    let root = d.path().canonicalize().expect("canon");
    write(&root, "Cargo.toml", "[package]\nname = \"app\"\n");
    write(&root, "src/lib.rs", "fn f() {}\n");
    let rec = Recorder::new(&Disk);
    let lib = root.join("src/lib.rs");
    for _ in 0..2 {
        rec.read_text(&lib, Some(&root)).expect("read");
    }
    assert!(rec.check(&root.join("src/x.rs"), Some(&root)).is_err());
    assert!(rec.read(&root.join("src/gone.rs"), Some(&root)).is_err());
    let _ = rec.walk(&Walk {
        ignore_files: true,
        ..Walk::new(&root.join("src"))
    });
    let deps = rec.into_deps();
    let of = |p: &Path| -> Vec<Content> { deps.iter().filter(|d| d.0 == p).map(|d| d.2).collect() };
    assert_eq!(
        of(&lib),
        [Content::Text(xxhash_rust::xxh3::xxh3_64(b"fn f() {}\n"))]
    );
    assert_eq!(of(&root.join("src/x.rs")), [Content::Presence]);
    assert_eq!(of(&root.join("src/gone.rs")), [Content::Stamp]);
    assert!(matches!(of(&root.join("src"))[..], [Content::Listing(_)]));
    // Above a walk that applies ignore files: whether a `.git` is there.
    assert_eq!(of(&root.join(".git")), [Content::Presence]);
    // Stamped before use: the stamp of the file read is the stamp it has now.
    let st = deps.iter().find(|d| d.0 == lib).map(|d| d.1);
    assert_eq!(st, Some(stamp::stamp(&lib)));
}
