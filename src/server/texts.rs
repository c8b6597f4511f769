//! The disk as the language server reads it: [`vfs::Disk`], with the texts of the files it
//! read kept from one lint to the next while their stamps say they are unchanged. A
//! keystroke re-lints the whole unit, and every file but the one edited (an open document,
//! held by the overlay above this view) is the same as at the last keystroke: one `lstat`
//! instead of the containment gate's checks, an open and a read per file.
//!
//! A text is kept under the path and the directory it was read within, with the stamp the
//! path had before it was read (`vfs::stamp`: type, mode, size, inode, device, mtime and
//! ctime, as git's index records them; through a last symlink, its target's too). It is
//! used again only while the path's stamp is the same: a file written, replaced or moved,
//! or a path that now leads elsewhere, has another stamp and is read again through the
//! gate, which decides anew whether it may be read. A file changed within two seconds of
//! being read is not kept (racy, as git says: a write in the same clock tick leaves the
//! stamp as it was). Errors are never kept. A text no lint has used in the last
//! [`Texts::KEEP_RUNS`] lints is dropped ([`Texts::sweep`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::vfs::stamp::{RACY_NS, Stamp, now_ns, stamp};
use crate::vfs::{self, DirEntry, EntryKind, FileSystem, PrivateFile, ReadError, Walk};

struct Kept {
    stamp: Stamp,
    text: String,
    /// The last lint that used it (its stamp checked then).
    last_run: u32,
}

/// See the module documentation.
pub struct Texts {
    kept: Mutex<HashMap<(PathBuf, Option<PathBuf>), Kept>>,
    run: AtomicU32,
    /// How far back a file's newest timestamp must be, when it is read, for its text to be
    /// kept (nanoseconds).
    racy_ns: i64,
}

impl Default for Texts {
    fn default() -> Self {
        Texts {
            kept: Mutex::default(),
            run: AtomicU32::new(0),
            racy_ns: RACY_NS,
        }
    }
}

impl Texts {
    /// Lints a text may go unused before [`Texts::sweep`] drops it.
    pub const KEEP_RUNS: u32 = 8;

    pub fn new() -> Self {
        Texts::default()
    }

    /// Start a lint: each text it reads is checked against the disk once, at its first read
    /// (a rule reading a file's text again sees the text the file's summary was made from).
    pub fn begin(&self) {
        self.run.fetch_add(1, Ordering::Relaxed);
    }

    /// End a lint: drop the texts unused for [`Texts::KEEP_RUNS`] lints.
    pub fn sweep(&self) {
        let run = self.run.load(Ordering::Relaxed);
        if let Ok(mut kept) = self.kept.lock() {
            kept.retain(|_, k| run.wrapping_sub(k.last_run) < Self::KEEP_RUNS);
        }
    }

    /// With another racy window (the tests cannot date a file's ctime back).
    #[cfg(test)]
    fn with_racy_window(racy_ns: i64) -> Self {
        Texts {
            racy_ns,
            ..Texts::default()
        }
    }

    /// How many texts are kept.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.kept.lock().map_or(0, |k| k.len())
    }
}

impl FileSystem for Texts {
    fn lstat(&self, path: &Path) -> Option<EntryKind> {
        vfs::Disk.lstat(path)
    }
    fn stat(&self, path: &Path) -> Option<EntryKind> {
        vfs::Disk.stat(path)
    }
    fn canonicalize(&self, path: &Path) -> std::io::Result<PathBuf> {
        vfs::Disk.canonicalize(path)
    }
    fn real_path(&self, path: &Path) -> Option<PathBuf> {
        vfs::Disk.real_path(path)
    }
    fn check(&self, path: &Path, within: Option<&Path>) -> Result<PathBuf, ReadError> {
        vfs::Disk.check(path, within)
    }
    fn read(&self, path: &Path, within: Option<&Path>) -> Result<Vec<u8>, ReadError> {
        vfs::Disk.read(path, within)
    }
    fn read_text(&self, path: &Path, within: Option<&Path>) -> Result<String, ReadError> {
        let key = (path.to_path_buf(), within.map(Path::to_path_buf));
        let run = self.run.load(Ordering::Relaxed);
        if let Ok(kept) = self.kept.lock()
            && let Some(k) = kept.get(&key)
            && k.last_run == run
        {
            return Ok(k.text.clone());
        }
        let before = stamp(path);
        if let Ok(mut kept) = self.kept.lock()
            && let Some(k) = kept.get_mut(&key)
        {
            if k.stamp == before {
                k.last_run = run;
                return Ok(k.text.clone());
            }
            kept.remove(&key);
        }
        let read_at = now_ns();
        let text = vfs::Disk.read_text(path, within)?;
        if !before.is_missing()
            && before.newest != i64::MIN
            && before.newest < read_at.saturating_sub(self.racy_ns)
            && let Ok(mut kept) = self.kept.lock()
        {
            kept.insert(
                key,
                Kept {
                    stamp: before,
                    text: text.clone(),
                    last_run: run,
                },
            );
        }
        Ok(text)
    }
    fn read_dir(&self, dir: &Path) -> std::io::Result<Vec<DirEntry>> {
        vfs::Disk.read_dir(dir)
    }
    fn walk(&self, walk: &Walk) -> Vec<DirEntry> {
        vfs::Disk.walk(walk)
    }
    fn read_private(&self, path: &Path, max: u64) -> Result<Vec<u8>, Option<String>> {
        vfs::Disk.read_private(path, max)
    }
    // `write_named` is not passed on: the server writes no file a user names.
    fn create_private(&self, dir: &Path, name: &str) -> Result<Box<dyn PrivateFile>, String> {
        vfs::Disk.create_private(dir, name)
    }
    fn private_key(&self, dir: &Path) -> Result<[u8; 32], String> {
        vfs::Disk.private_key(dir)
    }
    fn prune_private(&self, dir: &Path, keep: usize, ours: fn(&std::ffi::OsStr) -> bool) {
        vfs::Disk.prune_private(dir, keep, ours)
    }
    fn tracked(&self, dir: &Path, name: &str) -> Option<Vec<PathBuf>> {
        vfs::Disk.tracked(dir, name)
    }
    fn stamps(&self) -> bool {
        vfs::Disk.stamps()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path().canonicalize().expect("canonical");
        let path = root.join("a.rs");
        std::fs::write(&path, text).expect("write");
        (tmp, root, path)
    }

    #[test]
    fn a_text_is_kept_until_its_file_changes() {
        let (_tmp, root, path) = file("fn a() {}\n");
        let texts = Texts::with_racy_window(0);
        let read = |texts: &Texts| texts.read_text(&path, Some(&root)).expect("read");
        texts.begin();
        assert_eq!(read(&texts), "fn a() {}\n");
        assert_eq!(texts.len(), 1);
        // Within one lint a file is checked once: a second read gives the text it read.
        std::fs::write(&path, "fn bb() {}\n").expect("write");
        assert_eq!(read(&texts), "fn a() {}\n");
        // The next lint checks it again (another size: within one clock tick the size or
        // the inode is what tells, which is why a file changed just now is never kept).
        texts.begin();
        assert_eq!(read(&texts), "fn bb() {}\n");
        texts.begin();
        assert_eq!(read(&texts), "fn bb() {}\n");
        // Replaced by another file (another inode): read again.
        let other = root.join("b.tmp");
        std::fs::write(&other, "fn c() {}\n").expect("write");
        std::fs::rename(&other, &path).expect("rename");
        texts.begin();
        assert_eq!(read(&texts), "fn c() {}\n");
        // Removed: the gate's error, and nothing kept.
        texts.begin();
        std::fs::remove_file(&path).expect("rm");
        assert!(matches!(
            texts.read_text(&path, Some(&root)),
            Err(ReadError::Missing)
        ));
        assert_eq!(texts.len(), 0);
    }

    #[test]
    fn a_file_written_just_now_is_not_kept() {
        let (_tmp, root, path) = file("fn a() {}\n");
        let texts = Texts::new();
        assert_eq!(
            texts.read_text(&path, Some(&root)).expect("read"),
            "fn a() {}\n"
        );
        assert_eq!(texts.len(), 0);
    }

    #[cfg(unix)]
    #[test]
    fn the_gate_still_decides_for_a_path_that_now_leads_outside() {
        let (_tmp, root, path) = file("fn a() {}\n");
        let outside = tempfile::tempdir().expect("tmp");
        let secret = outside.path().join("secret.rs");
        std::fs::write(&secret, "SECRET\n").expect("write");
        let texts = Texts::with_racy_window(0);
        texts.begin();
        texts.read_text(&path, Some(&root)).expect("read");
        assert_eq!(texts.len(), 1);
        texts.begin();
        std::fs::remove_file(&path).expect("rm");
        std::os::unix::fs::symlink(&secret, &path).expect("symlink");
        assert!(matches!(
            texts.read_text(&path, Some(&root)),
            Err(ReadError::Outside)
        ));
    }

    #[test]
    fn texts_unused_for_a_while_are_dropped() {
        let (_tmp, root, path) = file("fn a() {}\n");
        let texts = Texts::with_racy_window(0);
        texts.begin();
        texts.read_text(&path, Some(&root)).expect("read");
        // The lint that read it, then `KEEP_RUNS` lints that did not.
        for _ in 0..=Texts::KEEP_RUNS {
            assert_eq!(texts.len(), 1);
            texts.sweep();
            texts.begin();
        }
        assert_eq!(texts.len(), 0);
    }
}
