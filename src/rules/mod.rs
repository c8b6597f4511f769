//! The rules, one file each, and the registry that lists them.
//!
//! A rule is a file in this folder holding `pub const RULE: RuleInfo` (its code, name,
//! label, severity, fix, documentation and the function that runs it) and one line in the
//! `registry!` call below; its code is a variant of [`RuleCode`], which sits in the bottom
//! layer with the findings (`crate::diagnostic`) so that nothing below the rules needs the
//! registry. Everything else is generated from the registry: dispatch ([`run`],
//! [`run_after_suppressions`]), `--select`/`--ignore` ([`Selection`]), `--explain`,
//! `--list-rules`, the README's rule table, the labels of the human output and every
//! format's severity. No rule imports another.

use crate::crates::CrateGraph;
use crate::diagnostic::{Finding, Severity};
use crate::ids::FileId;
use crate::semantic::{FileView, Model};
use crate::summary::{Chain, PathRef, StaticSummary};

pub use crate::diagnostic::RuleCode;

/// Declares the rules: `Variant module,` per rule, in the order `--list-rules`, the README
/// and `--statistics` show them (and the order they run in), which is [`RuleCode::ALL`]'s.
macro_rules! registry {
    ($($variant:ident $module:ident,)*) => {
        $(pub mod $module;)*

        impl RuleCode {
            /// The rule's entry.
            pub const fn info(self) -> &'static RuleInfo {
                match self {
                    $(RuleCode::$variant => &$module::RULE,)*
                }
            }
        }

        /// The registry, in [`RuleCode::ALL`] order.
        pub const RULES: &[RuleInfo] = &[$($module::RULE,)*];

        /// The file of each rule (`src/rules/<module>.rs`), in [`RULES`] order.
        #[cfg(test)]
        pub const MODULES: &[&str] = &[$(stringify!($module),)*];
    };
}

registry! {
    Ssot000 syntax_error,
    Ssot001 pool_outside_ssot,
    Ssot002 global_pool_outside_ssot,
    Ssot003 deprecated_path,
    Ssot004 uninitialized_access,
    Ssot005 detached_initialization,
    Ssot006 competing_ssot,
    Ssot007 reached_before_initialization,
    Ssot100 unused_suppression,
}

/// A rule's identity, documentation and entry point.
#[derive(Debug, Clone, Copy)]
pub struct RuleInfo {
    pub code: RuleCode,
    pub name: &'static str,
    /// One line: what it flags.
    pub summary: &'static str,
    /// The label under the flagged text in the human output (`constructed here`).
    pub label: &'static str,
    /// Every format's severity of its findings.
    pub severity: Severity,
    /// Rank for formats that can show only some findings: lower shows first.
    pub importance: u8,
    /// `## What it does`, `## Why is this bad?`, `## Example`, `## Fix safety`,
    /// `## Known limitations`.
    pub doc: &'static str,
    /// What its fix does, if it has one (then the rule file carries a fix test vector).
    pub fix: Option<&'static str>,
    /// How and when it runs.
    pub pass: Pass,
}

/// When a rule runs.
#[derive(Debug, Clone, Copy)]
pub enum Pass {
    /// Over the checked crates, reading the semantic model; findings go to the context.
    Check(fn(&mut Context)),
    /// After `ssot-lint: allow(..)` comments were matched against every other finding.
    AfterSuppressions(fn(&SuppressionContext) -> Vec<Finding>),
}

/// What a [`Pass::Check`] rule reads, and where its findings go.
pub struct Context<'a, 'g> {
    /// The semantic model: sites, SSOT membership, holder types, the initialization index,
    /// test-code status, and the resolver (which caches, hence `&mut`).
    pub model: &'a mut Model<'g>,
    sources: Sources,
    findings: Vec<Finding>,
}

impl<'a, 'g> Context<'a, 'g> {
    pub fn new(model: &'a mut Model<'g>) -> Self {
        Context {
            model,
            sources: Sources::default(),
            findings: Vec::new(),
        }
    }

    /// Every file of every crate, crate by crate (a file in two crates comes twice, with
    /// each crate's module numbering).
    pub fn files(&self) -> Vec<FileView<'g>> {
        self.model.files()
    }

    /// The chains of a file outside test and allowed code.
    pub fn chains(&self, f: &FileView<'g>) -> Vec<&'g Chain> {
        let s = f.summary;
        // Chains come in runs of one module and function: ask once per run.
        let mut last: Option<((usize, bool), bool)> = None;
        s.chains
            .iter()
            .filter(|c| {
                let test = c.is_test || f.func(c.func).is_some_and(|x| x.is_test);
                let key = (c.module, test);
                let allowed = match last {
                    Some((k, a)) if k == key => a,
                    _ => {
                        let a = self.model.allowed(f.module(c.module), test);
                        last = Some((key, a));
                        a
                    }
                };
                !allowed
            })
            .collect()
    }

    /// The `static` items of a file outside test and allowed code.
    pub fn statics(&self, f: &FileView<'g>) -> Vec<&'g StaticSummary> {
        f.summary
            .statics
            .iter()
            .filter(|st| !self.model.allowed(f.module(st.module), st.is_test))
            .collect()
    }

    /// The multi-segment paths of a file outside test and allowed code.
    pub fn paths(&self, f: &FileView<'g>) -> Vec<&'g PathRef> {
        f.summary
            .paths
            .iter()
            .filter(|p| {
                let test = f.func(p.func).is_some_and(|x| x.is_test);
                !self.model.allowed(f.module(p.module), test)
            })
            .collect()
    }

    /// A file's text as the summaries saw it, read once while a rule visits the file.
    pub fn source(&mut self, file: FileId) -> std::sync::Arc<str> {
        self.sources.get(self.model.g, file)
    }

    /// Report a finding.
    pub fn report(&mut self, f: Finding) {
        self.findings.push(f);
    }

    /// The findings reported so far.
    pub fn into_findings(self) -> Vec<Finding> {
        self.findings
    }
}

/// The texts of the last few files read: rules visit files in order, so this removes the
/// re-reads without keeping the whole workspace's text in memory.
#[derive(Default)]
struct Sources {
    recent: Vec<(FileId, std::sync::Arc<str>)>,
}

impl Sources {
    const KEEP: usize = 8;

    fn get(&mut self, g: &CrateGraph, file: FileId) -> std::sync::Arc<str> {
        if let Some((_, t)) = self.recent.iter().find(|(f, _)| *f == file) {
            return t.clone();
        }
        let t = g.source(file);
        if self.recent.len() == Self::KEEP {
            self.recent.remove(0);
        }
        self.recent.push((file, t.clone()));
        t
    }
}

/// What a [`Pass::AfterSuppressions`] rule reads.
pub struct SuppressionContext<'a> {
    pub graph: &'a CrateGraph<'a>,
    /// (file, index in its summary's `suppressions`) of the comments that suppressed a finding.
    pub used: &'a std::collections::HashSet<(FileId, usize)>,
    pub selection: &'a Selection,
}

/// Run the enabled [`Pass::Check`] rules, in registry order.
pub fn run(model: &mut Model, selection: &Selection) -> Vec<Finding> {
    type Check = (usize, fn(&mut Context));
    let on: Vec<Check> = RULES
        .iter()
        .enumerate()
        .filter_map(|(i, r)| match r.pass {
            Pass::Check(f) if selection.enabled(r.code) => Some((i, f)),
            _ => None,
        })
        .collect();
    let run_all = |model: &mut Model, rules: Vec<Check>| -> Vec<(usize, Vec<Finding>)> {
        let mut cx = Context::new(model);
        rules
            .into_iter()
            .map(|(i, f)| {
                f(&mut cx);
                (i, std::mem::take(&mut cx.findings))
            })
            .collect()
    };
    // The costliest rule runs beside the others, on a copy of the model: no rule computes a
    // fact another reads (the copy's resolver keeps its own caches), and the findings are
    // put back in registry order, so the output is the same as one after the other.
    let (side, main): (Vec<Check>, Vec<Check>) = on
        .into_iter()
        .partition(|(i, _)| RULES[*i].code == RuleCode::Ssot004);
    // Always on a copy when both groups run, so that the output does not depend on the number
    // of threads (the resolver's caches start where the model left them, whatever ran before).
    let mut by_rule = if side.is_empty() || main.is_empty() {
        run_all(model, main.into_iter().chain(side).collect())
    } else {
        let mut copy = model.clone();
        let (a, b) = rayon::join(|| run_all(model, main), || run_all(&mut copy, side));
        a.into_iter().chain(b).collect()
    };
    by_rule.sort_by_key(|(i, _)| *i);
    by_rule.into_iter().flat_map(|(_, f)| f).collect()
}

/// Run the enabled [`Pass::AfterSuppressions`] rules, in registry order.
pub fn run_after_suppressions(cx: &SuppressionContext) -> Vec<Finding> {
    let mut out = Vec::new();
    for r in RULES {
        if let Pass::AfterSuppressions(f) = r.pass
            && cx.selection.enabled(r.code)
        {
            out.extend(f(cx));
        }
    }
    out
}

/// The rules `--select`/`--ignore` leave on, computed once.
#[derive(Debug, Clone)]
pub struct Selection {
    on: Vec<RuleCode>,
}

impl Default for Selection {
    /// Every rule.
    fn default() -> Self {
        Selection {
            on: RuleCode::ALL.to_vec(),
        }
    }
}

impl Selection {
    /// `select` and `ignore` hold codes, code prefixes, names or `ALL` (case-insensitive);
    /// an empty `select` selects every rule. Err: the message for a key naming no rule.
    pub fn new(select: &[String], ignore: &[String]) -> Result<Selection, String> {
        let matches = |r: &RuleInfo, k: &String| {
            k.eq_ignore_ascii_case("ALL")
                || r.name.eq_ignore_ascii_case(k)
                || r.code
                    .as_str()
                    .to_ascii_uppercase()
                    .starts_with(&k.to_ascii_uppercase())
        };
        for k in select.iter().chain(ignore) {
            if !RULES.iter().any(|r| matches(r, k)) {
                return Err(format!("unknown rule `{k}` (see --list-rules)"));
            }
        }
        let on = RULES
            .iter()
            .filter(|r| {
                (select.is_empty() || select.iter().any(|k| matches(r, k)))
                    && !ignore.iter().any(|k| matches(r, k))
            })
            .map(|r| r.code)
            .collect();
        Ok(Selection { on })
    }

    pub fn enabled(&self, code: RuleCode) -> bool {
        self.on.contains(&code)
    }
}

/// Find a rule by code (`SSOT001`) or name (`pool-outside-ssot`), case-insensitively.
pub fn lookup(key: &str) -> Option<&'static RuleInfo> {
    RULES
        .iter()
        .find(|r| r.code.as_str().eq_ignore_ascii_case(key) || r.name.eq_ignore_ascii_case(key))
}

/// The README's rule table, generated.
pub fn markdown_table() -> String {
    let mut s = String::from("| code | name | flags | fix |\n|---|---|---|---|\n");
    for r in RULES {
        s.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            r.code,
            r.name,
            r.summary,
            r.fix.unwrap_or("—")
        ));
    }
    s
}

/// The text of `--explain CODE`.
pub fn explain(r: &RuleInfo) -> String {
    format!(
        "# {} ({})\n\n{}\n\n{}",
        r.code,
        r.name,
        r.summary,
        r.doc.trim()
    )
}

/// `` `a`, `b` ``: a list of names or module paths, for messages.
pub fn quote_list<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(|m| format!("`{m}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README's rule table is generated from the registry; this fails when they drift.
    /// `SSOT_BLESS=1 cargo test readme_rule_table` regenerates it.
    #[test]
    fn readme_rule_table() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
        let readme = std::fs::read_to_string(path).expect("README.md");
        let start = readme.find("<!-- rules:start").expect("rules:start marker");
        let start = start + readme[start..].find('\n').expect("newline") + 1;
        let end = readme.find("<!-- rules:end -->").expect("rules:end marker");
        let table = markdown_table();
        if std::env::var_os("SSOT_BLESS").is_some() {
            let new = format!("{}{}{}", &readme[..start], table, &readme[end..]);
            std::fs::write(path, new).expect("write README.md");
            return;
        }
        assert_eq!(
            &readme[start..end],
            table,
            "README rule table drifted: SSOT_BLESS=1 cargo test readme_rule_table"
        );
    }

    /// The registry line, the rule file's entry and the code string agree; names are unique.
    #[test]
    fn registry_is_consistent() {
        assert_eq!(RULES.len(), RuleCode::ALL.len());
        for (r, &c) in RULES.iter().zip(RuleCode::ALL) {
            assert_eq!(r.code, c);
            assert_eq!(c.info().code, c);
            assert_eq!(format!("{c:?}").to_ascii_uppercase(), c.as_str());
            assert_eq!(RULES.iter().filter(|x| x.name == r.name).count(), 1);
            assert!(!r.label.is_empty() && !r.label.contains('\n'));
        }
    }

    /// `--select`/`--ignore`: codes, prefixes, names, `ALL`; unknown keys are refused.
    #[test]
    fn selection() {
        let s = |sel: &[&str], ign: &[&str]| {
            let v = |x: &[&str]| x.iter().map(|k| k.to_string()).collect::<Vec<_>>();
            Selection::new(&v(sel), &v(ign)).map(|s| {
                RuleCode::ALL
                    .iter()
                    .filter(|&&c| s.enabled(c))
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
            })
        };
        assert_eq!(s(&[], &[]).map(|v| v.len()), Ok(RULES.len()));
        assert_eq!(
            s(&["ssot00"], &["SSOT000", "competing-ssot"]).map(|v| v.join(",")),
            Ok("SSOT001,SSOT002,SSOT003,SSOT004,SSOT005,SSOT007".to_string())
        );
        assert_eq!(s(&["all"], &["SSOT0"]), Ok(vec!["SSOT100"]));
        assert_eq!(
            s(&["SSOT9"], &[]),
            Err("unknown rule `SSOT9` (see --list-rules)".to_string())
        );
    }

    /// Every rule's documentation has ruff's headings plus known limitations.
    #[test]
    fn rule_docs_have_headings() {
        for r in RULES {
            for h in [
                "## What it does",
                "## Why is this bad?",
                "## Example",
                "## Fix safety",
                "## Known limitations",
            ] {
                assert!(r.doc.contains(h), "{} lacks `{h}`", r.code);
            }
            assert!(lookup(r.code.as_str()).is_some() && lookup(r.name).is_some());
        }
    }
}
