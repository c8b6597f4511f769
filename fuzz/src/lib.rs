//! Shared by the fuzz targets: the input format (a crate in one text, `//- /path` starting
//! each file, as the inline rule tests write it), a workspace on disk, and the checks every
//! outcome must pass.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Once;

use ssot_lint::Outcome;
use ssot_lint::report::Format;

pub const MANIFEST: &str = "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nsqlx = { version = \"0.8\", features = [\"postgres\"] }\nredis = \"0.27\"\ndeadpool-postgres = \"0.14\"\n";

pub const CONFIG: &str = "[ssot]\nmodules = [\"app::db\"]\n";

/// Files the fuzzer may write: at most this many, this deep, this long a name.
const MAX_FILES: usize = 16;
const MAX_DEPTH: usize = 4;

/// The parse stage runs on the pool's threads, with the stacks the command line gives them.
pub fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .stack_size(ssot_lint::cli::PARSE_STACK)
            .build_global();
    });
}

/// A relative path made only of plain components (no `..`, no root, no odd bytes), or
/// `None`: the fuzzer must never write outside its temporary directory.
pub fn sanitize(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.trim().split('/').collect();
    let ok = |p: &str| {
        !p.is_empty()
            && p.len() <= 40
            && p != "."
            && p != ".."
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    };
    (parts.len() <= MAX_DEPTH && parts.iter().all(|p| ok(p))).then(|| parts.join("/"))
}

/// The files of an input: text before the first `//- /path` line is `src/lib.rs`; unsafe
/// or repeated paths are dropped; at most [`MAX_FILES`].
pub fn split(input: &str) -> BTreeMap<String, String> {
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    let mut current = Some("src/lib.rs".to_string());
    let mut text = String::new();
    let flush = |cur: Option<String>, text: &mut String, files: &mut BTreeMap<String, String>| {
        // An empty preamble (the input starts with a marker) is no file.
        if let Some(p) = cur
            && files.len() < MAX_FILES
            && !(text.is_empty() && files.is_empty() && p == "src/lib.rs")
        {
            files.entry(p).or_insert_with(|| text.clone());
        }
        text.clear();
    };
    for line in input.split_inclusive('\n') {
        if let Some(p) = line.strip_prefix("//- /") {
            flush(current.take(), &mut text, &mut files);
            current = sanitize(p);
            continue;
        }
        text.push_str(line);
    }
    flush(current, &mut text, &mut files);
    files
}

/// A fresh directory holding `files` (a default manifest and config when they name none).
pub fn write_tree(files: &BTreeMap<String, String>) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().canonicalize().expect("canonical tempdir");
    let mut all = files.clone();
    all.entry("Cargo.toml".into())
        .or_insert_with(|| MANIFEST.into());
    all.entry("ssot-lint.toml".into())
        .or_insert_with(|| CONFIG.into());
    for (rel, text) in &all {
        let p = root.join(rel);
        if let Some(parent) = p.parent()
            && std::fs::create_dir_all(parent).is_err()
        {
            continue; // a file where a directory should be: skipped, as a user's tree would
        }
        let _ = std::fs::write(&p, text);
    }
    (dir, root)
}

/// `files` in memory below a fixed root (a default manifest and config when they name
/// none), and that root.
pub fn memory_tree(files: &BTreeMap<String, String>) -> (ssot_lint::vfs::Memory, PathBuf) {
    let root = PathBuf::from("/fuzz/input");
    let mut all = files.clone();
    all.entry("Cargo.toml".into())
        .or_insert_with(|| MANIFEST.into());
    all.entry("ssot-lint.toml".into())
        .or_insert_with(|| CONFIG.into());
    let view = ssot_lint::vfs::Memory::new(all.iter().map(|(rel, t)| (root.join(rel), t.clone())));
    (view, root)
}

/// A package made once per process: the default manifest and config, `src/lib.rs`
/// declaring `db` (the SSOT module, with a pool) and `input`. Inputs reach the engine
/// through an overlay over it (in memory) as `src/input.rs` and files below `src/input/`.
pub fn fixed_tree() -> &'static Path {
    static DIR: std::sync::OnceLock<(tempfile::TempDir, PathBuf)> = std::sync::OnceLock::new();
    &DIR.get_or_init(|| {
        let mut files = BTreeMap::new();
        files.insert("src/lib.rs".to_string(), "pub mod db;\npub mod input;\n".into());
        files.insert(
            "src/db.rs".to_string(),
            "pub async fn pool(url: &str) -> sqlx::Result<sqlx::PgPool> {\n    sqlx::PgPool::connect(url).await\n}\n".into(),
        );
        files.insert("src/input.rs".to_string(), String::new());
        write_tree(&files)
    })
    .1
}

/// Where a file of an input goes in [`fixed_tree`]: `src/lib.rs` is `src/input.rs`, other
/// `src/x.rs` files are `src/input/x.rs` (modules `input` can declare); `None` for the rest.
pub fn in_fixed_tree(rel: &str) -> Option<PathBuf> {
    let root = fixed_tree();
    if rel == "src/lib.rs" {
        return Some(root.join("src/input.rs"));
    }
    let rest = rel.strip_prefix("src/")?;
    rest.ends_with(".rs")
        .then(|| root.join("src/input").join(rest))
}

pub const FORMATS: [Format; 12] = [
    Format::Human,
    Format::Short,
    Format::Json,
    Format::JsonLines,
    Format::Sarif,
    Format::Github,
    Format::RustcJson,
    Format::Checkstyle,
    Format::Junit,
    Format::Gitlab,
    Format::Rdjson,
    Format::Markdown,
];

/// What every outcome must satisfy: positions inside the files they name, and every
/// printer renders it (a printer that panics is a crash).
pub fn check_outcome(outcome: &Outcome) {
    for f in &outcome.findings {
        assert!(f.line >= 1 && f.column >= 1, "position of {f:?}");
        assert!(f.span.start <= f.span.end, "span of {f:?}");
        if let Some(text) = outcome.sources.get(&f.file) {
            assert!(
                f.span.end as usize <= text.len(),
                "span past the end: {f:?}"
            );
            let lines = text.split('\n').count() as u32;
            assert!(f.line <= lines.max(1), "line past the end: {f:?}");
        }
        assert!(
            !f.file.starts_with('/') && !f.file.contains(".."),
            "a finding outside the workspace: {f:?}"
        );
    }
    for format in FORMATS {
        let _ = ssot_lint::report::render(format, outcome, false, 100);
    }
}

/// A library error renders the way the command line renders it.
pub fn render_error(e: &ssot_lint::Error) -> String {
    let _ = e.location();
    format!("{:?}", e.to_report())
}
