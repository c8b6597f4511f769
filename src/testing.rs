//! Inline test vectors for the rules (like rust-analyzer's fixtures): a whole crate in one
//! string, `//- /path` starting each file, and `//^^^ SSOT001` under the flagged text of the
//! line above (the carets start at the finding's column). [`check`] lints it and compares
//! every finding with the marks; [`check_fix`] applies every fix (safe and unsafe) and
//! compares the files with the `after` text. A file that names no `/Cargo.toml` gets a
//! package `app` (edition 2021) depending on `sqlx` and `redis`. The crate is held in
//! memory ([`crate::vfs::Memory`]): nothing is written to disk.
//!
//! Whole-crate fixtures (`fixtures/`) stay where the whole crate is the point.

use std::collections::BTreeMap;
use std::path::Path;

use crate::diagnostic::Applicability;
use crate::engine::LintOptions;
use crate::fix::{FixMode, FixOptions, fix};
use crate::results::lint;
use crate::vfs::Memory;

/// Where a fixture's crate sits in its in-memory tree.
const ROOT: &str = "/fixture";

const DEFAULT_MANIFEST: &str = "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nsqlx = { version = \"0.8\", features = [\"postgres\"] }\nredis = \"0.27\"\n";

/// A mark: file, 1-based line, 1-based first and last column (characters), code.
type Mark = (String, u32, u32, u32, String);

/// The files of a fixture (marks removed) and its marks.
fn parse(fixture: &str) -> (BTreeMap<String, String>, Vec<Mark>) {
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    let mut marks = Vec::new();
    let mut current: Option<(String, Vec<String>)> = None;
    let finish = |cur: Option<(String, Vec<String>)>, files: &mut BTreeMap<String, String>| {
        if let Some((path, lines)) = cur {
            let mut text = lines.join("\n");
            text.push('\n');
            files.insert(path, text);
        }
    };
    for line in fixture.lines() {
        if let Some(path) = line.strip_prefix("//- /") {
            finish(current.take(), &mut files);
            current = Some((path.trim().to_string(), Vec::new()));
            continue;
        }
        let Some((path, lines)) = current.as_mut() else {
            assert!(
                line.trim().is_empty(),
                "text before the first `//- /file`: {line}"
            );
            continue;
        };
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix("//^") {
            let indent = line.chars().count() - t.chars().count();
            let carets = 1 + rest.chars().take_while(|&c| c == '^').count();
            let code = rest.trim_start_matches('^').trim().to_string();
            let first = indent as u32 + 3;
            assert!(!lines.is_empty(), "a mark on the first line of {path}");
            marks.push((
                path.clone(),
                lines.len() as u32,
                first,
                first + carets as u32 - 1,
                code,
            ));
            continue;
        }
        lines.push(line.to_string());
    }
    finish(current, &mut files);
    files
        .entry("Cargo.toml".to_string())
        .or_insert_with(|| DEFAULT_MANIFEST.to_string());
    (files, marks)
}

/// The fixture's files in memory below [`ROOT`].
fn tree(files: &BTreeMap<String, String>) -> Memory {
    Memory::new(
        files
            .iter()
            .map(|(rel, text)| (Path::new(ROOT).join(rel), text.clone())),
    )
}

fn options(dir: &Path) -> LintOptions {
    LintOptions {
        start: Some(dir.to_path_buf()),
        ..Default::default()
    }
}

/// Lint the fixture; its findings must be exactly its marks (same file, line, columns of
/// the flagged text on its first line, and code). No marks: the rules must stay silent.
pub fn check(fixture: &str) {
    let (files, marks) = parse(fixture);
    let outcome = lint(&tree(&files), &options(Path::new(ROOT))).expect("lint");
    let mut got: Vec<Mark> = outcome
        .findings
        .iter()
        .map(|f| {
            // The flagged text on the finding's first line, in characters.
            let text = &files[&f.file];
            let (a, b) = (f.span.start as usize, f.span.end as usize);
            let line_end = text[a..].find('\n').map_or(text.len(), |i| a + i);
            let last = text[a..b.min(line_end)].chars().count().max(1) as u32;
            (
                f.file.clone(),
                f.line,
                f.column,
                f.column + last - 1,
                f.code.to_string(),
            )
        })
        .collect();
    got.sort();
    let mut want = marks;
    want.sort();
    let show = |v: &[Mark]| {
        v.iter()
            .map(|(f, l, a, b, c)| format!("{f}:{l}:{a}-{b} {c}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        show(&got),
        show(&want),
        "findings (left) differ from the marks (right); messages:\n{}",
        outcome
            .findings
            .iter()
            .map(|f| format!(
                "{}:{}:{} {} {}",
                f.file, f.line, f.column, f.code, f.message
            ))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The semantic model of a fixture (held in memory, every file parsed), handed to `f`; a
/// config at `/ssot-lint.toml` applies. Panics when the model cannot be built.
pub fn with_model<T>(fixture: &str, f: impl FnOnce(&mut crate::semantic::Model) -> T) -> T {
    try_model(fixture, f).expect("the model builds")
}

/// [`with_model`], or the error the model (its config check) gives.
pub fn try_model<T>(
    fixture: &str,
    f: impl FnOnce(&mut crate::semantic::Model) -> T,
) -> Result<T, crate::error::Error> {
    let (files, _) = parse(fixture);
    let fs = tree(&files);
    let root = Path::new(ROOT);
    let unit = crate::workspace::load_unit(&fs, root, root).expect("the unit loads");
    let mut packs = std::sync::Arc::new(crate::packs::PackIndex::builtin().expect("packs"));
    let cfg = crate::config::load(&fs, root, None, &mut packs).expect("the config loads");
    let summaries = crate::cache::Cache::off(&fs);
    let g = crate::prefilter::build(
        &fs,
        &unit,
        root,
        &packs,
        &cfg,
        false,
        &summaries,
        &Default::default(),
        None,
    );
    let mut m = crate::semantic::Model::build(&g, &packs, &cfg, false)?;
    Ok(f(&mut m))
}

/// The module `crate::a::b` of a model, in the first crate of that name (a package's lib
/// before its other targets).
pub fn module_of(m: &crate::semantic::Model, path: &str) -> crate::ids::ModId {
    let (krate, rest) = path.split_once("::").unwrap_or((path, ""));
    let segs: Vec<&str> = rest.split("::").filter(|s| !s.is_empty()).collect();
    for k in m.g.crate_ids() {
        let c = &m.g.crates[k];
        if c.name != krate {
            continue;
        }
        for node in 0..c.modules.len() {
            let p = c.modules.get(node).path;
            if p.len() == segs.len() && p.iter().zip(&segs).all(|(a, b)| a == b) {
                return crate::ids::ModId::new(k, node);
            }
        }
    }
    panic!("no module `{path}`")
}

/// Apply every fix of the `before` fixture (safe and unsafe, until nothing applies); every
/// file of `after` must then read as given there, every other file must be unchanged.
pub fn check_fix(before: &str, after: &str) {
    let (files, _) = parse(before);
    let (mut want, _) = parse(after);
    if !after.contains("//- /Cargo.toml") {
        want.remove("Cargo.toml");
    }
    let report = fix(
        &tree(&files),
        &options(Path::new(ROOT)),
        &FixOptions {
            level: Applicability::Unsafe,
            mode: FixMode::Diff,
            allow_dirty: true,
        },
    )
    .expect("fix");
    assert!(
        report.warnings.is_empty(),
        "fix warnings: {:?}",
        report.warnings
    );
    let mut got = files.clone();
    for f in &report.files {
        got.insert(f.file.clone(), f.after.clone());
    }
    assert!(!report.files.is_empty(), "no fix applied");
    for (rel, text) in &got {
        let expected = want.get(rel).unwrap_or(&files[rel]);
        assert_eq!(text, expected, "{rel} after the fixes");
    }
}

/// The harness refuses a rule that declares a fix but has no `check_fix` vector in its file.
#[test]
fn every_fix_has_a_fix_vector() {
    for (r, module) in crate::rules::RULES.iter().zip(crate::rules::MODULES) {
        let path = format!("{}/src/rules/{module}.rs", env!("CARGO_MANIFEST_DIR"));
        let src = std::fs::read_to_string(&path).expect("rule file");
        let tests = src.find("#[cfg(test)]").map_or("", |i| &src[i..]);
        assert_eq!(
            r.fix.is_some(),
            tests.contains("check_fix("),
            "{} ({path}) declares a fix: {:?}; a rule with a fix needs a `check_fix` vector in its \
             file, and only such a rule has one",
            r.code,
            r.fix
        );
    }
}

#[test]
fn marks_are_parsed_under_the_line_above() {
    let (files, marks) = parse(
        "//- /src/lib.rs\nfn f() {\n    let p = PgPool::connect(u);\n          //^^^^^^^^^^^^^^^ SSOT001\n}\n",
    );
    assert_eq!(
        files["src/lib.rs"],
        "fn f() {\n    let p = PgPool::connect(u);\n}\n"
    );
    assert!(files["Cargo.toml"].contains("name = \"app\""));
    assert_eq!(
        marks,
        vec![("src/lib.rs".into(), 2, 13, 27, "SSOT001".into())]
    );
}
