//! SSOT005 detached-initialization.

use std::collections::HashSet;

use super::{Context, Pass, RuleCode, RuleInfo};
use crate::diagnostic::Severity;
use crate::diagnostic::{Applicability, Edit, Finding, Fix};
use crate::resolve::{Res, Scope};
use crate::semantic::Model;
use crate::summary::{Chain, ChainContext, ChainRoot, ItemKind};

pub const RULE: RuleInfo = RuleInfo {
    code: RuleCode::Ssot005,
    name: "detached-initialization",
    label: "nobody awaits this",
    severity: Severity::Error,
    importance: 1,
    pass: Pass::Check(run),
    summary: "initialization (code that builds a pool/client and stores it where readers get it) whose completion or error nobody awaits: a spawned init with its handle dropped, `let _ = init().await`, `.ok();` on an init result, an init error only logged",
    fix: Some("await it and propagate with `?` (unsafe)"),
    doc: r#"
## What it does
Flags an initialization of a resource whose completion or error nobody observes. An
initialization is code that **constructs a pool or client and stores it where later
readers get it**: a function that builds one (a pack constructor, or a call of a function
of the workspace that builds one, up to three calls deep) and stores it eagerly into a
field or a global of a holder type (`self.pool = Some(..)`, `*self.pool.write() = ..`,
`POOL.set(..)`, `.store(..)`, `.swap(..)`, `.replace(..)`), or a function that calls such
a function (up to two calls deep). A name alone never makes one: `init_acme`, `setup` or
`init_library` that build no pool are not initializations, and a method that *receives* a
pool (`Actor::init(conn: PgPool)`) initializes nothing. A warm-up through a lazy SSOT
accessor (`let _ = crate::database::pool().await;`, a function that only calls
`get_or_try_init`) is not one either: a failure leaves nothing half-initialized and the
next access simply tries again.

It is detached when it is spawned with `tokio::spawn`/`std::thread::spawn`/`spawn_blocking`
and the `JoinHandle` dropped, discarded with `let _ =`, swallowed with `.ok();`,
`.unwrap_or_default()` or `.unwrap_or(..)`, only logged in `if let Err(e) = ..`, or an
`async fn` of the crate called and never awaited.

## Why is this bad?
The incident's hotfix was `tokio::spawn(async move { let _ = manager.initialize().await; })`:
the first requests raced the initialization, and when it failed nobody knew.

## Example
```rust
tokio::spawn(async move { manager.initialize().await });   // races the first request
```
Use instead:
```rust
manager.initialize().await?;                                // or a lazy SSOT: get_or_try_init
```

## Fix safety
Unsafe: awaits the initialization in place and propagates its error with `?`, which
changes start-up order and the function's error path. Offered only where the enclosing
function is `async` (when it must await) and returns a `Result`.

## Known limitations
A `JoinHandle` bound to a name is assumed to be observed (ssot-lint does not follow it).
Whether a method call returns a future is known only for functions of the same crate.
Receivers of method calls are not typed here: `x.initialize()` counts when some project
type has an initializing method of that name. Calls are followed to functions resolved by
path and to `self.method()`/`Self::method()`/`Type::method()` of the same crate (by type
name), not through trait objects or closures stored in fields. What is stored is not
traced: a function that builds a pool and stores *something* into a holder field counts.
"#,
};

/// A range and what replaces it.
type Replacement = (std::ops::Range<u32>, String);

const SPAWNS: &[&str] = &["spawn", "spawn_blocking", "spawn_local"];
const SWALLOW: &[&str] = &["ok", "unwrap_or_default", "unwrap_or", "unwrap_or_else"];


/// A call of a spawn function of an async runtime or `std`, with its handle not chained.
fn is_spawn(c: &mut Model, scope: Scope, chain: &Chain) -> bool {
    let ChainRoot::Call(p) = &chain.root else {
        return false;
    };
    if !p.segs.last().is_some_and(|l| SPAWNS.contains(&l.as_str())) || !chain.methods.is_empty()
    {
        return false;
    }
    match c.res.resolve_path(scope, p) {
        Some(Res::Ext(path)) => matches!(
            path.first().map(String::as_str),
            Some(
                "tokio" | "std" | "async_std" | "actix_rt" | "smol" | "futures" | "tokio_util"
            )
        ),
        _ => false,
    }
}

/// A call of an `async fn` of this crate.
fn calls_local_async(c: &mut Model, scope: Scope, chain: &Chain) -> bool {
    let ChainRoot::Call(p) = &chain.root else {
        return false;
    };
    if !chain.methods.is_empty() {
        return false;
    }
    let Some(Res::Item(im, ii)) = c.res.resolve_path(scope, p) else {
        return false;
    };
    let node = c.g.module(im);
    let fs = &c.g.files[node.file].summary;
    let item = &fs.modules[node.local].items[ii];
    item.kind == ItemKind::Fn && item.func.is_some_and(|f| fs.fns[f].is_async)
}

/// Whether the initialization's value is a `Result` (so that `?` fits): an init method of
/// the project by its signature, a local function by its signature, a pack constructor yes.
fn init_returns_result(c: &mut Model, scope: Scope, chain: &Chain) -> bool {
    if let Some(last) = chain.methods.last() {
        return c.inits.methods.get(&last.name).copied().unwrap_or(true);
    }
    if let ChainRoot::Call(p) = &chain.root
        && let Some(Res::Item(im, ii)) = c.res.resolve_path(scope, p)
    {
        let node = c.g.module(im);
        let fs = &c.g.files[node.file].summary;
        if let Some(f) = fs.modules[node.local].items[ii].func {
            return fs.fns[f].returns_result;
        }
    }
    true
}

fn slice(text: &str, r: &std::ops::Range<u32>) -> String {
    text.get(r.start as usize..r.end as usize)
        .unwrap_or("")
        .to_string()
}

fn run(cx: &mut Context) {
    let mut seen: HashSet<(crate::ids::FileId, u32)> = HashSet::new();
    for file in cx.files() {
        let (s, fid) = (file.summary, file.file);
        for chain in cx.chains(&file) {
            let scope = file.scope(chain.module, chain.func);
            let (is_async, returns_result) = file
                .func(chain.func)
                .map(|f| (f.is_async, f.returns_result))
                .unwrap_or((false, false));
            // A `_name` binding keeps a JoinHandle unobserved, too.
            let dropped = match &chain.context {
                ChainContext::Stmt | ChainContext::LetUnderscore(_) => true,
                ChainContext::LetBind(n) => n.starts_with('_'),
                _ => false,
            };
            let mut hit: Option<(String, Option<Replacement>)> = None;
            let c = &mut *cx.model;

            if dropped && !chain.awaited && is_spawn(c, scope, chain) {
                // A task that initializes, with its handle dropped.
                let args = chain.args_span.clone().unwrap_or(0..0);
                let inner: Vec<&Chain> = s
                    .chains
                    .iter()
                    .filter(|x| {
                        x.span.start >= args.start && x.span.end <= args.end && x.func == chain.func
                    })
                    .collect();
                let what = inner.iter().find_map(|x| {
                    let what = c.init_call(scope, x, x.methods.len())?;
                    Some((what, init_returns_result(c, scope, x)))
                });
                if let Some((what, rr)) = what {
                    let text = cx.source(fid);
                    let fix = chain
                        .async_tail
                        .as_ref()
                        .filter(|_| is_async && (returns_result || !rr))
                        .map(|tail| {
                            let body = slice(&text, tail);
                            let body = if body.trim_end().ends_with('?') || !rr {
                                body
                            } else {
                                format!("{body}?")
                            };
                            match &chain.context {
                                ChainContext::LetUnderscore(stmt) => {
                                    (stmt.clone(), format!("{body};"))
                                }
                                _ => (chain.span.clone(), body),
                            }
                        });
                    hit = Some((
                        format!(
                            "`{what}` is spawned and its `JoinHandle` dropped: nobody awaits its completion or sees its error"
                        ),
                        fix,
                    ));
                }
            } else if let ChainContext::LetUnderscore(stmt) = &chain.context {
                // `let _ = init().await?;` propagated the error already.
                if chain.tried {
                    continue;
                }
                if let Some(what) = c.init_call(scope, chain, chain.methods.len()) {
                    let future = !chain.awaited && calls_local_async(c, scope, chain);
                    let rr = init_returns_result(c, scope, chain);
                    let expr = slice(&cx.source(fid), &chain.span);
                    let fix = ((returns_result || !rr) && (is_async || !future) && (future || rr))
                        .then(|| {
                            let awaited = if future {
                                format!("{expr}.await")
                            } else {
                                expr.clone()
                            };
                            let q = if rr { "?" } else { "" };
                            (stmt.clone(), format!("{awaited}{q};"))
                        });
                    let msg = if future {
                        format!(
                            "`{what}` returns a future that is never awaited: the initialization never runs"
                        )
                    } else {
                        format!(
                            "the result of `{what}` is discarded with `let _ =`: its error is swallowed"
                        )
                    };
                    hit = Some((msg, fix));
                }
            } else if chain.context == ChainContext::Stmt
                && let Some(last) = chain.methods.last()
                && SWALLOW.contains(&last.name.as_str())
                && let Some(what) = c.init_call(scope, chain, chain.methods.len() - 1)
            {
                let text = cx.source(fid);
                let dot = text[..last.name_offset as usize]
                    .rfind('.')
                    .unwrap_or(last.name_offset as usize) as u32;
                let fix = returns_result.then(|| (dot..last.span.end, "?".to_string()));
                hit = Some((
                    format!("the error of `{what}` is swallowed by `.{}()`", last.name),
                    fix,
                ));
            } else if matches!(&chain.context, ChainContext::ErrBranch(b) if !b.exits)
                && let Some(what) = c.init_call(scope, chain, chain.methods.len())
            {
                hit = Some((
                    format!(
                        "the error of `{what}` is only logged: the code after it runs as if initialized"
                    ),
                    None,
                ));
            } else if chain.context == ChainContext::Stmt
                && !chain.awaited
                && calls_local_async(c, scope, chain)
                && let Some(what) = c.init_call(scope, chain, 0)
            {
                let rr = init_returns_result(c, scope, chain);
                let expr = slice(&cx.source(fid), &chain.span);
                let fix = (is_async && (returns_result || !rr)).then(|| {
                    let q = if rr { "?" } else { "" };
                    (chain.span.clone(), format!("{expr}.await{q}"))
                });
                hit = Some((
                    format!(
                        "`{what}` returns a future that is never awaited: the initialization never runs"
                    ),
                    fix,
                ));
            }
            let Some((message, fix)) = hit else { continue };
            if !seen.insert((fid, chain.root_span.start)) {
                continue;
            }
            let mut f = Finding::new(RULE.code, RULE.name, fid, chain.root_span.start..chain.span.end, message).with_help(
                "await the initialization and propagate its error (`init().await?`), or let the SSOT initialize on first use (`OnceCell::get_or_try_init`)",
            );
            if let Some((range, content)) = fix {
                f.fix = Some(Fix {
                    title: "await the initialization and propagate its error".into(),
                    applicability: if chain.in_macro {
                        Applicability::Display
                    } else {
                        Applicability::Unsafe
                    },
                    edits: vec![Edit { range, content }],
                });
            }
            cx.report(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{check, check_fix};

    const CRATE: &str = r#"
//- /ssot-lint.toml
[ssot]
modules = ["app::database"]
//- /src/lib.rs
pub mod database;
pub mod startup;
//- /src/database.rs
use std::sync::OnceLock;

use sqlx::PgPool;

static POOL: OnceLock<PgPool> = OnceLock::new();

pub async fn init() -> Result<(), sqlx::Error> {
    let pool = PgPool::connect("postgres://db/app").await?;
    let _ = POOL.set(pool);
    Ok(())
}
"#;

    #[test]
    fn fires_when_the_error_is_discarded() {
        check(&format!(
            "{CRATE}{}",
            r#"//- /src/startup.rs
pub async fn start() -> Result<(), sqlx::Error> {
    let _ = crate::database::init().await;
          //^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ SSOT005
    Ok(())
}
"#
        ));
    }

    #[test]
    fn silent_when_awaited_and_propagated() {
        check(&format!(
            "{CRATE}{}",
            r#"//- /src/startup.rs
pub async fn start() -> Result<(), sqlx::Error> {
    crate::database::init().await?;
    Ok(())
}
"#
        ));
    }

    #[test]
    fn fix_awaits_and_propagates() {
        check_fix(
            &format!(
                "{CRATE}{}",
                r#"//- /src/startup.rs
pub async fn start() -> Result<(), sqlx::Error> {
    crate::database::init().await.ok();
    Ok(())
}
"#
            ),
            r#"//- /src/startup.rs
pub async fn start() -> Result<(), sqlx::Error> {
    crate::database::init().await?;
    Ok(())
}
"#,
        );
    }
}
