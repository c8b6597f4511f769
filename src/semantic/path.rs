//! Module paths, typed: `app::db::pool` as its segments, crate name first.

use std::cmp::Ordering;
use std::fmt;

/// A module's path from its crate: `[app, db, pool]` for `app::db::pool`. Membership
/// ("inside the SSOT", "a descendant of this owner") compares whole segments.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ModPath(Vec<String>);

impl ModPath {
    pub fn new(segs: Vec<String>) -> Self {
        ModPath(segs)
    }

    pub fn segs(&self) -> &[String] {
        &self.0
    }

    /// A crate root (`app`) or nothing.
    pub fn is_crate_root(&self) -> bool {
        self.0.len() < 2
    }

    /// This module is `ancestor` or one of its descendants.
    pub fn is_within(&self, ancestor: &ModPath) -> bool {
        self.0.starts_with(&ancestor.0)
    }

    /// This module is a descendant of `ancestor` (not `ancestor` itself).
    pub fn is_below(&self, ancestor: &ModPath) -> bool {
        self.0.len() > ancestor.0.len() && self.is_within(ancestor)
    }

    /// The bytes of `a::b::c`, without building the string.
    fn text_bytes(&self) -> impl Iterator<Item = u8> + '_ {
        self.0.iter().enumerate().flat_map(|(i, s)| {
            let sep: &[u8] = if i == 0 { b"" } else { b"::" };
            sep.iter().chain(s.as_bytes()).copied()
        })
    }
}

impl From<&[String]> for ModPath {
    fn from(segs: &[String]) -> Self {
        ModPath(segs.to_vec())
    }
}

impl fmt::Display for ModPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("::")?;
            }
            f.write_str(s)?;
        }
        Ok(())
    }
}

/// Ordered as the text `a::b::c` is, so that lists of modules keep the order messages and
/// reports have always shown (`a::b` < `a0`, which segment order would invert).
impl Ord for ModPath {
    fn cmp(&self, other: &Self) -> Ordering {
        self.text_bytes().cmp(other.text_bytes())
    }
}

impl PartialOrd for ModPath {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::ModPath;

    fn p(s: &str) -> ModPath {
        ModPath::new(s.split("::").map(str::to_string).collect())
    }

    #[test]
    fn membership_is_by_segment() {
        assert!(p("app::db::pool").is_within(&p("app::db")));
        assert!(p("app::db").is_within(&p("app::db")));
        assert!(!p("app::db").is_below(&p("app::db")));
        assert!(p("app::db::pool").is_below(&p("app::db")));
        assert!(!p("app::db_old").is_within(&p("app::db")));
        assert!(p("app").is_crate_root() && !p("app::db").is_crate_root());
    }

    #[test]
    fn ordered_like_the_text() {
        let mut v = [p("a0"), p("a::b"), p("a"), p("a_c"), p("A::z")];
        v.sort();
        let text: Vec<String> = v.iter().map(ToString::to_string).collect();
        let mut want = text.clone();
        want.sort();
        assert_eq!(text, want);
        assert_eq!(p("app::db").to_string(), "app::db");
    }
}
