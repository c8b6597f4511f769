//! Runs the pipeline over what the command line names.

use std::path::{Path, PathBuf};

use crate::config;
use crate::diagnostic::{Finding, Related};
use crate::error::Error;
use crate::ids::FileId;
use crate::lines::LineIndex;
use crate::packs::PackIndex;
use crate::rules;
use crate::semantic::Model;
use crate::vfs::FileSystem;
use crate::workspace;
use rayon::prelude::*;

/// Stack of the worker threads that parse.
pub const PARSE_STACK: usize = 64 << 20;

#[derive(Debug, Clone, Default)]
pub struct LintOptions {
    /// Where to start looking for the workspace (defaults to the current directory).
    pub start: Option<PathBuf>,
    pub config: Option<PathBuf>,
    /// Report only findings in these files or directories.
    pub paths: Vec<PathBuf>,
    /// Only these packages (`-p`).
    pub packages: Vec<String>,
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    /// Also collect who constructs, holds, initializes or re-exports each resource kind
    /// (for `--graph` and the markdown summary).
    pub ownership: bool,
    /// Parse every file instead of only those that can matter (see `prefilter`): slower,
    /// the same output.
    pub no_prefilter: bool,
    /// The directory every path the user names (`--config`) must be inside: the
    /// workspace the command line was run in (see `crate::output::lint`); by default the
    /// run's root.
    pub confine: Option<PathBuf>,
    /// Where to keep the caches: whole units' results (see `results`) and per-file
    /// summaries (see `cache`); off by default.
    pub cache: crate::cache::CacheSetting,
}

#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Directory that finding paths are relative to.
    pub root: PathBuf,
    pub findings: Vec<Finding>,
    pub files_checked: usize,
    pub lines: usize,
    pub bytes: u64,
    pub crates: usize,
    /// Wall time of the parse stage (module trees, summaries) and of resolve + check.
    pub parse_secs: f64,
    pub check_secs: f64,
    /// File texts by relative path, for the human renderer and fixes (files with findings).
    pub sources: std::collections::BTreeMap<String, String>,
    /// Config module paths found in some unit (a shared config is checked against all).
    pub found_config_paths: std::collections::BTreeSet<String>,
    /// Every file checked, relative to the root (for `--list-files`).
    pub files: Vec<String>,
    /// Absolute path of every file with findings, by relative path.
    pub abs_paths: std::collections::BTreeMap<String, PathBuf>,
    /// What `-v` explains: crates treated as test code and why, files skipped.
    pub notes: Vec<String>,
    /// What was skipped (a broken package in a scanned folder, a target that cannot be
    /// read), for stderr.
    pub warnings: Vec<String>,
    /// Findings suppressed by an `ssot-lint: allow(..)` comment (SARIF lists them).
    pub suppressed: Vec<Finding>,
    /// Who owns each resource kind (with `LintOptions::ownership`).
    pub ownership: Vec<crate::ownership::KindOwners>,
}

/// Lint what the options name, reading through `fs`: discover the units, lint each (in
/// parallel), merge their outcomes. The engine knows no result cache: [`crate::results`]
/// sits above it and drives the same steps ([`Run`]) itself.
pub fn lint(fs: &dyn FileSystem, opts: &LintOptions) -> Result<Outcome, Error> {
    lint_with(fs, opts, None, None)
}

/// [`lint`], asking `memo` first for every per-file artifact and keeping there what the
/// run makes, and taking each unit's crates from `graphs` when the tree still holds them
/// (a language server keeps both from keystroke to keystroke).
pub fn lint_with(
    fs: &dyn FileSystem,
    opts: &LintOptions,
    memo: Option<&crate::cache::Memo>,
    graphs: Option<&crate::prefilter::Graphs>,
) -> Result<Outcome, Error> {
    // Real paths of directories resolved by an earlier run in this process may be stale.
    crate::vfs::gate::forget_dirs();
    let mut run = Run::start_with(fs, opts, memo)?;
    run.graphs = graphs;
    let units = std::mem::take(&mut run.units);
    let outcomes: Vec<Result<Option<Outcome>, Error>> = units
        .into_par_iter()
        .map(|unit| match run.select(unit) {
            Some(u) => run.lint_unit(fs, u).map(Some),
            None => Ok(None),
        })
        .collect();
    run.finish(outcomes.into_iter().collect::<Result<_, _>>()?, Vec::new())
}

/// A run after discovery: the units to lint and what every unit shares (the root, the
/// config named or found there, the path filters, the rule selection, the built-in packs,
/// the summary cache).
pub struct Run<'v> {
    fs: &'v dyn FileSystem,
    opts: &'v LintOptions,
    /// Directory that finding paths are relative to (a real path).
    pub root: PathBuf,
    /// The units discovery found, in discovery order (the caller takes them).
    pub units: Vec<workspace::Unit>,
    warnings: Vec<String>,
    /// Packages of a scanned folder that could not be loaded (SSOT000 findings).
    problems: Vec<workspace::Problem>,
    /// `PATHS` as real paths inside the root.
    pub filters: Vec<PathBuf>,
    /// The config named on the command line, or the one at the scan root shared by its
    /// units (a real path).
    pub root_config: Option<PathBuf>,
    /// What a named config must be inside (see [`LintOptions::confine`]).
    confine: PathBuf,
    builtin: std::sync::Arc<PackIndex>,
    /// More than one unit: a shared config is checked against all of them.
    pub multi_unit: bool,
    selection: rules::Selection,
    /// Where the caches are, when the run has them (see [`crate::cache::place`]).
    pub place: Option<crate::cache::Place>,
    summaries: crate::cache::Cache<'v>,
    /// Why the cache asked for is not used (for `-v`).
    cache_note: Option<String>,
    /// The crate graphs kept from earlier runs (see [`lint_with`]).
    pub graphs: Option<&'v crate::prefilter::Graphs>,
}

impl<'v> Run<'v> {
    /// Discover what to lint and check the options against it.
    pub fn start(fs: &'v dyn FileSystem, opts: &'v LintOptions) -> Result<Self, Error> {
        Run::start_with(fs, opts, None)
    }

    /// [`Run::start`], with per-file artifacts kept in `memo` (see [`lint_with`]).
    pub fn start_with(
        fs: &'v dyn FileSystem,
        opts: &'v LintOptions,
        memo: Option<&'v crate::cache::Memo>,
    ) -> Result<Self, Error> {
        let selection = rules::Selection::new(&opts.select, &opts.ignore).map_err(Error::Usage)?;
        let start = match &opts.start {
            Some(s) => s.clone(),
            None => std::env::current_dir().map_err(|e| Error::Io {
                path: PathBuf::from("."),
                source: e,
            })?,
        };
        let workspace::Discovery {
            root,
            units,
            warnings,
            problems,
        } = workspace::discover(fs, &start)?;
        if units.is_empty() {
            return Err(Error::NoWorkspace { path: start });
        }
        crate::progress::add_units(units.len());
        // `-p` must name a package that exists.
        for name in &opts.packages {
            if !units
                .iter()
                .any(|u| u.packages.iter().any(|p| &p.name == name))
            {
                return Err(Error::Usage(format!(
                    "package `{name}` not found in {}",
                    root.display()
                )));
            }
        }
        let filters: Vec<PathBuf> = opts
            .paths
            .iter()
            .map(|p| {
                if p.is_absolute() {
                    p.clone()
                } else {
                    std::env::current_dir().unwrap_or_default().join(p)
                }
            })
            .map(|p| match fs.canonicalize(&p) {
                Ok(c) if c.starts_with(&root) => Ok(c),
                Ok(_) => Err(Error::Usage(format!(
                    "{} is outside {}",
                    p.display(),
                    root.display()
                ))),
                Err(e) => Err(Error::Io { path: p, source: e }),
            })
            .collect::<Result<_, _>>()?;
        // A config at the scan root applies to every unit below it. One named on the
        // command line is read only inside the workspace, as any file a user names.
        let confine = opts.confine.clone().unwrap_or_else(|| root.clone());
        let shared = root.join("ssot-lint.toml");
        let root_config = match opts.config.clone() {
            Some(c) => Some(fs.check(&c, Some(&confine)).map_err(|e| Error::Io {
                path: c.clone(),
                source: e.into(),
            })?),
            None if (units.len() > 1 || units[0].root != root) && fs.exists_here(&shared) => {
                // Found, not named: it must be a regular file inside the root.
                fs.check(&shared, Some(&root)).map_err(|e| Error::Io {
                    path: shared.clone(),
                    source: e.into(),
                })?;
                Some(shared)
            }
            None => None,
        };
        let (place, cache_note) = match crate::cache::Place::resolve(fs, &root, &opts.cache) {
            Ok(p) => (p, None),
            Err(why) => (None, Some(format!("cache: not used: {why}"))),
        };
        let summaries = match &place {
            Some(p) => crate::cache::Cache::open(fs, p.clone()),
            None => crate::cache::Cache::off(fs),
        }
        .with_memo(memo);
        Ok(Run {
            fs,
            opts,
            multi_unit: units.len() > 1,
            root,
            units,
            warnings,
            problems,
            filters,
            root_config,
            confine,
            builtin: PackIndex::builtin_shared()?,
            selection,
            place,
            summaries,
            cache_note,
            graphs: None,
        })
    }

    /// The unit as it is linted: with `-p`, only the packages named; `None` when `-p`
    /// filtered all of its packages out.
    pub fn select(&self, mut unit: workspace::Unit) -> Option<workspace::Unit> {
        let packages = &self.opts.packages;
        if !packages.is_empty() {
            let before = unit.packages.len();
            unit.packages
                .retain(|p| packages.iter().any(|n| n == &p.name));
            if unit.packages.is_empty() && before > 0 {
                return None;
            }
        }
        Some(unit)
    }

    /// Merge the units' outcomes (in discovery order, so the output does not depend on
    /// scheduling), check a shared config against all units, sort and deduplicate the
    /// findings. `notes` (for `-v`) come before the summary cache's.
    pub fn finish(
        mut self,
        outcomes: Vec<Option<Outcome>>,
        notes: Vec<String>,
    ) -> Result<Outcome, Error> {
        let mut outcome = Outcome {
            root: self.root.clone(),
            warnings: std::mem::take(&mut self.warnings),
            ..Default::default()
        };
        for u in outcomes.into_iter().flatten() {
            outcome.findings.extend(u.findings);
            outcome.files_checked += u.files_checked;
            outcome.lines += u.lines;
            outcome.bytes += u.bytes;
            outcome.crates += u.crates;
            outcome.parse_secs += u.parse_secs;
            outcome.check_secs += u.check_secs;
            outcome.sources.extend(u.sources);
            outcome.abs_paths.extend(u.abs_paths);
            outcome.files.extend(u.files);
            outcome.found_config_paths.extend(u.found_config_paths);
            outcome.notes.extend(u.notes);
            outcome.warnings.extend(u.warnings);
            outcome.suppressed.extend(u.suppressed);
            crate::ownership::merge(&mut outcome.ownership, u.ownership);
        }
        let problems = self.problem_findings(&self.problems, &mut outcome);
        outcome.findings.extend(problems);
        outcome.notes.extend(self.cache_note);
        outcome.notes.extend(notes);
        outcome.notes.extend(self.summaries.save());
        // A config shared by every unit of a scan: each module path must exist in one of them.
        if let (Some(path), true) = (self.root_config.as_deref(), self.multi_unit) {
            let mut packs = self.builtin.clone();
            let cfg = config::load(self.fs, &self.root, Some((path, &self.confine)), &mut packs)?;
            for p in cfg.all_module_paths() {
                if !outcome.found_config_paths.contains(&p.text) {
                    return Err(cfg.error(
                        p.span.clone(),
                        format!(
                            "module `{}` does not exist in any crate below {}",
                            p.text,
                            self.root.display()
                        ),
                    ));
                }
            }
        }
        outcome.findings.sort_by(|a, b| {
            (
                a.file.as_str(),
                a.line,
                a.column,
                a.code,
                a.message.as_str(),
            )
                .cmp(&(
                    b.file.as_str(),
                    b.line,
                    b.column,
                    b.code,
                    b.message.as_str(),
                ))
        });
        outcome.findings.dedup_by(|a, b| {
            a.file == b.file
                && a.line == b.line
                && a.column == b.column
                && a.code == b.code
                && a.message == b.message
        });
        Ok(outcome)
    }

    /// Lint one unit (see [`Run::select`]), reading through `fs`: the run's view, or a view
    /// over it that records what was read.
    pub fn lint_unit(
        &self,
        fs: &dyn FileSystem,
        mut unit: workspace::Unit,
    ) -> Result<Outcome, Error> {
        let opts = self.opts;

        let mut outcome = Outcome {
            warnings: std::mem::take(&mut unit.warnings),
            ..Default::default()
        };
        let mut packs = self.builtin.clone();
        let named = self
            .root_config
            .as_deref()
            .map(|p| (p, self.confine.as_path()));
        let cfg = config::load(fs, &unit.root, named, &mut packs)?;
        let t0 = std::time::Instant::now();
        let mut forced = std::collections::HashSet::new();
        let build = |forced: &std::collections::HashSet<PathBuf>, prefilter: bool| {
            crate::prefilter::build(
                fs,
                &unit,
                &self.root,
                &packs,
                &cfg,
                prefilter,
                &self.summaries,
                forced,
                self.graphs,
            )
        };
        let mut graph = build(&forced, !opts.no_prefilter);
        let t1 = std::time::Instant::now();
        for (fid, span, msg) in &graph.missing_modules {
            let line = graph.line_of(*fid, span.start);
            outcome
                .warnings
                .push(format!("{}:{line}: {msg}", graph.files[*fid].rel));
        }
        let shared_config = self.root_config.is_some() && self.multi_unit;
        let mut model = Model::build(&graph, &packs, &cfg, shared_config)?;
        // Files the prefilter left unparsed that the model needs after all: parse them too and
        // build again, until it needs no more. A third time, parse every file instead (a chain
        // of such files, one found per build, would cost a build per file).
        for round in 1.. {
            let more: Vec<PathBuf> = model
                .needs_parse
                .iter()
                .map(|&f| graph.files[f].path.clone())
                .filter(|p| !forced.contains(p))
                .collect();
            if more.is_empty() {
                break;
            }
            drop(model);
            forced.extend(more);
            graph = build(&forced, round < 3);
            model = Model::build(&graph, &packs, &cfg, shared_config)?;
        }
        model.dump_sites();
        crate::progress::unit_done(graph.files.len());
        outcome.found_config_paths = model.found_config_paths.iter().cloned().collect();
        let mut findings = rules::run(&mut model, &self.selection);
        outcome.notes = std::mem::take(&mut model.notes);
        if opts.ownership {
            outcome.ownership = crate::ownership::collect(&model);
        }
        let t2 = std::time::Instant::now();
        outcome.parse_secs = (t1 - t0).as_secs_f64();
        outcome.check_secs = (t2 - t1).as_secs_f64();
        outcome.crates = graph.crates.len();
        outcome.files_checked = graph.files.len();
        outcome.files = graph.files.iter().map(|f| f.rel.clone()).collect();
        for f in &graph.files {
            outcome.lines += f.summary.line_count;
            outcome.bytes += f.bytes;
        }
        // Line and column from the text (columns count characters).
        let mut need: Vec<FileId> = findings.iter().map(|f| f.file_id).collect();
        need.extend(
            graph
                .file_ids()
                .filter(|&f| !graph.files[f].summary.suppressions.is_empty()),
        );
        for f in &findings {
            need.extend(f.related_spans.iter().map(|r| r.0));
        }
        need.sort();
        need.dedup();
        let mut texts: std::collections::HashMap<FileId, std::sync::Arc<str>> =
            std::collections::HashMap::new();
        let mut indexes: std::collections::HashMap<FileId, LineIndex> =
            std::collections::HashMap::new();
        for fid in need {
            let t = graph.source(fid);
            indexes.insert(fid, LineIndex::new(&t));
            texts.insert(fid, t);
        }
        let empty = LineIndex::default();
        let at = |fid: FileId, off: u32| {
            let text = texts.get(&fid).map(|t| &**t).unwrap_or("");
            let idx = indexes.get(&fid).unwrap_or(&empty);
            if text.is_empty() {
                return (1, 1);
            }
            idx.line_col(text, off as usize)
        };
        for f in findings.iter_mut() {
            (f.line, f.column) = at(f.file_id, f.span.start);
            f.file = graph.files[f.file_id].rel.clone();
            for (fid, span, msg) in std::mem::take(&mut f.related_spans) {
                let (line, column) = at(fid, span.start);
                f.related.push(Related {
                    file: graph.files[fid].rel.clone(),
                    line,
                    column,
                    message: msg,
                });
            }
        }
        let used = crate::suppress::apply(&graph, &mut findings);
        findings.extend(rules::run_after_suppressions(&rules::SuppressionContext {
            graph: &graph,
            used: &used,
            selection: &self.selection,
        }));
        for f in findings.iter_mut() {
            if f.line == 0 {
                (f.line, f.column) = at(f.file_id, f.span.start);
                f.file = graph.files[f.file_id].rel.clone();
            }
        }
        let (suppressed, mut findings): (Vec<Finding>, Vec<Finding>) =
            findings.into_iter().partition(|f| f.suppressed.is_some());
        outcome.suppressed = suppressed;
        if !self.filters.is_empty() {
            outcome.suppressed.retain(|f| {
                self.filters
                    .iter()
                    .any(|p| graph.files[f.file_id].path.starts_with(p))
            });
            findings.retain(|f| {
                self.filters
                    .iter()
                    .any(|p| graph.files[f.file_id].path.starts_with(p))
            });
        }
        for f in findings.iter().chain(&outcome.suppressed) {
            if let Some(t) = texts.get(&f.file_id) {
                outcome
                    .sources
                    .entry(f.file.clone())
                    .or_insert_with(|| t.to_string());
            }
            outcome
                .abs_paths
                .entry(f.file.clone())
                .or_insert_with(|| graph.files[f.file_id].path.clone());
        }
        findings.extend(self.problem_findings(&unit.problems, &mut outcome));
        outcome.findings = findings;
        Ok(outcome)
    }

    /// SSOT000 findings at the manifests for what discovery could not read or resolve (a
    /// package a scan could not load, a target that cannot be read): selected and filtered
    /// like the others, the manifest's text kept for the snippet when it was read.
    fn problem_findings(
        &self,
        problems: &[workspace::Problem],
        outcome: &mut Outcome,
    ) -> Vec<Finding> {
        if !self.selection.enabled(rules::RuleCode::Ssot000) {
            return Vec::new();
        }
        let mut out = Vec::new();
        for p in problems {
            if !self.filters.is_empty() && !self.filters.iter().any(|f| p.manifest.starts_with(f)) {
                continue;
            }
            let span = p.span.clone().unwrap_or(0..0);
            let (line, column) = match &p.text {
                Some(t) => line_col(t, span.start),
                None => (1, 1),
            };
            let mut f = Finding::new(
                rules::RuleCode::Ssot000,
                "syntax-error",
                // No file of the graph: the finding is at a manifest.
                FileId::new(usize::MAX),
                span.start as u32..span.end as u32,
                p.message.clone(),
            );
            f.file = relative(&self.root, &p.manifest);
            f.line = line;
            f.column = column;
            if let Some(t) = &p.text {
                outcome
                    .sources
                    .entry(f.file.clone())
                    .or_insert_with(|| t.clone());
            }
            outcome
                .abs_paths
                .entry(f.file.clone())
                .or_insert_with(|| p.manifest.clone());
            out.push(f);
        }
        out
    }
}

/// 1-based line and character column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let mut off = offset.min(text.len());
    while off > 0 && !text.is_char_boundary(off) {
        off -= 1;
    }
    let before = &text[..off];
    let line = before.matches('\n').count() as u32 + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0) as u32
        + 1;
    (line, col)
}

pub fn relative(root: &Path, p: &Path) -> String {
    p.strip_prefix(root)
        .unwrap_or(p)
        .to_string_lossy()
        .replace('\\', "/")
}
