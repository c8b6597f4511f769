//! SSOT001 pool-outside-ssot.

use super::RuleInfo;
use crate::check::{Checker, Site, SiteKind};
use crate::diagnostic::{Finding, article};

pub const RULE: RuleInfo = RuleInfo {
    code: "SSOT001",
    name: "pool-outside-ssot",
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
No automatic fix yet. The planned fix replaces the whole expression (through `.await` and
`?`) with the accessor configured in `[accessor]`; it will be unsafe: the accessor may
return another type (`&PgPool` for `PgPool`) and the removed construction's options are
lost.

## Known limitations
Names are resolved syntactically: a receiver is typed only from a declaration (a parameter,
an annotated `let`, a constructor's result, a struct field). A value returned by a function
of the project is not typed, and macros are looked into only where their body parses as
Rust.
"#,
};

pub fn check(c: &Checker, sites: &[Site]) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in sites {
        if s.kind != SiteKind::Construction || s.in_ssot || s.allowed {
            continue;
        }
        let ssot = c.cfg.ssot_for(&s.resource);
        if ssot.is_empty() {
            continue;
        }
        let ssot_text: Vec<String> = ssot.iter().map(|p| p.text.clone()).collect();
        let message = format!(
            "`{}` builds {} {} pool/client outside the SSOT module `{}`",
            s.what,
            article(&s.resource),
            s.resource,
            ssot_text.join("` or `")
        );
        let help = match c
            .cfg
            .accessors
            .get(&s.resource)
            .or(c.packs.packs[s.pack].accessor.as_ref())
        {
            Some(a) => format!(
                "get the {} pool/client from the SSOT instead: `{a}`",
                s.resource
            ),
            None => format!(
                "get the {} pool/client from the SSOT module `{}` instead",
                s.resource, ssot_text[0]
            ),
        };
        out.push(
            Finding::new(RULE.code, RULE.name, s.file, s.span.clone(), message).with_help(help),
        );
    }
    out
}
