//! Embeds every `lints/*.toml` rule pack into the binary (no runtime file lookup).
use std::fmt::Write as _;

fn main() {
    source_hash();
    println!("cargo::rerun-if-changed=lints");
    let mut files: Vec<_> = std::fs::read_dir("lints")
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut out = String::from("&[\n");
    for f in files {
        println!("cargo::rerun-if-changed={}", f.display());
        let abs = std::fs::canonicalize(&f).expect("lints/ file path");
        let name = f
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            abs.display().to_string()
        )
        .ok();
    }
    out.push(']');
    let dest = std::path::Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR set by cargo"))
        .join("packs.rs");
    std::fs::write(dest, out).expect("write packs.rs");
}

/// `SSOT_LINT_SOURCE_HASH`: a hash of the sources and the lock file, part of the summary
/// cache's key (`src/cache.rs`): a build whose summaries may differ never reads another's.
fn source_hash() {
    use std::hash::{Hash, Hasher};
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    println!("cargo::rerun-if-changed=src");
    println!("cargo::rerun-if-changed=Cargo.lock");
    let mut files = Vec::new();
    walk(std::path::Path::new("src"), &mut files);
    files.push("Cargo.lock".into());
    files.sort();
    // SipHash with fixed keys: the same sources give the same hash.
    let mut h = std::hash::DefaultHasher::new();
    for f in files {
        f.hash(&mut h);
        std::fs::read(&f).unwrap_or_default().hash(&mut h);
    }
    println!("cargo::rustc-env=SSOT_LINT_SOURCE_HASH={:016x}", h.finish());
}
