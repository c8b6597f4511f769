//! SSOT003 deprecated-path.

use std::collections::{BTreeMap, HashSet};

use super::{Context, Pass, RuleCode, RuleInfo};
use crate::config::ConfigPath;
use crate::diagnostic::Severity;
use crate::diagnostic::{Applicability, Edit, Finding, Fix};
use crate::ids::FileId;
use crate::resolve::{Res, Scope};
use crate::semantic::{ModPath, Model};
use crate::summary::{Import, ImportKind, Span};

/// Deprecated module -> its entry in the config (the module and its replacement).
type Deprecated = BTreeMap<ModPath, (ConfigPath, ConfigPath)>;

pub const RULE: RuleInfo = RuleInfo {
    code: RuleCode::Ssot003,
    name: "deprecated-path",
    label: "deprecated path",
    severity: Severity::Error,
    importance: 5,
    pass: Pass::Check(run),
    summary: "a `use` or path through a module configured as deprecated (shims, legacy managers)",
    fix: Some("rewrite to its configured SSOT path (safe)"),
    doc: r#"
## What it does
Flags every `use` and every path (in expressions and types) that goes through a module
listed under `[deprecated]` in the config, such as a shim that re-exports the SSOT or a
legacy manager module, and rewrites it to the configured replacement.

## Why is this bad?
A shim keeps a second way to reach the resource alive. As long as code imports through it,
nobody can delete it, and the next "quick fix" lands in the shim instead of the SSOT. The
incident behind this tool had exactly such a shim (`app::core::database`).

## Example
```toml
[deprecated]
"app::core::database" = "app::database"
```
```rust
use crate::core::database::get_engine;
```
Use instead:
```rust
use crate::database::get_engine;
```

## Fix safety
Safe: the deprecated prefix of the path is replaced by the configured module, and the rest
of the path, its `as` rename and the rest of a `use` group stay as written. An item taken
out of a `use` group gets a `use` of its own after the group. In a macro body the fix is
only displayed.

## Known limitations
The replacement must export the same names as the deprecated module; ssot-lint checks that
it exists, not that every name is there. Paths inside macro bodies are not looked at.
"#,
};

/// A hit: how many leading segments name the deprecated module, and its replacement.
fn deprecated_prefix(
    c: &mut Model,
    scope: Scope,
    segs: &[String],
    global: bool,
    in_use: bool,
    keys: &Deprecated,
) -> Option<(usize, ConfigPath, ConfigPath)> {
    for i in 1..=segs.len() {
        let r = if in_use {
            c.res.resolve_segments(scope, &segs[..i], global, true)
        } else {
            let p = crate::summary::RawPath {
                global,
                anchor: None,
                segs: segs[..i].to_vec(),
                span: 0..0,
                seg_ends: Vec::new(),
            };
            c.res.resolve_path(scope, &p)
        };
        match r {
            Some(Res::Module(m)) => {
                if let Some((from, to)) = keys.get(&c.mod_path(m)) {
                    return Some((i, from.clone(), to.clone()));
                }
            }
            _ => return None,
        }
    }
    None
}

/// The replacement written from crate `krate_name`: `crate::...` inside the same crate.
fn replacement(to: &ConfigPath, krate_name: &str) -> String {
    match to.segs.split_first() {
        Some((first, rest)) if first == krate_name => {
            let mut v = vec!["crate".to_string()];
            v.extend(rest.iter().cloned());
            v.join("::")
        }
        _ => to.text.clone(),
    }
}

fn run(cx: &mut Context) {
    if cx.model.cfg.deprecated.is_empty() {
        return;
    }
    let keys: Deprecated = cx
        .model
        .cfg
        .deprecated
        .iter()
        .map(|(f, t)| (ModPath::from(f.segs.as_slice()), (f.clone(), t.clone())))
        .collect();
    let mut seen: HashSet<(FileId, u32)> = HashSet::new();
    for file in cx.files() {
        let (k, fid, summary) = (file.krate, file.file, file.summary);
        let krate_name = cx.model.g.crates[k].name.clone();
        let text = cx.source(fid);
        let paths = cx.paths(&file);
        let c = &mut *cx.model;
        let mut out = Vec::new();
            for (li, module) in summary.modules.iter().enumerate() {
                let m = file.module(li);
                if c.allowed(m, false) {
                    continue;
                }
                for imp in &module.imports {
                    let scope = Scope {
                        module: m,
                        func: None,
                        fns: None,
                    };
                    let Some((i, from, to)) =
                        deprecated_prefix(c, scope, &imp.path, imp.global, true, &keys)
                    else {
                        continue;
                    };
                    if inside(&c.mod_path(m), &from) {
                        continue;
                    }
                    let Some((key, f)) =
                        import_finding(&text, fid, imp, i, &from, &to, &krate_name)
                    else {
                        continue;
                    };
                    if seen.insert((fid, key)) {
                        out.push(f);
                    }
                }
            }
            for f in &summary.fns {
                for imp in &f.local_imports {
                    let scope = Scope {
                        module: file.module(f.module),
                        func: None,
                        fns: None,
                    };
                    let Some((i, from, to)) =
                        deprecated_prefix(c, scope, &imp.path, imp.global, true, &keys)
                    else {
                        continue;
                    };
                    if inside(&c.mod_path(file.module(f.module)), &from) {
                        continue;
                    }
                    let Some((key, finding)) =
                        import_finding(&text, fid, imp, i, &from, &to, &krate_name)
                    else {
                        continue;
                    };
                    if seen.insert((fid, key)) {
                        out.push(finding);
                    }
                }
            }
            for pr in paths {
                if pr.path.anchor.is_some() {
                    continue;
                }
                let m = file.module(pr.module);
                let scope = file.scope(pr.module, pr.func);
                let segs = pr.path.segs.clone();
                let Some((i, from, to)) =
                    deprecated_prefix(c, scope, &segs, pr.path.global, false, &keys)
                else {
                    continue;
                };
                if i > pr.path.seg_ends.len()
                    || inside(&c.mod_path(m), &from)
                    || !seen.insert((fid, pr.path.span.start))
                {
                    continue;
                }
                let end = pr.path.seg_ends[i - 1];
                let written = text
                    .get(pr.path.span.start as usize..end as usize)
                    .unwrap_or("")
                    .to_string();
                let new = replacement(&to, &krate_name);
                let mut f = finding(fid, pr.path.span.clone(), &written, &from, &to);
                f.fix = Some(Fix {
                    title: format!("replace `{written}` with `{new}`"),
                    applicability: if pr.in_macro {
                        Applicability::Display
                    } else {
                        Applicability::Safe
                    },
                    edits: vec![Edit {
                        range: pr.path.span.start..end,
                        content: new,
                    }],
                });
                out.push(f);
            }
        for f in out {
            cx.report(f);
        }
    }
}

/// Whether a module is the deprecated module or inside it (the shim's own code is not
/// migrated; it is deleted whole).
fn inside(module: &ModPath, from: &ConfigPath) -> bool {
    module.is_within(&ModPath::from(from.segs.as_slice()))
}

fn finding(fid: FileId, span: Span, written: &str, from: &ConfigPath, to: &ConfigPath) -> Finding {
    Finding::new(
        RULE.code,
        RULE.name,
        fid,
        span,
        format!(
            "`{written}` goes through the deprecated module `{}`; use `{}`",
            from.text, to.text
        ),
    )
    .with_help(format!(
        "`{}` is deprecated in ssot-lint.toml in favour of `{}`",
        from.text, to.text
    ))
}

/// Where the path of a `use` item starts (after attributes, visibility and `use`), and the
/// visibility as written (`pub(crate) `).
fn use_item_parts(text: &str, item: &Span) -> Option<(usize, String)> {
    let t = text.get(item.start as usize..item.end as usize)?;
    let mut pos = 0;
    let bytes = t.as_bytes();
    let use_at = loop {
        let i = t[pos..].find("use")? + pos;
        let before_ok = i == 0 || !(bytes[i - 1] as char).is_alphanumeric() && bytes[i - 1] != b'_';
        let after_ok = bytes
            .get(i + 3)
            .is_some_and(|b| (*b as char).is_whitespace() || *b == b':' || *b == b'{');
        if before_ok && after_ok {
            break i;
        }
        pos = i + 3;
    };
    let before = t[..use_at].trim_end();
    let vis = match before.rfind("pub") {
        Some(v) if before[v..].starts_with("pub") && !before[v..].contains('\n') => {
            format!("{} ", &before[v..])
        }
        _ => String::new(),
    };
    let rest = &t[use_at + 3..];
    let ws = rest.len() - rest.trim_start().len();
    Some((item.start as usize + use_at + 3 + ws, vis))
}

/// Returns the offset the finding is keyed on (one finding per written prefix) and the finding.
fn import_finding(
    text: &str,
    fid: FileId,
    imp: &Import,
    i: usize,
    from: &ConfigPath,
    to: &ConfigPath,
    krate_name: &str,
) -> Option<(u32, Finding)> {
    let sub = text
        .get(imp.span.start as usize..imp.span.end as usize)
        .unwrap_or("");
    // How many segments of the full import path are written in this use tree itself (the
    // rest is a shared `{..}` group prefix above it).
    let own_path = sub.split(" as ").next().unwrap_or("").trim();
    let own_segs: Vec<&str> = own_path
        .split("::")
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != "*")
        .collect();
    let own = own_segs.len();
    let shared = imp.path.len().saturating_sub(own);
    let new = replacement(to, krate_name);
    let written: String = imp.path[..i].join("::");
    let (path_start, vis) = use_item_parts(text, &imp.item_span)?;
    if i <= shared || own == 0 {
        // The deprecated prefix is written once, before the group: rewrite it there.
        let at = path_start as u32;
        let mut f = finding(fid, at..at, &written, from, to);
        let prefix = compact_prefix(text, path_start, i);
        if let Some(len) = prefix {
            f.fix = Some(Fix {
                title: format!("import from `{new}`"),
                applicability: Applicability::Safe,
                edits: vec![Edit {
                    range: at..at + len as u32,
                    content: new,
                }],
            });
        }
        return Some((at, f));
    }
    let mut f = finding(fid, imp.span.clone(), &written, from, to);
    let key = imp.span.start;
    if shared == 0 {
        // The whole path is written here: replace its prefix in place.
        if let Some(len) = compact_prefix(text, imp.span.start as usize, i) {
            f.fix = Some(Fix {
                title: format!("import from `{new}`"),
                applicability: Applicability::Safe,
                edits: vec![Edit {
                    range: imp.span.start..imp.span.start + len as u32,
                    content: new,
                }],
            });
        }
        return Some((key, f));
    }
    // Inside a group, the prefix partly written here: take the tree out of the group and
    // give it a `use` of its own.
    let (a, b) = (imp.span.start as usize, imp.span.end as usize);
    let after = &text[b..];
    let trimmed_after = after.trim_start_matches([' ', '\t']);
    let del = if let Some(rest) = trimmed_after.strip_prefix(',') {
        let ws = rest.len() - rest.trim_start_matches([' ', '\t', '\n', '\r']).len();
        a..b + (after.len() - trimmed_after.len()) + 1 + ws
    } else {
        let before = text[..a].trim_end();
        match before.strip_suffix(',') {
            Some(bb) => bb.len()..b,
            None => return Some((key, f)),
        }
    };
    let mut rest: Vec<String> = imp.path[i..].to_vec();
    if imp.kind == ImportKind::Glob {
        rest.push("*".into());
    }
    let mut new_path = new.clone();
    for r in &rest {
        new_path.push_str("::");
        new_path.push_str(r);
    }
    if let Some(alias) = sub.split(" as ").nth(1) {
        new_path.push_str(" as ");
        new_path.push_str(alias.trim());
    }
    let line_start = text[..imp.item_span.start as usize]
        .rfind('\n')
        .map(|p| p + 1)
        .unwrap_or(0);
    let indent: String = text[line_start..imp.item_span.start as usize]
        .chars()
        .take_while(|c| c.is_whitespace())
        .collect();
    f.fix = Some(Fix {
        title: format!("import `{new_path}` on its own"),
        applicability: Applicability::Safe,
        edits: vec![
            Edit {
                range: del.start as u32..del.end as u32,
                content: String::new(),
            },
            Edit {
                range: imp.item_span.end..imp.item_span.end,
                content: format!("\n{indent}{vis}use {new_path};"),
            },
        ],
    });
    Some((key, f))
}

/// Byte length of the first `n` `::`-separated segments written at `start` (spaces allowed
/// around `::`), or `None` when the text there is not a plain path.
fn compact_prefix(text: &str, start: usize, n: usize) -> Option<usize> {
    let t = text.get(start..)?;
    let mut pos = 0;
    for k in 0..n {
        let rest = &t[pos..];
        let ident_len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if ident_len == 0 {
            return None;
        }
        pos += ident_len;
        if k + 1 < n {
            let rest = &t[pos..];
            let trimmed = rest.trim_start();
            let after = trimmed.strip_prefix("::")?;
            let after_trim = after.trim_start();
            pos += rest.len() - after_trim.len();
        }
    }
    Some(pos)
}

#[cfg(test)]
mod tests {
    use crate::testing::{check, check_fix};

    const CRATE: &str = r#"
//- /ssot-lint.toml
[ssot]
modules = ["app::database"]

[deprecated]
"app::core::database" = "app::database"
//- /src/lib.rs
pub mod core;
pub mod database;
pub mod handlers;
//- /src/core/mod.rs
pub mod database;
//- /src/core/database.rs
pub use crate::database::pool;
//- /src/database.rs
pub async fn pool() -> Result<sqlx::PgPool, sqlx::Error> {
    sqlx::PgPool::connect("postgres://db/app").await
}
"#;

    #[test]
    fn fires_on_an_import_through_the_shim() {
        check(&format!(
            "{CRATE}{}",
            r#"//- /src/handlers.rs
use crate::core::database::pool;
  //^^^^^^^^^^^^^^^^^^^^^^^^^^^ SSOT003

pub async fn size() -> Result<u32, sqlx::Error> {
    Ok(pool().await?.size())
}
"#
        ));
    }

    #[test]
    fn silent_through_the_ssot() {
        check(&format!(
            "{CRATE}{}",
            r#"//- /src/handlers.rs
use crate::database::pool;

pub async fn size() -> Result<u32, sqlx::Error> {
    Ok(pool().await?.size())
}
"#
        ));
    }

    #[test]
    fn fix_rewrites_to_the_ssot_path() {
        check_fix(
            &format!(
                "{CRATE}{}",
                r#"//- /src/handlers.rs
use crate::core::database::pool;

pub async fn size() -> Result<u32, sqlx::Error> {
    Ok(crate::core::database::pool().await?.size() + pool().await?.size())
}
"#
            ),
            r#"//- /src/handlers.rs
use crate::database::pool;

pub async fn size() -> Result<u32, sqlx::Error> {
    Ok(crate::database::pool().await?.size() + pool().await?.size())
}
"#,
        );
    }
}
