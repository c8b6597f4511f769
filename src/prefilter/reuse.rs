//! The crate graph of a unit kept from one lint to the next (a language server's: a
//! keystroke changes one file's text, rarely its module structure).
//!
//! A graph is read through a [`Recorder`], which notes every fact the reading depended on:
//! each file's text by its hash, each path looked for by what is there, each directory
//! walked by its listing, the ignore files. The next lint of the same unit (same packages,
//! same trigger names, same open buffers) checks those facts instead of reading the tree
//! again: a text is compared through the view (an editor's buffer or the disk), anything
//! else as the result cache checks it (`vfs::stamp`). Every fact holds: the graph is taken
//! as it was. Only texts changed, and each changed file, summarized again, has the module
//! structure it had (the same modules, `mod` items and declarations, at the same places):
//! the graph is taken with those files' texts and summaries replaced. Anything else: the
//! graph is read again. Either way the prefilter's relevance fixpoint runs as before on the
//! result, so what follows cannot tell a kept graph from a new one.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::cache::Cache;
use crate::crates::{self, CrateDef, CrateGraph, FileEntry, Summarize};
use crate::parse::scan::Scan;
use crate::parse::skeleton::{same_mod_items, same_structure};
use crate::summary::Span;
use crate::vfs::stamp::{Content, FsDep, RACY_NS, listing, now_ns, presence, stamp};
use crate::vfs::{FileSystem, Recorder};
use crate::workspace::{Package, Unit};

/// How many graphs are kept (one per unit and trigger set; a server lints one or two).
const KEEP: usize = 4;

/// The crate graphs kept (see the module documentation).
#[derive(Default)]
pub struct Graphs {
    kept: Mutex<Vec<(u128, Arc<Kept>)>>,
    /// The paths of the open buffers: a graph read with other buffers open is not reused
    /// (a buffer of a file the disk does not have is a fact the recorder cannot note).
    buffers: Mutex<Vec<PathBuf>>,
    reused: std::sync::atomic::AtomicUsize,
}

/// One graph as the crates were read, before the relevance fixpoint.
struct Kept {
    deps: Vec<FsDep>,
    /// When the facts were noted (ns since the epoch).
    noted_at: i64,
    files: Vec<FileEntry>,
    crates: Vec<CrateDef>,
    packages: Vec<Package>,
    root: PathBuf,
    read_root: PathBuf,
    unreadable_modules: Vec<(crate::ids::FileId, Span, String)>,
    missing_modules: Vec<(crate::ids::FileId, Span, String)>,
    scans: Vec<Scan>,
    /// Each file's edition, by index.
    editions: Vec<ra_ap_syntax::Edition>,
    by_path: HashMap<PathBuf, usize>,
}

impl Graphs {
    pub fn new() -> Self {
        Graphs::default()
    }

    /// The open buffers (real paths) of the lints that follow: when they are not the ones
    /// the graphs were read with, the graphs are dropped.
    pub fn set_buffers(&self, mut paths: Vec<PathBuf>) {
        paths.sort();
        paths.dedup();
        if let Ok(mut b) = self.buffers.lock()
            && *b != paths
        {
            *b = paths;
            if let Ok(mut k) = self.kept.lock() {
                k.clear();
            }
        }
    }

    /// Drop every graph kept.
    pub fn clear(&self) {
        if let Ok(mut k) = self.kept.lock() {
            k.clear();
        }
    }

    /// How many lints took a kept graph (for tests).
    pub fn reused(&self) -> usize {
        self.reused.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The graph of `key`, read through `fs` with `summarize` (which also notes each file's
    /// scan; `scans` takes them by path), kept or read again; and the scans of its files.
    #[allow(clippy::too_many_arguments)]
    pub fn graph<'v>(
        &self,
        key: u128,
        fs: &'v dyn FileSystem,
        unit: &Unit,
        out_root: &Path,
        summarize: &Summarize,
        scans: &Mutex<HashMap<PathBuf, Scan>>,
        cache: &Cache,
    ) -> (CrateGraph<'v>, Vec<Scan>) {
        if let Some(hit) = self.reuse(key, fs, summarize, scans, cache) {
            self.reused
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return hit;
        }
        let noted_at = now_ns();
        let rec = Recorder::new(fs);
        let g = crates::build_with(&rec, unit, out_root, summarize).with_view(fs);
        let deps = rec.into_deps();
        let mut taken = std::mem::take(&mut *scans.lock().unwrap_or_else(|e| e.into_inner()));
        let file_scans: Vec<Scan> = g
            .files
            .iter()
            .map(|f| taken.remove(&f.path).unwrap_or_default())
            .collect();
        let kept = Kept {
            deps,
            noted_at,
            files: g.files.clone(),
            crates: g.crates.clone(),
            packages: g.packages.clone(),
            root: g.root.clone(),
            read_root: g.read_root.clone(),
            unreadable_modules: g.unreadable_modules.clone(),
            missing_modules: g.missing_modules.clone(),
            scans: file_scans.clone(),
            editions: g
                .files
                .iter()
                .map(|f| crates::edition_for(unit, &f.path))
                .collect(),
            by_path: g
                .files
                .iter()
                .enumerate()
                .map(|(i, f)| (f.path.clone(), i))
                .collect(),
        };
        if let Ok(mut k) = self.kept.lock() {
            k.retain(|(key2, _)| *key2 != key);
            if k.len() == KEEP {
                k.remove(0);
            }
            k.push((key, Arc::new(kept)));
        }
        (g, file_scans)
    }

    fn reuse<'v>(
        &self,
        key: u128,
        fs: &'v dyn FileSystem,
        summarize: &Summarize,
        scans: &Mutex<HashMap<PathBuf, Scan>>,
        cache: &Cache,
    ) -> Option<(CrateGraph<'v>, Vec<Scan>)> {
        let kept = {
            let k = self.kept.lock().ok()?;
            k.iter().find(|(k2, _)| *k2 == key)?.1.clone()
        };
        let racy = |newest: i64| newest > kept.noted_at.saturating_sub(RACY_NS);
        let mut changed: Vec<(usize, String)> = Vec::new();
        for (path, st, content) in &kept.deps {
            let holds = match content {
                Content::Text(h) => {
                    // Through the view: an open buffer's text, or the disk's (kept by the
                    // view while unchanged there).
                    let text = fs.read_text(path, Some(&kept.read_root)).ok()?;
                    if xxhash_rust::xxh3::xxh3_64(text.as_bytes()) != *h {
                        // A file of the graph whose text changed: maybe its structure did not.
                        changed.push((*kept.by_path.get(path)?, text));
                    }
                    true
                }
                Content::Presence => presence(path).id == st.id,
                Content::Listing(h) => {
                    (stamp(path) == *st && !racy(st.newest)) || listing(path) == *h
                }
                Content::Stamp => stamp(path) == *st && !racy(st.newest),
            };
            if !holds {
                return None;
            }
        }
        let mut files = kept.files.clone();
        let mut file_scans = kept.scans.clone();
        for (i, text) in changed {
            let f = &mut files[i];
            let s = summarize(&f.path, &text, kept.editions[i]);
            if !(same_structure(&f.summary, &s) && same_mod_items(&f.summary, &s)) {
                return None;
            }
            file_scans[i] = scans
                .lock()
                .ok()
                .and_then(|mut m| m.remove(&f.path))
                .unwrap_or_default();
            f.summary = s;
            f.bytes = text.len() as u64;
            f.text = Some(Arc::from(text));
        }
        // The summaries of the files that did not change stay in the memo as if read.
        for (f, &edition) in files.iter().zip(&kept.editions) {
            if let Some(t) = &f.text {
                cache.keep(t, edition);
            }
        }
        let g = CrateGraph {
            fs,
            files,
            crates: kept.crates.clone(),
            packages: kept.packages.clone(),
            root: kept.root.clone(),
            read_root: kept.read_root.clone(),
            unreadable_modules: kept.unreadable_modules.clone(),
            missing_modules: kept.missing_modules.clone(),
        };
        Some((g, file_scans))
    }
}

/// The key of a unit's graph: everything reading it depends on besides the tree (the unit's
/// packages and targets, the output root, what makes a file relevant at first sight, the
/// prefilter on or off).
pub fn key(unit: &Unit, out_root: &Path, triggers: &super::Names, prefilter: bool) -> u128 {
    let mut strong: Vec<u64> = triggers.strong.iter().copied().collect();
    strong.sort_unstable();
    let mut pack: Vec<(&String, Vec<u64>)> = triggers
        .pack
        .by_crate
        .iter()
        .map(|(c, ns)| {
            let mut v: Vec<u64> = ns.iter().copied().collect();
            v.sort_unstable();
            (c, v)
        })
        .collect();
    pack.sort();
    let mut crates: Vec<&String> = triggers.pack.crates.iter().collect();
    crates.sort();
    let text = format!("{unit:?}\0{out_root:?}\0{strong:?}\0{pack:?}\0{crates:?}\0{prefilter}");
    xxhash_rust::xxh3::xxh3_128(text.as_bytes())
}
