//! SSOT004's fix: retire a legacy manager onto the SSOT.
//!
//! The manager's `Option<Pool>` field and its "initialized" flags go (declarations, struct
//! literals, writes); each accessor that failed when uninitialized returns what the SSOT's
//! accessor returns; each initialization method becomes an awaited warm-up of the SSOT that
//! returns its error; reads of a flag are `true` (the SSOT initializes on first use). What
//! holds the manager (a `static`, app state) then holds a stateless delegate. Every edit is
//! in the file that defines the type and its impl, sliced from the original text.

use ra_ap_syntax::Edition;

use crate::diagnostic::{Applicability, Edit, Fix};
use crate::parse::shape::{self, ListItem};
use crate::summary::{Chain, ChainRoot, FileSummary, ImportKind, Span};

/// What an accessor's replacement calls, and how: the SSOT's accessor.
#[derive(Debug, Clone)]
pub struct Accessor {
    /// The call without `.await`/`?`: `crate::database::pool()`.
    pub call: String,
    pub is_async: bool,
    pub returns_result: bool,
    /// Its return type, written so that it resolves in the manager's file (for an accessor
    /// whose signature must become the SSOT accessor's); `None` when not known.
    pub ret: Option<String>,
}

impl Accessor {
    /// `call` with `.await` when async.
    fn awaited(&self) -> String {
        if self.is_async {
            format!("{}.await", self.call)
        } else {
            self.call.clone()
        }
    }
}

/// The manager to retire, as the rule found it.
pub struct Manager<'a> {
    /// The type's name, its file's text, summary and edition.
    pub name: &'a str,
    pub text: &'a str,
    pub summary: &'a FileSummary,
    pub edition: Edition,
    /// The field that holds the pool in an `Option`.
    pub pool_field: &'a str,
    /// The fields of a flag type (`bool`, `AtomicBool`), by name: those an initialization
    /// method writes are the manager's "initialized" state.
    pub flag_fields: Vec<String>,
    /// Indices into the summary's `fns` of the type's methods that initialize it.
    pub init_fns: Vec<usize>,
    /// The failing reads of the pool field: the chain and the index of its failing method.
    pub failing: Vec<(&'a Chain, usize)>,
    pub accessor: Accessor,
}

/// The fix, and whether it changes a method's signature (`async`, the return type).
pub struct Retirement {
    pub fix: Fix,
    /// Methods whose signature changes.
    pub changed_signatures: Vec<String>,
}

/// Methods that leave a value where it was (reads of a flag).
const READS: &[&str] = &["load", "get", "clone", "read", "lock"];
/// Methods that write a flag or a cell.
const WRITES: &[&str] = &[
    "store", "set", "swap", "replace", "insert", "take", "fetch_or", "fetch_and", "write",
];
/// Methods before the failing one that make the value owned (`.clone().expect(..)`).
const OWNED: &[&str] = &["clone", "cloned", "load_full"];

/// The fix that retires `m`, or `None` when some use of its state is not one it can rewrite
/// (then nothing is offered: a partial rewrite would not compile).
pub fn retire(m: &Manager) -> Option<Retirement> {
    let shape = shape::type_shape(m.text, m.edition, m.name)?;
    if !shape.fields.iter().any(|f| f.name == m.pool_field) {
        return None;
    }
    let fns = &m.summary.fns;
    // The shape's methods that initialize, by their body's range.
    let init_methods: Vec<usize> = shape
        .methods
        .iter()
        .enumerate()
        .filter(|(_, sm)| {
            m.init_fns.iter().any(|&fi| {
                fns[fi].name == sm.name
                    && sm
                        .body
                        .as_ref()
                        .is_some_and(|b| fns[fi].span.start <= b.start && b.end <= fns[fi].span.end)
            })
        })
        .map(|(i, _)| i)
        .collect();
    if init_methods.is_empty() {
        return None;
    }
    let in_init = |at: u32| {
        init_methods.iter().any(|&mi| {
            shape.methods[mi]
                .body
                .as_ref()
                .is_some_and(|b| b.start <= at && at < b.end)
        })
    };
    // The flags: fields of a flag type that an initialization method writes.
    let flags: Vec<&str> = m
        .flag_fields
        .iter()
        .filter(|f| {
            shape.uses.iter().any(|u| {
                &u.field == *f
                    && in_init(u.span.start)
                    && (u.assigned || u.calls.iter().any(|c| WRITES.contains(&c.as_str())))
            })
        })
        .map(String::as_str)
        .collect();
    let removed = |f: &str| f == m.pool_field || flags.contains(&f);
    let mut edits: Vec<Edit> = Vec::new();
    let mut changed_signatures: Vec<String> = Vec::new();
    let mut made_async: Vec<usize> = Vec::new();
    let mut add_async = |edits: &mut Vec<Edit>, mi: usize, changed: &mut Vec<String>| {
        let sm = &shape.methods[mi];
        if !sm.is_async && !made_async.contains(&mi) {
            made_async.push(mi);
            edits.push(Edit {
                range: sm.fn_kw..sm.fn_kw,
                content: "async ".into(),
            });
            if !changed.contains(&sm.name) {
                changed.push(sm.name.clone());
            }
        }
    };

    // The state's declarations and initializers.
    edits.extend(list_removals(m.text, &shape.fields, &removed)?);
    for lit in &shape.literals {
        edits.extend(list_removals(m.text, lit, &removed)?);
    }

    // Initialization methods: an awaited warm-up of the SSOT that returns its error.
    for &mi in &init_methods {
        let sm = &shape.methods[mi];
        let f = fns.iter().find(|f| {
            f.name == sm.name
                && sm
                    .body
                    .as_ref()
                    .is_some_and(|b| f.span.start <= b.start && b.end <= f.span.end)
        })?;
        let body = sm.body.clone()?;
        if !f.returns_result || (m.accessor.is_async && !f.is_async) {
            return None;
        }
        let indent = indent_at(m.text, sm.fn_kw);
        let q = if m.accessor.returns_result { "?" } else { "" };
        edits.push(Edit {
            range: body,
            content: format!(
                "{{\n{indent}    {}{q};\n{indent}    Ok(())\n{indent}}}",
                m.accessor.awaited()
            ),
        });
    }

    // Accessors: the failing read becomes the SSOT accessor's value.
    let mut replaced: Vec<Span> = Vec::new();
    for (chain, failing) in &m.failing {
        if in_init(chain.span.start) {
            continue;
        }
        let mi = shape.methods.iter().position(|sm| {
            sm.body
                .as_ref()
                .is_some_and(|b| b.start <= chain.span.start && chain.span.end <= b.end)
        })?;
        let sm = &shape.methods[mi];
        let f = chain.func.map(|fi| &fns[fi])?;
        let method = &chain.methods[*failing];
        // Through the `?` right after the failing call, when there is one.
        let mut end = method.span.end;
        if m.text.as_bytes().get(end as usize) == Some(&b'?') {
            end += 1;
        }
        let owned = chain.methods[..*failing]
            .iter()
            .any(|x| OWNED.contains(&x.name.as_str()));
        let clone = if owned { ".clone()" } else { "" };
        let range = chain.root_span.start..end;
        // `ok_or(..)` without `?` gives a `Result`; the others, the pool.
        let gives_result = method.name.starts_with("ok_or") && end == method.span.end;
        let content = if f.returns_result || !m.accessor.returns_result {
            let q = if m.accessor.returns_result { "?" } else { "" };
            let pool = format!("{}{q}{clone}", m.accessor.awaited());
            if gives_result {
                format!("Ok({pool})")
            } else {
                pool
            }
        } else if sm.tail.as_ref() == Some(&chain.span)
            && *failing + 1 == chain.methods.len()
            && !owned
        {
            // `fn pool(&self) -> &Pool { self.pool.as_ref().expect(..) }`: the method
            // becomes the SSOT accessor, signature included.
            let ret = m.accessor.ret.clone()?;
            match &sm.ret {
                Some(r) => edits.push(Edit {
                    range: r.clone(),
                    content: ret,
                }),
                None => edits.push(Edit {
                    range: sm.params_end..sm.params_end,
                    content: format!(" -> {ret}"),
                }),
            }
            if !changed_signatures.contains(&sm.name) {
                changed_signatures.push(sm.name.clone());
            }
            m.accessor.awaited()
        } else {
            return None;
        };
        if m.accessor.is_async {
            add_async(&mut edits, mi, &mut changed_signatures);
        }
        replaced.push(range.clone());
        edits.push(Edit { range, content });
    }

    // Every other use of the state: flags read as `true`, writes gone, never-taken guards gone.
    for u in &shape.uses {
        if !removed(&u.field)
            || in_init(u.span.start)
            || replaced.iter().any(|r| r.start <= u.span.start && u.span.end <= r.end)
        {
            continue;
        }
        let is_pool = u.field == m.pool_field;
        let writes = u.assigned || u.calls.iter().any(|c| WRITES.contains(&c.as_str()));
        let value = if is_pool {
            match u.calls.as_slice() {
                [c] if c == "is_some" => Some(true),
                [c] if c == "is_none" => Some(false),
                _ => None,
            }
        } else if !writes && u.calls.iter().all(|c| READS.contains(&c.as_str())) {
            Some(true)
        } else {
            None
        };
        if writes && (!is_pool || u.assigned) {
            edits.push(Edit {
                range: whole_lines(m.text, u.stmt.clone()?),
                content: String::new(),
            });
            continue;
        }
        let value = value?;
        match &u.guard {
            // `if !self.initialized { .. }`: never taken any more.
            Some((stmt, negated)) if value == *negated => edits.push(Edit {
                range: whole_lines(m.text, stmt.clone()),
                content: String::new(),
            }),
            _ => edits.push(Edit {
                range: u.spine.clone(),
                content: value.to_string(),
            }),
        }
    }

    edits.sort_by_key(|e| (e.range.start, e.range.end));
    edits.dedup();
    if edits.windows(2).any(|w| w[0].range.end > w[1].range.start) {
        return None;
    }
    edits.extend(unused_imports(m.text, m.summary, &edits));
    edits.sort_by_key(|e| (e.range.start, e.range.end));
    Some(Retirement {
        fix: Fix {
            title: format!(
                "retire `{}` onto the SSOT accessor `{}`",
                m.name, m.accessor.call
            ),
            applicability: Applicability::Unsafe,
            edits,
        },
        changed_signatures,
    })
}

/// Edits removing the `use` items whose every name the edits take away: each name was
/// used in text the edits remove and is used nowhere else now.
fn unused_imports(text: &str, summary: &FileSummary, edits: &[Edit]) -> Vec<Edit> {
    let removed = |p: usize| {
        edits
            .iter()
            .any(|e| e.range.start as usize <= p && p < e.range.end as usize)
    };
    let mut items: Vec<(Span, Vec<&str>)> = Vec::new();
    for imp in summary.modules.iter().flat_map(|m| &m.imports) {
        let name = match &imp.kind {
            ImportKind::Named(n) => n.as_str(),
            _ => "",
        };
        match items.iter_mut().find(|(s, _)| *s == imp.item_span) {
            Some((_, names)) => names.push(name),
            None => items.push((imp.item_span.clone(), vec![name])),
        }
    }
    let mut out = Vec::new();
    for (item, names) in items {
        if removed(item.start as usize) {
            continue;
        }
        let gone = |name: &str| {
            let uses: Vec<usize> = word_positions(text, name)
                .filter(|&p| !(item.start as usize <= p && p < item.end as usize))
                .collect();
            !name.is_empty()
                && uses.iter().any(|&p| removed(p))
                && uses.iter().all(|&p| removed(p))
                && !edits
                    .iter()
                    .any(|e| word_positions(&e.content, name).next().is_some())
        };
        if names.iter().all(|n| gone(n)) {
            // With the blank line after it when one is left before it (or the file starts).
            let mut range = whole_lines(text, item);
            let (start, end) = (range.start as usize, range.end as usize);
            if (start == 0 || text[..start].ends_with("\n\n")) && text[end..].starts_with('\n') {
                range.end += 1;
            }
            out.push(Edit {
                range,
                content: String::new(),
            });
        }
    }
    out
}

/// Byte offsets where `word` occurs as a whole identifier.
fn word_positions<'a>(text: &'a str, word: &'a str) -> impl Iterator<Item = usize> + 'a {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).filter_map(move |(i, _)| {
        let before = text[..i].chars().next_back().is_some_and(ident);
        let after = text[i + word.len()..].chars().next().is_some_and(ident);
        (!word.is_empty() && !before && !after).then_some(i)
    })
}

/// Edits removing the items of a comma-separated list that `remove` names, with their
/// separators, leaving the others and the list's layout as they were.
fn list_removals(text: &str, items: &[ListItem], remove: &dyn Fn(&str) -> bool) -> Option<Vec<Edit>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < items.len() {
        if !remove(&items[i].name) {
            i += 1;
            continue;
        }
        let a = i;
        while i < items.len() && remove(&items[i].name) {
            i += 1;
        }
        let b = i - 1;
        let trailing = after_comma(text, items[b].span.end, false);
        let range = if i < items.len() {
            // A kept item follows: up to its start (separators and layout before it go).
            items[a].span.start..items[i].span.start
        } else if a > 0 {
            // The run ends the list. With a trailing comma (one item a line), the kept
            // item before keeps its comma; without, the run goes from that item's end.
            let kept = items[a - 1].span.end;
            if trailing > items[b].span.end {
                after_comma(text, kept, false)..trailing
            } else {
                kept..items[b].span.end
            }
        } else {
            // Every item goes (their whole lines, when they are alone on them).
            whole_lines(text, items[a].span.start..after_comma(text, items[b].span.end, true))
        };
        out.push(Edit {
            range,
            content: String::new(),
        });
    }
    Some(out)
}

/// `end`, or past the comma right after it (and, with `ws`, the blanks after that).
fn after_comma(text: &str, end: u32, ws: bool) -> u32 {
    let rest = &text[end as usize..];
    let t = rest.trim_start_matches([' ', '\t']);
    if let Some(after) = t.strip_prefix(',') {
        let mut n = (rest.len() - after.len()) as u32;
        if ws {
            n += (after.len() - after.trim_start_matches([' ', '\t']).len()) as u32;
        }
        end + n
    } else {
        end
    }
}

/// A statement's range grown to its whole lines when nothing else is on them.
fn whole_lines(text: &str, s: Span) -> Span {
    let start = text[..s.start as usize]
        .rfind('\n')
        .map(|i| i + 1)
        .unwrap_or(0);
    let end_nl = text[s.end as usize..].find('\n').map(|i| s.end as usize + i + 1);
    match end_nl {
        Some(end)
            if text[start..s.start as usize].trim().is_empty()
                && text[s.end as usize..end].trim().is_empty() =>
        {
            start as u32..end as u32
        }
        _ => s,
    }
}

/// The blanks that start the line of `at`.
fn indent_at(text: &str, at: u32) -> &str {
    let start = text[..at as usize].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line = &text[start..];
    &line[..line.len() - line.trim_start_matches([' ', '\t']).len()]
}

/// The failing reads of `field` that SSOT004 reports, in the methods of the file: the
/// chains rooted at `self.field`.
pub fn failing_reads<'a>(
    chains: &[&'a Chain],
    field: &str,
    failing: &dyn Fn(&Chain) -> Option<usize>,
) -> Vec<(&'a Chain, usize)> {
    chains
        .iter()
        .filter(|c| matches!(&c.root, ChainRoot::SelfField(f) if f == field))
        .filter_map(|c| failing(c).map(|i| (*c, i)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(text: &str, mut edits: Vec<Edit>) -> String {
        edits.sort_by_key(|e| std::cmp::Reverse(e.range.start));
        let mut s = text.to_string();
        for e in edits {
            s.replace_range(e.range.start as usize..e.range.end as usize, &e.content);
        }
        s
    }

    fn items(text: &str, names: &[&str]) -> Vec<ListItem> {
        let mut from = 0;
        names
            .iter()
            .map(|n| {
                let at = from + text[from..].find(n).expect("item");
                let end = text[at..]
                    .find([',', '}'])
                    .map(|i| at + i)
                    .unwrap_or(text.len());
                let end = at + text[at..end].trim_end().len();
                from = end;
                ListItem {
                    name: n.split(':').next().unwrap_or(n).trim().to_string(),
                    span: at as u32..end as u32,
                }
            })
            .collect()
    }

    #[test]
    fn lists_keep_their_layout() {
        let gone = |n: &str| n == "pool" || n == "ready";
        for (text, names, want) in [
            ("M { url, pool: None, ready: false }", &["url", "pool: None", "ready: false"][..], "M { url }"),
            ("M { pool: None, ready: false, url }", &["pool: None", "ready: false", "url"], "M { url }"),
            ("M { pool: None, url, ready: false }", &["pool: None", "url", "ready: false"], "M { url }"),
            (
                "M {\n    url,\n    pool: None,\n    ready: false,\n}",
                &["url", "pool: None", "ready: false"],
                "M {\n    url,\n}",
            ),
            (
                "M {\n    pool: None,\n    ready: false,\n    url,\n}",
                &["pool: None", "ready: false", "url"],
                "M {\n    url,\n}",
            ),
            ("M { pool: None, ready: false }", &["pool: None", "ready: false"], "M {  }"),
        ] {
            let edits = list_removals(text, &items(text, names), &gone).expect("edits");
            assert_eq!(apply(text, edits), want, "{text}");
        }
    }

    #[test]
    fn statements_take_their_lines() {
        let text = "{\n    a();\n    self.x = 1;\n    b();\n}";
        let at = text.find("self").expect("at") as u32;
        let s = whole_lines(text, at..at + 11);
        assert_eq!(apply(text, vec![Edit { range: s, content: String::new() }]), "{\n    a();\n    b();\n}");
        assert_eq!(indent_at(text, at), "    ");
    }
}
