//! The real file system, behind the containment gate.

use std::path::{Path, PathBuf};

use super::{DirEntry, EntryKind, FileSystem, PrivateFile, ReadError, Walk, WriteError, gate};

/// The disk, read through [`gate`]; walks use the `ignore` crate (git's ignore rules) or
/// `walkdir`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Disk;

pub(super) fn kind_of(t: std::fs::FileType) -> EntryKind {
    if t.is_symlink() {
        EntryKind::Symlink
    } else if t.is_file() {
        EntryKind::File
    } else if t.is_dir() {
        EntryKind::Dir
    } else {
        EntryKind::Other
    }
}

impl FileSystem for Disk {
    fn lstat(&self, path: &Path) -> Option<EntryKind> {
        std::fs::symlink_metadata(path)
            .ok()
            .map(|m| kind_of(m.file_type()))
    }

    fn stat(&self, path: &Path) -> Option<EntryKind> {
        std::fs::metadata(path).ok().map(|m| kind_of(m.file_type()))
    }

    fn canonicalize(&self, path: &Path) -> std::io::Result<PathBuf> {
        std::fs::canonicalize(path)
    }

    fn real_path(&self, path: &Path) -> Option<PathBuf> {
        gate::real_path(path)
    }

    fn check(&self, path: &Path, within: Option<&Path>) -> Result<PathBuf, ReadError> {
        gate::check(path, within)
    }

    fn read(&self, path: &Path, within: Option<&Path>) -> Result<Vec<u8>, ReadError> {
        gate::read_bytes(path, within)
    }

    fn read_dir(&self, dir: &Path) -> std::io::Result<Vec<DirEntry>> {
        Ok(std::fs::read_dir(dir)?
            .flatten()
            .filter_map(|e| {
                Some(DirEntry {
                    kind: kind_of(e.file_type().ok()?),
                    path: e.path(),
                })
            })
            .collect())
    }

    fn walk(&self, w: &Walk) -> Vec<DirEntry> {
        // Which directories below the root are entered (neither crate filters the root).
        let skip: Vec<String> = w.skip_dirs.iter().map(|s| s.to_string()).collect();
        let (skip_packages, on_dir) = (w.skip_packages, w.on_dir.clone());
        let enters = move |path: &Path, name: &std::ffi::OsStr| {
            if skip.iter().any(|s| name == s.as_str()) {
                return false;
            }
            if let Some(f) = &on_dir {
                // Before it is listed (and its ignore files read) or its `Cargo.toml`
                // looked for.
                f(path);
            }
            !(skip_packages && path.join("Cargo.toml").is_file())
        };
        let entry = |kind: Option<std::fs::FileType>, path: PathBuf| {
            Some(DirEntry {
                kind: kind_of(kind?),
                path,
            })
        };
        if w.ignore_files {
            let mut b = ignore::WalkBuilder::new(w.root);
            b.hidden(false).ignore(w.dot_ignore).max_depth(w.max_depth);
            b.filter_entry(move |e| {
                !e.file_type().is_some_and(|t| t.is_dir()) || enters(e.path(), e.file_name())
            });
            b.build()
                .flatten()
                .filter(|e| e.depth() >= w.min_depth)
                .filter_map(|e| entry(e.file_type(), e.into_path()))
                .collect()
        } else {
            let mut wd = walkdir::WalkDir::new(w.root).min_depth(w.min_depth);
            if let Some(d) = w.max_depth {
                wd = wd.max_depth(d);
            }
            wd.into_iter()
                .filter_entry(|e| {
                    e.depth() == 0 || !e.file_type().is_dir() || enters(e.path(), e.file_name())
                })
                .flatten()
                .filter_map(|e| entry(Some(e.file_type()), e.into_path()))
                .collect()
        }
    }

    fn read_private(&self, path: &Path, max: u64) -> Result<Vec<u8>, Option<String>> {
        super::private::read(path, max)
    }

    fn write_named(&self, path: &Path, within: &Path, bytes: &[u8]) -> Result<(), WriteError> {
        gate::write(path, within, bytes)
    }

    fn create_private(&self, dir: &Path, name: &str) -> Result<Box<dyn PrivateFile>, String> {
        super::private::create(dir, name).map(|f| Box::new(f) as Box<dyn PrivateFile>)
    }

    fn private_key(&self, dir: &Path) -> Result<[u8; 32], String> {
        super::private::key(dir)
    }

    fn prune_private(&self, dir: &Path, keep: usize, ours: fn(&std::ffi::OsStr) -> bool) {
        super::private::prune(dir, keep, ours)
    }

    fn tracked(&self, dir: &Path, name: &str) -> Option<Vec<PathBuf>> {
        super::git::tracked(dir, name)
    }

    fn stamps(&self) -> bool {
        true
    }
}
