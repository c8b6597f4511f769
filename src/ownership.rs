//! Who owns each resource kind: the modules that construct, hold, initialize by hand or
//! re-export it, each with its role (the SSOT, a competing module, a legacy manager, a
//! shim). `--graph` and the markdown summary draw it.

use std::collections::BTreeMap;

use crate::semantic::{Model, SiteKind};

/// What a module is to a resource kind.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A configured SSOT module.
    Ssot,
    /// Builds or holds its own, outside the SSOT (or with no SSOT configured).
    Competing,
    /// Holds the resource in a type that is initialized by hand (`initialize()`).
    Legacy,
    /// A `[deprecated]` module that re-exports the SSOT.
    Shim,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ModuleOwner {
    /// `crate::a::b`.
    pub module: String,
    pub role: Role,
    pub constructs: bool,
    pub holds: bool,
    pub initializes: bool,
    /// The module it re-exports (shims).
    pub reexports: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KindOwners {
    /// `sql`, `redis`, ...
    pub kind: String,
    pub modules: Vec<ModuleOwner>,
}

/// The ownership of every resource kind some non-test code of this unit constructs or holds.
pub fn collect(c: &Model) -> Vec<KindOwners> {
    // kind -> module -> owner
    let mut by_kind: BTreeMap<String, BTreeMap<String, ModuleOwner>> = BTreeMap::new();
    let blank = |module: &str, role| ModuleOwner {
        module: module.to_string(),
        role,
        constructs: false,
        holds: false,
        initializes: false,
        reexports: None,
    };
    for s in c.sites.iter().filter(|s| s.owns() && !s.allowed) {
        let role = if s.in_ssot {
            Role::Ssot
        } else {
            Role::Competing
        };
        let key = s.path.to_string();
        let e = by_kind
            .entry(s.resource.clone())
            .or_default()
            .entry(key.clone())
            .or_insert_with(|| blank(&key, role));
        match s.kind {
            SiteKind::Construction { .. } => e.constructs = true,
            SiteKind::Holder { .. } => e.holds = true,
            SiteKind::Initialization => {}
        }
    }
    // Methods that initialize a resource by hand (a type that holds it, `initialize()`).
    for s in c
        .sites
        .iter()
        .filter(|s| matches!(s.kind, SiteKind::Initialization))
    {
        let key = s.path.to_string();
        let e = by_kind
            .entry(s.resource.clone())
            .or_default()
            .entry(key.clone())
            .or_insert_with(|| blank(&key, Role::Competing));
        e.initializes = true;
        if !s.in_ssot {
            e.role = Role::Legacy;
        }
    }
    // The configured SSOT modules, and the shims that re-export them.
    for (kind, modules) in by_kind.iter_mut() {
        let ssot: Vec<String> = if c.cfg.ssot_for(kind).is_empty() {
            Vec::new()
        } else {
            c.ssot_names(kind).iter().map(ToString::to_string).collect()
        };
        for t in &ssot {
            modules
                .entry(t.clone())
                .or_insert_with(|| blank(t, Role::Ssot))
                .role = Role::Ssot;
        }
        for (from, to) in &c.cfg.deprecated {
            let to_text = to.segs.join("::");
            if ssot.iter().any(|t| to_text.starts_with(t.as_str())) {
                let e = modules
                    .entry(from.text.clone())
                    .or_insert_with(|| blank(&from.text, Role::Shim));
                e.role = Role::Shim;
                e.reexports = Some(to_text);
            }
        }
    }
    by_kind
        .into_iter()
        .map(|(kind, modules)| KindOwners {
            kind,
            modules: modules.into_values().collect(),
        })
        .collect()
}

/// Add the owners of another unit (kinds merged, modules appended).
pub fn merge(into: &mut Vec<KindOwners>, more: Vec<KindOwners>) {
    for k in more {
        match into.iter_mut().find(|x| x.kind == k.kind) {
            Some(x) => {
                for m in k.modules {
                    if !x.modules.contains(&m) {
                        x.modules.push(m);
                    }
                }
            }
            None => into.push(k),
        }
    }
    into.sort_by(|a, b| a.kind.cmp(&b.kind));
}
