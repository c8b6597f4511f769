//! Identifiers as hashes: the prefilter compares the names a file mentions with the names
//! that can lead to a pack path, and the pack index keeps its names the same way.

use std::collections::{HashMap, HashSet};

/// Sets and maps of identifier hashes (already hashed: a cheap hasher is enough).
pub type IdSet = HashSet<u64, std::hash::BuildHasherDefault<rustc_hash::FxHasher>>;
pub type IdMap<V> = HashMap<u64, V, std::hash::BuildHasherDefault<rustc_hash::FxHasher>>;

/// A hash of an identifier (collisions only make a file look relevant: safe).
pub fn hash(s: &str) -> u64 {
    let s = s.strip_prefix("r#").unwrap_or(s);
    // FNV-1a.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}
