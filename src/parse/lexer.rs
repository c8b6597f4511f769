//! A byte-level lexer for plain ASCII Rust, certain to agree with the real one (the
//! `ra_ap_parser` lexer the parser runs first) on every text it accepts: the same
//! significant tokens, kinds, texts and ranges. It declines (`None`) anything it does not
//! fully understand; the caller then runs the real lexer. Most files of a tree are lexed
//! here, at a fraction of the real lexer's cost (see `crate::prefilter`).

use ra_ap_syntax::{Edition, SyntaxKind};

/// A significant token: its kind and byte range (its text is `text(src)`).
#[derive(Clone, Copy)]
pub(crate) struct Tok {
    pub(crate) kind: SyntaxKind,
    pub(crate) start: u32,
    pub(crate) end: u32,
}

impl Tok {
    pub(crate) fn text<'t>(&self, src: &'t str) -> &'t str {
        &src[self.start as usize..self.end as usize]
    }
}

/// A byte-level lexer for plain ASCII Rust that is certain to agree with the real one: the
/// same significant tokens (kinds, texts and ranges), or `None` (lex it) for anything it does
/// not fully understand or where the lexer could report an error: a byte outside printable
/// ASCII outside a comment, a prefixed or raw literal or raw identifier, an escape other
/// than the simplest ones, an exponent, an unterminated literal or comment, unbalanced
/// brackets or nesting over [`DEEP_BRACKETS`], an `ssot-lint:` comment, a shebang or
/// frontmatter. What it accepts has no lexer error and no invalid token.
pub(crate) fn quick_scan(text: &str, edition: Edition) -> Option<Vec<Tok>> {
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
pub(crate) fn shallow(toks: &[Tok], text: &str) -> bool {
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
pub(crate) fn simple_escape(b: &[u8], i: usize, what: Escape) -> Option<usize> {
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
pub(crate) fn suffixed(b: &[u8], end: usize) -> bool {
    b.get(end)
        .is_some_and(|&d| d.is_ascii_alphanumeric() || d == b'_' || !d.is_ascii())
}

/// What a literal's escapes may be (see [`simple_escape`]).
#[derive(Clone, Copy)]
pub(crate) enum Escape {
    String,
    Char,
    ByteString,
    Byte,
}

/// The end of a `"` string (`bytes`: of a `b"` string) whose opening quote is at `q`: past its
/// closing quote. `None` for anything the lexer could object to: an escape it would reject or
/// one not understood here, a carriage return, a control character, non-ASCII in a byte
/// string, no end.
pub(crate) fn string_end(b: &[u8], q: usize, bytes: bool) -> Option<usize> {
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
pub(crate) fn byte_char_end(b: &[u8], q: usize) -> Option<usize> {
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
pub(crate) fn raw_string_end(b: &[u8], h: usize, bytes: bool) -> Option<usize> {
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

/// Nesting deeper than this (brackets) is parsed even when the file cannot matter: the
/// parse stage reports trees deeper than its walkers go (`parse::MAX_WALK_DEPTH`).
pub const DEEP_BRACKETS: usize = 256;

/// Whether brackets match and nest at most [`DEEP_BRACKETS`] deep.
pub(crate) fn balanced(toks: &[Tok]) -> bool {
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

pub(crate) fn open(k: SyntaxKind) -> Option<SyntaxKind> {
    match k {
        SyntaxKind::L_PAREN => Some(SyntaxKind::R_PAREN),
        SyntaxKind::L_BRACK => Some(SyntaxKind::R_BRACK),
        SyntaxKind::L_CURLY => Some(SyntaxKind::R_CURLY),
        _ => None,
    }
}

pub(crate) fn is_close(k: SyntaxKind) -> bool {
    matches!(
        k,
        SyntaxKind::R_PAREN | SyntaxKind::R_BRACK | SyntaxKind::R_CURLY
    )
}
