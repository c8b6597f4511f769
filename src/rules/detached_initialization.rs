//! SSOT005 detached-initialization.

use std::collections::HashSet;

use super::RuleInfo;
use crate::check::{Checker, Site, SiteKind};
use crate::diagnostic::{Applicability, Edit, Finding, Fix};
use crate::resolve::{Res, Scope};
use crate::summary::{Chain, ChainContext, ChainRoot, FileSummary, ItemKind};

pub const RULE: RuleInfo = RuleInfo {
    code: "SSOT005",
    name: "detached-initialization",
    summary: "initialization whose completion or error nobody awaits: a spawned init with its handle dropped, `let _ = init().await`, `.ok();` on an init result, an init error only logged",
    fix: Some("await it and propagate with `?` (unsafe)"),
    doc: r#"
## What it does
Flags an initialization of a resource whose completion or error nobody observes. An
initialization is a pack constructor, a call of the SSOT accessor from outside the SSOT,
a method named `initialize`/`init`/`init_*`/`setup`/`warm_up` of a project type that holds
a pool or client (the legacy manager), or a function so named that constructs one. It is
detached when it is spawned with `tokio::spawn`/`std::thread::spawn`/`spawn_blocking` and the
`JoinHandle` dropped, discarded with `let _ =`, swallowed with `.ok();`,
`.unwrap_or_default()` or `.unwrap_or(..)`, or only logged in `if let Err(e) = ..`.

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
"#,
};

/// A range and what replaces it.
type Replacement = (std::ops::Range<u32>, String);

const SPAWNS: &[&str] = &["spawn", "spawn_blocking", "spawn_local"];
const SWALLOW: &[&str] = &["ok", "unwrap_or_default", "unwrap_or", "unwrap_or_else"];

fn init_like(name: &str) -> bool {
    matches!(name, "initialize" | "init" | "setup" | "warm_up" | "warmup")
        || name.starts_with("init_")
        || name.starts_with("initialize_")
}

impl Checker<'_> {
    /// What initialization a chain performs, for messages; `None` when it is not one.
    pub fn init_call(
        &mut self,
        idx: &InitIndex,
        k: usize,
        m: usize,
        s: &FileSummary,
        chain: &Chain,
        upto: usize,
    ) -> Option<String> {
        let methods = &chain.methods[..upto.min(chain.methods.len())];
        if let Some(last) = methods.last()
            && idx.methods.contains(&last.name)
        {
            return Some(format!("{}()", last.name));
        }
        if methods.len() == chain.methods.len()
            && let Some(c) = self.classify(k, m, s, chain)
        {
            return Some(c.what);
        }
        if let ChainRoot::Call(p) = &chain.root {
            let scope = Scope {
                krate: k,
                module: m,
                func: chain.func.map(|f| &s.fns[f]),
                fns: Some(&s.fns),
            };
            if methods.is_empty()
                && p.segs.last().is_some_and(|l| init_like(l))
                && let Some(Res::Item(ik, im, ii)) = self.res.resolve_path(scope, p)
            {
                let node = &self.g.crates[ik].modules[im];
                let item = &self.g.files[node.file].summary.modules[node.local].items[ii];
                if item.func.is_some_and(|f| idx.fns.contains(&(node.file, f))) {
                    return Some(format!("{}()", p.text()));
                }
            }
            // The SSOT accessor: a function of an SSOT module.
            let scope = Scope {
                krate: k,
                module: m,
                func: chain.func.map(|f| &s.fns[f]),
                fns: Some(&s.fns),
            };
            if methods.is_empty()
                && let Some(Res::Item(ik, im, _)) = self.res.resolve_path(scope, p)
                && self.ssot.values().flatten().any(|&(sk, sm)| {
                    self.g.crates[sk].name == self.g.crates[ik].name
                        && self.g.crates[ik].modules[im]
                            .path
                            .starts_with(&self.g.crates[sk].modules[sm].path)
                })
                && !self.ssot.values().flatten().any(|&(sk, sm)| {
                    sk == k
                        && self.g.crates[k].modules[m]
                            .path
                            .starts_with(&self.g.crates[sk].modules[sm].path)
                })
            {
                return Some(format!("{}()", p.text()));
            }
        }
        None
    }

    fn is_spawn(&mut self, k: usize, m: usize, s: &FileSummary, chain: &Chain) -> bool {
        let ChainRoot::Call(p) = &chain.root else {
            return false;
        };
        if !p.segs.last().is_some_and(|l| SPAWNS.contains(&l.as_str())) || !chain.methods.is_empty()
        {
            return false;
        }
        let scope = Scope {
            krate: k,
            module: m,
            func: chain.func.map(|f| &s.fns[f]),
            fns: Some(&s.fns),
        };
        match self.res.resolve_path(scope, p) {
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
    fn calls_local_async(&mut self, k: usize, m: usize, s: &FileSummary, chain: &Chain) -> bool {
        let ChainRoot::Call(p) = &chain.root else {
            return false;
        };
        if !chain.methods.is_empty() {
            return false;
        }
        let scope = Scope {
            krate: k,
            module: m,
            func: chain.func.map(|f| &s.fns[f]),
            fns: Some(&s.fns),
        };
        let Some(Res::Item(ik, im, ii)) = self.res.resolve_path(scope, p) else {
            return false;
        };
        let node = &self.g.crates[ik].modules[im];
        let fs = &self.g.files[node.file].summary;
        let item = &fs.modules[node.local].items[ii];
        item.kind == ItemKind::Fn && item.func.is_some_and(|f| fs.fns[f].is_async)
    }
}

/// Whether the initialization's value is a `Result` (so that `?` fits): an init method of
/// the project by its signature, a local function by its signature, a pack constructor yes.
fn init_returns_result(
    c: &mut Checker,
    idx: &InitIndex,
    k: usize,
    m: usize,
    s: &FileSummary,
    chain: &Chain,
) -> bool {
    if let Some(last) = chain.methods.last() {
        return idx.method_results.get(&last.name).copied().unwrap_or(true);
    }
    if let ChainRoot::Call(p) = &chain.root {
        let scope = Scope {
            krate: k,
            module: m,
            func: chain.func.map(|f| &s.fns[f]),
            fns: Some(&s.fns),
        };
        if let Some(Res::Item(ik, im, ii)) = c.res.resolve_path(scope, p) {
            let node = &c.g.crates[ik].modules[im];
            let fs = &c.g.files[node.file].summary;
            if let Some(f) = fs.modules[node.local].items[ii].func {
                return fs.fns[f].returns_result;
            }
        }
    }
    true
}

fn slice(text: &str, r: &std::ops::Range<u32>) -> String {
    text.get(r.start as usize..r.end as usize)
        .unwrap_or("")
        .to_string()
}

/// What counts as an initialization by name: `initialize`-like methods of project types
/// that hold a pool or client, and `init`-like functions that construct one.
#[derive(Debug, Default)]
pub struct InitIndex {
    pub methods: HashSet<String>,
    /// Whether every init method of that name returns a `Result`.
    pub method_results: std::collections::HashMap<String, bool>,
    /// (file, function index)
    pub fns: HashSet<(usize, usize)>,
}

pub fn init_index(c: &mut Checker, sites: &[Site]) -> InitIndex {
    let mut idx = InitIndex::default();
    for k in 0..c.g.crates.len() {
        for (fid, base) in c.file_base(k) {
            let s = c.g.files[fid].summary.clone();
            for (fi, f) in s.fns.iter().enumerate() {
                if !init_like(&f.name) {
                    continue;
                }
                let holder = match &f.self_type {
                    Some(st) => {
                        let scope = Scope {
                            krate: k,
                            module: base + f.module,
                            func: None,
                            fns: None,
                        };
                        c.res
                            .resolve_path(scope, st)
                            .and_then(|r| c.holder_of(&r))
                            .is_some()
                    }
                    None => false,
                };
                let constructs = sites.iter().any(|x| {
                    x.kind == SiteKind::Construction
                        && x.file == fid
                        && f.span.start <= x.span.start
                        && x.span.end <= f.span.end
                });
                if holder || constructs {
                    idx.fns.insert((fid, fi));
                    if f.self_type.is_some() {
                        idx.methods.insert(f.name.clone());
                        let e = idx.method_results.entry(f.name.clone()).or_insert(true);
                        *e &= f.returns_result;
                    }
                }
            }
        }
    }
    idx
}

pub fn check(c: &mut Checker, sites: &[Site]) -> Vec<Finding> {
    let idx = init_index(c, sites);
    let mut out = Vec::new();
    let mut seen: HashSet<(usize, u32)> = HashSet::new();
    for k in 0..c.g.crates.len() {
        for (fid, base) in c.file_base(k) {
            let s = c.g.files[fid].summary.clone();
            let mut text: Option<String> = None;
            for chain in &s.chains {
                let m = base + chain.module;
                let func = chain.func.map(|f| &s.fns[f]);
                let test = chain.is_test || func.is_some_and(|f| f.is_test);
                if c.allowed(k, m, fid, test) {
                    continue;
                }
                let (is_async, returns_result) = func
                    .map(|f| (f.is_async, f.returns_result))
                    .unwrap_or((false, false));
                // A `_name` binding keeps a JoinHandle unobserved, too.
                let dropped = match &chain.context {
                    ChainContext::Stmt | ChainContext::LetUnderscore(_) => true,
                    ChainContext::LetBind(n) => n.starts_with('_'),
                    _ => false,
                };
                let mut hit: Option<(String, Option<Replacement>)> = None;
                let t = || -> String { c.g.source(fid) };

                if dropped && !chain.awaited && c.is_spawn(k, m, &s, chain) {
                    // A task that initializes, with its handle dropped.
                    let args = chain.args_span.clone().unwrap_or(0..0);
                    let inner: Vec<&Chain> = s
                        .chains
                        .iter()
                        .filter(|x| {
                            x.span.start >= args.start
                                && x.span.end <= args.end
                                && x.func == chain.func
                        })
                        .collect();
                    let what = inner.iter().find_map(|x| {
                        let n = x.methods.len();
                        let what = c.init_call(&idx, k, m, &s, x, n)?;
                        Some((what, init_returns_result(c, &idx, k, m, &s, x)))
                    });
                    if let Some((what, rr)) = what {
                        let text = text.get_or_insert_with(t);
                        let fix = chain
                            .async_tail
                            .as_ref()
                            .filter(|_| is_async && (returns_result || !rr))
                            .map(|tail| {
                                let body = slice(text, tail);
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
                    if let Some(what) = c.init_call(&idx, k, m, &s, chain, chain.methods.len()) {
                        let text = text.get_or_insert_with(t);
                        let expr = slice(text, &chain.span);
                        let future = !chain.awaited && c.calls_local_async(k, m, &s, chain);
                        let rr = init_returns_result(c, &idx, k, m, &s, chain);
                        let fix =
                            ((returns_result || !rr) && (is_async || !future) && (future || rr))
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
                    && let Some(what) = c.init_call(&idx, k, m, &s, chain, chain.methods.len() - 1)
                {
                    let text = text.get_or_insert_with(t);
                    let dot = text[..last.name_offset as usize]
                        .rfind('.')
                        .unwrap_or(last.name_offset as usize) as u32;
                    let fix = returns_result.then(|| (dot..last.span.end, "?".to_string()));
                    hit = Some((
                        format!("the error of `{what}` is swallowed by `.{}()`", last.name),
                        fix,
                    ));
                } else if chain.context == ChainContext::ErrOnlyLogged
                    && let Some(what) = c.init_call(&idx, k, m, &s, chain, chain.methods.len())
                {
                    hit = Some((
                        format!(
                            "the error of `{what}` is only logged: the code after it runs as if initialized"
                        ),
                        None,
                    ));
                } else if chain.context == ChainContext::Stmt
                    && !chain.awaited
                    && c.calls_local_async(k, m, &s, chain)
                    && let Some(what) = c.init_call(&idx, k, m, &s, chain, 0)
                {
                    let text = text.get_or_insert_with(t);
                    let expr = slice(text, &chain.span);
                    let rr = init_returns_result(c, &idx, k, m, &s, chain);
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
                out.push(f);
            }
        }
    }
    out
}
