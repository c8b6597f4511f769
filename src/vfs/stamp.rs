//! Stamps: what a path looked like when it was used, as git's index records it (a hash of
//! what `lstat`, and `stat` through a symlink, say: type, mode, size, inode, device, mtime
//! and ctime in nanoseconds, or the error), and how else a fact is compared: a file's text
//! by its hash, a directory by its listing, a path looked for by what is there. The
//! [`super::Recorder`] takes them as a run reads; the result cache checks them.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// A stamp whose mtime or ctime is less than this before a fact was noted may hide a change
/// made in the same tick of the file system's clock ("racy git"): such a fact is checked by
/// content, never believed from its stamp.
pub const RACY_NS: i64 = 2_000_000_000;

/// Now, in ns since the epoch (the scale of [`Stamp::newest`]).
pub fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(i64::MAX, |d| {
            i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
        })
}

/// What a path looked like: a hash of its metadata, and its newest timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub id: u64,
    /// The newer of mtime and ctime (ns since the epoch); `i64::MIN` when it has none.
    pub newest: i64,
}

const MISSING: u64 = 0x6d69_7373_696e_6721;

impl Stamp {
    /// Nothing there.
    pub fn is_missing(&self) -> bool {
        self.id == MISSING && self.newest == i64::MIN
    }
}

/// How a dependency is compared besides its stamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Content {
    /// The stamp alone (a racy one is not kept).
    Stamp,
    /// Only what [`presence`] says (never racy).
    Presence,
    /// A file read: the xxh3 hash of its text. A stamp that changed or is racy is checked
    /// by reading the text again.
    Text(u64),
    /// A directory listed: the hash of [`listing`]. Likewise.
    Listing(u64),
}

/// What is at a path, and nothing about when: its type (and through a symlink, the link's
/// target and the target's type), and whether it is a regular file too large to read.
/// For paths only looked for (module candidates, `.git`).
pub fn presence(p: &Path) -> Stamp {
    let code = |m: &std::io::Result<std::fs::Metadata>| match m {
        Ok(m) if m.file_type().is_symlink() => 1u64,
        Ok(m) if m.is_file() => 2 | (u64::from(m.len() > super::max_file_size()) << 4),
        Ok(m) if m.is_dir() => 3,
        Ok(_) => 4,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
        Err(_) => 5,
    };
    let l = std::fs::symlink_metadata(p);
    let mut text = format!("{}", code(&l));
    if code(&l) == 1 {
        text.push_str(&format!(
            "\0{}\0{:?}",
            code(&std::fs::metadata(p)),
            std::fs::read_link(p).ok()
        ));
    }
    Stamp {
        id: xxhash_rust::xxh3::xxh3_64(text.as_bytes()),
        newest: i64::MIN,
    }
}

/// The hash of a directory's entries (names and types, sorted), less the cache directory.
pub fn listing(dir: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut v: Vec<(std::ffi::OsString, u8)> = rd
        .flatten()
        .filter(|e| e.file_name() != super::TOOL_DIR)
        .map(|e| {
            let t = e.file_type().ok();
            let code = match t {
                Some(t) if t.is_symlink() => 1,
                Some(t) if t.is_file() => 2,
                Some(t) if t.is_dir() => 3,
                Some(_) => 4,
                None => 5,
            };
            (e.file_name(), code)
        })
        .collect();
    v.sort();
    let mut bytes = Vec::new();
    for (name, code) in v {
        bytes.extend_from_slice(name.as_encoded_bytes());
        bytes.push(0);
        bytes.push(code);
    }
    xxhash_rust::xxh3::xxh3_64(&bytes)
}

/// The stamp of a path now (never follows more than the last symlink).
pub fn stamp(p: &Path) -> Stamp {
    let mut words: Vec<u64> = Vec::with_capacity(18);
    let mut newest = i64::MIN;
    let mut fold = |m: &std::fs::Metadata, words: &mut Vec<u64>| {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            words.extend([
                u64::from(m.mode()),
                m.len(),
                m.ino(),
                m.dev(),
                m.mtime() as u64,
                m.mtime_nsec() as u64,
                m.ctime() as u64,
                m.ctime_nsec() as u64,
            ]);
            let ns = |s: i64, n: i64| s.saturating_mul(1_000_000_000).saturating_add(n);
            newest = newest
                .max(ns(m.mtime(), m.mtime_nsec()))
                .max(ns(m.ctime(), m.ctime_nsec()));
        }
        #[cfg(not(unix))]
        {
            let t = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos() as i64);
            words.extend([
                u64::from(m.is_dir()) | u64::from(m.is_file()) << 1,
                m.len(),
                t as u64,
            ]);
            // No ctime: every stamp counts as racy for content checks to apply.
            newest = i64::MAX;
        }
    };
    let err = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::NotFound {
            MISSING
        } else {
            MISSING ^ (e.raw_os_error().unwrap_or(-1) as u64).wrapping_add(1)
        }
    };
    match std::fs::symlink_metadata(p) {
        Err(e) => {
            return Stamp {
                id: err(e),
                newest: i64::MIN,
            };
        }
        Ok(m) => {
            fold(&m, &mut words);
            if m.file_type().is_symlink() {
                match std::fs::metadata(p) {
                    Ok(t) => fold(&t, &mut words),
                    Err(e) => words.push(err(e)),
                }
            }
        }
    }
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    Stamp {
        id: xxhash_rust::xxh3::xxh3_64(&bytes),
        newest,
    }
}

/// A fact a unit's outcome depends on: a path, its stamp (taken before the fact was used)
/// and how else it is compared.
pub type FsDep = (PathBuf, Stamp, Content);
