//! One Rust file (module `input` of a fixed package, through the overlay: nothing written
//! per input) → parse → module tree → resolve → every rule → every printer.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ssot_lint_fuzz::init();
    let text = String::from_utf8_lossy(data).into_owned();
    let root = ssot_lint_fuzz::fixed_tree();
    let opts = ssot_lint::LintOptions {
        start: Some(root.to_path_buf()),
        ..Default::default()
    };
    let mut view = ssot_lint::vfs::Overlay::new(&ssot_lint::vfs::Disk);
    view.insert(&root.join("src/input.rs"), text);
    match ssot_lint::lint(&view, &opts) {
        Ok(outcome) => ssot_lint_fuzz::check_outcome(&outcome),
        Err(e) => panic!("a Rust file made the run fail: {e}"),
    }
});
