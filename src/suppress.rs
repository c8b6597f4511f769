//! `// ssot-lint: allow(CODE) reason` comments: which findings they suppress. The parser
//! collects the comments (`FileSummary::suppressions`); SSOT100 reports the unused ones.

use std::collections::HashSet;

use crate::crates::CrateGraph;
use crate::diagnostic::Finding;
use crate::ids::FileId;

/// Mark the findings a comment on their line suppresses (`suppressed` holds the comment's
/// text) and return the comments used, as (file, index in the file's suppressions).
pub fn apply(g: &CrateGraph, findings: &mut [Finding]) -> HashSet<(FileId, usize)> {
    let mut used = HashSet::new();
    for f in findings.iter_mut() {
        let sups = &g.files[f.file_id].summary.suppressions;
        let hit = sups.iter().position(|s| {
            s.line == f.line
                && s.rules.iter().any(|r| {
                    r.eq_ignore_ascii_case(f.code.as_str()) || r.eq_ignore_ascii_case(f.name)
                })
        });
        if let Some(i) = hit {
            used.insert((f.file_id, i));
            let sp = &sups[i].span;
            let text = g.source(f.file_id);
            let comment = text
                .get(sp.start as usize..sp.end as usize)
                .unwrap_or("")
                .to_string();
            f.suppressed = Some(comment);
        }
    }
    used
}
