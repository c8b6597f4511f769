//! The fix stage: apply the findings' fixes as byte-range edits, pass after pass, in memory;
//! then write each changed file once, atomically (or print a unified diff).
//!
//! A pass lints with the texts fixed so far as an overlay, takes per file the fixes at or
//! above the requested applicability in a deterministic order, skips a fix that overlaps one
//! already taken, and applies the taken edits in reverse order. A file whose pass gains a
//! syntax error keeps its text from before that pass and gets no further fixes. Passes
//! repeat until nothing applies (at most [`MAX_PASSES`]); fixes that still apply after the
//! cap are an error naming their rules, and nothing is written.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::diagnostic::{Applicability, Edit, Finding, Fix};
use crate::engine::LintOptions;
use crate::error::Error;
use crate::results::lint;
use crate::vfs::{FileSystem, Overlay};

/// Passes before fixes that keep applying are reported as not converging.
pub const MAX_PASSES: usize = 10;

/// Write the fixed files, or only print what would change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixMode {
    Write,
    Diff,
}

#[derive(Debug, Clone)]
pub struct FixOptions {
    /// The least applicability applied: `Safe` (`--fix`) or `Unsafe` (`--unsafe-fixes`).
    pub level: Applicability,
    pub mode: FixMode,
    /// Write even where git reports uncommitted changes to the files to fix.
    pub allow_dirty: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum FixError {
    #[error(transparent)]
    Lint(#[from] Error),
    #[error(
        "fixes did not converge after {passes} passes: {} still apply in {}; nothing was written (this is a bug in the rule's fix)",
        rules.join(", "),
        files.join(", ")
    )]
    NotConverged {
        passes: usize,
        rules: Vec<String>,
        files: Vec<String>,
    },
    #[error(
        "uncommitted changes to files that --fix would touch:\n{}\ncommit or stash them, or pass --allow-dirty to fix them anyway",
        files.iter().map(|f| format!("  {f}")).collect::<Vec<_>>().join("\n")
    )]
    DirtyTree { files: Vec<String> },
    #[error(
        "cannot tell whether the files --fix would touch have uncommitted changes ({why}); nothing was written; pass --allow-dirty to fix them anyway"
    )]
    CannotTell { why: String },
    #[error(
        "--fix writes only Rust sources, regular files inside the workspace and its repository and not in .git/; these are not:\n{}\nnothing was written",
        files.iter().map(|f| format!("  {f}")).collect::<Vec<_>>().join("\n")
    )]
    Outside { files: Vec<String> },
}

/// One file that the fixes change.
#[derive(Debug, Clone)]
pub struct FileFix {
    /// Relative to [`FixReport::root`], `/` separators.
    pub file: String,
    pub path: PathBuf,
    pub before: String,
    pub after: String,
    /// Fixes applied (one per finding).
    pub fixes: usize,
    pub rules: BTreeSet<&'static str>,
    /// Written to disk (always false in [`FixMode::Diff`]).
    pub written: bool,
}

#[derive(Debug, Default)]
pub struct FixReport {
    pub root: PathBuf,
    /// Files whose text the fixes change, by relative path.
    pub files: Vec<FileFix>,
    /// Fixes not applied, files left as they were (a fix that would break the syntax, a
    /// file that is not UTF-8 or changed during the run).
    pub warnings: Vec<String>,
    /// Files that could not be written; the others were.
    pub write_errors: Vec<String>,
    /// Passes that applied something.
    pub passes: usize,
}

impl FixReport {
    /// Findings fixed: in written files, or in all changed files for `--diff`.
    pub fn fixed_findings(&self, mode: FixMode) -> usize {
        self.counted(mode).map(|f| f.fixes).sum()
    }

    pub fn fixed_files(&self, mode: FixMode) -> usize {
        self.counted(mode).count()
    }

    fn counted(&self, mode: FixMode) -> impl Iterator<Item = &FileFix> {
        self.files
            .iter()
            .filter(move |f| mode == FixMode::Diff || f.written)
    }

    /// A unified diff of every changed file, `--- a/path` / `+++ b/path`.
    pub fn diff(&self) -> String {
        let mut s = String::new();
        for f in &self.files {
            let d = similar::TextDiff::from_lines(&f.before, &f.after);
            // The name on one line, whatever it holds (see `escape`).
            let file = crate::escape::text(&f.file);
            s.push_str(
                &d.unified_diff()
                    .context_radius(3)
                    .header(&format!("a/{file}"), &format!("b/{file}"))
                    .to_string(),
            );
        }
        s
    }
}

/// `fixed 3 findings in 2 files`, with singulars.
pub fn summary_line(verb: &str, findings: usize, files: usize) -> String {
    let plural = |n: usize, w: &str| {
        if n == 1 {
            format!("1 {w}")
        } else {
            format!("{n} {w}s")
        }
    };
    format!(
        "{verb} {} in {}",
        plural(findings, "finding"),
        plural(files, "file")
    )
}

struct FileState {
    path: PathBuf,
    original: String,
    current: String,
    fixes: usize,
    rules: BTreeSet<&'static str>,
    /// No more fixes for this file (a pass broke its syntax, or it cannot be fixed at all).
    frozen: bool,
    /// Syntax errors of `current`, computed when first needed.
    errors: Option<usize>,
    /// Other paths the lint reads this file by (a symlink and its target).
    aliases: Vec<PathBuf>,
}

/// Lint through `fs`, fix in memory until nothing applies (each pass reads the texts
/// fixed so far through an overlay over `fs`), then write to disk (or not, for `--diff`).
pub fn fix(
    fs: &dyn FileSystem,
    lint_opts: &LintOptions,
    opts: &FixOptions,
) -> Result<FixReport, FixError> {
    let mut report = FixReport::default();
    let mut states: BTreeMap<String, FileState> = BTreeMap::new();
    // Canonical path -> the relative path whose state stands for that file.
    let mut owners: HashMap<PathBuf, String> = HashMap::new();
    let mut fixed = Overlay::new(fs);
    loop {
        let outcome = lint(&fixed, lint_opts)?;
        report.root = outcome.root.clone();
        let mut by_file: BTreeMap<&str, Vec<(&Finding, &Fix)>> = BTreeMap::new();
        for f in &outcome.findings {
            if let Some(fx) = &f.fix
                && fx.applicability >= opts.level
                && !fx.edits.is_empty()
            {
                by_file.entry(f.file.as_str()).or_default().push((f, fx));
            }
        }
        // Compute the whole pass first: past the cap it is only evidence for the error.
        let mut pass: Vec<(String, String, Vec<&'static str>)> = Vec::new();
        for (rel, fixes) in by_file {
            if !states.contains_key(rel) {
                let state = match init_state(fs, rel, &outcome) {
                    Ok(s) => s,
                    Err(w) => {
                        report.warnings.push(w);
                        states.insert(rel.to_string(), frozen_state(rel, &outcome));
                        continue;
                    }
                };
                let canonical = fs.canonicalize(&state.path).unwrap_or(state.path.clone());
                if let Some(owner) = owners.get(&canonical).and_then(|o| states.get_mut(o)) {
                    // The same file under a second name: its fixes are the owner's.
                    owner.aliases.push(state.path.clone());
                    if owner.current != owner.original {
                        fixed.insert(&state.path, owner.current.clone());
                    }
                    states.insert(rel.to_string(), frozen_state(rel, &outcome));
                    continue;
                }
                owners.insert(canonical, rel.to_string());
                states.insert(rel.to_string(), state);
            }
            let Some(state) = states.get_mut(rel) else {
                continue;
            };
            if state.frozen {
                continue;
            }
            if outcome
                .sources
                .get(rel)
                .is_some_and(|seen| *seen != state.current)
            {
                // The lint saw another text than ours: its offsets do not apply.
                report
                    .warnings
                    .push(format!("{rel} changed on disk during the run; not fixed"));
                state.frozen = true;
                continue;
            }
            let (text, taken) = apply_pass(&state.current, fixes);
            if !taken.is_empty() {
                pass.push((rel.to_string(), text, taken));
            }
        }
        if pass.is_empty() {
            break;
        }
        if report.passes == MAX_PASSES {
            let rules: BTreeSet<&str> = pass.iter().flat_map(|p| p.2.iter().copied()).collect();
            return Err(FixError::NotConverged {
                passes: MAX_PASSES,
                rules: rules.into_iter().map(String::from).collect(),
                files: pass.into_iter().map(|p| p.0).collect(),
            });
        }
        report.passes += 1;
        for (rel, text, taken) in pass {
            let Some(state) = states.get_mut(&rel) else {
                continue;
            };
            if let Err(w) = commit_pass(state, &rel, text, taken) {
                report.warnings.push(w);
                continue;
            }
            for p in std::iter::once(&state.path).chain(&state.aliases) {
                fixed.insert(p, state.current.clone());
            }
        }
    }
    report.files = states
        .into_iter()
        .filter(|(_, s)| s.current != s.original)
        .map(|(file, s)| FileFix {
            file,
            path: s.path,
            before: s.original,
            after: s.current,
            fixes: s.fixes,
            rules: s.rules,
            written: false,
        })
        .collect();
    if opts.mode == FixMode::Diff || report.files.is_empty() {
        return Ok(report);
    }
    // Only Rust sources, regular files inside the root (and the repository) and never in
    // `.git/`, are ever written, whatever the findings say.
    let repo = git_toplevel(&report.root);
    let outside: Vec<String> = report
        .files
        .iter()
        .filter(|f| {
            let inside = |dir: &Path| crate::vfs::gate::check(&f.path, Some(dir)).is_ok();
            let real = crate::vfs::gate::check(&f.path, Some(&report.root));
            let source = real.as_ref().is_ok_and(|r| {
                r.extension().is_some_and(|e| e == "rs")
                    && r.strip_prefix(&report.root)
                        .is_ok_and(|rel| !crate::vfs::gate::in_git_dir(rel))
            });
            !source || matches!(&repo, Ok(Some(top)) if !inside(top))
        })
        .map(|f| f.file.clone())
        .collect();
    if !outside.is_empty() {
        return Err(FixError::Outside { files: outside });
    }
    if !opts.allow_dirty {
        let paths: Vec<&Path> = report.files.iter().map(|f| f.path.as_path()).collect();
        let dirty = match &repo {
            Ok(Some(top)) => {
                dirty_files(top, &paths).map_err(|why| FixError::CannotTell { why: why.clone() })?
            }
            // Not in a git work tree: nothing to compare with.
            Ok(None) => Vec::new(),
            Err(why) => return Err(FixError::CannotTell { why: why.clone() }),
        };
        if !dirty.is_empty() {
            return Err(FixError::DirtyTree { files: dirty });
        }
    }
    // A view with texts of its own (an overlay) has none on disk to compare with.
    let check_disk = fs.stamps();
    let mut dirs = BTreeSet::new();
    for f in report.files.iter_mut() {
        match write_atomically(&f.path, check_disk.then_some(f.before.as_str()), &f.after) {
            Ok(dir) => {
                f.written = true;
                dirs.insert(dir);
            }
            Err(e) => report
                .write_errors
                .push(format!("cannot write {}: {e}; left unchanged", f.file)),
        }
    }
    // Make the renames durable; not every platform can open a directory.
    for d in dirs {
        if let Ok(d) = std::fs::File::open(d) {
            let _ = d.sync_all();
        }
    }
    Ok(report)
}

/// Take a pass's text for a file unless it has more syntax errors than the text before;
/// then the file keeps its text, gets no more fixes, and the warning says why.
fn commit_pass(
    state: &mut FileState,
    rel: &str,
    text: String,
    taken: Vec<&'static str>,
) -> Result<(), String> {
    let before = *state
        .errors
        .get_or_insert_with(|| syntax_errors(&state.current));
    let after = syntax_errors(&text);
    if after > before {
        let codes: BTreeSet<&str> = taken.iter().copied().collect();
        let codes: Vec<&str> = codes.into_iter().collect();
        state.frozen = true;
        return Err(format!(
            "fix for {} would make {rel} unparsable; {}",
            codes.join(", "),
            if state.fixes == 0 {
                "left unchanged"
            } else {
                "its earlier fixes are kept, no more are applied"
            }
        ));
    }
    state.errors = Some(after);
    state.fixes += taken.len();
    state.rules.extend(taken);
    state.current = text;
    Ok(())
}

fn frozen_state(rel: &str, outcome: &crate::engine::Outcome) -> FileState {
    let text = outcome.sources.get(rel).cloned().unwrap_or_default();
    FileState {
        path: outcome.abs_paths.get(rel).cloned().unwrap_or_default(),
        original: text.clone(),
        current: text,
        fixes: 0,
        rules: BTreeSet::new(),
        frozen: true,
        errors: None,
        aliases: Vec::new(),
    }
}

/// The file's text as the first pass saw it; bytes that are not UTF-8 are not fixed (the
/// lint reads them lossily, and writing that back would lose bytes).
fn init_state(
    fs: &dyn FileSystem,
    rel: &str,
    outcome: &crate::engine::Outcome,
) -> Result<FileState, String> {
    let path = outcome
        .abs_paths
        .get(rel)
        .cloned()
        .ok_or_else(|| format!("{rel}: no path known; not fixed"))?;
    let bytes = fs
        .read(&path, Some(&outcome.root))
        .map_err(|e| format!("cannot read {rel}: {e}"))?;
    let text =
        String::from_utf8(bytes).map_err(|_| format!("{rel} is not valid UTF-8; not fixed"))?;
    if outcome.sources.get(rel).is_some_and(|seen| *seen != text) {
        return Err(format!("{rel} changed on disk during the run; not fixed"));
    }
    Ok(FileState {
        path,
        original: text.clone(),
        current: text,
        fixes: 0,
        rules: BTreeSet::new(),
        frozen: false,
        errors: None,
        aliases: Vec::new(),
    })
}

/// Sorted edits of a fix, or `None` when they do not fit `text` (out of range, not on a
/// character boundary, overlapping): such a fix is not applied.
fn valid_edits<'a>(text: &str, fix: &'a Fix) -> Option<Vec<&'a Edit>> {
    let mut edits: Vec<&Edit> = fix.edits.iter().collect();
    edits.sort_by_key(|e| (e.range.start, e.range.end));
    let mut last_end = 0usize;
    for (i, e) in edits.iter().enumerate() {
        let (s, t) = (e.range.start as usize, e.range.end as usize);
        if s > t || t > text.len() || !text.is_char_boundary(s) || !text.is_char_boundary(t) {
            return None;
        }
        if i > 0 && s < last_end {
            return None;
        }
        last_end = t;
    }
    Some(edits)
}

/// Two edits conflict when their ranges overlap, or when one is an insertion at a point
/// the other touches (their order would be a guess).
fn conflicts(a: &Edit, b: &Edit) -> bool {
    let (a0, a1, b0, b1) = (a.range.start, a.range.end, b.range.start, b.range.end);
    let lo = a0.max(b0);
    let hi = a1.min(b1);
    lo < hi || ((a0 == a1 || b0 == b1) && lo <= hi)
}

/// One pass over one file: the text with every non-overlapping fix applied, and the rule
/// codes of the fixes taken (one per finding).
fn apply_pass(text: &str, mut fixes: Vec<(&Finding, &Fix)>) -> (String, Vec<&'static str>) {
    let first = |fx: &Fix| {
        fx.edits
            .iter()
            .map(|e| (e.range.start, e.range.end))
            .min()
            .unwrap_or_default()
    };
    fixes.sort_by(|(fa, xa), (fb, xb)| {
        (first(xa), fa.code, xa.title.as_str()).cmp(&(first(xb), fb.code, xb.title.as_str()))
    });
    // A fix whose every edit lies inside an edit of another (or is one of its edits) is
    // part of that larger rewrite, which is taken whatever the order: SSOT004 retiring a
    // legacy manager rewrites the method where SSOT001 would replace the construction.
    let inside = |outer: &Fix, inner: &Fix| {
        inner.edits.iter().all(|e| {
            outer.edits.iter().any(|o| {
                o.range.start <= e.range.start
                    && e.range.end <= o.range.end
                    && (o.range != e.range || o.content == e.content)
            })
        })
    };
    let subsumed: Vec<bool> = (0..fixes.len())
        .map(|i| {
            (0..fixes.len()).any(|j| {
                j != i
                    && inside(fixes[j].1, fixes[i].1)
                    && (j < i || !inside(fixes[i].1, fixes[j].1))
            })
        })
        .collect();
    let mut taken_edits: Vec<&Edit> = Vec::new();
    let mut codes = Vec::new();
    for (_, (finding, fx)) in fixes.into_iter().enumerate().filter(|(i, _)| !subsumed[*i]) {
        let Some(edits) = valid_edits(text, fx) else {
            continue;
        };
        if edits
            .iter()
            .any(|e| taken_edits.iter().any(|t| conflicts(e, t)))
        {
            continue;
        }
        taken_edits.extend(edits);
        codes.push(finding.code.as_str());
    }
    // Reverse order keeps the earlier offsets valid.
    taken_edits.sort_by_key(|e| std::cmp::Reverse((e.range.start, e.range.end)));
    let mut out = text.to_string();
    for e in taken_edits {
        out.replace_range(e.range.start as usize..e.range.end as usize, &e.content);
    }
    (out, codes)
}

/// Syntax errors of a text; editions differ little for this comparison, 2021 is used.
pub fn syntax_errors(text: &str) -> usize {
    if crate::parse::depth::source_too_deep(text).is_some() {
        return usize::MAX;
    }
    let _turn = crate::parse::depth::large_parse_turn(text.len());
    ra_ap_syntax::SourceFile::parse(text, ra_ap_syntax::Edition::Edition2021)
        .errors()
        .len()
}

/// The real path of the git work tree `root` is in; `None` when git says it is in none;
/// an error when git cannot be run or fails otherwise ("cannot tell").
fn git_toplevel(root: &Path) -> Result<Option<PathBuf>, String> {
    let o = Command::new("git")
        .args(["rev-parse", "--show-toplevel"])
        .current_dir(root)
        .output()
        .map_err(|e| format!("git cannot be run: {e}"))?;
    if o.status.success() {
        let top = String::from_utf8_lossy(&o.stdout).trim_end().to_string();
        let top = PathBuf::from(top);
        return top
            .canonicalize()
            .map(Some)
            .map_err(|e| format!("git work tree {}: {e}", top.display()));
    }
    let err = String::from_utf8_lossy(&o.stderr);
    if err.contains("not a git repository") {
        return Ok(None);
    }
    Err(format!(
        "git rev-parse failed: {}",
        err.lines().next().unwrap_or("no message")
    ))
}

/// Lines of `git status --porcelain` for these files (empty when clean); any failure of
/// git is an error, never "clean".
fn dirty_files(top: &Path, files: &[&Path]) -> Result<Vec<String>, String> {
    let o = Command::new("git")
        .arg("status")
        .arg("--porcelain")
        .arg("--")
        .args(files)
        .current_dir(top)
        .output()
        .map_err(|e| format!("git cannot be run: {e}"))?;
    if !o.status.success() {
        let err = String::from_utf8_lossy(&o.stderr);
        return Err(format!(
            "git status failed: {}",
            err.lines().next().unwrap_or("no message")
        ));
    }
    Ok(String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect())
}

/// Replace `path` with `text` via a temp file in the same directory and a rename, keeping
/// its permissions: a reader (or a crash) sees the old file or the new one, never a mix.
/// A read-only file, or one whose bytes are no longer `expected` (edited meanwhile), is
/// left alone. Returns the directory, to be synced once all files are written.
fn write_atomically(path: &Path, expected: Option<&str>, text: &str) -> std::io::Result<PathBuf> {
    // Write through a symlink, not over it; only a regular file.
    let path = std::fs::canonicalize(path)?;
    let meta = std::fs::metadata(&path)?;
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let perms = meta.permissions();
    if perms.readonly() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "the file is read-only",
        ));
    }
    if let Some(expected) = expected
        && std::fs::read(&path)? != expected.as_bytes()
    {
        return Err(std::io::Error::other(
            "it changed on disk while fixing; not overwritten",
        ));
    }
    let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let mut tmp = tempfile::Builder::new()
        .prefix(".ssot-lint-")
        .suffix(".tmp")
        .tempfile_in(&dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().set_permissions(perms)?;
    tmp.as_file().sync_all()?;
    tmp.persist(&path).map_err(|e| e.error)?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(s: u32, e: u32, c: &str) -> Edit {
        Edit {
            range: s..e,
            content: c.into(),
        }
    }

    fn fix_of(edits: Vec<Edit>) -> Fix {
        Fix {
            title: "t".into(),
            applicability: Applicability::Safe,
            edits,
        }
    }

    fn finding(code: crate::rules::RuleCode) -> Finding {
        Finding::new(code, "n", crate::ids::FileId::new(0), 0..0, String::new())
    }

    #[test]
    fn applies_in_reverse_and_skips_overlaps() {
        let text = "abcdefghij";
        use crate::rules::RuleCode;
        let f1 = finding(RuleCode::Ssot001);
        let f2 = finding(RuleCode::Ssot002);
        let f3 = finding(RuleCode::Ssot003);
        let x1 = fix_of(vec![edit(0, 2, "XY"), edit(5, 6, "")]);
        let x2 = fix_of(vec![edit(1, 3, "!")]); // overlaps x1
        let x3 = fix_of(vec![edit(8, 8, "++")]);
        let (out, codes) = apply_pass(text, vec![(&f3, &x3), (&f2, &x2), (&f1, &x1)]);
        assert_eq!(out, "XYcdegh++ij");
        assert_eq!(codes, vec!["SSOT001", "SSOT003"]);
    }

    #[test]
    fn insertions_at_one_point_conflict() {
        assert!(conflicts(&edit(3, 3, "a"), &edit(3, 3, "b")));
        assert!(conflicts(&edit(3, 3, "a"), &edit(1, 3, "b")));
        assert!(!conflicts(&edit(1, 3, "a"), &edit(3, 5, "b")));
        assert!(conflicts(&edit(1, 4, "a"), &edit(3, 5, "b")));
    }

    #[test]
    fn invalid_edits_are_not_applied() {
        let f = finding(crate::rules::RuleCode::Ssot001);
        let out_of_range = fix_of(vec![edit(2, 99, "")]);
        let (out, codes) = apply_pass("héllo", vec![(&f, &out_of_range)]);
        assert_eq!((out.as_str(), codes.len()), ("héllo", 0));
        let mid_char = fix_of(vec![edit(2, 3, "")]);
        let (out, codes) = apply_pass("héllo", vec![(&f, &mid_char)]);
        assert_eq!((out.as_str(), codes.len()), ("héllo", 0));
    }

    #[test]
    fn a_pass_that_breaks_the_syntax_is_rolled_back() {
        let text = "fn f() {}\n".to_string();
        let mut state = FileState {
            path: PathBuf::from("/x/src/a.rs"),
            original: text.clone(),
            current: text.clone(),
            fixes: 0,
            rules: BTreeSet::new(),
            frozen: false,
            errors: None,
            aliases: Vec::new(),
        };
        let w = commit_pass(&mut state, "src/a.rs", "fn f( {}\n".into(), vec!["SSOT003"]);
        assert_eq!(
            w,
            Err("fix for SSOT003 would make src/a.rs unparsable; left unchanged".into())
        );
        assert_eq!(
            (state.current.as_str(), state.frozen),
            (text.as_str(), true)
        );

        // A file that already had errors may keep them, not gain more.
        state.frozen = false;
        state.current = "fn f( {}\n".into();
        state.errors = None;
        let ok = commit_pass(&mut state, "src/a.rs", "fn g( {}\n".into(), vec!["SSOT100"]);
        assert_eq!(ok, Ok(()));
        assert_eq!((state.current.as_str(), state.fixes), ("fn g( {}\n", 1));
    }

    #[test]
    fn counts_syntax_errors() {
        assert_eq!(syntax_errors("fn f() {}\n"), 0);
        assert!(syntax_errors("fn f( {}\n") > 0);
    }

    #[test]
    fn summary_line_plurals() {
        assert_eq!(summary_line("fixed", 1, 1), "fixed 1 finding in 1 file");
        assert_eq!(summary_line("fixed", 3, 2), "fixed 3 findings in 2 files");
    }
}
