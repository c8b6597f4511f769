//! The editor's open documents: their texts as the editor has them (unsaved changes
//! included), versions, and positions in the encoding negotiated with the client (LSP counts
//! columns in UTF-16 code units unless both sides agree on UTF-8).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use lsp_types::{Position, Range, TextDocumentContentChangeEvent, Url};

/// How a position's `character` counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16,
}

/// Line starts of a text, to turn byte offsets into positions and back.
#[derive(Debug, Clone)]
pub struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        Lines { starts }
    }

    /// The position of a byte offset of `text` (clamped to the text, moved back to a
    /// character boundary).
    pub fn position(&self, text: &str, offset: usize, enc: Encoding) -> Position {
        let mut off = offset.min(text.len());
        while !text.is_char_boundary(off) {
            off -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= off) - 1;
        let prefix = &text[self.starts[line]..off];
        let character = match enc {
            Encoding::Utf8 => prefix.len(),
            Encoding::Utf16 => prefix.chars().map(char::len_utf16).sum(),
        };
        Position::new(line as u32, character as u32)
    }

    /// The byte offset of a position (a position past a line's end is its end; past the
    /// last line, the text's end).
    pub fn offset(&self, text: &str, pos: Position, enc: Encoding) -> usize {
        let Some(&start) = self.starts.get(pos.line as usize) else {
            return text.len();
        };
        let end = self
            .starts
            .get(pos.line as usize + 1)
            .map_or(text.len(), |&e| e);
        let line = &text[start..end];
        let line = line.strip_suffix('\n').unwrap_or(line);
        let line = line.strip_suffix('\r').unwrap_or(line);
        let want = pos.character as usize;
        let mut units = 0;
        for (i, c) in line.char_indices() {
            if units >= want {
                return start + i;
            }
            units += match enc {
                Encoding::Utf8 => c.len_utf8(),
                Encoding::Utf16 => c.len_utf16(),
            };
        }
        start + line.len()
    }

    /// The position of 1-based `line` and 1-based character `column` (as the engine reports
    /// related locations), in `text`.
    pub fn line_column(&self, text: &str, line: u32, column: u32, enc: Encoding) -> Position {
        let Some(&start) = self.starts.get(line.saturating_sub(1) as usize) else {
            return self.position(text, text.len(), enc);
        };
        let mut rest = &text[start..];
        if start == 0 {
            // The engine does not count a byte order mark as a character.
            rest = rest.strip_prefix('\u{feff}').unwrap_or(rest);
        }
        let skip = rest
            .char_indices()
            .take_while(|&(_, c)| c != '\n')
            .nth(column.saturating_sub(1) as usize)
            .map_or_else(|| rest.find('\n').unwrap_or(rest.len()), |(i, _)| i);
        let offset = text.len() - rest.len() + skip;
        self.position(text, offset, enc)
    }

    pub fn range(&self, text: &str, start: usize, end: usize, enc: Encoding) -> Range {
        Range::new(
            self.position(text, start, enc),
            self.position(text, end, enc),
        )
    }
}

/// An open document.
#[derive(Debug, Clone)]
pub struct Document {
    pub path: PathBuf,
    pub version: i32,
    pub text: Arc<String>,
    pub lines: Arc<Lines>,
}

impl Document {
    pub fn new(path: PathBuf, version: i32, text: String) -> Self {
        let lines = Arc::new(Lines::new(&text));
        Document {
            path,
            version,
            text: Arc::new(text),
            lines,
        }
    }

    /// Apply the editor's changes, in order (a change without a range replaces the text).
    pub fn apply(
        &mut self,
        version: i32,
        changes: Vec<TextDocumentContentChangeEvent>,
        enc: Encoding,
    ) {
        let mut text = std::mem::take(Arc::make_mut(&mut self.text));
        for c in changes {
            match c.range {
                None => text = c.text,
                Some(r) => {
                    // Positions count in the text as the changes before this one left it.
                    let lines = Lines::new(&text);
                    let start = lines.offset(&text, r.start, enc);
                    let end = lines.offset(&text, r.end, enc).max(start);
                    text.replace_range(start..end, &c.text);
                }
            }
        }
        self.lines = Arc::new(Lines::new(&text));
        self.text = Arc::new(text);
        self.version = version;
    }
}

/// The open documents, by URI.
#[derive(Debug, Default)]
pub struct Documents {
    pub open: BTreeMap<Url, Document>,
}

impl Documents {
    pub fn get(&self, uri: &Url) -> Option<&Document> {
        self.open.get(uri)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16_units_or_bytes() {
        let text = "a\u{2014}b\n\u{1F600}x\r\nend";
        let l = Lines::new(text);
        // `b` after an em dash: 2 UTF-16 units or 4 bytes in.
        let b = text.find('b').expect("b");
        assert_eq!(l.position(text, b, Encoding::Utf16), Position::new(0, 2));
        assert_eq!(l.position(text, b, Encoding::Utf8), Position::new(0, 4));
        // `x` after an emoji (a surrogate pair).
        let x = text.find('x').expect("x");
        assert_eq!(l.position(text, x, Encoding::Utf16), Position::new(1, 2));
        for enc in [Encoding::Utf8, Encoding::Utf16] {
            for off in [0, b, x, text.len()] {
                assert_eq!(l.offset(text, l.position(text, off, enc), enc), off);
            }
            // Past the end of a line: its end, before `\r\n`.
            assert_eq!(
                l.offset(text, Position::new(1, 99), enc),
                text.find('\r').expect("cr")
            );
            assert_eq!(l.offset(text, Position::new(9, 0), enc), text.len());
        }
        // 1-based line and character column, as the engine reports related locations.
        assert_eq!(
            l.line_column(text, 2, 2, Encoding::Utf16),
            Position::new(1, 2)
        );
    }

    #[test]
    fn incremental_changes_apply_in_order() {
        let mut d = Document::new(PathBuf::from("/x.rs"), 1, "fn a() {}\n".into());
        d.apply(
            2,
            vec![
                TextDocumentContentChangeEvent {
                    range: Some(Range::new(Position::new(0, 3), Position::new(0, 4))),
                    range_length: None,
                    text: "b\u{2014}".into(),
                },
                TextDocumentContentChangeEvent {
                    range: Some(Range::new(Position::new(0, 5), Position::new(0, 5))),
                    range_length: None,
                    text: "c".into(),
                },
            ],
            Encoding::Utf16,
        );
        assert_eq!(d.text.as_str(), "fn b\u{2014}c() {}\n");
        assert_eq!(d.version, 2);
        d.apply(
            3,
            vec![TextDocumentContentChangeEvent {
                range: None,
                range_length: None,
                text: "fn z() {}\n".into(),
            }],
            Encoding::Utf8,
        );
        assert_eq!(d.text.as_str(), "fn z() {}\n");
    }
}
