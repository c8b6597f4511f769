//! The summary cache: what the per-file stages make of a file's text, kept between runs.
//!
//! Every artifact cached here is a pure function of a file's text and its edition: the parse
//! summary ([`Kind::Summary`]), the prefilter's byte scan ([`Kind::Quick`]) and lexer scan
//! ([`Kind::Scan`]), and the identifiers of each function ([`Kind::FnIdents`]). An entry is keyed by the xxh3-128 hash
//! and length of the text, the edition and the kind; the file as a whole is stamped with the
//! tool's identity (its version and a hash of its sources and `Cargo.lock`, from `build.rs`),
//! so a summary is never read by a build whose summaries might differ. The configuration,
//! the packs and the command line are not part of the key because no cached artifact depends
//! on them: everything that does (module trees, resolution, rules) runs on every run.
//!
//! The text is always read and hashed; there is no (size, mtime, inode) shortcut as in git's
//! index. Reading and hashing the benchmark corpus (105 MB) takes a small part of a warm run
//! (see `cargo bench --bench corpus`), and a content key cannot be fooled by a file changed
//! within the timestamp's granularity, by a tool that restores mtimes, or by a copied tree.
//!
//! Where: `target/ssot-lint/` of the scan root when `target/` is a directory there (not a
//! symlink), else `.ssot-lint-cache/` in the root. The directory gets a `.gitignore` with `*`
//! and a `CACHEDIR.TAG`. One file, `summaries.bin`: a magic number, an xxh3-64 checksum of
//! the rest, a postcard header (tool identity, generation, index) and the entries' bytes. A
//! file that is not a regular file, too large, truncated, altered, or written by another
//! build is ignored (and replaced on the next write), never trusted. The file is written
//! only when the run computed something new, atomically (a temporary file in the same
//! directory, then a rename), and only inside the root; entries no run has used in the
//! last [`KEEP_GENERATIONS`] writes are dropped. When the root cannot be written the run
//! goes on without writing (`-v` says why).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use ra_ap_syntax::Edition;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The tool's identity: a cache written by any other build is not read.
pub const TOOL: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    "+",
    env!("SSOT_LINT_SOURCE_HASH")
);

const MAGIC: &[u8; 8] = b"SSOTLC\x00\x01";
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

/// What a run used: entries read from the file (`None`) or computed now (their bytes).
type Used = KeyMap<Option<Vec<u8>>>;

pub struct Cache {
    /// `None`: the cache is off (nothing read, nothing written, nothing hashed).
    dir: Option<PathBuf>,
    root: PathBuf,
    stored: Stored,
    used: Mutex<Used>,
    hits: AtomicUsize,
    misses: AtomicUsize,
    /// Why the file on disk was not used (for `-v`).
    ignored: Option<String>,
}

impl Cache {
    /// No cache: every artifact is computed.
    pub fn off() -> Cache {
        Cache {
            dir: None,
            root: PathBuf::new(),
            stored: Stored::default(),
            used: Mutex::new(Used::default()),
            hits: AtomicUsize::new(0),
            misses: AtomicUsize::new(0),
            ignored: None,
        }
    }

    /// The cache of a scan root (a real path), read from disk when it is there and valid.
    pub fn open(root: &Path) -> Cache {
        let dir = dir_for(root);
        let (stored, ignored) = match read(&dir.join(FILE_NAME)) {
            Ok(s) => (s, None),
            Err(why) => (Stored::default(), why),
        };
        Cache {
            dir: Some(dir),
            root: root.to_path_buf(),
            stored,
            ignored,
            ..Cache::off()
        }
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
        if let Some(slot) = self.stored.index.get(&key)
            && let Some(bytes) = self.stored.blob.get(slot.offset as usize..)
            && let Some(bytes) = bytes.get(..slot.len as usize)
            && let Ok(v) = postcard::from_bytes::<T>(bytes)
        {
            self.hits.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut u) = self.used.lock() {
                u.entry(key).or_insert(None);
            }
            return v;
        }
        let v = make();
        self.misses.fetch_add(1, Ordering::Relaxed);
        if let Ok(bytes) = postcard::to_stdvec(&v)
            && let Ok(mut u) = self.used.lock()
        {
            u.insert(key, Some(bytes));
        }
        v
    }

    /// Write what this run computed (when it computed anything); notes for `-v`.
    pub fn save(self) -> Vec<String> {
        let Some(dir) = self.dir else {
            return Vec::new();
        };
        let hits = self.hits.load(Ordering::Relaxed);
        let misses = self.misses.load(Ordering::Relaxed);
        let mut notes = Vec::new();
        if let Some(why) = &self.ignored {
            notes.push(format!("cache: {} ignored: {why}", dir.display()));
        }
        let shown = dir.strip_prefix(&self.root).unwrap_or(&dir).display();
        let mut line = format!("cache: {hits} per-file results reused, {misses} computed");
        if misses == 0 && self.ignored.is_none() {
            line.push_str(&format!(" ({shown} unchanged)"));
            notes.push(line);
            return notes;
        }
        let used = self.used.into_inner().unwrap_or_default();
        match write(&self.root, &dir, &self.stored, used) {
            Ok(()) => line.push_str(&format!(" (written to {shown})")),
            Err(why) => line.push_str(&format!(" (not written: {why})")),
        }
        notes.push(line);
        notes
    }
}

/// The cache directory of a root (not created).
pub fn dir_for(root: &Path) -> PathBuf {
    let target = root.join("target");
    if std::fs::symlink_metadata(&target).is_ok_and(|m| m.is_dir()) {
        target.join("ssot-lint")
    } else {
        root.join(".ssot-lint-cache")
    }
}

/// Read and check a cache file; `Err(None)` when there is none.
fn read(path: &Path) -> Result<Stored, Option<String>> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(None),
        Err(e) => return Err(Some(e.to_string())),
    };
    if !meta.file_type().is_file() {
        return Err(Some("not a regular file".into()));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(Some(format!("larger than {MAX_FILE_BYTES} bytes")));
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
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Some(e.to_string()))?;
    decode(buf).map_err(|why| Some(why.to_string()))
}

fn decode(mut buf: Vec<u8>) -> Result<Stored, &'static str> {
    if buf.len() < 16 || &buf[..8] != MAGIC {
        return Err("not a cache file of this tool");
    }
    let mut sum = [0u8; 8];
    sum.copy_from_slice(&buf[8..16]);
    if u64::from_le_bytes(sum) != xxhash_rust::xxh3::xxh3_64(&buf[16..]) {
        return Err("checksum mismatch (truncated or altered)");
    }
    let (header, rest) =
        postcard::take_from_bytes::<Header>(&buf[16..]).map_err(|_| "unreadable header")?;
    if header.tool != TOOL {
        return Err("written by another build of ssot-lint");
    }
    let blob_start = buf.len() - rest.len();
    let blob_len = rest.len() as u64;
    let mut index = KeyMap::default();
    for (k, s) in header.index {
        if s.offset.checked_add(s.len).is_none_or(|end| end > blob_len) {
            return Err("entry out of bounds");
        }
        index.insert(k, s);
    }
    buf.drain(..blob_start);
    Ok(Stored {
        blob: buf,
        index,
        generation: header.generation,
    })
}

fn encode(stored: &Stored, used: Used) -> Vec<u8> {
    let generation = stored.generation.wrapping_add(1);
    let mut blob: Vec<u8> = Vec::new();
    let mut index: Vec<(Key, Slot)> = Vec::with_capacity(used.len());
    let mut put = |k: Key, generation: u32, bytes: &[u8], blob: &mut Vec<u8>| {
        index.push((
            k,
            Slot {
                generation,
                offset: blob.len() as u64,
                len: bytes.len() as u64,
            },
        ));
        blob.extend_from_slice(bytes);
    };
    let old = |s: &Slot| {
        stored
            .blob
            .get(s.offset as usize..(s.offset + s.len) as usize)
    };
    for (k, v) in &used {
        match v {
            Some(bytes) => put(*k, generation, bytes, &mut blob),
            None => {
                if let Some(b) = stored.index.get(k).and_then(old) {
                    put(*k, generation, b, &mut blob);
                }
            }
        }
    }
    for (k, s) in &stored.index {
        if !used.contains_key(k)
            && generation.wrapping_sub(s.generation) < KEEP_GENERATIONS
            && let Some(b) = old(s)
        {
            put(*k, s.generation, b, &mut blob);
        }
    }
    let header = Header {
        tool: TOOL.to_string(),
        generation,
        index,
    };
    let mut body = postcard::to_stdvec(&header).unwrap_or_default();
    body.extend_from_slice(&blob);
    let mut out = Vec::with_capacity(body.len() + 16);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(&body).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

const CACHEDIR_TAG: &str = "Signature: 8a477f597d28d172789f06886806bc55\n\
# This file is a cache directory tag created by ssot-lint.\n\
# For information about cache directory tags see https://bford.info/cachedir/\n";

/// Create the cache directory if needed and write the file atomically, inside `root` only.
fn write(root: &Path, dir: &Path, stored: &Stored, used: Used) -> Result<(), String> {
    match std::fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(format!("{} is not a directory", dir.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir(dir).map_err(|e| e.to_string())?;
        }
        Err(e) => return Err(e.to_string()),
    }
    let real = dir.canonicalize().map_err(|e| e.to_string())?;
    if !crate::safety::is_inside(&real, root) {
        return Err(format!("{} is outside the root", dir.display()));
    }
    for (name, text) in [(".gitignore", "*\n"), ("CACHEDIR.TAG", CACHEDIR_TAG)] {
        // `create_new` never follows a symlink that is already there.
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(real.join(name))
        {
            let _ = f.write_all(text.as_bytes());
        }
    }
    let bytes = encode(stored, used);
    let mut tmp = tempfile::Builder::new()
        .prefix(".summaries")
        .tempfile_in(&real)
        .map_err(|e| e.to_string())?;
    tmp.write_all(&bytes).map_err(|e| e.to_string())?;
    tmp.persist(real.join(FILE_NAME))
        .map_err(|e| e.error.to_string())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(text: &str) -> crate::summary::FileSummary {
        crate::parse::summarize(text, Edition::Edition2021)
    }

    const SRC: &str = "use sqlx::PgPool;\nfn f() { let p = PgPool::connect(\"\"); }\n";

    #[test]
    fn a_saved_entry_is_reused_and_equal() {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path().canonicalize().expect("canon");
        let c = Cache::open(&root);
        let a = c.get_or(Kind::Summary, SRC, Edition::Edition2021, || summary(SRC));
        c.save();
        assert!(root.join(".ssot-lint-cache").join(FILE_NAME).is_file());
        assert_eq!(
            std::fs::read_to_string(root.join(".ssot-lint-cache/.gitignore")).expect("gitignore"),
            "*\n"
        );
        assert!(root.join(".ssot-lint-cache/CACHEDIR.TAG").is_file());
        let c = Cache::open(&root);
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
        assert_eq!(dir_for(&root), root.join("target/ssot-lint"));
        let c = Cache::open(&root);
        let _ = c.get_or(Kind::Summary, SRC, Edition::Edition2021, || summary(SRC));
        c.save();
        assert!(root.join("target/ssot-lint").join(FILE_NAME).is_file());
        assert!(!root.join(".ssot-lint-cache").exists());
    }

    #[test]
    fn a_damaged_file_is_ignored() {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path().canonicalize().expect("canon");
        let c = Cache::open(&root);
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
            let c = Cache::open(&root);
            assert!(c.stored.index.is_empty(), "a damaged cache was read");
            let mut made = false;
            let _ = c.get_or(Kind::Summary, SRC, Edition::Edition2021, || {
                made = true;
                summary(SRC)
            });
            assert!(made);
            let notes = c.save();
            assert!(notes.iter().any(|n| n.contains("ignored")), "{notes:?}");
            // Rebuilt: the next run reads it.
            assert!(!Cache::open(&root).stored.index.is_empty());
        }
    }

    #[test]
    fn unused_entries_expire() {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path().canonicalize().expect("canon");
        let c = Cache::open(&root);
        let _ = c.get_or(Kind::Summary, SRC, Edition::Edition2021, || summary(SRC));
        c.save();
        for i in 0..KEEP_GENERATIONS {
            let c = Cache::open(&root);
            let other = format!("fn f{i}() {{}}\n");
            let _ = c.get_or(Kind::Summary, &other, Edition::Edition2021, || {
                summary(&other)
            });
            c.save();
        }
        let c = Cache::open(&root);
        let key = Key::new(Kind::Summary, SRC, Edition::Edition2021);
        assert!(!c.stored.index.contains_key(&key));
    }

    #[test]
    fn cache_dir_that_is_a_file_is_left_alone() {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path().canonicalize().expect("canon");
        std::fs::write(root.join(".ssot-lint-cache"), "mine").expect("write");
        let c = Cache::open(&root);
        let _ = c.get_or(Kind::Summary, SRC, Edition::Edition2021, || summary(SRC));
        let notes = c.save();
        assert!(notes.iter().any(|n| n.contains("not written")), "{notes:?}");
        assert_eq!(
            std::fs::read_to_string(root.join(".ssot-lint-cache")).expect("read"),
            "mine"
        );
    }
}
