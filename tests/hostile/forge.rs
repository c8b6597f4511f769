//! What an attacker can do to a cache file they made with their own ssot-lint, as a pull
//! request would: decode it, change what it says, and make its integrity check pass again
//! with what they know. Before issue 23 that check was an xxh3 checksum (anyone can
//! recompute it); now it is a BLAKE3 tag keyed by a per-user secret, so the attacker can
//! only seal a file under *their own* secret. The victim's run must believe neither.
//!
//! The layouts mirror `src/cache.rs` (`summaries.bin`) and `src/results.rs` (`results.bin`):
//! a magic number, the check, then a postcard body.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The check a cache file carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// xxh3-64 of the body (the format before issue 23).
    Checksum,
    /// BLAKE3 keyed by a per-user secret, over the magic, the file name, a NUL and the body.
    Tagged,
}

/// A cache file taken apart.
#[derive(Debug, Clone)]
pub struct CacheFile {
    pub name: String,
    pub magic: [u8; 8],
    pub check: Check,
    pub body: Vec<u8>,
}

impl CacheFile {
    pub fn read(path: &Path) -> CacheFile {
        let bytes = std::fs::read(path).expect("read the cache file");
        let mut magic = [0u8; 8];
        magic.copy_from_slice(&bytes[..8]);
        let check = match &magic {
            b"SSOTLC\x00\x02" | b"SSOTLR\x00\x01" => Check::Checksum,
            _ => Check::Tagged,
        };
        let head = match check {
            Check::Checksum => 16,
            Check::Tagged => 8 + 32,
        };
        CacheFile {
            name: path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned(),
            magic,
            check,
            body: bytes[head..].to_vec(),
        }
    }

    /// The file's bytes, its check made right with what the attacker knows: the checksum,
    /// or a tag under the attacker's own secret.
    pub fn seal(&self, attacker_key: Option<[u8; 32]>) -> Vec<u8> {
        let mut out = self.magic.to_vec();
        match self.check {
            Check::Checksum => {
                out.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(&self.body).to_le_bytes())
            }
            Check::Tagged => {
                let key = attacker_key.expect("the attacker's secret");
                let mut h = blake3::Hasher::new_keyed(&key);
                h.update(&self.magic);
                h.update(self.name.as_bytes());
                h.update(&[0]);
                h.update(&self.body);
                out.extend_from_slice(h.finalize().as_bytes());
            }
        }
        out.extend_from_slice(&self.body);
        out
    }
}

// ---- results.bin --------------------------------------------------------------------

#[derive(Serialize, Deserialize)]
struct ResultsBody {
    tool: String,
    generation: u32,
    written: i64,
    entries: Vec<ResultsEntry>,
}

#[derive(Serialize, Deserialize)]
struct ResultsEntry {
    unit: PathBuf,
    key: u128,
    generation: u32,
    deps: Vec<Dep>,
    outcome: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct Dep {
    path: PathBuf,
    stamp: u64,
    newest: i64,
    content: Content,
}

#[derive(Serialize, Deserialize)]
enum Content {
    Stamp,
    Presence,
    Text(u64),
    Listing(u64),
}

/// Every entry's dependency list emptied: the outcome of the tree as it was then is reused
/// whatever the tree holds now.
pub fn empty_deps(f: &mut CacheFile) {
    let mut b: ResultsBody = postcard::from_bytes(&f.body).expect("a results body");
    assert!(!b.entries.is_empty(), "the attacker's cache has an entry");
    for e in &mut b.entries {
        e.deps.clear();
    }
    f.body = postcard::to_stdvec(&b).expect("encode");
}

// ---- summaries.bin ------------------------------------------------------------------

#[derive(Serialize, Deserialize, Clone, Copy)]
struct Key {
    hash: u128,
    len: u64,
    edition: u8,
    kind: Kind,
}

#[derive(Serialize, Deserialize, Clone, Copy)]
enum Kind {
    Summary,
    Scan,
    Quick,
    FnIdents,
    Structure,
}

#[derive(Serialize, Deserialize, Clone, Copy)]
struct Slot {
    generation: u32,
    offset: u64,
    len: u64,
}

#[derive(Serialize, Deserialize)]
struct Header {
    tool: String,
    generation: u32,
    index: Vec<(Key, Slot)>,
}

/// The entries' bytes and the header of a summaries body.
fn split(body: &[u8]) -> (Vec<u8>, Header) {
    let n = body.len();
    let mut len = [0u8; 8];
    len.copy_from_slice(&body[n - 8..]);
    let header_len = u64::from_le_bytes(len) as usize;
    let blob_len = n - 8 - header_len;
    let header: Header = postcard::from_bytes(&body[blob_len..n - 8]).expect("a header");
    (body[..blob_len].to_vec(), header)
}

fn join(blob: &[u8], header: &Header) -> Vec<u8> {
    let h = postcard::to_stdvec(header).expect("encode");
    let mut out = blob.to_vec();
    out.extend_from_slice(&h);
    out.extend_from_slice(&(h.len() as u64).to_le_bytes());
    out
}

/// Every artifact cached for the text `from` is filed under the text `to` instead: a file
/// whose text is `to` is then read as if it were `from`. Returns how many were moved.
pub fn retarget(f: &mut CacheFile, from: &str, to: &str) -> usize {
    let (blob, mut header) = split(&f.body);
    let key = |t: &str| (xxhash_rust::xxh3::xxh3_128(t.as_bytes()), t.len() as u64);
    let (from, to) = (key(from), key(to));
    let mut moved = 0;
    for (k, _) in &mut header.index {
        if (k.hash, k.len) == from {
            (k.hash, k.len) = to;
            moved += 1;
        }
    }
    f.body = join(&blob, &header);
    moved
}

/// `bytes` of junk, listed `copies` times under different keys: a file of `bytes` that a
/// run rewriting it would copy `copies` times.
pub fn amplify(f: &mut CacheFile, bytes: usize, copies: u128) {
    let (_, header) = split(&f.body);
    let blob = vec![0x5au8; bytes];
    let generation = header.generation;
    let index = (0..copies)
        .map(|i| {
            (
                Key {
                    hash: i,
                    len: 1,
                    edition: 0,
                    kind: Kind::Summary,
                },
                Slot {
                    generation,
                    offset: 0,
                    len: bytes as u64,
                },
            )
        })
        .collect();
    f.body = join(
        &blob,
        &Header {
            tool: header.tool,
            generation,
            index,
        },
    );
}

/// The attacker's cache files after a run of theirs with `xdg` as its cache home: in the
/// tree (`.ssot-lint-cache/`, before issue 23) or in their user cache directory.
pub fn attackers_cache(tree: &Path, xdg: &Path) -> (PathBuf, Option<[u8; 32]>) {
    let in_tree = tree.join(".ssot-lint-cache");
    if in_tree.join("results.bin").is_file() {
        return (in_tree, None);
    }
    let home = xdg.join("ssot-lint");
    let dir = std::fs::read_dir(&home)
        .expect("the attacker's cache home")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.join("results.bin").is_file())
        .expect("the attacker's cache directory");
    let key: [u8; 32] = std::fs::read(home.join("key"))
        .expect("the attacker's own secret")
        .try_into()
        .expect("32 bytes");
    (dir, Some(key))
}
