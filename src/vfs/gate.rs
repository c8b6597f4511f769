//! Containment: the gate every read of the disk goes through (see [`super::Disk`]).
//!
//! A path is resolved to its real path (symlinks followed) and read only when that real path
//! is inside the root the run was pointed at (and not inside its `.git`), names a regular file (not a FIFO, a device or
//! a directory) and is at most [`max_file_size`] bytes. The read itself is capped too (procfs
//! files report a size of 0) and opened without blocking. What a refused path holds is never
//! read, so it can never be printed.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

/// `--max-file-size` default: 10 MB.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;

static MAX_FILE_SIZE: AtomicU64 = AtomicU64::new(DEFAULT_MAX_FILE_SIZE);

/// Set the largest file the run reads (`--max-file-size`).
pub fn set_max_file_size(bytes: u64) {
    MAX_FILE_SIZE.store(bytes, Ordering::Relaxed);
}

pub fn max_file_size() -> u64 {
    MAX_FILE_SIZE.load(Ordering::Relaxed)
}

/// Why a file was not read. The text never includes what the file holds.
#[derive(Debug)]
pub enum ReadError {
    /// Nothing there (or a dangling symlink).
    Missing,
    /// The real path is outside the workspace (an absolute path, `..`, a symlink).
    Outside,
    /// The real path is inside a `.git` directory: git's files (its config holds
    /// credentials in CI) are not the project's sources.
    GitDir,
    /// A directory, FIFO, socket or device.
    NotRegular,
    /// Larger than the cap (the size, or the cap + 1 when the size was not known up front).
    TooLarge(u64),
    Io(std::io::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Missing => f.write_str("no such file"),
            ReadError::Outside => f.write_str("it resolves outside the workspace; not read"),
            ReadError::GitDir => f.write_str("it resolves inside .git; not read"),
            ReadError::NotRegular => f.write_str("not a regular file; not read"),
            ReadError::TooLarge(n) => write!(
                f,
                "larger than --max-file-size ({n} > {} bytes); skipped",
                max_file_size()
            ),
            ReadError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ReadError {}

impl From<ReadError> for std::io::Error {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Io(e) => e,
            ReadError::Missing => std::io::Error::new(std::io::ErrorKind::NotFound, e.to_string()),
            other => std::io::Error::other(other.to_string()),
        }
    }
}

/// Lexically inside `root` (both are expected to be real paths).
pub fn is_inside(path: &Path, root: &Path) -> bool {
    path.starts_with(root)
}

/// The real path of `path` when it is a regular file inside `root` (any file when `root`
/// is `None`, for paths the user named on the command line).
pub fn check(path: &Path, root: Option<&Path>) -> Result<PathBuf, ReadError> {
    let missing = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::NotFound => ReadError::Missing,
        _ => ReadError::Io(e),
    };
    let (canon, meta) = match real_dir_entry(path)? {
        Some((canon, meta)) => (canon, Some(meta)),
        None => (std::fs::canonicalize(path).map_err(missing)?, None),
    };
    if let Some(root) = root {
        let Ok(rel) = canon.strip_prefix(root) else {
            return Err(ReadError::Outside);
        };
        if in_git_dir(rel) {
            return Err(ReadError::GitDir);
        }
    }
    let meta = match meta {
        Some(m) => m,
        None => std::fs::metadata(&canon).map_err(ReadError::Io)?,
    };
    if !meta.is_file() {
        return Err(ReadError::NotRegular);
    }
    if meta.len() > max_file_size() {
        return Err(ReadError::TooLarge(meta.len()));
    }
    Ok(canon)
}

/// The real path of `path` and its metadata when its last component is a plain name and no
/// symlink: its directory's real path (resolved once per directory in a run, as
/// `canonicalize` would) joined with the name. `Ok(None)`: resolve the whole path (a symlink,
/// `..` at the end, no directory, anything unexpected); `Missing` when nothing is there (as
/// `canonicalize` would say).
/// The directories' real paths [`real_dir_entry`] has resolved in this run.
static DIRS: OnceLock<Mutex<HashMap<PathBuf, PathBuf>>> = OnceLock::new();

/// Forget every directory's real path: a run starts here. A process that lints again later
/// (the language server, `--fix`'s passes) must not trust a real path resolved before: a
/// directory inside the workspace may have become a symlink to one outside it since.
pub fn forget_dirs() {
    if let Some(Ok(mut dirs)) = DIRS.get().map(|d| d.lock()) {
        dirs.clear();
    }
}

fn real_dir_entry(path: &Path) -> Result<Option<(PathBuf, std::fs::Metadata)>, ReadError> {
    let Some(Component::Normal(name)) = path.components().next_back() else {
        return Ok(None);
    };
    let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return Ok(None);
    };
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) if !m.file_type().is_symlink() => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ReadError::Missing),
        _ => return Ok(None),
    };
    let Some(dirs) = DIRS.get_or_init(|| Mutex::new(HashMap::new())).lock().ok() else {
        return Ok(None);
    };
    let known = dirs.get(dir).cloned();
    drop(dirs);
    let real = match known {
        Some(r) => r,
        None => {
            let Ok(r) = std::fs::canonicalize(dir) else {
                return Ok(None);
            };
            if let Ok(mut dirs) = DIRS.get_or_init(|| Mutex::new(HashMap::new())).lock() {
                dirs.insert(dir.to_path_buf(), r.clone());
            }
            r
        }
    };
    Ok(Some((real.join(name), meta)))
}

/// The real path of an existing `path` (symlinks followed), as `canonicalize` gives it, with
/// the directories' real paths resolved once per run.
pub fn real_path(path: &Path) -> Option<PathBuf> {
    match real_dir_entry(path) {
        Ok(Some((real, _))) => Some(real),
        Ok(None) => std::fs::canonicalize(path).ok(),
        Err(_) => None,
    }
}

/// The bytes of a file that [`check`] accepts, at most [`max_file_size`] of them.
pub fn read_bytes(path: &Path, root: Option<&Path>) -> Result<Vec<u8>, ReadError> {
    let canon = check(path, root)?;
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Swapped for a FIFO after the check: fail instead of waiting for a writer.
        opts.custom_flags(libc::O_NONBLOCK);
    }
    let file = opts.open(&canon).map_err(ReadError::Io)?;
    let meta = file.metadata().map_err(ReadError::Io)?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular);
    }
    let cap = max_file_size();
    let mut buf = Vec::with_capacity(meta.len().min(cap) as usize);
    file.take(cap.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(ReadError::Io)?;
    if buf.len() as u64 > cap {
        return Err(ReadError::TooLarge(buf.len() as u64));
    }
    Ok(buf)
}

// ---------------------------------------------------------------------------------------
// Writes of files a user names (`--output`, `--write-baseline`, `--prune-baseline`)

/// Why a file was not written. The text never includes what is at the path.
#[derive(Debug)]
pub enum WriteError {
    /// Its directory's real path is outside the workspace (an absolute path, `..`, a
    /// symlinked directory).
    Outside,
    /// Inside a `.git` directory (or the `.git` entry itself).
    GitDir,
    /// A symlink is at the path: never written through, never replaced.
    Symlink,
    /// A directory, FIFO, socket or device is at the path.
    NotRegular,
    Io(std::io::Error),
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::Outside => f.write_str("it resolves outside the workspace; not written"),
            WriteError::GitDir => f.write_str("it is inside .git; not written"),
            WriteError::Symlink => f.write_str("it is a symlink; not written through"),
            WriteError::NotRegular => f.write_str("not a regular file; not written"),
            WriteError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for WriteError {}

impl From<WriteError> for std::io::Error {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::Io(e) => e,
            other => std::io::Error::other(other.to_string()),
        }
    }
}

/// Whether a path below the root goes through a `.git` entry (git's own directory, or the
/// file that points to it in a linked work tree); compared as case-insensitive file
/// systems would.
pub fn in_git_dir(rel: &Path) -> bool {
    rel.components().any(|c| match c {
        Component::Normal(n) => n.to_str().is_some_and(|n| n.eq_ignore_ascii_case(".git")),
        _ => false,
    })
}

/// Where a file a user named may be written: the real path of its directory (symlinks
/// followed) is inside `root` (a real path), nothing between the root and the file is named
/// `.git`, and what is at `path` now, if anything, is a regular file (a symlink is refused,
/// neither followed nor replaced). `path` is absolute. The real destination.
pub fn check_write(path: &Path, root: &Path) -> Result<PathBuf, WriteError> {
    let (Some(Component::Normal(name)), Some(dir)) = (path.components().next_back(), path.parent())
    else {
        return Err(WriteError::NotRegular);
    };
    let dir = std::fs::canonicalize(dir).map_err(WriteError::Io)?;
    let Ok(rel) = dir.strip_prefix(root) else {
        return Err(WriteError::Outside);
    };
    if in_git_dir(&rel.join(name)) {
        return Err(WriteError::GitDir);
    }
    let dest = dir.join(name);
    match std::fs::symlink_metadata(&dest) {
        Ok(m) if m.file_type().is_symlink() => Err(WriteError::Symlink),
        Ok(m) if !m.is_file() => Err(WriteError::NotRegular),
        Ok(_) => Ok(dest),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(dest),
        Err(e) => Err(WriteError::Io(e)),
    }
}

/// Write a file a user named ([`check_write`]): a temporary file in its directory, renamed
/// over it, so that a reader sees the old file or the new one and a symlink put there
/// meanwhile is replaced, not followed. An existing file keeps its permissions; a new one
/// gets the usual ones (0666 less the umask).
pub fn write(path: &Path, root: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    use std::io::Write;
    let dest = check_write(path, root)?;
    let dir = dest.parent().unwrap_or(root);
    let mut b = tempfile::Builder::new();
    b.prefix(".ssot-lint-").suffix(".tmp");
    let perms = std::fs::symlink_metadata(&dest)
        .ok()
        .map(|m| m.permissions());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // tempfile's own default is 0600, for secrets; an output file is not one.
        b.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = b.tempfile_in(dir).map_err(WriteError::Io)?;
    tmp.write_all(bytes).map_err(WriteError::Io)?;
    if let Some(p) = perms {
        // The mode as it was (a umask does not narrow it).
        tmp.as_file().set_permissions(p).map_err(WriteError::Io)?;
    }
    tmp.as_file().sync_all().map_err(WriteError::Io)?;
    tmp.persist(&dest).map_err(|e| WriteError::Io(e.error))?;
    Ok(())
}
