//! SSOT002 global-pool-outside-ssot.

use super::{Context, Pass, RuleCode, RuleInfo};
use crate::diagnostic::Severity;
use crate::diagnostic::{Finding, article};
use crate::semantic::{Site, SiteKind};

pub const RULE: RuleInfo = RuleInfo {
    code: RuleCode::Ssot002,
    name: "global-pool-outside-ssot",
    label: "held here",
    severity: Severity::Error,
    importance: 4,
    pass: Pass::Check(run),
    summary: "a `static`, `lazy_static!`, `thread_local!`, `once_cell`/`std` `Lazy`/`LazyLock`/`OnceCell`/`OnceLock` holding a pool/client, outside the SSOT module",
    fix: None,
    doc: r#"
## What it does
Flags a `static` (also inside `lazy_static!` and `thread_local!`) whose type holds a pool or
client of a rule pack, directly (`OnceLock<PgPool>`) or through a project type that wraps
one (`OnceCell<Database>` where `Database` has a `mongodb::Client` field, in `Option`,
`Arc`, `Mutex`, enums, transitively), outside the SSOT module of its resource (see SSOT001: the
default resource of its kind, or a `[[resource]]` the config declares). A global of another
database backend than the SSOT builds (a SQLite cache next to an SSOT of Postgres pools) is
reported too, naming the resource and both backends, with the `[[resource]]` to declare
when it is a database of its own. Not reported: a global that caches,
filled only on first use (`get_or_init`/`get_or_try_init`, never `set` or an assignment in
its file), a project type that the SSOT itself declares and builds
(`static STORE: OnceCell<meta::MetaStore>` with `meta` the SSOT): it holds the SSOT's
handle, not a second one.

## Why is this bad?
A global outside the SSOT is a second place that owns the resource and decides when it is
initialized. Code that reaches it first sees it empty.

## Example
```rust
// src/db/database_manager.rs
static DATABASE_MANAGER: OnceLock<Mutex<DatabaseManager>> = OnceLock::new();
```
Keep the one global in the SSOT module and reach it through its accessor.

## Fix safety
No fix: moving a global changes who owns it.

## Known limitations
Holder types come from the packs and from the project's own struct, enum and union fields.
A type from a third-party crate that wraps a pool is not known unless a pack lists it.
"#,
};

fn run(cx: &mut Context) {
    let sites = cx.model.sites.clone();
    for o in cx.model.outside_ssot(&sites, Site::is_holder) {
        let (s, names) = (o.site, &o.names);
        let SiteKind::Holder {
            name, holder_type, ..
        } = &s.kind
        else {
            continue;
        };
        let message = format!(
            "static `{}` holds {} {} pool/client (`{}`) outside the SSOT module `{}`{}",
            name,
            article(&s.resource),
            s.resource,
            holder_type,
            o.ssot_text,
            o.of_resource
        );
        let help = format!(
            "keep the one {} global in `{}` and reach it through its accessor",
            s.resource, names[0]
        );
        let help = match &o.declare_help {
            Some(d) => format!("{d}; otherwise {help}"),
            None => help,
        };
        cx.report(
            Finding::new(
                RULE.code,
                RULE.name,
                s.file,
                s.span.start..s.span.start,
                message,
            )
            .with_help(help),
        );
    }
}
