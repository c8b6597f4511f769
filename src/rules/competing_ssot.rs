//! SSOT006 competing-ssot.

use std::collections::BTreeMap;

use super::{RuleInfo, quote_list};
use crate::check::{Checker, Site};
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

## Known limitations
Test code is left out. With an SSOT configured for the kind this rule stays silent: the
other modules are SSOT001/SSOT002 findings instead.
"#,
};

pub fn check(c: &Checker, sites: &[Site]) -> Vec<Finding> {
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
    out
}

fn verb(s: &Site) -> &'static str {
    match s.kind {
        crate::check::SiteKind::Construction => "build",
        crate::check::SiteKind::Holder => "hold",
    }
}
