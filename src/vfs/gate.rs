//! Containment: the gate every read of the disk goes through (see [`super::Disk`]).
//!
//! A path is resolved to its real path (symlinks followed) and read only when that real path
//! is inside the root the run was pointed at, names a regular file (not a FIFO, a device or
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
    if let Some(root) = root
        && !is_inside(&canon, root)
    {
        return Err(ReadError::Outside);
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
fn real_dir_entry(path: &Path) -> Result<Option<(PathBuf, std::fs::Metadata)>, ReadError> {
    static DIRS: OnceLock<Mutex<HashMap<PathBuf, PathBuf>>> = OnceLock::new();
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
