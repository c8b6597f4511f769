//! The caches: whole lint units' outcomes ([`crate::results`], `results.bin`) and, for the
//! units that cannot reuse theirs, what the per-file stages make of a file's text (this
//! module, `summaries.bin`).
//!
//! A run with the cache first asks the result cache for each unit (discovery, which walks
//! the root and reads the manifests, always runs, so the unit itself is part of the key). A
//! unit is reused when its key (the build, the options that change a result, the unit as
//! discovered) matches and every file system fact its outcome came from still holds: each
//! file read, each path looked for, each directory listed, compared by a `stat` stamp as
//! git's index does, with a content check for a racy stamp or a changed one (the "racy git"
//! rule: see [`crate::results`]). Such a unit reads, lists and parses nothing. The units
//! that are not reused are linted as without the cache, asking this module for every
//! per-file artifact. This file is read only then: a run whose units are all reused never
//! opens it.
//!
//! Every artifact cached here is a pure function of a file's text and its edition: the parse
//! summary ([`Kind::Summary`]), the prefilter's byte scan ([`Kind::Quick`]) and lexer scan
//! ([`Kind::Scan`]), and the identifiers of each function ([`Kind::FnIdents`]). An entry is keyed by the xxh3-128 hash
//! and length of the text, the edition and the kind; the file as a whole is stamped with the
//! tool's identity (its version and a hash of its sources and `Cargo.lock`, from `build.rs`),
//! so a summary is never read by a build whose summaries might differ. The configuration,
//! the packs and the command line are not part of the key because no cached artifact depends
//! on them: everything that does (module trees, resolution, rules) runs for every unit that
//! is linted. The text of a unit being linted is always read and hashed here: a content key
//! cannot be fooled by a file changed within the timestamp's granularity, by a tool that
//! restores mtimes, or by a copied tree.
//!
//! Where: `target/ssot-lint/` of the scan root when `target/` is a directory there (not a
//! symlink), else `.ssot-lint-cache/` in the root (left out of the walk for unreached
//! files: it is not the package's). The directory gets a `.gitignore` with `*` and a
//! `CACHEDIR.TAG`. `summaries.bin`: a magic number, an xxh3-64 checksum of the rest, the
//! entries' bytes, a postcard header (tool identity, generation, index) and the header's
//! length. Each artifact computed is written to the new file (a temporary file in the cache
//! directory) as soon as it is made, so a cold run holds none of them in memory; at the end
//! the entries reused from the old file, the index and the checksum follow and the file is
//! renamed into place. A file that is not a regular file, too large, truncated, altered, or
//! written by another build is ignored (and replaced on the next write), never trusted. The
//! file is written only when the run computed something new, and only inside the root;
//! entries no run has used in the last [`KEEP_GENERATIONS`] writes are dropped. When the
//! root cannot be written the run goes on without writing (`-v` says why); `--no-cache`
//! reads and writes neither file.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use ra_ap_syntax::Edition;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::vfs::{EntryKind, FileSystem, PrivateFile};

/// The tool's identity: a cache written by any other build is not read.
pub const TOOL: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    "+",
    env!("SSOT_LINT_SOURCE_HASH")
);

const MAGIC: &[u8; 8] = b"SSOTLC\x00\x02";
/// The cache file inside the cache directory.
pub const FILE_NAME: &str = "summaries.bin";
/// A cache file larger than this is not read.
const MAX_FILE_BYTES: u64 = 1 << 30;
/// Entries unused for this many writes are dropped.
pub const KEEP_GENERATIONS: u32 = 4;

/// What is cached for a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Kind {
    /// [`crate::parse::summarize`].
    Summary,
    /// The prefilter's lexer scan.
    Scan,
    /// The prefilter's byte scan (`None`: it declined).
    Quick,
    /// The prefilter's identifiers per function of the parse summary.
    FnIdents,
    /// [`crate::parse::structure`].
    Structure,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
struct Key {
    hash: u128,
    len: u64,
    edition: u8,
    kind: Kind,
}

impl Key {
    fn new(kind: Kind, text: &str, edition: Edition) -> Key {
        Key {
            hash: xxhash_rust::xxh3::xxh3_128(text.as_bytes()),
            len: text.len() as u64,
            edition: edition as u8,
            kind,
        }
    }
}

/// Keys are already hashes: the map uses their low bits.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u128(&mut self, n: u128) {
        self.0 ^= n as u64;
    }
}

type KeyMap<V> = HashMap<Key, V, BuildHasherDefault<KeyHasher>>;

/// One entry of the index: the generation that last used it and its bytes in the blob.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Slot {
    generation: u32,
    offset: u64,
    len: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    tool: String,
    generation: u32,
    index: Vec<(Key, Slot)>,
}

/// A cache file as read: its entries' bytes and where each entry is.
#[derive(Default)]
struct Stored {
    blob: Vec<u8>,
    index: KeyMap<Slot>,
    generation: u32,
}

/// Where a used entry's bytes are: in the file read, or already written to the new one.
#[derive(Debug, Clone, Copy)]
enum Place {
    Stored,
    Written { offset: u64, len: u64 },
}

/// What a run used.
type Used = KeyMap<Place>;

pub struct Cache<'v> {
    /// Where the cache file is read from and written to.
    fs: &'v dyn FileSystem,
    /// `None`: the cache is off (nothing read, nothing written, nothing hashed).
    dir: Option<PathBuf>,
    root: PathBuf,
    /// The file as read, and why the file on disk was not used (for `-v`): read when the
    /// first artifact is asked for (a run whose units all come from the result cache never
    /// reads it).
    loaded: OnceLock<(Stored, Option<String>)>,
    used: Mutex<Used>,
    /// The new file, started at the first artifact computed: each one is written there at
    /// once instead of being kept in memory until the end (`Err`: it cannot be written).
    new: Mutex<Option<Result<Writer, String>>>,
    hits: AtomicUsize,
    misses: AtomicUsize,
}

impl<'v> Cache<'v> {
    /// No cache: every artifact is computed.
    pub fn off(fs: &'v dyn FileSystem) -> Self {
        Cache {
            fs,
            dir: None,
            root: PathBuf::new(),
            loaded: OnceLock::new(),
            used: Mutex::new(Used::default()),
            new: Mutex::new(None),
            hits: AtomicUsize::new(0),
            misses: AtomicUsize::new(0),
        }
    }

    /// The cache of a scan root (a real path), read through `fs` when it is first used.
    pub fn open(fs: &'v dyn FileSystem, root: &Path) -> Self {
        Cache {
            dir: Some(dir_for(fs, root)),
            root: root.to_path_buf(),
            ..Cache::off(fs)
        }
    }

    fn stored(&self) -> &Stored {
        &self.loaded().0
    }

    fn loaded(&self) -> &(Stored, Option<String>) {
        self.loaded.get_or_init(|| {
            let Some(dir) = &self.dir else {
                return (Stored::default(), None);
            };
            match read(self.fs, &dir.join(FILE_NAME)) {
                Ok(s) => (s, None),
                Err(why) => (Stored::default(), why),
            }
        })
    }

    pub fn is_on(&self) -> bool {
        self.dir.is_some()
    }

    /// The cached artifact of `kind` for this text and edition, or `make()`'s (then kept).
    /// An entry that does not decode is computed again.
    pub fn get_or<T, F>(&self, kind: Kind, text: &str, edition: Edition, make: F) -> T
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> T,
    {
        if self.dir.is_none() {
            return make();
        }
        let key = Key::new(kind, text, edition);
        let stored = self.stored();
        if let Some(slot) = stored.index.get(&key)
            && let Some(bytes) = stored.blob.get(slot.offset as usize..)
            && let Some(bytes) = bytes.get(..slot.len as usize)
            && let Ok(v) = postcard::from_bytes::<T>(bytes)
        {
            self.hits.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut u) = self.used.lock() {
                u.entry(key).or_insert(Place::Stored);
            }
            return v;
        }
        let v = make();
        self.misses.fetch_add(1, Ordering::Relaxed);
        if let Ok(bytes) = postcard::to_stdvec(&v)
            && let Some(place) = self.append(&bytes)
            && let Ok(mut u) = self.used.lock()
        {
            u.insert(key, place);
        }
        v
    }

    /// Write an entry's bytes to the new file (started on the first call).
    fn append(&self, bytes: &[u8]) -> Option<Place> {
        let dir = self.dir.as_ref()?;
        let mut new = self.new.lock().ok()?;
        let w = new
            .get_or_insert_with(|| Writer::create(self.fs, &self.root, dir, FILE_NAME, MAGIC))
            .as_mut()
            .ok()?;
        let offset = w.len;
        if let Err(e) = w.write(bytes) {
            *new = Some(Err(e.to_string()));
            return None;
        }
        Some(Place::Written {
            offset,
            len: bytes.len() as u64,
        })
    }

    /// Write what this run computed (when it computed anything); notes for `-v`.
    pub fn save(self) -> Vec<String> {
        let Some(dir) = self.dir else {
            return Vec::new();
        };
        let hits = self.hits.load(Ordering::Relaxed);
        let misses = self.misses.load(Ordering::Relaxed);
        let mut notes = Vec::new();
        let (stored, ignored) = self.loaded.into_inner().unwrap_or_default();
        if let Some(why) = &ignored {
            notes.push(format!("cache: {} ignored: {why}", dir.display()));
        }
        let shown = dir.strip_prefix(&self.root).unwrap_or(&dir).display();
        let mut line = format!("cache: {hits} per-file results reused, {misses} computed");
        if misses == 0 && ignored.is_none() {
            line.push_str(&format!(" ({shown} unchanged)"));
            notes.push(line);
            return notes;
        }
        let used = self.used.into_inner().unwrap_or_default();
        let new = self
            .new
            .into_inner()
            .ok()
            .flatten()
            .unwrap_or_else(|| Writer::create(self.fs, &self.root, &dir, FILE_NAME, MAGIC));
        match new.and_then(|w| finish(w, &stored, &used)) {
            Ok(()) => line.push_str(&format!(" (written to {shown})")),
            Err(why) => line.push_str(&format!(" (not written: {why})")),
        }
        notes.push(line);
        notes
    }
}

/// The cache directory's name when there is no `target/`.
pub const DIR_NAME: &str = crate::vfs::TOOL_DIR;

/// The cache directory of a root (not created).
pub fn dir_for(fs: &dyn FileSystem, root: &Path) -> PathBuf {
    let target = root.join("target");
    if fs.lstat(&target) == Some(EntryKind::Dir) {
        target.join("ssot-lint")
    } else {
        root.join(DIR_NAME)
    }
}

/// Read and check a cache file; `Err(None)` when there is none.
fn read(fs: &dyn FileSystem, path: &Path) -> Result<Stored, Option<String>> {
    let body = read_checked(fs, path, MAGIC, MAX_FILE_BYTES)?;
    decode(body).map_err(|why| Some(why.to_string()))
}

/// The body of a cache file (a regular file no larger than `max`) after its magic number
/// and the xxh3-64 checksum of the body, when both are right; `Err(None)` when there is
/// no file.
pub(crate) fn read_checked(
    fs: &dyn FileSystem,
    path: &Path,
    magic: &[u8; 8],
    max: u64,
) -> Result<Vec<u8>, Option<String>> {
    let mut buf = fs.read_private(path, max)?;
    if buf.len() < 16 || &buf[..8] != magic {
        return Err(Some("not a cache file of this tool".into()));
    }
    let mut sum = [0u8; 8];
    sum.copy_from_slice(&buf[8..16]);
    if u64::from_le_bytes(sum) != xxhash_rust::xxh3::xxh3_64(&buf[16..]) {
        return Err(Some("checksum mismatch (truncated or altered)".into()));
    }
    buf.drain(..16);
    Ok(buf)
}

/// The body: the entries' bytes, then the postcard header (tool identity, generation,
/// index), then the header's length (u64, little-endian).
fn decode(buf: Vec<u8>) -> Result<Stored, &'static str> {
    let mut buf = buf;
    let n = buf.len();
    if n < 8 {
        return Err("unreadable header");
    }
    let mut len = [0u8; 8];
    len.copy_from_slice(&buf[n - 8..]);
    let header_len = usize::try_from(u64::from_le_bytes(len)).map_err(|_| "unreadable header")?;
    let blob_len = (n - 8).checked_sub(header_len).ok_or("unreadable header")?;
    let header =
        postcard::from_bytes::<Header>(&buf[blob_len..n - 8]).map_err(|_| "unreadable header")?;
    if header.tool != TOOL {
        return Err("written by another build of ssot-lint");
    }
    let mut index = KeyMap::default();
    for (k, s) in header.index {
        if s.offset
            .checked_add(s.len)
            .is_none_or(|end| end > blob_len as u64)
        {
            return Err("entry out of bounds");
        }
        index.insert(k, s);
    }
    buf.truncate(blob_len);
    Ok(Stored {
        blob: buf,
        index,
        generation: header.generation,
    })
}

/// Complete the new file: after the entries computed this run (already written), the
/// entries reused from the old file and those not used for fewer than [`KEEP_GENERATIONS`]
/// writes, then the index and its length; then rename it into place.
fn finish(mut w: Writer, stored: &Stored, used: &Used) -> Result<(), String> {
    let io = |e: std::io::Error| e.to_string();
    let generation = stored.generation.wrapping_add(1);
    let old = |s: &Slot| {
        stored
            .blob
            .get(s.offset as usize..(s.offset + s.len) as usize)
    };
    let mut index: Vec<(Key, Slot)> = Vec::with_capacity(used.len());
    for (k, place) in used {
        let (offset, len) = match *place {
            Place::Written { offset, len } => (offset, len),
            Place::Stored => {
                let Some(b) = stored.index.get(k).and_then(old) else {
                    continue;
                };
                let offset = w.len;
                w.write(b).map_err(io)?;
                (offset, b.len() as u64)
            }
        };
        index.push((
            *k,
            Slot {
                generation,
                offset,
                len,
            },
        ));
    }
    for (k, s) in &stored.index {
        if !used.contains_key(k)
            && generation.wrapping_sub(s.generation) < KEEP_GENERATIONS
            && let Some(b) = old(s)
        {
            let offset = w.len;
            w.write(b).map_err(io)?;
            index.push((
                *k,
                Slot {
                    generation: s.generation,
                    offset,
                    len: b.len() as u64,
                },
            ));
        }
    }
    let header = Header {
        tool: TOOL.to_string(),
        generation,
        index,
    };
    let header = postcard::to_stdvec(&header).map_err(|e| e.to_string())?;
    w.write(&header).map_err(io)?;
    w.write(&(header.len() as u64).to_le_bytes()).map_err(io)?;
    w.finish()
}

const CACHEDIR_TAG: &str = "Signature: 8a477f597d28d172789f06886806bc55\n\
# This file is a cache directory tag created by ssot-lint.\n\
# For information about cache directory tags see https://bford.info/cachedir/\n";

/// A cache file being written: a temporary file in the cache directory, renamed into place
/// by [`Writer::finish`] (dropped unfinished, it is removed). Its layout: the magic number,
/// the xxh3-64 checksum of the body, the body; the body is hashed as it is written.
pub(crate) struct Writer {
    out: std::io::BufWriter<Box<dyn PrivateFile>>,
    hash: xxhash_rust::xxh3::Xxh3Default,
    /// Bytes of the body written so far.
    pub(crate) len: u64,
}

impl Writer {
    /// Create the cache directory `dir` if needed (inside `root` only) and start `name`.
    pub(crate) fn create(
        fs: &dyn FileSystem,
        root: &Path,
        dir: &Path,
        name: &str,
        magic: &[u8; 8],
    ) -> Result<Writer, String> {
        let file = fs.create_private(root, dir, name)?;
        for (name, text) in [(".gitignore", "*\n"), ("CACHEDIR.TAG", CACHEDIR_TAG)] {
            // Never over anything already there (a symlink included).
            if fs.lstat(&dir.join(name)).is_none()
                && let Ok(mut f) = fs.create_private(root, dir, name)
                && f.write_all(text.as_bytes()).is_ok()
            {
                let _ = f.commit();
            }
        }
        let io = |e: std::io::Error| e.to_string();
        let mut out = std::io::BufWriter::with_capacity(1 << 16, file);
        out.write_all(magic).map_err(io)?;
        out.write_all(&[0; 8]).map_err(io)?;
        Ok(Writer {
            out,
            hash: xxhash_rust::xxh3::Xxh3Default::new(),
            len: 0,
        })
    }

    pub(crate) fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.out.write_all(bytes)?;
        self.hash.update(bytes);
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Write the checksum and rename the file into place.
    pub(crate) fn finish(self) -> Result<(), String> {
        use std::io::{Seek, SeekFrom};
        let io = |e: std::io::Error| e.to_string();
        let Writer { out, hash, .. } = self;
        let mut file = out.into_inner().map_err(|e| e.error().to_string())?;
        file.seek(SeekFrom::Start(8)).map_err(io)?;
        file.write_all(&hash.digest().to_le_bytes()).map_err(io)?;
        file.commit()
    }
}

/// Write a whole cache file `name` into `dir` (see [`Writer`]).
pub(crate) fn write_checked(
    fs: &dyn FileSystem,
    root: &Path,
    dir: &Path,
    name: &str,
    magic: &[u8; 8],
    body: &[u8],
) -> Result<(), String> {
    let mut w = Writer::create(fs, root, dir, name, magic)?;
    w.write(body).map_err(|e| e.to_string())?;
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vfs::Disk;

    fn summary(text: &str) -> crate::summary::FileSummary {
        crate::parse::summarize(text, Edition::Edition2021)
    }

    const SRC: &str = "use sqlx::PgPool;\nfn f() { let p = PgPool::connect(\"\"); }\n";

    #[test]
    fn a_saved_entry_is_reused_and_equal() {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path().canonicalize().expect("canon");
        let c = Cache::open(&Disk, &root);
        let a = c.get_or(Kind::Summary, SRC, Edition::Edition2021, || summary(SRC));
        c.save();
        assert!(root.join(".ssot-lint-cache").join(FILE_NAME).is_file());
        assert_eq!(
            std::fs::read_to_string(root.join(".ssot-lint-cache/.gitignore")).expect("gitignore"),
            "*\n"
        );
        assert!(root.join(".ssot-lint-cache/CACHEDIR.TAG").is_file());
        let c = Cache::open(&Disk, &root);
        let b = c.get_or(
            Kind::Summary,
            SRC,
            Edition::Edition2021,
            || -> crate::summary::FileSummary { panic!("must come from the cache") },
        );
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        // Another edition or kind is another entry.
        let mut made = false;
        let _ = c.get_or(Kind::Summary, SRC, Edition::Edition2018, || {
            made = true;
            summary(SRC)
        });
        assert!(made);
    }

    #[test]
    fn target_dir_is_used_when_there() {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path().canonicalize().expect("canon");
        std::fs::create_dir(root.join("target")).expect("mkdir");
        assert_eq!(dir_for(&Disk, &root), root.join("target/ssot-lint"));
        let c = Cache::open(&Disk, &root);
        let _ = c.get_or(Kind::Summary, SRC, Edition::Edition2021, || summary(SRC));
        c.save();
        assert!(root.join("target/ssot-lint").join(FILE_NAME).is_file());
        assert!(!root.join(".ssot-lint-cache").exists());
    }

    #[test]
    fn a_damaged_file_is_ignored() {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path().canonicalize().expect("canon");
        let c = Cache::open(&Disk, &root);
        let _ = c.get_or(Kind::Summary, SRC, Edition::Edition2021, || summary(SRC));
        c.save();
        let path = root.join(".ssot-lint-cache").join(FILE_NAME);
        let good = std::fs::read(&path).expect("read");
        let mut flipped = good.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0x40;
        let mut foreign = good.clone();
        // Same layout, another tool identity (checksum made valid again).
        if let Some(i) = foreign
            .windows(TOOL.len())
            .position(|w| w == TOOL.as_bytes())
        {
            foreign[i] ^= 1;
        }
        let sum = xxhash_rust::xxh3::xxh3_64(&foreign[16..]).to_le_bytes();
        foreign[8..16].copy_from_slice(&sum);
        for bad in [
            good[..good.len() / 2].to_vec(),
            flipped,
            foreign,
            b"garbage".to_vec(),
            Vec::new(),
        ] {
            std::fs::write(&path, &bad).expect("write");
            let c = Cache::open(&Disk, &root);
            assert!(c.stored().index.is_empty(), "a damaged cache was read");
            let mut made = false;
            let _ = c.get_or(Kind::Summary, SRC, Edition::Edition2021, || {
                made = true;
                summary(SRC)
            });
            assert!(made);
            let notes = c.save();
            assert!(notes.iter().any(|n| n.contains("ignored")), "{notes:?}");
            // Rebuilt: the next run reads it.
            assert!(!Cache::open(&Disk, &root).stored().index.is_empty());
        }
    }

    #[test]
    fn unused_entries_expire() {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path().canonicalize().expect("canon");
        let c = Cache::open(&Disk, &root);
        let _ = c.get_or(Kind::Summary, SRC, Edition::Edition2021, || summary(SRC));
        c.save();
        for i in 0..KEEP_GENERATIONS {
            let c = Cache::open(&Disk, &root);
            let other = format!("fn f{i}() {{}}\n");
            let _ = c.get_or(Kind::Summary, &other, Edition::Edition2021, || {
                summary(&other)
            });
            c.save();
        }
        let c = Cache::open(&Disk, &root);
        let key = Key::new(Kind::Summary, SRC, Edition::Edition2021);
        assert!(!c.stored().index.contains_key(&key));
    }

    #[test]
    fn cache_dir_that_is_a_file_is_left_alone() {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path().canonicalize().expect("canon");
        std::fs::write(root.join(".ssot-lint-cache"), "mine").expect("write");
        let c = Cache::open(&Disk, &root);
        let _ = c.get_or(Kind::Summary, SRC, Edition::Edition2021, || summary(SRC));
        let notes = c.save();
        assert!(notes.iter().any(|n| n.contains("not written")), "{notes:?}");
        assert_eq!(
            std::fs::read_to_string(root.join(".ssot-lint-cache")).expect("read"),
            "mine"
        );
    }
}
