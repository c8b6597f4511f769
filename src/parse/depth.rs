//! Texts too deep or too odd to parse: the parser and our walkers recurse, so nesting and
//! chain length are bounded before a parse, and a binary file is not parsed at all.

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
