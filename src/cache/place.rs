//! Where the caches live, and why a cache file can be trusted.
//!
//! Everything in the linted tree is the tree's to choose: in CI, a pull request's. A cache
//! decides the verdict (a unit's outcome is reused without reading its files), so a cache the
//! tree could have written must never be believed. Two defences, both always on:
//!
//! - **Outside the tree.** By default the caches of a root live in the user's cache
//!   directory, `<cache home>/ssot-lint/<hash of the root's real path>/` (`<cache home>` is
//!   `$XDG_CACHE_HOME`, else `~/.cache`; `~/Library/Caches` on macOS, `%LOCALAPPDATA%` on
//!   Windows). A `.ssot-lint-cache/` or `target/ssot-lint/` the tree holds is never read.
//!   A default place that would be inside the linted root is not used.
//! - **Authenticated.** Every cache file carries a keyed BLAKE3 tag of its contents under a
//!   per-user secret, `<cache home>/ssot-lint/key` (32 random bytes, 0600, made on first use,
//!   never inside the linted root). A file whose tag does not verify is absent. So an
//!   explicit directory (`--cache-dir`, `SSOT_LINT_CACHE_DIR`, an editor's choice) may even be
//!   inside the tree (`target/ssot-lint`), or restored by CI from elsewhere: the tree cannot
//!   forge what the tool will read from it.
//!
//! The directory itself is never reached through a symlink of its own (a symlink there is
//! refused, and files in it are opened without following one); an explicit directory inside
//! the root must be reached without any symlink from the root down and is never inside
//! `.git/`. Which of these a run gets (off, the user's place, a directory) is decided by the
//! command line: `CI` set with no explicit directory means no cache (see `crate::cli`).

use std::ffi::OsStr;
use std::path::{Component, Path, PathBuf};

use crate::vfs::FileSystem;

/// Where a run keeps its caches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CacheSetting {
    /// No cache: nothing read, nothing written.
    #[default]
    Off,
    /// The user's cache directory, one directory per root.
    User,
    /// This directory (absolute), for every root.
    Dir(PathBuf),
}

/// A cache directory a run may use, and the secret its files are authenticated with.
#[derive(Clone)]
pub struct Place {
    pub dir: PathBuf,
    key: [u8; 32],
}

impl std::fmt::Debug for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("Place").field("dir", &self.dir).finish()
    }
}

/// Per-root directories kept in the user's cache directory; the least recently written
/// beyond this are removed when a new one is made.
pub const KEEP_ROOTS: usize = 64;

/// The user's cache home (`$XDG_CACHE_HOME`, else the platform's), if there is one.
pub fn cache_home() -> Option<PathBuf> {
    let var = |k: &str| {
        std::env::var_os(k)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    if let Some(x) = var("XDG_CACHE_HOME") {
        return Some(x);
    }
    if cfg!(windows) {
        return var("LOCALAPPDATA");
    }
    let home = var("HOME")?;
    Some(if cfg!(target_os = "macos") {
        home.join("Library/Caches")
    } else {
        home.join(".cache")
    })
}

/// The tool's directory in the cache home: the secret and the per-root directories.
pub fn tool_home() -> Option<PathBuf> {
    cache_home().map(|h| h.join("ssot-lint"))
}

/// A per-root directory's name: 32 hex digits of the xxh3-128 hash of the root's real path.
fn root_dir_name(root: &Path) -> String {
    format!(
        "{:032x}",
        xxhash_rust::xxh3::xxh3_128(root.as_os_str().as_encoded_bytes())
    )
}

fn is_root_dir_name(n: &OsStr) -> bool {
    n.len() == 32 && n.as_encoded_bytes().iter().all(u8::is_ascii_hexdigit)
}

impl Place {
    /// The place of the caches of `root` (a real path) for `setting`: `Ok(None)` when the
    /// cache is off, `Err(why)` when it cannot be used (then the run goes on without it).
    pub fn resolve(
        fs: &dyn FileSystem,
        root: &Path,
        setting: &CacheSetting,
    ) -> Result<Option<Place>, String> {
        let home = || {
            tool_home().ok_or_else(|| {
                "no user cache directory (neither XDG_CACHE_HOME nor HOME is set)".to_string()
            })
        };
        // Where `p` is or would be made: the real path of its nearest existing ancestor,
        // with the rest of it.
        let inside = |p: &Path| {
            let p = crate::vfs::normalize(p);
            let real = p
                .ancestors()
                .find_map(|a| {
                    let rest = p.strip_prefix(a).ok()?;
                    fs.real_path(a).map(|r| r.join(rest))
                })
                .unwrap_or(p.clone());
            real.starts_with(root)
        };
        let dir = match setting {
            CacheSetting::Off => return Ok(None),
            CacheSetting::User => {
                let home = home()?;
                let dir = home.join(root_dir_name(root));
                if inside(&home) || inside(&dir) {
                    return Err(format!(
                        "the user cache directory {} is inside the linted tree; not used",
                        home.display()
                    ));
                }
                if !fs.exists_here(&dir) {
                    // A new root: make room first.
                    fs.prune_private(&home, KEEP_ROOTS - 1, is_root_dir_name);
                }
                dir
            }
            CacheSetting::Dir(d) => {
                let d = crate::vfs::normalize(d);
                if let Ok(rel) = d.strip_prefix(root) {
                    check_in_tree(fs, root, rel)?;
                }
                d
            }
        };
        let key_dir = home()?;
        if inside(&key_dir) {
            return Err(format!(
                "the secret's directory {} is inside the linted tree; not used",
                key_dir.display()
            ));
        }
        let key = fs.private_key(&key_dir)?;
        Ok(Some(Place { dir, key }))
    }

    /// A place with a given secret (tests, and views whose files are in memory).
    pub fn with_key(dir: PathBuf, key: [u8; 32]) -> Place {
        Place { dir, key }
    }

    /// The tag of a cache file being made: BLAKE3 keyed by the secret, over its magic
    /// number, its name and then its body (fed to the returned hasher).
    pub fn tagger(&self, magic: &[u8; 8], name: &str) -> blake3::Hasher {
        let mut h = blake3::Hasher::new_keyed(&self.key);
        h.update(magic);
        h.update(name.as_bytes());
        h.update(&[0]);
        h
    }
}

/// An explicit cache directory inside the root: every component from the root down is a
/// directory, not a symlink (or missing: then it is made), and none is `.git`.
fn check_in_tree(fs: &dyn FileSystem, root: &Path, rel: &Path) -> Result<(), String> {
    if crate::vfs::gate::in_git_dir(rel) {
        return Err(format!(
            "{}: inside .git; not used",
            root.join(rel).display()
        ));
    }
    let mut at = root.to_path_buf();
    for c in rel.components() {
        let Component::Normal(n) = c else {
            return Err(format!("{}: not a plain path", root.join(rel).display()));
        };
        at.push(n);
        match fs.lstat(&at) {
            None => break,
            Some(crate::vfs::EntryKind::Dir) => {}
            Some(crate::vfs::EntryKind::Symlink) => {
                return Err(format!(
                    "{} is a symlink; the cache is not used",
                    at.display()
                ));
            }
            Some(_) => return Err(format!("{} is not a directory", at.display())),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vfs::Memory;

    #[test]
    fn an_explicit_directory_in_the_tree_is_reached_without_symlinks() {
        let mem = Memory::new([("/w/src/lib.rs", ""), ("/w/.git/config", "")]);
        let root = Path::new("/w");
        for (dir, ok) in [
            ("/w/target/ssot-lint", true),
            ("/w/src/lib.rs/x", false),
            ("/w/.git/cache", false),
            ("/w/sub/.GIT/cache", false),
        ] {
            assert_eq!(
                check_in_tree(&mem, root, Path::new(dir).strip_prefix(root).expect("rel")).is_ok(),
                ok,
                "{dir}"
            );
        }
    }

    #[test]
    fn per_root_names_are_stable_and_recognised() {
        let a = root_dir_name(Path::new("/w/a"));
        assert_eq!(a, root_dir_name(Path::new("/w/a")));
        assert_ne!(a, root_dir_name(Path::new("/w/b")));
        assert!(is_root_dir_name(OsStr::new(&a)));
        assert!(!is_root_dir_name(OsStr::new("key")));
        assert!(!is_root_dir_name(OsStr::new(&format!("{a}0"))));
    }
}
