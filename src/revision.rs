//! `--new-from-rev REV`: which lines of the linted files changed since a git revision.
//!
//! `git diff` is not used: it applies the tree's own `.gitattributes` (`-diff` turns a file
//! into "Binary files differ", `diff=` a textconv, `filter=` a clean filter such as git-lfs's,
//! installed on CI runners) and quotes unusual names (`"`, a tab; a space adds a tab), so a
//! pull request could hide its changes. Here the revision's files are listed with
//! `git ls-tree -z` (names as raw bytes), its blobs read with `git cat-file --batch` (raw
//! objects: no attribute applies), and each file compared line by line with the text the
//! tool linted. Whatever cannot be compared (a file not in the revision, too large,
//! unreadable) counts as changed on every line: in doubt, a finding is shown.

use std::collections::HashMap;
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::Error;

/// How long one file's line diff may search for the smallest set of changes; past it the
/// rest of the file counts as changed (more findings shown, never fewer).
const DIFF_DEADLINE: Duration = Duration::from_secs(2);

fn git_command(dir: &Path) -> Command {
    let mut c = Command::new("git");
    c.arg("-C")
        .arg(dir)
        .stdin(Stdio::null())
        // Neither the user's pager nor a prompt; nothing of the tree's config matters below.
        .env("GIT_PAGER", "cat")
        .env("GIT_TERMINAL_PROMPT", "0");
    c
}

/// Runs git; its stdout, or its stderr as the error.
fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let o = git_command(dir)
        .args(args)
        .output()
        .map_err(|e| format!("git could not be run: {e}"))?;
    if o.status.success() {
        Ok(o.stdout)
    } else {
        Err(String::from_utf8_lossy(&o.stderr).trim().to_string())
    }
}

fn usage(message: String) -> Error {
    Error::Usage(format!("--new-from-rev: {message}"))
}

/// Changed line ranges (1-based, inclusive) by repository-relative path; `None`: every line.
pub type ChangedLines = HashMap<String, Option<Vec<(u32, u32)>>>;

/// A revision's files: repository-relative path -> blob id, and the repository's top.
pub struct Revision {
    top: PathBuf,
    blobs: HashMap<String, String>,
}

impl Revision {
    /// The commit `rev` names in the repository around `dir`, with its file list.
    pub fn open(dir: &Path, rev: &str) -> Result<Revision, Error> {
        if rev.starts_with('-') || rev.is_empty() {
            return Err(usage(format!("`{rev}` is not a revision")));
        }
        let top = git(dir, &["rev-parse", "--show-toplevel"])
            .map_err(|e| usage(format!("needs a git repository: {e}")))?;
        let top = PathBuf::from(String::from_utf8_lossy(&top).trim_end_matches('\n'));
        let spec = format!("{rev}^{{commit}}");
        let commit = match git(
            &top,
            &[
                "rev-parse",
                "--verify",
                "--quiet",
                "--end-of-options",
                &spec,
            ],
        ) {
            Ok(c) => String::from_utf8_lossy(&c).trim().to_string(),
            Err(_) => return Err(missing(&top, rev)),
        };
        let listing = git(&top, &["ls-tree", "-r", "-z", "--full-tree", &commit])
            .map_err(|e| usage(format!("git ls-tree {commit}: {e}")))?;
        let mut blobs = HashMap::new();
        for entry in listing.split(|&b| b == 0).filter(|e| !e.is_empty()) {
            // `<mode> SP <type> SP <oid> TAB <path>`; the path is raw bytes.
            let Some(tab) = entry.iter().position(|&b| b == b'\t') else {
                continue;
            };
            let head = String::from_utf8_lossy(&entry[..tab]);
            let mut fields = head.split(' ');
            let (_mode, kind, oid) = (fields.next(), fields.next(), fields.next());
            if let (Some("blob"), Some(oid)) = (kind, oid) {
                let path = String::from_utf8_lossy(&entry[tab + 1..]).into_owned();
                blobs.insert(path, oid.to_string());
            }
        }
        Ok(Revision { top, blobs })
    }

    /// The repository's top directory.
    pub fn top(&self) -> &Path {
        &self.top
    }

    /// Changed lines of each given file (repository-relative path and its current text):
    /// `None` when every line counts as changed.
    pub fn changed_lines(&self, files: &[(String, String)]) -> Result<ChangedLines, Error> {
        let wanted: Vec<&str> = files
            .iter()
            .filter_map(|(path, _)| self.blobs.get(path).map(String::as_str))
            .collect();
        let old = self.read_blobs(&wanted)?;
        Ok(files
            .iter()
            .map(|(path, new)| {
                let ranges = self
                    .blobs
                    .get(path)
                    .and_then(|oid| old.get(oid))
                    .map(|old| changed_ranges(old, new));
                (path.clone(), ranges)
            })
            .collect())
    }

    /// The texts of blobs no larger than the linter reads (`--max-file-size`), by id.
    fn read_blobs(&self, oids: &[&str]) -> Result<HashMap<String, String>, Error> {
        if oids.is_empty() {
            return Ok(HashMap::new());
        }
        let cap = crate::vfs::max_file_size();
        let mut child = git_command(&self.top)
            .args(["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| usage(format!("git could not be run: {e}")))?;
        let (Some(mut input), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(usage("git cat-file: no pipes".into()));
        };
        let request: String = oids.iter().map(|o| format!("{o}\n")).collect();
        // Written from another thread, so that neither side waits on a full pipe.
        let blobs = std::thread::scope(|s| {
            s.spawn(move || {
                let _ = input.write_all(request.as_bytes());
            });
            let mut r = std::io::BufReader::new(stdout);
            let mut header = String::new();
            let mut blobs = HashMap::new();
            loop {
                header.clear();
                if r.read_line(&mut header).ok().filter(|&n| n > 0).is_none() {
                    break;
                }
                // `<oid> <type> <size>`, or `<oid> missing`.
                let mut f = header.split_whitespace();
                let (Some(oid), Some(_kind), Some(size)) = (f.next(), f.next(), f.next()) else {
                    continue;
                };
                let Ok(size) = size.parse::<u64>() else {
                    break;
                };
                // The contents and the newline after them; a blob larger than a file the
                // linter would read is skipped (its file counts as changed).
                let mut body = Vec::new();
                let copied = if size <= cap {
                    std::io::copy(&mut (&mut r).take(size + 1), &mut body)
                } else {
                    std::io::copy(&mut (&mut r).take(size + 1), &mut std::io::sink())
                };
                if copied.is_err() {
                    break;
                }
                if size <= cap {
                    body.pop();
                    blobs.insert(oid.to_string(), String::from_utf8_lossy(&body).into_owned());
                }
            }
            blobs
        });
        let _ = child.wait();
        Ok(blobs)
    }
}

/// The error for a revision git does not know, with what to do about a shallow clone
/// (CI checkouts fetch one commit by default).
fn missing(top: &Path, rev: &str) -> Error {
    let shallow =
        git(top, &["rev-parse", "--is-shallow-repository"]).is_ok_and(|o| o.starts_with(b"true"));
    if shallow {
        usage(format!(
            "`{rev}` is not a commit of this repository, which is a shallow clone (only the \
             latest commits were fetched): fetch the history first, with `fetch-depth: 0` in \
             actions/checkout or `git fetch --unshallow`"
        ))
    } else {
        usage(format!(
            "`{rev}` is not a commit of this repository (a branch that was not fetched? \
             `git fetch origin` first)"
        ))
    }
}

/// The 1-based, inclusive line ranges of `new` that are not lines of `old` (inserted or
/// replaced; a carriage return before a line break is not a change).
pub fn changed_ranges(old: &str, new: &str) -> Vec<(u32, u32)> {
    let lines = |t: &str| -> Vec<String> {
        t.split_inclusive('\n')
            .map(|l| l.trim_end_matches(['\n', '\r']).to_string())
            .collect()
    };
    let (old, new) = (lines(old), lines(new));
    let ops = similar::capture_diff_slices_deadline(
        similar::Algorithm::Myers,
        &old,
        &new,
        Some(Instant::now() + DIFF_DEADLINE),
    );
    let mut ranges = Vec::new();
    for op in ops {
        if let similar::DiffOp::Insert {
            new_index, new_len, ..
        }
        | similar::DiffOp::Replace {
            new_index, new_len, ..
        } = op
            && new_len > 0
        {
            ranges.push((new_index as u32 + 1, (new_index + new_len) as u32));
        }
    }
    ranges
}

#[cfg(test)]
mod tests {
    use super::changed_ranges;

    #[test]
    fn inserted_and_replaced_lines_are_changed_deleted_ones_are_not() {
        let old = "a\nb\nc\nd\n";
        assert_eq!(changed_ranges(old, old), vec![]);
        assert_eq!(changed_ranges(old, "x\na\nb\nc\nd\n"), vec![(1, 1)]);
        assert_eq!(changed_ranges(old, "a\nB\nc\nd\ne\n"), vec![(2, 2), (5, 5)]);
        assert_eq!(changed_ranges(old, "a\nd\n"), vec![]);
        assert_eq!(changed_ranges(old, "a\r\nb\r\nc\r\nd\r\n"), vec![]);
        assert_eq!(changed_ranges("", "a\nb"), vec![(1, 2)]);
    }
}
