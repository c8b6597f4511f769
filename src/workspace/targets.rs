//! A package's targets as cargo finds them: the ones its manifest declares, the conventional
//! paths (`src/lib.rs`, `src/main.rs`, `src/bin/`, `tests/`, `examples/`, `benches/`,
//! `build.rs`), and whether each file may be read.

use super::*;

/// Whether a target file may be read: a regular file inside `root`. A path the manifest
/// declares that does not exist is a warning naming the manifest line (cargo would not
/// build it either); one that exists but cannot be read here (outside the workspace, a
/// FIFO, too large) is a problem: the target would be built, so it is a finding, never
/// dropped. A conventional path that does not exist is no target.
fn target_ok(
    fs: &dyn FileSystem,
    path: &Path,
    declared: Option<&str>,
    manifest: &Path,
    text: &str,
    root: &Path,
    skipped: &mut Skipped,
) -> bool {
    let e = match fs.check(path, Some(root)) {
        Ok(_) => return true,
        Err(crate::vfs::ReadError::Missing) if declared.is_none() => return false,
        Err(e) => e,
    };
    let (what, needle) = match declared {
        Some(d) => (format!("target path `{d}`"), Some(format!("\"{d}\""))),
        None => (
            format!(
                "target file {}",
                path.strip_prefix(manifest.parent().unwrap_or(root))
                    .unwrap_or(path)
                    .display()
            ),
            None,
        ),
    };
    if matches!(e, crate::vfs::ReadError::Missing) {
        let at = match needle.as_deref().and_then(|n| line_of(text, n)) {
            Some(l) => format!("{}:{l}", manifest.display()),
            None => manifest.display().to_string(),
        };
        skipped
            .warnings
            .push(format!("{at}: {what}: {e}; target skipped"));
        return false;
    }
    let span = needle
        .as_deref()
        .and_then(|n| text.find(n).map(|i| i..i + n.len()));
    skipped.problems.push(Problem {
        manifest: manifest.to_path_buf(),
        text: Some(text.to_string()),
        span,
        message: format!("{what}: {e}; target not linted"),
    });
    false
}

pub(super) fn targets(
    fs: &dyn FileSystem,
    dir: &Path,
    pkg_name: &str,
    t: &toml::Table,
    text: &str,
    root: &Path,
    skipped: &mut Skipped,
) -> Vec<Target> {
    let manifest = dir.join("Cargo.toml");
    let mut ok = |path: &Path, declared: Option<&str>| {
        target_ok(fs, path, declared, &manifest, text, root, skipped)
    };
    let mut out: Vec<Target> = Vec::new();
    let auto = |key: &str| {
        t.get("package")
            .and_then(|p| p.get(key))
            .and_then(|v| v.as_bool())
            != Some(false)
    };
    // lib
    let lib = t.get("lib").and_then(|l| l.as_table());
    let lib_declared = lib.and_then(|l| l.get("path")).and_then(|p| p.as_str());
    let lib_path = lib_declared
        .map(|p| dir.join(p))
        .unwrap_or_else(|| dir.join("src/lib.rs"));
    if ok(&lib_path, lib_declared) {
        let name = lib
            .and_then(|l| l.get("name"))
            .and_then(|n| n.as_str())
            .unwrap_or(pkg_name);
        out.push(Target {
            kind: TargetKind::Lib,
            name: underscore(name),
            root: lib_path,
        });
    }
    // explicit [[bin]], [[test]], [[bench]], [[example]]
    for (key, kind, auto_dir) in [
        ("bin", TargetKind::Bin, "src/bin"),
        ("test", TargetKind::Test, "tests"),
        ("bench", TargetKind::Bench, "benches"),
        ("example", TargetKind::Example, "examples"),
    ] {
        if let Some(arr) = t.get(key).and_then(|v| v.as_array()) {
            for e in arr {
                let Some(name) = e.get("name").and_then(|n| n.as_str()) else {
                    continue;
                };
                let declared = e.get("path").and_then(|p| p.as_str());
                let path = match declared {
                    Some(p) => dir.join(p),
                    None if kind == TargetKind::Bin && name == pkg_name => dir.join("src/main.rs"),
                    None => {
                        let f = dir.join(auto_dir).join(format!("{name}.rs"));
                        if fs.is_file(&f) {
                            f
                        } else {
                            dir.join(auto_dir).join(name).join("main.rs")
                        }
                    }
                };
                if ok(&path, declared) {
                    out.push(Target {
                        kind,
                        name: underscore(name),
                        root: path,
                    });
                }
            }
        }
        let auto_key = format!("auto{key}s");
        let auto_key = if key == "bench" {
            "autobenches".to_string()
        } else {
            auto_key
        };
        if !auto(&auto_key) {
            continue;
        }
        if kind == TargetKind::Bin {
            let main = dir.join("src/main.rs");
            if !out.iter().any(|t| t.root == main) && ok(&main, None) {
                out.push(Target {
                    kind,
                    name: underscore(pkg_name),
                    root: main,
                });
            }
        }
        let d = dir.join(auto_dir);
        let Ok(rd) = fs.read_dir(&d) else {
            continue;
        };
        let mut found: Vec<(String, PathBuf)> = Vec::new();
        for e in rd {
            let p = e.path;
            let is_dir = fs.is_dir(&p);
            if !is_dir && p.extension().is_some_and(|x| x == "rs") {
                if !ok(&p, None) {
                    continue;
                }
                let stem = p
                    .file_stem()
                    .map(|s| s.to_string_lossy().to_string())
                    .unwrap_or_default();
                found.push((stem, p));
            } else if is_dir && ok(&p.join("main.rs"), None) {
                let stem = p
                    .file_name()
                    .map(|s| s.to_string_lossy().to_string())
                    .unwrap_or_default();
                found.push((stem, p.join("main.rs")));
            }
        }
        found.sort();
        // Targets already listed, by root (a set: 4,000 binaries took a second comparing
        // each with every other).
        let mut roots: std::collections::HashSet<PathBuf> =
            out.iter().map(|t| t.root.clone()).collect();
        for (name, p) in found {
            if roots.insert(p.clone()) {
                out.push(Target {
                    kind,
                    name: underscore(&name),
                    root: p,
                });
            }
        }
    }
    // build script
    let (build, build_declared) = match t.get("package").and_then(|p| p.get("build")) {
        Some(toml::Value::String(s)) => (Some(dir.join(s)), Some(s.as_str())),
        Some(toml::Value::Boolean(false)) => (None, None),
        _ => (Some(dir.join("build.rs")), None),
    };
    if let Some(b) = build
        && ok(&b, build_declared)
    {
        out.push(Target {
            kind: TargetKind::BuildScript,
            name: "build_script_build".into(),
            root: b,
        });
    }
    out
}
