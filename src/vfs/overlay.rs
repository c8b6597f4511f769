//! Texts held in memory over another view: the fixer's passes (the texts fixed so far), the
//! fuzzers' inputs, an editor's unsaved buffers. A path the overlay holds is a regular file
//! with that text, whatever the view below says; every other path is the view below's.
//! Listings and walks show the overlay's files that the view below does not have as well
//! (ignore files are not applied to those), and the directories that hold them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::{DirEntry, EntryKind, FileSystem, PrivateFile, ReadError, Walk, WriteError, normalize};

pub struct Overlay<'a> {
    base: &'a dyn FileSystem,
    /// By normalized absolute path.
    texts: BTreeMap<PathBuf, String>,
    /// Every directory above a text.
    dirs: BTreeSet<PathBuf>,
}

impl<'a> Overlay<'a> {
    pub fn new(base: &'a dyn FileSystem) -> Self {
        Overlay {
            base,
            texts: BTreeMap::new(),
            dirs: BTreeSet::new(),
        }
    }

    /// Hold `text` as the file at `path` (absolute).
    pub fn insert(&mut self, path: &Path, text: String) {
        let n = normalize(path);
        for a in n.ancestors().skip(1) {
            if !self.dirs.insert(a.to_path_buf()) {
                break;
            }
        }
        self.texts.insert(n, text);
    }

    /// The text held for `path`, if any.
    pub fn get(&self, path: &Path) -> Option<&String> {
        self.texts.get(&normalize(path))
    }

    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    fn held(&self, path: &Path) -> Option<EntryKind> {
        let n = normalize(path);
        if self.texts.contains_key(&n) {
            Some(EntryKind::File)
        } else if self.dirs.contains(&n) {
            Some(EntryKind::Dir)
        } else {
            None
        }
    }

    /// The entries the overlay adds to a listing of `dir`.
    fn children(&self, dir: &Path) -> Vec<DirEntry> {
        let dir = normalize(dir);
        let files = self.texts.keys().map(|p| (p, EntryKind::File));
        let dirs = self.dirs.iter().map(|p| (p, EntryKind::Dir));
        files
            .chain(dirs)
            .filter(|(p, _)| p.parent() == Some(dir.as_path()))
            .map(|(p, kind)| DirEntry {
                path: p.clone(),
                kind,
            })
            .collect()
    }
}

impl FileSystem for Overlay<'_> {
    fn lstat(&self, path: &Path) -> Option<EntryKind> {
        self.held(path).or_else(|| self.base.lstat(path))
    }

    fn stat(&self, path: &Path) -> Option<EntryKind> {
        self.held(path).or_else(|| self.base.stat(path))
    }

    fn canonicalize(&self, path: &Path) -> std::io::Result<PathBuf> {
        match (self.base.canonicalize(path), self.held(path)) {
            (Ok(p), _) => Ok(p),
            (Err(_), Some(_)) => Ok(normalize(path)),
            (Err(e), None) => Err(e),
        }
    }

    fn real_path(&self, path: &Path) -> Option<PathBuf> {
        self.base
            .real_path(path)
            .or_else(|| self.held(path).map(|_| normalize(path)))
    }

    fn check(&self, path: &Path, within: Option<&Path>) -> Result<PathBuf, ReadError> {
        let n = normalize(path);
        if self.texts.contains_key(&n) {
            return match within {
                Some(root) if !n.starts_with(root) => Err(ReadError::Outside),
                _ => Ok(n),
            };
        }
        self.base.check(path, within)
    }

    fn read(&self, path: &Path, within: Option<&Path>) -> Result<Vec<u8>, ReadError> {
        let n = normalize(path);
        match self.texts.get(&n) {
            Some(t) => self.check(&n, within).map(|_| t.clone().into_bytes()),
            None => self.base.read(path, within),
        }
    }

    fn read_text(&self, path: &Path, within: Option<&Path>) -> Result<String, ReadError> {
        let n = normalize(path);
        match self.texts.get(&n) {
            Some(t) => self.check(&n, within).map(|_| t.clone()),
            None => self.base.read_text(path, within),
        }
    }

    fn read_dir(&self, dir: &Path) -> std::io::Result<Vec<DirEntry>> {
        let mine = self.children(dir);
        let mut v = match self.base.read_dir(dir) {
            Ok(v) => v,
            Err(_) if !mine.is_empty() => Vec::new(),
            Err(e) => return Err(e),
        };
        for e in mine {
            if !v.iter().any(|b| b.path == e.path) {
                v.push(e);
            }
        }
        Ok(v)
    }

    fn walk(&self, w: &Walk) -> Vec<DirEntry> {
        let mut v = self.base.walk(w);
        // What the view below holds, it walked (its ignore files applied): only paths it
        // does not have are added.
        let root = normalize(w.root);
        let depth = |p: &Path| p.strip_prefix(&root).map_or(0, |r| r.components().count());
        // The overlay's entries below the root, in a directory the walk would enter.
        let entered = |p: &Path| {
            p.ancestors()
                .skip(1)
                .take_while(|a| *a != root.as_path())
                .all(|a| {
                    a.file_name().is_some_and(|n| w.enters(n))
                        && !(w.skip_packages && self.is_file(&a.join("Cargo.toml")))
                })
        };
        let files = self.texts.keys().map(|p| (p, EntryKind::File));
        let dirs = self.dirs.iter().map(|p| (p, EntryKind::Dir));
        for (p, kind) in files.chain(dirs) {
            let d = depth(p);
            if !p.starts_with(&root)
                || p == &root
                || d < w.min_depth
                || w.max_depth.is_some_and(|m| d > m)
                || !entered(p)
                || (kind == EntryKind::Dir && p.file_name().is_some_and(|n| !w.enters(n)))
                || self.base.lstat(p).is_some()
            {
                continue;
            }
            v.push(DirEntry {
                path: p.clone(),
                kind,
            });
        }
        v
    }

    fn read_private(&self, path: &Path, max: u64) -> Result<Vec<u8>, Option<String>> {
        self.base.read_private(path, max)
    }

    fn tracked(&self, dir: &Path, name: &str) -> Option<Vec<PathBuf>> {
        self.base.tracked(dir, name)
    }

    fn write_named(&self, path: &Path, within: &Path, bytes: &[u8]) -> Result<(), WriteError> {
        self.base.write_named(path, within, bytes)
    }

    fn create_private(&self, dir: &Path, name: &str) -> Result<Box<dyn PrivateFile>, String> {
        self.base.create_private(dir, name)
    }

    fn private_key(&self, dir: &Path) -> Result<[u8; 32], String> {
        self.base.private_key(dir)
    }

    fn prune_private(&self, dir: &Path, keep: usize, ours: fn(&std::ffi::OsStr) -> bool) {
        self.base.prune_private(dir, keep, ours)
    }

    fn stamps(&self) -> bool {
        self.texts.is_empty() && self.base.stamps()
    }
}
