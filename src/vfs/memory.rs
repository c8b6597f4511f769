//! A whole tree in memory, no disk at all: the inline rule tests, and anything that wants
//! the pipeline on texts held in a string. Files and the directories above them exist;
//! nothing is a symlink. The gate applies as on disk (inside the root, the size cap).
//! Walks apply `.ignore` files, and `.gitignore` files where a `.git` is at or above the
//! walk's root (as the `ignore` crate does by default); not the global excludes file.
//! The tool's own files (caches) written to it are kept in memory too.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::{DirEntry, EntryKind, FileSystem, PrivateFile, ReadError, Walk, WriteError, normalize};

#[derive(Default)]
pub struct Memory {
    files: BTreeMap<PathBuf, Vec<u8>>,
    dirs: BTreeSet<PathBuf>,
    /// The tool's own files, by path.
    private: Arc<Mutex<BTreeMap<PathBuf, Vec<u8>>>>,
    /// The secret of [`FileSystem::private_key`], drawn when first asked for.
    key: Mutex<Option<[u8; 32]>>,
}

impl Memory {
    /// A tree of `files` (absolute paths) and the directories above them.
    pub fn new<P: AsRef<Path>, T: Into<Vec<u8>>>(files: impl IntoIterator<Item = (P, T)>) -> Self {
        let mut m = Memory::default();
        for (p, t) in files {
            m.insert(p.as_ref(), t.into());
        }
        m
    }

    /// Add or replace a file.
    pub fn insert(&mut self, path: &Path, bytes: Vec<u8>) {
        let n = normalize(path);
        for a in n.ancestors().skip(1) {
            if !self.dirs.insert(a.to_path_buf()) {
                break;
            }
        }
        self.files.insert(n, bytes);
    }

    fn kind(&self, path: &Path) -> Option<EntryKind> {
        let n = normalize(path);
        if self.files.contains_key(&n) {
            Some(EntryKind::File)
        } else if self.dirs.contains(&n) {
            Some(EntryKind::Dir)
        } else {
            None
        }
    }

    fn children(&self, dir: &Path) -> Vec<DirEntry> {
        let files = self.files.keys().map(|p| (p, EntryKind::File));
        let dirs = self.dirs.iter().map(|p| (p, EntryKind::Dir));
        let mut v: Vec<DirEntry> = files
            .chain(dirs)
            .filter(|(p, _)| p.parent() == Some(dir))
            .map(|(p, kind)| DirEntry {
                path: p.clone(),
                kind,
            })
            .collect();
        v.sort_by(|a, b| a.path.cmp(&b.path));
        v
    }

    /// The ignore rules of a directory: its `.ignore`, then (in a git work tree) its
    /// `.gitignore`.
    fn rules_of(
        &self,
        dir: &Path,
        git: bool,
        dot_ignore: bool,
    ) -> Vec<ignore::gitignore::Gitignore> {
        let mut out = Vec::new();
        for (name, wanted) in [(".ignore", dot_ignore), (".gitignore", git)] {
            let Some(text) = wanted.then(|| self.files.get(&dir.join(name))).flatten() else {
                continue;
            };
            let mut b = ignore::gitignore::GitignoreBuilder::new(dir);
            for line in String::from_utf8_lossy(text).lines() {
                let _ = b.add_line(None, line);
            }
            if let Ok(g) = b.build() {
                out.push(g);
            }
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn walk_dir(
        &self,
        w: &Walk,
        dir: &Path,
        depth: usize,
        git: bool,
        rules: &mut Vec<Vec<ignore::gitignore::Gitignore>>,
        out: &mut Vec<DirEntry>,
    ) {
        if w.ignore_files {
            rules.push(self.rules_of(dir, git, w.dot_ignore));
        }
        for e in self.children(dir) {
            let is_dir = e.kind == EntryKind::Dir;
            // The deepest directory's rules first; in each, `.ignore` before `.gitignore`.
            let ignored =
                rules
                    .iter()
                    .rev()
                    .flatten()
                    .find_map(|g| match g.matched(&e.path, is_dir) {
                        ignore::Match::None => None,
                        m => Some(m.is_ignore()),
                    });
            if ignored == Some(true) {
                continue;
            }
            if is_dir {
                let name = e.path.file_name().unwrap_or_default();
                if !w.enters(name) {
                    continue;
                }
                if let Some(f) = &w.on_dir {
                    f(&e.path);
                }
                if w.skip_packages && self.is_file(&e.path.join("Cargo.toml")) {
                    continue;
                }
            }
            if depth + 1 >= w.min_depth {
                out.push(e.clone());
            }
            if is_dir && w.max_depth.is_none_or(|m| depth + 1 < m) {
                self.walk_dir(w, &e.path, depth + 1, git, rules, out);
            }
        }
        if w.ignore_files {
            rules.pop();
        }
    }
}

impl FileSystem for Memory {
    fn lstat(&self, path: &Path) -> Option<EntryKind> {
        self.kind(path).or_else(|| {
            let p = self.private.lock().ok()?;
            p.contains_key(&normalize(path)).then_some(EntryKind::File)
        })
    }

    fn stat(&self, path: &Path) -> Option<EntryKind> {
        self.lstat(path)
    }

    fn canonicalize(&self, path: &Path) -> std::io::Result<PathBuf> {
        match self.lstat(path) {
            Some(_) => Ok(normalize(path)),
            None => Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "No such file or directory (os error 2)",
            )),
        }
    }

    fn check(&self, path: &Path, within: Option<&Path>) -> Result<PathBuf, ReadError> {
        let n = normalize(path);
        let Some(kind) = self.kind(&n) else {
            return Err(ReadError::Missing);
        };
        if let Some(root) = within {
            let Ok(rel) = n.strip_prefix(root) else {
                return Err(ReadError::Outside);
            };
            if super::gate::in_git_dir(rel) {
                return Err(ReadError::GitDir);
            }
        }
        if kind != EntryKind::File {
            return Err(ReadError::NotRegular);
        }
        let len = self.files.get(&n).map_or(0, |b| b.len() as u64);
        if len > super::max_file_size() {
            return Err(ReadError::TooLarge(len));
        }
        Ok(n)
    }

    fn read(&self, path: &Path, within: Option<&Path>) -> Result<Vec<u8>, ReadError> {
        let n = self.check(path, within)?;
        Ok(self.files.get(&n).cloned().unwrap_or_default())
    }

    fn read_dir(&self, dir: &Path) -> std::io::Result<Vec<DirEntry>> {
        let n = normalize(dir);
        if !self.dirs.contains(&n) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "No such file or directory (os error 2)",
            ));
        }
        Ok(self.children(&n))
    }

    fn walk(&self, w: &Walk) -> Vec<DirEntry> {
        let root = normalize(w.root);
        let Some(kind) = self.kind(&root) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if w.min_depth == 0 {
            out.push(DirEntry {
                path: root.clone(),
                kind,
            });
        }
        if kind != EntryKind::Dir || w.max_depth == Some(0) {
            return out;
        }
        let git = root
            .ancestors()
            .any(|a| self.kind(&a.join(".git")).is_some());
        // The ignore files of the directories above the root apply too.
        let mut rules: Vec<Vec<ignore::gitignore::Gitignore>> = Vec::new();
        if w.ignore_files {
            let above: Vec<&Path> = root.ancestors().skip(1).collect();
            for a in above.into_iter().rev() {
                rules.push(self.rules_of(a, git, w.dot_ignore));
            }
        }
        self.walk_dir(w, &root, 0, git, &mut rules, &mut out);
        out
    }

    fn read_private(&self, path: &Path, max: u64) -> Result<Vec<u8>, Option<String>> {
        let p = self.private.lock().map_err(|e| Some(e.to_string()))?;
        match p.get(&normalize(path)) {
            None => Err(None),
            Some(b) if b.len() as u64 > max => Err(Some(format!("larger than {max} bytes"))),
            Some(b) => Ok(b.clone()),
        }
    }

    fn write_named(&self, path: &Path, within: &Path, bytes: &[u8]) -> Result<(), WriteError> {
        let dest = normalize(path);
        let Ok(rel) = dest.strip_prefix(within) else {
            return Err(WriteError::Outside);
        };
        if super::gate::in_git_dir(rel) {
            return Err(WriteError::GitDir);
        }
        if self.dirs.contains(&dest) {
            return Err(WriteError::NotRegular);
        }
        // Kept with the tool's own files: the tree itself stays as it was made.
        let mut p = self
            .private
            .lock()
            .map_err(|e| WriteError::Io(std::io::Error::other(e.to_string())))?;
        p.insert(dest, bytes.to_vec());
        Ok(())
    }

    fn create_private(&self, dir: &Path, name: &str) -> Result<Box<dyn PrivateFile>, String> {
        let dest = normalize(&dir.join(name));
        if self.files.contains_key(&normalize(dir)) {
            return Err(format!("{} is not a directory", dir.display()));
        }
        Ok(Box::new(MemoryFile {
            bytes: std::io::Cursor::new(Vec::new()),
            dest,
            store: self.private.clone(),
        }))
    }

    fn private_key(&self, _dir: &Path) -> Result<[u8; 32], String> {
        self.key()
    }

    fn prune_private(&self, _dir: &Path, _keep: usize, _ours: fn(&std::ffi::OsStr) -> bool) {}
}

impl Memory {
    /// This view's secret: drawn once per view (nothing outlives it).
    fn key(&self) -> Result<[u8; 32], String> {
        let mut k = self.key.lock().map_err(|e| e.to_string())?;
        if let Some(k) = *k {
            return Ok(k);
        }
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| format!("no random secret: {e}"))?;
        *k = Some(key);
        Ok(key)
    }
}

struct MemoryFile {
    bytes: std::io::Cursor<Vec<u8>>,
    dest: PathBuf,
    store: Arc<Mutex<BTreeMap<PathBuf, Vec<u8>>>>,
}

impl std::io::Write for MemoryFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.bytes.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl std::io::Seek for MemoryFile {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        self.bytes.seek(pos)
    }
}

impl PrivateFile for MemoryFile {
    fn commit(self: Box<Self>) -> Result<(), String> {
        let MemoryFile { bytes, dest, store } = *self;
        store
            .lock()
            .map_err(|e| e.to_string())?
            .insert(dest, bytes.into_inner());
        Ok(())
    }
}
