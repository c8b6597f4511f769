//! Runs the pipeline over what the command line names.

use std::path::{Path, PathBuf};

use crate::config;
use crate::crates;
use crate::diagnostic::{Finding, Related};
use crate::error::Error;
use crate::lines::LineIndex;
use crate::packs::PackIndex;
use crate::rules;
use crate::semantic::Model;
use crate::workspace;
use rayon::prelude::*;

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
    /// Texts that replace files on disk (absolute paths), for the fixer's passes.
    pub overlay: crates::Overlay,
    /// Also collect who constructs, holds, initializes or re-exports each resource kind
    /// (for `--graph` and the markdown summary).
    pub ownership: bool,
    /// Parse every file instead of only those that can matter (see `prefilter`): slower,
    /// the same output.
    pub no_prefilter: bool,
    /// Read and write the cache under the root: whole units' results (see `results`) and
    /// per-file summaries (see `cache`).
    pub cache: bool,
}

#[derive(Debug, Default)]
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

pub fn lint(opts: &LintOptions) -> Result<Outcome, Error> {
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
    } = workspace::discover(&start)?;
    // Tests change the tree here: a file deleted or replaced between discovery and read.
    #[cfg(test)]
    crate::race_tests::after_discovery();
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
        .map(|p| match p.canonicalize() {
            Ok(c) if c.starts_with(&root) => Ok(c),
            Ok(_) => Err(Error::Usage(format!(
                "{} is outside {}",
                p.display(),
                root.display()
            ))),
            Err(e) => Err(Error::Io { path: p, source: e }),
        })
        .collect::<Result<_, _>>()?;
    // A config at the scan root applies to every unit below it.
    let shared = root.join("ssot-lint.toml");
    let root_config = match opts.config.clone() {
        Some(c) => Some(c),
        None if (units.len() > 1 || units[0].root != root) && shared.symlink_metadata().is_ok() => {
            // Found, not named: it must be a regular file inside the root.
            crate::safety::check(&shared, Some(&root)).map_err(|e| Error::Io {
                path: shared.clone(),
                source: e.into(),
            })?;
            Some(shared)
        }
        None => None,
    };
    let builtin = std::sync::Arc::new(PackIndex::builtin()?);
    let multi_unit = units.len() > 1;
    let cache = if opts.cache {
        crate::cache::Cache::open(&root)
    } else {
        crate::cache::Cache::off()
    };
    // Whole units' outcomes (see `results`); not for the fixer's passes over texts in memory.
    let unit_results = (opts.cache && opts.overlay.is_empty()).then(|| {
        let what_changes_a_result = format!(
            "{:?}",
            (
                &opts.select,
                &opts.ignore,
                &opts.packages,
                &filters,
                opts.ownership,
                opts.no_prefilter,
                &root_config,
                multi_unit,
            )
        );
        crate::results::Results::open(&root, &what_changes_a_result)
    });
    let ctx = UnitCtx {
        results: unit_results.as_ref(),
        cache: &cache,
        root: &root,
        opts,
        root_config: root_config.as_deref(),
        builtin: &builtin,
        filters: &filters,
        multi_unit,
        selection: &selection,
    };
    // Units (independent workspaces and packages) are linted in parallel; results are
    // merged in discovery order, so the output does not depend on scheduling.
    let results: Vec<Result<Option<Outcome>, Error>> = units
        .into_par_iter()
        .map(|unit| lint_unit(&ctx, unit))
        .collect();
    let mut outcome = Outcome {
        root: root.clone(),
        warnings,
        ..Default::default()
    };
    for r in results {
        let Some(u) = r? else { continue };
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
    if let Some(r) = unit_results {
        outcome.notes.extend(r.save());
    }
    outcome.notes.extend(cache.save());
    // A config shared by every unit of a scan: each module path must exist in one of them.
    if let (Some(path), true) = (root_config.as_deref(), multi_unit) {
        let mut packs = builtin.clone();
        let cfg = config::load(&root, Some(path), &mut packs)?;
        for p in cfg.all_module_paths() {
            if !outcome.found_config_paths.contains(&p.text) {
                return Err(cfg.error(
                    p.span.clone(),
                    format!(
                        "module `{}` does not exist in any crate below {}",
                        p.text,
                        root.display()
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

struct UnitCtx<'a> {
    root: &'a Path,
    opts: &'a LintOptions,
    root_config: Option<&'a Path>,
    builtin: &'a std::sync::Arc<PackIndex>,
    filters: &'a [PathBuf],
    multi_unit: bool,
    selection: &'a rules::Selection,
    cache: &'a crate::cache::Cache,
    results: Option<&'a crate::results::Results>,
}

/// Lint one unit; `None` when `-p` filtered all of its packages out.
fn lint_unit(ctx: &UnitCtx, mut unit: workspace::Unit) -> Result<Option<Outcome>, Error> {
    let opts = ctx.opts;
    if !opts.packages.is_empty() {
        let before = unit.packages.len();
        unit.packages
            .retain(|p| opts.packages.iter().any(|n| n == &p.name));
        if unit.packages.is_empty() && before > 0 {
            return Ok(None);
        }
    }
    let key = ctx.results.map(|r| r.key(&unit));
    if let (Some(r), Some(key)) = (ctx.results, key)
        && let Some(o) = r.get(&unit.root, key)
    {
        crate::progress::unit_done(o.files_checked);
        return Ok(Some(o));
    }
    // What the config comes from, stamped before it is read.
    let mut fs_deps: Vec<crate::results::FsDep> = Vec::new();
    if ctx.results.is_some() {
        let named = ctx.root_config.map(Path::to_path_buf);
        for p in named.into_iter().chain([
            unit.root.join("ssot-lint.toml"),
            unit.root.join("Cargo.toml"),
        ]) {
            let st = crate::results::stamp(&p);
            fs_deps.push((p, st, crate::results::Content::Stamp));
        }
    }
    let mut outcome = Outcome {
        warnings: std::mem::take(&mut unit.warnings),
        ..Default::default()
    };
    let mut packs = ctx.builtin.clone();
    let cfg = config::load(&unit.root, ctx.root_config, &mut packs)?;
    let t0 = std::time::Instant::now();
    let mut forced = std::collections::HashSet::new();
    let build = |forced: &std::collections::HashSet<PathBuf>, prefilter: bool| {
        crate::prefilter::build(
            &unit,
            ctx.root,
            &opts.overlay,
            &packs,
            &cfg,
            prefilter,
            ctx.cache,
            forced,
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
    let shared_config = ctx.root_config.is_some() && ctx.multi_unit;
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
    let mut findings = rules::run(&mut model, ctx.selection);
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
    let mut need: Vec<usize> = findings.iter().map(|f| f.file_id).collect();
    need.extend(
        graph
            .files
            .iter()
            .enumerate()
            .filter(|(_, f)| !f.summary.suppressions.is_empty())
            .map(|(i, _)| i),
    );
    for f in &findings {
        need.extend(f.related_spans.iter().map(|r| r.0));
    }
    need.sort();
    need.dedup();
    let mut texts: std::collections::HashMap<usize, String> = std::collections::HashMap::new();
    let mut indexes: std::collections::HashMap<usize, LineIndex> = std::collections::HashMap::new();
    for fid in need {
        let t = crates::read_source(&opts.overlay, ctx.root, &graph.files[fid].path)
            .unwrap_or_default();
        indexes.insert(fid, LineIndex::new(&t));
        texts.insert(fid, t);
    }
    let empty = LineIndex::default();
    let at = |fid: usize, off: u32| {
        let text = texts.get(&fid).map(String::as_str).unwrap_or("");
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
        selection: ctx.selection,
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
    if !ctx.filters.is_empty() {
        outcome.suppressed.retain(|f| {
            ctx.filters
                .iter()
                .any(|p| graph.files[f.file_id].path.starts_with(p))
        });
        findings.retain(|f| {
            ctx.filters
                .iter()
                .any(|p| graph.files[f.file_id].path.starts_with(p))
        });
    }
    for f in findings.iter().chain(&outcome.suppressed) {
        if let Some(t) = texts.get(&f.file_id) {
            outcome
                .sources
                .entry(f.file.clone())
                .or_insert_with(|| t.clone());
        }
        outcome
            .abs_paths
            .entry(f.file.clone())
            .or_insert_with(|| graph.files[f.file_id].path.clone());
    }
    outcome.findings = findings;
    if let (Some(r), Some(key)) = (ctx.results, key) {
        fs_deps.extend(graph.fs_deps.iter().cloned());
        fs_deps.extend(graph.files.iter().filter_map(|f| {
            f.stamp
                .map(|(st, hash)| (f.path.clone(), st, crate::results::Content::Text(hash)))
        }));
        r.put(&unit.root, key, fs_deps, &outcome);
    }
    Ok(Some(outcome))
}
