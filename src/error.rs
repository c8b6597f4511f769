//! Typed errors of the library. The CLI renders them with miette and exits 2.

use std::ops::Range;
use std::path::PathBuf;

use miette::{Diagnostic, MietteSpanContents, NamedSource, SourceCode, SourceSpan, SpanContents};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid manifest {}: {message}", path.display())]
    Manifest {
        path: PathBuf,
        message: String,
        span: Option<Range<usize>>,
        text: String,
    },
    /// A config or pack file error, with the offending span.
    #[error("{message}")]
    Config {
        path: PathBuf,
        message: String,
        span: Option<Range<usize>>,
        text: String,
        help: Option<String>,
    },
    #[error("no Cargo.toml found at or below {}", path.display())]
    NoWorkspace { path: PathBuf },
    #[error("{0}")]
    Usage(String),
}

impl Error {
    pub fn config(
        path: &std::path::Path,
        text: &str,
        span: Option<Range<usize>>,
        message: impl Into<String>,
    ) -> Self {
        Error::Config {
            path: path.to_path_buf(),
            message: message.into(),
            span,
            text: text.to_string(),
            help: None,
        }
    }

    pub fn with_help(mut self, h: impl Into<String>) -> Self {
        if let Error::Config { help, .. } = &mut self {
            *help = Some(h.into());
        }
        self
    }

    /// `file:line:column` of a spanned error, for one-line renderings and tests.
    pub fn location(&self) -> Option<String> {
        let (path, span, text) = match self {
            Error::Config {
                path,
                span: Some(s),
                text,
                ..
            }
            | Error::Manifest {
                path,
                span: Some(s),
                text,
                ..
            } => (path, s, text),
            _ => return None,
        };
        let before = &text[..text.floor_char_boundary(span.start)];
        let line = before.matches('\n').count() + 1;
        let col = before
            .rsplit('\n')
            .next()
            .map(|l| l.chars().count())
            .unwrap_or(0)
            + 1;
        Some(format!("{}:{line}:{col}", path.display()))
    }

    /// A miette report pointing into the offending file.
    pub fn to_report(&self) -> miette::Report {
        match self {
            Error::Config {
                path,
                message,
                span,
                text,
                ..
            }
            | Error::Manifest {
                path,
                message,
                span,
                text,
                ..
            } => {
                let help = match self {
                    Error::Config { help, .. } => help.clone(),
                    _ => None,
                };
                let loc = self
                    .location()
                    .unwrap_or_else(|| path.display().to_string());
                let name = path.display().to_string();
                let span = span.clone().map(|s| s.start..s.end.max(s.start));
                let message = format!("{loc}: {message}");
                match span.as_ref().and_then(|s| Excerpt::of(&name, text, s)) {
                    Some((src, span)) => miette::Report::new(SpannedDiag {
                        message,
                        src,
                        span: Some(span.into()),
                        help,
                    }),
                    None => miette::Report::new(SpannedDiag {
                        message,
                        src: NamedSource::new(name, text.clone()),
                        span: span.map(SourceSpan::from),
                        help,
                    }),
                }
            }
            other => miette::Report::msg(other.to_string()),
        }
    }
}

#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{message}")]
struct SpannedDiag<S: SourceCode + std::fmt::Debug + 'static> {
    message: String,
    #[source_code]
    src: S,
    #[label("here")]
    span: Option<SourceSpan>,
    #[help]
    help: Option<String>,
}

/// Lines longer than this around an error are shown as an excerpt (see [`Excerpt`]).
const LONG_LINE: usize = 1000;

/// Characters of a long line shown before the error's start, and at most in all.
const EXCERPT_BEFORE: usize = 60;
const EXCERPT_CHARS: usize = 160;

/// The lines around an error whose line, or a line next to it, is long: each cut to a bounded
/// excerpt (`…` where text was left out), numbered and placed as in the file. miette pads
/// the label to its column and panics past column 65,535; the snippet stays short too.
#[derive(Debug)]
struct Excerpt {
    name: String,
    text: String,
    /// Line (0-based) of the file where `text` starts.
    first_line: usize,
    /// Line of `text` the error is on, the bytes of that line left out before the excerpt,
    /// and the bytes of the `…` put in their place (miette counts columns in bytes).
    span_line: usize,
    cut: usize,
    mark: usize,
}

impl Excerpt {
    /// `None` when the lines around `span` are short: the file's text is shown as it is.
    fn of(name: &str, text: &str, span: &Range<usize>) -> Option<(Excerpt, Range<usize>)> {
        let start = text.floor_char_boundary(span.start.min(text.len()));
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let prev_start = text[..line_start.saturating_sub(1)]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let next_end = text[line_end..]
            .get(1..)
            .and_then(|t| t.find('\n'))
            .map_or(text.len(), |i| line_end + 1 + i);
        let lines: Vec<&str> = text[prev_start..next_end].split('\n').collect();
        if lines.iter().all(|l| l.len() <= LONG_LINE) {
            return None;
        }
        let first_line = text[..prev_start].matches('\n').count();
        let span_line = usize::from(prev_start < line_start);
        let mut out = String::new();
        let (mut cut, mut mark, mut new_span) = (0, 0, 0..0);
        for (i, l) in lines.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            let (from, to) = if i == span_line {
                let col = start - line_start;
                let from = l.floor_char_boundary(col.saturating_sub(EXCERPT_BEFORE));
                (from, l.floor_char_boundary(from + EXCERPT_CHARS))
            } else {
                (0, l.floor_char_boundary(EXCERPT_CHARS))
            };
            if from > 0 {
                out.push('…');
            }
            if i == span_line {
                cut = from;
                mark = if from > 0 { '…'.len_utf8() } else { 0 };
                let at = out.len() + (start - line_start - from);
                let end = span.end.clamp(start, line_start + to) - start;
                new_span = at..at + end;
            }
            out.push_str(&l[from..to]);
            if to < l.len() {
                out.push('…');
            }
        }
        let excerpt = Excerpt {
            name: name.to_string(),
            text: out,
            first_line,
            span_line,
            cut,
            mark,
        };
        Some((excerpt, new_span))
    }
}

impl SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, miette::MietteError> {
        let inner = self.text.as_str().read_span(span, before, after)?;
        let column = if inner.line() == self.span_line && inner.column() >= self.mark {
            inner.column() - self.mark + self.cut
        } else {
            inner.column()
        };
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line() + self.first_line,
            column,
            inner.line_count(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(text: &str, span: Range<usize>) -> String {
        let e = Error::config(std::path::Path::new("c.toml"), text, Some(span), "bad");
        let handler =
            miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor());
        let mut s = String::new();
        handler
            .render_report(&mut s, e.to_report().as_ref())
            .expect("render");
        s
    }

    /// Long lines with multi-byte characters, an error on the first line, at the end of the
    /// text, and one that runs over several lines: each renders, with the real position.
    #[test]
    fn long_lines_render_as_an_excerpt() {
        let long = "é".repeat(40_000);
        let text = format!("{long}x\nshort\n");
        let s = render(&text, 80_000..80_001);
        assert!(s.contains("× c.toml:1:40001: bad"), "{s}");
        assert!(s.contains("╭─[c.toml:1:80001]"), "{s}");
        assert!(s.contains("…ééé"), "{s}");
        assert!(s.lines().all(|l| l.chars().count() < 400), "{s}");
        let text = format!("a\n{long}");
        let s = render(&text, text.len()..text.len());
        assert!(s.contains("× c.toml:2:40001: bad"), "{s}");
        let text = format!("{long}\n{long}\n{long}\n");
        let s = render(&text, 70_001..150_000);
        assert!(s.contains("× c.toml:1:35001: bad"), "{s}");
        assert!(s.lines().all(|l| l.chars().count() < 400), "{s}");
        // Short lines: the file's text as it is.
        let s = render("a = 1\nb = ?\n", 10..11);
        assert!(s.contains("╭─[c.toml:2:5]"), "{s}");
        assert!(s.contains(" 2 │ b = ?"), "{s}");
    }
}
