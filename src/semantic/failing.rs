//! What a failing read is: a read of a holder that fails or panics when the holder is empty
//! (`POOL.get().expect(..)`, `self.pool.as_ref().ok_or(..)`, a `None` branch that returns an
//! error). SSOT004 reports them; SSOT007 follows the calls that reach them.

use crate::summary::{Branch, Chain, ChainContext, ChainRoot, Mark};

/// Reads that peek into a holder without initializing it.
pub const PEEK: &[&str] = &[
    "get",
    "as_ref",
    "as_deref",
    "as_mut",
    "clone",
    "cloned",
    "load",
    "load_full",
    "get_mut",
    "copied",
];
/// Methods that fail or panic on an empty holder.
pub const FAILING: &[&str] = &[
    "expect",
    "unwrap",
    "ok_or",
    "ok_or_else",
    "unwrap_unchecked",
];
/// Methods that fail only when the closure or default they take does.
pub const LAZY_DEFAULTS: &[&str] = &["unwrap_or_else", "map_or_else", "unwrap_or"];

/// A branch that fails rather than initializes: it returns an error or panics, and does not
/// initialize (`get_or_init`) instead.
pub fn fails(b: &Branch) -> bool {
    [
        Mark::ErrCall,
        Mark::Panic,
        Mark::Unreachable,
        Mark::Expect,
        Mark::Bail,
        Mark::Anyhow,
        Mark::Todo,
        Mark::Unimplemented,
    ]
    .into_iter()
    .any(|m| b.has(m))
        && !b.has(Mark::GetOrInit)
        && !b.has(Mark::GetOrTryInit)
}

/// Whether `chain` can be a failing read at all: it calls a failing method (or a lazy default
/// that may fail), or has `None` branches. Cheap: [`failing_method`] and [`failing_read`] are
/// `None`/`false` whenever this is `false`.
pub fn can_fail(chain: &Chain) -> bool {
    matches!(chain.context, ChainContext::NoneBranches(_))
        || chain
            .methods
            .iter()
            .any(|m| FAILING.contains(&m.name.as_str()) || LAZY_DEFAULTS.contains(&m.name.as_str()))
}

/// The failing method of a read (its index in the chain): a peek followed by a failing
/// method, or a failing method right on `self.field`; `unwrap_or_else(|| panic!(..))` and
/// the like fail too (`text`, the file's, tells: it is needed only for those).
pub fn failing_method(chain: &Chain, text: Option<&str>) -> Option<usize> {
    let name = |i: usize| chain.methods[i].name.as_str();
    let text_of = |r: &std::ops::Range<u32>| -> &str {
        text.and_then(|t| t.get(r.start as usize..r.end as usize))
            .unwrap_or_default()
    };
    let is_failing = |i: usize| -> bool {
        FAILING.contains(&name(i))
            || (LAZY_DEFAULTS.contains(&name(i))
                && ["panic!", "unreachable!", "expect(", "todo!"]
                    .iter()
                    .any(|p| text_of(&chain.methods[i].span).contains(p)))
    };
    let n = chain.methods.len();
    (1..n)
        .find(|&i| PEEK.contains(&name(i - 1)) && is_failing(i))
        .or_else(|| {
            (n > 0 && is_failing(0) && matches!(chain.root, ChainRoot::SelfField(_))).then_some(0)
        })
}

/// Whether `chain` reads a holder and fails when it is empty: a failing method, or a `None`
/// branch that fails after a peek.
pub fn failing_read(chain: &Chain, text: Option<&str>) -> bool {
    failing_method(chain, text).is_some()
        || (matches!(&chain.context, ChainContext::NoneBranches(bs) if bs.iter().any(fails))
            && chain
                .methods
                .last()
                .is_some_and(|n| PEEK.contains(&n.name.as_str())))
}
