//! One Rust file (module `input` of a fixed package, through the overlay: nothing written
//! per input) → parse → module tree → resolve → every rule → every printer.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ssot_lint_fuzz::init();
    let text = String::from_utf8_lossy(data).into_owned();
    let root = ssot_lint_fuzz::fixed_tree();
    let mut opts = ssot_lint::LintOptions {
        start: Some(root.to_path_buf()),
        ..Default::default()
    };
    opts.overlay.insert(root.join("src/input.rs"), text);
    match ssot_lint::lint(&opts) {
        Ok(outcome) => ssot_lint_fuzz::check_outcome(&outcome),
        Err(e) => panic!("a Rust file made the run fail: {e}"),
    }
});
