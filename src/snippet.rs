//! The source a human-format snippet shows: only the lines around the labels, with a line
//! longer than [`MAX_LINE`] bytes cut around the label, as rustc does (`…` marks a cut).
//! Offsets of the labels are mapped into this smaller text, so neither the size of the
//! file nor the length of one line grows the output, and columns are those of the finding
//! (characters, not bytes).

use std::ops::Range;

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

use crate::escape;

/// Lines longer than this (bytes, without the line break) are cut around the label.
pub const MAX_LINE: usize = 400;
/// Bytes shown before a label's start on a cut line, and at most this much of the label
/// plus the same again after it.
const AROUND: usize = 60;
/// Labels of one finding at most this many lines apart are shown with every line between.
const MAX_GAP: usize = 40;
const CUT: &str = "…";

#[derive(Debug)]
struct VLine {
    /// 0-based line number in the file.
    number: usize,
    /// Byte range in `text`, line break included.
    range: Range<usize>,
    /// Original byte offset that `range.start + lead` stands for, and the lead (0 or the
    /// length of the cut marker).
    orig_start: usize,
    lead: usize,
    /// Original bytes shown (without markers and line break), as `escape::source` shows them.
    orig_len: usize,
}

#[derive(Debug)]
pub struct Snippet {
    name: String,
    text: String,
    lines: Vec<VLine>,
    /// The primary label's offset here, with its 0-based line and character column.
    primary: (usize, usize, usize),
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl Snippet {
    /// `starts`: byte offset of every line start of `src`. `spans`: the labels (the first is
    /// the primary one, at `line`:`column`, 1-based). Returns the snippet and the labels'
    /// spans in it.
    pub fn new(
        name: String,
        src: &str,
        starts: &[usize],
        spans: &[Range<usize>],
        line: u32,
        column: u32,
    ) -> (Snippet, Vec<Range<usize>>) {
        let line_of = |off: usize| starts.partition_point(|&s| s <= off).max(1) - 1;
        let last_line = starts.len().saturating_sub(1);
        let mut wanted: Vec<usize> = Vec::new();
        let mut label_lines: Vec<usize> = spans.iter().map(|s| line_of(s.start)).collect();
        label_lines.sort_unstable();
        label_lines.dedup();
        for (i, &l) in label_lines.iter().enumerate() {
            let lo = l.saturating_sub(1);
            let mut hi = (l + 1).min(last_line);
            if let Some(&next) = label_lines.get(i + 1)
                && next - l <= MAX_GAP
            {
                hi = next;
            }
            wanted.extend(lo..=hi);
        }
        wanted.sort_unstable();
        wanted.dedup();
        let mut text = String::new();
        let mut lines = Vec::with_capacity(wanted.len());
        for n in wanted {
            let Some(&ls) = starts.get(n) else { continue };
            let le_full = starts
                .get(n + 1)
                .copied()
                .unwrap_or(src.len())
                .min(src.len());
            if ls > le_full {
                continue;
            }
            let body = src[ls..le_full].trim_end_matches(['\n', '\r']);
            let le = ls + body.len();
            let brk = &src[le..le_full];
            let (mut a, mut b) = (ls, le);
            if le - ls > MAX_LINE {
                let first = spans
                    .iter()
                    .filter(|s| (ls..=le).contains(&s.start))
                    .map(|s| (s.start, s.end.min(le)))
                    .min();
                let (s0, s1) = first.unwrap_or((ls, ls));
                a = floor_boundary(src, s0.saturating_sub(AROUND).max(ls));
                let shown_label = (s1 - s0).min(AROUND);
                b = floor_boundary(src, (s0 + shown_label + AROUND).min(le)).max(a);
            }
            let start = text.len();
            let lead = if a > ls { CUT.len() } else { 0 };
            if lead > 0 {
                text.push_str(CUT);
            }
            // The source's control characters never reach the terminal (see `escape`).
            text.push_str(&escape::source(&src[a..b]));
            if b < le {
                text.push_str(CUT);
            }
            text.push_str(brk);
            lines.push(VLine {
                number: n,
                range: start..text.len(),
                orig_start: a,
                lead,
                orig_len: b - a,
            });
        }
        let snippet_len = text.len();
        let map = |lines: &[VLine], off: usize| -> usize {
            let n = line_of(off);
            let Ok(i) = lines.binary_search_by_key(&n, |v| v.number) else {
                return 0;
            };
            let v = &lines[i];
            let shown = &src[v.orig_start..v.orig_start + v.orig_len];
            let within = off.saturating_sub(v.orig_start).min(v.orig_len);
            v.range.start + v.lead + escape::source_offset(shown, within)
        };
        let mapped: Vec<Range<usize>> = spans
            .iter()
            .map(|s| {
                let a = map(&lines, s.start);
                let b = map(&lines, s.end.max(s.start)).max(a).min(snippet_len);
                a..b
            })
            .collect();
        let primary_off = mapped.first().map_or(0, |r| r.start);
        (
            Snippet {
                name,
                text,
                lines,
                primary: (
                    primary_off,
                    line.saturating_sub(1) as usize,
                    column.saturating_sub(1) as usize,
                ),
            },
            mapped,
        )
    }
}

impl SourceCode for Snippet {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let at = |off: usize| {
            self.lines
                .partition_point(|v| v.range.start <= off)
                .saturating_sub(1)
        };
        if self.lines.is_empty() {
            return Ok(Box::new(MietteSpanContents::new_named(
                self.name.clone(),
                b"",
                (0, 0).into(),
                0,
                0,
                0,
            )));
        }
        let contiguous = |i: usize| self.lines[i].number + 1 == self.lines[i + 1].number;
        let first = at(span.offset());
        let last = at(span.offset() + span.len().saturating_sub(1)).max(first);
        if (first..last).any(|i| !contiguous(i)) {
            // Labels on lines not shown together: separate snippets.
            return Err(MietteError::OutOfBounds);
        }
        let mut lo = first;
        for _ in 0..before {
            if lo > 0 && contiguous(lo - 1) {
                lo -= 1;
            }
        }
        let mut hi = last;
        for _ in 0..after {
            if hi + 1 < self.lines.len() && contiguous(hi) {
                hi += 1;
            }
        }
        let (s, e) = (self.lines[lo].range.start, self.lines[hi].range.end);
        let (line, column) = if before == 0 && after == 0 && span.offset() == self.primary.0 {
            (self.primary.1, self.primary.2)
        } else if before == 0 {
            let v = &self.lines[first];
            let col = self.text[v.range.start..span.offset().max(v.range.start)]
                .chars()
                .count();
            (v.number, col)
        } else {
            (self.lines[lo].number, 0)
        };
        let line_count = self.lines[hi].number + 1;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            &self.text.as_bytes()[s..e],
            (s, e - s).into(),
            line,
            column,
            line_count,
        )))
    }
}

/// A line of a fix diff, cut around byte `at` when longer than [`MAX_LINE`].
pub fn cut_line(l: &str, at: usize) -> std::borrow::Cow<'_, str> {
    if l.len() <= MAX_LINE {
        return l.into();
    }
    let a = floor_boundary(l, at.saturating_sub(AROUND));
    let b = floor_boundary(l, at.saturating_add(3 * AROUND)).max(a);
    let lead = if a > 0 { CUT } else { "" };
    let tail = if b < l.len() { CUT } else { "" };
    format!("{lead}{}{tail}", &l[a..b]).into()
}
