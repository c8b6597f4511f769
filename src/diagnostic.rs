//! What the check stage produces: findings, with optional fixes made of byte-range edits,
//! and the codes of the rules that report them (their registry is `crate::rules`).

use crate::ids::FileId;
use crate::summary::Span;

/// Declares the rule codes: `Variant "CODE",` per rule, in registry order (the order rules
/// run and are listed in; `crate::rules`' `registry!` follows it, one line per code).
macro_rules! rule_codes {
    ($($variant:ident $code:literal,)*) => {
        /// A rule's code, typed.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum RuleCode {
            $($variant,)*
        }

        impl RuleCode {
            /// Every rule, in registry order.
            pub const ALL: &'static [RuleCode] = &[$(RuleCode::$variant,)*];

            /// `SSOT001`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(RuleCode::$variant => $code,)*
                }
            }
        }
    };
}

rule_codes! {
    Ssot000 "SSOT000",
    Ssot001 "SSOT001",
    Ssot002 "SSOT002",
    Ssot003 "SSOT003",
    Ssot004 "SSOT004",
    Ssot005 "SSOT005",
    Ssot006 "SSOT006",
    Ssot007 "SSOT007",
    Ssot100 "SSOT100",
}

impl From<RuleCode> for &'static str {
    fn from(c: RuleCode) -> Self {
        c.as_str()
    }
}

impl AsRef<str> for RuleCode {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

/// As its code, `"SSOT001"`.
impl serde::Serialize for RuleCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for RuleCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How sure a fix is. Ordered: `Display < Unsafe < Safe`, so "does it apply?" is one comparison.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    Display,
    Unsafe,
    Safe,
}

/// How bad a rule's findings are, in every format. Ordered: `Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// Replace `range` of the original text with `content`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Edit {
    pub range: Span,
    pub content: String,
}

/// Sorted, disjoint edits that apply whole or not at all.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Fix {
    pub title: String,
    pub applicability: Applicability,
    pub edits: Vec<Edit>,
}

/// What SSOT006 inferred about the resource it reports, for `ssot-lint init`: the presumed
/// SSOT and the evidence that decided it, as data (never parsed back from the text).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Presumed {
    pub kind: String,
    /// The database backend that set the resource apart from others of its kind.
    pub backend: Option<String>,
    pub ssot: String,
    /// Which evidence decided (`it holds the pool/client in a global`).
    pub why: String,
    /// Every owner, the SSOT among them, in path order.
    pub owners: Vec<String>,
}

/// A secondary location (another module of a competing set).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Related {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub message: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Finding {
    pub code: RuleCode,
    pub name: &'static str,
    /// Relative to the output root, `/` separators.
    pub file: String,
    #[serde(skip)]
    pub file_id: FileId,
    pub span: Span,
    /// 1-based; filled in by the engine from the file's text.
    pub line: u32,
    /// 1-based, in characters.
    pub column: u32,
    pub message: String,
    pub help: Option<String>,
    pub related: Vec<Related>,
    pub fix: Option<Fix>,
    /// Where related locations point, before line/column are known.
    #[serde(skip)]
    pub related_spans: Vec<(FileId, Span, String)>,
    /// Suppressed by an `ssot-lint: allow(..)` comment: the comment's text. Such findings
    /// are kept apart in [`crate::engine::Outcome::suppressed`] (SARIF reports them).
    #[serde(skip)]
    pub suppressed: Option<String>,
    /// SSOT006's inferred resource (not printed).
    #[serde(skip)]
    pub presumed: Option<Presumed>,
}

impl Finding {
    pub fn new(
        code: RuleCode,
        name: &'static str,
        file_id: FileId,
        span: Span,
        message: String,
    ) -> Self {
        Finding {
            code,
            name,
            file: String::new(),
            file_id,
            span,
            line: 0,
            column: 0,
            message,
            help: None,
            related: Vec::new(),
            fix: None,
            related_spans: Vec::new(),
            suppressed: None,
            presumed: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// `a` or `an` before a resource kind.
pub fn article(word: &str) -> &'static str {
    match word.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ => "a",
    }
}
