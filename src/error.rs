//! Typed errors of the library. The CLI renders them with miette and exits 2.

use std::ops::Range;
use std::path::PathBuf;

use miette::{Diagnostic, NamedSource, SourceSpan};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {}: {source}", path.display())]
    Io {
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
        let before = &text[..span.start.min(text.len())];
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
                let d = SpannedDiag {
                    message: format!("{loc}: {message}"),
                    src: NamedSource::new(path.display().to_string(), text.clone()),
                    span: span
                        .clone()
                        .map(|s| SourceSpan::from(s.start..s.end.max(s.start))),
                    help,
                };
                miette::Report::new(d)
            }
            other => miette::Report::msg(other.to_string()),
        }
    }
}

#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{message}")]
struct SpannedDiag {
    message: String,
    #[source_code]
    src: NamedSource<String>,
    #[label("here")]
    span: Option<SourceSpan>,
    #[help]
    help: Option<String>,
}
