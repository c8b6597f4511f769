//! `ssot-lint init`: writes `ssot-lint.toml` from what a run with no config inferred: for
//! each resource SSOT006 found (two or more owners), its presumed SSOT, with the evidence
//! as a comment (from the findings' data, never from their text); a second resource of a kind (another backend, other identity evidence) as
//! a `[[resource]]`; each module that only re-exports an SSOT as `[deprecated]`. Adopting
//! the tool is one command; an existing config is never overwritten.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::diagnostic::RuleCode;
use crate::engine::{LintOptions, Outcome};
use crate::error::Error;
use crate::vfs::FileSystem;

/// One resource SSOT006 reported: its presumed SSOT and the evidence, from the finding's
/// data ([`crate::diagnostic::Presumed`]), and where the finding is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inferred {
    pub kind: String,
    /// The backend that set it apart from other resources of its kind.
    pub backend: Option<String>,
    pub ssot: String,
    /// Which evidence decided.
    pub why: String,
    pub owners: Vec<String>,
    /// The finding's place, `file:line`.
    pub at: String,
}

/// The resources of a no-config outcome's SSOT006 findings, in output order.
pub fn inferred(outcome: &Outcome) -> Vec<Inferred> {
    outcome
        .findings
        .iter()
        .filter(|f| f.code == RuleCode::Ssot006)
        .filter_map(|f| {
            let p = f.presumed.clone()?;
            Some(Inferred {
                kind: p.kind,
                backend: p.backend,
                ssot: p.ssot,
                why: p.why,
                owners: p.owners,
                at: format!("{}:{}", f.file, f.line),
            })
        })
        .collect()
}

/// The config text for the inferred resources and shims.
pub fn config_text(resources: &[Inferred], shims: &[(String, String)]) -> String {
    let mut s = String::from(
        "# Written by `ssot-lint init` from what a run with no config inferred (SSOT006).\n\
         # Check each choice: the SSOT is the module every other one should get its pool from.\n",
    );
    let mut first: BTreeMap<&str, &Inferred> = BTreeMap::new();
    let mut more: Vec<&Inferred> = Vec::new();
    for r in resources {
        match first.get(r.kind.as_str()) {
            None => {
                first.insert(&r.kind, r);
            }
            Some(f) if f.ssot == r.ssot => {}
            Some(_) => more.push(r),
        }
    }
    let evidence = |s: &mut String, r: &Inferred| {
        let _ = writeln!(
            s,
            "# {}{}: presumed SSOT `{}` ({}); owners {} (SSOT006 at {})",
            r.kind,
            r.backend
                .as_ref()
                .map(|b| format!(" ({b})"))
                .unwrap_or_default(),
            r.ssot,
            r.why,
            r.owners
                .iter()
                .map(|o| format!("`{o}`"))
                .collect::<Vec<_>>()
                .join(", "),
            r.at
        );
    };
    s.push_str("\n[ssot]\n");
    if first.is_empty() {
        s.push_str("# No resource has two owners: name the module that builds each pool/client,\n# e.g. `modules = [\"app::database\"]`.\n");
    }
    for r in first.values() {
        evidence(&mut s, r);
        let _ = writeln!(s, "{} = [\"{}\"]", r.kind, r.ssot);
    }
    for (i, r) in more.iter().enumerate() {
        s.push('\n');
        evidence(&mut s, r);
        let last = r.ssot.rsplit("::").next().unwrap_or(&r.ssot);
        let _ = writeln!(s, "[[resource]]\nname = \"{}-{}-{}\"", r.kind, last, i + 2);
        let _ = writeln!(s, "kind = \"{}\"", r.kind);
        if let Some(b) = &r.backend {
            let _ = writeln!(s, "backend = \"{b}\"");
        }
        let _ = writeln!(s, "ssot = [\"{}\"]", r.ssot);
    }
    if !shims.is_empty() {
        s.push_str(
            "\n# Modules that only re-export an SSOT: old imports go through them (SSOT003).\n[deprecated]\n",
        );
        for (from, to) in shims {
            let _ = writeln!(s, "\"{from}\" = \"{to}\"");
        }
    }
    s
}

/// Modules of the unit's packages whose whole code is `pub use` of an SSOT (or below it):
/// (module, SSOT), in path order.
pub fn shims(fs: &dyn FileSystem, root: &Path, ssots: &[String]) -> Vec<(String, String)> {
    let Ok(unit) = crate::workspace::load_unit(fs, root, root) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for pkg in &unit.packages {
        let Some(lib) = pkg
            .targets
            .iter()
            .find(|t| t.kind == crate::workspace::TargetKind::Lib)
        else {
            continue;
        };
        let Some(src) = lib.root.parent() else {
            continue;
        };
        let walk = crate::vfs::Walk::new(src);
        for e in fs.walk(&walk) {
            if e.kind != crate::vfs::EntryKind::File
                || e.path.extension().is_none_or(|x| x != "rs")
                || e.path == lib.root
            {
                continue;
            }
            let Ok(rel) = e.path.strip_prefix(src) else {
                continue;
            };
            let mut segs = vec![lib.name.clone()];
            for c in rel.with_extension("").components() {
                segs.push(c.as_os_str().to_string_lossy().into_owned());
            }
            if segs.last().is_some_and(|l| l == "mod") {
                segs.pop();
            }
            let module = segs.join("::");
            let Ok(text) = fs.read_utf8(&e.path, Some(root)) else {
                continue;
            };
            if let Some(to) = reexported(&text, &lib.name, ssots)
                && !ssots.contains(&module)
            {
                out.push((module, to));
            }
        }
    }
    out.sort();
    out
}

/// The SSOT a file's code only re-exports (`pub use crate::database::*;`), if that is all
/// it holds besides comments and attributes.
fn reexported(text: &str, krate: &str, ssots: &[String]) -> Option<String> {
    let mut to: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with("//") || line.starts_with("#[") {
            continue;
        }
        let path = line.strip_prefix("pub use ")?.strip_suffix(';')?;
        let path = path
            .strip_suffix("::*")
            .unwrap_or(path)
            .split(" as ")
            .next()?
            .trim();
        let path = match path.strip_prefix("crate::") {
            Some(p) => format!("{krate}::{p}"),
            None => path.to_string(),
        };
        let ssot = ssots
            .iter()
            .find(|s| path == **s || path.starts_with(&format!("{s}::")))?;
        if to.as_ref().is_some_and(|t| t != ssot) {
            return None;
        }
        to = Some(ssot.clone());
    }
    to
}

/// `ssot-lint init [--manifest-path Cargo.toml]`: exit 0 written, 2 refused or failed.
pub fn run(args: &[std::ffi::OsString]) -> i32 {
    let mut manifest: Option<std::path::PathBuf> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.to_str() {
            Some("--manifest-path") => manifest = it.next().map(Into::into),
            Some("-h" | "--help") => {
                println!(
                    "ssot-lint init [--manifest-path Cargo.toml]: write ssot-lint.toml from what a run with no config infers (never overwrites a config)"
                );
                return 0;
            }
            _ => {
                eprintln!(
                    "error: `ssot-lint init` takes only `--manifest-path Cargo.toml`, not `{}`",
                    crate::escape::text(&a.to_string_lossy())
                );
                return 2;
            }
        }
    }
    match init(&crate::vfs::Disk, manifest.as_deref()) {
        Ok((path, n)) => {
            eprintln!(
                "wrote {} ({n} resource{} with a presumed SSOT); review it, then run ssot-lint",
                path.display(),
                if n == 1 { "" } else { "s" }
            );
            0
        }
        Err(e) => {
            eprintln!("error: {}", crate::escape::text(&e.to_string()));
            2
        }
    }
}

/// Lint the workspace with no config and write its `ssot-lint.toml`: the path written and
/// the number of resources.
pub fn init(
    fs: &dyn FileSystem,
    manifest: Option<&Path>,
) -> Result<(std::path::PathBuf, usize), Error> {
    let start = match manifest {
        Some(m) => m.parent().map(Path::to_path_buf).unwrap_or_default(),
        None => std::env::current_dir().map_err(|e| Error::Io {
            path: ".".into(),
            source: e,
        })?,
    };
    let start = if start.as_os_str().is_empty() {
        std::path::PathBuf::from(".")
    } else {
        start
    };
    let root = std::fs::canonicalize(&start).map_err(|e| Error::Io {
        path: start.clone(),
        source: e,
    })?;
    let target = root.join("ssot-lint.toml");
    if std::fs::symlink_metadata(&target).is_ok() {
        return Err(Error::Usage(format!(
            "{} exists: `ssot-lint init` never overwrites a config (edit it, or remove it to start again)",
            target.display()
        )));
    }
    let manifest_text = fs
        .read_utf8(&root.join("Cargo.toml"), Some(&root))
        .map_err(|e| Error::Io {
            path: root.join("Cargo.toml"),
            source: e.into(),
        })?;
    if manifest_text.contains("metadata.ssot-lint") {
        return Err(Error::Usage(format!(
            "{} has a [*.metadata.ssot-lint] table: a config exists; `ssot-lint init` never overwrites one",
            root.join("Cargo.toml").display()
        )));
    }
    let opts = LintOptions {
        start: Some(root.clone()),
        config: None,
        paths: Vec::new(),
        packages: Vec::new(),
        select: vec!["SSOT006".into()],
        ignore: Vec::new(),
        ownership: false,
        no_prefilter: false,
        confine: None,
        cache: crate::cache::CacheSetting::Off,
    };
    let outcome = crate::output::lint(fs, &opts)?;
    let resources = inferred(&outcome);
    let mut ssots: Vec<String> = resources.iter().map(|r| r.ssot.clone()).collect();
    ssots.sort();
    ssots.dedup();
    let shims = shims(fs, &root, &ssots);
    let text = config_text(&resources, &shims);
    fs.write_named(&target, &root, text.as_bytes())
        .map_err(|e| Error::Io {
            path: target.clone(),
            source: e.into(),
        })?;
    Ok((target, resources.len()))
}

#[cfg(test)]
mod tests {
    use super::{Inferred, config_text, reexported};

    #[test]
    fn a_shim_only_re_exports_an_ssot() {
        let ssots = ["app::database".to_string()];
        assert_eq!(
            reexported("//! old\n\npub use crate::database::*;\n", "app", &ssots),
            Some("app::database".into())
        );
        assert_eq!(
            reexported(
                "pub use crate::database::pool;\npub fn f() {}\n",
                "app",
                &ssots
            ),
            None
        );
        assert_eq!(
            reexported("pub use crate::other::*;\n", "app", &ssots),
            None
        );
    }

    #[test]
    fn the_config_names_each_resource_with_its_evidence() {
        let r = |kind: &str, backend: Option<&str>, ssot: &str| Inferred {
            kind: kind.into(),
            backend: backend.map(Into::into),
            ssot: ssot.into(),
            why: "it holds the pool/client in a global".into(),
            owners: vec![ssot.into(), "app::other".into()],
            at: "src/other.rs:3".into(),
        };
        let text = config_text(
            &[
                r("sql", Some("postgres"), "app::db"),
                r("sql", Some("sqlite"), "app::jobs"),
                r("redis", None, "app::cache"),
            ],
            &[("app::core::db".into(), "app::db".into())],
        );
        let parsed: toml::Table = toml::from_str(&text).expect("valid TOML");
        assert_eq!(parsed["ssot"]["sql"][0].as_str(), Some("app::db"));
        assert_eq!(parsed["ssot"]["redis"][0].as_str(), Some("app::cache"));
        assert_eq!(parsed["resource"][0]["backend"].as_str(), Some("sqlite"));
        assert_eq!(parsed["resource"][0]["ssot"][0].as_str(), Some("app::jobs"));
        assert_eq!(
            parsed["deprecated"]["app::core::db"].as_str(),
            Some("app::db")
        );
        assert!(text.contains(
            "# sql (postgres): presumed SSOT `app::db` (it holds the pool/client in a global); owners `app::db`, `app::other` (SSOT006 at src/other.rs:3)"
        ));
    }
}
