//! Embeds every `lints/*.toml` rule pack into the binary (no runtime file lookup).
use std::fmt::Write as _;

fn main() {
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
