//! `[allow] paths` globs (issue 23): each line of the input is a glob, written into a config
//! as a TOML string (valid TOML, so what is fuzzed is the globs and their bounds: count,
//! length, total, a set too large to compile). An input whose first line is `raw` goes into
//! `paths = [...]` as it is instead, after a line of about 70,000 bytes when that line says
//! `far`, so that TOML and glob errors land past miette's column limit. The config loads
//! (and every line is matched as a path), or is an error that renders; never a panic.
#![no_main]

use std::path::Path;
use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use ssot_lint::packs::PackIndex;

fn builtin() -> &'static PackIndex {
    static B: OnceLock<PackIndex> = OnceLock::new();
    B.get_or_init(|| PackIndex::builtin().expect("builtin packs"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (first, body) = text.split_once('\n').unwrap_or((text, ""));
    let config = if first.starts_with("raw") {
        let pad = if first.contains("far") {
            "\"src/pad/*.rs\", ".repeat(4500)
        } else {
            String::new()
        };
        format!("[ssot]\nmodules = [\"app::db\"]\n[allow]\npaths = [{pad}{body}]\n")
    } else {
        let globs: Vec<String> = text
            .lines()
            .map(|l| toml::Value::String(l.to_string()).to_string())
            .collect();
        format!(
            "[ssot]\nmodules = [\"app::db\"]\n[allow]\npaths = [{}]\n",
            globs.join(", ")
        )
    };
    let mut packs = Arc::new(builtin().clone());
    match ssot_lint::config::parse_file(Path::new("ssot-lint.toml"), &config, &mut packs) {
        Ok(cfg) => {
            for l in text.lines() {
                let _ = cfg.allow_paths.is_match(l);
            }
        }
        Err(e) => {
            let _ = ssot_lint_fuzz::render_error(&e);
        }
    }
});
