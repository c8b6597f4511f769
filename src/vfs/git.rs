//! What git tracks, for [`super::FileSystem::tracked`]: a folder scan must not drop a crate
//! the repository holds because an ignore file names it (`git add -f` commits it anyway, and
//! every clone has it).
//!
//! `git ls-files` reads the index and prints names; it neither refreshes the index nor runs
//! a filter, a hook or an fsmonitor (turned off here all the same), so nothing of the
//! repository's configuration runs. Any failure (no git, not a work tree, a repository of
//! another user) is "cannot tell": the caller then leaves nothing out.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// See [`super::FileSystem::tracked`].
pub(super) fn tracked(dir: &Path, name: &str) -> Option<Vec<PathBuf>> {
    // Not in a work tree at all: git has nothing to say (and ignore rules of git do not
    // apply there either).
    if !dir
        .ancestors()
        .any(|a| a.join(".git").symlink_metadata().is_ok())
    {
        return None;
    }
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "core.fsmonitor=false", "-c", "core.quotePath=false"])
        .args(["ls-files", "-z", "--cached", "--"])
        .arg(format!(":(glob)**/{name}"))
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(
        out.stdout
            .split(|b| *b == 0)
            .filter(|p| !p.is_empty())
            .filter_map(path_of)
            .map(|p| dir.join(p))
            .collect(),
    )
}

/// A path git printed (its bytes, whatever they are on Unix).
fn path_of(bytes: &[u8]) -> Option<PathBuf> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Some(PathBuf::from(std::ffi::OsStr::from_bytes(bytes)))
    }
    #[cfg(not(unix))]
    {
        std::str::from_utf8(bytes).ok().map(PathBuf::from)
    }
}
