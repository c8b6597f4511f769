//! Texts too deep or too odd to parse: the parser and our walkers recurse, so nesting and
//! chain length are bounded before a parse, a binary file or one of junk is not parsed at
//! all, and large texts are parsed one at a time.

use std::sync::Mutex;

/// Texts larger than this are parsed one at a time (see [`large_parse_turn`]).
pub const LARGE_PARSE_BYTES: usize = 1 << 20;

/// A turn to parse a text of `len` bytes: `None` for a text under [`LARGE_PARSE_BYTES`],
/// else a guard held while its tree lives. A syntax tree costs up to about a hundred times
/// its text (a node and an error per token of junk), so a run's peak is that of one large
/// file and the small ones beside it, not of one large file per thread.
pub fn large_parse_turn(len: usize) -> Option<std::sync::MutexGuard<'static, ()>> {
    static TURN: Mutex<()> = Mutex::new(());
    (len > LARGE_PARSE_BYTES).then(|| TURN.lock().unwrap_or_else(|e| e.into_inner()))
}

/// Deepest nesting of a Rust file the parser and our walkers may recurse into: brackets,
/// runs of prefix operators and keywords (`!!!x`, `&&&T`, `|| || x`, `return return x`) and
/// conditions waiting for their block (see [`Nesting`]).
pub const MAX_SOURCE_NESTING: usize = 1000;

/// Links of one chain (`a.b.c`, `a::b::c`, `a + b + c`, `g()()`, `x??`, `x as T as U`)
/// between `,` `;` of its level: the parser builds them as a tree as deep as the chain is
/// long.
pub const MAX_SOURCE_CHAIN: usize = 2000;

/// Control characters (see [`is_control`]) a Rust text may have outside literals and
/// comments: each is a lexer error, and a file of them is junk that costs the parser a node
/// and an error per byte.
pub const MAX_SOURCE_CONTROLS: usize = 1000;

/// Why a Rust text is not parsed: too deep, too long a chain, or binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooDeep {
    pub message: String,
    pub at: usize,
}

/// Whether a Rust text must not be parsed: NUL bytes anywhere (a binary file: git looks at
/// the first 8000 bytes, a file made to be parsed can put them after), more than
/// [`MAX_SOURCE_CONTROLS`] control characters in code, nesting over [`MAX_SOURCE_NESTING`] or a chain over
/// [`MAX_SOURCE_CHAIN`] links (see [`Nesting`]). Linear.
pub fn source_too_deep(text: &str) -> Option<TooDeep> {
    let b = text.as_bytes();
    if let Some(at) = memchr::memchr(0, b) {
        return Some(TooDeep {
            message: "binary file (NUL bytes); not analysed".into(),
            at,
        });
    }
    if !could_be_too_deep(b) {
        return None;
    }
    let r = scan_code(b, text, &mut Nesting::default()).err()?;
    let message = match r.why {
        Refusal::Chain => format!(
            "a chain of more than {MAX_SOURCE_CHAIN} `.`, `::` or operators; file not analysed"
        ),
        Refusal::Nesting(depth) => format!(
            "nested more than {MAX_SOURCE_NESTING} deep (brackets, prefix operators and keywords, {depth} here); file not analysed"
        ),
        Refusal::Control => format!(
            "more than {MAX_SOURCE_CONTROLS} control characters outside literals and comments (U+{:04X} here first): not Rust text; file not analysed",
            b[r.at]
        ),
    };
    Some(TooDeep { message, at: r.at })
}

/// Why [`scan_code`] stopped, and where.
#[derive(Debug)]
struct Refused {
    why: Refusal,
    at: usize,
}

#[derive(Debug)]
enum Refusal {
    /// The level (see [`Nesting`]) there.
    Nesting(usize),
    Chain,
    Control,
}

/// Bytes no Rust lexer accepts outside a literal or comment: the C0 controls but the five
/// whitespace ones (tab, line feed, vertical tab, form feed, carriage return), and DEL.
const fn is_control(c: u8) -> bool {
    (c < 0x20 && !matches!(c, b'\t' | b'\n' | 0x0b | 0x0c | b'\r')) || c == 0x7f
}

/// Operator bytes: a run of them (`::`, `+=`, `&&`) is one link of a chain.
const fn is_op(c: u8) -> bool {
    matches!(
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
            | b'@'
    )
}

/// A bound, by counting bytes: [`Nesting`] raises the level only at an opening bracket, a
/// prefix-operator byte or a keyword, and adds a chain link only at an operator byte, a
/// bracket, a `?` or the keyword `as`. A keyword takes at least three bytes (two and a
/// separator), so a text with few enough of those bytes for its length, and no control
/// byte, cannot be refused. Most small files are decided here, at memory speed.
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
    const OPS: [u8; 256] = table(b".:+-*/%^|&<>=!@?([");
    const DEEP: [u8; 256] = table(b"([{!-*&|.");
    const CONTROL: [u8; 256] = {
        let mut t = [0u8; 256];
        let mut c = 0;
        while c < 256 {
            if is_control(c as u8) {
                t[c] = 1;
            }
            c += 1;
        }
        t
    };
    let words = b.len() / 3 + 1;
    if words > MAX_SOURCE_NESTING {
        return true;
    }
    let (mut ops, mut deep) = (words, words);
    for chunk in b.chunks(4096) {
        let (mut o, mut d, mut k) = (0u32, 0u32, 0u32);
        for &c in chunk {
            o += u32::from(OPS[c as usize]);
            d += u32::from(DEEP[c as usize]);
            k += u32::from(CONTROL[c as usize]);
        }
        ops += o as usize;
        deep += d as usize;
        if ops > MAX_SOURCE_CHAIN || deep > MAX_SOURCE_NESTING || k > 0 {
            return true;
        }
    }
    false
}

/// How deep the parser will recurse and how deep the tree will be, counted from tokens
/// before parsing. rust-analyzer's parser recurses once per bracket, prefix operator
/// (`! - * & ..`, closure bars, `&'a`, `&mut`), prefix keyword (`return`, `break`, `yield`,
/// `become`, `box`, `do yeet`), condition waiting for its block (`if if if x {} {} {}`,
/// `match`, `while`, `for`) and `else if`; a postfix chain (`x.a.b`, `g()()`, `x??`,
/// `as T as U`, `a + b + c`) is a loop there but a tree as deep as it is long, which later
/// walks recurse into. The level is `depth + run + cond + elses`; the chain counts links
/// since the last `,` `;` at this level or the start of a block (a block's value may go on:
/// `{ .. }.await`).
#[derive(Default)]
struct Nesting {
    /// Open brackets.
    depth: usize,
    /// Prefix operators and keywords since the last operand.
    run: usize,
    chain: usize,
    prev_op: bool,
    /// The last token was `)` `]` or `?`: a `(` or `[` now goes on with a call or index.
    after_close: bool,
    /// Right after `}`: the chain at its `{`, which an operator after the block goes on.
    after_block: Option<usize>,
    /// `if` `while` `match` `for` whose block has not begun.
    cond: usize,
    /// `else` since the statement began (`if a {} else if b {} else if ..` nests).
    elses: usize,
    /// A `for` just seen, at this offset: a loop waiting for its block, unless a `<` follows
    /// (a binder, `for<'a> Fn(&'a T)`).
    pending_for: Option<usize>,
    /// `(chain, cond, elses)` of each enclosing bracket, restored when it closes.
    outer: Vec<(usize, usize, usize)>,
}

impl Nesting {
    fn check(&self, at: usize) -> Result<(), Refused> {
        let level = self.depth + self.run + self.cond + self.elses;
        if level > MAX_SOURCE_NESTING {
            Err(Refused {
                why: Refusal::Nesting(level),
                at,
            })
        } else if self.chain > MAX_SOURCE_CHAIN {
            Err(Refused {
                why: Refusal::Chain,
                at,
            })
        } else {
            Ok(())
        }
    }

    /// What follows a block's `}`: an operator goes on with its expression; anything but
    /// `else` starts a new statement.
    fn after_block(&mut self, goes_on: bool, is_else: bool) {
        if let Some(chain) = self.after_block.take() {
            if goes_on {
                self.chain = chain;
            } else if !is_else {
                self.elses = 0;
            }
        }
    }

    /// The token after a `for` decides what it was.
    fn settle_for(&mut self, binder: bool) -> Result<(), Refused> {
        match self.pending_for.take() {
            Some(at) if !binder => {
                self.cond += 1;
                self.check(at)
            }
            _ => Ok(()),
        }
    }

    fn punct(&mut self, c: u8, at: usize) -> Result<(), Refused> {
        self.settle_for(c == b'<')?;
        self.after_block(is_op(c) || c == b'?', false);
        let after_close = std::mem::take(&mut self.after_close);
        match c {
            b'(' | b'[' | b'{' => {
                if c == b'{' {
                    self.cond = self.cond.saturating_sub(1);
                } else if after_close {
                    self.chain += 1;
                }
                self.outer.push((self.chain, self.cond, self.elses));
                self.depth += 1;
                (self.run, self.cond, self.elses) = (0, 0, 0);
                if c == b'{' {
                    self.chain = 0;
                }
                self.prev_op = false;
            }
            b')' | b']' | b'}' => {
                self.depth = self.depth.saturating_sub(1);
                let (chain, cond, elses) = self.outer.pop().unwrap_or_default();
                (self.cond, self.elses, self.run) = (cond, elses, 0);
                self.chain = chain;
                if c == b'}' {
                    self.chain = 0;
                    self.after_block = Some(chain);
                } else {
                    self.after_close = true;
                }
                self.prev_op = false;
            }
            b',' | b';' => {
                (self.chain, self.run, self.cond, self.elses) = (0, 0, 0, 0);
                self.prev_op = false;
            }
            b'?' => {
                self.chain += 1;
                self.run = 0;
                self.after_close = true;
                self.prev_op = false;
            }
            _ if is_op(c) => {
                if !self.prev_op {
                    self.chain += 1;
                }
                self.prev_op = true;
                if matches!(c, b'!' | b'-' | b'*' | b'&' | b'|' | b'.') {
                    self.run += 1;
                } else {
                    self.run = 0;
                }
            }
            _ => {
                self.run = 0;
                self.prev_op = false;
            }
        }
        self.check(at)
    }

    /// An identifier, keyword or number (or a part of one).
    fn word(&mut self, w: &[u8], at: usize) -> Result<(), Refused> {
        self.settle_for(false)?;
        self.after_block(w == b"as", w == b"else");
        self.after_close = false;
        self.prev_op = false;
        // Most words are no keyword counted here (those are 2 to 6 bytes long): an operand,
        // which ends a run; `settle_for`/`after_block` above may have raised a level, so the
        // check still runs.
        if !(2..=6).contains(&w.len()) {
            self.run = 0;
            return self.check(at);
        }
        match w {
            b"return" | b"break" | b"yield" | b"become" | b"box" | b"yeet" | b"do" => {
                self.run += 1;
            }
            b"if" | b"while" | b"match" => self.cond += 1,
            b"for" => self.pending_for = Some(at),
            b"else" => self.elses += 1,
            b"as" => {
                self.chain += 1;
                self.run = 0;
            }
            b"move" | b"async" | b"static" | b"mut" | b"const" | b"raw" | b"dyn" | b"impl"
            | b"ref" | b"unsafe" => {}
            _ => self.run = 0,
        }
        self.check(at)
    }

    /// A string, byte or character literal.
    fn literal(&mut self) -> Result<(), Refused> {
        self.settle_for(false)?;
        self.after_block(false, false);
        self.after_close = false;
        self.prev_op = false;
        self.run = 0;
        Ok(())
    }

    /// A lifetime or label: `&'a &'a T` is a run of prefix operators all the same.
    fn lifetime(&mut self) -> Result<(), Refused> {
        self.settle_for(false)?;
        self.after_block(false, false);
        self.after_close = false;
        Ok(())
    }
}

/// A token of the byte lexer (`prefilter`), for [`DepthCheck`].
pub enum SourceToken<'a> {
    /// One punctuation byte.
    Punct(u8),
    /// An identifier or keyword.
    Word(&'a str),
    Number(&'a str),
    /// A string, byte or character literal.
    Literal,
    Lifetime,
}

/// [`source_too_deep`]'s count fed token by token: the byte lexer's tokens are the code
/// that function reads, so the verdict is the same without a second pass over the bytes
/// (NUL bytes aside, which the caller looks for).
#[derive(Default)]
pub struct DepthCheck(Nesting);

impl DepthCheck {
    /// `false` once the text is refused.
    pub fn feed(&mut self, t: SourceToken<'_>) -> bool {
        let n = &mut self.0;
        match t {
            SourceToken::Punct(c) => n.punct(c, 0),
            SourceToken::Word(w) => n.word(w.as_bytes(), 0),
            SourceToken::Number(s) => scan_code(s.as_bytes(), s, n),
            SourceToken::Literal => n.literal(),
            SourceToken::Lifetime => n.lifetime(),
        }
        .is_ok()
    }

    /// `false` when the end refuses it (a `for` last).
    pub fn finish(mut self) -> bool {
        self.0.settle_for(false).is_ok()
    }
}

/// Feed the code of `text` (`b`: its bytes) to `n`, skipping comments and literals: `Err`
/// where it refuses.
fn scan_code(b: &[u8], text: &str, n: &mut Nesting) -> Result<(), Refused> {
    let len = b.len();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80;
    let (mut controls, mut first_control) = (0, usize::MAX);
    let mut i = 0;
    while i < len {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => i += 1,
            b'/' if b.get(i + 1) == Some(&b'/') => {
                i = memchr::memchr(b'\n', &b[i..]).map_or(len, |k| i + k);
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut level = 0usize;
                while i < len {
                    if i + 1 < len && b[i] == b'/' && b[i + 1] == b'*' {
                        level += 1;
                        i += 2;
                    } else if i + 1 < len && b[i] == b'*' && b[i + 1] == b'/' {
                        level -= 1;
                        i += 2;
                        if level == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            b'"' => {
                i = string_end(b, i);
                n.literal()?;
            }
            b'\'' => {
                // A character literal ('x', '\n', '\u{..}'), else a lifetime or label.
                if i + 2 < len && b[i + 1] == b'\\' {
                    let mut j = i + 3;
                    while j < len && b[j] != b'\'' && b[j] != b'\n' {
                        j += 1;
                    }
                    i = j + 1;
                    n.literal()?;
                } else if let Some(ch) = text.get(i + 1..).and_then(|t| t.chars().next()) {
                    let after = i + 1 + ch.len_utf8();
                    if after < len && b[after] == b'\'' {
                        i = after + 1;
                        n.literal()?;
                    } else {
                        i += 1;
                        while i < len && ident(b[i]) {
                            i += 1;
                        }
                        n.lifetime()?;
                    }
                } else {
                    i += 1;
                }
            }
            _ if is_control(c) => {
                // One is a lexer error like any other; a file of them is not Rust.
                controls += 1;
                first_control = first_control.min(i);
                if controls > MAX_SOURCE_CONTROLS {
                    return Err(Refused {
                        why: Refusal::Control,
                        at: first_control,
                    });
                }
                n.punct(c, i)?;
                i += 1;
            }
            _ if ident(c) => {
                let s = i;
                while i < len && ident(b[i]) {
                    i += 1;
                }
                let w = &b[s..i];
                match (w, b.get(i)) {
                    (b"r" | b"br" | b"cr", Some(b'"' | b'#')) => {
                        let mut j = i;
                        while j < len && b[j] == b'#' {
                            j += 1;
                        }
                        if j < len && b[j] == b'"' {
                            i = raw_string_end(b, j, j - i);
                            n.literal()?;
                        } else {
                            // A raw identifier (`r#match`): never a keyword.
                            i = j;
                            while i < len && ident(b[i]) {
                                i += 1;
                            }
                            n.word(&b[s..i], s)?;
                        }
                    }
                    (b"b" | b"c", Some(b'"')) => {
                        i = string_end(b, i);
                        n.literal()?;
                    }
                    (b"b", Some(b'\'')) => {
                        i += 1;
                        while i < len && b[i] != b'\'' {
                            i += if b[i] == b'\\' { 2 } else { 1 };
                        }
                        i += 1;
                        n.literal()?;
                    }
                    _ => n.word(w, s)?,
                }
            }
            _ => {
                n.punct(c, i)?;
                i += 1;
            }
        }
    }
    n.settle_for(false)
}

/// The end of the string literal whose `"` is at `i` (past the text when unterminated).
fn string_end(b: &[u8], mut i: usize) -> usize {
    i += 1;
    while i < b.len() && b[i] != b'"' {
        if b[i] == b'\\' {
            i += 1;
        }
        i += 1;
    }
    i + 1
}

/// The end of the raw string literal whose `"` is at `i`, opened with `hashes` `#`.
fn raw_string_end(b: &[u8], mut i: usize, hashes: usize) -> usize {
    i += 1;
    while i < b.len() {
        if b[i] == b'"'
            && b[i + 1..]
                .iter()
                .take(hashes)
                .filter(|&&c| c == b'#')
                .count()
                == hashes
        {
            return i + 1 + hashes;
        }
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> Option<String> {
        source_too_deep(text).map(|t| t.message)
    }

    /// Long but flat code: nothing here nests past the bounds, however many there are.
    #[test]
    fn long_flat_code_is_not_refused() {
        let n = 3000;
        let cases = [
            "pub fn f() -> X { a.b()?.c().await }\n".repeat(n),
            "pub fn f() { if a { b } else if c { d } else { e } }\n".repeat(n),
            format!("pub fn f() {{ {} }}\n", "if a { b } else { c }\n".repeat(n)),
            format!(
                "pub fn f() {{ {} }}\n",
                "if a { b } else if c { d }\n".repeat(n)
            ),
            format!(
                "fn f() {{ match x {{ {} }} }}\n",
                "A if a => { b } B => c,\n".repeat(n)
            ),
            "pub type F = for<'a> fn(&'a u8) -> &'a u8;\n".repeat(n),
            "impl<T> X for T where for<'a> T: Y<'a> {}\n".repeat(n),
            format!(
                "pub fn f() {{ {} }}\n",
                "let Some(x) = y else { return };\n".repeat(n)
            ),
            format!(
                "pub fn f() {{ {} }}\n",
                "for x in y { while z { loop { break; } } }\n".repeat(n)
            ),
            format!("static A: [u8; {n}] = [{}];\n", "1, ".repeat(n)),
            format!("pub fn f() {{ x{}; }}\n", ".a(|| { b })".repeat(900)),
            "pub fn f() { return; }\n".to_string(),
            format!(
                "fn f() {{ let s = \"{}\"; }} // {}\n",
                "\u{1}".repeat(n),
                "\u{1}".repeat(n)
            ),
            format!("fn f() {{ x {} }}\n", "\u{1}".repeat(1000)),
        ];
        for text in &cases {
            assert_eq!(refused(text), None, "{}", &text[..text.len().min(200)]);
        }
    }

    /// Each nesting the parser recurses into, and each chain a tree grows along, at 1,100
    /// or 2,100: refused, with what and where.
    #[test]
    fn nestings_and_chains_past_the_bounds_are_refused() {
        let deep = "nested more than 1000 deep (brackets, prefix operators and keywords, 1001 here); file not analysed";
        let chain = "a chain of more than 2000 `.`, `::` or operators; file not analysed";
        let n = 1100;
        let m = 2100;
        let cases = [
            (
                format!("fn f() {{ {}x{} }}", "{".repeat(n), "}".repeat(n)),
                deep,
            ),
            (format!("fn f() {{ {}1; }}", "|| ".repeat(n)), deep),
            (format!("fn f() {{ {}1; }}", "return ".repeat(n)), deep),
            (format!("fn f() {{ {}1; }}", "break 'a ".repeat(n)), deep),
            (
                format!("fn f() {{ {}x{} }}", "if ".repeat(n), " {}".repeat(n)),
                deep,
            ),
            (
                format!("fn f() {{ {}x{} }}", "while ".repeat(n), " {}".repeat(n)),
                deep,
            ),
            (
                format!("fn f() {{ {}{{}} }}", "if a {} else ".repeat(n)),
                deep,
            ),
            (
                format!("fn f() {{ {}x {{;}}{} }}", "if ".repeat(n), " {}".repeat(n)),
                deep,
            ),
            (format!("type T = {}u8;", "&'a ".repeat(n)), deep),
            (format!("fn f() {{ {}1; }}", ".. ".repeat(n)), deep),
            (format!("fn f() {{ g{}; }}", "()".repeat(m)), chain),
            (format!("fn f() {{ x{}; }}", "?".repeat(m)), chain),
            (format!("fn f() {{ x{}; }}", " as T".repeat(m)), chain),
            (format!("fn f() {{ x{}; }}", ".a(1, 2)".repeat(m)), chain),
            (format!("fn f() {{ x{}; }}", ".a(|| {})".repeat(m)), chain),
            (
                format!("fn f() {{ let {}x = 1; }}", "x @ ".repeat(m)),
                chain,
            ),
            (
                format!("fn f() {{ x {} }}", "\u{1}".repeat(1001)),
                "more than 1000 control characters outside literals and comments (U+0001 here first): not Rust text; file not analysed",
            ),
            (
                "fn f() {}\n// \0\n".to_string(),
                "binary file (NUL bytes); not analysed",
            ),
        ];
        for (text, want) in &cases {
            assert_eq!(
                refused(text).as_deref(),
                Some(*want),
                "{}",
                &text[..text.len().min(200)]
            );
        }
    }
}
