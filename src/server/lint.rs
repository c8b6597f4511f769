//! The lint behind the editor: the open documents over the disk ([`Overlay`]), one engine
//! run per workspace that holds an open Rust document, per-file work kept in a [`Memo`]
//! and unchanged files' texts in [`Texts`] from one run to the next, and a run abandoned as
//! soon as a newer edit arrives.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use lsp_types::{Diagnostic, Range, Url};

use crate::cache::{CacheSetting, Memo};
use crate::engine::{LintOptions, Outcome};
use crate::error::Error;
use crate::prefilter::Graphs;
use crate::vfs::{self, FileSystem, Overlay};

use super::convert::{self, Shown};
use super::documents::{Document, Encoding, Lines};
use super::texts::Texts;

/// What the client can change without a restart (`initializationOptions`, or the
/// `ssot-lint` section of `workspace/didChangeConfiguration`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    /// As `--select` and `--ignore`.
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    /// How long the documents must stay unchanged before a lint starts (milliseconds).
    pub debounce_ms: Option<u64>,
}

impl Settings {
    pub const DEFAULT_DEBOUNCE: Duration = Duration::from_millis(10);

    pub fn debounce(&self) -> Duration {
        self.debounce_ms
            .map_or(Self::DEFAULT_DEBOUNCE, Duration::from_millis)
    }
}

/// One lint of the open documents as they are at `generation`.
pub struct Job {
    pub generation: u64,
    pub docs: Vec<(Url, Document)>,
    pub settings: Settings,
    /// The client's workspace folders (real paths): documents elsewhere are not linted.
    pub folders: Vec<PathBuf>,
    pub encoding: Encoding,
}

/// What a lint found for each open document it could lint.
pub struct Linted {
    /// By document: its version as linted and its findings.
    pub docs: Vec<(Url, i32, Vec<Shown>)>,
    /// Errors that stopped a workspace's lint, at their place in a config or manifest.
    pub placed_errors: BTreeMap<Url, Vec<Diagnostic>>,
    /// Errors with no place (shown as messages).
    pub errors: Vec<String>,
    pub elapsed: Duration,
}

/// The payload of the unwind that abandons a run.
struct Cancelled;

/// A view that abandons the run (unwinding with [`Cancelled`]) at its next read once the
/// documents have moved past the run's generation. The engine reads every file through its
/// view, so a run stops within one file's work.
struct Cancellable<'a> {
    inner: &'a dyn FileSystem,
    current: &'a AtomicU64,
    mine: u64,
}

impl Cancellable<'_> {
    fn check(&self) {
        if self.current.load(Ordering::Relaxed) != self.mine {
            std::panic::resume_unwind(Box::new(Cancelled));
        }
    }
}

impl FileSystem for Cancellable<'_> {
    fn lstat(&self, path: &Path) -> Option<vfs::EntryKind> {
        self.check();
        self.inner.lstat(path)
    }
    fn stat(&self, path: &Path) -> Option<vfs::EntryKind> {
        self.check();
        self.inner.stat(path)
    }
    fn canonicalize(&self, path: &Path) -> std::io::Result<PathBuf> {
        self.check();
        self.inner.canonicalize(path)
    }
    fn real_path(&self, path: &Path) -> Option<PathBuf> {
        self.check();
        self.inner.real_path(path)
    }
    fn check(&self, path: &Path, within: Option<&Path>) -> Result<PathBuf, vfs::ReadError> {
        Cancellable::check(self);
        self.inner.check(path, within)
    }
    fn read(&self, path: &Path, within: Option<&Path>) -> Result<Vec<u8>, vfs::ReadError> {
        Cancellable::check(self);
        self.inner.read(path, within)
    }
    fn read_text(&self, path: &Path, within: Option<&Path>) -> Result<String, vfs::ReadError> {
        Cancellable::check(self);
        self.inner.read_text(path, within)
    }
    fn read_dir(&self, dir: &Path) -> std::io::Result<Vec<vfs::DirEntry>> {
        Cancellable::check(self);
        self.inner.read_dir(dir)
    }
    fn walk(&self, walk: &vfs::Walk) -> Vec<vfs::DirEntry> {
        Cancellable::check(self);
        self.inner.walk(walk)
    }
    fn read_private(&self, path: &Path, max: u64) -> Result<Vec<u8>, Option<String>> {
        Cancellable::check(self);
        self.inner.read_private(path, max)
    }
    fn create_private(&self, dir: &Path, name: &str) -> Result<Box<dyn vfs::PrivateFile>, String> {
        Cancellable::check(self);
        self.inner.create_private(dir, name)
    }
    fn private_key(&self, dir: &Path) -> Result<[u8; 32], String> {
        Cancellable::check(self);
        self.inner.private_key(dir)
    }
    fn prune_private(&self, dir: &Path, keep: usize, ours: fn(&std::ffi::OsStr) -> bool) {
        self.inner.prune_private(dir, keep, ours)
    }
    fn tracked(&self, dir: &Path, name: &str) -> Option<Vec<PathBuf>> {
        Cancellable::check(self);
        self.inner.tracked(dir, name)
    }
    // `write_named` is not passed on: the server writes no file a user names.
    fn stamps(&self) -> bool {
        self.inner.stamps()
    }
}

/// What the linter keeps from one run to the next.
pub struct Linter {
    memo: Memo,
    /// The crate graphs of the workspaces linted, kept while the tree holds them.
    graphs: Graphs,
    /// The files' texts, kept while they are unchanged on disk.
    texts: Texts,
    /// Where the summary cache is (the command line's `--cache-dir`, `--no-cache`, ...).
    cache: CacheSetting,
    /// Workspace roots whose summary cache was read (the first run of each reads and
    /// writes it; later runs keep their work in the memo and write nothing).
    seeded: BTreeSet<PathBuf>,
}

impl Linter {
    pub fn new(cache: CacheSetting) -> Self {
        Linter {
            memo: Memo::new(),
            graphs: Graphs::new(),
            texts: Texts::new(),
            cache,
            seeded: BTreeSet::new(),
        }
    }

    /// Lint the open documents of `job`; `None` when the documents moved on before it
    /// finished (`current` is no longer `job.generation`).
    pub fn run(&mut self, job: &Job, current: &AtomicU64) -> Option<Linted> {
        let t0 = Instant::now();
        self.texts.begin();
        let mut overlay = Overlay::new(&self.texts);
        for (_, d) in &job.docs {
            overlay.insert(&d.path, d.text.as_str().to_string());
        }
        self.graphs
            .set_buffers(job.docs.iter().map(|(_, d)| d.path.clone()).collect());
        let view = Cancellable {
            inner: &overlay,
            current,
            mine: job.generation,
        };
        let mut linted = Linted {
            docs: Vec::new(),
            placed_errors: BTreeMap::new(),
            errors: Vec::new(),
            elapsed: Duration::ZERO,
        };
        let mut done: BTreeSet<&Path> = BTreeSet::new();
        for (uri, doc) in &job.docs {
            if done.contains(doc.path.as_path()) || !lintable(&doc.path, &job.folders) {
                continue;
            }
            let Some(dir) = doc.path.parent() else {
                continue;
            };
            let opts = LintOptions {
                start: Some(dir.to_path_buf()),
                select: job.settings.select.clone(),
                ignore: job.settings.ignore.clone(),
                cache: if self.seeded.iter().any(|r| doc.path.starts_with(r)) {
                    CacheSetting::Off
                } else {
                    self.cache.clone()
                },
                ..Default::default()
            };
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                crate::engine::lint_with(&view, &opts, Some(&self.memo), Some(&self.graphs))
            }));
            match run {
                Ok(Ok(outcome)) => {
                    if opts.cache != CacheSetting::Off {
                        self.seeded.insert(outcome.root.clone());
                    }
                    for (u, d) in &job.docs {
                        let Ok(rel) = d.path.strip_prefix(&outcome.root) else {
                            continue;
                        };
                        let rel = crate::engine::relative(Path::new(""), rel);
                        if !outcome.files.contains(&rel) && d.path != doc.path {
                            continue;
                        }
                        done.insert(d.path.as_path());
                        let shown = shown(&outcome, &rel, d, &view, job.encoding);
                        linted.docs.push((u.clone(), d.version, shown));
                    }
                }
                Ok(Err(e)) => {
                    done.insert(doc.path.as_path());
                    linted.docs.push((uri.clone(), doc.version, Vec::new()));
                    place_error(&e, job.encoding, &mut linted);
                }
                Err(payload) if payload.is::<Cancelled>() => return None,
                Err(payload) => {
                    let what = payload
                        .downcast_ref::<String>()
                        .map(String::as_str)
                        .or_else(|| payload.downcast_ref::<&str>().copied())
                        .unwrap_or("a panic");
                    linted.errors.push(format!(
                        "ssot-lint: internal error while linting {}: {what}",
                        doc.path.display()
                    ));
                }
            }
        }
        self.memo.sweep();
        self.texts.sweep();
        linted.elapsed = t0.elapsed();
        Some(linted)
    }
}

/// A document the server lints: a Rust file inside a workspace folder (anywhere when the
/// client named none).
fn lintable(path: &Path, folders: &[PathBuf]) -> bool {
    path.extension().is_some_and(|e| e == "rs")
        && (folders.is_empty() || folders.iter().any(|f| path.starts_with(f)))
}

/// The findings of `rel` (a document's path relative to the outcome's root), placed in the
/// document's text as linted; related locations in other files are placed in their text as
/// the view has it (the editor's when open).
fn shown(
    outcome: &Outcome,
    rel: &str,
    doc: &Document,
    view: &dyn FileSystem,
    enc: Encoding,
) -> Vec<Shown> {
    let mut texts: BTreeMap<String, Option<String>> = BTreeMap::new();
    outcome
        .findings
        .iter()
        .filter(|f| f.file == rel)
        .map(|f| {
            let related = f
                .related
                .iter()
                .filter_map(|r| {
                    let path = outcome.root.join(&r.file);
                    let uri = Url::from_file_path(&path).ok()?;
                    let text = texts
                        .entry(r.file.clone())
                        .or_insert_with(|| view.read_text(&path, Some(&outcome.root)).ok())
                        .as_deref()?;
                    Some(convert::related(
                        uri, text, r.line, r.column, &r.message, enc,
                    ))
                })
                .collect();
            convert::diagnostic(f, &doc.text, &doc.lines, enc, related)
        })
        .collect()
}

/// An error that stopped a lint: at its place when it has one (a config or manifest),
/// else as a message.
fn place_error(e: &Error, enc: Encoding, out: &mut Linted) {
    let (path, span, text, message, help) = match e {
        Error::Config {
            path,
            span: Some(span),
            text,
            message,
            help,
        } => (path, span, text, message, help.as_deref()),
        Error::Manifest {
            path,
            span: Some(span),
            text,
            message,
        } => (path, span, text, message, None),
        _ => {
            out.errors.push(format!("ssot-lint: {e}"));
            return;
        }
    };
    let lines = Lines::new(text);
    let range: Range = lines.range(text, span.start, span.end, enc);
    let mut message = message.clone();
    if let Some(h) = help {
        message.push_str("\nhelp: ");
        message.push_str(h);
    }
    match Url::from_file_path(path) {
        Ok(uri) => out
            .placed_errors
            .entry(uri)
            .or_default()
            .push(convert::error_diagnostic(message, range)),
        Err(()) => out.errors.push(format!("ssot-lint: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A crate whose `src/db.rs` builds its own pool outside the configured SSOT.
    fn krate() -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path().canonicalize().expect("canonical");
        let write = |rel: &str, text: &str| {
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, text).expect("write");
        };
        write(
            "Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nsqlx = \"0.8\"\n",
        );
        write("ssot-lint.toml", "[ssot]\nmodules = [\"app::database\"]\n");
        write("src/lib.rs", "pub mod database;\npub mod db;\n");
        write("src/database.rs", "pub fn pool() {}\n");
        write(
            "src/db.rs",
            "pub async fn open() { let _ = sqlx::PgPool::connect(\"\").await; }\n",
        );
        (tmp, root)
    }

    fn job(root: &Path, generation: u64) -> Job {
        let path = root.join("src/db.rs");
        let text = std::fs::read_to_string(&path).expect("read");
        let uri = Url::from_file_path(&path).expect("uri");
        Job {
            generation,
            docs: vec![(uri, Document::new(path, 1, text))],
            settings: Settings::default(),
            folders: vec![root.to_path_buf()],
            encoding: Encoding::Utf16,
        }
    }

    #[test]
    fn a_run_whose_generation_has_passed_is_abandoned() {
        let (_tmp, root) = krate();
        let mut linter = Linter::new(CacheSetting::Off);
        // The documents moved on before the run's first read: nothing is returned.
        let moved_on = AtomicU64::new(5);
        assert!(linter.run(&job(&root, 4), &moved_on).is_none());
        // The same run at the current generation lints (the memo is not left half-done).
        let linted = linter.run(&job(&root, 5), &moved_on).expect("linted");
        let codes: Vec<&str> = linted.docs[0].2.iter().map(|s| s.code.as_str()).collect();
        assert_eq!(codes, ["SSOT001"]);
        // Again from the memo: the same.
        let again = linter.run(&job(&root, 5), &moved_on).expect("linted");
        assert_eq!(again.docs[0].2.len(), 1);
    }

    /// The document's findings as the server shows them: code, line, message.
    fn shown_of(linted: &Linted) -> Vec<(String, u32, String)> {
        let mut v: Vec<(String, u32, String)> = linted.docs[0]
            .2
            .iter()
            .map(|s| {
                (
                    s.code.as_str().to_string(),
                    s.diagnostic.range.start.line + 1,
                    // The finding's message; the diagnostic's adds its help.
                    s.diagnostic
                        .message
                        .split("\nhelp: ")
                        .next()
                        .unwrap_or_default()
                        .to_string(),
                )
            })
            .collect();
        v.sort();
        v
    }

    /// The findings of `rel` from a fresh lint of the disk with `text` as its buffer (what
    /// the command line would say of the tree with the buffer saved), and the warnings.
    fn fresh(root: &Path, rel: &str, text: &str) -> (Vec<(String, u32, String)>, Vec<String>) {
        let mut overlay = Overlay::new(&vfs::Disk);
        overlay.insert(&root.join(rel), text.to_string());
        let opts = LintOptions {
            start: Some(root.join(rel).parent().expect("dir").to_path_buf()),
            ..Default::default()
        };
        let out = crate::engine::lint(&overlay, &opts).expect("lint");
        let mut v: Vec<(String, u32, String)> = out
            .findings
            .iter()
            .filter(|f| f.file == rel)
            .map(|f| (f.code.as_str().to_string(), f.line, f.message.clone()))
            .collect();
        v.sort();
        (v, out.warnings)
    }

    #[test]
    fn a_kept_crate_graph_gives_what_a_fresh_lint_gives_and_never_outlives_a_change() {
        let (_tmp, root) = krate();
        let mut linter = Linter::new(CacheSetting::Off);
        let generation = AtomicU64::new(1);
        let mut j = job(&root, 1);
        // The open `src/db.rs` typed to `text`, linted: the findings a fresh lint gives.
        let step = |linter: &mut Linter, j: &mut Job, text: &str| {
            j.docs[0].1 = Document::new(root.join("src/db.rs"), 1, text.to_string());
            let linted = linter.run(j, &generation).expect("linted");
            let (want, _) = fresh(&root, "src/db.rs", text);
            assert_eq!(shown_of(&linted), want, "{text}");
            want
        };
        let db = std::fs::read_to_string(root.join("src/db.rs")).expect("read");
        // The first lint reads the crates; a keystroke in a body takes them as they were.
        assert_eq!(step(&mut linter, &mut j, &db).len(), 1);
        assert_eq!(linter.graphs.reused(), 0);
        let typed = db.replace("connect(\"\")", "connect(\"x\")");
        assert_eq!(step(&mut linter, &mut j, &typed).len(), 1);
        assert_eq!(linter.graphs.reused(), 1);
        // A `mod` item typed into the buffer changes its structure: read again (the module
        // is missing: a warning, as from a fresh lint).
        let with_mod = format!("pub mod extra;\n{typed}");
        step(&mut linter, &mut j, &with_mod);
        assert_eq!(linter.graphs.reused(), 1);
        step(&mut linter, &mut j, &format!("{with_mod} "));
        assert_eq!(linter.graphs.reused(), 2);
        // Its file created on disk, with a pool of its own: read again, and reported.
        let extra = root.join("src/db/extra.rs");
        std::fs::create_dir_all(extra.parent().expect("dir")).expect("mkdir");
        std::fs::write(
            &extra,
            "pub async fn more() { let _ = sqlx::PgPool::connect(\"\").await; }\n",
        )
        .expect("write");
        step(&mut linter, &mut j, &format!("{with_mod}  "));
        assert_eq!(linter.graphs.reused(), 2);
        step(&mut linter, &mut j, &with_mod);
        assert_eq!(linter.graphs.reused(), 3);
        let opts = LintOptions {
            start: Some(root.clone()),
            ..Default::default()
        };
        let mut overlay = Overlay::new(&vfs::Disk);
        overlay.insert(&root.join("src/db.rs"), with_mod.clone());
        let all = crate::engine::lint(&overlay, &opts).expect("lint");
        assert!(all.findings.iter().any(|f| f.file == "src/db/extra.rs"));
        // A file no module declares, created beside them: read again.
        std::fs::write(root.join("src/stray.rs"), "pub fn f() {}\n").expect("write");
        step(&mut linter, &mut j, &with_mod);
        assert_eq!(linter.graphs.reused(), 3);
        // A module file deleted on disk: read again.
        std::fs::remove_file(&extra).expect("rm");
        step(&mut linter, &mut j, &format!("{with_mod} "));
        assert_eq!(linter.graphs.reused(), 3);
        // Another buffer opened: read again.
        let other = root.join("src/database.rs");
        j.docs.push((
            Url::from_file_path(&other).expect("uri"),
            Document::new(other, 1, "pub fn pool() {}\n".into()),
        ));
        step(&mut linter, &mut j, &with_mod);
        assert_eq!(linter.graphs.reused(), 3);
        step(&mut linter, &mut j, &format!("{with_mod} "));
        assert_eq!(linter.graphs.reused(), 4);
    }

    #[test]
    fn documents_outside_the_workspace_folders_are_not_linted() {
        let (_tmp, root) = krate();
        let mut j = job(&root, 1);
        j.folders = vec![root.join("elsewhere")];
        let linted = Linter::new(CacheSetting::Off)
            .run(&j, &AtomicU64::new(1))
            .expect("linted");
        assert!(linted.docs.is_empty());
    }
}
