//! Which features of a package only test builds turn on, as cargo would resolve them across
//! the workspace: a `testing` feature that other packages (or the package itself) enable
//! only from `[dev-dependencies]` entries, never from `default`, a normal or build
//! dependency, or a feature that one of those turns on. Code behind such a feature
//! (`#[cfg(feature = "testing")] pub mod testing;`) is test support, not a program's.
//!
//! A feature that nothing in the workspace enables is not test-only: a downstream user may
//! turn it on (`postgres`, `redis`).

use std::collections::{BTreeMap, BTreeSet};

use super::{DepKind, Package, underscore};

/// A manifest's `[features]` table: each feature and what it turns on.
pub fn table(v: Option<&toml::Value>) -> BTreeMap<String, Vec<String>> {
    v.and_then(|v| v.as_table())
        .map(|t| {
            t.iter()
                .map(|(k, v)| (k.clone(), strings(Some(v))))
                .collect()
        })
        .unwrap_or_default()
}

/// An array of strings (`features = ["testing"]`); anything else is none.
pub fn strings(v: Option<&toml::Value>) -> Vec<String> {
    v.and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Per package (same order), the features only test builds enable.
pub fn test_only(packages: &[Package]) -> Vec<BTreeSet<String>> {
    let index: BTreeMap<String, usize> = packages
        .iter()
        .enumerate()
        .map(|(i, p)| (underscore(&p.name), i))
        .collect();
    let mut prod: Vec<(usize, String)> = Vec::new();
    let mut test: Vec<(usize, String)> = Vec::new();
    for (i, p) in packages.iter().enumerate() {
        prod.push((i, "default".to_string()));
        for d in &p.deps {
            let Some(&q) = index.get(&d.package) else {
                continue;
            };
            let seeds = if d.kind == DepKind::Dev {
                &mut test
            } else {
                &mut prod
            };
            if d.default_features {
                seeds.push((q, "default".to_string()));
            }
            seeds.extend(d.features.iter().map(|f| (q, f.clone())));
        }
    }
    let prod = closure(packages, &index, prod);
    let test = closure(packages, &index, test);
    let mut out = vec![BTreeSet::new(); packages.len()];
    for (i, f) in test.difference(&prod) {
        out[*i].insert(f.clone());
    }
    out
}

/// Every (package, feature) the seeds turn on, through `[features]` lists: `f` (a feature of
/// the same package), `dep/f` and `dep?/f` (a feature of a workspace dependency).
fn closure(
    packages: &[Package],
    index: &BTreeMap<String, usize>,
    seeds: Vec<(usize, String)>,
) -> BTreeSet<(usize, String)> {
    let mut on: BTreeSet<(usize, String)> = BTreeSet::new();
    let mut stack = seeds;
    while let Some((p, f)) = stack.pop() {
        if !on.insert((p, f.clone())) {
            continue;
        }
        let Some(list) = packages[p].features.get(&f) else {
            continue;
        };
        for item in list {
            if item.starts_with("dep:") {
                continue;
            }
            match item.split_once('/') {
                Some((dep, feat)) => {
                    let dep = dep.trim_end_matches('?');
                    let target = packages[p]
                        .deps
                        .iter()
                        .find(|d| d.extern_name == underscore(dep))
                        .and_then(|d| index.get(&d.package));
                    if let Some(&q) = target {
                        stack.push((q, feat.to_string()));
                    }
                }
                None => stack.push((p, item.clone())),
            }
        }
    }
    on
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::workspace::Dependency;

    fn pkg(name: &str, features: &[(&str, &[&str])], deps: &[(&str, DepKind, &[&str])]) -> Package {
        Package {
            name: name.to_string(),
            dir: PathBuf::new(),
            manifest: PathBuf::new(),
            edition: ra_ap_syntax::Edition::Edition2021,
            targets: Vec::new(),
            deps: deps
                .iter()
                .map(|(d, kind, fs)| Dependency {
                    extern_name: underscore(d),
                    package: underscore(d),
                    path: None,
                    kind: *kind,
                    features: fs.iter().map(|f| f.to_string()).collect(),
                    default_features: true,
                })
                .collect(),
            features: features
                .iter()
                .map(|(f, l)| (f.to_string(), l.iter().map(|x| x.to_string()).collect()))
                .collect(),
            test_features: BTreeSet::new(),
        }
    }

    /// `testing` turned on only by dev-dependencies (directly or through another package's
    /// test-only feature) is test-only; one a normal dependency or `default` turns on is
    /// not, nor one nothing turns on.
    #[test]
    fn only_dev_dependencies_make_a_feature_test_only() {
        let packages = vec![
            pkg(
                "db",
                &[
                    ("default", &["pool"]),
                    ("pool", &[]),
                    ("testing", &["dep:rand"]),
                    ("fixtures", &[]),
                    ("postgres", &[]),
                ],
                &[],
            ),
            pkg(
                "queue",
                &[("testing", &["db/testing"])],
                &[
                    ("db", DepKind::Normal, &[]),
                    ("queue", DepKind::Dev, &["testing"]),
                ],
            ),
            pkg(
                "web",
                &[],
                &[
                    ("db", DepKind::Normal, &["fixtures"]),
                    ("db", DepKind::Dev, &["fixtures"]),
                ],
            ),
        ];
        let got = test_only(&packages);
        assert_eq!(got[0], BTreeSet::from(["testing".to_string()]));
        assert_eq!(got[1], BTreeSet::from(["testing".to_string()]));
        assert!(got[2].is_empty());
    }
}
