//! A view that notes every file system fact read through it, each stamped before it was
//! used: what a result cache must find unchanged before it reuses what was computed from
//! them (see [`super::stamp`]).
//!
//! - a file read: its stamp and the xxh3 hash of the bytes read ([`Content::Text`]); one
//!   that could not be read: its stamp ([`Content::Stamp`]);
//! - a path looked at and not read (`x.rs` before `x/mod.rs`, a `#[path]` target, a config
//!   that is not there): what is there ([`Content::Presence`]);
//! - a directory listed or walked: its stamp and listing ([`Content::Listing`]) and its
//!   ignore files; for a walk that applies ignore files, also those above it, whether a
//!   `.git` is there, and the user's git configuration where a global excludes file is
//!   named (the walk reads them too).
//!
//! A fact is noted once, the first time it is used.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::stamp::{Content, FsDep, listing, presence, stamp};
use super::{DirEntry, EntryKind, FileSystem, PrivateFile, ReadError, Walk, WriteError};

#[derive(Default)]
struct Noted {
    deps: Vec<FsDep>,
    /// (path, kind of fact) already noted: 0 text or unreadable, 1 presence, 2 listing,
    /// 3 stamp.
    seen: HashSet<(PathBuf, u8)>,
}

impl Noted {
    fn first(&mut self, path: &Path, what: u8) -> bool {
        self.seen.insert((path.to_path_buf(), what))
    }
}

/// A view over `inner` that notes what is read through it (see the module documentation).
pub struct Recorder<'a> {
    inner: &'a dyn FileSystem,
    noted: Arc<Mutex<Noted>>,
}

impl<'a> Recorder<'a> {
    pub fn new(inner: &'a dyn FileSystem) -> Self {
        Recorder {
            inner,
            noted: Arc::default(),
        }
    }

    /// Every fact noted, in the order they were first used.
    pub fn into_deps(self) -> Vec<FsDep> {
        match Arc::try_unwrap(self.noted) {
            Ok(m) => m.into_inner().map(|n| n.deps).unwrap_or_default(),
            Err(shared) => shared.lock().map(|n| n.deps.clone()).unwrap_or_default(),
        }
    }

    fn presence(&self, path: &Path) {
        if let Ok(mut n) = self.noted.lock()
            && n.first(path, 1)
        {
            n.deps
                .push((path.to_path_buf(), presence(path), Content::Presence));
        }
    }

    /// Whether a read of `path` is the first (then the caller stamps it before reading).
    fn first_read(&self, path: &Path) -> bool {
        self.noted.lock().is_ok_and(|mut n| n.first(path, 0))
    }

    fn push(&self, dep: FsDep) {
        if let Ok(mut n) = self.noted.lock() {
            n.deps.push(dep);
        }
    }
}

/// A directory about to be listed: its stamp and listing, and its ignore files.
fn note_dir(noted: &Mutex<Noted>, p: &Path) {
    let Ok(mut n) = noted.lock() else { return };
    if !n.first(p, 2) {
        return;
    }
    let st = stamp(p);
    n.deps
        .push((p.to_path_buf(), st, Content::Listing(listing(p))));
    // One added or removed changes the listing; one that is there is stamped itself.
    for name in [".gitignore", ".ignore"] {
        let f = p.join(name);
        let st = stamp(&f);
        if !st.is_missing() && n.first(&f, 3) {
            n.deps.push((f, st, Content::Stamp));
        }
    }
}

/// What a walk that applies ignore files reads above its root: the ignore files of every
/// directory above it and whether a `.git` is there, and the user's git configuration.
fn note_above(noted: &Mutex<Noted>, root: &Path) {
    let Ok(mut n) = noted.lock() else { return };
    let mut above: Vec<PathBuf> = Vec::new();
    for a in root.ancestors().skip(1) {
        let git = a.join(".git");
        if n.first(&git, 1) {
            let p = presence(&git);
            n.deps.push((git, p, Content::Presence));
        }
        above.push(a.join(".gitignore"));
        above.push(a.join(".ignore"));
        above.push(a.join(".git/info/exclude"));
    }
    if let Some(home) = std::env::var_os("HOME").map(PathBuf::from) {
        above.push(home.join(".gitconfig"));
        above.push(home.join(".config/git/config"));
        above.push(home.join(".config/git/ignore"));
    }
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from) {
        above.push(x.join("git/config"));
        above.push(x.join("git/ignore"));
    }
    for p in above {
        if n.first(&p, 3) {
            let st = stamp(&p);
            n.deps.push((p, st, Content::Stamp));
        }
    }
}

impl FileSystem for Recorder<'_> {
    fn lstat(&self, path: &Path) -> Option<EntryKind> {
        self.presence(path);
        self.inner.lstat(path)
    }

    fn stat(&self, path: &Path) -> Option<EntryKind> {
        self.presence(path);
        self.inner.stat(path)
    }

    fn canonicalize(&self, path: &Path) -> std::io::Result<PathBuf> {
        self.inner.canonicalize(path)
    }

    fn real_path(&self, path: &Path) -> Option<PathBuf> {
        self.inner.real_path(path)
    }

    fn check(&self, path: &Path, within: Option<&Path>) -> Result<PathBuf, ReadError> {
        // What is there, not when it changed: a file that is read has its own entry.
        self.presence(path);
        self.inner.check(path, within)
    }

    fn read(&self, path: &Path, within: Option<&Path>) -> Result<Vec<u8>, ReadError> {
        if !self.first_read(path) {
            return self.inner.read(path, within);
        }
        // Stamped before the read: a change after it changes the stamp.
        let st = stamp(path);
        let r = self.inner.read(path, within);
        match &r {
            Ok(bytes) => self.push((
                path.to_path_buf(),
                st,
                Content::Text(xxhash_rust::xxh3::xxh3_64(bytes)),
            )),
            // An unreadable file is a fact about the path, not about a text.
            Err(_) => self.push((path.to_path_buf(), st, Content::Stamp)),
        }
        r
    }

    fn read_dir(&self, dir: &Path) -> std::io::Result<Vec<DirEntry>> {
        note_dir(&self.noted, dir);
        self.inner.read_dir(dir)
    }

    fn walk(&self, walk: &Walk) -> Vec<DirEntry> {
        if walk.ignore_files {
            note_above(&self.noted, walk.root);
        }
        note_dir(&self.noted, walk.root);
        let noted = self.noted.clone();
        let outer = walk.on_dir.clone();
        let mut w = walk.clone();
        w.on_dir = Some(Arc::new(move |p: &Path| {
            note_dir(&noted, p);
            if let Some(f) = &outer {
                f(p);
            }
        }));
        self.inner.walk(&w)
    }

    fn read_private(&self, path: &Path, max: u64) -> Result<Vec<u8>, Option<String>> {
        self.inner.read_private(path, max)
    }

    fn tracked(&self, dir: &Path, name: &str) -> Option<Vec<PathBuf>> {
        self.inner.tracked(dir, name)
    }

    fn write_named(&self, path: &Path, within: &Path, bytes: &[u8]) -> Result<(), WriteError> {
        self.inner.write_named(path, within, bytes)
    }

    fn create_private(&self, dir: &Path, name: &str) -> Result<Box<dyn PrivateFile>, String> {
        self.inner.create_private(dir, name)
    }

    fn private_key(&self, dir: &Path) -> Result<[u8; 32], String> {
        self.inner.private_key(dir)
    }

    fn prune_private(&self, dir: &Path, keep: usize, ours: fn(&std::ffi::OsStr) -> bool) {
        self.inner.prune_private(dir, keep, ours)
    }

    fn stamps(&self) -> bool {
        self.inner.stamps()
    }
}
