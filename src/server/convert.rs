//! Findings as the editor shows them: diagnostics (with related locations and the rule's
//! documentation), code actions from their fixes, hovers.

use lsp_types::{
    CodeAction, CodeActionDisabled, CodeActionKind, CodeDescription, Diagnostic,
    DiagnosticRelatedInformation, DiagnosticSeverity, Hover, HoverContents, Location,
    MarkupContent, MarkupKind, NumberOrString, OneOf, OptionalVersionedTextDocumentIdentifier,
    Position, Range, TextDocumentEdit, TextEdit, Url, WorkspaceEdit,
};

use crate::diagnostic::{Applicability, Finding, RuleCode, Severity};

use super::documents::{Encoding, Lines};

/// The `source` of every diagnostic.
pub const SOURCE: &str = "ssot-lint";

/// A finding in an open document, positioned in that document's text as it was linted.
#[derive(Debug, Clone)]
pub struct Shown {
    pub code: RuleCode,
    pub diagnostic: Diagnostic,
    pub fix: Option<ShownFix>,
}

#[derive(Debug, Clone)]
pub struct ShownFix {
    pub title: String,
    pub applicability: Applicability,
    pub edits: Vec<TextEdit>,
}

/// Where the rules are documented, when the project has an address (`repository` in
/// Cargo.toml; without one, nothing links anywhere and the hover carries the documentation).
pub fn rule_link() -> Option<Url> {
    crate::report::common::rules_uri().and_then(|u| Url::parse(&u).ok())
}

/// The diagnostic of a finding of the document whose text is `text`; `related` are its
/// related locations, already placed.
pub fn diagnostic(
    f: &Finding,
    text: &str,
    lines: &Lines,
    enc: Encoding,
    related: Vec<DiagnosticRelatedInformation>,
) -> Shown {
    let info = f.code.info();
    let range = lines.range(text, f.span.start as usize, f.span.end as usize, enc);
    let mut message = f.message.clone();
    if let Some(h) = &f.help {
        message.push_str("\nhelp: ");
        message.push_str(h);
    }
    let diagnostic = Diagnostic {
        range,
        severity: Some(match info.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(f.code.as_str().to_string())),
        code_description: rule_link().map(|href| CodeDescription { href }),
        source: Some(SOURCE.to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: None,
    };
    let fix = f.fix.as_ref().map(|fix| ShownFix {
        title: fix.title.clone(),
        applicability: fix.applicability,
        edits: fix
            .edits
            .iter()
            .map(|e| TextEdit {
                range: lines.range(text, e.range.start as usize, e.range.end as usize, enc),
                new_text: e.content.clone(),
            })
            .collect(),
    });
    Shown {
        code: f.code,
        diagnostic,
        fix,
    }
}

/// A related location: `line` and `column` 1-based, the column in characters, in `text`.
pub fn related(
    uri: Url,
    text: &str,
    line: u32,
    column: u32,
    message: &str,
    enc: Encoding,
) -> DiagnosticRelatedInformation {
    let lines = Lines::new(text);
    let at = lines.line_column(text, line, column, enc);
    DiagnosticRelatedInformation {
        location: Location {
            uri,
            range: Range::new(at, at),
        },
        message: message.to_string(),
    }
}

fn overlaps(a: &Range, b: &Range) -> bool {
    let before = |x: &Position, y: &Position| (x.line, x.character) < (y.line, y.character);
    // Touching counts: a cursor at either end of a diagnostic asks for its fixes.
    !before(&a.end, &b.start) && !before(&b.end, &a.start)
}

/// How the client takes code actions.
#[derive(Debug, Clone, Copy, Default)]
pub struct ActionSupport {
    /// `documentChanges` (versioned edits) instead of `changes`.
    pub document_changes: bool,
    /// Disabled actions, shown with why (the display-only fixes).
    pub disabled: bool,
}

/// The code actions for `range` of a document: one per fix of a finding there. Safe fixes
/// are preferred; unsafe ones say so in their title; display-only ones are disabled (when
/// the client shows disabled actions) with the reason.
pub fn code_actions(
    uri: &Url,
    version: i32,
    shown: &[Shown],
    range: &Range,
    support: ActionSupport,
) -> Vec<CodeAction> {
    let mut out = Vec::new();
    for s in shown {
        let Some(fix) = &s.fix else { continue };
        if !overlaps(&s.diagnostic.range, range) {
            continue;
        }
        let (title, disabled) = match fix.applicability {
            Applicability::Safe => (format!("{} ({})", fix.title, s.code), None),
            Applicability::Unsafe => (
                format!("{} ({}, unsafe fix: review the change)", fix.title, s.code),
                None,
            ),
            Applicability::Display => {
                if !support.disabled {
                    continue;
                }
                (
                    format!("{} ({})", fix.title, s.code),
                    Some(CodeActionDisabled {
                        reason: "shown only: ssot-lint does not apply this fix itself; make the change by hand"
                            .to_string(),
                    }),
                )
            }
        };
        let edit = if support.document_changes {
            WorkspaceEdit {
                document_changes: Some(lsp_types::DocumentChanges::Edits(vec![TextDocumentEdit {
                    text_document: OptionalVersionedTextDocumentIdentifier {
                        uri: uri.clone(),
                        version: Some(version),
                    },
                    edits: fix.edits.iter().cloned().map(OneOf::Left).collect(),
                }])),
                ..Default::default()
            }
        } else {
            WorkspaceEdit {
                changes: Some([(uri.clone(), fix.edits.clone())].into_iter().collect()),
                ..Default::default()
            }
        };
        out.push(CodeAction {
            title,
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![s.diagnostic.clone()]),
            edit: disabled.is_none().then_some(edit),
            command: None,
            is_preferred: Some(fix.applicability == Applicability::Safe),
            disabled,
            data: None,
        });
    }
    // Safe fixes first, then unsafe, then the rest; in document order within each.
    out.sort_by_key(|a| {
        (
            a.disabled.is_some(),
            a.is_preferred != Some(true),
            a.diagnostics
                .as_ref()
                .and_then(|d| d.first())
                .map(|d| (d.range.start.line, d.range.start.character)),
        )
    });
    out
}

/// The documentation of the rules of the findings at `pos`, as markdown.
pub fn hover(shown: &[Shown], pos: Position) -> Option<Hover> {
    let here = Range::new(pos, pos);
    let mut codes: Vec<RuleCode> = shown
        .iter()
        .filter(|s| overlaps(&s.diagnostic.range, &here))
        .map(|s| s.code)
        .collect();
    codes.sort();
    codes.dedup();
    if codes.is_empty() {
        return None;
    }
    let value = codes
        .iter()
        .map(|c| crate::rules::explain(c.info()))
        .collect::<Vec<_>>()
        .join("\n\n---\n\n");
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value,
        }),
        range: None,
    })
}

/// A diagnostic for an error that stops the lint (a bad config or manifest), at its place.
pub fn error_diagnostic(message: String, range: Range) -> Diagnostic {
    Diagnostic {
        range,
        severity: Some(DiagnosticSeverity::ERROR),
        source: Some(SOURCE.to_string()),
        message,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{Edit, Fix};
    use crate::summary::Span;

    fn finding(applicability: Applicability) -> Finding {
        let mut f = Finding::new(
            RuleCode::Ssot003,
            "deprecated-path",
            crate::ids::FileId::new(0),
            Span { start: 4, end: 9 },
            "m".into(),
        );
        f.fix = Some(Fix {
            title: "use `b`".into(),
            applicability,
            edits: vec![Edit {
                range: Span { start: 4, end: 9 },
                content: "b".into(),
            }],
        });
        f
    }

    #[test]
    fn fixes_become_code_actions_safe_preferred_unsafe_labelled_display_disabled() {
        let text = "use a::old;\n";
        let lines = Lines::new(text);
        let uri = Url::parse("file:///w/src/lib.rs").expect("uri");
        let shown: Vec<Shown> = [
            Applicability::Unsafe,
            Applicability::Display,
            Applicability::Safe,
        ]
        .into_iter()
        .map(|a| diagnostic(&finding(a), text, &lines, Encoding::Utf16, Vec::new()))
        .collect();
        let all = Range::new(Position::new(0, 0), Position::new(1, 0));
        let support = ActionSupport {
            document_changes: true,
            disabled: true,
        };
        let actions = code_actions(&uri, 7, &shown, &all, support);
        let titles: Vec<&str> = actions.iter().map(|a| a.title.as_str()).collect();
        assert_eq!(
            titles,
            [
                "use `b` (SSOT003)",
                "use `b` (SSOT003, unsafe fix: review the change)",
                "use `b` (SSOT003)"
            ]
        );
        assert_eq!(actions[0].is_preferred, Some(true));
        assert_eq!(actions[1].is_preferred, Some(false));
        assert!(actions[2].disabled.is_some() && actions[2].edit.is_none());
        // Without support for disabled actions, a display-only fix is not offered.
        let plain = code_actions(&uri, 7, &shown, &all, ActionSupport::default());
        assert_eq!(plain.len(), 2);
        assert!(plain[0].edit.as_ref().is_some_and(|e| e.changes.is_some()));
        // Elsewhere in the file: none.
        let elsewhere = Range::new(Position::new(0, 10), Position::new(0, 11));
        assert!(code_actions(&uri, 7, &shown, &elsewhere, support).is_empty());
    }

    #[test]
    fn hover_shows_the_rule_documentation() {
        let text = "use a::old;\n";
        let lines = Lines::new(text);
        let shown = vec![diagnostic(
            &finding(Applicability::Safe),
            text,
            &lines,
            Encoding::Utf16,
            Vec::new(),
        )];
        let Some(Hover {
            contents: HoverContents::Markup(m),
            ..
        }) = hover(&shown, Position::new(0, 6))
        else {
            panic!("no hover on the finding");
        };
        assert_eq!(m.value, crate::rules::explain(RuleCode::Ssot003.info()));
        assert!(hover(&shown, Position::new(0, 11)).is_none());
    }
}
