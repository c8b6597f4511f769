//! Whether a `#[cfg(..)]` attribute makes its item test code: the item is compiled only
//! when testing, whatever else is configured. The predicate is evaluated in three-valued
//! logic with `test` (and `doctest`, set only by rustdoc) false and every other option
//! unknown; it is test code when the result is false for certain. So `cfg(test)`,
//! `cfg(all(test, unix))` and `cfg(not(not(test)))` are test code; `cfg(any(test, unix))`,
//! `cfg(not(test))` and `cfg(feature = "testing")` are not (they are built on some ordinary
//! configuration). A predicate that does not parse is not test code: its item is checked.
//! Once the features that only test builds enable are known (a package's `testing` feature
//! that the workspace turns on only in `[dev-dependencies]`), they count as false too
//! ([`attr_is_cfg_test_with`]): the crate graph applies that to `mod` declarations.

/// Kleene truth value.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tv {
    False,
    Unknown,
    True,
}

/// A token of a cfg predicate.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tok<'a> {
    Ident(&'a str),
    /// A string literal's text between the quotes (escapes as written).
    Str(&'a str),
    Open,
    Close,
    Comma,
    Eq,
}

/// Nesting bound: a deeper predicate is not test code (and costs nothing).
const MAX_DEPTH: usize = 64;

fn tokens(s: &str) -> Option<Vec<Tok<'_>>> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'(' => {
                out.push(Tok::Open);
                i += 1;
            }
            b')' => {
                out.push(Tok::Close);
                i += 1;
            }
            b',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            b'=' => {
                out.push(Tok::Eq);
                i += 1;
            }
            b'"' => {
                i += 1;
                let start = i;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                if i >= b.len() {
                    return None;
                }
                out.push(Tok::Str(s.get(start..i)?));
                i += 1;
            }
            _ if c == b'_' || c.is_ascii_alphanumeric() || c == b':' || c >= 0x80 => {
                let start = i;
                while i < b.len()
                    && (b[i] == b'_'
                        || b[i].is_ascii_alphanumeric()
                        || b[i] == b':'
                        || b[i] >= 0x80)
                {
                    i += 1;
                }
                let word = s.get(start..i)?;
                out.push(Tok::Ident(word.strip_prefix("r#").unwrap_or(word)));
            }
            _ => return None,
        }
    }
    Some(out)
}

struct Parser<'t, 'a> {
    toks: &'t [Tok<'a>],
    at: usize,
    /// Features known to be off outside tests (see [`predicate_is_test_only_with`]).
    off: &'t dyn Fn(&str) -> bool,
}

impl<'a> Parser<'_, 'a> {
    fn next(&mut self) -> Option<Tok<'a>> {
        let t = self.toks.get(self.at).copied();
        self.at += 1;
        t
    }

    fn peek(&self) -> Option<Tok<'a>> {
        self.toks.get(self.at).copied()
    }

    fn expect(&mut self, want: Tok<'a>) -> Option<()> {
        (self.next()? == want).then_some(())
    }

    /// One predicate, evaluated.
    fn pred(&mut self, depth: usize) -> Option<Tv> {
        if depth > MAX_DEPTH {
            return None;
        }
        let Tok::Ident(name) = self.next()? else {
            return None;
        };
        match (name, self.peek()) {
            ("all" | "any", Some(Tok::Open)) => {
                self.next();
                let all = name == "all";
                let mut acc = if all { Tv::True } else { Tv::False };
                loop {
                    if self.peek() == Some(Tok::Close) {
                        self.next();
                        return Some(acc);
                    }
                    let v = self.pred(depth + 1)?;
                    acc = match (all, acc, v) {
                        (true, Tv::False, _) | (true, _, Tv::False) => Tv::False,
                        (true, Tv::True, Tv::True) => Tv::True,
                        (true, _, _) => Tv::Unknown,
                        (false, Tv::True, _) | (false, _, Tv::True) => Tv::True,
                        (false, Tv::False, Tv::False) => Tv::False,
                        (false, _, _) => Tv::Unknown,
                    };
                    match self.next()? {
                        Tok::Comma => {}
                        Tok::Close => return Some(acc),
                        _ => return None,
                    }
                }
            }
            ("not", Some(Tok::Open)) => {
                self.next();
                let v = self.pred(depth + 1)?;
                if self.peek() == Some(Tok::Comma) {
                    self.next();
                }
                self.expect(Tok::Close)?;
                Some(match v {
                    Tv::True => Tv::False,
                    Tv::False => Tv::True,
                    Tv::Unknown => Tv::Unknown,
                })
            }
            (_, Some(Tok::Eq)) => {
                self.next();
                let Tok::Str(value) = self.next()? else {
                    return None;
                };
                Some(if name == "feature" && (self.off)(value) {
                    Tv::False
                } else {
                    Tv::Unknown
                })
            }
            ("test" | "doctest", _) => Some(Tv::False),
            _ => Some(Tv::Unknown),
        }
    }
}

/// Whether the predicate text (what is inside `cfg( .. )`) is false whenever `test` is.
pub fn predicate_is_test_only(pred: &str) -> bool {
    predicate_is_test_only_with(pred, &|_| false)
}

/// Whether the predicate text is false whenever `test` is and every feature `off` names is
/// off too: the features that only test builds enable (a `testing` feature that packages
/// turn on only in their `[dev-dependencies]`).
pub fn predicate_is_test_only_with(pred: &str, off: &dyn Fn(&str) -> bool) -> bool {
    let Some(toks) = tokens(pred) else {
        return false;
    };
    let mut p = Parser {
        toks: &toks,
        at: 0,
        off,
    };
    matches!(p.pred(0), Some(Tv::False))
        && (p.at == toks.len() || (p.at + 1 == toks.len() && toks[p.at] == Tok::Comma))
}

/// Whether an attribute's text (`#[cfg(..)]` or `#![cfg(..)]`) makes its item test code.
pub fn attr_is_cfg_test(text: &str) -> bool {
    attr_is_cfg_test_with(text, &|_| false)
}

/// [`attr_is_cfg_test`] with the features `off` names off outside tests.
pub fn attr_is_cfg_test_with(text: &str, off: &dyn Fn(&str) -> bool) -> bool {
    let t = text.trim_start();
    let Some(t) = t.strip_prefix('#') else {
        return false;
    };
    let t = t.trim_start();
    let t = t.strip_prefix('!').unwrap_or(t).trim_start();
    let Some(t) = t
        .strip_prefix('[')
        .and_then(|t| t.trim_end().strip_suffix(']'))
    else {
        return false;
    };
    let Some(t) = t.trim().strip_prefix("cfg") else {
        return false;
    };
    let Some(inner) = t
        .trim_start()
        .strip_prefix('(')
        .and_then(|t| t.trim_end().strip_suffix(')'))
    else {
        return false;
    };
    predicate_is_test_only_with(inner, off)
}

/// Whether a `#[cfg(..)]` attribute's text could make its item test code once the
/// features only test builds enable are known: it names a feature and is not test code
/// already. Such attributes of `mod` declarations are kept (`ModDecl::feature_cfgs`).
pub fn attr_names_feature(text: &str) -> bool {
    let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    (t.starts_with("#[cfg(") || t.starts_with("#![cfg("))
        && t.contains("feature=")
        && !attr_is_cfg_test(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_predicate_false_without_test_is_test_code() {
        for (attr, want) in [
            ("#[cfg(test)]", true),
            ("#![cfg(test)]", true),
            ("# [ cfg ( test ) ]", true),
            ("#[cfg(all(test, unix))]", true),
            ("#[cfg(all(unix, test, feature = \"x\"))]", true),
            ("#[cfg(not(not(test)))]", true),
            ("#[cfg(any(test, doctest))]", true),
            ("#[cfg(any(test,))]", true),
            ("#[cfg(test,)]", true),
            ("#[cfg(any(test, unix))]", false),
            ("#[cfg(any(unix, test))]", false),
            ("#[cfg(not(test))]", false),
            ("#[cfg(all(not(test), unix))]", false),
            ("#[cfg(feature = \"testing\")]", false),
            ("#[cfg(feature = \"test\")]", false),
            ("#[cfg(testing)]", false),
            ("#[cfg(tests)]", false),
            ("#[cfg(unix)]", false),
            ("#[cfg(any())]", true),
            ("#[cfg(all())]", false),
            ("#[cfg_attr(test, allow(x))]", false),
            ("#[test]", false),
            ("#[cfg(test", false),
            ("#[cfg(all(test, \"x))]", false),
            ("#[cfg(test test)]", false),
        ] {
            assert_eq!(attr_is_cfg_test(attr), want, "{attr}");
        }
    }

    /// A feature only test builds enable counts as off outside tests.
    #[test]
    fn features_off_outside_tests() {
        let off = |f: &str| f == "testing";
        for (attr, want) in [
            ("#[cfg(feature = \"testing\")]", true),
            ("#[cfg(any(test, feature = \"testing\"))]", true),
            (
                "#[cfg(any(feature = \"testing\", feature = \"db\"))]",
                false,
            ),
            ("#[cfg(all(feature = \"db\", feature = \"testing\"))]", true),
            ("#[cfg(not(feature = \"testing\"))]", false),
            ("#[cfg(feature = \"db\")]", false),
            ("#[cfg(testing = \"testing\")]", false),
        ] {
            assert_eq!(attr_is_cfg_test_with(attr, &off), want, "{attr}");
            assert!(
                !attr_is_cfg_test(attr),
                "{attr}: not test code without the features"
            );
        }
        assert!(attr_names_feature(
            "#[cfg(any(test, feature = \"testing\"))]"
        ));
        assert!(!attr_names_feature(
            "#[cfg(all(test, feature = \"testing\"))]"
        ));
        assert!(!attr_names_feature("#[cfg(unix)]"));
    }

    #[test]
    fn deep_predicates_are_bounded() {
        let deep = format!(
            "#[cfg({}test{})]",
            "not(not(".repeat(10_000),
            "))".repeat(10_000)
        );
        assert!(!attr_is_cfg_test(&deep));
    }
}
