//! Arbitrary TOML as `ssot-lint.toml` (with its `[[pack]]` tables) and as a rule pack in
//! `lints/`: loads or is an error that renders, never a panic.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use ssot_lint::packs::{PackIndex, RulePackSource};

fn builtin() -> &'static PackIndex {
    static B: OnceLock<PackIndex> = OnceLock::new();
    B.get_or_init(|| PackIndex::builtin().expect("builtin packs"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut packs = std::sync::Arc::new(builtin().clone());
    if let Err(e) = ssot_lint::config::parse_file(Path::new("ssot-lint.toml"), text, &mut packs) {
        let _ = ssot_lint_fuzz::render_error(&e);
    }
    let mut packs = builtin().clone();
    match toml::from_str::<RulePackSource>(text) {
        Ok(src) => {
            if let Err(e) = packs.add(src, Path::new("lints/fuzz.toml"), text) {
                let _ = ssot_lint_fuzz::render_error(&e);
            }
        }
        Err(_) => {}
    }
});
