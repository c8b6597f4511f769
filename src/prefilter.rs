//! The prefilter: most files are lexed or only byte-scanned, not parsed.
//!
//! Every file of a module tree is first *byte-lexed* ([`quick_scan`]): plain ASCII code with
//! no unusual literal and nothing broken gives the very tokens the real lexer would, at a
//! fraction of its cost. Every other file is *lexed* (`ra_ap_parser`'s lexer, the one the
//! parser runs first). The tokens give, without a parse: the identifiers a file mentions, its
//! `mod` declarations with their `#[path]`/`#[cfg(test)]` attributes (when they all sit at the
//! top level of the file or in inline modules, see [`Scan::skeleton`]), whether it has a
//! suppression comment, and its lexical errors. A file is fully parsed only if it is
//! *relevant*:
//!
//! - it names something that can lead to a pack path: a pack crate its crate depends on (or
//!   a dependency renamed from one), a segment of a module path of the config, or a name that
//!   a relevant file defines from one of those (an import or alias of one, a project type
//!   whose fields mention one, a static or function whose type or body does, an `init`-like
//!   method, an `extern crate .. as`, the names a glob import of a pack crate binds; see
//!   [`Names`]);
//! - or its `use` items name a module that exports such a name, or it glob-imports its parent
//!   module (`use super::*;`) and that module exports one (other globs through `super` or
//!   `crate`: some module of the crate does);
//! - or it belongs to a module the config names (an SSOT, a deprecated module or their
//!   submodules), or has an `ssot-lint:` comment.
//!
//! The names grow as relevant files are parsed, until a fixpoint. A file that is not relevant
//! cannot resolve to a pack path, hold one, or be reached by a name that does, so its full
//! summary cannot change a finding; it keeps a *skeleton* summary (its module structure and
//! line count). Where the lexer cannot place its `mod` items (in a macro call such as
//! `cfg_if!`, in a function body), the skeleton comes from a parse that walks only what can
//! hold a `mod` ([`crate::parse::structure`]); `--no-prefilter` checks both kinds of
//! skeleton against the full parse of every file. One thing such a file can still decide is the kind of a generic pool whose
//! manager is a project type or made by a project function (`r2d2::Pool::builder()
//! .build(make_manager())`: a project type is no database): when the model looks a manager up
//! in a skeleton in vain, it asks for the file (`Model::needs_parse`) and the engine builds
//! the graph again with it parsed (`build`'s `forced`). The prefilter is on by default;
//! `--no-prefilter` parses every file, and both must print the same output.
//!
//! SSOT000, in both modes: a relevant file reports its parse's errors; so does a file whose
//! text is lexically broken (a lexer error such as an unterminated literal or a bad escape,
//! an invalid token, unbalanced or mismatched brackets, nesting deeper than
//! [`DEEP_BRACKETS`], a binary file or one too deep for the parser), which is always parsed.
//! Any other file reports nothing: a pure grammar error in a file that cannot matter to any
//! rule is not a finding. Unreadable and oversized files are reported whatever their
//! relevance.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ra_ap_syntax::{Edition, SyntaxKind};
use rayon::prelude::*;

use crate::cache::{Cache, Kind};
use crate::config::Config;
use crate::crates::{self, CrateGraph};
use crate::packs::PackIndex;
use crate::summary::{FileSummary, ItemDef, ItemKind, ModDecl, ModuleSummary};
use crate::workspace::{self, Unit};

pub use crate::idents::{IdMap, IdSet, hash};

/// What the lexer tells about one file.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct Scan {
    /// Every identifier and keyword, hashed, sorted, deduplicated.
    pub idents: Vec<u64>,
    /// The identifiers of `use` items that start at `crate`, `self` or `super`.
    pub rel_use_idents: Vec<u64>,
    /// The segments of paths that start at `crate::`, `self::` or `super::`.
    pub rel_path_idents: Vec<u64>,
    /// `use super::*;` outside any inline module of the file: a glob import of the parent
    /// module, which lives in another file.
    pub glob_parent: bool,
    /// Any other glob import through `super` or `crate` (`use crate::*;`, `use super::super::*;`,
    /// braces): resolved, conservatively, to any module of the crate. A glob through a named
    /// module (`use crate::db::*;`) is found by that module's name instead, and `self::*`
    /// adds nothing a file does not already have.
    pub glob_crate: bool,
    /// The text is lexically broken: a lexer error or an invalid token, unbalanced brackets,
    /// nesting deeper than [`DEEP_BRACKETS`], a binary file or one too deep for the parser.
    /// Always parsed; SSOT000 reports the parse's errors even when the file cannot matter.
    pub broken: bool,
    /// The text contains `ssot-lint:` (a suppression comment, SSOT100).
    pub marker: bool,
    /// The module structure when every `mod` item sits at the file's top level (so the
    /// parser is certain to see the same): modules, `mod x;` declarations, `mod` items of
    /// the root module. `None`: only a parse can tell.
    pub skeleton: Option<(Vec<ModuleSummary>, Vec<ModDecl>)>,
    /// For parsed files: the identifiers (hashed, sorted) inside each function's range.
    pub fn_idents: Vec<Vec<u64>>,
    /// The file has its full summary.
    pub parsed: bool,
    /// Made by [`quick_scan`], not the lexer (the same scan; for `SSOT_PREFILTER_STATS`).
    pub quick: bool,
}

fn sorted(mut v: Vec<u64>) -> Vec<u64> {
    v.sort_unstable();
    v.dedup();
    v
}

/// `#[cfg(test)]`-like attribute, exactly as the parse stage decides it (`parse.rs`).
fn attr_is_test(text: &str) -> bool {
    let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if t.starts_with("#[cfg(") || t.starts_with("#![cfg(") {
        return crate::parse::cfg::attr_is_cfg_test(text);
    }
    false
}

/// `#[path = "..."]`, exactly as the parse stage reads it.
fn path_attr(text: &str) -> Option<String> {
    let t = text.trim_start_matches("#[").trim_end_matches(']').trim();
    let rest = t
        .strip_prefix("path")?
        .trim_start()
        .strip_prefix('=')?
        .trim();
    let s = rest.strip_prefix('"')?.strip_suffix('"')?;
    Some(s.to_string())
}

/// A significant token: its kind and byte range (its text is `text(src)`).
#[derive(Clone, Copy)]
struct Tok {
    kind: SyntaxKind,
    start: u32,
    end: u32,
}

impl Tok {
    fn text<'t>(&self, src: &'t str) -> &'t str {
        &src[self.start as usize..self.end as usize]
    }
}

/// Lex a file and collect what the prefilter needs.
pub fn scan(text: &str, edition: Edition) -> Scan {
    let mut out = Scan {
        marker: text.contains("ssot-lint:"),
        ..Default::default()
    };
    // Binary or too deep for the parser (see `parse::summarize`): nothing to lex, the parse
    // gives one error at once.
    if crate::parse::depth::source_too_deep(text).is_some() {
        out.broken = true;
        return out;
    }
    let lexed = ra_ap_parser::LexedStr::new(edition, text);
    let lex_errors = lexed.errors().next().is_some();
    let mut toks: Vec<Tok> = Vec::with_capacity(lexed.len() / 2);
    for i in 0..lexed.len() {
        let kind = lexed.kind(i);
        if kind.is_trivia() || kind == SyntaxKind::EOF {
            continue;
        }
        let r = lexed.text_range(i);
        toks.push(Tok {
            kind,
            start: r.start as u32,
            end: r.end as u32,
        });
    }
    scan_tokens(text, &toks, Some(lex_errors))
}

/// What the prefilter needs from a file's significant tokens (see [`scan`]); `lex_errors`:
/// whether the lexer found an error, `None` for [`quick_scan`]'s tokens, which have none,
/// no invalid token and balanced brackets.
fn scan_tokens(text: &str, toks: &[Tok], lex_errors: Option<bool>) -> Scan {
    let mut out = Scan {
        marker: text.contains("ssot-lint:"),
        ..Default::default()
    };
    out.idents = sorted(
        toks.iter()
            .filter(|t| t.kind.is_any_identifier())
            .map(|t| hash(t.text(text)))
            .collect(),
    );
    out.broken = match lex_errors {
        None => false,
        Some(e) => e || toks.iter().any(|t| t.kind == SyntaxKind::ERROR) || !balanced(toks),
    };
    use_items(toks, text, &mut out);
    // A broken file is parsed anyway.
    out.skeleton = if out.broken {
        None
    } else {
        skeleton(toks, text)
    };
    out
}

/// The scan of a file [`quick_scan`] accepts: the same as [`scan`]'s, without the lexer.
fn quick(text: &str, edition: Edition) -> Option<Scan> {
    let toks = quick_scan(text, edition)?;
    Some(Scan {
        quick: true,
        ..scan_tokens(text, &toks, None)
    })
}

/// A byte-level lexer for plain ASCII Rust that is certain to agree with the real one: the
/// same significant tokens (kinds, texts and ranges), or `None` (lex it) for anything it does
/// not fully understand or where the lexer could report an error: a byte outside printable
/// ASCII outside a comment, a prefixed or raw literal or raw identifier, an escape other
/// than the simplest ones, an exponent, an unterminated literal or comment, unbalanced
/// brackets or nesting over [`DEEP_BRACKETS`], an `ssot-lint:` comment, a shebang or
/// frontmatter. What it accepts has no lexer error and no invalid token.
fn quick_scan(text: &str, edition: Edition) -> Option<Vec<Tok>> {
    let b = text.as_bytes();
    let n = b.len();
    if text.contains("ssot-lint:") {
        return None;
    }
    // A shebang or frontmatter at the start: the lexer's business.
    let lead = text.trim_start();
    if lead.starts_with("#!") && !lead.starts_with("#![") || lead.starts_with('-') {
        return None;
    }
    let ident_start = |c: u8| c.is_ascii_alphabetic() || c == b'_';
    let ident_char = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut toks: Vec<Tok> = Vec::with_capacity(n / 6);
    let mut stack: Vec<u8> = Vec::new();
    let tok = |kind: SyntaxKind, s: usize, e: usize| Tok {
        kind,
        start: s as u32,
        end: e as u32,
    };
    let mut i = 0;
    while i < n {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\n' => {
                i += 1;
                while i < n && matches!(b[i], b' ' | b'\t' | b'\n') {
                    i += 1;
                }
                continue;
            }
            b'\r' => {
                if b.get(i + 1) != Some(&b'\n') {
                    return None;
                }
                i += 2;
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let end = memchr::memchr(b'\n', &b[i..]).map_or(n, |k| i + k);
                // A carriage return only right before the newline.
                if let Some(k) = memchr::memchr(b'\r', &b[i..end])
                    && (i + k + 1 != end || end == n)
                {
                    return None;
                }
                i = end;
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut level = 0usize;
                loop {
                    if i + 1 >= n {
                        return None;
                    }
                    if b[i] == b'/' && b[i + 1] == b'*' {
                        level += 1;
                        i += 2;
                    } else if b[i] == b'*' && b[i + 1] == b'/' {
                        level -= 1;
                        i += 2;
                        if level == 0 {
                            break;
                        }
                    } else if b[i] == b'\r' && b[i + 1] != b'\n' {
                        return None;
                    } else {
                        i += 1;
                    }
                }
                continue;
            }
            _ if ident_start(c) => {
                let s = i;
                while i < n && ident_char(b[i]) {
                    i += 1;
                }
                let w = &text[s..i];
                // Prefixed literals, raw identifiers; anything else (`c"`, reserved prefixes,
                // a non-ASCII identifier) is the lexer's.
                if i < n && (matches!(b[i], b'"' | b'\'' | b'#') || !b[i].is_ascii()) {
                    let (kind, end) = match (w, b[i]) {
                        ("b", b'"') => (SyntaxKind::BYTE_STRING, string_end(b, i, true)?),
                        ("b", b'\'') => (SyntaxKind::BYTE, byte_char_end(b, i)?),
                        ("r", b'#') if b.get(i + 1).is_some_and(|&d| ident_start(d)) => {
                            let e = (i + 1..=n).find(|&j| j == n || !ident_char(b[j]))?;
                            let name = &text[i + 1..e];
                            if matches!(name, "crate" | "self" | "super" | "Self" | "_")
                                || b.get(e).is_some_and(|&d| {
                                    matches!(d, b'"' | b'\'' | b'#') || !d.is_ascii()
                                })
                            {
                                return None;
                            }
                            (SyntaxKind::IDENT, e)
                        }
                        ("r", _) => (SyntaxKind::STRING, raw_string_end(b, i, false)?),
                        ("br", _) => (SyntaxKind::BYTE_STRING, raw_string_end(b, i, true)?),
                        _ => return None,
                    };
                    if kind != SyntaxKind::IDENT && suffixed(b, end) {
                        return None;
                    }
                    i = end;
                    toks.push(tok(kind, s, i));
                    continue;
                }
                // Every keyword is lowercase and at most 8 bytes long, except `Self`.
                let kind = if w == "_" {
                    SyntaxKind::UNDERSCORE
                } else if w.len() > 8 || (c.is_ascii_uppercase() && w != "Self") {
                    SyntaxKind::IDENT
                } else {
                    SyntaxKind::from_keyword(w, edition).unwrap_or(SyntaxKind::IDENT)
                };
                toks.push(tok(kind, s, i));
                continue;
            }
            b'0'..=b'9' => {
                let s = i;
                let mut float = false;
                let radix = if c == b'0' {
                    b.get(i + 1).copied()
                } else {
                    None
                };
                if let Some(r @ (b'x' | b'o' | b'b')) = radix {
                    let ok = match (r, b.get(i + 2)) {
                        (b'x', Some(d)) => d.is_ascii_hexdigit(),
                        (b'o', Some(d)) => (b'0'..=b'7').contains(d),
                        (b'b', Some(d)) => matches!(d, b'0' | b'1'),
                        _ => false,
                    };
                    if !ok {
                        return None;
                    }
                    i += 2;
                    while i < n && ident_char(b[i]) {
                        i += 1;
                    }
                } else {
                    while i < n && (b[i].is_ascii_digit() || b[i] == b'_') {
                        i += 1;
                    }
                    // As the lexer: `1.` is a float unless `..` or a name follows (`1.max()`).
                    if i < n
                        && b[i] == b'.'
                        && b.get(i + 1)
                            .is_none_or(|&d| d != b'.' && !ident_start(d) && d.is_ascii())
                    {
                        float = true;
                        i += 1;
                        if i < n && b[i].is_ascii_digit() {
                            while i < n && (b[i].is_ascii_digit() || b[i] == b'_') {
                                i += 1;
                            }
                        }
                    }
                    // An exponent, as the lexer: a sign, then at least one digit (`_` between).
                    if i < n && matches!(b[i], b'e' | b'E') {
                        let mut j = i + 1;
                        if matches!(b.get(j), Some(b'+' | b'-')) {
                            j += 1;
                        }
                        let digits_from = j;
                        while j < n && (b[j].is_ascii_digit() || b[j] == b'_') {
                            j += 1;
                        }
                        if !b[digits_from..j].iter().any(u8::is_ascii_digit) {
                            return None;
                        }
                        float = true;
                        i = j;
                    }
                    while i < n && ident_char(b[i]) {
                        i += 1;
                    }
                }
                if i < n && !b[i].is_ascii() {
                    return None;
                }
                let kind = if float {
                    SyntaxKind::FLOAT_NUMBER
                } else {
                    SyntaxKind::INT_NUMBER
                };
                toks.push(tok(kind, s, i));
                continue;
            }
            b'"' => {
                let s = i;
                i = string_end(b, i, false)?;
                if suffixed(b, i) {
                    return None;
                }
                toks.push(tok(SyntaxKind::STRING, s, i));
                continue;
            }
            b'\'' => {
                let s = i;
                let mut kind = SyntaxKind::CHAR;
                match (b.get(i + 1), b.get(i + 2)) {
                    (Some(b'\\'), _) => {
                        let len = simple_escape(b, i + 1, Escape::Char)?;
                        if b.get(i + 1 + len) != Some(&b'\'') {
                            return None;
                        }
                        i += len + 2;
                    }
                    (Some(&x), Some(b'\'')) if (0x20..0x7f).contains(&x) && x != b'\'' => {
                        i += 3;
                    }
                    (Some(&x), _) if !x.is_ascii() => {
                        // One non-ASCII character (the text is UTF-8), then the quote.
                        let ch = text[i + 1..].chars().next()?;
                        let e = i + 1 + ch.len_utf8();
                        if b.get(e) != Some(&b'\'') {
                            return None;
                        }
                        i = e + 1;
                    }
                    (Some(&x), _) if ident_start(x) => {
                        // A lifetime or label.
                        kind = SyntaxKind::LIFETIME_IDENT;
                        i += 1;
                        while i < n && ident_char(b[i]) {
                            i += 1;
                        }
                        if i < n && (matches!(b[i], b'\'' | b'#') || !b[i].is_ascii()) {
                            return None;
                        }
                    }
                    _ => return None,
                }
                if kind == SyntaxKind::CHAR && suffixed(b, i) {
                    return None;
                }
                toks.push(tok(kind, s, i));
                continue;
            }
            b'(' | b'[' | b'{' => {
                stack.push(c);
                if stack.len() > DEEP_BRACKETS {
                    return None;
                }
            }
            b')' | b']' | b'}' => {
                let want = match c {
                    b')' => b'(',
                    b']' => b'[',
                    _ => b'{',
                };
                if stack.pop() != Some(want) {
                    return None;
                }
            }
            b'#' if matches!(b.get(i + 1), Some(b'"' | b'#')) => return None,
            b';' | b',' | b'.' | b'@' | b'#' | b'~' | b'?' | b':' | b'$' | b'=' | b'!' | b'<'
            | b'>' | b'-' | b'&' | b'|' | b'+' | b'/' | b'^' | b'%' | b'*' => {}
            _ => return None,
        }
        toks.push(tok(SyntaxKind::from_char(c as char)?, i, i + 1));
        i += 1;
    }
    if !stack.is_empty() || memchr::memchr(0, b).is_some() || !shallow(&toks, text) {
        return None;
    }
    Some(toks)
}

/// Whether [`crate::parse::depth::source_too_deep`] says no for a text with these tokens, from
/// the byte lexer (whose code, outside comments and literals, is the bytes that function
/// reads; NUL bytes are looked for by the caller): the same count, fed token by token. What
/// it refuses (too deep, too long a chain) is left to the lexer path, which refuses it too,
/// so both modes give the same one finding.
fn shallow(toks: &[Tok], text: &str) -> bool {
    use crate::parse::depth::SourceToken;
    let mut check = crate::parse::depth::DepthCheck::default();
    for t in toks {
        let s = t.text(text);
        let token = match t.kind {
            SyntaxKind::INT_NUMBER | SyntaxKind::FLOAT_NUMBER => SourceToken::Number(s),
            SyntaxKind::STRING | SyntaxKind::BYTE_STRING | SyntaxKind::BYTE | SyntaxKind::CHAR => {
                SourceToken::Literal
            }
            SyntaxKind::LIFETIME_IDENT => SourceToken::Lifetime,
            SyntaxKind::UNDERSCORE => SourceToken::Word(s),
            k if k.is_punct() => SourceToken::Punct(s.bytes().next().unwrap_or_default()),
            _ => SourceToken::Word(s),
        };
        if !check.feed(token) {
            return false;
        }
    }
    check.finish()
}

/// Length of the escape at `b[i]` (a backslash) when it is one the lexer certainly accepts:
/// `\n \r \t \\ \0 \' \"`, `\x00`-`\x7f`, and in strings a line continuation.
fn simple_escape(b: &[u8], i: usize, what: Escape) -> Option<usize> {
    let bytes = matches!(what, Escape::ByteString | Escape::Byte);
    match b.get(i + 1)? {
        b'n' | b'r' | b't' | b'\\' | b'0' | b'\'' | b'"' => Some(2),
        b'\n' if matches!(what, Escape::String | Escape::ByteString) => Some(2),
        b'x' => {
            let hi = b.get(i + 2)?;
            let lo = b.get(i + 3)?;
            let top = if bytes { b'f' } else { b'7' };
            (hi.is_ascii_hexdigit() && hi.to_ascii_lowercase() <= top && lo.is_ascii_hexdigit())
                .then_some(4)
        }
        // `\u{..}`: one to six hex digits (no `_`), a valid character.
        b'u' if !bytes => {
            if b.get(i + 2) != Some(&b'{') {
                return None;
            }
            let from = i + 3;
            let len = b[from.min(b.len())..]
                .iter()
                .take_while(|d| d.is_ascii_hexdigit())
                .count();
            if !(1..=6).contains(&len) || b.get(from + len) != Some(&b'}') {
                return None;
            }
            let v =
                u32::from_str_radix(std::str::from_utf8(&b[from..from + len]).ok()?, 16).ok()?;
            char::from_u32(v)?;
            Some(len + 4)
        }
        _ => None,
    }
}

/// A literal ending at `end` has a suffix (`"a"x`: one token for the lexer, an error later).
fn suffixed(b: &[u8], end: usize) -> bool {
    b.get(end)
        .is_some_and(|&d| d.is_ascii_alphanumeric() || d == b'_' || !d.is_ascii())
}

/// What a literal's escapes may be (see [`simple_escape`]).
#[derive(Clone, Copy)]
enum Escape {
    String,
    Char,
    ByteString,
    Byte,
}

/// The end of a `"` string (`bytes`: of a `b"` string) whose opening quote is at `q`: past its
/// closing quote. `None` for anything the lexer could object to: an escape it would reject or
/// one not understood here, a carriage return, a control character, non-ASCII in a byte
/// string, no end.
fn string_end(b: &[u8], q: usize, bytes: bool) -> Option<usize> {
    let what = if bytes {
        Escape::ByteString
    } else {
        Escape::String
    };
    let mut i = q + 1;
    loop {
        match *b.get(i)? {
            b'"' => return Some(i + 1),
            b'\\' => i += simple_escape(b, i, what)?,
            b'\n' | b'\t' | 0x20..0x7f => i += 1,
            // Non-ASCII: part of a UTF-8 character in a string (the text is UTF-8).
            d if d >= 0x80 && !bytes => i += 1,
            _ => return None,
        }
    }
}

/// The end of a `b'x'` byte literal whose quote is at `q`.
fn byte_char_end(b: &[u8], q: usize) -> Option<usize> {
    let len = match *b.get(q + 1)? {
        b'\\' => simple_escape(b, q + 1, Escape::Byte)?,
        b'\'' => return None,
        0x20..0x7f => 1,
        _ => return None,
    };
    (b.get(q + 1 + len) == Some(&b'\'')).then_some(q + 2 + len)
}

/// The end of a raw string whose `#`s (or quote) start at `h`: `"` then as many `#`s as
/// opened it. `None` for a carriage return, non-ASCII in a raw byte string, too many `#`s
/// or no end.
fn raw_string_end(b: &[u8], h: usize, bytes: bool) -> Option<usize> {
    let hashes = b[h..].iter().take_while(|&&d| d == b'#').count();
    if hashes > 255 || b.get(h + hashes) != Some(&b'"') {
        return None;
    }
    let mut i = h + hashes + 1;
    loop {
        match *b.get(i)? {
            b'"' if b.len() >= i + 1 + hashes
                && b[i + 1..i + 1 + hashes].iter().all(|&d| d == b'#') =>
            {
                return Some(i + 1 + hashes);
            }
            b'\r' => return None,
            d if bytes && !d.is_ascii() => return None,
            _ => i += 1,
        }
    }
}

/// Identifiers of `use` / `extern crate` items, and relative glob imports.
fn use_items(toks: &[Tok], text: &str, out: &mut Scan) {
    let mut v = Vec::new();
    let mut rel = Vec::new();
    let colon = |i: usize| toks.get(i).is_some_and(|t| t.kind == SyntaxKind::COLON);
    let mut rp = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        if !matches!(
            t.kind,
            SyntaxKind::SELF_KW | SyntaxKind::SUPER_KW | SyntaxKind::CRATE_KW
        ) {
            continue;
        }
        let mut j = i + 1;
        loop {
            let step = if toks.get(j).is_some_and(|t| t.kind == SyntaxKind::COLON2) {
                1
            } else if colon(j) && colon(j + 1) {
                2
            } else {
                break;
            };
            j += step;
            match toks.get(j) {
                Some(t) if t.kind.is_any_identifier() => {
                    rp.push(hash(t.text(text)));
                    j += 1;
                }
                _ => break,
            }
        }
    }
    out.rel_path_idents = sorted(rp);
    let mut i = 0;
    while i < toks.len() {
        let k = toks[i].kind;
        let starts = k == SyntaxKind::USE_KW
            || (k == SyntaxKind::EXTERN_KW
                && toks
                    .get(i + 1)
                    .is_some_and(|t| t.kind == SyntaxKind::CRATE_KW));
        if !starts {
            i += 1;
            continue;
        }
        let mut relative = false;
        let mut glob = false;
        let first = v.len();
        let mut j = i + 1;
        while j < toks.len() && toks[j].kind != SyntaxKind::SEMICOLON {
            let t = &toks[j];
            match t.kind {
                SyntaxKind::STAR => glob = true,
                SyntaxKind::SELF_KW | SyntaxKind::SUPER_KW | SyntaxKind::CRATE_KW => {
                    relative = true
                }
                _ => {}
            }
            if t.kind.is_any_identifier() {
                v.push(hash(t.text(text)));
            }
            // A `use` never contains these; stop at what cannot be part of one.
            if matches!(
                t.kind,
                SyntaxKind::L_PAREN | SyntaxKind::FN_KW | SyntaxKind::EQ
            ) {
                break;
            }
            j += 1;
        }
        if glob && relative {
            let kinds: Vec<SyntaxKind> = toks[i + 1..j.min(toks.len())]
                .iter()
                .map(|t| t.kind)
                .collect();
            let is = |k: &[SyntaxKind]| kinds == k;
            use SyntaxKind::{COLON2, SELF_KW, STAR, SUPER_KW};
            if is(&[SELF_KW, COLON2, STAR]) {
                // The module's own items: nothing new.
            } else if is(&[SUPER_KW, COLON2, STAR]) {
                // Inside an inline module `super` is a module of this file, which can only
                // export what this file names (and so is relevant for); outside, it is the
                // parent file's module.
                if !in_inline_mod(toks, i) {
                    out.glob_parent = true;
                }
            } else if v[first..].is_empty() || kinds.contains(&SyntaxKind::L_CURLY) {
                out.glob_crate = true;
            }
        }
        if relative {
            rel.extend_from_slice(&v[first..]);
        }
        i = j + 1;
    }
    out.rel_use_idents = sorted(rel);
}

/// Nesting deeper than this (brackets) is parsed even when the file cannot matter: the
/// parse stage reports trees deeper than its walkers go (`parse::MAX_WALK_DEPTH`).
pub const DEEP_BRACKETS: usize = 256;

/// Whether brackets match and nest at most [`DEEP_BRACKETS`] deep.
fn balanced(toks: &[Tok]) -> bool {
    let mut stack = Vec::new();
    for t in toks {
        if let Some(c) = open(t.kind) {
            stack.push(c);
            if stack.len() > DEEP_BRACKETS {
                return false;
            }
        } else if is_close(t.kind) && stack.pop() != Some(t.kind) {
            return false;
        }
    }
    stack.is_empty()
}

/// Whether token `at` sits inside the braces of an inline `mod x { .. }` (brackets are
/// balanced when this matters: an unbalanced file is parsed).
fn in_inline_mod(toks: &[Tok], at: usize) -> bool {
    let mut stack: Vec<bool> = Vec::new();
    for (i, t) in toks[..at].iter().enumerate() {
        if open(t.kind).is_some() {
            let is_mod = t.kind == SyntaxKind::L_CURLY
                && i >= 2
                && toks[i - 2].kind == SyntaxKind::MOD_KW
                && toks[i - 1].kind.is_any_identifier();
            stack.push(is_mod);
        } else if is_close(t.kind) {
            stack.pop();
        }
    }
    stack.iter().any(|m| *m)
}

fn open(k: SyntaxKind) -> Option<SyntaxKind> {
    match k {
        SyntaxKind::L_PAREN => Some(SyntaxKind::R_PAREN),
        SyntaxKind::L_BRACK => Some(SyntaxKind::R_BRACK),
        SyntaxKind::L_CURLY => Some(SyntaxKind::R_CURLY),
        _ => None,
    }
}

fn is_close(k: SyntaxKind) -> bool {
    matches!(
        k,
        SyntaxKind::R_PAREN | SyntaxKind::R_BRACK | SyntaxKind::R_CURLY
    )
}

/// Index just past the group opened at `i` (brackets must match); `None` when unbalanced
/// or when a `mod` keyword is inside.
fn skip_group(toks: &[Tok], i: usize) -> Option<usize> {
    group(toks, i, false)
}

/// Index just past the group opened at `i` (brackets must match); with `mods` false, `None`
/// at a `mod` keyword inside.
fn group(toks: &[Tok], i: usize, mods: bool) -> Option<usize> {
    let mut stack = vec![open(toks[i].kind)?];
    let mut j = i + 1;
    while j < toks.len() {
        let k = toks[j].kind;
        if k == SyntaxKind::MOD_KW && !mods {
            return None;
        }
        if let Some(c) = open(k) {
            stack.push(c);
        } else if is_close(k) {
            if stack.pop() != Some(k) {
                return None;
            }
            if stack.is_empty() {
                return Some(j + 1);
            }
        }
        j += 1;
    }
    None
}

/// The module structure of a file whose `mod` items all sit at the top level or in the
/// bodies of inline modules (no `mod` inside a function, an `impl`, a macro call...), with
/// balanced brackets; `None` otherwise. Modules and declarations come in the parse stage's
/// order (pre-order), with the same parents and test flags.
fn skeleton(toks: &[Tok], text: &str) -> Option<(Vec<ModuleSummary>, Vec<ModDecl>)> {
    let mut modules = vec![ModuleSummary::default()];
    let mut decls = Vec::new();
    skeleton_items(toks, text, 0, toks.len(), 0, 0, &mut modules, &mut decls)?;
    Some((modules, decls))
}

/// Inline modules nested deeper than this are left to the parser.
const SKELETON_DEPTH: usize = 64;

/// The items of module `module` in `toks[from..to]` (see [`skeleton`]).
#[allow(clippy::too_many_arguments)]
fn skeleton_items(
    toks: &[Tok],
    text: &str,
    from: usize,
    to: usize,
    module: usize,
    depth: usize,
    modules: &mut Vec<ModuleSummary>,
    decls: &mut Vec<ModDecl>,
) -> Option<()> {
    let toks = &toks[..to];
    let mut attrs: Vec<&str> = Vec::new();
    // Whether an item may start here (after a finished item, an attribute or `pub`).
    let mut item_start = true;
    let mut i = from;
    while i < toks.len() {
        let k = toks[i].kind;
        match k {
            SyntaxKind::POUND => {
                let inner = toks.get(i + 1).is_some_and(|t| t.kind == SyntaxKind::BANG);
                let b = if inner { i + 2 } else { i + 1 };
                if toks.get(b).is_none_or(|t| t.kind != SyntaxKind::L_BRACK) {
                    return None;
                }
                let end = skip_group(toks, b)?;
                if inner {
                    attrs.clear();
                } else {
                    let s = toks[i].start as usize;
                    let e = toks[end - 1].end as usize;
                    attrs.push(text.get(s..e)?);
                }
                i = end;
                continue;
            }
            SyntaxKind::PUB_KW => {
                i += 1;
                if toks.get(i).is_some_and(|t| t.kind == SyntaxKind::L_PAREN) {
                    i = skip_group(toks, i)?;
                }
                continue;
            }
            SyntaxKind::MOD_KW => {
                if !item_start {
                    return None;
                }
                let name_tok = toks.get(i + 1)?;
                if name_tok.kind != SyntaxKind::IDENT {
                    return None;
                }
                // As the parse stage names it: a raw identifier without its `r#`.
                let name_text = name_tok.text(text);
                let name = name_text
                    .strip_prefix("r#")
                    .unwrap_or(name_text)
                    .to_string();
                let is_test = modules[module].is_test
                    || attrs.iter().any(|a| attr_is_test(a))
                    || attrs.iter().any(|a| attr_path_is_test(a));
                match toks.get(i + 2).map(|t| t.kind) {
                    Some(SyntaxKind::SEMICOLON) => {
                        decls.push(ModDecl {
                            name: name.clone(),
                            path_attr: attrs.iter().find_map(|a| path_attr(a)),
                            cfg_path_attrs: attrs
                                .iter()
                                .filter_map(|a| crate::parse::cfg_attr_path(a))
                                .collect(),
                            is_test,
                            parent: module,
                            span: name_tok.start..name_tok.end,
                        });
                        modules[module].items.push(mod_item(name, None));
                        i += 3;
                    }
                    Some(SyntaxKind::L_CURLY) => {
                        if depth >= SKELETON_DEPTH {
                            return None;
                        }
                        let idx = modules.len();
                        let mut inline_path = modules[module].inline_path.clone();
                        inline_path.push(name.clone());
                        modules.push(ModuleSummary {
                            inline_path,
                            parent: Some(module),
                            is_test,
                            ..Default::default()
                        });
                        modules[module].items.push(mod_item(name, Some(idx)));
                        let end = group(toks, i + 2, true)?;
                        skeleton_items(toks, text, i + 3, end - 1, idx, depth + 1, modules, decls)?;
                        i = end;
                    }
                    _ => return None,
                }
                attrs.clear();
                item_start = true;
                continue;
            }
            _ => {}
        }
        attrs.clear();
        if open(k).is_some() {
            i = skip_group(toks, i)?;
            item_start = k == SyntaxKind::L_CURLY;
            continue;
        }
        if is_close(k) {
            return None;
        }
        item_start = k == SyntaxKind::SEMICOLON;
        i += 1;
    }
    Some(())
}

/// `#[test]`, `#[tokio::test]`, `#[rstest]`...: the attribute path's last segment, as the
/// parse stage decides it.
fn attr_path_is_test(text: &str) -> bool {
    let t = text.trim_start_matches('#').trim_start();
    let Some(t) = t.strip_prefix('[') else {
        return false;
    };
    let path: String = t
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':' || c.is_whitespace())
        .filter(|c| !c.is_whitespace())
        .collect();
    let last = path.rsplit("::").next().unwrap_or("");
    matches!(
        last,
        "test" | "rstest" | "test_case" | "quickcheck" | "bench"
    )
}

fn mod_item(name: String, module: Option<usize>) -> ItemDef {
    ItemDef {
        name,
        kind: ItemKind::Mod,
        module,
        alias_of: None,
        adt: None,
        func: None,
    }
}

/// The summary of a file that is not parsed.
fn skeleton_summary(scan: &Scan, text: &str) -> Option<FileSummary> {
    let (modules, mod_decls) = scan.skeleton.clone()?;
    Some(FileSummary {
        modules,
        mod_decls,
        line_count: crate::parse::line_count(text),
        ..Default::default()
    })
}

/// Identifier hashes inside each function's range (for "its body mentions a trigger").
fn fn_idents(text: &str, summary: &FileSummary, edition: Edition) -> Vec<Vec<u64>> {
    if summary.fns.is_empty() {
        return Vec::new();
    }
    // The byte lexer's tokens are the real lexer's when it accepts the text.
    let occ: Vec<(u32, u64)> = match quick_scan(text, edition) {
        Some(toks) => toks
            .iter()
            .filter(|t| t.kind.is_any_identifier())
            .map(|t| (t.start, hash(t.text(text))))
            .collect(),
        None => {
            let lexed = ra_ap_parser::LexedStr::new(edition, text);
            (0..lexed.len())
                .filter(|&i| lexed.kind(i).is_any_identifier())
                .map(|i| (lexed.text_start(i) as u32, hash(lexed.text(i))))
                .collect()
        }
    };
    summary
        .fns
        .iter()
        .map(|f| {
            let a = occ.partition_point(|o| o.0 < f.span.start);
            let b = occ.partition_point(|o| o.0 < f.span.end);
            sorted(occ[a..b].iter().map(|o| o.1).collect())
        })
        .collect()
}

/// The names the pack index and the config make relevant before any file is read: the pack
/// names (pack types, free functions) and the strong ones (config modules). The pack crates'
/// own names are strong only in the crates that depend on them (see [`pack_externs`]).
fn initial_triggers(packs: &PackIndex, cfg: &Config) -> Names {
    let mut strong: HashSet<String> = HashSet::new();
    for p in cfg.all_module_paths() {
        strong.extend(p.segs.iter().cloned());
    }
    for (from, to) in &cfg.deprecated {
        strong.extend(from.segs.iter().cloned());
        strong.extend(to.segs.iter().cloned());
    }
    if std::env::var_os("SSOT_PREFILTER_STATS").is_some() {
        let mut w: Vec<&String> = strong.iter().collect();
        w.sort();
        eprintln!("prefilter-t0: strong {w:?}");
    }
    Names {
        pack: packs
            .names
            .get_or_init(|| Arc::new(pack_names(packs)))
            .clone(),
        weak: IdSet::default(),
        strong: strong.iter().map(|n| hash(n)).collect(),
        crate_of: IdMap::default(),
        globbed: HashSet::new(),
    }
}

/// The names of the packs' paths by pack crate, and the pack crates.
fn pack_names(packs: &PackIndex) -> crate::packs::PackNames {
    let mut names: HashMap<String, HashSet<String>> = HashMap::new();
    let upper = |s: &str| s.chars().next().is_some_and(|c| c.is_uppercase());
    let mut add_path = |p: &[String], leaf_always: bool| {
        let Some(first) = p.first() else { return };
        let names = names.entry(first.clone()).or_default();
        for (i, s) in p.iter().enumerate() {
            let last = i + 1 == p.len();
            let parent_is_type = i > 0 && upper(&p[i - 1]);
            if i == 0 || upper(s) || (last && (leaf_always || !parent_is_type)) {
                names.insert(s.clone());
            }
        }
    };
    for p in packs.constructors.keys() {
        add_path(p, false);
    }
    for p in packs.builders.keys() {
        add_path(p, false);
    }
    for p in packs.holders.keys() {
        add_path(p, true);
    }
    for (p, _) in packs.methods.keys() {
        add_path(p, true);
    }
    let mut pack_crates: HashSet<String> = HashSet::new();
    for p in packs
        .constructors
        .keys()
        .chain(packs.builders.keys())
        .chain(packs.holders.keys())
        .chain(packs.methods.keys().map(|(r, _)| r))
    {
        if let Some(f) = p.first() {
            pack_crates.insert(f.clone());
        }
    }
    for pk in &packs.packs {
        for c in &pk.crates {
            pack_crates.insert(workspace::underscore(c));
        }
    }
    crate::packs::PackNames {
        by_crate: names
            .into_iter()
            .map(|(c, ns)| (c, ns.iter().map(|n| hash(n)).collect()))
            .collect(),
        crates: pack_crates,
    }
}

/// Trigger names, hashed. *Strong* names lead to a pack path wherever they are written: a
/// module of the config, a module that exports a trigger, a method called by name
/// (`init`-like methods of holders). *Weak* names (an import, alias, holder type, static or
/// init function made from a trigger) only when a path can reach them: through a `use` item,
/// or a path starting at `crate::`/`self::`/`super::` (an unqualified name needs a `use`; a
/// qualified one starts at a strong name or at one of those roots).
///
/// A pack crate's name, or a dependency renamed from one, is strong only in the files of the
/// crates that have it in their extern prelude (a published dependency, see
/// [`pack_externs`]): a pack path is only ever reached through a crate's extern prelude (the
/// resolver gives `Res::Ext` for nothing else), so elsewhere the name can only be a local
/// item, which leads to a pack path only if its own file is relevant (and then its name is
/// derived). A workspace crate, even one named like a pack crate, is resolved into its own
/// module tree, never to a pack path: its names are derived from its files like any other.
///
/// *Pack* names (the types and free functions the packs list) are names of items of the pack
/// crates. They lead to a pack path only through an import from a pack crate: a named one (a
/// path naming the crate, whose binding becomes a weak name) or a glob (`use sqlx::*;`, whose
/// bindings have no names to derive). A glob of a pack crate, or of a name bound to one
/// (`use sqlx as db; use db::*;`), makes the names that crate's pack paths use weak: its
/// bindings are reached by the file's own paths and, like any import, by `crate::`/`self::`/
/// `super::` paths and `use` items of other files.
#[derive(Debug, Default, Clone)]
pub struct Names {
    /// The names of the pack paths by their first segment (the pack crate), and the pack
    /// crates.
    pub pack: Arc<crate::packs::PackNames>,
    pub weak: IdSet,
    pub strong: IdSet,
    /// Names bound to a pack crate or to a path below one (`use sqlx as db;`,
    /// `extern crate sqlx as db;`, `use sqlx::postgres;`): the crate.
    pub crate_of: IdMap<String>,
    /// The pack crates a glob import made the pack names of weak.
    pub globbed: HashSet<String>,
}

impl Names {
    fn any(&self, h: u64) -> bool {
        self.weak.contains(&h) || self.strong.contains(&h)
    }

    fn len(&self) -> usize {
        self.weak.len() + self.strong.len() + self.crate_of.len()
    }

    /// Whether a file can reach a trigger (module docs); `ext`: the pack crates' names in the
    /// extern preludes of its crates.
    fn reaches(&self, sc: &Scan, ext: &IdMap<String>) -> bool {
        sc.idents
            .iter()
            .any(|h| self.strong.contains(h) || ext.contains_key(h))
            || sc.rel_use_idents.iter().any(|h| self.weak.contains(h))
            || sc.rel_path_idents.iter().any(|h| self.weak.contains(h))
    }
}

/// The names of a crate's extern prelude that lead to a pack crate: its published
/// dependencies (renames applied) whose package is a pack crate, hashed, and that crate.
fn pack_externs(c: &crates::CrateDef, pack_crates: &HashSet<String>) -> Vec<(u64, String)> {
    c.externs
        .iter()
        .filter_map(|(name, r)| match r {
            crates::ExternRef::Package(p) if pack_crates.contains(p) => {
                Some((hash(name), p.clone()))
            }
            _ => None,
        })
        .collect()
}

fn init_like(name: &str) -> bool {
    matches!(name, "initialize" | "init" | "setup" | "warm_up" | "warmup")
        || name.starts_with("init_")
        || name.starts_with("initialize_")
}

/// Build the crate graph of a unit, parsing only the files that can matter (all of them when
/// `prefilter` is off) and those in `forced` (files the model asked for, see
/// `Model::needs_parse`), and decide SSOT000's source per file (see the module docs).
#[allow(clippy::too_many_arguments)]
pub fn build<'v>(
    fs: &'v dyn crate::vfs::FileSystem,
    unit: &Unit,
    out_root: &Path,
    packs: &PackIndex,
    cfg: &Config,
    prefilter: bool,
    cache: &Cache,
    forced: &HashSet<PathBuf>,
) -> CrateGraph<'v> {
    let t0 = initial_triggers(packs, cfg);
    // The pack crates among each package's published dependencies, for the files below its
    // directory (the crates of the fixpoint decide; this only chooses what to parse at once).
    let unit_libs: HashSet<String> = unit
        .packages
        .iter()
        .filter(|p| p.lib_name().is_some())
        .map(|p| workspace::underscore(&p.name))
        .collect();
    let pkg_ext: Vec<(&Path, IdMap<String>)> = unit
        .packages
        .iter()
        .map(|p| {
            let ext = p
                .deps
                .iter()
                .filter(|d| t0.pack.crates.contains(&d.package) && !unit_libs.contains(&d.package))
                .map(|d| (hash(&d.extern_name), d.package.clone()))
                .collect();
            (p.dir.as_path(), ext)
        })
        .collect();
    let no_ext = IdMap::default();
    let scans: Mutex<HashMap<PathBuf, Scan>> = Mutex::new(HashMap::new());
    let mismatch = std::sync::atomic::AtomicBool::new(false);
    let summarize = |path: &Path, text: &str, edition: Edition| -> Arc<FileSummary> {
        let ext = pkg_ext
            .iter()
            .filter(|(d, _)| path.starts_with(d))
            .max_by_key(|(d, _)| d.components().count())
            .map_or(&no_ext, |(_, e)| e);
        // The byte scan first; the lexer when it declines or when the file may be relevant.
        let mut sc = match cache.get_or(Kind::Quick, text, edition, || quick(text, edition)) {
            // The byte lexer accepts no text that is too deep (see `shallow`).
            Some(q) => q,
            _ => cache.get_or(Kind::Scan, text, edition, || scan(text, edition)),
        };
        let first_look = sc.marker || t0.reaches(&sc, ext);
        let summary = if prefilter && !first_look && !sc.broken && sc.skeleton.is_none() {
            // Only a parse can place its `mod` items: parse it for its structure alone (it
            // stays unparsed for the fixpoint, which parses it in full if it turns relevant).
            cache.get_shared(Kind::Structure, text, edition, || {
                crate::parse::structure(text, edition)
            })
        } else if !prefilter || first_look || sc.skeleton.is_none() || sc.broken {
            let s = cache.get_shared(Kind::Summary, text, edition, || {
                crate::parse::summarize(text, edition)
            });
            sc.fn_idents = cache.get_or(Kind::FnIdents, text, edition, || {
                fn_idents(text, &s, edition)
            });
            sc.parsed = true;
            // Without the prefilter, check the lexer's module structure (or the structure-only
            // parse's, where the lexer has none) against the parse.
            let structure = || match skeleton_summary(&sc, text) {
                Some(sk) => Some(sk),
                None if !sc.broken => Some(crate::parse::structure(text, edition)),
                None => None,
            };
            if !prefilter
                && let Some(sk) = structure()
                && !(same_structure(&sk, &s) && same_mod_items(&sk, &s))
            {
                mismatch.store(true, std::sync::atomic::Ordering::Relaxed);
                eprintln!(
                    "ssot-lint: internal: the prefilter's module structure of {} differs from the parse",
                    path.display()
                );
            }
            s
        } else {
            Arc::new(skeleton_summary(&sc, text).unwrap_or_default())
        };
        if let Ok(mut m) = scans.lock() {
            m.insert(path.to_path_buf(), sc);
        }
        summary
    };
    let mut g = crates::build_with(fs, unit, out_root, &summarize);
    let mut scans = scans.into_inner().unwrap_or_default();
    let file_scans: Vec<Scan> = g
        .files
        .iter()
        .map(|f| scans.remove(&f.path).unwrap_or_default())
        .collect();
    if !fixpoint(&mut g, unit, t0, file_scans, cfg, cache, forced) && prefilter {
        // The lexer saw a module structure the parser does not: never trust it.
        return build(fs, unit, out_root, packs, cfg, false, cache, forced);
    }
    g
}

#[allow(clippy::too_many_arguments)]
fn fixpoint(
    g: &mut CrateGraph,
    unit: &Unit,
    mut t: Names,
    mut scans: Vec<Scan>,
    cfg: &Config,
    cache: &Cache,
    asked: &HashSet<PathBuf>,
) -> bool {
    let mut consistent = true;
    let n = g.files.len();
    // Files of modules the config names (and their submodules) are always relevant, and so
    // are the files the model asked for.
    let mut forced: Vec<bool> = g.files.iter().map(|f| asked.contains(&f.path)).collect();
    let cfg_paths: Vec<Vec<String>> = cfg
        .all_module_paths()
        .map(|p| p.segs.clone())
        .chain(cfg.deprecated.iter().map(|(f, _)| f.segs.clone()))
        .collect();
    for c in &g.crates {
        for m in c.modules.iter() {
            let under = |p: &Vec<String>| {
                p.split_first()
                    .is_none_or(|(first, rest)| *first == c.name && m.path.starts_with(rest))
            };
            if cfg_paths.iter().any(under) {
                forced[m.file.index()] = true;
            }
        }
    }
    // The crates (by index) each file belongs to, and the names its root module goes by.
    let mut file_crates: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut file_names: Vec<Vec<String>> = vec![Vec::new(); n];
    for (k, c) in g.crates.iter().enumerate() {
        for (file, root, _) in c.modules.files() {
            file_crates[file.index()].push(k);
            let last = c.modules.get(root).path.last().cloned();
            file_names[file.index()].push(last.unwrap_or_else(|| c.name.clone()));
        }
    }
    // The pack crates' names in each file's crates' extern preludes, and the files of each
    // file's parent modules.
    let mut file_ext: Vec<IdMap<String>> = vec![IdMap::default(); n];
    let mut parent_files: Vec<Vec<usize>> = vec![Vec::new(); n];
    for c in &g.crates {
        let ext = pack_externs(c, &t.pack.crates);
        for (file, root, _) in c.modules.files() {
            file_ext[file.index()].extend(ext.iter().cloned());
            if let Some(p) = c.modules.get(root).parent {
                parent_files[file.index()].push(c.modules.get(p).file.index());
            }
        }
    }
    let mut crate_exports = vec![false; g.crates.len()];
    // Some module of the file exports a trigger.
    let mut file_exports = vec![false; n];
    let mut relevant = vec![false; n];
    let mut rounds = 0;
    let debug = std::env::var_os("SSOT_PREFILTER_STATS").is_some();
    loop {
        rounds += 1;
        let mut newly: Vec<usize> = Vec::new();
        for i in 0..n {
            if relevant[i] {
                continue;
            }
            let sc = &scans[i];
            let why = if forced[i] {
                Some("forced")
            } else if sc.marker {
                Some("marker")
            } else if t.reaches(sc, &file_ext[i]) {
                Some("names")
            } else if sc.glob_parent && parent_files[i].iter().any(|&p| file_exports[p]) {
                Some("glob-parent")
            } else if sc.glob_crate && file_crates[i].iter().any(|&k| crate_exports[k]) {
                Some("glob-crate")
            } else {
                None
            };
            if let Some(why) = why {
                if debug {
                    eprintln!("prefilter-why: round {rounds} {why} {}", g.files[i].rel);
                }
                relevant[i] = true;
                newly.push(i);
            }
        }
        if newly.is_empty() {
            break;
        }
        // Parse the newly relevant files that only have a skeleton.
        let to_parse: Vec<usize> = newly
            .iter()
            .copied()
            .filter(|&i| !scans[i].parsed)
            .collect();
        let results: Vec<(usize, Option<Parsed>)> = to_parse
            .par_iter()
            .map(|&i| {
                let p = &g.files[i].path;
                let ed = crates::edition_for(unit, p);
                match g.fs.read_text(p, Some(&g.read_root)) {
                    Ok(text) => {
                        let s = cache.get_shared(Kind::Summary, &text, ed, || {
                            crate::parse::summarize(&text, ed)
                        });
                        let fi =
                            cache.get_or(Kind::FnIdents, &text, ed, || fn_idents(&text, &s, ed));
                        (i, Some((s, fi)))
                    }
                    Err(_) => (i, None),
                }
            })
            .collect();
        for (i, r) in results {
            scans[i].parsed = true;
            let Some((s, fi)) = r else { continue };
            if !same_structure(&g.files[i].summary, &s) {
                consistent = false;
            }
            scans[i].fn_idents = fi;
            g.files[i].summary = s;
        }
        // Derive names from every relevant file until nothing changes.
        loop {
            let count = |v: &[bool]| v.iter().filter(|e| **e).count();
            let before = (t.len(), count(&crate_exports), count(&file_exports));
            for i in 0..n {
                if !relevant[i] {
                    continue;
                }
                let s = g.files[i].summary.clone();
                let around = Around {
                    ext: &file_ext[i],
                    parent_exports: parent_files[i].iter().any(|&p| file_exports[p]),
                    crate_exports: file_crates[i].iter().any(|&k| crate_exports[k]),
                };
                let (root_exports, any_exports) = derive(&s, &scans[i], &mut t, around);
                file_exports[i] |= any_exports;
                if root_exports {
                    if debug {
                        eprintln!("prefilter-exports: {}", g.files[i].rel);
                    }
                    for name in &file_names[i] {
                        t.strong.insert(hash(name));
                    }
                    for &k in &file_crates[i] {
                        crate_exports[k] = true;
                    }
                }
            }
            let after = (t.len(), count(&crate_exports), count(&file_exports));
            if before == after {
                break;
            }
        }
    }
    if std::env::var_os("SSOT_PREFILTER_STATS").is_some() {
        eprintln!(
            "prefilter: {} files, {} relevant, {} parsed, {} rounds, {} weak, {} strong, {} byte-lexed",
            n,
            relevant.iter().filter(|r| **r).count(),
            scans.iter().filter(|s| s.parsed).count(),
            rounds,
            t.weak.len(),
            t.strong.len(),
            scans.iter().filter(|s| s.quick).count()
        );
    }
    for (i, (f, sc)) in g.files.iter_mut().zip(&scans).enumerate() {
        f.skeleton = !sc.parsed;
        if debug && sc.parsed && !relevant[i] {
            let why = if sc.broken { "broken" } else { "structure" };
            eprintln!("prefilter-parsed: {why} {}", f.rel);
        }
    }
    // SSOT000: the parse's errors for relevant files and lexically broken ones, none for the
    // others (in both modes: the output does not depend on `--no-prefilter`).
    for i in 0..n {
        let s = &g.files[i].summary;
        if !relevant[i]
            && !scans[i].broken
            && (!s.syntax_errors.is_empty() || s.syntax_error_count != 0)
        {
            let mut s2 = (**s).clone();
            s2.syntax_errors.clear();
            s2.syntax_error_count = 0;
            g.files[i].summary = Arc::new(s2);
        }
    }
    consistent
}

/// A file's full summary and its functions' identifiers.
type Parsed = (Arc<FileSummary>, Vec<Vec<u64>>);

/// Whether two summaries have the same `mod` items in each module.
fn same_mod_items(a: &FileSummary, b: &FileSummary) -> bool {
    let mods = |m: &ModuleSummary| -> Vec<(String, Option<usize>)> {
        m.items
            .iter()
            .filter(|i| i.kind == ItemKind::Mod)
            .map(|i| (i.name.clone(), i.module))
            .collect()
    };
    a.modules.len() == b.modules.len()
        && a.modules
            .iter()
            .zip(&b.modules)
            .all(|(x, y)| mods(x) == mods(y))
}

/// Whether two summaries describe the same module structure.
fn same_structure(a: &FileSummary, b: &FileSummary) -> bool {
    a.modules.len() == b.modules.len()
        && a.mod_decls.len() == b.mod_decls.len()
        && a.modules.iter().zip(&b.modules).all(|(x, y)| {
            x.inline_path == y.inline_path && x.parent == y.parent && x.is_test == y.is_test
        })
        && a.mod_decls.iter().zip(&b.mod_decls).all(|(x, y)| {
            x.name == y.name
                && x.path_attr == y.path_attr
                && x.cfg_path_attrs == y.cfg_path_attrs
                && x.is_test == y.is_test
                && x.parent == y.parent
                && x.span == y.span
        })
}

/// What [`derive`] needs to know about a file's surroundings.
#[derive(Clone, Copy)]
struct Around<'a> {
    /// The pack crates' names in the extern preludes of the file's crates.
    ext: &'a IdMap<String>,
    /// The module of a parent file exports a trigger (`use super::*;` at the top).
    parent_exports: bool,
    /// Some module of the file's crate exports a trigger (other relative globs).
    crate_exports: bool,
}

/// Add the names a relevant file defines from trigger names; whether its root module
/// exports a trigger (so its own name leads to one), and whether any of its modules does.
fn derive(s: &FileSummary, sc: &Scan, t: &mut Names, around: Around) -> (bool, bool) {
    use crate::summary::ImportKind;
    let debug = std::env::var_os("SSOT_PREFILTER_STATS").is_some();
    let weak = |t: &mut Names, name: &str, why: &str| {
        if t.weak.insert(hash(name)) && debug {
            eprintln!("prefilter-name: {why} {name}");
        }
    };
    let strong = |t: &mut Names, name: &str, why: &str| {
        if t.strong.insert(hash(name)) && debug {
            eprintln!("prefilter-name: {why} {name}");
        }
    };
    let ext = around.ext;
    let any = |t: &Names, h: u64| t.any(h) || ext.contains_key(&h);
    let hit = |t: &Names, segs: &[String]| segs.iter().any(|x| any(t, hash(x)));
    // The pack crate a path starts at, through the extern prelude or a name bound to one.
    let crate_of = |t: &Names, segs: &[String]| -> Option<String> {
        let h = hash(segs.first()?);
        ext.get(&h).or_else(|| t.crate_of.get(&h)).cloned()
    };
    let bind_crate = |t: &mut Names, name: &str, krate: Option<String>| {
        if let Some(c) = krate {
            t.crate_of.insert(hash(name), c);
        }
    };
    let ty_hit = |t: &Names, ty: &crate::summary::RawType| {
        ty.all.iter().any(|p| hit(t, &p.segs)) || ty.head.as_ref().is_some_and(|p| hit(t, &p.segs))
    };
    // Imports: a binding of a trigger is one; a binding of a strong name (a crate, a module
    // that exports) is strong. Returns whether the imports export a trigger, and whether
    // they glob-import the parent module (`use super::*;`, decided below).
    let imports = |imps: &[crate::summary::Import], t: &mut Names| -> (bool, bool) {
        let mut ex = false;
        let mut parent_glob = false;
        for imp in imps {
            match &imp.kind {
                ImportKind::Named(n) => {
                    bind_crate(t, n, crate_of(t, &imp.path));
                    let strong_leaf = |l: &String| {
                        let h = hash(l);
                        t.strong.contains(&h) || ext.contains_key(&h)
                    };
                    if imp.path.last().is_some_and(strong_leaf) {
                        strong(t, n, "import-module");
                        ex = true;
                    } else if hit(t, &imp.path) {
                        weak(t, n, "import");
                        ex = true;
                    }
                }
                ImportKind::Glob => {
                    let keyword = |x: &String| matches!(x.as_str(), "self" | "super" | "crate");
                    if let Some(c) = crate_of(t, &imp.path)
                        && t.globbed.insert(c.clone())
                    {
                        if let Some(names) = t.pack.by_crate.get(&c) {
                            t.weak.extend(names.iter().copied());
                        }
                        if debug {
                            eprintln!("prefilter-name: glob {c}::*");
                        }
                    }
                    if imp.path == ["super"] {
                        parent_glob = true;
                    } else if imp.path == ["self"] {
                        // The module's own items: nothing new.
                    } else if hit(t, &imp.path)
                        || (imp.path.iter().all(keyword) && around.crate_exports)
                    {
                        ex = true;
                    }
                }
                ImportKind::Underscore => {}
            }
        }
        (ex, parent_glob)
    };
    let mut exports = vec![false; s.modules.len()];
    let mut parent_globs = vec![false; s.modules.len()];
    for (mi, m) in s.modules.iter().enumerate() {
        let (mut ex, pg) = imports(&m.imports, t);
        parent_globs[mi] = pg;
        for (c, b) in &m.extern_crates {
            bind_crate(t, b, ext.get(&hash(c)).cloned());
            if any(t, hash(c)) {
                strong(t, b, "extern-crate");
                ex = true;
            }
        }
        for it in &m.items {
            if it.kind == ItemKind::TypeAlias && it.alias_of.as_ref().is_some_and(|a| ty_hit(t, a))
            {
                weak(t, &it.name, "alias");
                ex = true;
            }
            if it.kind == ItemKind::Mod && t.strong.contains(&hash(&it.name)) {
                ex = true;
            }
        }
        exports[mi] |= ex;
    }
    for a in &s.adts {
        if a.fields.iter().any(|(_, ty)| ty_hit(t, ty)) {
            weak(t, &a.name, "adt");
            exports[a.module] = true;
        }
    }
    for st in &s.statics {
        if ty_hit(t, &st.ty) {
            weak(t, &st.name, "static");
            if st.func.is_none() {
                exports[st.module] = true;
            }
        }
    }
    for (fi, f) in s.fns.iter().enumerate() {
        imports(&f.local_imports, t);
        // Functions matter across files by name only as initializations (SSOT005): a
        // method by its name alone, a function by its path.
        if !init_like(&f.name) {
            continue;
        }
        if f.self_type.is_some() {
            strong(t, &f.name, "init-method");
        } else if sc
            .fn_idents
            .get(fi)
            .is_some_and(|ids| ids.iter().any(|h| any(t, *h)))
        {
            weak(t, &f.name, "init-fn");
            if f.parent_fn.is_none() {
                exports[f.module] = true;
            }
        }
    }
    // A module that glob-imports its parent exports what the parent does; a parent exports
    // what its inline modules do.
    loop {
        let mut changed = false;
        for mi in 0..s.modules.len() {
            let from_parent = match s.modules[mi].parent {
                _ if !parent_globs[mi] => false,
                None => around.parent_exports,
                Some(p) => exports[p],
            };
            if from_parent && !exports[mi] {
                exports[mi] = true;
                changed = true;
            }
        }
        for mi in (1..s.modules.len()).rev() {
            if exports[mi]
                && let Some(p) = s.modules[mi].parent
                && !exports[p]
            {
                exports[p] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    // Inline modules that export: their names lead to a trigger. Weak names: only this
    // file (relevant already) has the module in scope; other files reach it by a path
    // through `crate`/`self`/`super` or through a module that exports (a strong name).
    for (m, _) in s.modules.iter().zip(&exports).skip(1).filter(|(_, e)| **e) {
        if let Some(name) = m.inline_path.last() {
            weak(t, name, "module");
        }
    }
    (
        exports.first().copied().unwrap_or(false),
        exports.iter().any(|e| *e),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    type Owned = Vec<(SyntaxKind, String, u32, u32)>;

    fn owned(toks: &[Tok], text: &str) -> Owned {
        toks.iter()
            .map(|t| (t.kind, t.text(text).to_string(), t.start, t.end))
            .collect()
    }

    /// The real lexer's significant tokens, and whether it finds an error.
    fn lexer(text: &str, edition: Edition) -> (Owned, bool) {
        let lexed = ra_ap_parser::LexedStr::new(edition, text);
        let mut toks = Vec::new();
        let mut bad = lexed.errors().next().is_some();
        for i in 0..lexed.len() {
            let k = lexed.kind(i);
            bad |= k == SyntaxKind::ERROR;
            if k.is_trivia() || k == SyntaxKind::EOF {
                continue;
            }
            let r = lexed.text_range(i);
            toks.push((k, lexed.text(i).to_string(), r.start as u32, r.end as u32));
        }
        (toks, bad)
    }

    /// What a file's byte lexing must satisfy whenever it accepts: the real lexer's tokens
    /// exactly, no lexer error, and the same scan as the lexer path. Returns whether it
    /// accepted.
    fn agrees(text: &str, edition: Edition, what: &str) -> bool {
        let Some(q) = quick_scan(text, edition) else {
            return false;
        };
        let (toks, bad) = lexer(text, edition);
        assert!(!bad, "{what}: the lexer finds an error");
        assert_eq!(owned(&q, text), toks, "{what}");
        let quick = Scan {
            quick: false,
            ..quick(text, edition).expect("accepted")
        };
        assert_eq!(
            format!("{quick:?}"),
            format!("{:?}", scan(text, edition)),
            "{what}"
        );
        true
    }

    #[test]
    fn quick_scan_accepts_plain_code_and_declines_what_it_does_not_understand() {
        let ok = [
            "pub fn f(x: u8) -> &'static str { let _c = 'a'; let _e = '\\n'; \"a\\x41\\\"b\" }\n",
            "/* outer /* inner */ still */ fn g() -> f64 { 1.5 + 0x1F as f64 + 1.max(2) as f64 }\n",
            "// é in a comment\nuse std::fmt;\nimpl<'a> T<'a> for X { fn h(&self) {} }\n",
            "const A: f64 = 1.; const B: f64 = 2.0f64; fn r() { for _ in 0..1 {} let _ = (1.).max(2.); }\n",
            "mod a;\n#[cfg(test)]\nmod tests {\n    use super::*;\n    #[path = \"x.rs\"] mod x;\n    pub(crate) mod inner { mod deep; }\n}\n",
            "use super::*;\nuse crate::{a, *};\nfn f() { let async_ = 1; let dyn_ = 2; }\n",
            "fn f() { let s = r\"raw\"; let t = r#\"a \"quoted\" é\"#; let u = br##\"x\"#\"##; }\n",
            "fn f() { let s = b\"bytes\\xff\\n\"; let c = b'\\x80'; let d = b'a'; }\n",
            "fn f() { let r#type = 1; let r#match = r#type; }\n",
            "fn f() { let s = \"\\u{41}\\u{10FFFF} é ✓\"; let c = '\\u{e9}'; let d = 'é'; }\n",
            "fn f() { let x = 1e5; let y = 2.5E-3f64; let z = 1_0e+1_0; let w = 0x1e5; }\n",
        ];
        for t in ok {
            for ed in [
                Edition::Edition2015,
                Edition::Edition2021,
                Edition::Edition2024,
            ] {
                assert!(agrees(t, ed, t), "declined: {t}");
            }
        }
        let declined = [
            "fn f() { let s = b\"é\"; }\n",
            "fn f() { let s = br\"é\"; }\n",
            "fn f() { let s = r#\"unterminated\"; }\n",
            "fn f() { let s = r\"a\rb\"; }\n",
            "fn f() { let r#self = 1; }\n",
            "fn f() { let s = c\"c string\"; }\n",
            "fn f() { let c = b'ab'; }\n",
            "fn f() { let s = \"\\u{D800}\"; }\n",
            "fn f() { let s = \"\\u{}\"; }\n",
            "fn f() { let s = b\"\\u{41}\"; }\n",
            "fn f() { let s = \"\\x80\"; }\n",
            "fn f() { let x = 1e; }\n",
            "fn f() { let s = \"a\"suffix; let c = 'a'x; }\n",
            "fn f() { let c = 'a'x; }\n",
            "fn f() { let s = r\"a\"x; }\n",
            "fn f() { let x = 1e+_; }\n",
            "fn f() { let s = \"unterminated; }\n",
            "fn f() { let c = 'ab'; }\n",
            "fn f() { let x = 0x; }\n",
            "fn f() { let x = (1; }\n",
            "fn f() { let x = 1 ` 2; }\n",
            "fn f() { let é = 1; }\n",
            "/* unterminated\n",
            "// ssot-lint: allow(SSOT001)\n",
            "#!/usr/bin/env run-cargo-script\nfn main() {}\n",
        ];
        for t in declined {
            assert!(
                quick_scan(t, Edition::Edition2021).is_none(),
                "accepted: {t}"
            );
        }
        // What `source_too_deep` may refuse is left to it: long chains, deep prefix
        // operators, NUL bytes (in a comment too).
        // Token by token, the same verdict as `source_too_deep` over the bytes.
        let (n, m) = (1100, 2100);
        let deep = [
            format!("fn f() {{ let x = a{}; }}\n", ".b".repeat(m)),
            format!("fn f() {{ let x = {}x; }}\n", "!".repeat(n)),
            "// \0\nfn f() {}\n".to_string(),
            format!("fn f() {{ {}1; }}\n", "|| ".repeat(n)),
            format!("fn f() {{ {}1; }}\n", "return ".repeat(n)),
            format!("fn f() {{ {}x{} }}\n", "if ".repeat(n), " {}".repeat(n)),
            format!(
                "fn f() {{ {}x{} }}\n",
                "for x in ".repeat(n),
                " {}".repeat(n)
            ),
            format!("fn f() {{ {}{{}} }}\n", "if a {} else ".repeat(n)),
            format!("type T<'a> = {}u8;\n", "&'a ".repeat(n)),
            format!("fn f() {{ g{}; }}\n", "()".repeat(m)),
            format!("fn f() {{ x{}; }}\n", "?".repeat(m)),
            format!("fn f() {{ x{}; }}\n", " as T".repeat(m)),
            format!("fn f() {{ x{}; }}\n", ".a(1, 2.5)".repeat(m)),
            format!("fn f() {{ x{}; }}\n", ".a(|| {})".repeat(m)),
        ];
        for t in &deep {
            assert!(
                quick_scan(t, Edition::Edition2021).is_none(),
                "accepted: {}",
                &t[..t.len().min(100)]
            );
            assert!(crate::parse::depth::source_too_deep(t).is_some());
        }
        let fine = [
            format!("fn f() {{ let x = a{}; }}\n", ".b".repeat(900)),
            "impl<T> X for T where for<'a> T: Y<'a> {}\n".repeat(n),
            "pub type F = for<'a> fn(&'a u8) -> &'a u8;\n".repeat(n),
            format!(
                "fn f() {{ {} }}\n",
                "if a { b } else if c { d }\n".repeat(n)
            ),
            format!(
                "fn f() {{ {} }}\n",
                "for x in y { 'a: loop { break 'a; } }\n".repeat(n)
            ),
            "fn f() -> X { a.b(\"s\", b'c', 'd', 1.5e3)?.c().await }\n".repeat(n),
        ];
        for t in &fine {
            assert!(
                quick_scan(t, Edition::Edition2021).is_some(),
                "declined: {}",
                &t[..t.len().min(100)]
            );
            assert!(crate::parse::depth::source_too_deep(t).is_none());
        }
    }

    /// Over this repository's own sources and fixtures (and, with `SSOT_QUICK_SCAN_DIR=DIR`,
    /// every `.rs` file below DIR, e.g. the benchmark corpus): every file the byte lexer
    /// accepts gets exactly the real lexer's tokens and scan, at every edition.
    #[test]
    fn quick_scan_agrees_with_the_lexer_on_real_files() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut dirs = vec![root.join("src"), root.join("tests"), root.join("fixtures")];
        if let Some(d) = std::env::var_os("SSOT_QUICK_SCAN_DIR") {
            dirs = vec![PathBuf::from(d)];
        }
        let (mut accepted, mut seen) = (0, 0);
        for dir in dirs {
            for e in walkdir::WalkDir::new(dir).into_iter().flatten() {
                let p = e.path();
                if p.extension().is_none_or(|x| x != "rs") {
                    continue;
                }
                let Ok(text) = std::fs::read_to_string(p) else {
                    continue;
                };
                seen += 1;
                for ed in [
                    Edition::Edition2015,
                    Edition::Edition2021,
                    Edition::Edition2024,
                ] {
                    if agrees(&text, ed, &p.display().to_string()) {
                        accepted += 1;
                    }
                }
            }
        }
        eprintln!("{accepted} of {seen} files × 3 editions byte-lexed");
        assert!(accepted > 50, "accepted {accepted} of {seen} files");
    }
}
