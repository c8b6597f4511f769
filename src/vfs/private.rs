//! The tool's own files on disk (its caches): read without following a symlink, written as
//! a temporary file renamed into place inside the root.

use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use super::PrivateFile;

/// See [`super::FileSystem::read_private`].
pub(super) fn read(path: &Path, max: u64) -> Result<Vec<u8>, Option<String>> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(None),
        Err(e) => return Err(Some(e.to_string())),
    };
    if !meta.file_type().is_file() {
        return Err(Some("not a regular file".into()));
    }
    if meta.len() > max {
        return Err(Some(format!("larger than {max} bytes")));
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Swapped for a FIFO after the check: fail instead of waiting for a writer.
        opts.custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW);
    }
    let file = opts.open(path).map_err(|e| Some(e.to_string()))?;
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return Err(Some("not a regular file".into()));
    }
    let mut buf = Vec::with_capacity(meta.len() as usize);
    file.take(max + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Some(e.to_string()))?;
    Ok(buf)
}

/// A temporary file in the destination's directory, renamed into place by `commit`.
pub(super) struct DiskFile {
    tmp: tempfile::NamedTempFile,
    dest: PathBuf,
}

/// See [`super::FileSystem::create_private`].
pub(super) fn create(root: &Path, dir: &Path, name: &str) -> Result<DiskFile, String> {
    match std::fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(format!("{} is not a directory", dir.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir(dir).map_err(|e| e.to_string())?;
        }
        Err(e) => return Err(e.to_string()),
    }
    let real = dir.canonicalize().map_err(|e| e.to_string())?;
    if !super::gate::is_inside(&real, root) {
        return Err(format!("{} is outside the root", dir.display()));
    }
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}"))
        .tempfile_in(&real)
        .map_err(|e| e.to_string())?;
    Ok(DiskFile {
        tmp,
        dest: real.join(name),
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
