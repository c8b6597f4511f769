//! Where users meet the tool: the paths a pre-commit hook passes (each linted in its own
//! workspace), extra output files, the ownership graph, the baseline, `--new-from-rev`,
//! `--exit-zero`. The CLI flattens [`OutputArgs`] into its own arguments.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::engine::{self, LintOptions, Outcome};
use crate::error::Error;
use crate::report::common::{self, Identity};
use crate::report::graph::GraphFormat;
use crate::report::{Context, Format};
use crate::vfs::FileSystem;
use crate::workspace;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MessageFormat {
    /// cargo's JSON messages (`--format rustc-json`); cargo's JSON variants mean the same.
    #[value(
        alias = "json-diagnostic-rendered-ansi",
        alias = "json-diagnostic-short"
    )]
    Json,
    Human,
    Short,
}

#[derive(Debug, Clone, Default, clap::Args)]
pub struct OutputArgs {
    /// As cargo: `--message-format=json` is `--format rustc-json` (rust-analyzer's
    /// `check.overrideCommand`).
    #[arg(long, value_enum, value_name = "FMT")]
    pub message_format: Option<MessageFormat>,
    /// Also write FORMAT to FILE (repeatable): `--output sarif=ssot-lint.sarif`.
    #[arg(long = "output", value_name = "FORMAT=FILE")]
    pub outputs: Vec<String>,
    /// Print the ownership graph of each resource kind (mermaid or dot) and exit.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub graph: Option<GraphFormat>,
    /// Exit 0 even when there are findings (errors still exit 2).
    #[arg(long)]
    pub exit_zero: bool,
    /// Record the current findings in FILE (line-insensitive fingerprints) and exit 0.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Report only findings not recorded in FILE; say how many of its entries are gone.
    ///
    /// An entry is the rule, the path and the flagged line's text (with the index among
    /// identical lines), not its line number: code that moves keeps its entry, but a new line
    /// identical to a recorded one, inserted above it, takes its entry and the old line is
    /// reported instead. Use it where there is no base revision (pre-commit, local runs, a
    /// legacy codebase's first adoption); on pull requests prefer --new-from-rev.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// With --baseline: rewrite FILE without the entries that are gone.
    #[arg(long, requires = "baseline")]
    pub prune_baseline: bool,
    /// Report only findings on lines changed since REV (git; uncommitted changes and
    /// untracked files count as changed).
    ///
    /// Exact where --baseline matches by text: a finding is new when its lines, or for a
    /// competing-pattern finding the line of one of its modules, differ from REV. The choice
    /// for CI on pull requests (REV the base branch; CI needs its history: `fetch-depth: 0`).
    #[arg(long, value_name = "REV")]
    pub new_from_rev: Option<String>,
}

impl OutputArgs {
    /// The format `--message-format` asks for, if any.
    pub fn format(&self) -> Option<Format> {
        self.message_format.map(|m| match m {
            MessageFormat::Json => Format::RustcJson,
            MessageFormat::Human => Format::Human,
            MessageFormat::Short => Format::Short,
        })
    }

    /// Extra outputs, parsed.
    pub fn extra_outputs(&self) -> Result<Vec<(Format, PathBuf)>, Error> {
        use clap::ValueEnum;
        self.outputs
            .iter()
            .map(|o| {
                let (f, file) = o
                    .split_once('=')
                    .ok_or_else(|| Error::Usage(format!("--output `{o}`: expected FORMAT=FILE")))?;
                let format = Format::from_str(f, true)
                    .map_err(|_| Error::Usage(format!("--output `{o}`: unknown format `{f}`")))?;
                Ok((format, PathBuf::from(file)))
            })
            .collect()
    }

    pub fn needs_ownership(&self, format: Format) -> bool {
        self.graph.is_some()
            || format.needs_ownership()
            || self
                .extra_outputs()
                .is_ok_and(|v| v.iter().any(|(f, _)| f.needs_ownership()))
    }
}

/// Lint what the options name. Paths given from a directory are each linted in the
/// workspace that owns them (a nested workspace is linted as itself, not skipped), and a
/// `.rs` file that no package of its workspace contains is an error.
pub fn lint(fs: &dyn FileSystem, opts: &LintOptions) -> Result<Outcome, Error> {
    if opts.paths.is_empty() || opts.start.is_some() || !opts.packages.is_empty() {
        return crate::results::lint(fs, opts);
    }
    let cwd = std::env::current_dir().map_err(|e| Error::Io {
        path: PathBuf::from("."),
        source: e,
    })?;
    // Where output paths are relative to: the workspace around the current directory, or
    // the directory itself when no manifest is at or above it (a monorepo of crates).
    let home = match cwd.ancestors().find(|d| fs.is_file(&d.join("Cargo.toml"))) {
        Some(m) => workspace::discover(fs, m)?.root,
        None => fs.canonicalize(&cwd).unwrap_or(cwd.clone()),
    };
    // Workspace root -> the paths it owns (absolute, canonical).
    let mut groups: BTreeMap<PathBuf, Vec<PathBuf>> = BTreeMap::new();
    let mut roots: HashMap<PathBuf, PathBuf> = HashMap::new();
    for p in &opts.paths {
        let abs = cwd.join(p);
        let abs = fs.canonicalize(&abs).map_err(|e| Error::Io {
            path: p.clone(),
            source: e,
        })?;
        let start = if fs.is_dir(&abs) {
            abs.clone()
        } else {
            abs.parent().map(Path::to_path_buf).unwrap_or(abs.clone())
        };
        let manifest_dir = start
            .ancestors()
            .find(|d| fs.is_file(&d.join("Cargo.toml")));
        let root = if !abs.starts_with(&home) {
            // Outside the workspace here: the engine says so.
            home.clone()
        } else if let Some(m) = manifest_dir {
            // One discovery per package directory, however many of its files are given.
            match roots.get(m) {
                Some(r) => r.clone(),
                None => {
                    let r = workspace::discover(fs, m)?.root;
                    roots.insert(m.to_path_buf(), r.clone());
                    r
                }
            }
        } else if fs.is_dir(&abs) {
            abs.clone()
        } else {
            return Err(no_package(p));
        };
        groups.entry(root).or_default().push(abs);
    }
    let mut merged: Option<Outcome> = None;
    for (root, paths) in groups {
        let o = crate::results::lint(
            fs,
            &LintOptions {
                start: Some(root.clone()),
                paths: paths.clone(),
                // A config named here is read inside the workspace it was named in.
                confine: Some(home.clone()),
                ..opts.clone()
            },
        )?;
        // Every given `.rs` file must be one the workspace checked.
        let files: HashSet<&String> = o.files.iter().collect();
        for p in &paths {
            if fs.is_file(p) && p.extension().is_some_and(|e| e == "rs") {
                let rel = engine::relative(&o.root, p);
                if !files.contains(&rel) {
                    return Err(no_package(p.strip_prefix(&cwd).unwrap_or(p)));
                }
            }
        }
        let o = rebase(o, &home);
        merged = Some(match merged {
            None => o,
            Some(m) => combine(m, o),
        });
    }
    Ok(merged.unwrap_or_default())
}

fn no_package(p: &Path) -> Error {
    Error::Usage(format!(
        "{} belongs to no package (no Cargo.toml above it includes it): nothing would check it",
        p.display()
    ))
}

/// Make an outcome's paths relative to `home` (a nested workspace's findings then read
/// `examples/src/x.rs` from the outer root).
fn rebase(mut o: Outcome, home: &Path) -> Outcome {
    if o.root == home {
        return o;
    }
    let prefix = engine::relative(home, &o.root);
    let join = |f: &str| format!("{prefix}/{f}");
    for f in o.findings.iter_mut().chain(o.suppressed.iter_mut()) {
        f.file = join(&f.file);
        for r in &mut f.related {
            r.file = join(&r.file);
        }
    }
    o.sources = std::mem::take(&mut o.sources)
        .into_iter()
        .map(|(k, v)| (join(&k), v))
        .collect();
    o.abs_paths = std::mem::take(&mut o.abs_paths)
        .into_iter()
        .map(|(k, v)| (join(&k), v))
        .collect();
    o.files = o.files.iter().map(|f| join(f)).collect();
    o.root = home.to_path_buf();
    o
}

/// Merge the outcome of another workspace into `a`. Destructured in full, so that a new
/// field of `Outcome` cannot be forgotten here.
fn combine(mut a: Outcome, b: Outcome) -> Outcome {
    let Outcome {
        root: _,
        findings,
        files_checked,
        lines,
        bytes,
        crates,
        parse_secs,
        check_secs,
        sources,
        found_config_paths,
        files,
        abs_paths,
        notes,
        warnings,
        suppressed,
        ownership,
    } = b;
    a.findings.extend(findings);
    a.findings.sort_by(|x, y| {
        (&x.file, x.line, x.column, x.code).cmp(&(&y.file, y.line, y.column, y.code))
    });
    a.suppressed.extend(suppressed);
    a.files_checked += files_checked;
    a.lines += lines;
    a.bytes += bytes;
    a.crates += crates;
    a.parse_secs += parse_secs;
    a.check_secs += check_secs;
    a.sources.extend(sources);
    a.found_config_paths.extend(found_config_paths);
    a.abs_paths.extend(abs_paths);
    a.files.extend(files);
    a.notes.extend(notes);
    a.warnings.extend(warnings);
    crate::ownership::merge(&mut a.ownership, ownership);
    a
}

/// The printers' context: colour, width, and links to the commit on GitHub Actions.
pub fn context(outcome: &Outcome, color: bool, width: usize) -> Context {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let uri_prefix = env("GITHUB_WORKSPACE")
        .and_then(|w| PathBuf::from(w).canonicalize().ok())
        .and_then(|ws| {
            let root = outcome.root.canonicalize().ok()?;
            let sub = root.strip_prefix(&ws).ok()?;
            (!sub.as_os_str().is_empty()).then(|| sub.to_string_lossy().replace('\\', "/"))
        });
    let link_base = match (
        env("GITHUB_SERVER_URL"),
        env("GITHUB_REPOSITORY"),
        env("GITHUB_SHA"),
    ) {
        (Some(server), Some(repo), Some(sha)) => Some(match &uri_prefix {
            Some(sub) => format!("{server}/{repo}/blob/{sha}/{sub}"),
            None => format!("{server}/{repo}/blob/{sha}"),
        }),
        _ => None,
    };
    Context {
        color,
        width,
        link_base,
        uri_prefix,
        ..Context::default()
    }
}

/// Whether colour is wanted: on a terminal, and never with `NO_COLOR` set (no-color.org).
pub fn color(tty: bool) -> bool {
    tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// A path the user named, from the current directory.
fn named(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    }
}

/// Write a file the user named through the gate: inside the workspace, never through or
/// over a symlink, never into `.git/` (see [`crate::vfs::gate::write`]).
fn write_named(fs: &dyn FileSystem, path: &Path, root: &Path, text: &str) -> Result<(), Error> {
    fs.write_named(&named(path), root, text.as_bytes())
        .map_err(|e| Error::Write {
            path: path.to_path_buf(),
            source: e.into(),
        })
}

/// Read a file the user named through the gate: a regular file inside the workspace, at
/// most `--max-file-size` bytes, never a FIFO or a device.
fn read_named(fs: &dyn FileSystem, path: &Path, root: &Path) -> Result<String, Error> {
    fs.read_utf8(&named(path), Some(root))
        .map_err(|e| Error::Io {
            path: path.to_path_buf(),
            source: e.into(),
        })
}

/// A message about a file's contents, at most [`MAX_MESSAGE`] characters with control
/// characters escaped: a parser's error may quote what it read, and that is printed.
pub fn bounded(message: &str) -> String {
    let mut out = String::new();
    for (i, c) in message.chars().enumerate() {
        if i == MAX_MESSAGE {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// See [`bounded`].
pub const MAX_MESSAGE: usize = 200;

/// `--output FORMAT=FILE`: write each extra format (inside the workspace only).
pub fn write_outputs(
    fs: &dyn FileSystem,
    args: &OutputArgs,
    outcome: &Outcome,
) -> Result<(), Error> {
    for (format, file) in args.extra_outputs()? {
        let ctx = context(outcome, false, 100);
        let text = format.print(outcome, &ctx);
        write_named(fs, &file, &outcome.root, &text)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Baseline

#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Baseline {
    pub version: u32,
    pub tool: String,
    pub entries: Vec<BaselineEntry>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct BaselineEntry {
    #[serde(flatten)]
    pub id: Identity,
    pub fingerprint: String,
    /// For readers of the file; not used to match.
    pub message: String,
}

fn read_baseline(fs: &dyn FileSystem, path: &Path, root: &Path) -> Result<Baseline, Error> {
    let text = read_named(fs, path, root)?;
    let b: Baseline = serde_json::from_str(&text).map_err(|e| {
        Error::Usage(format!(
            "{}: not a baseline: {}",
            path.display(),
            bounded(&e.to_string())
        ))
    })?;
    if b.version != 1 {
        return Err(Error::Usage(format!(
            "{}: baseline version {} (this ssot-lint reads version 1)",
            path.display(),
            b.version
        )));
    }
    Ok(b)
}

fn write_baseline_file(
    fs: &dyn FileSystem,
    path: &Path,
    root: &Path,
    entries: Vec<BaselineEntry>,
) -> Result<(), Error> {
    let b = Baseline {
        version: 1,
        tool: "ssot-lint".into(),
        entries,
    };
    let text = serde_json::to_string_pretty(&b).unwrap_or_default() + "\n";
    write_named(fs, path, root, &text)
}

/// What the baseline did, for the message on stderr.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct BaselineReport {
    pub hidden: usize,
    pub gone: usize,
    pub pruned: bool,
}

/// `--write-baseline`: the number of entries written.
pub fn write_baseline(fs: &dyn FileSystem, path: &Path, outcome: &Outcome) -> Result<usize, Error> {
    let ids = common::Positions::new(outcome).identities(&outcome.findings);
    let entries: Vec<BaselineEntry> = ids
        .into_iter()
        .zip(&outcome.findings)
        .map(|(id, f)| BaselineEntry {
            fingerprint: id.fingerprint(),
            id,
            message: f.message.clone(),
        })
        .collect();
    let n = entries.len();
    write_baseline_file(fs, path, &outcome.root, entries)?;
    Ok(n)
}

/// `--baseline`: drop the findings it records; with `prune`, rewrite it without the gone.
pub fn apply_baseline(
    fs: &dyn FileSystem,
    path: &Path,
    prune: bool,
    outcome: &mut Outcome,
) -> Result<BaselineReport, Error> {
    let b = read_baseline(fs, path, &outcome.root)?;
    let mut known: HashMap<&Identity, usize> = HashMap::new();
    for (i, e) in b.entries.iter().enumerate() {
        known.insert(&e.id, i);
    }
    let ids = common::Positions::new(outcome).identities(&outcome.findings);
    let mut matched: HashSet<usize> = HashSet::new();
    let mut keep = Vec::new();
    for (f, id) in std::mem::take(&mut outcome.findings).into_iter().zip(&ids) {
        match known.get(id) {
            Some(&i) => {
                matched.insert(i);
            }
            None => keep.push(f),
        }
    }
    let report = BaselineReport {
        hidden: matched.len(),
        gone: b.entries.len() - matched.len(),
        pruned: prune,
    };
    outcome.findings = keep;
    if prune {
        let entries = b
            .entries
            .iter()
            .enumerate()
            .filter(|(i, _)| matched.contains(i))
            .map(|(_, e)| e.clone())
            .collect();
        write_baseline_file(fs, path, &outcome.root, entries)?;
    }
    Ok(report)
}

// ---------------------------------------------------------------------------------------
// --new-from-rev

/// Keep the findings on lines changed since `rev` (see [`crate::revision`]): a finding
/// whose flagged lines changed, or, for a competing-pattern finding, one of whose owners
/// (its related locations) is on a changed line. A file the revision does not have, or that
/// cannot be compared, is new on every line. Returns how many findings were hidden.
pub fn new_from_rev(fs: &dyn FileSystem, rev: &str, outcome: &mut Outcome) -> Result<usize, Error> {
    let revision = crate::revision::Revision::open(&outcome.root, rev)?;
    let top = revision.top();
    let top = top.canonicalize().unwrap_or(top.to_path_buf());
    let root = outcome.root.canonicalize().unwrap_or(outcome.root.clone());
    // Every file a finding or a related location is in, with its text as linted (related
    // files that have no finding are read as the linter reads files: inside the root).
    let mut texts: BTreeMap<String, String> = BTreeMap::new();
    for f in &outcome.findings {
        for file in std::iter::once(&f.file).chain(f.related.iter().map(|r| &r.file)) {
            if texts.contains_key(file) {
                continue;
            }
            let text = match outcome.sources.get(file) {
                Some(t) => Some(t.clone()),
                None => fs.read_text(&root.join(file), Some(&root)).ok(),
            };
            if let Some(t) = text {
                texts.insert(file.clone(), t);
            }
        }
    }
    let in_repo = |file: &str| -> Option<String> {
        root.join(file)
            .strip_prefix(&top)
            .ok()
            .map(|p| p.to_string_lossy().replace('\\', "/"))
    };
    let files: Vec<(String, String)> = texts
        .iter()
        .filter_map(|(file, text)| Some((in_repo(file)?, text.clone())))
        .collect();
    let changed = revision.changed_lines(&files)?;
    let is_new = |file: &str, lines: (u32, u32)| -> bool {
        match in_repo(file).and_then(|p| changed.get(&p)) {
            Some(Some(ranges)) => ranges.iter().any(|&(a, b)| a <= lines.1 && lines.0 <= b),
            // Not in the revision, not comparable, or outside the repository: new.
            _ => true,
        }
    };
    let before = outcome.findings.len();
    let at = common::Positions::new(outcome);
    let keep: Vec<bool> = outcome
        .findings
        .iter()
        .map(|f| {
            let r = at.finding(f);
            is_new(&f.file, (r.start.line, r.end.line))
                || f.related.iter().any(|o| is_new(&o.file, (o.line, o.line)))
        })
        .collect();
    let mut keep = keep.into_iter();
    outcome.findings.retain(|_| keep.next().unwrap_or(true));
    Ok(before - outcome.findings.len())
}

/// `--explain CODE --format json`.
pub fn explain_json(r: &crate::rules::RuleInfo) -> String {
    let v = serde_json::json!({
        "code": r.code.as_str(),
        "name": r.name,
        "summary": r.summary,
        "fix": r.fix,
        "fixable": r.fix.is_some(),
        "severity": r.severity.as_str(),
        "url": common::rules_uri(),
        "explanation": r.doc.trim(),
    });
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}
