//! SSOT006 competing-ssot.

use std::collections::BTreeMap;

use super::{RuleInfo, quote_list};
use crate::check::{Checker, Site, SiteKind};
use crate::diagnostic::Finding;

pub const RULE: RuleInfo = RuleInfo {
    code: "SSOT006",
    name: "competing-ssot",
    summary: "more than one module constructs or holds the same resource kind (one finding per extra module, listing all of them)",
    fix: None,
    doc: r#"
## What it does
For a resource kind with no SSOT module configured, finds every module that constructs a
pool/client of that kind or holds one in a `static`. When there are two or more, reports
one finding in each module after the first (in path order), naming all of them.

## Why is this bad?
Two modules that each build the database pool are two initialization patterns. Which one
a request meets depends on start-up order; the incident behind this tool was exactly that.

## Example
```text
src/db/manager.rs:31:20: SSOT006 sql pools/clients are built or held in 2 modules: `app::database`, `app::db::manager`; ...
```
Designate one module as the SSOT in `ssot-lint.toml`:
```toml
[ssot]
modules = ["app::database"]
```
Then every other construction is an SSOT001 finding with a fix.

## Fix safety
No fix: choosing the SSOT is a decision.

With an SSOT configured, it reports the competing *patterns* the way the incident
analysis needed them, once per kind, when some other module still initializes the resource
by hand (a type that holds a pool and has an `initialize`/`init`/`setup`/`connect`
method): the SSOT, each legacy module, each module that builds or holds its own, and each
`[deprecated]` shim that re-exports the SSOT, with a related location per module (in JSON
under `related`).

## Known limitations
Test code is left out. With an SSOT configured and no legacy manager, stray constructions
and globals are SSOT001/SSOT002 findings only. A shim is known from `[deprecated]`, not
detected from its re-exports.
"#,
};

pub fn check(c: &mut Checker, sites: &[Site]) -> Vec<Finding> {
    // resource -> module key -> first site
    let mut by_kind: BTreeMap<&str, BTreeMap<&str, &Site>> = BTreeMap::new();
    for s in sites {
        if s.allowed || !c.cfg.ssot_for(&s.resource).is_empty() {
            continue;
        }
        let e = by_kind
            .entry(&s.resource)
            .or_default()
            .entry(&s.module_key)
            .or_insert(s);
        if (s.file, s.span.start) < (e.file, e.span.start) {
            *e = s;
        }
    }
    let mut out = Vec::new();
    for (kind, modules) in by_kind {
        if modules.len() < 2 {
            continue;
        }
        let names: Vec<String> = modules.keys().map(|k| k.to_string()).collect();
        let list = quote_list(&names);
        for (i, (_, site)) in modules.iter().enumerate() {
            if i == 0 {
                continue;
            }
            let message = format!(
                "{kind} pools/clients are built or held in {} modules: {list}",
                names.len()
            );
            let help = format!(
                "designate one as the SSOT in ssot-lint.toml: `[ssot] {kind} = [\"{}\"]` (or `modules = [...]` for every kind)",
                names[0]
            );
            let mut f = Finding::new(
                RULE.code,
                RULE.name,
                site.file,
                site.span.start..site.span.start,
                message,
            )
            .with_help(help);
            for (m, other) in &modules {
                f.related_spans.push((
                    other.file,
                    other.span.clone(),
                    format!("`{m}` {}s here", verb(other)),
                ));
            }
            out.push(f);
        }
    }
    out.extend(competing_patterns(c, sites));
    out
}

/// With an SSOT configured: the full picture when another module still *holds* the
/// resource or initializes it by hand (a legacy manager): one grouped finding naming the
/// SSOT, every legacy module, every shim (a `[deprecated]` module that re-exports) and every
/// module that builds its own.
fn competing_patterns(c: &mut Checker, sites: &[Site]) -> Vec<Finding> {
    let idx = crate::rules::detached_initialization::init_index(c, sites);
    // (kind, module) of init methods on holder types, with a location each.
    let mut init_mods: BTreeMap<(String, String), (usize, u32)> = BTreeMap::new();
    for k in 0..c.g.crates.len() {
        for (fid, base) in c.file_base(k) {
            let s = c.g.files[fid].summary.clone();
            for (fi, f) in s.fns.iter().enumerate() {
                let Some(st) = &f.self_type else { continue };
                if !idx.fns.contains(&(fid, fi)) {
                    continue;
                }
                let m = base + f.module;
                if c.allowed(k, m, fid, f.is_test) {
                    continue;
                }
                let scope = crate::resolve::Scope {
                    krate: k,
                    module: m,
                    func: None,
                    fns: None,
                };
                let Some((pack, _)) = c.res.resolve_path(scope, st).and_then(|r| c.holder_of(&r))
                else {
                    continue;
                };
                let kind = c.packs.packs[pack].resource.clone();
                let e = init_mods
                    .entry((kind, c.module_key(k, m)))
                    .or_insert((fid, f.span.start));
                *e = (*e).min((fid, f.span.start));
            }
        }
    }
    let mut out = Vec::new();
    let kinds: Vec<String> = c.packs.resources().into_keys().collect();
    for kind in kinds {
        let ssot = c.ssot_names(&kind);
        if c.cfg.ssot_for(&kind).is_empty() || ssot.is_empty() {
            continue;
        }
        let ssot_text: Vec<String> = ssot.iter().map(|p| p.join("::")).collect();
        // module -> (role, first location)
        let mut roles: BTreeMap<String, (&'static str, usize, u32)> = BTreeMap::new();
        for s in sites
            .iter()
            .filter(|s| s.resource == kind && !s.in_ssot && !s.allowed)
        {
            let role = match s.kind {
                SiteKind::Holder => "holds its own",
                SiteKind::Construction => "builds its own",
            };
            let e = roles
                .entry(s.module_key.clone())
                .or_insert((role, s.file, s.span.start));
            if s.kind == SiteKind::Holder {
                e.0 = role;
            }
        }
        for ((k2, m), &(fid, at)) in &init_mods {
            if k2 != &kind
                || ssot_text
                    .iter()
                    .any(|t| m == t || m.starts_with(&format!("{t}::")))
            {
                continue;
            }
            let e = roles
                .entry(m.clone())
                .or_insert(("legacy: initialized by hand", fid, at));
            e.0 = "legacy: initialized by hand";
        }
        let legacy: Vec<(&String, &(&str, usize, u32))> = roles
            .iter()
            .filter(|(_, r)| r.0.starts_with("legacy"))
            .collect();
        let Some((_, &(_, lfile, lat))) = legacy.first().map(|(m, r)| (*m, *r)) else {
            continue;
        };
        let shims: Vec<String> = c
            .cfg
            .deprecated
            .iter()
            .filter(|(_, to)| {
                ssot_text
                    .iter()
                    .any(|t| to.segs.join("::").starts_with(t.as_str()))
            })
            .map(|(from, _)| from.text.clone())
            .collect();
        let mut parts = vec![format!(
            "SSOT `{}` (initializes on first use)",
            ssot_text.join("`, `")
        )];
        for (m, (role, _, _)) in &roles {
            parts.push(format!("`{m}` ({role})"));
        }
        for sh in &shims {
            parts.push(format!("`{sh}` (shim: deprecated, re-exports the SSOT)"));
        }
        let message = format!(
            "{} competing {kind} initialization patterns: {}",
            parts.len(),
            parts.join("; ")
        );
        let mut f =
            Finding::new(RULE.code, RULE.name, lfile, lat..lat, message).with_help(format!(
                "keep one: move every use to the SSOT `{}` and delete the legacy and shim modules",
                ssot_text[0]
            ));
        for (m, (role, fid, at)) in &roles {
            f.related_spans
                .push((*fid, *at..*at, format!("`{m}`: {role}")));
        }
        out.push(f);
    }
    out
}

fn verb(s: &Site) -> &'static str {
    match s.kind {
        crate::check::SiteKind::Construction => "build",
        crate::check::SiteKind::Holder => "hold",
    }
}
