//! Text the linted tree chose (file names, crate and module names, pack strings, `#[path]`
//! text, source lines), made safe for a terminal and for a CI log. Each structured format
//! escapes by its own rules in its printer (XML, JSON, SARIF URIs, markdown, Mermaid, DOT);
//! this module serves the plain-text outputs (`human`, `short`, `--diff`, stderr).
//!
//! A terminal must not receive control characters from the tree: C0 controls and DEL are
//! shown as Unicode control pictures, as rustc shows them (a newline in a file name is `␊`,
//! an escape `␛`), and C1 controls, bidirectional overrides and line separators as U+FFFD.
//! A CI log must not receive a workflow command: GitHub's runner reads a line whose first
//! non-space characters are `::` as one, and `##[` anywhere in a line too (its older form).
//! A word joiner (U+2060, invisible and of no width, so columns and carets stay right) is put
//! between the two `#` of `##[` and the two `:` of a line-leading `::`.

/// Invisible, zero-width: breaks `##[` and a leading `::` without moving anything.
const JOINER: char = '\u{2060}';

/// What a terminal shows instead of `c`, when `c` is not to reach it.
fn replacement(c: char) -> Option<char> {
    match c {
        '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32),
        '\u{7f}' => Some('\u{2421}'),
        '\u{80}'..='\u{9f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}'
        | '\u{2028}'
        | '\u{2029}' => Some('\u{fffd}'),
        _ => None,
    }
}

/// `s[..stop]` as shown (see [`text`]), the characters after `stop` only looked at.
fn shown_until(s: &str, stop: usize, keep: &[char]) -> String {
    let mut out = String::with_capacity(stop.min(s.len()));
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if i >= stop {
            break;
        }
        let next = chars.peek().map(|&(_, n)| n);
        match replacement(c) {
            Some(r) if !keep.contains(&c) => out.push(r),
            _ => {
                if c == '#' && next == Some('[') && out.ends_with('#') {
                    out.push(JOINER);
                }
                out.push(c);
            }
        }
    }
    out
}

/// One line of the tree's text as a terminal and a CI log may show it: every control
/// character visible, no line break, no `##[`.
pub fn text(s: &str) -> String {
    shown_until(s, s.len(), &[])
}

/// A line of source as a snippet shows it (tabs kept, for the renderer to expand).
pub fn source(s: &str) -> String {
    shown_until(s, s.len(), &['\t'])
}

/// Where byte `off` of `s` lands in [`source`]`(s)`.
pub fn source_offset(s: &str, off: usize) -> usize {
    shown_until(s, off, &['\t']).len()
}

/// Several lines of text (an error report, a diff): as [`text`], but line breaks (and a
/// carriage return before one) and tabs are kept, and no line starts with `::`.
pub fn block(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for line in s.split_inclusive('\n') {
        let body = line.strip_suffix('\n').unwrap_or(line);
        let (body, crlf) = match body.strip_suffix('\r') {
            Some(b) if line.ends_with('\n') => (b, true),
            _ => (body, false),
        };
        out.push_str(&shown_until(body, body.len(), &['\t']));
        if crlf {
            out.push('\r');
        }
        if line.ends_with('\n') {
            out.push('\n');
        }
    }
    lines(&out)
}

/// `s` with a joiner between the colons of every line-leading `::` (after spaces).
pub fn lines(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for line in s.split_inclusive('\n') {
        let rest = line.trim_start();
        if rest.starts_with("::") {
            out.push_str(&line[..line.len() - rest.len()]);
            out.push(':');
            out.push(JOINER);
            out.push_str(&rest[1..]);
        } else {
            out.push_str(line);
        }
    }
    out
}

/// JSON text with `##[` written `#\u0023[`: the same document, and no line of it a workflow
/// command (`#` occurs only inside strings, where `\u0023` means `#`).
pub fn json(s: String) -> String {
    if s.contains("##[") {
        s.replace("##[", "#\\u0023[")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_become_pictures_and_commands_are_broken() {
        assert_eq!(text("a\nb\u{1b}[31m\u{7f}"), "a␊b␛[31m␡");
        assert_eq!(text("x\u{202e}y\u{85}"), "x\u{fffd}y\u{fffd}");
        assert_eq!(text("src/##[error]x.rs"), "src/#\u{2060}#[error]x.rs");
        assert_eq!(text("a\tb"), "a␉b");
        assert_eq!(source("a\tb"), "a\tb");
        assert_eq!(
            lines("  ::error::x\nok ::x\n::warning::y"),
            "  :\u{2060}:error::x\nok ::x\n:\u{2060}:warning::y"
        );
        assert_eq!(
            block("a\r\n ::add-mask::s\u{1b}\n"),
            "a\r\n :\u{2060}:add-mask::s␛\n"
        );
        assert_eq!(json("{\"a\":\"##[x\"}".into()), "{\"a\":\"#\\u0023[x\"}");
    }

    #[test]
    fn source_offsets_follow_the_shown_text() {
        let s = "a\u{1b}b##[c";
        let shown = source(s);
        for (off, want) in [(0, "a"), (1, "␛"), (2, "b"), (5, "[")] {
            assert!(shown[source_offset(s, off)..].starts_with(want), "{off}");
        }
    }
}
