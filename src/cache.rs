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
//! Where, and why it can be trusted: see [`place`] (by default outside the tree, in the
//! user's cache directory; every file authenticated with a per-user secret the tree cannot
//! know). `summaries.bin`: a magic number, the keyed BLAKE3 tag of the rest, the entries'
//! bytes, a postcard header (tool identity, generation, index) and the header's length.
//! Each artifact computed is written to the new file (a temporary file in the cache
//! directory) as soon as it is made, so a cold run holds none of them in memory; at the end
//! the entries reused from the old file, the index and the tag follow and the file is
//! renamed into place. A file that is not a regular file, too large, truncated, altered,
//! not tagged under this user's secret, written by another build, or whose index points
//! outside its entries or at one entry's bytes twice is absent (and replaced on the next
//! write), never trusted: so what a cache file makes the tool write is bounded by what it
//! holds plus what the run computed. The file is written only when the run computed
//! something new; entries no run has used in the last [`KEEP_GENERATIONS`] writes are
//! dropped. When the directory cannot be written the run goes on without writing (`-v`
//! says why); `--no-cache` reads and writes neither file.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use ra_ap_syntax::Edition;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::vfs::{FileSystem, PrivateFile};

pub mod place;
pub use place::{CacheSetting, Place};

/// The tool's identity: a cache written by any other build is not read.
pub const TOOL: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    "+",
    env!("SSOT_LINT_SOURCE_HASH")
);

/// The first bytes of `summaries.bin`; the last is the format's version.
pub const MAGIC: &[u8; 8] = b"SSOTLC\x00\x03";
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
enum At {
    Stored,
    Written { offset: u64, len: u64 },
}

/// What a run used.
type Used = KeyMap<At>;

/// Per-file artifacts kept in memory from one run to the next, by the same key as the file
/// (a language server's: a keystroke re-lints the unit, and every file but the one edited
/// is a hit). Values are kept as they were made (no encoding); an entry no run has used in
/// the last [`Memo::KEEP_RUNS`] runs is dropped by [`Memo::sweep`].
#[derive(Default)]
pub struct Memo {
    entries: Mutex<KeyMap<MemoEntry>>,
    run: std::sync::atomic::AtomicU32,
}

struct MemoEntry {
    last_run: u32,
    value: std::sync::Arc<dyn std::any::Any + Send + Sync>,
}

impl Memo {
    /// Runs an entry may go unused before [`Memo::sweep`] drops it.
    pub const KEEP_RUNS: u32 = 8;

    pub fn new() -> Self {
        Memo::default()
    }

    /// The entry under `key`, marked as used by this run (so that pruning keeps it).
    fn touch(&self, key: &Key) -> Option<std::sync::Arc<dyn std::any::Any + Send + Sync>> {
        let run = self.run.load(Ordering::Relaxed);
        let mut entries = self.entries.lock().ok()?;
        let e = entries.get_mut(key)?;
        e.last_run = run;
        Some(e.value.clone())
    }

    fn get<T: Clone + 'static>(&self, key: &Key) -> Option<T> {
        self.touch(key)?.downcast_ref::<T>().cloned()
    }

    fn get_shared<T: Send + Sync + 'static>(&self, key: &Key) -> Option<std::sync::Arc<T>> {
        self.touch(key)?.downcast::<T>().ok()
    }

    fn put<T: Send + Sync + 'static>(&self, key: Key, value: T) {
        self.put_shared(key, std::sync::Arc::new(value));
    }

    fn put_shared<T: Send + Sync + 'static>(&self, key: Key, value: std::sync::Arc<T>) {
        let last_run = self.run.load(Ordering::Relaxed);
        if let Ok(mut entries) = self.entries.lock() {
            entries.insert(key, MemoEntry { last_run, value });
        }
    }

    /// End a run: drop the entries unused for [`Memo::KEEP_RUNS`] runs; the next run
    /// counts from here.
    pub fn sweep(&self) {
        let run = self.run.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|_, e| run.wrapping_sub(e.last_run) < Self::KEEP_RUNS);
        }
    }

    /// How many artifacts it holds.
    pub fn len(&self) -> usize {
        self.entries.lock().map_or(0, |e| e.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

pub struct Cache<'v> {
    /// Where the cache file is read from and written to.
    fs: &'v dyn FileSystem,
    /// Artifacts kept in memory across runs, asked before the file (see [`Memo`]).
    memo: Option<&'v Memo>,
    /// `None`: the cache is off (nothing read, nothing written, nothing hashed).
    place: Option<Place>,
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
            memo: None,
            place: None,
            loaded: OnceLock::new(),
            used: Mutex::new(Used::default()),
            new: Mutex::new(None),
            hits: AtomicUsize::new(0),
            misses: AtomicUsize::new(0),
        }
    }

    /// The cache in `place`, read through `fs` when it is first used.
    pub fn open(fs: &'v dyn FileSystem, place: Place) -> Self {
        Cache {
            place: Some(place),
            ..Cache::off(fs)
        }
    }

    /// Ask `memo` first for every artifact, and keep there what this run reads or makes.
    pub fn with_memo(self, memo: Option<&'v Memo>) -> Self {
        Cache { memo, ..self }
    }

    fn stored(&self) -> &Stored {
        &self.loaded().0
    }

    fn loaded(&self) -> &(Stored, Option<String>) {
        self.loaded.get_or_init(|| {
            let Some(place) = &self.place else {
                return (Stored::default(), None);
            };
            match read(self.fs, place) {
                Ok(s) => (s, None),
                Err(why) => (Stored::default(), why),
            }
        })
    }

    pub fn is_on(&self) -> bool {
        self.place.is_some()
    }

    /// The cached artifact of `kind` for this text and edition, or `make()`'s (then kept).
    /// An entry that does not decode is computed again.
    pub fn get_or<T, F>(&self, kind: Kind, text: &str, edition: Edition, make: F) -> T
    where
        T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
        F: FnOnce() -> T,
    {
        if self.place.is_none() && self.memo.is_none() {
            return make();
        }
        let key = Key::new(kind, text, edition);
        if let Some(memo) = self.memo {
            if let Some(v) = memo.get::<T>(&key) {
                self.hits.fetch_add(1, Ordering::Relaxed);
                return v;
            }
            let v = self.stored_or(key, make);
            memo.put(key, v.clone());
            return v;
        }
        self.stored_or(key, make)
    }

    /// Mark the memo's artifacts of `text` as used by this run, as if asked for (a kept
    /// crate graph asks for none of an unchanged file's, see `prefilter::reuse`).
    pub fn keep(&self, text: &str, edition: Edition) {
        let Some(memo) = self.memo else { return };
        let mut key = Key::new(Kind::Summary, text, edition);
        for kind in [
            Kind::Summary,
            Kind::Scan,
            Kind::Quick,
            Kind::FnIdents,
            Kind::Structure,
        ] {
            key.kind = kind;
            memo.touch(&key);
        }
    }

    /// [`Cache::get_or`], shared: an artifact kept in the memo is not copied.
    pub fn get_shared<T, F>(
        &self,
        kind: Kind,
        text: &str,
        edition: Edition,
        make: F,
    ) -> std::sync::Arc<T>
    where
        T: Serialize + DeserializeOwned + Send + Sync + 'static,
        F: FnOnce() -> T,
    {
        let Some(memo) = self.memo else {
            return std::sync::Arc::new(self.get_or_unshared(kind, text, edition, make));
        };
        let key = Key::new(kind, text, edition);
        if let Some(v) = memo.get_shared::<T>(&key) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return v;
        }
        let v = std::sync::Arc::new(self.stored_or(key, make));
        memo.put_shared(key, v.clone());
        v
    }

    /// [`Cache::get_or`] without a memo (so without `Clone`).
    fn get_or_unshared<T, F>(&self, kind: Kind, text: &str, edition: Edition, make: F) -> T
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> T,
    {
        if self.place.is_none() {
            return make();
        }
        self.stored_or(Key::new(kind, text, edition), make)
    }

    /// The artifact from the file when it has it, else `make()`'s (then written to the new
    /// file).
    fn stored_or<T, F>(&self, key: Key, make: F) -> T
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> T,
    {
        if self.place.is_none() {
            self.misses.fetch_add(1, Ordering::Relaxed);
            return make();
        }
        let stored = self.stored();
        if let Some(slot) = stored.index.get(&key)
            && let Some(bytes) = stored.blob.get(slot.offset as usize..)
            && let Some(bytes) = bytes.get(..slot.len as usize)
            && let Ok(v) = postcard::from_bytes::<T>(bytes)
        {
            self.hits.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut u) = self.used.lock() {
                u.entry(key).or_insert(At::Stored);
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
    fn append(&self, bytes: &[u8]) -> Option<At> {
        let place = self.place.as_ref()?;
        let mut new = self.new.lock().ok()?;
        let w = new
            .get_or_insert_with(|| Writer::create(self.fs, place, FILE_NAME, MAGIC))
            .as_mut()
            .ok()?;
        let offset = w.len;
        if let Err(e) = w.write(bytes) {
            *new = Some(Err(e.to_string()));
            return None;
        }
        Some(At::Written {
            offset,
            len: bytes.len() as u64,
        })
    }

    /// Write what this run computed (when it computed anything); notes for `-v`.
    pub fn save(self) -> Vec<String> {
        let Some(place) = self.place else {
            return Vec::new();
        };
        let dir = &place.dir;
        let hits = self.hits.load(Ordering::Relaxed);
        let misses = self.misses.load(Ordering::Relaxed);
        let mut notes = Vec::new();
        let (stored, ignored) = self.loaded.into_inner().unwrap_or_default();
        if let Some(why) = &ignored {
            notes.push(format!("cache: {} ignored: {why}", dir.display()));
        }
        let shown = dir.display();
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
            .unwrap_or_else(|| Writer::create(self.fs, &place, FILE_NAME, MAGIC));
        match new.and_then(|w| finish(w, &stored, &used)) {
            Ok(()) => line.push_str(&format!(" (written to {shown})")),
            Err(why) => line.push_str(&format!(" (not written: {why})")),
        }
        notes.push(line);
        notes
    }
}

/// Read and check the cache file; `Err(None)` when there is none.
fn read(fs: &dyn FileSystem, place: &Place) -> Result<Stored, Option<String>> {
    let body = read_checked(fs, place, FILE_NAME, MAGIC, MAX_FILE_BYTES)?;
    decode(body).map_err(|why| Some(why.to_string()))
}

/// Bytes before a cache file's body: the magic number and the tag.
const HEAD: usize = 8 + blake3::OUT_LEN;

/// The body of the cache file `name` in `place` (a regular file, not reached through a
/// symlink, no larger than `max`) after its magic number and its tag, when both are right
/// (the tag under this user's secret: see [`place`]); `Err(None)` when there is no file.
pub(crate) fn read_checked(
    fs: &dyn FileSystem,
    place: &Place,
    name: &str,
    magic: &[u8; 8],
    max: u64,
) -> Result<Vec<u8>, Option<String>> {
    let mut buf = fs.read_private(&place.dir.join(name), max)?;
    if buf.len() < HEAD || &buf[..8] != magic {
        return Err(Some("not a cache file of this tool".into()));
    }
    let mut tag = [0u8; blake3::OUT_LEN];
    tag.copy_from_slice(&buf[8..HEAD]);
    let mut h = place.tagger(magic, name);
    h.update(&buf[HEAD..]);
    // `Hash` compares in constant time.
    if h.finalize() != blake3::Hash::from_bytes(tag) {
        return Err(Some(
            "not authenticated (altered, truncated, or not written by this user's ssot-lint)"
                .into(),
        ));
    }
    buf.drain(..HEAD);
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
    // Each entry's bytes inside the blob and no byte in two entries: rewriting the file
    // copies every entry once, so it can never grow past what it holds.
    let mut spans: Vec<(u64, u64)> = Vec::with_capacity(header.index.len());
    let mut index = KeyMap::default();
    for (k, s) in header.index {
        let Some(end) = s
            .offset
            .checked_add(s.len)
            .filter(|&e| e <= blob_len as u64)
        else {
            return Err("entry out of bounds");
        };
        spans.push((s.offset, end));
        if index.insert(k, s).is_some() {
            return Err("an entry listed twice");
        }
    }
    spans.sort_unstable();
    if spans.windows(2).any(|w| w[1].0 < w[0].1) {
        return Err("entries overlap");
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
            At::Written { offset, len } => (offset, len),
            At::Stored => {
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
/// the tag of the body (see [`Place::tagger`]), the body; the body is tagged as it is
/// written.
pub(crate) struct Writer {
    out: std::io::BufWriter<Box<dyn PrivateFile>>,
    tag: blake3::Hasher,
    /// Bytes of the body written so far.
    pub(crate) len: u64,
}

impl Writer {
    /// Create the cache directory if needed and start `name` there.
    pub(crate) fn create(
        fs: &dyn FileSystem,
        place: &Place,
        name: &str,
        magic: &[u8; 8],
    ) -> Result<Writer, String> {
        let dir = &place.dir;
        let file = fs.create_private(dir, name)?;
        for (name, text) in [(".gitignore", "*\n"), ("CACHEDIR.TAG", CACHEDIR_TAG)] {
            // Never over anything already there (a symlink included).
            if fs.lstat(&dir.join(name)).is_none()
                && let Ok(mut f) = fs.create_private(dir, name)
                && f.write_all(text.as_bytes()).is_ok()
            {
                let _ = f.commit();
            }
        }
        let io = |e: std::io::Error| e.to_string();
        let mut out = std::io::BufWriter::with_capacity(1 << 16, file);
        out.write_all(magic).map_err(io)?;
        out.write_all(&[0; blake3::OUT_LEN]).map_err(io)?;
        Ok(Writer {
            out,
            tag: place.tagger(magic, name),
            len: 0,
        })
    }

    pub(crate) fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.out.write_all(bytes)?;
        self.tag.update(bytes);
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Write the tag and rename the file into place.
    pub(crate) fn finish(self) -> Result<(), String> {
        use std::io::{Seek, SeekFrom};
        let io = |e: std::io::Error| e.to_string();
        let Writer { out, tag, .. } = self;
        let mut file = out.into_inner().map_err(|e| e.error().to_string())?;
        file.seek(SeekFrom::Start(8)).map_err(io)?;
        file.write_all(tag.finalize().as_bytes()).map_err(io)?;
        file.commit()
    }
}

/// Write a whole cache file `name` into `place` (see [`Writer`]): the magic number, the tag
/// under the place's secret, `body`.
pub fn write_checked(
    fs: &dyn FileSystem,
    place: &Place,
    name: &str,
    magic: &[u8; 8],
    body: &[u8],
) -> Result<(), String> {
    let mut w = Writer::create(fs, place, name, magic)?;
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

    /// A cache directory in a temporary directory, under a fresh secret.
    fn place(tmp: &tempfile::TempDir) -> Place {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).expect("random");
        Place::with_key(tmp.path().join("cache"), key)
    }

    fn path(p: &Place) -> std::path::PathBuf {
        p.dir.join(FILE_NAME)
    }

    #[test]
    fn a_saved_entry_is_reused_and_equal() {
        let tmp = tempfile::tempdir().expect("tmp");
        let p = place(&tmp);
        let c = Cache::open(&Disk, p.clone());
        let a = c.get_or(Kind::Summary, SRC, Edition::Edition2021, || summary(SRC));
        c.save();
        assert!(path(&p).is_file());
        assert_eq!(
            std::fs::read_to_string(p.dir.join(".gitignore")).expect("gitignore"),
            "*\n"
        );
        assert!(p.dir.join("CACHEDIR.TAG").is_file());
        let c = Cache::open(&Disk, p.clone());
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

    /// The same bytes under another secret are not this user's: absent.
    #[test]
    fn a_file_tagged_under_another_secret_is_absent() {
        let tmp = tempfile::tempdir().expect("tmp");
        let p = place(&tmp);
        let c = Cache::open(&Disk, p.clone());
        let _ = c.get_or(Kind::Summary, SRC, Edition::Edition2021, || summary(SRC));
        c.save();
        assert!(!Cache::open(&Disk, p.clone()).stored().index.is_empty());
        let other = Place::with_key(p.dir.clone(), [7; 32]);
        let c = Cache::open(&Disk, other);
        assert!(c.stored().index.is_empty());
        assert!(
            c.loaded()
                .1
                .as_deref()
                .is_some_and(|w| w.contains("not authenticated")),
            "{:?}",
            c.loaded().1
        );
    }

    #[test]
    fn a_damaged_file_is_ignored() {
        let tmp = tempfile::tempdir().expect("tmp");
        let p = place(&tmp);
        let c = Cache::open(&Disk, p.clone());
        let _ = c.get_or(Kind::Summary, SRC, Edition::Edition2021, || summary(SRC));
        c.save();
        let file = path(&p);
        let good = std::fs::read(&file).expect("read");
        let mut flipped = good.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0x40;
        for bad in [
            good[..good.len() / 2].to_vec(),
            flipped,
            b"garbage".to_vec(),
            Vec::new(),
        ] {
            std::fs::write(&file, &bad).expect("write");
            let c = Cache::open(&Disk, p.clone());
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
            assert!(!Cache::open(&Disk, p.clone()).stored().index.is_empty());
        }
    }

    /// A body whose index is well tagged but lists one entry's bytes under many keys, or
    /// points past its entries, is refused: rewriting it would multiply what it holds.
    #[test]
    fn overlapping_or_outside_entries_are_refused() {
        let slot = |offset, len| Slot {
            generation: 0,
            offset,
            len,
        };
        let key = |i: u128| Key {
            hash: i,
            len: 1,
            edition: 0,
            kind: Kind::Summary,
        };
        let body = |index: Vec<(Key, Slot)>| {
            let mut b = vec![0u8; 100];
            let header = postcard::to_stdvec(&Header {
                tool: TOOL.to_string(),
                generation: 1,
                index,
            })
            .expect("header");
            b.extend_from_slice(&header);
            b.extend_from_slice(&(header.len() as u64).to_le_bytes());
            b
        };
        assert!(decode(body(vec![(key(1), slot(0, 50)), (key(2), slot(50, 50))])).is_ok());
        let copies: Vec<(Key, Slot)> = (0..400).map(|i| (key(i), slot(0, 100))).collect();
        assert_eq!(decode(body(copies)).err(), Some("entries overlap"));
        assert_eq!(
            decode(body(vec![(key(1), slot(60, 50))])).err(),
            Some("entry out of bounds")
        );
    }

    #[test]
    fn unused_entries_expire() {
        let tmp = tempfile::tempdir().expect("tmp");
        let p = place(&tmp);
        let c = Cache::open(&Disk, p.clone());
        let _ = c.get_or(Kind::Summary, SRC, Edition::Edition2021, || summary(SRC));
        c.save();
        for i in 0..KEEP_GENERATIONS {
            let c = Cache::open(&Disk, p.clone());
            let other = format!("fn f{i}() {{}}\n");
            let _ = c.get_or(Kind::Summary, &other, Edition::Edition2021, || {
                summary(&other)
            });
            c.save();
        }
        let c = Cache::open(&Disk, p);
        let key = Key::new(Kind::Summary, SRC, Edition::Edition2021);
        assert!(!c.stored().index.contains_key(&key));
    }

    /// A file or a symlink where the directory would be: left alone, nothing written.
    #[test]
    fn a_cache_dir_that_is_a_file_or_a_symlink_is_left_alone() {
        let tmp = tempfile::tempdir().expect("tmp");
        let p = place(&tmp);
        std::fs::write(&p.dir, "mine").expect("write");
        let c = Cache::open(&Disk, p.clone());
        let _ = c.get_or(Kind::Summary, SRC, Edition::Edition2021, || summary(SRC));
        let notes = c.save();
        assert!(notes.iter().any(|n| n.contains("not written")), "{notes:?}");
        assert_eq!(std::fs::read_to_string(&p.dir).expect("read"), "mine");
        #[cfg(unix)]
        {
            std::fs::remove_file(&p.dir).expect("rm");
            let elsewhere = tmp.path().join("elsewhere");
            std::fs::create_dir(&elsewhere).expect("mkdir");
            std::os::unix::fs::symlink(&elsewhere, &p.dir).expect("symlink");
            let c = Cache::open(&Disk, p.clone());
            let _ = c.get_or(Kind::Summary, SRC, Edition::Edition2021, || summary(SRC));
            let notes = c.save();
            assert!(notes.iter().any(|n| n.contains("symlink")), "{notes:?}");
            assert_eq!(std::fs::read_dir(&elsewhere).expect("ls").count(), 0);
        }
    }
}
