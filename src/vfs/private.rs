//! The tool's own files on disk (its caches and the secret they are authenticated with):
//! read without following a symlink, written as a temporary file renamed into place, in
//! directories that are this user's alone.

use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use super::PrivateFile;

/// The name of the per-user secret in its directory.
pub const KEY_FILE: &str = "key";

/// See [`super::FileSystem::read_private`].
pub(super) fn read(path: &Path, max: u64) -> Result<Vec<u8>, Option<String>> {
    let (file, meta) = open_nofollow(path)?;
    if meta.len() > max {
        return Err(Some(format!("larger than {max} bytes")));
    }
    let mut buf = Vec::with_capacity(meta.len() as usize);
    file.take(max + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Some(e.to_string()))?;
    if buf.len() as u64 > max {
        return Err(Some(format!("larger than {max} bytes")));
    }
    Ok(buf)
}

/// A regular file opened without following a symlink at its last component and without
/// blocking (a FIFO swapped in after a check fails instead of waiting for a writer), and
/// its metadata as opened. `Err(None)`: nothing there.
fn open_nofollow(path: &Path) -> Result<(std::fs::File, std::fs::Metadata), Option<String>> {
    // Nor through a directory of the tool's that is a symlink.
    if let Some(dir) = path.parent()
        && std::fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink())
    {
        return Err(Some(format!("{} is a symlink; not read", dir.display())));
    }
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(None),
        Err(e) => return Err(Some(e.to_string())),
    };
    if !meta.file_type().is_file() {
        return Err(Some("not a regular file".into()));
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW);
    }
    let file = opts.open(path).map_err(|e| Some(e.to_string()))?;
    let meta = file.metadata().map_err(|e| Some(e.to_string()))?;
    if !meta.is_file() {
        return Err(Some("not a regular file".into()));
    }
    Ok((file, meta))
}

/// Make sure `dir` is a directory that is not a symlink, creating it (and its parents) for
/// this user alone when it is missing.
fn ensure_dir(dir: &Path) -> Result<(), String> {
    match std::fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => return Ok(()),
        Ok(m) if m.file_type().is_symlink() => {
            return Err(format!("{} is a symlink; not used", dir.display()));
        }
        Ok(_) => return Err(format!("{} is not a directory", dir.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e.to_string()),
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    match std::fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        _ => Err(format!("{} is not a directory", dir.display())),
    }
}

/// A temporary file in the destination's directory, renamed into place by `commit`.
pub(super) struct DiskFile {
    tmp: tempfile::NamedTempFile,
    dest: PathBuf,
}

/// See [`super::FileSystem::create_private`].
pub(super) fn create(dir: &Path, name: &str) -> Result<DiskFile, String> {
    ensure_dir(dir)?;
    // Created readable and writable by this user alone (tempfile's default).
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}"))
        .tempfile_in(dir)
        .map_err(|e| e.to_string())?;
    Ok(DiskFile {
        tmp,
        dest: dir.join(name),
    })
}

impl Write for DiskFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.tmp.as_file_mut().write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.tmp.as_file_mut().flush()
    }
}

impl Seek for DiskFile {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        self.tmp.as_file_mut().seek(pos)
    }
}

impl PrivateFile for DiskFile {
    fn commit(self: Box<Self>) -> Result<(), String> {
        let DiskFile { tmp, dest } = *self;
        tmp.persist(dest).map_err(|e| e.error.to_string())?;
        Ok(())
    }
}

/// See [`super::FileSystem::private_key`].
pub(super) fn key(dir: &Path) -> Result<[u8; 32], String> {
    let path = dir.join(KEY_FILE);
    match read_key(&path) {
        Ok(k) => return Ok(k),
        Err(Some(why)) => return Err(format!("{}: {why}", path.display())),
        Err(None) => {}
    }
    ensure_dir(dir)?;
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| format!("no random secret: {e}"))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".key")
        .tempfile_in(dir)
        .map_err(|e| e.to_string())?;
    tmp.write_all(&key)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| e.to_string())?;
    // Another run may have made one meanwhile: then that one is the key.
    if let Err(e) = tmp.persist_noclobber(&path)
        && e.error.kind() != std::io::ErrorKind::AlreadyExists
    {
        return Err(format!("{}: {}", path.display(), e.error));
    }
    read_key(&path).map_err(|why| {
        format!(
            "{}: {}",
            path.display(),
            why.unwrap_or_else(|| "vanished".into())
        )
    })
}

/// The key in `path` when it is a regular file of 32 bytes that belongs to this user and
/// that nobody else may read or write. `Err(None)`: there is none.
fn read_key(path: &Path) -> Result<[u8; 32], Option<String>> {
    let (mut file, meta) = open_nofollow(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // SAFETY: geteuid takes no arguments, touches no memory and cannot fail (POSIX).
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me {
            return Err(Some("the secret belongs to another user; not used".into()));
        }
        if meta.mode() & 0o077 != 0 {
            return Err(Some(
                "others may read or write the secret; not used (chmod 600 it, or delete it)".into(),
            ));
        }
    }
    if meta.len() != 32 {
        return Err(Some("not a secret of this tool (not 32 bytes)".into()));
    }
    let mut key = [0u8; 32];
    file.read_exact(&mut key).map_err(|e| Some(e.to_string()))?;
    Ok(key)
}

/// See [`super::FileSystem::prune_private`].
pub(super) fn prune(dir: &Path, keep: usize, ours: fn(&std::ffi::OsStr) -> bool) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut dirs: Vec<(std::time::SystemTime, PathBuf)> = rd
        .flatten()
        .filter(|e| ours(&e.file_name()))
        .filter_map(|e| {
            // The entry itself: a symlink is neither followed nor removed.
            let m = std::fs::symlink_metadata(e.path()).ok()?;
            m.is_dir()
                .then(|| (m.modified().unwrap_or(std::time::UNIX_EPOCH), e.path()))
        })
        .collect();
    if dirs.len() <= keep {
        return;
    }
    dirs.sort();
    let drop = dirs.len() - keep;
    for (_, d) in dirs.into_iter().take(drop) {
        // remove_dir_all does not follow symlinks inside the directory.
        let _ = std::fs::remove_dir_all(d);
    }
}
