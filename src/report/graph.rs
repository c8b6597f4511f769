//! The ownership graph of each resource kind, as Mermaid or Graphviz DOT: the modules that
//! construct, hold, initialize or re-export it, the SSOT marked, competing modules, legacy
//! managers and shims each drawn their own way.

use crate::ownership::{KindOwners, ModuleOwner, Role};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    Mermaid,
    Dot,
}

fn role_label(r: Role) -> &'static str {
    match r {
        Role::Ssot => "SSOT",
        Role::Competing => "competing",
        Role::Legacy => "legacy: initialized by hand",
        Role::Shim => "shim: deprecated re-export",
    }
}

fn role_class(r: Role) -> &'static str {
    match r {
        Role::Ssot => "ssot",
        Role::Competing => "competing",
        Role::Legacy => "legacy",
        Role::Shim => "shim",
    }
}

/// Edges from a module to its resource kind (or, for a shim, to what it re-exports).
fn edges(m: &ModuleOwner) -> Vec<&'static str> {
    let mut v = Vec::new();
    if m.constructs {
        v.push("constructs");
    }
    if m.holds {
        v.push("holds");
    }
    if m.initializes {
        v.push("initializes");
    }
    v
}

/// Text for a label: characters other than letters, digits, `_`, `:`, `.`, `/`, `-` and the
/// space as numeric character references, Mermaid's `#35;` or DOT's `&#35;`. What the tree
/// chose (crate and module names, a pack's resource) can then neither end the quoted label
/// nor form a Mermaid directive (`%%{..}%%`), an HTML tag, a DOT escape (`\N`) or a line
/// (a workflow command when the graph is printed in CI).
fn label(s: &str, reference: fn(u32) -> String) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '.' | '/' | '-' | ' ') {
            o.push(c);
        } else {
            o.push_str(&reference(c as u32));
        }
    }
    o
}

fn mermaid_label(s: &str) -> String {
    label(s, |c| format!("#{c};"))
}

fn dot_label(s: &str) -> String {
    label(s, |c| format!("&#{c};"))
}

/// Node ids: `k{kind}` for a resource kind, `k{kind}m{module}` for a module.
fn module_id(ki: usize, owners: &KindOwners, module: &str) -> Option<String> {
    owners
        .modules
        .iter()
        .position(|m| m.module == module)
        .map(|mi| format!("k{ki}m{mi}"))
}

pub fn mermaid(kinds: &[KindOwners]) -> String {
    let mut s = String::from("flowchart LR\n");
    if kinds.is_empty() {
        s.push_str("  none[\"no pool or client is constructed or held\"]\n");
    }
    for (ki, k) in kinds.iter().enumerate() {
        s.push_str(&format!(
            "  k{ki}[(\"{} pool/client\")]\n",
            mermaid_label(&k.kind)
        ));
        for (mi, m) in k.modules.iter().enumerate() {
            let id = format!("k{ki}m{mi}");
            s.push_str(&format!(
                "  {id}[\"{}<br/><i>{}</i>\"]:::{}\n",
                mermaid_label(&m.module),
                role_label(m.role),
                role_class(m.role)
            ));
            for e in edges(m) {
                s.push_str(&format!("  {id} -- {e} --> k{ki}\n"));
            }
            if let Some(to) = &m.reexports {
                match module_id(ki, k, to) {
                    Some(t) => s.push_str(&format!("  {id} -. re-exports .-> {t}\n")),
                    None => s.push_str(&format!("  {id} -. re-exports .-> k{ki}\n")),
                }
            }
        }
    }
    s.push_str(
        "  classDef ssot fill:#d4edda,stroke:#1e7e34,stroke-width:3px\n  \
         classDef competing fill:#fff3cd,stroke:#b8860b\n  \
         classDef legacy fill:#f8d7da,stroke:#c82333\n  \
         classDef shim fill:#e2e3e5,stroke:#6c757d,stroke-dasharray:5 5\n",
    );
    s
}

pub fn dot(kinds: &[KindOwners]) -> String {
    let mut s = String::from(
        "digraph ownership {\n  rankdir=LR;\n  node [shape=box, style=filled, fontname=\"Helvetica\"];\n",
    );
    for (ki, k) in kinds.iter().enumerate() {
        s.push_str(&format!(
            "  k{ki} [label=\"{} pool/client\", shape=cylinder, fillcolor=\"#cfe2ff\"];\n",
            dot_label(&k.kind)
        ));
        for (mi, m) in k.modules.iter().enumerate() {
            let id = format!("k{ki}m{mi}");
            let style = match m.role {
                Role::Ssot => "fillcolor=\"#d4edda\", color=\"#1e7e34\", penwidth=3",
                Role::Competing => "fillcolor=\"#fff3cd\", color=\"#b8860b\"",
                Role::Legacy => "fillcolor=\"#f8d7da\", color=\"#c82333\"",
                Role::Shim => "fillcolor=\"#e2e3e5\", color=\"#6c757d\", style=\"filled,dashed\"",
            };
            s.push_str(&format!(
                "  {id} [label=\"{}\\n({})\", {style}];\n",
                dot_label(&m.module),
                role_label(m.role)
            ));
            for e in edges(m) {
                s.push_str(&format!("  {id} -> k{ki} [label=\"{e}\"];\n"));
            }
            if let Some(to) = &m.reexports {
                let t = module_id(ki, k, to).unwrap_or(format!("k{ki}"));
                s.push_str(&format!(
                    "  {id} -> {t} [label=\"re-exports\", style=dashed];\n"
                ));
            }
        }
    }
    s.push_str("}\n");
    s
}

pub fn render(format: GraphFormat, kinds: &[KindOwners]) -> String {
    match format {
        GraphFormat::Mermaid => mermaid(kinds),
        GraphFormat::Dot => dot(kinds),
    }
}
