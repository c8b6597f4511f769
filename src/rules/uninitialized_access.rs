//! SSOT004 uninitialized-access.

use std::collections::HashSet;

use super::{Context, Pass, RuleCode, RuleInfo};
use crate::diagnostic::Finding;
use crate::diagnostic::Severity;
use crate::ids::{FileId, FnId};
use crate::resolve::{Res, Scope};
use crate::summary::{Branch, ChainContext, ChainRoot, ItemKind, Mark};

pub const RULE: RuleInfo = RuleInfo {
    code: RuleCode::Ssot004,
    name: "uninitialized-access",
    label: "can run before initialization",
    severity: Severity::Error,
    importance: 0,
    pass: Pass::Check(run),
    summary: "an accessor that fails or panics when the resource is not yet initialized (`cell.get().expect(..)`, `get().ok_or(..)`, `None => Err/panic!`, `static mut` + `Option`) instead of initializing on first use",
    fix: None,
    doc: r#"
## What it does
Inside the SSOT module of a resource kind (every module when none is configured), flags
reads of a global that holds a pool/client and fail or panic when it is still empty:
`POOL.get().expect(..)`, `.unwrap()`, `.ok_or(..)`, `.ok_or_else(..)`,
`match POOL.get() { None => Err(..)/panic!(..) }`, `if let Some(p) = POOL.get() {..} else
{ Err(..) }`, `let Some(p) = POOL.get() else { .. }`, on `OnceCell`, `OnceLock`,
`arc_swap`, `RwLock<Option<_>>`/`Mutex<Option<_>>` (after `read()`/`lock()`), and any
`static mut` `Option` of a pool. Anywhere, flags the legacy manager shape: a type whose
field holds a pool in an `Option`, with an `initialize`/`init`/`setup`/`connect` method,
whose other methods read that field with `.expect(..)`/`.ok_or(..)` instead of
initializing it.

## Why is this bad?
The outage behind this tool was `DatabaseManager not initialized`: an accessor that
assumed someone had called `initialize()` first. On first use, in another start-up order,
or after a failed initialization, such an accessor takes the service down.

## Example
```rust
static POOL: OnceLock<PgPool> = OnceLock::new();
pub fn pool() -> &'static PgPool { POOL.get().expect("not initialized") }
```
Use instead (race-free, exactly once, never observable empty):
```rust
static POOL: tokio::sync::OnceCell<PgPool> = tokio::sync::OnceCell::const_new();
pub async fn pool() -> Result<&'static PgPool, sqlx::Error> {
    POOL.get_or_try_init(|| PgPool::connect(&database_url())).await
}
```

## Fix safety
No fix: initialization on first use needs the connection settings, which only the author
knows.

## Known limitations
Only reads through a `static` of the SSOT module and through `self.field` of a manager are
followed; a cell passed around by reference is not. A branch counts as failing when it
contains `Err(`, `panic!`, `unreachable!`, `expect(`, `bail!` or `todo!`.
"#,
};

const PEEK: &[&str] = &[
    "get",
    "as_ref",
    "as_deref",
    "as_mut",
    "clone",
    "cloned",
    "load",
    "load_full",
    "get_mut",
    "copied",
];
const FAILING: &[&str] = &[
    "expect",
    "unwrap",
    "ok_or",
    "ok_or_else",
    "unwrap_unchecked",
];

/// A branch that fails rather than initializes: it returns an error or panics, and does not
/// initialize (`get_or_init`) instead.
fn fails(b: &Branch) -> bool {
    [
        Mark::ErrCall,
        Mark::Panic,
        Mark::Unreachable,
        Mark::Expect,
        Mark::Bail,
        Mark::Anyhow,
        Mark::Todo,
        Mark::Unimplemented,
    ]
    .into_iter()
    .any(|m| b.has(m))
        && !b.has(Mark::GetOrInit)
        && !b.has(Mark::GetOrTryInit)
}

/// Methods that fail only when the closure or default they take does.
const LAZY_DEFAULTS: &[&str] = &["unwrap_or_else", "map_or_else", "unwrap_or"];

fn verb(m: &str) -> &'static str {
    if m.starts_with("ok_or") {
        "fails"
    } else {
        "panics"
    }
}

fn run(cx: &mut Context) {
    let mut seen: HashSet<(FileId, u32)> = HashSet::new();
    for file in cx.files() {
        let (fid, s) = (file.file, file.summary);
        // `static mut` Options of a pool in an SSOT module.
        for st in cx.statics(&file) {
            let c = &mut *cx.model;
            let m = file.module(st.module);
            if !st.is_mut
                || !st
                        .ty
                        .all
                        .iter()
                        .any(|p| p.segs.last().is_some_and(|l| l == "Option"))
                {
                    continue;
                }
                let scope = Scope {
                    module: m,
                    func: None,
                    fns: None,
                };
                let Some((pack, _)) = c.holder_in(scope, &st.ty) else {
                    continue;
                };
                let resource = c.packs.packs[pack].resource.clone();
                if !c.ssot_scope(&resource, m) || !seen.insert((fid, st.span.start)) {
                    continue;
                }
                cx.report(
                    Finding::new(
                        RULE.code,
                        RULE.name,
                        fid,
                        st.span.start..st.span.start,
                        format!("`static mut {}` holds the {resource} pool/client in an `Option`: every read can see it uninitialized", st.name),
                    )
                    .with_help(HELP),
                );
            }
            for chain in cx.chains(&file) {
                let m = file.module(chain.module);
                let func = file.func(chain.func);
                let names: Vec<&str> = chain.methods.iter().map(|x| x.name.as_str()).collect();
                // The failing read: a peek followed by a failing method, or a peek whose
                // `None` branch fails.
                // `unwrap_or_else(|| panic!(..))` and the like fail too.
                let text = names
                    .iter()
                    .any(|n| LAZY_DEFAULTS.contains(n))
                    .then(|| cx.source(fid));
                let text_of = |r: &std::ops::Range<u32>| -> &str {
                    text.as_deref()
                        .and_then(|t| t.get(r.start as usize..r.end as usize))
                        .unwrap_or_default()
                };
                let is_failing = |i: usize| -> bool {
                    FAILING.contains(&names[i])
                        || (LAZY_DEFAULTS.contains(&names[i])
                            && ["panic!", "unreachable!", "expect(", "todo!"]
                                .iter()
                                .any(|p| text_of(&chain.methods[i].span).contains(p)))
                };
                let failing = (1..names.len())
                    .find(|&i| PEEK.contains(&names[i - 1]) && is_failing(i))
                    .or_else(|| {
                        (!names.is_empty()
                            && is_failing(0)
                            && matches!(chain.root, ChainRoot::SelfField(_)))
                        .then_some(0)
                    });
                let none_fails = matches!(&chain.context, ChainContext::NoneBranches(bs) if bs.iter().any(fails))
                    && names.last().is_some_and(|n| PEEK.contains(n));
                if failing.is_none() && !none_fails {
                    continue;
                }
                // The read as written, shortened: `POOL.get().expect(..)`.
                let upto = failing.map(|i| i + 1).unwrap_or(names.len());
                let calls: String = names[..upto]
                    .iter()
                    .enumerate()
                    .map(|(i, n)| {
                        if Some(i) == failing && !matches!(*n, "unwrap") {
                            format!(".{n}(..)")
                        } else {
                            format!(".{n}()")
                        }
                    })
                    .collect();
                let tail = if failing.is_none() {
                    " with a failing `None` branch"
                } else {
                    ""
                };
                let v = failing.map(|i| verb(names[i])).unwrap_or("fails");
                let scope = file.scope(chain.module, chain.func);
                let c = &mut *cx.model;
                let message = match &chain.root {
                    ChainRoot::Value(p)
                        if !p.is_single()
                            || !func.is_some_and(|f| {
                                f.lets.iter().any(|l| l.name == p.segs[0])
                                    || f.params.iter().any(|(n, _)| n == &p.segs[0])
                            }) =>
                    {
                        let Some(Res::Item(im, ii)) = c.res.resolve_path(scope, p) else {
                            continue;
                        };
                        let node = c.g.module(im);
                        let fs = c.g.files[node.file].summary.clone();
                        let item = &fs.modules[node.local].items[ii];
                        if item.kind != ItemKind::Static {
                            continue;
                        }
                        let Some(st) = fs
                            .statics
                            .iter()
                            .find(|st| st.name == item.name && st.module == node.local)
                        else {
                            continue;
                        };
                        let sscope = Scope {
                            module: im,
                            func: None,
                            fns: None,
                        };
                        let Some((pack, _)) = c.holder_in(sscope, &st.ty) else {
                            continue;
                        };
                        let resource = c.packs.packs[pack].resource.clone();
                        if !c.ssot_scope(&resource, m) {
                            continue;
                        }
                        format!(
                            "`{}{calls}`{tail} {v} when the {resource} pool/client is not initialized yet; initialize it on first use instead",
                            p.text()
                        )
                    }
                    ChainRoot::SelfField(field) => {
                        let Some(st) = func.and_then(|f| f.self_type.clone()) else {
                            continue;
                        };
                        let Some(Res::Item(im, ii)) = c.res.resolve_path(
                            Scope {
                                func: None,
                                ..scope
                            },
                            &st,
                        ) else {
                            continue;
                        };
                        let node = c.g.module(im);
                        let fs = c.g.files[node.file].summary.clone();
                        let item = &fs.modules[node.local].items[ii];
                        let Some(adt) = item.adt else { continue };
                        let Some((_, fty)) = fs.adts[adt].fields.iter().find(|(n, _)| n == field)
                        else {
                            continue;
                        };
                        if !fty
                            .all
                            .iter()
                            .any(|p| p.segs.last().is_some_and(|l| l == "Option"))
                        {
                            continue;
                        }
                        let fscope = Scope {
                            module: im,
                            func: None,
                            fns: None,
                        };
                        if c.holder_in(fscope, fty).is_none() {
                            continue;
                        }
                        // The legacy manager: a method of the same type initializes it.
                        let inits = c.inits.clone();
                        let has_init = [(fid, s), (node.file, &*fs)].iter().any(|(file, sm)| {
                            sm.fns.iter().enumerate().any(|(fi, f)| {
                                inits.is_init(FnId {
                                    file: *file,
                                    func: fi,
                                })
                                    && f.self_type
                                        .as_ref()
                                        .is_some_and(|t| t.segs.last() == st.segs.last())
                            })
                        });
                        if !has_init {
                            continue;
                        }
                        format!(
                            "`self.{field}{calls}`{tail} {v} when `{}` is not initialized; initialize it on first use instead",
                            item.name
                        )
                    }
                    _ => continue,
                };
                if !seen.insert((fid, chain.root_span.start)) {
                    continue;
                }
                cx.report(
                    Finding::new(
                        RULE.code,
                        RULE.name,
                        fid,
                        chain.root_span.start..chain.span.end,
                        message,
                    )
                    .with_help(HELP),
                );
            }
        }
}

const HELP: &str = "let the first caller initialize it, race-free and exactly once: \
`POOL.get_or_try_init(|| PgPool::connect(&url)).await` on a `tokio::sync::OnceCell`, \
or `std::sync::LazyLock` for a synchronous client";
