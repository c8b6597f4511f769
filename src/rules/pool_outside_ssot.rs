//! SSOT001 pool-outside-ssot.

use super::{Context, Pass, RuleCode, RuleInfo};
use crate::diagnostic::Severity;
use crate::diagnostic::{Applicability, Edit, Finding, Fix, article};
use crate::semantic::{ModPath, Site, SiteKind};
use crate::summary::ImportKind;

pub const RULE: RuleInfo = RuleInfo {
    code: RuleCode::Ssot001,
    name: "pool-outside-ssot",
    label: "constructed here",
    severity: Severity::Error,
    importance: 3,
    pass: Pass::Check(run),
    summary: "a pool/client constructed or connected outside the SSOT module of its resource kind",
    fix: Some(
        "replace with the configured accessor (unsafe unless the pack marks the types as equal)",
    ),
    doc: r#"
## What it does
Flags every call that builds or connects a pool or client of a rule pack (`sqlx`, `redis`,
`mongodb`, ...) outside the module configured as the single source of truth (SSOT) for
that resource kind: constructors (`PgPool::connect`), builder chains
(`PgPoolOptions::new().max_connections(5).connect(..)`, also split across `let`s), and
connection methods on values of a known type (`client.get_multiplexed_async_connection()`).

The SSOT is that of the construction's *resource*: a database, cache or broker. `[ssot]`
names the SSOT of each kind's default resource; a `[[resource]]` declares one of its own
(`name`, `kind`, optional `backend`, `ssot`, optional `connects`). A construction belongs to
the declared resource whose SSOT module it is in, else (in the SSOT of its kind) to the
default resource, else to the declared resource whose `connects` evidence (a file, URL or
environment variable) it names as a string literal, else to the default resource of its
kind. Every construction outside the SSOT of its resource is reported, whatever its
backend: one whose types name another database backend (SQLite, Postgres, MySQL, SQL
Server) than the default resource's SSOT builds (the SQLite file an importer reads next to
an SSOT of Postgres pools) is reported naming the resource and both backends, with the
`[[resource]]` to declare when it is a database of its own. A library's fallback, a pool built only when the caller hands in none
(`if let Some(p) = self.pool { p } else { PgPool::connect(..) }`, the `None` arm of a
`match`, `pool.unwrap_or_else(|| ..)`), is not reported either: the fix is to hand it the
SSOT's pool, which its callers can already do.

## Why is this bad?
Every extra construction is a second pool with its own limits, its own initialization and
its own failure modes. When start-up reaches one of them before the SSOT, the service
depends on which code path ran first: the outage behind this tool ("DatabaseManager not
initialized") was three such patterns competing.

## Example
```rust
// src/handlers.rs
let pool = PgPoolOptions::new().max_connections(5).connect(&url).await?;
```
Use instead:
```rust
let pool = crate::database::pool().await?;
```

## Fix safety
Replaces the whole expression (through `.await` and `?`) with the accessor configured in
`[accessor]` (or the pack's default), writing `crate::` as the SSOT crate's name from other
crates, and removes the imports only the construction used. Unsafe: the accessor may
return another type (`&PgPool` for `PgPool`) and the removed construction's options are
lost. Offered only where the template's `.await`/`?` fit the enclosing function; inside a
macro body it is only displayed.

## Known limitations
Identity evidence is read only from string literals in the construction itself: a path
computed elsewhere or read from a settings struct is not seen (declare the module in the
resource's `ssot` instead). A declared resource has no accessor, so no fix is offered for
it, nor for a construction of another backend than its SSOT's.
Names are resolved syntactically: a receiver is typed only from a declaration (a parameter,
an annotated `let`, a constructor's result, a struct field). A value returned by a function
of the project is not typed, and macros are looked into only where their body parses as
Rust.
"#,
};

fn run(cx: &mut Context) {
    let sites = cx.model.sites.clone();
    for o in cx.model.outside_ssot(&sites, Site::is_construction) {
        let (s, names) = (o.site, &o.names);
        let SiteKind::Construction { pack, what, .. } = &s.kind else {
            continue;
        };
        let message = format!(
            "`{}` builds {} {} pool/client outside the SSOT module `{}`{}",
            what,
            article(&s.resource),
            s.resource,
            o.ssot_text,
            o.of_resource
        );
        let help = match cx
            .model
            .cfg
            .accessors
            .get(&s.resource)
            .or(cx.model.packs.packs[*pack].accessor.as_ref())
        {
            Some(a) if o.accessor_fits => format!(
                "get the {} pool/client from the SSOT instead: `{a}`",
                s.resource
            ),
            _ => format!(
                "get the {} pool/client from the SSOT module `{}` instead",
                s.resource, names[0]
            ),
        };
        let help = match &o.declare_help {
            Some(d) => format!("{d}; otherwise {help}"),
            None => help,
        };
        let mut f =
            Finding::new(RULE.code, RULE.name, s.file, s.span.clone(), message).with_help(help);
        if o.accessor_fits {
            f.fix = accessor_fix(cx, s, &names[0]);
        }
        cx.report(f);
    }
}

/// Replace the construction (through `.await` and `?`) with the configured accessor, and
/// remove the imports that only the construction used.
fn accessor_fix(cx: &mut Context, s: &Site, ssot: &ModPath) -> Option<Fix> {
    let SiteKind::Construction {
        pack,
        full_span,
        in_macro,
        by_method,
        ..
    } = &s.kind
    else {
        return None;
    };
    // A connection opened from a client is not the client: the accessor does not replace it.
    if *by_method {
        return None;
    }
    let c = &*cx.model;
    let template = c
        .cfg
        .accessors
        .get(&s.resource)
        .or(c.packs.packs[*pack].accessor.as_ref())?;
    let func = s.func.map(|f| &c.g.files[s.file].summary.fns[f]);
    if (template.contains(".await") && !func.is_some_and(|f| f.is_async))
        || (template.contains('?') && !func.is_some_and(|f| f.returns_result))
    {
        return None;
    }
    // `crate::` in the template means the SSOT's crate; from another crate, name it.
    let here = &c.g.crates[s.module.krate].name;
    let content = match (template.strip_prefix("crate::"), ssot.segs().first()) {
        (Some(rest), Some(krate)) if krate != here => format!("{krate}::{rest}"),
        _ => template.clone(),
    };
    let g = c.g;
    let text = cx.source(s.file);
    let mut edits = vec![Edit {
        range: full_span.clone(),
        content,
    }];
    let node = g.module(s.module);
    let summary = &g.files[s.file].summary;
    let imports = &summary.modules[node.local].imports;
    for imp in imports {
        let ImportKind::Named(name) = &imp.kind else {
            continue;
        };
        let single = imports
            .iter()
            .filter(|i| i.item_span == imp.item_span)
            .count()
            == 1;
        let removed = full_span;
        let used_elsewhere = word_positions(&text, name).any(|p| {
            let p = p as u32;
            !(removed.contains(&p) || imp.item_span.contains(&p))
        });
        let used_in_removed = word_positions(&text, name)
            .any(|p| removed.start <= p as u32 && (p as u32) < removed.end);
        if single && used_in_removed && !used_elsewhere {
            // The whole `use` line, its newline included.
            let start = text[..imp.item_span.start as usize]
                .rfind('\n')
                .map(|i| i + 1)
                .unwrap_or(0);
            let only_ws_before = text[start..imp.item_span.start as usize].trim().is_empty();
            let end = imp.item_span.end as usize;
            let end = if text[end..].starts_with('\n') {
                end + 1
            } else {
                end
            };
            let range = if only_ws_before {
                start as u32..end as u32
            } else {
                imp.item_span.clone()
            };
            edits.push(Edit {
                range,
                content: String::new(),
            });
        }
    }
    edits.sort_by_key(|e| e.range.start);
    if edits.windows(2).any(|w| w[0].range.end > w[1].range.start) {
        return None;
    }
    Some(Fix {
        title: "use the SSOT accessor".into(),
        applicability: if *in_macro {
            Applicability::Display
        } else {
            Applicability::Unsafe
        },
        edits,
    })
}

/// Byte offsets where `word` occurs as a whole identifier.
fn word_positions<'a>(text: &'a str, word: &'a str) -> impl Iterator<Item = usize> + 'a {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).filter_map(move |(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        (!before.is_some_and(ident) && !after.is_some_and(ident)).then_some(i)
    })
}

#[cfg(test)]
mod tests {
    use crate::testing::{check, check_fix};

    const SSOT: &str = r#"
//- /ssot-lint.toml
[ssot]
modules = ["app::db"]

[accessor]
sql = "crate::db::pool().await?"
//- /src/lib.rs
pub mod db;
pub mod handlers;
//- /src/db.rs
use sqlx::PgPool;
use tokio::sync::OnceCell;

static POOL: OnceCell<PgPool> = OnceCell::const_new();

pub async fn pool() -> Result<&'static PgPool, sqlx::Error> {
    POOL.get_or_try_init(|| PgPool::connect("postgres://localhost/app")).await
}
"#;

    #[test]
    fn fires_outside_the_ssot() {
        check(&format!(
            "{SSOT}{}",
            r#"//- /src/handlers.rs
pub async fn count(url: &str) -> Result<u32, sqlx::Error> {
    let pool = sqlx::PgPool::connect(url).await?;
             //^^^^^^^^^^^^^^^^^^^^^ SSOT001
    Ok(pool.size())
}
"#
        ));
    }

    #[test]
    fn silent_through_the_accessor() {
        check(&format!(
            "{SSOT}{}",
            r#"//- /src/handlers.rs
pub async fn count() -> Result<u32, sqlx::Error> {
    let pool = crate::db::pool().await?;
    Ok(pool.size())
}
"#
        ));
    }

    #[test]
    fn fix_uses_the_configured_accessor() {
        check_fix(
            &format!(
                "{SSOT}{}",
                r#"//- /src/handlers.rs
pub async fn count(url: &str) -> Result<u32, sqlx::Error> {
    let pool = sqlx::PgPool::connect(url).await?;
    Ok(pool.size())
}
"#
            ),
            r#"//- /src/handlers.rs
pub async fn count(url: &str) -> Result<u32, sqlx::Error> {
    let pool = crate::db::pool().await?;
    Ok(pool.size())
}
"#,
        );
    }
}
