//! The result cache, a layer above the engine: each lint unit's finished outcome, reused
//! while nothing it depended on changed (see the module documentation of [`crate::cache`]
//! for the whole design). [`lint`] drives the engine's steps ([`crate::engine::Run`]) and,
//! for each unit, checks the stamps of its last outcome before calling the engine at all;
//! a unit it lints reads through a [`Recorder`], which tells what the outcome depends on.
//! Nothing below the engine knows this cache exists.
//!
//! An entry is keyed by the unit's root and a hash of the tool's identity
//! ([`crate::cache::TOOL`]), every option that changes a unit's result (rule selection,
//! packages, path filters, `--no-prefilter`, ownership, the file size cap, the config named
//! or found at the root) and the unit as discovery made it this run (packages, targets,
//! dependencies, editions: discovery always runs). It lists every file system fact the
//! outcome was computed from, each stamped *before* it was used:
//!
//! - every file read (a module tree's files, the unreached files checked on their own, the
//!   configuration files the unit's config comes from);
//! - every path looked at and not used (`x.rs` before `x/mod.rs`, `#[path]` targets,
//!   missing modules, files that could not be read);
//! - every directory listed for unreached files, with the ignore files that apply.
//!
//! A stamp is a hash of what `lstat` (and `stat` through a symlink) says: type, mode, size,
//! inode, device, mtime and ctime in nanoseconds, or the error. As in git's index, a file
//! can change without changing its stamp when it is written twice within the timestamps'
//! granularity ("racy git"): a stamp whose mtime or ctime is less than [`RACY_NS`] before
//! the cache is written is racy. A racy file is stored with the xxh3 hash of the text the
//! run read (read after the stamp was taken) and is compared by content as well; a racy
//! directory or missing path cannot be, so that unit is not stored (it is linted again next
//! time). A run that checked racy files by content rewrites the file once they are no
//! longer racy. ctime cannot be set by a program, so a text changed with its size and mtime
//! restored is seen too.
//!
//! A unit whose entry matches reuses its outcome without reading, listing or parsing
//! anything; any other is linted normally (with the summary cache). A view whose texts are
//! not the disk's (an overlay: the fixer's passes) bypasses the result cache. One file, `results.bin`, beside `summaries.bin`: a
//! magic number, an xxh3-64 checksum of the rest and a postcard body. A file that does not
//! check, decode or come from this build is ignored and rewritten, never trusted; an entry
//! whose outcome does not decode is linted again.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::diagnostic::{Finding, Fix, Related};
use crate::engine::{LintOptions, Outcome, Run};
use crate::error::Error;
use crate::summary::Span;
use crate::vfs::stamp::{Content, FsDep, Stamp, listing, now_ns, presence, stamp};
use crate::vfs::{FileSystem, Recorder};

/// Lint what the options name through `fs`, with the result cache when the options ask
/// for a cache and `fs` reads the disk; otherwise the engine alone.
pub fn lint(fs: &dyn FileSystem, opts: &LintOptions) -> Result<Outcome, Error> {
    if opts.cache == crate::cache::CacheSetting::Off || !fs.stamps() {
        return crate::engine::lint(fs, opts);
    }
    let mut run = Run::start(fs, opts)?;
    let Some(place) = run.place.clone() else {
        // The cache asked for cannot be used (the run says why): the engine alone.
        let units = std::mem::take(&mut run.units);
        let outcomes: Vec<Result<Option<Outcome>, Error>> = units
            .into_par_iter()
            .map(|unit| match run.select(unit) {
                Some(u) => run.lint_unit(fs, u).map(Some),
                None => Ok(None),
            })
            .collect();
        let outcomes = outcomes.into_iter().collect::<Result<Vec<_>, _>>()?;
        return run.finish(outcomes, Vec::new());
    };
    let what_changes_a_result = format!(
        "{:?}",
        (
            &opts.select,
            &opts.ignore,
            &opts.packages,
            &run.filters,
            opts.ownership,
            opts.no_prefilter,
            &run.root_config,
            run.multi_unit,
        )
    );
    let results = Results::open(fs, place, &run.root, &what_changes_a_result);
    let units = std::mem::take(&mut run.units);
    let outcomes: Vec<Result<Option<Outcome>, Error>> = units
        .into_par_iter()
        .map(|unit| {
            let Some(unit) = run.select(unit) else {
                return Ok(None);
            };
            let key = results.key(&unit);
            if let Some(o) = results.get(&unit.root, key) {
                crate::progress::unit_done(o.files_checked);
                return Ok(Some(o));
            }
            let recorder = Recorder::new(fs);
            let root = unit.root.clone();
            let outcome = run.lint_unit(&recorder, unit)?;
            results.put(&root, key, recorder.into_deps(), &outcome);
            Ok(Some(outcome))
        })
        .collect();
    let outcomes = outcomes.into_iter().collect::<Result<Vec<_>, _>>()?;
    let notes = results.save();
    run.finish(outcomes, notes)
}

/// A stamp newer than this before the cache is written is racy (nanoseconds).
pub use crate::vfs::stamp::RACY_NS;
/// The first bytes of `results.bin`; the last is the format's version.
pub const MAGIC: &[u8; 8] = b"SSOTLR\x00\x02";
/// The result cache file inside the cache directory.
pub const FILE_NAME: &str = "results.bin";
/// A result cache file larger than this is not read.
const MAX_FILE_BYTES: u64 = 256 << 20;

#[derive(Debug, Serialize, Deserialize)]
struct Dep {
    /// Relative to the root when inside it.
    path: PathBuf,
    stamp: u64,
    newest: i64,
    content: Content,
}

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    unit: PathBuf,
    key: u128,
    generation: u32,
    deps: Vec<Dep>,
    outcome: Vec<u8>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Body {
    tool: String,
    generation: u32,
    /// When it was written (ns since the epoch): stamps newer than this less [`RACY_NS`]
    /// are racy.
    written: i64,
    entries: Vec<Entry>,
}

/// A unit reused, with the stamps that changed while their contents did not (by index).
type Reused = (PathBuf, Vec<(usize, Stamp)>);

struct Fresh {
    unit: PathBuf,
    key: u128,
    deps: Vec<FsDep>,
    outcome: Vec<u8>,
}

pub struct Results<'v> {
    fs: &'v dyn FileSystem,
    place: crate::cache::Place,
    root: PathBuf,
    old: HashMap<PathBuf, Entry>,
    generation: u32,
    /// When the file read was written.
    written: i64,
    fresh: Mutex<Vec<Fresh>>,
    /// Units reused, with the stamps that changed while their contents did not.
    reused: Mutex<Vec<Reused>>,
    /// A reused entry had racy files (checked by content): write it again.
    refresh: AtomicBool,
    linted: AtomicUsize,
    ignored: Option<String>,
    /// The hash of the run's options (see the module documentation).
    options: u128,
    /// When the run began (ns since the epoch).
    started: i64,
}

impl<'v> Results<'v> {
    /// The result cache of a root (a real path), read when it is there and valid. `options`
    /// describes everything in the command line that changes a unit's result.
    pub fn open(
        fs: &'v dyn FileSystem,
        place: crate::cache::Place,
        root: &Path,
        options: &str,
    ) -> Self {
        let (body, ignored) =
            match crate::cache::read_checked(fs, &place, FILE_NAME, MAGIC, MAX_FILE_BYTES)
                .and_then(|b| {
                    postcard::from_bytes::<Body>(&b)
                        .map_err(|_| Some("unreadable (truncated or another format)".to_string()))
                })
                .and_then(|b| {
                    if b.tool == crate::cache::TOOL {
                        Ok(b)
                    } else {
                        Err(Some("written by another build of ssot-lint".to_string()))
                    }
                }) {
                Ok(b) => (b, None),
                Err(why) => (
                    Body {
                        tool: String::new(),
                        generation: 0,
                        written: 0,
                        entries: Vec::new(),
                    },
                    why,
                ),
            };
        let options = xxhash_rust::xxh3::xxh3_128(
            format!("{}\0{}\0{options}", crate::cache::TOOL, root.display()).as_bytes(),
        );
        Results {
            fs,
            place,
            root: root.to_path_buf(),
            old: body
                .entries
                .into_iter()
                .map(|e| (e.unit.clone(), e))
                .collect(),
            generation: body.generation,
            written: body.written,
            fresh: Mutex::new(Vec::new()),
            reused: Mutex::new(Vec::new()),
            refresh: AtomicBool::new(false),
            linted: AtomicUsize::new(0),
            ignored,
            options,
            started: now_ns(),
        }
    }

    /// The units the file read holds an entry for, with their keys (for the fuzzer, which
    /// asks for each).
    pub fn stored_units(&self) -> Vec<(PathBuf, u128)> {
        self.old.values().map(|e| (e.unit.clone(), e.key)).collect()
    }

    /// The key of a unit as discovery made it this run.
    pub fn key(&self, unit: &crate::workspace::Unit) -> u128 {
        let mut text = format!("{:032x}\0{unit:?}", self.options);
        text.push_str(&format!("\0{}", crate::vfs::max_file_size()));
        xxhash_rust::xxh3::xxh3_128(text.as_bytes())
    }

    fn abs(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.root.join(p)
        }
    }

    /// The stored outcome of a unit when nothing it depended on changed.
    pub fn get(&self, unit: &Path, key: u128) -> Option<Outcome> {
        let e = self.old.get(unit)?;
        // An outcome that depended on nothing could be reused whatever the tree holds: the
        // tool never writes one (see `put`), so it is not believed.
        if e.key != key || e.deps.is_empty() {
            return None;
        }
        let mut refresh = false;
        let mut updates = Vec::new();
        for (i, d) in e.deps.iter().enumerate() {
            let p = self.abs(&d.path);
            let now = match d.content {
                Content::Presence => presence(&p),
                _ => stamp(&p),
            };
            let same = now.id == d.stamp;
            let racy = d.newest > self.written.saturating_sub(RACY_NS);
            let fresh = match d.content {
                Content::Stamp | Content::Presence => same,
                _ if same && !racy => true,
                Content::Text(h) => self
                    .fs
                    .read(&p, Some(&self.root))
                    .is_ok_and(|t| xxhash_rust::xxh3::xxh3_64(&t) == h),
                Content::Listing(h) => listing(&p) == h,
            };
            if !fresh {
                return None;
            }
            if !same {
                updates.push((i, now));
                refresh = true;
            } else if racy && d.newest <= self.started.saturating_sub(RACY_NS) {
                // No longer racy: written again so that the next run need not read it.
                refresh = true;
            }
        }
        let stored: StoredOutcome = postcard::from_bytes(&e.outcome).ok()?;
        let outcome = stored.into_outcome(&self.root)?;
        if refresh {
            self.refresh.store(true, Ordering::Relaxed);
        }
        if let Ok(mut r) = self.reused.lock() {
            r.push((unit.to_path_buf(), updates));
        }
        Some(outcome)
    }

    /// Keep a unit's outcome with what it depended on.
    pub fn put(&self, unit: &Path, key: u128, deps: Vec<FsDep>, outcome: &Outcome) {
        self.linted.fetch_add(1, Ordering::Relaxed);
        let Ok(bytes) = postcard::to_stdvec(&StoredOutcome::from_outcome(outcome)) else {
            return;
        };
        if let Ok(mut f) = self.fresh.lock() {
            f.push(Fresh {
                unit: unit.to_path_buf(),
                key,
                deps,
                outcome: bytes,
            });
        }
    }

    /// Write the entries when anything changed; notes for `-v`.
    pub fn save(self) -> Vec<String> {
        let mut notes = Vec::new();
        if let Some(why) = &self.ignored {
            notes.push(format!(
                "cache: {} ignored: {why}",
                self.place.dir.join(FILE_NAME).display()
            ));
        }
        let reused = self.reused.into_inner().unwrap_or_default();
        let fresh = self.fresh.into_inner().unwrap_or_default();
        let mut line = format!(
            "cache: {} lint units reused, {} linted",
            reused.len(),
            self.linted.load(Ordering::Relaxed)
        );
        if fresh.is_empty() && self.ignored.is_none() && !self.refresh.load(Ordering::Relaxed) {
            notes.push(line);
            return notes;
        }
        let now = now_ns();
        let racy = |newest: i64| newest > now.saturating_sub(RACY_NS);
        let generation = self.generation.wrapping_add(1);
        let mut old = self.old;
        let mut entries: Vec<Entry> = Vec::new();
        let mut skipped = 0;
        for f in fresh {
            old.remove(&f.unit);
            let mut deps = Vec::with_capacity(f.deps.len());
            let mut ok = true;
            for (path, st, content) in f.deps {
                if content == Content::Stamp && racy(st.newest) {
                    ok = false;
                    break;
                }
                deps.push(Dep {
                    path: path
                        .strip_prefix(&self.root)
                        .map(Path::to_path_buf)
                        .unwrap_or(path),
                    stamp: st.id,
                    newest: st.newest,
                    content,
                });
            }
            if !ok || deps.is_empty() {
                skipped += 1;
                continue;
            }
            entries.push(Entry {
                unit: f.unit,
                key: f.key,
                generation,
                deps,
                outcome: f.outcome,
            });
        }
        for (unit, updates) in reused {
            if let Some(mut e) = old.remove(&unit) {
                e.generation = generation;
                for (i, st) in updates {
                    if let Some(d) = e.deps.get_mut(i) {
                        d.stamp = st.id;
                        d.newest = st.newest;
                    }
                }
                entries.push(e);
            }
        }
        entries
            .extend(old.into_values().filter(|e| {
                generation.wrapping_sub(e.generation) < crate::cache::KEEP_GENERATIONS
            }));
        entries.sort_by(|a, b| a.unit.cmp(&b.unit));
        let body = Body {
            tool: crate::cache::TOOL.to_string(),
            generation,
            written: now,
            entries,
        };
        let written = postcard::to_stdvec(&body)
            .map_err(|e| e.to_string())
            .and_then(|b| crate::cache::write_checked(self.fs, &self.place, FILE_NAME, MAGIC, &b));
        let shown = self.place.dir.display();
        match written {
            Ok(()) => line.push_str(&format!(" (written to {shown})")),
            Err(why) => line.push_str(&format!(" (not written: {why})")),
        }
        if skipped > 0 {
            line.push_str(&format!(
                "; {skipped} not kept (a directory or path changed in the last {} s)",
                RACY_NS / 1_000_000_000
            ));
        }
        notes.push(line);
        notes
    }
}

/// A finding as stored (its rule by code and name).
#[derive(Serialize, Deserialize)]
struct StoredFinding {
    code: String,
    name: String,
    file: String,
    file_id: crate::ids::FileId,
    span: Span,
    line: u32,
    column: u32,
    message: String,
    help: Option<String>,
    related: Vec<Related>,
    fix: Option<Fix>,
    related_spans: Vec<(crate::ids::FileId, Span, String)>,
    suppressed: Option<String>,
    presumed: Option<crate::diagnostic::Presumed>,
}

impl StoredFinding {
    fn new(f: &Finding) -> StoredFinding {
        StoredFinding {
            code: f.code.as_str().to_string(),
            name: f.name.to_string(),
            file: f.file.clone(),
            file_id: f.file_id,
            span: f.span.clone(),
            line: f.line,
            column: f.column,
            message: f.message.clone(),
            help: f.help.clone(),
            related: f.related.clone(),
            fix: f.fix.clone(),
            related_spans: f.related_spans.clone(),
            suppressed: f.suppressed.clone(),
            presumed: f.presumed.clone(),
        }
    }

    fn finding(self) -> Option<Finding> {
        let code = *crate::rules::RuleCode::ALL
            .iter()
            .find(|c| c.as_str() == self.code)?;
        let name = crate::rules::RULES
            .iter()
            .map(|r| r.name)
            .find(|n| *n == self.name)?;
        let mut f = Finding::new(code, name, self.file_id, self.span, self.message);
        f.file = self.file;
        f.line = self.line;
        f.column = self.column;
        f.help = self.help;
        f.related = self.related;
        f.fix = self.fix;
        f.related_spans = self.related_spans;
        f.suppressed = self.suppressed;
        f.presumed = self.presumed;
        Some(f)
    }
}

/// What a unit contributes to the run's outcome (timings are not kept: a reused unit took
/// no time).
#[derive(Serialize, Deserialize)]
struct StoredOutcome {
    findings: Vec<StoredFinding>,
    suppressed: Vec<StoredFinding>,
    files_checked: usize,
    lines: usize,
    bytes: u64,
    crates: usize,
    sources: BTreeMap<String, String>,
    found_config_paths: BTreeSet<String>,
    files: Vec<String>,
    abs_paths: BTreeMap<String, PathBuf>,
    notes: Vec<String>,
    warnings: Vec<String>,
    ownership: Vec<crate::ownership::KindOwners>,
}

impl StoredOutcome {
    fn from_outcome(o: &Outcome) -> StoredOutcome {
        StoredOutcome {
            findings: o.findings.iter().map(StoredFinding::new).collect(),
            suppressed: o.suppressed.iter().map(StoredFinding::new).collect(),
            files_checked: o.files_checked,
            lines: o.lines,
            bytes: o.bytes,
            crates: o.crates,
            sources: o.sources.clone(),
            found_config_paths: o.found_config_paths.clone(),
            files: o.files.clone(),
            abs_paths: o.abs_paths.clone(),
            notes: o.notes.clone(),
            warnings: o.warnings.clone(),
            ownership: o.ownership.clone(),
        }
    }

    /// Every path the outcome names is a plain path below the root (what a run of the tool
    /// gives; whatever else, it is not believed).
    fn plausible(&self, root: &Path) -> bool {
        let plain = |p: &str| {
            !p.is_empty()
                && Path::new(p)
                    .components()
                    .all(|c| matches!(c, std::path::Component::Normal(_)))
        };
        // Spans inside the texts kept for them, positions 1-based.
        let placed = self.findings.iter().chain(&self.suppressed).all(|f| {
            f.line >= 1
                && f.column >= 1
                && f.span.start <= f.span.end
                && self.sources.get(&f.file).is_none_or(|t| {
                    f.span.end as usize <= t.len() && f.line as usize <= t.split('\n').count()
                })
        });
        let findings = self.findings.iter().chain(&self.suppressed);
        placed
            && findings
                .flat_map(|f| std::iter::once(&f.file).chain(f.related.iter().map(|r| &r.file)))
                .chain(&self.files)
                .chain(self.sources.keys())
                .all(|p| plain(p))
            && self
                .abs_paths
                .iter()
                .all(|(rel, abs)| abs.starts_with(root) && abs.ends_with(rel))
    }

    fn into_outcome(self, root: &Path) -> Option<Outcome> {
        if !self.plausible(root) {
            return None;
        }
        Some(Outcome {
            root: root.to_path_buf(),
            findings: self
                .findings
                .into_iter()
                .map(StoredFinding::finding)
                .collect::<Option<_>>()?,
            suppressed: self
                .suppressed
                .into_iter()
                .map(StoredFinding::finding)
                .collect::<Option<_>>()?,
            files_checked: self.files_checked,
            lines: self.lines,
            bytes: self.bytes,
            crates: self.crates,
            parse_secs: 0.0,
            check_secs: 0.0,
            sources: self.sources,
            found_config_paths: self.found_config_paths,
            files: self.files,
            abs_paths: self.abs_paths,
            notes: self.notes,
            warnings: self.warnings,
            ownership: self.ownership,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vfs::Disk;

    fn place(root: &Path) -> crate::cache::Place {
        crate::cache::Place::with_key(root.join("cache"), [3; 32])
    }

    fn outcome() -> Outcome {
        Outcome {
            files: vec!["src/lib.rs".into()],
            files_checked: 1,
            ..Default::default()
        }
    }

    /// A file written within the racy window is kept with its text's hash: the same
    /// stamp with another text is not reused.
    #[test]
    fn a_racy_file_is_compared_by_content() {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path().canonicalize().expect("canon");
        let unit = root.join("u");
        std::fs::create_dir(&unit).expect("mkdir");
        let file = unit.join("lib.rs");
        std::fs::write(&file, "fn a() {}\n").expect("write");
        let st = stamp(&file);
        let linted = xxhash_rust::xxh3::xxh3_64(b"fn a() {}\n");
        for (hash, reused) in [(linted, true), (linted ^ 1, false)] {
            let _ = std::fs::remove_dir_all(place(&root).dir);
            let r = Results::open(&Disk, place(&root), &root, "opts");
            r.put(
                &unit,
                7,
                vec![(file.clone(), st, Content::Text(hash))],
                &outcome(),
            );
            r.save();
            let r = Results::open(&Disk, place(&root), &root, "opts");
            assert!(r.ignored.is_none(), "{:?}", r.ignored);
            let e = r.old.get(&unit).expect("kept");
            assert_eq!(e.deps[0].content, Content::Text(hash));
            assert_eq!(r.get(&unit, 7).is_some(), reused);
            // Another key (options, unit) is never reused.
            assert!(r.get(&unit, 8).is_none());
        }
        // A racy directory cannot be compared by content: the unit is not kept.
        let _ = std::fs::remove_dir_all(place(&root).dir);
        let r = Results::open(&Disk, place(&root), &root, "opts");
        r.put(
            &unit,
            7,
            vec![(unit.clone(), stamp(&unit), Content::Stamp)],
            &outcome(),
        );
        let notes = r.save();
        assert!(notes.iter().any(|n| n.contains("1 not kept")), "{notes:?}");
        assert!(
            Results::open(&Disk, place(&root), &root, "opts")
                .old
                .is_empty()
        );
        // Another stamp: not reused.
        let r = Results::open(&Disk, place(&root), &root, "opts");
        r.put(
            &unit,
            7,
            vec![(file.clone(), st, Content::Text(linted))],
            &outcome(),
        );
        r.save();
        std::fs::write(&file, "fn b() {}\n").expect("write");
        assert!(
            Results::open(&Disk, place(&root), &root, "opts")
                .get(&unit, 7)
                .is_none()
        );
        // Another stamp, the same text: reused (and the new stamp kept).
        std::fs::write(&file, "fn a() {}\n").expect("write");
        assert!(
            Results::open(&Disk, place(&root), &root, "opts")
                .get(&unit, 7)
                .is_some()
        );
        let r = Results::open(&Disk, place(&root), &root, "opts");
        r.put(
            &unit,
            7,
            vec![(file.clone(), stamp(&file), Content::Text(linted))],
            &outcome(),
        );
        r.save();
        let o = Results::open(&Disk, place(&root), &root, "opts");
        assert!(o.get(&unit, 7).is_some());
        assert_ne!(
            o.options,
            Results::open(&Disk, place(&root), &root, "other").options,
            "the options are in the key"
        );
    }
}
