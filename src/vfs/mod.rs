//! The file-system view: every stage reads through it, and only through it: manifests,
//! configs, sources, `mod` and `#[path]` candidates, directory listings and walks (with
//! their ignore files), and the tool's own cache files. Only the outer layer chooses where
//! bytes come from (rust-analyzer's `vfs` does the same):
//!
//! - [`Disk`]: the real file system behind the containment gate ([`gate`]: real paths
//!   inside the root, regular files only, size-capped, never blocking on a FIFO);
//! - [`Recorder`]: a view over another that notes every fact read through it, stamped before
//!   it was used (a file's text, a path looked for, a directory listed): what the result
//!   cache checks before it reuses a unit's outcome (see [`stamp`]);
//! - [`Overlay`]: texts held in memory over another view (the fixer's passes, the fuzzers,
//!   an editor's unsaved buffers);
//! - [`Memory`]: a whole tree in memory, no disk at all (the inline rule tests).
//!
//! The write side: the tool's own files ([`FileSystem::create_private`]: a temporary file
//! renamed into place in a directory of the tool's, never through a symlink), and the files
//! a user names (`--output`, baselines: [`gate::write`], inside the workspace, never through
//! a symlink, never into `.git/`).

mod disk;
pub mod gate;
mod git;
mod memory;
mod overlay;
mod private;
mod record;
pub mod stamp;

use std::path::{Component, Path, PathBuf};

pub use disk::Disk;
pub use gate::{DEFAULT_MAX_FILE_SIZE, ReadError, WriteError, max_file_size, set_max_file_size};
pub use memory::Memory;
pub use overlay::Overlay;
pub use private::KEY_FILE;
pub use record::Recorder;

/// The directory the tool keeps its caches in when a tree has no `target/`: never part of
/// a package (walks do not enter it, listings leave it out).
pub const TOOL_DIR: &str = ".ssot-lint-cache";

/// What is at a path: what `lstat` says of it, or (for [`FileSystem::stat`]) of what a
/// symlink points to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    /// A FIFO, socket or device.
    Other,
}

/// An entry of a directory listing or a walk; its kind is the entry's own (a symlink is a
/// [`EntryKind::Symlink`], not followed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    pub path: PathBuf,
    pub kind: EntryKind,
}

impl DirEntry {
    pub fn file_name(&self) -> Option<&std::ffi::OsStr> {
        self.path.file_name()
    }
}

/// A walk below a directory. Entries come in no particular order; symlinks are not followed.
#[derive(Clone)]
pub struct Walk<'a> {
    pub root: &'a Path,
    /// Leave out what ignore files say, as git does (`.gitignore` in a git work tree, its
    /// `info/exclude` and global excludes file, `.ignore` anywhere); hidden files are walked.
    pub ignore_files: bool,
    /// With `ignore_files`: `.ignore` files too (not a git file; on by default).
    pub dot_ignore: bool,
    /// Directories with these names are not entered.
    pub skip_dirs: &'a [&'a str],
    /// A directory below the root that holds a `Cargo.toml` file is not entered.
    pub skip_packages: bool,
    /// Entries less deep than this are not listed (the root is depth 0).
    pub min_depth: usize,
    pub max_depth: Option<usize>,
    /// Called for every directory below the root that is not skipped by name, right
    /// before it is listed or looked into (the [`Recorder`] stamps it there).
    pub on_dir: Option<OnDir>,
}

impl<'a> Walk<'a> {
    /// Everything below `root`, ignore files not applied.
    pub fn new(root: &'a Path) -> Self {
        Walk {
            root,
            ignore_files: false,
            dot_ignore: true,
            skip_dirs: &[],
            skip_packages: false,
            min_depth: 0,
            max_depth: None,
            on_dir: None,
        }
    }

    /// Whether a directory below the root may be entered, by its name.
    pub(crate) fn enters(&self, name: &std::ffi::OsStr) -> bool {
        !self.skip_dirs.iter().any(|s| name == *s)
    }
}

/// A walk's observer of directories (see [`Walk::on_dir`]).
pub type OnDir = std::sync::Arc<dyn Fn(&Path) + Send + Sync>;

/// A file of the tool's own being written: bytes go to a temporary file, which
/// [`PrivateFile::commit`] renames into place (dropped uncommitted, it is removed).
pub trait PrivateFile: std::io::Write + std::io::Seek + Send {
    fn commit(self: Box<Self>) -> Result<(), String>;
}

/// A view of a file system. Paths are absolute. `within`, where a method takes it, is the
/// directory a read must stay inside (a real path); `None` only for a path the user named.
pub trait FileSystem: Sync {
    /// What is at `path` itself (a symlink is not followed); `None` when nothing is there or
    /// it cannot be told.
    fn lstat(&self, path: &Path) -> Option<EntryKind>;

    /// What is at `path`, symlinks followed.
    fn stat(&self, path: &Path) -> Option<EntryKind>;

    /// The real path of an existing `path`, as `std::fs::canonicalize` gives it.
    fn canonicalize(&self, path: &Path) -> std::io::Result<PathBuf>;

    /// [`FileSystem::canonicalize`], where a view may answer faster (the disk resolves each
    /// directory once per run).
    fn real_path(&self, path: &Path) -> Option<PathBuf> {
        self.canonicalize(path).ok()
    }

    /// The real path of `path` when the gate would let it be read: a regular file inside
    /// `within`, no larger than [`max_file_size`]. Nothing is read.
    fn check(&self, path: &Path, within: Option<&Path>) -> Result<PathBuf, ReadError>;

    /// A file's bytes, through the gate ([`FileSystem::check`]).
    fn read(&self, path: &Path, within: Option<&Path>) -> Result<Vec<u8>, ReadError>;

    /// The entries of a directory.
    fn read_dir(&self, dir: &Path) -> std::io::Result<Vec<DirEntry>>;

    /// Every entry below `walk.root` (see [`Walk`]).
    fn walk(&self, walk: &Walk) -> Vec<DirEntry>;

    /// A file the tool wrote for itself (a cache): a regular file reached without following
    /// a symlink, at most `max` bytes. `Err(None)` when there is none, `Err(Some(why))`
    /// when it may not be read.
    fn read_private(&self, path: &Path, max: u64) -> Result<Vec<u8>, Option<String>>;

    /// Write a file a user named (an `--output` file, a baseline) at the absolute `path`:
    /// only inside `within` (a real path), never through or over a symlink, never into
    /// `.git/`; a temporary file renamed into place (see [`gate::write`]).
    fn write_named(&self, path: &Path, within: &Path, bytes: &[u8]) -> Result<(), WriteError> {
        let _ = (path, within, bytes);
        Err(WriteError::Io(std::io::Error::other(
            "this file-system view writes no files",
        )))
    }

    /// Start writing `name` in the tool's own directory `dir`, which is created (with its
    /// parents, for this user alone) when missing and refused when it is a symlink or not a
    /// directory. Where such a directory may be is the caller's decision (see
    /// `crate::cache::place`).
    fn create_private(&self, dir: &Path, name: &str) -> Result<Box<dyn PrivateFile>, String>;

    /// The per-user secret kept in the file `key` of `dir`: 32 random bytes, made on first
    /// use, readable by this user alone. What the tool's own files are authenticated with;
    /// refused when the file is a symlink, not a regular file of 32 bytes, another user's,
    /// or open to others.
    fn private_key(&self, dir: &Path) -> Result<[u8; 32], String> {
        let _ = dir;
        Err("this file-system view keeps no secret".into())
    }

    /// Keep the `keep` most recently written directories directly in `dir` whose names
    /// `ours` accepts, and remove the others with what they hold (the tool's own
    /// directories: a symlink is never followed or removed).
    fn prune_private(&self, dir: &Path, keep: usize, ours: fn(&std::ffi::OsStr) -> bool) {
        let _ = (dir, keep, ours);
    }

    /// The files named `name` below `dir` that git tracks (in its index), when `dir` is in
    /// a git work tree and git can say; `None` when it cannot tell (no work tree, no git, an
    /// error). Never what the tree's configuration could make git run.
    fn tracked(&self, dir: &Path, name: &str) -> Option<Vec<PathBuf>> {
        let _ = (dir, name);
        None
    }

    /// Whether this view's texts are the disk's, so that [`stamp`]s describe them (a result
    /// cache may keep and reuse outcomes read through it).
    fn stamps(&self) -> bool {
        false
    }

    /// A file's text, invalid UTF-8 replaced (sources).
    fn read_text(&self, path: &Path, within: Option<&Path>) -> Result<String, ReadError> {
        self.read(path, within).map(|b| match String::from_utf8(b) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        })
    }

    /// A file's text that must be UTF-8 (manifests, configs).
    fn read_utf8(&self, path: &Path, within: Option<&Path>) -> Result<String, ReadError> {
        String::from_utf8(self.read(path, within)?).map_err(|_| {
            ReadError::Io(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "stream did not contain valid UTF-8",
            ))
        })
    }

    /// Whether a file is at `path` (symlinks followed).
    fn is_file(&self, path: &Path) -> bool {
        self.stat(path) == Some(EntryKind::File)
    }

    /// Whether a directory is at `path` (symlinks followed).
    fn is_dir(&self, path: &Path) -> bool {
        self.stat(path) == Some(EntryKind::Dir)
    }

    /// Whether anything is at `path`, a dangling symlink included.
    fn exists_here(&self, path: &Path) -> bool {
        self.lstat(path).is_some()
    }
}

/// `path` with `.` and `..` resolved lexically (no file system access).
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests;
