//! A small crate from one input (`//- /path` sections: module files, `#[path]` targets,
//! `Cargo.toml`, `ssot-lint.toml`), held in memory (nothing written per input) → the whole
//! run, with the prefilter (the default) and without.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ssot_lint_fuzz::init();
    let text = String::from_utf8_lossy(data);
    let files = ssot_lint_fuzz::split(&text);
    let (view, root) = ssot_lint_fuzz::memory_tree(&files);
    for no_prefilter in [false, true] {
        let opts = ssot_lint::LintOptions {
            start: Some(root.clone()),
            no_prefilter,
            ..Default::default()
        };
        match ssot_lint::lint(&view, &opts) {
            Ok(outcome) => ssot_lint_fuzz::check_outcome(&outcome),
            // A broken manifest or config is exit 2 with a message: it must render.
            Err(e) => {
                let _ = ssot_lint_fuzz::render_error(&e);
            }
        }
    }
});
