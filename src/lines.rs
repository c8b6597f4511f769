//! Line and column of byte offsets, in time independent of the file's length: line starts
//! are found by binary search, characters before an offset are counted from a checkpoint
//! every 4 KiB. Columns count characters (a UTF-8 byte order mark is not one).

const STEP_BITS: u32 = 12;

#[derive(Debug, Clone, Default)]
pub struct LineIndex {
    /// Byte offset of the start of every line.
    starts: Vec<u32>,
    /// Characters before byte `k << STEP_BITS`.
    checkpoints: Vec<u32>,
    ascii: bool,
    bom: bool,
}

/// `offset`, at most the text's length, moved back to the start of its character.
pub fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut off = offset.min(text.len());
    while off > 0 && !text.is_char_boundary(off) {
        off -= 1;
    }
    off
}

fn chars_in(b: &[u8]) -> u32 {
    b.iter().filter(|&&c| (c & 0xC0) != 0x80).count() as u32
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let b = text.as_bytes();
        let mut starts = vec![0];
        starts.extend(
            b.iter()
                .enumerate()
                .filter(|&(_, &c)| c == b'\n')
                .map(|(i, _)| i as u32 + 1),
        );
        let ascii = text.is_ascii();
        let mut checkpoints = Vec::new();
        if !ascii {
            let mut n = 0u32;
            for chunk in b.chunks(1 << STEP_BITS) {
                checkpoints.push(n);
                n += chars_in(chunk);
            }
            checkpoints.push(n);
        }
        LineIndex {
            starts,
            checkpoints,
            ascii,
            bom: text.starts_with('\u{feff}'),
        }
    }

    /// Characters in `text[..off]`.
    fn chars_before(&self, text: &[u8], off: usize) -> u32 {
        if self.ascii {
            return off as u32;
        }
        let k = off >> STEP_BITS;
        let base = k << STEP_BITS;
        self.checkpoints.get(k).copied().unwrap_or(0) + chars_in(&text[base..off])
    }

    /// Byte offset of the start of 1-based line `line`, if the text has it.
    pub fn line_start(&self, line: u32) -> Option<usize> {
        let i = (line as usize).checked_sub(1)?;
        self.starts.get(i).map(|&s| s as usize)
    }

    /// Characters (Unicode code points) in `text[..offset]`, a byte order mark not counted.
    pub fn char_offset(&self, text: &str, offset: usize) -> u32 {
        let off = floor_char_boundary(text, offset);
        let n = self.chars_before(text.as_bytes(), off);
        if self.bom && off >= 3 { n - 1 } else { n }
    }

    /// 1-based line and character column of a byte offset of `text` (the text the index
    /// was built from).
    pub fn line_col(&self, text: &str, offset: usize) -> (u32, u32) {
        let off = floor_char_boundary(text, offset);
        let line = self.starts.partition_point(|&s| s as usize <= off).max(1);
        let start = self.starts[line - 1] as usize;
        let b = text.as_bytes();
        let mut col = self.chars_before(b, off) - self.chars_before(b, start);
        if self.bom && line == 1 && off >= 3 {
            col -= 1;
        }
        (line as u32, col + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(text: &str, off: usize) -> (u32, u32) {
        let before = &text[..off];
        let line = before.matches('\n').count() as u32 + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32 + 1;
        (line, col)
    }

    #[test]
    fn agrees_with_counting_from_the_start() {
        let mut text = String::new();
        for i in 0..3000 {
            text.push_str(if i % 7 == 0 {
                "é€😀 x\n"
            } else {
                "abc def\r\n"
            });
            if i % 500 == 0 {
                text.push_str(&"ü".repeat(5000));
            }
        }
        let idx = LineIndex::new(&text);
        for off in (0..text.len())
            .filter(|&o| text.is_char_boundary(o))
            .step_by(37)
        {
            assert_eq!(idx.line_col(&text, off), naive(&text, off), "offset {off}");
            assert_eq!(
                idx.char_offset(&text, off),
                text[..off].chars().count() as u32,
                "offset {off}"
            );
        }
        let ascii = "fn a() {}\nfn b() {}\n";
        let idx = LineIndex::new(ascii);
        assert_eq!(idx.line_col(ascii, 13), (2, 4));
        assert_eq!(idx.line_col(ascii, 999), (3, 1));
    }

    #[test]
    fn a_byte_order_mark_is_not_a_column() {
        let text = "\u{feff}fn main() {}\n";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_col(text, 3), (1, 1));
        assert_eq!(idx.line_col(text, 6), (1, 4));
        assert_eq!(idx.char_offset(text, 6), 3);
        assert_eq!(idx.line_start(1), Some(0));
        assert_eq!(idx.line_start(2), Some(text.len()));
        assert_eq!(idx.line_start(3), None);
    }
}
