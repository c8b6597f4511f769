//! Containment: the one gate every file read goes through.
//!
//! A path is resolved to its real path (symlinks followed) and read only when that real path
//! is inside the root the run was pointed at, names a regular file (not a FIFO, a device or
//! a directory) and is at most [`max_file_size`] bytes. The read itself is capped too (procfs
//! files report a size of 0) and opened without blocking. What a refused path holds is never
//! read, so it can never be printed.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

/// `--max-file-size` default: 10 MB.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;

static MAX_FILE_SIZE: AtomicU64 = AtomicU64::new(DEFAULT_MAX_FILE_SIZE);

/// Set the largest file the run reads (`--max-file-size`).
pub fn set_max_file_size(bytes: u64) {
    MAX_FILE_SIZE.store(bytes, Ordering::Relaxed);
}

pub fn max_file_size() -> u64 {
    MAX_FILE_SIZE.load(Ordering::Relaxed)
}

/// Why a file was not read. The text never includes what the file holds.
#[derive(Debug)]
pub enum ReadError {
    /// Nothing there (or a dangling symlink).
    Missing,
    /// The real path is outside the workspace (an absolute path, `..`, a symlink).
    Outside,
    /// A directory, FIFO, socket or device.
    NotRegular,
    /// Larger than the cap (the size, or the cap + 1 when the size was not known up front).
    TooLarge(u64),
    Io(std::io::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Missing => f.write_str("no such file"),
            ReadError::Outside => f.write_str("it resolves outside the workspace; not read"),
            ReadError::NotRegular => f.write_str("not a regular file; not read"),
            ReadError::TooLarge(n) => write!(
                f,
                "larger than --max-file-size ({n} > {} bytes); skipped",
                max_file_size()
            ),
            ReadError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ReadError {}

impl From<ReadError> for std::io::Error {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Io(e) => e,
            ReadError::Missing => std::io::Error::new(std::io::ErrorKind::NotFound, e.to_string()),
            other => std::io::Error::other(other.to_string()),
        }
    }
}

/// Lexically inside `root` (both are expected to be real paths).
pub fn is_inside(path: &Path, root: &Path) -> bool {
    path.starts_with(root)
}

/// The real path of `path` when it is a regular file inside `root` (any file when `root`
/// is `None`, for paths the user named on the command line).
pub fn check(path: &Path, root: Option<&Path>) -> Result<PathBuf, ReadError> {
    let missing = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::NotFound => ReadError::Missing,
        _ => ReadError::Io(e),
    };
    let (canon, meta) = match real_dir_entry(path)? {
        Some((canon, meta)) => (canon, Some(meta)),
        None => (std::fs::canonicalize(path).map_err(missing)?, None),
    };
    if let Some(root) = root
        && !is_inside(&canon, root)
    {
        return Err(ReadError::Outside);
    }
    let meta = match meta {
        Some(m) => m,
        None => std::fs::metadata(&canon).map_err(ReadError::Io)?,
    };
    if !meta.is_file() {
        return Err(ReadError::NotRegular);
    }
    if meta.len() > max_file_size() {
        return Err(ReadError::TooLarge(meta.len()));
    }
    Ok(canon)
}

/// The real path of `path` and its metadata when its last component is a plain name and no
/// symlink: its directory's real path (resolved once per directory in a run, as
/// `canonicalize` would) joined with the name. `Ok(None)`: resolve the whole path (a symlink,
/// `..` at the end, no directory, anything unexpected); `Missing` when nothing is there (as
/// `canonicalize` would say).
fn real_dir_entry(path: &Path) -> Result<Option<(PathBuf, std::fs::Metadata)>, ReadError> {
    static DIRS: OnceLock<Mutex<HashMap<PathBuf, PathBuf>>> = OnceLock::new();
    let Some(Component::Normal(name)) = path.components().next_back() else {
        return Ok(None);
    };
    let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return Ok(None);
    };
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) if !m.file_type().is_symlink() => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ReadError::Missing),
        _ => return Ok(None),
    };
    let Some(dirs) = DIRS.get_or_init(|| Mutex::new(HashMap::new())).lock().ok() else {
        return Ok(None);
    };
    let known = dirs.get(dir).cloned();
    drop(dirs);
    let real = match known {
        Some(r) => r,
        None => {
            let Ok(r) = std::fs::canonicalize(dir) else {
                return Ok(None);
            };
            if let Ok(mut dirs) = DIRS.get_or_init(|| Mutex::new(HashMap::new())).lock() {
                dirs.insert(dir.to_path_buf(), r.clone());
            }
            r
        }
    };
    Ok(Some((real.join(name), meta)))
}

/// The real path of an existing `path` (symlinks followed), as `canonicalize` gives it, with
/// the directories' real paths resolved once per run.
pub fn real_path(path: &Path) -> Option<PathBuf> {
    match real_dir_entry(path) {
        Ok(Some((real, _))) => Some(real),
        Ok(None) => std::fs::canonicalize(path).ok(),
        Err(_) => None,
    }
}

/// Whether `path` is a regular file inside `root` that the run may read.
pub fn readable(path: &Path, root: Option<&Path>) -> bool {
    check(path, root).is_ok()
}

/// The bytes of a file that [`check`] accepts, at most [`max_file_size`] of them.
pub fn read_bytes(path: &Path, root: Option<&Path>) -> Result<Vec<u8>, ReadError> {
    let canon = check(path, root)?;
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Swapped for a FIFO after the check: fail instead of waiting for a writer.
        opts.custom_flags(libc::O_NONBLOCK);
    }
    let file = opts.open(&canon).map_err(ReadError::Io)?;
    let meta = file.metadata().map_err(ReadError::Io)?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular);
    }
    let cap = max_file_size();
    let mut buf = Vec::with_capacity(meta.len().min(cap) as usize);
    file.take(cap.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(ReadError::Io)?;
    if buf.len() as u64 > cap {
        return Err(ReadError::TooLarge(buf.len() as u64));
    }
    Ok(buf)
}

/// A file's text (invalid UTF-8 replaced), read as [`read_bytes`] does.
pub fn read_text(path: &Path, root: Option<&Path>) -> Result<String, ReadError> {
    read_bytes(path, root).map(|b| match String::from_utf8(b) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// A file's text that must be UTF-8 (manifests, configs).
pub fn read_utf8(path: &Path, root: Option<&Path>) -> Result<String, ReadError> {
    let b = read_bytes(path, root)?;
    String::from_utf8(b).map_err(|_| {
        ReadError::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        ))
    })
}

/// 1-based line of the first occurrence of `needle` in `text` (for messages that name the
/// line of a manifest key), or `None`.
pub fn line_of(text: &str, needle: &str) -> Option<usize> {
    let at = text.find(needle)?;
    Some(text[..at].matches('\n').count() + 1)
}

/// Deepest bracket nesting and most `::` separators a config value may have: `syn` parses
/// it recursively on the calling thread.
pub const MAX_CONFIG_NESTING: usize = 32;
pub const MAX_CONFIG_SEGMENTS: usize = 64;

/// A config or pack value too deep or too long to parse is a config error at its span.
pub fn check_nesting(
    path: &Path,
    text: &str,
    v: &serde_spanned::Spanned<String>,
) -> Result<(), crate::error::Error> {
    let s = v.get_ref();
    let (mut depth, mut max) = (0usize, 0usize);
    for c in s.chars() {
        match c {
            '(' | '[' | '{' | '<' => {
                depth += 1;
                max = max.max(depth);
            }
            ')' | ']' | '}' | '>' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    let segments = s.matches("::").count() + 1;
    let why = if max > MAX_CONFIG_NESTING {
        format!("nested {max} deep (at most {MAX_CONFIG_NESTING})")
    } else if segments > MAX_CONFIG_SEGMENTS {
        format!("{segments} path segments (at most {MAX_CONFIG_SEGMENTS})")
    } else {
        return Ok(());
    };
    Err(crate::error::Error::config(
        path,
        text,
        Some(v.span()),
        format!("value too complex to parse: {why}"),
    ))
}

/// Deepest nesting of a Rust file the parser and our walkers may recurse into: brackets
/// and runs of prefix operators (`!!!x`, `&&&T`).
pub const MAX_SOURCE_NESTING: usize = 1000;

/// Links of one chain (`a.b.c`, `a::b::c`, `a + b + c`) between `,` `;` `{` `}`: the parser
/// builds them as a tree as deep as the chain is long.
pub const MAX_SOURCE_CHAIN: usize = 2000;

/// Why a Rust text is not parsed: too deep, too long a chain, or binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooDeep {
    pub message: String,
    pub at: usize,
}

/// Whether a Rust text must not be parsed: nesting over [`MAX_SOURCE_NESTING`] (brackets
/// and prefix-operator runs), a chain over [`MAX_SOURCE_CHAIN`] links (counted outside
/// comments, strings and character literals), or NUL bytes (a binary file, as git tells
/// them: in the first 8000 bytes). Linear, no allocation.
pub fn source_too_deep(text: &str) -> Option<TooDeep> {
    let b = text.as_bytes();
    if let Some(at) = b.iter().take(8000).position(|&c| c == 0) {
        return Some(TooDeep {
            message: "binary file (NUL bytes); not analysed".into(),
            at,
        });
    }
    if !could_be_too_deep(b) {
        return None;
    }
    let (depth, at, chain) = scan_depth(b, text)?;
    let message = if chain {
        format!("a chain of more than {MAX_SOURCE_CHAIN} `.`, `::` or operators; file not analysed")
    } else {
        format!(
            "nested more than {MAX_SOURCE_NESTING} deep (brackets or prefix operators, {depth} here); file not analysed"
        )
    };
    Some(TooDeep { message, at })
}

/// A bound, by counting bytes: [`scan_depth`] counts a chain link only at an operator byte
/// of code, and a level of nesting only at an opening bracket or a prefix-operator byte of
/// code, so a text with at most [`MAX_SOURCE_CHAIN`] operator bytes and at most
/// [`MAX_SOURCE_NESTING`] such bytes in all cannot be too deep. Most files are decided here,
/// at memory speed, without the exact scan.
fn could_be_too_deep(b: &[u8]) -> bool {
    const fn table(set: &[u8]) -> [u8; 256] {
        let mut t = [0u8; 256];
        let mut i = 0;
        while i < set.len() {
            t[set[i] as usize] = 1;
            i += 1;
        }
        t
    }
    const OPS: [u8; 256] = table(b".:+-*/%^|&<>=!");
    const DEEP: [u8; 256] = table(b"([{!-*&");
    let (mut ops, mut deep) = (0usize, 0usize);
    for chunk in b.chunks(4096) {
        let (mut o, mut d) = (0u32, 0u32);
        for &c in chunk {
            o += u32::from(OPS[c as usize]);
            d += u32::from(DEEP[c as usize]);
        }
        ops += o as usize;
        deep += d as usize;
        if ops > MAX_SOURCE_CHAIN || deep > MAX_SOURCE_NESTING {
            return true;
        }
    }
    false
}

fn scan_depth(b: &[u8], text: &str) -> Option<(usize, usize, bool)> {
    let n = b.len();
    let (mut i, mut depth, mut run, mut chain) = (0usize, 0usize, 0usize, 0usize);
    let over = |d: usize, at: usize| (d > MAX_SOURCE_NESTING).then_some((d, at, false));
    let mut prev_op = false;
    while i < n {
        let c = b[i];
        match c {
            b'/' if i + 1 < n && b[i + 1] == b'/' => {
                while i < n && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if i + 1 < n && b[i + 1] == b'*' => {
                let mut level = 0usize;
                while i < n {
                    if i + 1 < n && b[i] == b'/' && b[i + 1] == b'*' {
                        level += 1;
                        i += 2;
                    } else if i + 1 < n && b[i] == b'*' && b[i + 1] == b'/' {
                        level -= 1;
                        i += 2;
                        if level == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                continue;
            }
            b'r' if i + 1 < n && (b[i + 1] == b'"' || b[i + 1] == b'#') && token_start(b, i) => {
                // r"..." / r#"..."#
                let mut j = i + 1;
                let mut hashes = 0;
                while j < n && b[j] == b'#' {
                    hashes += 1;
                    j += 1;
                }
                if j < n && b[j] == b'"' {
                    j += 1;
                    'raw: while j < n {
                        if b[j] == b'"' {
                            let mut k = 0;
                            while k < hashes && j + 1 + k < n && b[j + 1 + k] == b'#' {
                                k += 1;
                            }
                            if k == hashes {
                                j += 1 + hashes;
                                break 'raw;
                            }
                        }
                        j += 1;
                    }
                    i = j;
                    run = 0;
                    continue;
                }
                i += 1;
                run = 0;
                continue;
            }
            b'"' => {
                i += 1;
                while i < n && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
                run = 0;
                continue;
            }
            b'\'' => {
                // A character literal ('x', '\n', '\u{..}'), else a lifetime or label.
                if i + 2 < n && b[i + 1] == b'\\' {
                    let mut j = i + 3;
                    while j < n && b[j] != b'\'' && b[j] != b'\n' {
                        j += 1;
                    }
                    i = j + 1;
                } else if let Some(ch) = text.get(i + 1..).and_then(|t| t.chars().next()) {
                    let after = i + 1 + ch.len_utf8();
                    i = if after < n && b[after] == b'\'' {
                        after + 1
                    } else {
                        i + 1
                    };
                } else {
                    i += 1;
                }
                run = 0;
                continue;
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if let Some(d) = over(depth, i) {
                    return Some(d);
                }
                run = 0;
                if c == b'{' {
                    chain = 0;
                }
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                run = 0;
                if c == b'}' {
                    chain = 0;
                }
            }
            b',' | b';' => {
                run = 0;
                chain = 0;
            }
            b' ' | b'\t' | b'\n' | b'\r' => {}
            _ => {}
        }
        if !matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
            // One link per run of operator characters (`::`, `+=`, `.`, `&&`).
            let op = matches!(
                c,
                b'.' | b':'
                    | b'+'
                    | b'-'
                    | b'*'
                    | b'/'
                    | b'%'
                    | b'^'
                    | b'|'
                    | b'&'
                    | b'<'
                    | b'>'
                    | b'='
                    | b'!'
            );
            if op && !prev_op {
                chain += 1;
                if chain > MAX_SOURCE_CHAIN {
                    return Some((chain, i, true));
                }
            }
            prev_op = op;
            if matches!(c, b'!' | b'-' | b'*' | b'&') {
                run += 1;
                if let Some(d) = over(depth + run, i) {
                    return Some(d);
                }
            } else if !matches!(c, b'(' | b'[' | b'{' | b')' | b']' | b'}' | b',' | b';') {
                run = 0;
            }
        }
        i += 1;
    }
    None
}

/// Whether the `r` at `i` starts a token (`r"`, `br"`, `cr"`), not ends an identifier.
fn token_start(b: &[u8], i: usize) -> bool {
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let s = if i > 0 && (b[i - 1] == b'b' || b[i - 1] == b'c') {
        i - 1
    } else {
        i
    };
    s == 0 || !ident(b[s - 1])
}
