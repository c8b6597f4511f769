//! SSOT004 uninitialized-access.

mod retire;

use std::collections::{HashMap, HashSet};

use super::{Context, Pass, RuleCode, RuleInfo};
use crate::diagnostic::Severity;
use crate::diagnostic::{Finding, Fix};
use crate::ids::{FileId, FnId, ModId};
use crate::resolve::{Res, Scope};
use crate::semantic::Model;
use crate::semantic::failing::{LAZY_DEFAULTS, PEEK, can_fail, failing_method, fails};
use crate::summary::{Chain, ChainContext, ChainRoot, ItemKind, RawPath};

pub const RULE: RuleInfo = RuleInfo {
    code: RuleCode::Ssot004,
    name: "uninitialized-access",
    label: "can run before initialization",
    severity: Severity::Error,
    importance: 0,
    pass: Pass::Check(run),
    summary: "an accessor that fails or panics when the resource is not yet initialized (`cell.get().expect(..)`, `get().ok_or(..)`, `None => Err/panic!`, `static mut` + `Option`) instead of initializing on first use",
    fix: Some(
        "retire a legacy manager onto the SSOT: its `Option` state goes, its accessors return the SSOT accessor's value, `initialize()` becomes an awaited warm-up (unsafe)",
    ),
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
A legacy manager (outside the SSOT, defined in the file of its failing reads) is retired
onto the SSOT, in that one file:
- its `Option` pool field and its "initialized" flags (`bool`/`AtomicBool` fields that an
  initialization method writes) are removed, from the declaration and from every struct
  literal;
- each initialization method's body becomes an awaited warm-up of the SSOT that returns
  its error (`crate::database::pool().await?; Ok(())`);
- each failing read becomes the SSOT accessor's value (`crate::database::pool().await?`,
  with `.clone()` where the read cloned the pool, in `Ok(..)` where it gave a `Result`);
- reads of a flag become `true`, `is_some()`/`is_none()` of the pool field `true`/`false`,
  writes of them go, and an `if !initialized { .. }` guard goes;
- `use` items that only the removed code needed go.

What holds the manager (a `static`, a `OnceCell`, app state) then holds a stateless
delegate: no SSOT002, no competing pattern. The accessor is the `[accessor]` of the
resource kind (or its pack's), else the SSOT's public lazy accessor (a function of the
SSOT module without parameters that returns the pool through `get_or_init` or
`get_or_try_init`).

Unsafe: behaviour changes (the pool is the SSOT's, connected on first use; the manager's
own settings, such as its pool size, no longer apply) and comments inside the rewritten
bodies go. Public signatures stay as they are where the types allow. Where they do not,
the method changes: a synchronous accessor over an `async` SSOT accessor becomes `async`,
and one that returned the pool itself (`fn pool(&self) -> &Pool { ..expect(..) }`) returns
the SSOT accessor's type (`Result<&'static Pool, E>`); its callers then need `.await?`.
No fix is offered when a use of the state is not one of the above (a method that hands
out the `Option`, a `take()`), when the type is defined in another file than its reads,
when an initialization method does not return a `Result` (or is not `async` while the
accessor is), or when the manager is itself in the SSOT module.

## Known limitations
Only reads through a `static` of the SSOT module and through `self.field` of a manager are
followed; a cell passed around by reference is not. A branch counts as failing when it
contains `Err(`, `panic!`, `unreachable!`, `expect(`, `bail!` or `todo!`. The fix edits
one file: callers of a method whose signature it changes are not rewritten.
"#,
};

fn verb(m: &str) -> &'static str {
    if m.starts_with("ok_or") {
        "fails"
    } else {
        "panics"
    }
}

fn run(cx: &mut Context) {
    // The legacy managers' fixes, by (defining file, type name): computed once, offered on
    // each of the type's failing reads.
    let mut retired: HashMap<(FileId, String), Option<Fix>> = HashMap::new();
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
            let chains = cx.chains(&file);
            for &chain in &chains {
                // The rest are passed over before any work.
                if !can_fail(chain) {
                    continue;
                }
                let m = file.module(chain.module);
                let func = file.func(chain.func);
                let names: Vec<&str> = chain.methods.iter().map(|x| x.name.as_str()).collect();
                let text = names
                    .iter()
                    .any(|n| LAZY_DEFAULTS.contains(n))
                    .then(|| cx.source(fid));
                let failing = failing_method(chain, text.as_deref());
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
                let (message, fix) = match &chain.root {
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
                        (
                            format!(
                                "`{}{calls}`{tail} {v} when the {resource} pool/client is not initialized yet; initialize it on first use instead",
                                p.text()
                            ),
                            None,
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
                        let key = (node.file, item.name.clone());
                        if !retired.contains_key(&key) {
                            // The fix edits one file: the type's, where the read is too.
                            let fix = (node.file == fid)
                                .then(|| {
                                    let pack = c.holder_in(fscope, fty)?.0;
                                    manager_fix(c, im, node.file, &item.name, field, pack, &chains)
                                })
                                .flatten();
                            retired.insert(key.clone(), fix);
                        }
                        (
                            format!(
                                "`self.{field}{calls}`{tail} {v} when `{}` is not initialized; initialize it on first use instead",
                                item.name
                            ),
                            retired.get(&key).cloned().flatten(),
                        )
                    }
                    _ => continue,
                };
                if !seen.insert((fid, chain.root_span.start)) {
                    continue;
                }
                let mut f = Finding::new(
                    RULE.code,
                    RULE.name,
                    fid,
                    chain.root_span.start..chain.span.end,
                    message,
                )
                .with_help(HELP);
                f.fix = fix;
                cx.report(f);
            }
        }
}

/// SSOT004's fix for the legacy manager `name`, defined in module `m` (file
/// `file`, whose chains are `chains`), whose `field` holds a pool of `pack`'s kind: retire
/// it onto the SSOT's accessor (see `retire`).
#[allow(clippy::too_many_arguments)]
fn manager_fix(
    c: &mut Model,
    m: ModId,
    file: FileId,
    name: &str,
    field: &str,
    pack: usize,
    chains: &[&Chain],
) -> Option<Fix> {
    let resource = c.packs.packs[pack].resource.clone();
    // The manager is the SSOT itself: there is nothing to retire it onto.
    if c.in_ssot(&resource, m) {
        return None;
    }
    let summary = c.g.files[file].summary.clone();
    let local = c.g.module(m).local;
    let adt = summary
        .adts
        .iter()
        .find(|a| a.name == name && a.module == local)?;
    let flag_fields = adt
        .fields
        .iter()
        .filter(|(_, t)| {
            t.head
                .as_ref()
                .and_then(|h| h.segs.last())
                .is_some_and(|l| l == "bool" || l == "AtomicBool")
        })
        .map(|(n, _)| n.clone())
        .collect();
    let init_fns = summary
        .fns
        .iter()
        .enumerate()
        .filter(|(fi, f)| {
            c.inits.is_init(FnId { file, func: *fi })
                && f.self_type
                    .as_ref()
                    .and_then(|t| t.segs.last())
                    .is_some_and(|l| l == name)
        })
        .map(|(i, _)| i)
        .collect();
    let accessor = ssot_accessor(c, &resource, pack, m)?;
    let text = c.g.source(file);
    let edition = c.g.packages[c.g.crates[m.krate].package].edition;
    let failing = retire::failing_reads(chains, field, &|ch| failing_method(ch, Some(&text)));
    let r = retire::retire(&retire::Manager {
        name,
        text: &text,
        summary: &summary,
        edition,
        pool_field: field,
        flag_fields,
        init_fns,
        failing,
        accessor,
    })?;
    let mut fix = r.fix;
    if !r.changed_signatures.is_empty() {
        let names: Vec<String> = r
            .changed_signatures
            .iter()
            .map(|n| format!("{n}()"))
            .collect();
        fix.title = format!(
            "{} (changes the signature of {})",
            fix.title,
            super::quote_list(&names)
        );
    }
    Some(fix)
}

/// The SSOT accessor of `resource` as code in module `m` calls it: the
/// configured `[accessor]` (or the pack's), else the SSOT's public lazy accessor (a
/// function of an SSOT module without parameters that returns a holder of the kind and
/// initializes with `get_or_init`/`get_or_try_init`).
fn ssot_accessor(
    c: &mut Model,
    resource: &str,
    pack: usize,
    m: ModId,
) -> Option<retire::Accessor> {
    let here = c.g.crates[m.krate].name.clone();
    let scope = Scope {
        module: m,
        func: None,
        fns: None,
    };
    let template = c
        .cfg
        .accessors
        .get(resource)
        .or(c.packs.packs[pack].accessor.as_ref())
        .cloned();
    if let Some(t) = template {
        // `crate::` in the template means the SSOT's crate; from another crate, name it.
        let ssot_crate = c.ssot_names(resource).first().and_then(|p| p.segs().first().cloned());
        let t = match (t.strip_prefix("crate::"), ssot_crate) {
            (Some(rest), Some(krate)) if krate != here => format!("{krate}::{rest}"),
            _ => t,
        };
        let trimmed = t.trim();
        let (rest, tried) = match trimmed.strip_suffix('?') {
            Some(r) => (r.trim_end(), true),
            None => (trimmed, false),
        };
        let (call, awaited) = match rest.strip_suffix(".await") {
            Some(r) => (r.trim_end().to_string(), true),
            None => (rest.to_string(), false),
        };
        let callee = match syn::parse_str::<syn::Expr>(&call) {
            Ok(syn::Expr::Call(ec)) => match *ec.func {
                syn::Expr::Path(p) if p.qself.is_none() => Some(RawPath {
                    global: p.path.leading_colon.is_some(),
                    anchor: None,
                    segs: p.path.segments.iter().map(|s| s.ident.to_string()).collect(),
                    span: 0..0,
                    seg_ends: vec![0; p.path.segments.len()],
                }),
                _ => None,
            },
            _ => None,
        };
        let resolved = callee.and_then(|p| match c.res.resolve_path(scope, &p)? {
            Res::Item(im, ii) => {
                let node = c.g.module(im);
                let f = c.g.files[node.file].summary.modules[node.local].items[ii].func?;
                Some((im, node.file, f))
            }
            _ => None,
        });
        return Some(match resolved {
            Some((im, file, f)) => {
                let fs = &c.g.files[file].summary.fns[f];
                let (is_async, returns_result) = (fs.is_async, fs.returns_result);
                retire::Accessor {
                    ret: written_ret(c, im, FnId { file, func: f }, scope),
                    call,
                    is_async,
                    returns_result,
                }
            }
            // What the template shows.
            None => retire::Accessor {
                call,
                is_async: awaited,
                returns_result: tried,
                ret: None,
            },
        });
    }
    let mut best: Option<(usize, String, ModId, FnId)> = None;
    for sm in c.ssot.get(resource).cloned().unwrap_or_default() {
        let root = c.mod_path(sm);
        for (file, base) in c.file_base(sm.krate) {
            let s = c.g.files[file].summary.clone();
            for (fi, f) in s.fns.iter().enumerate() {
                if f.self_type.is_some()
                    || !f.params.is_empty()
                    || f.parent_fn.is_some()
                    || f.is_test
                    || best.as_ref().is_some_and(|b| (b.0, &b.1) <= (f.name.len(), &f.name))
                {
                    continue;
                }
                let fm = sm.with_node(base + f.module);
                if !c.mod_path(fm).is_within(&root) {
                    continue;
                }
                let lazy = s.chains.iter().any(|ch| {
                    ch.func == Some(fi)
                        && ch
                            .methods
                            .iter()
                            .any(|x| x.name == "get_or_init" || x.name == "get_or_try_init")
                });
                let fscope = Scope {
                    module: fm,
                    func: None,
                    fns: None,
                };
                let holds = f.ret.as_ref().is_some_and(|r| {
                    c.holder_in(fscope, r)
                        .is_some_and(|(p, _)| c.packs.packs[p].resource == resource)
                });
                if !lazy || !holds {
                    continue;
                }
                let text = c.g.source(file);
                let edition = c.g.packages[c.g.crates[sm.krate].package].edition;
                if crate::parse::shape::signature(&text, edition, &f.span).is_some_and(|sig| sig.is_pub)
                {
                    best = Some((f.name.len(), f.name.clone(), fm, FnId { file, func: fi }));
                }
            }
        }
    }
    let (_, name, fm, fid) = best?;
    let mut segs = c.mod_path(fm).segs().to_vec();
    if segs.first() == Some(&here) {
        segs[0] = "crate".into();
    }
    segs.push(name);
    let fs = &c.g.files[fid.file].summary.fns[fid.func];
    let (is_async, returns_result) = (fs.is_async, fs.returns_result);
    Some(retire::Accessor {
        call: format!("{}()", segs.join("::")),
        ret: written_ret(c, fm, fid, scope),
        is_async,
        returns_result,
    })
}

/// The return type of function `f` (in module `m`), written so that
/// it means the same in `target`: each path kept when it resolves to the same there, else
/// written in full (`crate::database::DatabaseError`, `sqlx::SqlitePool`).
fn written_ret(c: &mut Model, m: ModId, f: FnId, target: Scope) -> Option<String> {
    let summary = c.g.files[f.file].summary.clone();
    let func = &summary.fns[f.func];
    let ret = func.ret.as_ref()?;
    let text = c.g.source(f.file);
    let edition = c.g.packages[c.g.crates[m.krate].package].edition;
    let span = crate::parse::shape::signature(&text, edition, &func.span)?.ret?;
    let here = c.g.crates[target.module.krate].name.clone();
    let there = Scope {
        module: m,
        func: None,
        fns: None,
    };
    let mut edits: Vec<(std::ops::Range<u32>, String)> = Vec::new();
    for p in &ret.all {
        if p.anchor.is_some() {
            continue;
        }
        let Some(&name_end) = p.seg_ends.last() else {
            continue;
        };
        let Some(r) = c.res.resolve_path(there, p) else {
            // A prelude type (`Result`), a primitive: the same everywhere.
            continue;
        };
        if c.res.resolve_path(target, p).as_ref() == Some(&r) {
            continue;
        }
        let written = match &r {
            Res::Ext(segs) => segs.join("::"),
            Res::Item(im, ii) => {
                let node = c.g.module(*im);
                let item = c.g.files[node.file].summary.modules[node.local].items[*ii]
                    .name
                    .clone();
                let mut segs = c.mod_path(*im).segs().to_vec();
                if segs.first() == Some(&here) {
                    segs[0] = "crate".into();
                }
                segs.push(item);
                segs.join("::")
            }
            _ => return None,
        };
        edits.push((p.span.start..name_end, written));
    }
    edits.sort_by_key(|e| std::cmp::Reverse(e.0.start));
    let mut out = text.get(span.start as usize..span.end as usize)?.to_string();
    for (r, w) in edits {
        if r.start < span.start || r.end > span.end {
            return None;
        }
        out.replace_range((r.start - span.start) as usize..(r.end - span.start) as usize, &w);
    }
    Some(out)
}

const HELP: &str = "let the first caller initialize it, race-free and exactly once: \
`POOL.get_or_try_init(|| PgPool::connect(&url)).await` on a `tokio::sync::OnceCell`, \
or `std::sync::LazyLock` for a synchronous client";

#[cfg(test)]
mod tests {
    use crate::testing::{check, check_fix};

    const SSOT: &str = r#"
//- /ssot-lint.toml
[ssot]
modules = ["app::database"]
//- /src/lib.rs
pub mod database;
pub mod manager;
//- /src/database.rs
use sqlx::PgPool;
use tokio::sync::OnceCell;

static POOL: OnceCell<PgPool> = OnceCell::const_new();

pub async fn pool() -> Result<&'static PgPool, sqlx::Error> {
    POOL.get_or_try_init(|| PgPool::connect("postgres://db/app")).await
}
"#;

    #[test]
    fn fires_on_a_legacy_manager() {
        check(&format!(
            "{SSOT}{}",
            r#"//- /src/manager.rs
use sqlx::PgPool;

pub struct Manager {
    pool: Option<PgPool>,
}

impl Manager {
    pub async fn initialize(&mut self) -> Result<(), sqlx::Error> {
        self.pool = Some(PgPool::connect("postgres://db/app").await?);
                       //^^^^^^^^^^^^^^^ SSOT001
                       //^ SSOT006
        Ok(())
    }

    pub fn pool(&self) -> &PgPool {
        self.pool.as_ref().expect("not initialized")
      //^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ SSOT004
    }
}
"#
        ));
    }

    /// The manager's state goes; the accessor and the initialization use the SSOT's lazy
    /// accessor; the flag reads `true`.
    #[test]
    fn fix_retires_the_manager() {
        check_fix(
            &format!(
                "{SSOT}{}",
                r#"//- /src/manager.rs
use sqlx::PgPool;

use std::sync::atomic::{AtomicBool, Ordering};

pub struct Manager {
    name: String,
    pool: Option<PgPool>,
    ready: AtomicBool,
}

impl Manager {
    pub fn new(name: String) -> Self {
        Manager { name, pool: None, ready: AtomicBool::new(false) }
    }

    pub async fn initialize(&mut self) -> Result<(), sqlx::Error> {
        // Connect once.
        self.pool = Some(PgPool::connect("postgres://db/app").await?);
        self.ready.store(true, Ordering::SeqCst);
        Ok(())
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    pub async fn count(&self) -> Result<i64, sqlx::Error> {
        let pool = self.pool.as_ref().expect("not initialized");
        sqlx::query_scalar("SELECT 1").fetch_one(pool).await
    }
}
"#
            ),
            r#"//- /src/manager.rs
pub struct Manager {
    name: String,
}

impl Manager {
    pub fn new(name: String) -> Self {
        Manager { name }
    }

    pub async fn initialize(&mut self) -> Result<(), sqlx::Error> {
        crate::database::pool().await?;
        Ok(())
    }

    pub fn is_ready(&self) -> bool {
        true
    }

    pub async fn count(&self) -> Result<i64, sqlx::Error> {
        let pool = crate::database::pool().await?;
        sqlx::query_scalar("SELECT 1").fetch_one(pool).await
    }
}
"#,
        );
    }

    /// A use of the state the fix cannot rewrite (a method handing out the `Option`): no
    /// fix for the manager (only SSOT001's, for its construction, applies).
    #[test]
    fn no_fix_for_a_use_it_cannot_rewrite() {
        let manager = r#"//- /src/manager.rs
use sqlx::PgPool;

pub struct Manager {
    pool: Option<PgPool>,
}

impl Manager {
    pub async fn initialize(&mut self) -> Result<(), sqlx::Error> {
        self.pool = Some(PgPool::connect("postgres://db/app").await?);
        Ok(())
    }

    pub fn pool(&self) -> &PgPool {
        self.pool.as_ref().expect("not initialized")
    }

    pub fn maybe(&self) -> Option<&PgPool> {
        self.pool.as_ref()
    }
}
"#;
        let config = "//- /ssot-lint.toml\n[ssot]\nmodules = [\"app::database\"]\n[accessor]\nsql = \"crate::database::pool().await?\"\n";
        check_fix(
            &format!("{SSOT}{config}{manager}"),
            &manager.replace(
                "PgPool::connect(\"postgres://db/app\").await?",
                "crate::database::pool().await?",
            ),
        );
    }
}
