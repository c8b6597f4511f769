//! What the lexer tells about one file without a parse ([`Scan`]): the identifiers it
//! mentions, those of its `use` items and relative paths, its glob imports through `super`
//! and `crate`, whether it is lexically broken or has a suppression comment, and its module
//! skeleton. The prefilter decides from it which files to parse (see `crate::prefilter`).

use ra_ap_syntax::{Edition, SyntaxKind};

use super::lexer::{Tok, balanced, quick_scan};
use super::skeleton::{in_inline_mod, skeleton};
use crate::idents::hash;
use crate::summary::{FileSummary, ModDecl, ModuleSummary};

/// What the lexer tells about one file.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct Scan {
    /// Every identifier and keyword, hashed, sorted, deduplicated.
    pub idents: Vec<u64>,
    /// The identifiers of `use` items that start at `crate`, `self` or `super`.
    pub rel_use_idents: Vec<u64>,
    /// The segments of paths that start at `crate::`, `self::` or `super::`.
    pub rel_path_idents: Vec<u64>,
    /// `use super::*;` outside any inline module of the file: a glob import of the parent
    /// module, which lives in another file.
    pub glob_parent: bool,
    /// Any other glob import through `super` or `crate` (`use crate::*;`, `use super::super::*;`,
    /// braces): resolved, conservatively, to any module of the crate. A glob through a named
    /// module (`use crate::db::*;`) is found by that module's name instead, and `self::*`
    /// adds nothing a file does not already have.
    pub glob_crate: bool,
    /// The text is lexically broken: a lexer error or an invalid token, unbalanced brackets,
    /// nesting deeper than [`super::lexer::DEEP_BRACKETS`], a binary file or one too deep for the parser.
    /// Always parsed; SSOT000 reports the parse's errors even when the file cannot matter.
    pub broken: bool,
    /// The text contains `ssot-lint:` (a suppression comment, SSOT100).
    pub marker: bool,
    /// The module structure when every `mod` item sits at the file's top level (so the
    /// parser is certain to see the same): modules, `mod x;` declarations, `mod` items of
    /// the root module. `None`: only a parse can tell.
    pub skeleton: Option<(Vec<ModuleSummary>, Vec<ModDecl>)>,
    /// For parsed files: the identifiers (hashed, sorted) inside each function's range.
    pub fn_idents: Vec<Vec<u64>>,
    /// The file has its full summary.
    pub parsed: bool,
    /// Made by [`quick_scan`], not the lexer (the same scan; for `SSOT_PREFILTER_STATS`).
    pub quick: bool,
}

pub(crate) fn sorted(mut v: Vec<u64>) -> Vec<u64> {
    v.sort_unstable();
    v.dedup();
    v
}

/// Lex a file and collect what the prefilter needs.
pub fn scan(text: &str, edition: Edition) -> Scan {
    let mut out = Scan {
        marker: text.contains("ssot-lint:"),
        ..Default::default()
    };
    // Binary or too deep for the parser (see `parse::summarize`): nothing to lex, the parse
    // gives one error at once.
    if crate::parse::depth::source_too_deep(text).is_some() {
        out.broken = true;
        return out;
    }
    let lexed = ra_ap_parser::LexedStr::new(edition, text);
    let lex_errors = lexed.errors().next().is_some();
    let mut toks: Vec<Tok> = Vec::with_capacity(lexed.len() / 2);
    for i in 0..lexed.len() {
        let kind = lexed.kind(i);
        if kind.is_trivia() || kind == SyntaxKind::EOF {
            continue;
        }
        let r = lexed.text_range(i);
        toks.push(Tok {
            kind,
            start: r.start as u32,
            end: r.end as u32,
        });
    }
    scan_tokens(text, &toks, Some(lex_errors))
}

/// What the prefilter needs from a file's significant tokens (see [`scan`]); `lex_errors`:
/// whether the lexer found an error, `None` for [`quick_scan`]'s tokens, which have none,
/// no invalid token and balanced brackets.
pub(crate) fn scan_tokens(text: &str, toks: &[Tok], lex_errors: Option<bool>) -> Scan {
    let mut out = Scan {
        marker: text.contains("ssot-lint:"),
        ..Default::default()
    };
    out.idents = sorted(
        toks.iter()
            .filter(|t| t.kind.is_any_identifier())
            .map(|t| hash(t.text(text)))
            .collect(),
    );
    out.broken = match lex_errors {
        None => false,
        Some(e) => e || toks.iter().any(|t| t.kind == SyntaxKind::ERROR) || !balanced(toks),
    };
    use_items(toks, text, &mut out);
    // A broken file is parsed anyway.
    out.skeleton = if out.broken {
        None
    } else {
        skeleton(toks, text)
    };
    out
}

/// The scan of a file [`quick_scan`] accepts: the same as [`scan`]'s, without the lexer.
pub(crate) fn quick(text: &str, edition: Edition) -> Option<Scan> {
    let toks = quick_scan(text, edition)?;
    Some(Scan {
        quick: true,
        ..scan_tokens(text, &toks, None)
    })
}

/// Identifiers of `use` / `extern crate` items, and relative glob imports.
pub(crate) fn use_items(toks: &[Tok], text: &str, out: &mut Scan) {
    let mut v = Vec::new();
    let mut rel = Vec::new();
    let colon = |i: usize| toks.get(i).is_some_and(|t| t.kind == SyntaxKind::COLON);
    let mut rp = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        if !matches!(
            t.kind,
            SyntaxKind::SELF_KW | SyntaxKind::SUPER_KW | SyntaxKind::CRATE_KW
        ) {
            continue;
        }
        let mut j = i + 1;
        loop {
            let step = if toks.get(j).is_some_and(|t| t.kind == SyntaxKind::COLON2) {
                1
            } else if colon(j) && colon(j + 1) {
                2
            } else {
                break;
            };
            j += step;
            match toks.get(j) {
                Some(t) if t.kind.is_any_identifier() => {
                    rp.push(hash(t.text(text)));
                    j += 1;
                }
                _ => break,
            }
        }
    }
    out.rel_path_idents = sorted(rp);
    let mut i = 0;
    while i < toks.len() {
        let k = toks[i].kind;
        let starts = k == SyntaxKind::USE_KW
            || (k == SyntaxKind::EXTERN_KW
                && toks
                    .get(i + 1)
                    .is_some_and(|t| t.kind == SyntaxKind::CRATE_KW));
        if !starts {
            i += 1;
            continue;
        }
        let mut relative = false;
        let mut glob = false;
        let first = v.len();
        let mut j = i + 1;
        while j < toks.len() && toks[j].kind != SyntaxKind::SEMICOLON {
            let t = &toks[j];
            match t.kind {
                SyntaxKind::STAR => glob = true,
                SyntaxKind::SELF_KW | SyntaxKind::SUPER_KW | SyntaxKind::CRATE_KW => {
                    relative = true
                }
                _ => {}
            }
            if t.kind.is_any_identifier() {
                v.push(hash(t.text(text)));
            }
            // A `use` never contains these; stop at what cannot be part of one.
            if matches!(
                t.kind,
                SyntaxKind::L_PAREN | SyntaxKind::FN_KW | SyntaxKind::EQ
            ) {
                break;
            }
            j += 1;
        }
        if glob && relative {
            let kinds: Vec<SyntaxKind> = toks[i + 1..j.min(toks.len())]
                .iter()
                .map(|t| t.kind)
                .collect();
            let is = |k: &[SyntaxKind]| kinds == k;
            use SyntaxKind::{COLON2, SELF_KW, STAR, SUPER_KW};
            if is(&[SELF_KW, COLON2, STAR]) {
                // The module's own items: nothing new.
            } else if is(&[SUPER_KW, COLON2, STAR]) {
                // Inside an inline module `super` is a module of this file, which can only
                // export what this file names (and so is relevant for); outside, it is the
                // parent file's module.
                if !in_inline_mod(toks, i) {
                    out.glob_parent = true;
                }
            } else if v[first..].is_empty() || kinds.contains(&SyntaxKind::L_CURLY) {
                out.glob_crate = true;
            }
        }
        if relative {
            rel.extend_from_slice(&v[first..]);
        }
        i = j + 1;
    }
    out.rel_use_idents = sorted(rel);
}

/// The summary of a file that is not parsed.
pub(crate) fn skeleton_summary(scan: &Scan, text: &str) -> Option<FileSummary> {
    let (modules, mod_decls) = scan.skeleton.clone()?;
    Some(FileSummary {
        modules,
        mod_decls,
        line_count: crate::parse::line_count(text),
        ..Default::default()
    })
}

/// Identifier hashes inside each function's range (for "its body mentions a trigger").
pub(crate) fn fn_idents(text: &str, summary: &FileSummary, edition: Edition) -> Vec<Vec<u64>> {
    if summary.fns.is_empty() {
        return Vec::new();
    }
    // The byte lexer's tokens are the real lexer's when it accepts the text.
    let occ: Vec<(u32, u64)> = match quick_scan(text, edition) {
        Some(toks) => toks
            .iter()
            .filter(|t| t.kind.is_any_identifier())
            .map(|t| (t.start, hash(t.text(text))))
            .collect(),
        None => {
            let lexed = ra_ap_parser::LexedStr::new(edition, text);
            (0..lexed.len())
                .filter(|&i| lexed.kind(i).is_any_identifier())
                .map(|i| (lexed.text_start(i) as u32, hash(lexed.text(i))))
                .collect()
        }
    };
    summary
        .fns
        .iter()
        .map(|f| {
            let a = occ.partition_point(|o| o.0 < f.span.start);
            let b = occ.partition_point(|o| o.0 < f.span.end);
            sorted(occ[a..b].iter().map(|o| o.1).collect())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::super::lexer::quick_scan;
    use super::*;

    type Owned = Vec<(SyntaxKind, String, u32, u32)>;

    fn owned(toks: &[Tok], text: &str) -> Owned {
        toks.iter()
            .map(|t| (t.kind, t.text(text).to_string(), t.start, t.end))
            .collect()
    }

    /// The real lexer's significant tokens, and whether it finds an error.
    fn lexer(text: &str, edition: Edition) -> (Owned, bool) {
        let lexed = ra_ap_parser::LexedStr::new(edition, text);
        let mut toks = Vec::new();
        let mut bad = lexed.errors().next().is_some();
        for i in 0..lexed.len() {
            let k = lexed.kind(i);
            bad |= k == SyntaxKind::ERROR;
            if k.is_trivia() || k == SyntaxKind::EOF {
                continue;
            }
            let r = lexed.text_range(i);
            toks.push((k, lexed.text(i).to_string(), r.start as u32, r.end as u32));
        }
        (toks, bad)
    }

    /// What a file's byte lexing must satisfy whenever it accepts: the real lexer's tokens
    /// exactly, no lexer error, and the same scan as the lexer path. Returns whether it
    /// accepted.
    fn agrees(text: &str, edition: Edition, what: &str) -> bool {
        let Some(q) = quick_scan(text, edition) else {
            return false;
        };
        let (toks, bad) = lexer(text, edition);
        assert!(!bad, "{what}: the lexer finds an error");
        assert_eq!(owned(&q, text), toks, "{what}");
        let quick = Scan {
            quick: false,
            ..quick(text, edition).expect("accepted")
        };
        assert_eq!(
            format!("{quick:?}"),
            format!("{:?}", scan(text, edition)),
            "{what}"
        );
        true
    }

    #[test]
    fn quick_scan_accepts_plain_code_and_declines_what_it_does_not_understand() {
        let ok = [
            "pub fn f(x: u8) -> &'static str { let _c = 'a'; let _e = '\\n'; \"a\\x41\\\"b\" }\n",
            "/* outer /* inner */ still */ fn g() -> f64 { 1.5 + 0x1F as f64 + 1.max(2) as f64 }\n",
            "// é in a comment\nuse std::fmt;\nimpl<'a> T<'a> for X { fn h(&self) {} }\n",
            "const A: f64 = 1.; const B: f64 = 2.0f64; fn r() { for _ in 0..1 {} let _ = (1.).max(2.); }\n",
            "mod a;\n#[cfg(test)]\nmod tests {\n    use super::*;\n    #[path = \"x.rs\"] mod x;\n    pub(crate) mod inner { mod deep; }\n}\n",
            "use super::*;\nuse crate::{a, *};\nfn f() { let async_ = 1; let dyn_ = 2; }\n",
            "fn f() { let s = r\"raw\"; let t = r#\"a \"quoted\" é\"#; let u = br##\"x\"#\"##; }\n",
            "fn f() { let s = b\"bytes\\xff\\n\"; let c = b'\\x80'; let d = b'a'; }\n",
            "fn f() { let r#type = 1; let r#match = r#type; }\n",
            "fn f() { let s = \"\\u{41}\\u{10FFFF} é ✓\"; let c = '\\u{e9}'; let d = 'é'; }\n",
            "fn f() { let x = 1e5; let y = 2.5E-3f64; let z = 1_0e+1_0; let w = 0x1e5; }\n",
        ];
        for t in ok {
            for ed in [
                Edition::Edition2015,
                Edition::Edition2021,
                Edition::Edition2024,
            ] {
                assert!(agrees(t, ed, t), "declined: {t}");
            }
        }
        let declined = [
            "fn f() { let s = b\"é\"; }\n",
            "fn f() { let s = br\"é\"; }\n",
            "fn f() { let s = r#\"unterminated\"; }\n",
            "fn f() { let s = r\"a\rb\"; }\n",
            "fn f() { let r#self = 1; }\n",
            "fn f() { let s = c\"c string\"; }\n",
            "fn f() { let c = b'ab'; }\n",
            "fn f() { let s = \"\\u{D800}\"; }\n",
            "fn f() { let s = \"\\u{}\"; }\n",
            "fn f() { let s = b\"\\u{41}\"; }\n",
            "fn f() { let s = \"\\x80\"; }\n",
            "fn f() { let x = 1e; }\n",
            "fn f() { let s = \"a\"suffix; let c = 'a'x; }\n",
            "fn f() { let c = 'a'x; }\n",
            "fn f() { let s = r\"a\"x; }\n",
            "fn f() { let x = 1e+_; }\n",
            "fn f() { let s = \"unterminated; }\n",
            "fn f() { let c = 'ab'; }\n",
            "fn f() { let x = 0x; }\n",
            "fn f() { let x = (1; }\n",
            "fn f() { let x = 1 ` 2; }\n",
            "fn f() { let é = 1; }\n",
            "/* unterminated\n",
            "// ssot-lint: allow(SSOT001)\n",
            "#!/usr/bin/env run-cargo-script\nfn main() {}\n",
        ];
        for t in declined {
            assert!(
                quick_scan(t, Edition::Edition2021).is_none(),
                "accepted: {t}"
            );
        }
        // What `source_too_deep` may refuse is left to it: long chains, deep prefix
        // operators, NUL bytes (in a comment too).
        // Token by token, the same verdict as `source_too_deep` over the bytes.
        let (n, m) = (1100, 2100);
        let deep = [
            format!("fn f() {{ let x = a{}; }}\n", ".b".repeat(m)),
            format!("fn f() {{ let x = {}x; }}\n", "!".repeat(n)),
            "// \0\nfn f() {}\n".to_string(),
            format!("fn f() {{ {}1; }}\n", "|| ".repeat(n)),
            format!("fn f() {{ {}1; }}\n", "return ".repeat(n)),
            format!("fn f() {{ {}x{} }}\n", "if ".repeat(n), " {}".repeat(n)),
            format!(
                "fn f() {{ {}x{} }}\n",
                "for x in ".repeat(n),
                " {}".repeat(n)
            ),
            format!("fn f() {{ {}{{}} }}\n", "if a {} else ".repeat(n)),
            format!("type T<'a> = {}u8;\n", "&'a ".repeat(n)),
            format!("fn f() {{ g{}; }}\n", "()".repeat(m)),
            format!("fn f() {{ x{}; }}\n", "?".repeat(m)),
            format!("fn f() {{ x{}; }}\n", " as T".repeat(m)),
            format!("fn f() {{ x{}; }}\n", ".a(1, 2.5)".repeat(m)),
            format!("fn f() {{ x{}; }}\n", ".a(|| {})".repeat(m)),
        ];
        for t in &deep {
            assert!(
                quick_scan(t, Edition::Edition2021).is_none(),
                "accepted: {}",
                &t[..t.len().min(100)]
            );
            assert!(crate::parse::depth::source_too_deep(t).is_some());
        }
        let fine = [
            format!("fn f() {{ let x = a{}; }}\n", ".b".repeat(900)),
            "impl<T> X for T where for<'a> T: Y<'a> {}\n".repeat(n),
            "pub type F = for<'a> fn(&'a u8) -> &'a u8;\n".repeat(n),
            format!(
                "fn f() {{ {} }}\n",
                "if a { b } else if c { d }\n".repeat(n)
            ),
            format!(
                "fn f() {{ {} }}\n",
                "for x in y { 'a: loop { break 'a; } }\n".repeat(n)
            ),
            "fn f() -> X { a.b(\"s\", b'c', 'd', 1.5e3)?.c().await }\n".repeat(n),
        ];
        for t in &fine {
            assert!(
                quick_scan(t, Edition::Edition2021).is_some(),
                "declined: {}",
                &t[..t.len().min(100)]
            );
            assert!(crate::parse::depth::source_too_deep(t).is_none());
        }
    }

    /// Over this repository's own sources and fixtures (and, with `SSOT_QUICK_SCAN_DIR=DIR`,
    /// every `.rs` file below DIR, e.g. the benchmark corpus): every file the byte lexer
    /// accepts gets exactly the real lexer's tokens and scan, at every edition.
    #[test]
    fn quick_scan_agrees_with_the_lexer_on_real_files() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut dirs = vec![root.join("src"), root.join("tests"), root.join("fixtures")];
        if let Some(d) = std::env::var_os("SSOT_QUICK_SCAN_DIR") {
            dirs = vec![PathBuf::from(d)];
        }
        let (mut accepted, mut seen) = (0, 0);
        for dir in dirs {
            for e in walkdir::WalkDir::new(dir).into_iter().flatten() {
                let p = e.path();
                if p.extension().is_none_or(|x| x != "rs") {
                    continue;
                }
                let Ok(text) = std::fs::read_to_string(p) else {
                    continue;
                };
                seen += 1;
                for ed in [
                    Edition::Edition2015,
                    Edition::Edition2021,
                    Edition::Edition2024,
                ] {
                    if agrees(&text, ed, &p.display().to_string()) {
                        accepted += 1;
                    }
                }
            }
        }
        eprintln!("{accepted} of {seen} files × 3 editions byte-lexed");
        assert!(accepted > 50, "accepted {accepted} of {seen} files");
    }
}
