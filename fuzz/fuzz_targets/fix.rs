//! The fixer over the `.rs` files of one input (in memory, `--diff` mode with unsafe fixes):
//! never panics; every fixed file has no more syntax errors than before; a second run over
//! the fixed texts changes nothing (or the first one stopped at the pass cap).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ssot_lint::fix::{FixError, FixMode, FixOptions, fix, syntax_errors};

fuzz_target!(|data: &[u8]| {
    ssot_lint_fuzz::init();
    let text = String::from_utf8_lossy(data);
    let root = ssot_lint_fuzz::fixed_tree();
    let opts = ssot_lint::LintOptions {
        start: Some(root.to_path_buf()),
        ..Default::default()
    };
    let mut view = ssot_lint::vfs::Overlay::new(&ssot_lint::vfs::Disk);
    for (rel, t) in ssot_lint_fuzz::split(&text) {
        if let Some(p) = ssot_lint_fuzz::in_fixed_tree(&rel) {
            view.insert(&p, t);
        }
    }
    let fo = FixOptions {
        level: ssot_lint::Applicability::Unsafe,
        mode: FixMode::Diff,
        allow_dirty: true,
    };
    let report = match fix(&view, &opts, &fo) {
        Ok(r) => r,
        Err(FixError::NotConverged { .. }) => return,
        Err(e) => panic!("the fixer failed: {e}"),
    };
    let _ = report.diff();
    for f in &report.files {
        assert!(
            syntax_errors(&f.after) <= syntax_errors(&f.before),
            "a fix broke {}:\n--- before\n{}\n--- after\n{}",
            f.file,
            f.before,
            f.after
        );
        view.insert(&f.path, f.after.clone());
    }
    match fix(&view, &opts, &fo) {
        Ok(again) => assert!(
            again.files.is_empty(),
            "a second run still fixes {:?}",
            again
                .files
                .iter()
                .map(|f| (&f.file, &f.after))
                .collect::<Vec<_>>()
        ),
        Err(e) => panic!("the second fix run failed: {e}"),
    }
});
