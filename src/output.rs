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
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// With --baseline: rewrite FILE without the entries that are gone.
    #[arg(long, requires = "baseline")]
    pub prune_baseline: bool,
    /// Report only findings on lines changed since REV (git; uncommitted changes and
    /// untracked files count as changed).
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

/// `--output FORMAT=FILE`: write each extra format.
pub fn write_outputs(args: &OutputArgs, outcome: &Outcome) -> Result<(), Error> {
    for (format, file) in args.extra_outputs()? {
        let ctx = context(outcome, false, 100);
        let text = format.printer().print(outcome, &ctx);
        std::fs::write(&file, text).map_err(|e| Error::Io {
            path: file.clone(),
            source: e,
        })?;
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

fn read_baseline(path: &Path) -> Result<Baseline, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let b: Baseline = serde_json::from_str(&text)
        .map_err(|e| Error::Usage(format!("{}: not a baseline: {e}", path.display())))?;
    if b.version != 1 {
        return Err(Error::Usage(format!(
            "{}: baseline version {} (this ssot-lint reads version 1)",
            path.display(),
            b.version
        )));
    }
    Ok(b)
}

fn write_baseline_file(path: &Path, entries: Vec<BaselineEntry>) -> Result<(), Error> {
    let b = Baseline {
        version: 1,
        tool: "ssot-lint".into(),
        entries,
    };
    let text = serde_json::to_string_pretty(&b).unwrap_or_default() + "\n";
    std::fs::write(path, text).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })
}

/// What the baseline did, for the message on stderr.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct BaselineReport {
    pub hidden: usize,
    pub gone: usize,
    pub pruned: bool,
}

/// `--write-baseline`: the number of entries written.
pub fn write_baseline(path: &Path, outcome: &Outcome) -> Result<usize, Error> {
    let ids = common::identities(outcome, &outcome.findings);
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
    write_baseline_file(path, entries)?;
    Ok(n)
}

/// `--baseline`: drop the findings it records; with `prune`, rewrite it without the gone.
pub fn apply_baseline(
    path: &Path,
    prune: bool,
    outcome: &mut Outcome,
) -> Result<BaselineReport, Error> {
    let b = read_baseline(path)?;
    let mut known: HashMap<&Identity, usize> = HashMap::new();
    for (i, e) in b.entries.iter().enumerate() {
        known.insert(&e.id, i);
    }
    let ids = common::identities(outcome, &outcome.findings);
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
        write_baseline_file(path, entries)?;
    }
    Ok(report)
}

// ---------------------------------------------------------------------------------------
// --new-from-rev

fn git(dir: &Path, args: &[&str]) -> Result<String, Error> {
    let o = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "core.quotePath=false"])
        .args(args)
        .output()
        .map_err(|e| Error::Usage(format!("--new-from-rev needs git: {e}")))?;
    if !o.status.success() {
        return Err(Error::Usage(format!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&o.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&o.stdout).into_owned())
}

/// What changed since a revision, by repository-relative path.
pub struct Changes {
    /// The repository's top directory.
    pub top: PathBuf,
    /// Added or changed line ranges (inclusive) of each file.
    pub lines: HashMap<String, Vec<(u32, u32)>>,
    /// Untracked files: every line counts as new.
    pub untracked: HashSet<String>,
}

/// The lines changed since `rev` (the working tree against it), and the untracked files.
pub fn changed_lines(dir: &Path, rev: &str) -> Result<Changes, Error> {
    if rev.starts_with('-') {
        return Err(Error::Usage(format!(
            "--new-from-rev: `{rev}` is not a revision"
        )));
    }
    let top = PathBuf::from(git(dir, &["rev-parse", "--show-toplevel"])?.trim_end());
    git(
        &top,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ],
    )?;
    let diff = git(
        &top,
        &["diff", "--no-color", "--no-ext-diff", "-U0", rev, "--"],
    )?;
    let mut changed: HashMap<String, Vec<(u32, u32)>> = HashMap::new();
    let mut current: Option<String> = None;
    for line in diff.lines() {
        if let Some(p) = line.strip_prefix("+++ ") {
            current = p.strip_prefix("b/").map(str::to_string);
        } else if let (Some(h), Some(file)) = (line.strip_prefix("@@ "), &current) {
            // @@ -a,b +c,d @@
            let Some(plus) = h.split(' ').find(|t| t.starts_with('+')) else {
                continue;
            };
            let mut it = plus[1..].split(',');
            let start: u32 = it.next().and_then(|x| x.parse().ok()).unwrap_or(0);
            let count: u32 = it.next().and_then(|x| x.parse().ok()).unwrap_or(1);
            if count > 0 {
                changed
                    .entry(file.clone())
                    .or_default()
                    .push((start, start + count - 1));
            }
        }
    }
    let untracked = git(&top, &["ls-files", "--others", "--exclude-standard", "-z"])?
        .split('\0')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    Ok(Changes {
        top,
        lines: changed,
        untracked,
    })
}

/// Keep the findings on lines changed since `rev`.
pub fn new_from_rev(rev: &str, outcome: &mut Outcome) -> Result<usize, Error> {
    let Changes {
        top,
        lines: changed,
        untracked,
    } = changed_lines(&outcome.root, rev)?;
    let top = top.canonicalize().unwrap_or(top);
    let root = outcome.root.canonicalize().unwrap_or(outcome.root.clone());
    let before = outcome.findings.len();
    let findings = std::mem::take(&mut outcome.findings);
    outcome.findings = findings
        .into_iter()
        .filter(|f| {
            let abs = root.join(&f.file);
            let rel = engine::relative(&top, &abs);
            if untracked.contains(&rel) {
                return true;
            }
            let r = common::finding_region(outcome, f);
            changed.get(&rel).is_some_and(|ranges| {
                ranges
                    .iter()
                    .any(|&(a, b)| a <= r.end.line && r.start.line <= b)
            })
        })
        .collect();
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
        "url": common::help_uri(r.code.as_str()),
        "explanation": r.doc.trim(),
    });
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}
