//! The layers of `src/`, checked (as ArchUnit and import-linter check theirs): every
//! `crate::…` path in the library, outside `#[cfg(test)]` code, names a module of its own
//! layer or of one below, and no chain of such paths leads from a module back to itself.
//! The layers are declared once, bottom to top, in ARCHITECTURE.md (between the
//! `layers:start` and `layers:end` marks); every module of `src/` must be in one.
//!
//! Paths are read with the tool's own parser (`ra_ap_syntax`), token by token, so that
//! paths inside macro calls count too and comments and strings do not. `super::` is
//! resolved from the file's place; a name `lib.rs` re-exports stands for its module.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use ra_ap_syntax::{AstNode, Edition, SourceFile, SyntaxKind, SyntaxNode, SyntaxToken, ast};

/// One import: the file and line it is written on, and the module it names.
#[derive(Debug, Clone)]
struct Import {
    file: String,
    line: usize,
    to: String,
}

/// The layers, bottom first: each a name and its modules.
fn layers(architecture: &str) -> Vec<(String, Vec<String>)> {
    let start = architecture
        .find("<!-- layers:start")
        .expect("ARCHITECTURE.md has a `<!-- layers:start -->` mark");
    let end = architecture
        .find("<!-- layers:end -->")
        .expect("ARCHITECTURE.md has a `<!-- layers:end -->` mark");
    let mut out = Vec::new();
    for line in architecture[start..end].lines().skip(1) {
        // `1. **name**: `a`, `b` — what it is`
        let Some(rest) = line.trim().split_once(". **").map(|(_, r)| r) else {
            continue;
        };
        let Some((name, modules)) = rest.split_once("**") else {
            continue;
        };
        let modules = modules.split('—').next().unwrap_or_default();
        let names: Vec<String> = modules
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect();
        out.push((name.to_string(), names));
    }
    out
}

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("src")
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The module path of a file below `src/` (`src/parse/mod.rs` is `parse`).
fn module_of(rel: &Path) -> Vec<String> {
    let mut segs: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if let Some(last) = segs.pop() {
        let stem = last.trim_end_matches(".rs");
        if stem != "mod" && stem != "lib" {
            segs.push(stem.to_string());
        }
    }
    segs
}

/// Whether a token sits in `#[cfg(test)]` code: an item, or a module, with that attribute.
fn in_test_code(tok: &SyntaxToken) -> bool {
    tok.parent_ancestors().any(|n| {
        ast::Item::cast(n.clone()).is_some_and(|_| {
            n.children()
                .filter_map(ast::Attr::cast)
                .any(|a| a.syntax().text().to_string().replace(' ', "") == "#[cfg(test)]")
        })
    })
}

/// The next significant token after `t`.
fn next(t: &SyntaxToken) -> Option<SyntaxToken> {
    let mut n = t.next_token();
    while let Some(x) = &n {
        if !x.kind().is_trivia() {
            break;
        }
        n = x.next_token();
    }
    n
}

/// The names a `{ .. }` group of a use tree starts with at its top level (`{a, b::c}`:
/// `a`, `b`), from its opening brace.
fn group_heads(open: &SyntaxToken) -> Vec<(SyntaxToken, String)> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut expect_head = true;
    let mut t = Some(open.clone());
    while let Some(x) = t {
        match x.kind() {
            SyntaxKind::L_CURLY => {
                depth += 1;
                expect_head = depth == 1;
            }
            SyntaxKind::R_CURLY => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            SyntaxKind::COMMA if depth == 1 => expect_head = true,
            SyntaxKind::IDENT if depth == 1 && expect_head => {
                out.push((x.clone(), x.text().to_string()));
                expect_head = false;
            }
            k if !k.is_trivia() && depth == 1 => expect_head = false,
            _ => {}
        }
        t = next(&x);
    }
    out
}

/// The modules of the crate root a file's paths name, outside test code: `crate::x`, and
/// `super::` chains that climb to the root.
fn imports_of(root: &SyntaxNode, module: &[String], file: &str, text: &str) -> Vec<Import> {
    let line = |t: &SyntaxToken| {
        text[..usize::from(t.text_range().start())]
            .matches('\n')
            .count()
            + 1
    };
    let mut out = Vec::new();
    for el in root.descendants_with_tokens() {
        let Some(t) = el.into_token() else { continue };
        // Where the path starts: `crate`, or a `super` not preceded by `::`.
        let climbs = match t.kind() {
            SyntaxKind::CRATE_KW => Some(module.len()),
            SyntaxKind::SUPER_KW => {
                let mut prev = t.prev_token();
                while prev.as_ref().is_some_and(|p| p.kind().is_trivia()) {
                    prev = prev.and_then(|p| p.prev_token());
                }
                if prev.is_some_and(|p| p.kind() == SyntaxKind::COLON2) {
                    None
                } else {
                    Some(1)
                }
            }
            _ => None,
        };
        let Some(mut up) = climbs else { continue };
        if in_test_code(&t) {
            continue;
        }
        // Follow `super::super::`; the path reaches the root after `up` climbs.
        let mut at = t.clone();
        loop {
            let Some(sep) = next(&at).filter(|s| s.kind() == SyntaxKind::COLON2) else {
                break;
            };
            let Some(seg) = next(&sep) else { break };
            if seg.kind() == SyntaxKind::SUPER_KW && up < module.len() {
                up += 1;
                at = seg;
                continue;
            }
            if up < module.len() {
                // Still below the root: inside the file's own top-level module.
                break;
            }
            match seg.kind() {
                SyntaxKind::IDENT => out.push(Import {
                    file: file.to_string(),
                    line: line(&seg),
                    to: seg.text().to_string(),
                }),
                SyntaxKind::L_CURLY => {
                    for (tok, name) in group_heads(&seg) {
                        out.push(Import {
                            file: file.to_string(),
                            line: line(&tok),
                            to: name,
                        });
                    }
                }
                _ => {}
            }
            break;
        }
    }
    out
}

/// Names `lib.rs` re-exports (`pub use results::lint;`), by the module they come from.
fn reexports(lib: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for l in lib.lines() {
        let Some(rest) = l.trim().strip_prefix("pub use ") else {
            continue;
        };
        let rest = rest.trim_end_matches(';');
        let Some((module, names)) = rest.split_once("::") else {
            continue;
        };
        for n in names.trim_matches(|c| c == '{' || c == '}').split(',') {
            let n = n.trim();
            let n = n.rsplit(" as ").next().unwrap_or(n);
            if !n.is_empty() {
                out.insert(n.to_string(), module.to_string());
            }
        }
    }
    out
}

/// Modules in a cycle of imports: the strongly connected components with more than one
/// module (Tarjan's algorithm).
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on.insert(v);
        for w in s.edges.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low[v];
                s.low.insert(v, lv.min(lw));
            } else if s.on.contains(w) {
                let iw = s.index[w];
                let lv = s.low[v];
                s.low.insert(v, lv.min(iw));
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on.remove(w);
                comp.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                s.out.push(comp);
            }
        }
    }
    let mut s = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out
}

type Edges = BTreeMap<String, BTreeSet<String>>;

/// What is wrong with the imports of the tree at `root` against its ARCHITECTURE.md: one
/// line per upward import (file, line, both layers), per cycle, per module in no layer.
fn problems(root: &Path) -> Vec<String> {
    check(root).0
}

/// [`problems`], and which module imports which.
fn check(root: &Path) -> (Vec<String>, Edges) {
    let arch = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let layers = layers(&arch);
    assert!(layers.len() > 3, "no layers declared in ARCHITECTURE.md");
    let layer_of: BTreeMap<String, (usize, String)> = layers
        .iter()
        .enumerate()
        .flat_map(|(i, (name, mods))| mods.iter().map(move |m| (m.clone(), (i, name.clone()))))
        .collect();
    let src = root.join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs");
    let reexported = reexports(&lib);
    let mut files = Vec::new();
    rs_files(&src, &mut files);
    let mut problems = Vec::new();
    let mut modules: BTreeSet<String> = BTreeSet::new();
    let mut edges = Edges::new();
    let mut imports: Vec<(String, Import)> = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&src).expect("below src");
        if rel.starts_with("bin") || rel == Path::new("lib.rs") {
            continue;
        }
        let module = module_of(rel);
        let top = module[0].clone();
        modules.insert(top.clone());
        let text = std::fs::read_to_string(f).expect("read");
        let parse = SourceFile::parse(&text, Edition::Edition2024);
        let shown = format!("src/{}", rel.display());
        for imp in imports_of(parse.tree().syntax(), &module, &shown, &text) {
            imports.push((top.clone(), imp));
        }
    }
    for m in &modules {
        if !layer_of.contains_key(m) {
            problems.push(format!(
                "module `{m}` is in no layer: add it to the list in ARCHITECTURE.md"
            ));
        }
    }
    for (from, imp) in &imports {
        let to = if modules.contains(&imp.to) {
            imp.to.clone()
        } else if let Some(m) = reexported.get(&imp.to) {
            m.clone()
        } else {
            problems.push(format!(
                "{}:{}: `crate::{}` names no module of src/",
                imp.file, imp.line, imp.to
            ));
            continue;
        };
        if &to == from {
            continue;
        }
        edges.entry(from.clone()).or_default().insert(to.clone());
        if let (Some((lf, nf)), Some((lt, nt))) = (layer_of.get(from), layer_of.get(&to))
            && lt > lf
        {
            problems.push(format!(
                "{}:{}: `{from}` (layer {nf}) imports `{to}` (layer {nt}, above it)",
                imp.file, imp.line
            ));
        }
    }
    for c in cycles(&edges) {
        let at: Vec<String> = imports
            .iter()
            .filter(|(from, imp)| {
                let to = reexported.get(&imp.to).unwrap_or(&imp.to);
                c.contains(from) && c.contains(to) && from != to
            })
            .map(|(_, imp)| format!("{}:{} ({})", imp.file, imp.line, imp.to))
            .collect();
        problems.push(format!(
            "modules import each other in a cycle: {}; through {}",
            c.join(", "),
            at.join(", ")
        ));
    }
    (problems, edges)
}

#[test]
fn no_module_imports_a_layer_above_or_closes_a_cycle() {
    let (problems, edges) = check(Path::new(env!("CARGO_MANIFEST_DIR")));
    // The imports are read at all: some that must be there.
    for (from, to) in [
        ("results", "engine"),
        ("engine", "semantic"),
        ("rules", "semantic"),
        ("semantic", "resolve"),
        ("workspace", "vfs"),
    ] {
        assert!(
            edges.get(from).is_some_and(|t| t.contains(to)),
            "`{from}` imports `{to}`, and the check did not see it"
        );
    }
    assert!(
        problems.is_empty(),
        "{} problems with the layers of src/ (ARCHITECTURE.md):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// A copy of the tree with one upward import planted: the check names its file and line;
/// an import that closes a cycle within a layer is named too.
#[test]
fn a_planted_upward_import_is_found() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        root.join("ARCHITECTURE.md"),
        tmp.path().join("ARCHITECTURE.md"),
    )
    .expect("copy");
    let mut files = Vec::new();
    rs_files(&root.join("src"), &mut files);
    for f in &files {
        let rel = f.strip_prefix(root).expect("below");
        let to = tmp.path().join(rel);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(f, &to).expect("copy");
    }
    assert!(
        problems(tmp.path()).is_empty(),
        "the copy is as clean as the tree"
    );
    let lines = root.join("src/lines.rs");
    let text = std::fs::read_to_string(&lines).expect("lines.rs");
    let planted = format!("use crate::engine::Outcome;\n{text}");
    std::fs::write(tmp.path().join("src/lines.rs"), planted).expect("plant");
    let found = problems(tmp.path());
    // The engine uses `lines`: the planted import also closes a cycle.
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(
        found[0],
        "src/lines.rs:1: `lines` (layer base) imports `engine` (layer engine, above it)"
    );
    assert!(
        found[1].starts_with("modules import each other in a cycle: engine, lines; through ")
            && found[1].contains("src/lines.rs:1 (engine)")
            && found[1].contains("src/engine.rs:"),
        "{}",
        found[1]
    );
    // In test code it is allowed (inline tests run the whole engine).
    let in_test =
        format!("{text}\n#[cfg(test)]\nmod planted {{\n    use crate::engine::Outcome;\n}}\n");
    std::fs::write(tmp.path().join("src/lines.rs"), in_test).expect("plant");
    assert!(problems(tmp.path()).is_empty());
}
