//! Arbitrary cache files (issue 23, item 8). The first byte chooses the file: even
//! `summaries.bin`, odd `results.bin`; the rest is its body, sealed under the fuzzer's own
//! secret so that what lies behind the tag is what gets fuzzed (a tree cannot seal one: see
//! `src/cache/place.rs`). Held in memory (`ssot_lint::vfs::Memory`), nothing written to disk.
//!
//! What must hold: reading never panics; a summary taken from the file is used like a
//! computed one (rendered); rewriting the file never writes more than it held plus what the
//! run computed; every outcome reused from a results file names only plain paths below the
//! root.
#![no_main]

use std::path::{Path, PathBuf};

use libfuzzer_sys::fuzz_target;
use ssot_lint::cache::{Cache, Kind, Place};
use ssot_lint::vfs::{FileSystem, Memory};

/// Texts whose summaries are asked for (the second one twice: once per edition).
const TEXTS: [&str; 3] = [
    "use sqlx::PgPool;\nfn f() { let p = PgPool::connect(\"\"); }\n",
    "pub mod db;\npub mod input;\n",
    "fn main() {}\n",
];

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    let view = Memory::default();
    let place = Place::with_key(PathBuf::from("/cache"), [7; 32]);
    let root = Path::new("/fuzz/input");
    if which % 2 == 0 {
        ssot_lint::cache::write_checked(&view, &place, "summaries.bin", ssot_lint::cache::MAGIC, body)
            .expect("write");
        let cache = Cache::open(&view, place.clone());
        let mut computed = 0;
        for (i, text) in TEXTS.iter().enumerate() {
            let edition = if i == 1 {
                ra_ap_syntax::Edition::Edition2018
            } else {
                ra_ap_syntax::Edition::Edition2021
            };
            let s = cache.get_or(Kind::Summary, text, edition, || {
                let s = ssot_lint::parse::summarize(text, edition);
                computed += format!("{s:?}").len() * 4 + 4096;
                s
            });
            let _ = format!("{s:?}");
        }
        let _ = cache.save();
        if let Ok(after) = view.read_private(&place.dir.join("summaries.bin"), u64::MAX) {
            // Magic and tag, what the file held (a header at most as large again: one index
            // entry per stored entry), what was computed.
            let bound = 40 + 2 * body.len() + computed;
            assert!(
                after.len() <= bound,
                "a cache file of {} bytes was rewritten as {}",
                body.len(),
                after.len()
            );
        }
    } else {
        ssot_lint::cache::write_checked(&view, &place, "results.bin", ssot_lint::results::MAGIC, body)
            .expect("write");
        let results = ssot_lint::results::Results::open(&view, place.clone(), root, "fuzz");
        for (unit, key) in results.stored_units() {
            if let Some(o) = results.get(&unit, key) {
                let plain = |p: &str| {
                    Path::new(p)
                        .components()
                        .all(|c| matches!(c, std::path::Component::Normal(_)))
                };
                assert!(o.findings.iter().all(|f| plain(&f.file)));
                assert!(o.files.iter().all(|f| plain(f)));
                assert!(o.abs_paths.values().all(|a| a.starts_with(root)));
                ssot_lint_fuzz::check_outcome(&o);
            }
        }
        let _ = results.save();
    }
});
