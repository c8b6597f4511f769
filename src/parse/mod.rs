//! Parse stage: one file's text to its [`FileSummary`], with `ra_ap_syntax`.
//!
//! The tree is walked once and dropped. Macro calls whose token trees parse as Rust
//! (items, statements or an argument list) are re-parsed and walked as if written in
//! place, with their ranges mapped back into the file.

use ra_ap_syntax::{
    AstNode, Edition, SourceFile, TextRange,
    ast::{self, HasAttrs, HasModuleItem, HasName, HasVisibility},
};

use crate::summary::*;
use attrs::{attrs_test, attrs_test_node, item_start_range, path_attr};

pub use attrs::cfg_attr_path;

mod attrs;
mod body;
pub mod cfg;
mod comments;
pub mod depth;
mod flow;
pub mod lexer;
mod macros;
mod paths;
pub mod scan;
pub mod shape;
pub mod skeleton;

/// Summarize a file's text. Never fails: syntax errors are recorded in the summary and the
/// recovered tree is still walked.
pub fn summarize(text: &str, edition: Edition) -> FileSummary {
    summarize_as(text, edition, None)
}

/// A file's module structure as [`summarize`] finds it, and nothing else: its modules with
/// their `mod` items, `mod` declarations and line starts (what the prefilter's lexer
/// skeleton holds, for a file whose `mod` items only a parse can place: in a macro call, a
/// function body). Only what can hold a `mod` is walked: a body or macro call whose text has
/// no `mod` word cannot declare one. No syntax errors: the caller parses a file whose errors
/// matter in full.
pub fn structure(text: &str, edition: Edition) -> FileSummary {
    let b = text.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mods: Vec<u32> = memchr::memmem::find_iter(b, b"mod")
        .filter(|&i| (i == 0 || !word(b[i - 1])) && b.get(i + 3).is_none_or(|&c| !word(c)))
        .map(|i| i as u32)
        .collect();
    let s = summarize_as(text, edition, Some(mods));
    FileSummary {
        modules: s
            .modules
            .into_iter()
            .map(|m| ModuleSummary {
                inline_path: m.inline_path,
                parent: m.parent,
                items: m
                    .items
                    .into_iter()
                    .filter(|i| i.kind == ItemKind::Mod)
                    .collect(),
                is_test: m.is_test,
                ..Default::default()
            })
            .collect(),
        mod_decls: s.mod_decls,
        line_count: s.line_count,
        ..Default::default()
    }
}

/// [`summarize`]; with `mods` (the offsets of every `mod` word), only the structure (see
/// [`structure`]).
fn summarize_as(text: &str, edition: Edition, mods: Option<Vec<u32>>) -> FileSummary {
    // A UTF-8 byte order mark is not code (rustc skips it); blanks keep every offset.
    let unmarked;
    let text = match text.strip_prefix('\u{feff}') {
        Some(rest) => {
            unmarked = format!("   {rest}");
            unmarked.as_str()
        }
        None => text,
    };
    // Too deep to parse without risking the stack: one syntax error, nothing else.
    if let Some(why) = depth::source_too_deep(text) {
        let mut out = FileSummary::default();
        out.modules.push(ModuleSummary::default());
        let at = why.at as u32;
        out.syntax_errors.push(SyntaxProblem {
            message: why.message,
            span: at..at + 1,
        });
        out.line_starts = line_starts(text);
        out.line_count = out.line_starts.len();
        return out;
    }
    let _turn = crate::parse::depth::large_parse_turn(text.len());
    let parse = SourceFile::parse(text, edition);
    let mut w = Walker {
        module_ranges: Vec::new(),
        out: FileSummary::default(),
        shift: 0,
        in_macro: false,
        depth: 0,
        edition,
        body_depth: 0,
        too_deep: None,
        mods,
    };
    if w.mods.is_some() {
        w.out.modules.push(ModuleSummary::default());
        let ctx = Ctx {
            module: 0,
            func: None,
            is_test: false,
            self_type: None,
        };
        w.walk_items(parse.tree().items(), &ctx);
        w.out.line_count = line_count(text);
        return w.out;
    }
    let errors = parse.errors();
    w.out.syntax_error_count = errors.len();
    w.out.syntax_errors = errors
        .into_iter()
        .take(MAX_SYNTAX_ERRORS)
        .map(|e| SyntaxProblem {
            message: e.to_string(),
            span: range(e.range()),
        })
        .collect();
    w.out.modules.push(ModuleSummary::default());
    let file = parse.tree();
    let ctx = Ctx {
        module: 0,
        func: None,
        is_test: false,
        self_type: None,
    };
    w.walk_items(file.items(), &ctx);
    if let Some(at) = w.too_deep {
        w.out.syntax_error_count += 1;
        w.out.syntax_errors.insert(
            0,
            SyntaxProblem {
                message: format!(
                    "expression nested more than {MAX_WALK_DEPTH} deep; not analysed past this point"
                ),
                span: at..at,
            },
        );
    }
    w.collect_paths(file.syntax());
    w.out.line_starts = line_starts(text);
    w.out.line_count = w.out.line_starts.len();
    if text.contains("ssot-lint:") {
        w.out.suppressions = comments::suppressions(file.syntax(), text);
    }
    w.out
}

/// How many lines `text` has (`line_starts(text).len()`).
pub fn line_count(text: &str) -> usize {
    memchr::memchr_iter(b'\n', text.as_bytes()).count() + 1
}

pub fn line_starts(text: &str) -> Vec<u32> {
    let b = text.as_bytes();
    let mut v = Vec::with_capacity(b.len() / 32 + 1);
    v.push(0);
    v.extend(memchr::memchr_iter(b'\n', b).map(|i| i as u32 + 1));
    v
}

/// An identifier as a name: `r#impl` is `impl` (the file of `mod r#impl;` is `impl.rs`).
fn ident(t: &str) -> String {
    t.strip_prefix("r#").unwrap_or(t).to_string()
}

/// For each point, the index of the shortest range `start <= point < end` containing it
/// (the first such range on ties), when ranges nest or are disjoint.
fn innermost(ranges: &[(u32, u32)], points: &[u32]) -> Vec<Option<usize>> {
    let mut order: Vec<usize> = (0..ranges.len()).collect();
    // Outer ranges first; among equal ranges the first index ends on top of the stack.
    order.sort_by_key(|&i| {
        (
            ranges[i].0,
            std::cmp::Reverse(ranges[i].1),
            std::cmp::Reverse(i),
        )
    });
    let mut by_point: Vec<usize> = (0..points.len()).collect();
    by_point.sort_by_key(|&i| points[i]);
    let mut out = vec![None; points.len()];
    let mut stack: Vec<usize> = Vec::new();
    let mut next = 0;
    for pi in by_point {
        let at = points[pi];
        while next < order.len() && ranges[order[next]].0 <= at {
            let r = order[next];
            while stack.last().is_some_and(|&t| ranges[t].1 <= ranges[r].0) {
                stack.pop();
            }
            stack.push(r);
            next += 1;
        }
        while stack.last().is_some_and(|&t| ranges[t].1 <= at) {
            stack.pop();
        }
        out[pi] = stack
            .iter()
            .rev()
            .find(|&&t| ranges[t].0 <= at && at < ranges[t].1)
            .copied();
    }
    out
}

fn range(r: TextRange) -> Span {
    u32::from(r.start())..u32::from(r.end())
}

#[derive(Clone)]
struct Ctx {
    module: usize,
    func: Option<usize>,
    is_test: bool,
    self_type: Option<RawPath>,
}

struct Walker {
    out: FileSummary,
    /// Ranges of inline modules (for placing paths collected after the walk).
    module_ranges: Vec<(TextRange, usize)>,
    /// Added to every offset of the tree being walked (non-zero inside re-parsed macros).
    shift: i64,
    in_macro: bool,
    depth: u32,
    edition: Edition,
    /// Recursion depth of `walk_body`, and where it first went past [`MAX_WALK_DEPTH`].
    body_depth: usize,
    too_deep: Option<u32>,
    /// Only the module structure ([`structure`]): the offsets of the `mod` words of the file.
    mods: Option<Vec<u32>>,
}

/// Syntax errors kept per file (the rest are counted).
pub const MAX_SYNTAX_ERRORS: usize = 100;

/// Tree depth `walk_body` descends to (a method chain or operator chain thousands long).
pub const MAX_WALK_DEPTH: usize = 3000;

impl Walker {
    /// Whether walking `r` can find a `mod` item: always, unless only the structure is
    /// wanted and no `mod` word lies in it.
    fn may_hold_mod(&self, r: TextRange) -> bool {
        let Some(mods) = &self.mods else { return true };
        let s = self.span(r);
        let at = mods.partition_point(|&m| m < s.start);
        mods.get(at).is_some_and(|&m| m < s.end)
    }

    fn span(&self, r: TextRange) -> Span {
        let s = (u32::from(r.start()) as i64 + self.shift).max(0) as u32;
        let e = (u32::from(r.end()) as i64 + self.shift).max(0) as u32;
        s..e
    }

    fn walk_items(&mut self, items: impl Iterator<Item = ast::Item>, ctx: &Ctx) {
        for item in items {
            self.walk_item(item, ctx);
        }
    }

    fn add_item(&mut self, ctx: &Ctx, def: ItemDef) {
        // An item inside a function is visible in that function only (and shadows imports
        // there); it is not a name of the module.
        match ctx.func {
            Some(f) => self.out.fns[f].local_items.push(def.name),
            None => self.out.modules[ctx.module].items.push(def),
        }
    }

    fn walk_item(&mut self, item: ast::Item, ctx: &Ctx) {
        let item_test = ctx.is_test || attrs_test(&item);
        match item {
            ast::Item::Use(u) => {
                let is_pub = u.visibility().is_some();
                let item_span = self.span(u.syntax().text_range());
                if let Some(tree) = u.use_tree() {
                    let mut imports = Vec::new();
                    self.flatten_use(
                        &tree,
                        &mut Vec::new(),
                        false,
                        is_pub,
                        &item_span,
                        &mut imports,
                    );
                    match ctx.func {
                        Some(f) => self.out.fns[f].local_imports.extend(imports),
                        None => self.out.modules[ctx.module].imports.extend(imports),
                    }
                }
            }
            ast::Item::ExternCrate(e) => {
                let Some(name) = e.name_ref().map(|n| n.text().to_string()) else {
                    return;
                };
                let bound = match e.rename() {
                    Some(r) => match r.name() {
                        Some(n) => n.text().to_string(),
                        None => return,
                    },
                    None => name.clone(),
                };
                self.out.modules[ctx.module]
                    .extern_crates
                    .push((name, bound));
            }
            ast::Item::Module(m) => {
                let Some(name) = m.name().map(|n| ident(n.text())) else {
                    return;
                };
                match m.item_list() {
                    Some(list) => {
                        let mut inline_path = self.out.modules[ctx.module].inline_path.clone();
                        inline_path.push(name.clone());
                        let idx = self.out.modules.len();
                        if !self.in_macro {
                            self.module_ranges.push((m.syntax().text_range(), idx));
                        }
                        self.out.modules.push(ModuleSummary {
                            inline_path,
                            parent: Some(ctx.module),
                            is_test: item_test,
                            ..Default::default()
                        });
                        self.add_item(
                            ctx,
                            ItemDef {
                                name,
                                kind: ItemKind::Mod,
                                module: Some(idx),
                                alias_of: None,
                                adt: None,
                                func: None,
                            },
                        );
                        let inner = Ctx {
                            module: idx,
                            func: None,
                            is_test: item_test,
                            self_type: None,
                        };
                        self.walk_items(list.items(), &inner);
                    }
                    None => {
                        // `mod x;` inside `cfg_if!`/`cfg_xxx! { .. }` wrappers counts too.
                        let path_attr = m.attrs().find_map(|a| path_attr(&a));
                        let cfg_path_attrs = m
                            .attrs()
                            .filter_map(|a| cfg_attr_path(&a.syntax().text().to_string()))
                            .collect();
                        let feature_cfgs = m
                            .attrs()
                            .map(|a| a.syntax().text().to_string())
                            .filter(|t| cfg::attr_names_feature(t))
                            .collect();
                        let span = m
                            .name()
                            .map(|n| self.span(n.syntax().text_range()))
                            .unwrap_or_default();
                        self.out.mod_decls.push(ModDecl {
                            name: name.clone(),
                            path_attr,
                            cfg_path_attrs,
                            is_test: item_test,
                            feature_cfgs,
                            parent: ctx.module,
                            span,
                        });
                        self.add_item(
                            ctx,
                            ItemDef {
                                name,
                                kind: ItemKind::Mod,
                                module: None,
                                alias_of: None,
                                adt: None,
                                func: None,
                            },
                        );
                    }
                }
            }
            ast::Item::Fn(f) => {
                let Some(name) = f.name().map(|n| ident(n.text())) else {
                    return;
                };
                let idx = self.walk_fn(&f, ctx, item_test);
                self.add_item(
                    ctx,
                    ItemDef {
                        name,
                        kind: ItemKind::Fn,
                        module: None,
                        alias_of: None,
                        adt: None,
                        func: Some(idx),
                    },
                );
            }
            ast::Item::Struct(s) => {
                let Some(name) = s.name().map(|n| ident(n.text())) else {
                    return;
                };
                let fields = s
                    .field_list()
                    .map(|fl| self.fields(&fl))
                    .unwrap_or_default();
                self.add_adt(ctx, name, fields);
            }
            ast::Item::Union(u) => {
                let Some(name) = u.name().map(|n| ident(n.text())) else {
                    return;
                };
                let fields = u
                    .record_field_list()
                    .map(|fl| self.fields(&ast::FieldList::RecordFieldList(fl)))
                    .unwrap_or_default();
                self.add_adt(ctx, name, fields);
            }
            ast::Item::Enum(e) => {
                let Some(name) = e.name().map(|n| ident(n.text())) else {
                    return;
                };
                let mut fields = Vec::new();
                if let Some(vl) = e.variant_list() {
                    for v in vl.variants() {
                        let vname = v.name().map(|n| n.text().to_string()).unwrap_or_default();
                        if let Some(fl) = v.field_list() {
                            for (f, t) in self.fields(&fl) {
                                fields.push((format!("{vname}.{f}"), t));
                            }
                        }
                    }
                }
                self.add_adt(ctx, name, fields);
            }
            ast::Item::TypeAlias(t) => {
                let Some(name) = t.name().map(|n| ident(n.text())) else {
                    return;
                };
                let alias_of = t.ty().map(|ty| self.raw_type(&ty));
                self.add_item(
                    ctx,
                    ItemDef {
                        name,
                        kind: ItemKind::TypeAlias,
                        module: None,
                        alias_of,
                        adt: None,
                        func: None,
                    },
                );
            }
            ast::Item::Static(s) => {
                let Some(name) = s.name().map(|n| ident(n.text())) else {
                    return;
                };
                let ty = s.ty().map(|t| self.raw_type(&t)).unwrap_or_default();
                let span = self.span(item_start_range(s.syntax()));
                self.out.statics.push(StaticSummary {
                    name: name.clone(),
                    ty,
                    is_mut: s.mut_token().is_some(),
                    span,
                    module: ctx.module,
                    func: ctx.func,
                    in_macro: self.in_macro,
                    is_test: item_test,
                });
                self.add_item(
                    ctx,
                    ItemDef {
                        name,
                        kind: ItemKind::Static,
                        module: None,
                        alias_of: None,
                        adt: None,
                        func: None,
                    },
                );
                if let Some(body) = s.body() {
                    let c = Ctx {
                        is_test: item_test,
                        ..ctx.clone()
                    };
                    self.walk_body(body.syntax(), &c);
                }
            }
            ast::Item::Const(c) => {
                if let Some(name) = c.name().map(|n| ident(n.text())) {
                    self.add_item(
                        ctx,
                        ItemDef {
                            name,
                            kind: ItemKind::Const,
                            module: None,
                            alias_of: None,
                            adt: None,
                            func: None,
                        },
                    );
                }
                if let Some(body) = c.body() {
                    let c2 = Ctx {
                        is_test: item_test,
                        ..ctx.clone()
                    };
                    self.walk_body(body.syntax(), &c2);
                }
            }
            ast::Item::Trait(t) => {
                if let Some(name) = t.name().map(|n| ident(n.text())) {
                    self.add_item(
                        ctx,
                        ItemDef {
                            name,
                            kind: ItemKind::Trait,
                            module: None,
                            alias_of: None,
                            adt: None,
                            func: None,
                        },
                    );
                }
                if let Some(list) = t.assoc_item_list() {
                    let c = Ctx {
                        is_test: item_test,
                        self_type: None,
                        ..ctx.clone()
                    };
                    self.walk_assoc(list, &c);
                }
            }
            ast::Item::Impl(i) => {
                let self_type = i.self_ty().and_then(|t| self.head_type(&t, 0));
                if let Some(list) = i.assoc_item_list() {
                    let c = Ctx {
                        is_test: item_test,
                        self_type,
                        ..ctx.clone()
                    };
                    self.walk_assoc(list, &c);
                }
            }
            ast::Item::MacroRules(m) => {
                if let Some(name) = m.name().map(|n| n.text().to_string()) {
                    self.add_item(
                        ctx,
                        ItemDef {
                            name,
                            kind: ItemKind::Macro,
                            module: None,
                            alias_of: None,
                            adt: None,
                            func: None,
                        },
                    );
                }
            }
            ast::Item::MacroCall(mc) => {
                let c = Ctx {
                    is_test: item_test,
                    ..ctx.clone()
                };
                self.expand_macro(&mc, &c);
            }
            ast::Item::MacroDef(_) | ast::Item::ExternBlock(_) | ast::Item::AsmExpr(_) => {}
        }
    }

    fn add_adt(&mut self, ctx: &Ctx, name: String, fields: Vec<(String, RawType)>) {
        let adt = self.out.adts.len();
        self.out.adts.push(AdtSummary {
            name: name.clone(),
            module: ctx.module,
            fields,
        });
        self.add_item(
            ctx,
            ItemDef {
                name,
                kind: ItemKind::Type,
                module: None,
                alias_of: None,
                adt: Some(adt),
                func: None,
            },
        );
    }

    fn fields(&self, fl: &ast::FieldList) -> Vec<(String, RawType)> {
        match fl {
            ast::FieldList::RecordFieldList(r) => r
                .fields()
                .filter_map(|f| Some((f.name()?.text().to_string(), self.raw_type(&f.ty()?))))
                .collect(),
            ast::FieldList::TupleFieldList(t) => t
                .fields()
                .enumerate()
                .filter_map(|(i, f)| Some((i.to_string(), self.raw_type(&f.ty()?))))
                .collect(),
        }
    }

    fn walk_assoc(&mut self, list: ast::AssocItemList, ctx: &Ctx) {
        for item in list.assoc_items() {
            match item {
                ast::AssocItem::Fn(f) => {
                    let t = ctx.is_test || attrs_test_node(f.syntax());
                    self.walk_fn(&f, ctx, t);
                }
                ast::AssocItem::Const(c) => {
                    if let Some(body) = c.body() {
                        self.walk_body(body.syntax(), ctx);
                    }
                }
                ast::AssocItem::MacroCall(mc) => self.expand_macro(&mc, ctx),
                ast::AssocItem::TypeAlias(_) => {}
            }
        }
    }

    fn walk_fn(&mut self, f: &ast::Fn, ctx: &Ctx, is_test: bool) -> usize {
        let idx = self.out.fns.len();
        let mut params = Vec::new();
        let mut pat_lets = Vec::new();
        if let Some(pl) = f.param_list() {
            for p in pl.params() {
                if let (Some(ast::Pat::IdentPat(ip)), Some(ty)) = (p.pat(), p.ty())
                    && let Some(n) = ip.name()
                {
                    params.push((n.text().to_string(), self.raw_type(&ty)));
                } else if let Some(ast::Pat::RecordPat(rp)) = p.pat() {
                    let start = self.span(f.syntax().text_range()).start;
                    pat_lets.extend(self.record_pat_bindings(&rp, start));
                }
            }
        }
        let returns_result = f
            .ret_type()
            .and_then(|r| r.ty())
            .is_some_and(|t| t.syntax().text().to_string().contains("Result"));
        let ret = f.ret_type().and_then(|r| r.ty()).map(|t| self.raw_type(&t));
        self.out.fns.push(FnSummary {
            ret,
            name: f.name().map(|n| n.text().to_string()).unwrap_or_default(),
            module: ctx.module,
            parent_fn: ctx.func,
            is_test,
            is_async: f.async_token().is_some(),
            returns_result,
            self_type: ctx.self_type.clone(),
            params,
            lets: pat_lets,
            span: self.span(f.syntax().text_range()),
            ..Default::default()
        });
        if let Some(body) = f.body() {
            let c = Ctx {
                module: ctx.module,
                func: Some(idx),
                is_test,
                self_type: ctx.self_type.clone(),
            };
            self.walk_body(body.syntax(), &c);
        }
        idx
    }

    #[allow(clippy::too_many_arguments)]
    fn flatten_use(
        &self,
        tree: &ast::UseTree,
        prefix: &mut Vec<String>,
        mut global: bool,
        is_pub: bool,
        item_span: &Span,
        out: &mut Vec<Import>,
    ) {
        let depth = prefix.len();
        if let Some(path) = tree.path() {
            if let Some(rp) = self.raw_path(&path) {
                if rp.anchor.is_some() {
                    return;
                }
                global |= rp.global && depth == 0;
                prefix.extend(rp.segs);
            } else {
                return;
            }
        } else if depth == 0 && tree.coloncolon_token().is_some() {
            global = true;
        }
        if let Some(list) = tree.use_tree_list() {
            for sub in list.use_trees() {
                self.flatten_use(&sub, prefix, global, is_pub, item_span, out);
            }
        } else if tree.star_token().is_some() {
            out.push(Import {
                path: prefix.clone(),
                global,
                kind: ImportKind::Glob,
                is_pub,
                span: self.span(tree.syntax().text_range()),
                item_span: item_span.clone(),
            });
        } else {
            // `use a::{self}` imports `a`.
            if prefix.last().is_some_and(|l| l == "self") && prefix.len() > 1 {
                prefix.pop();
            }
            let kind = match tree.rename() {
                Some(r) if r.underscore_token().is_some() => ImportKind::Underscore,
                Some(r) => match r.name() {
                    Some(n) => ImportKind::Named(ident(n.text())),
                    None => ImportKind::Underscore,
                },
                None => match prefix.last() {
                    Some(l) => ImportKind::Named(l.clone()),
                    None => ImportKind::Underscore,
                },
            };
            out.push(Import {
                path: prefix.clone(),
                global,
                kind,
                is_pub,
                span: self.span(tree.syntax().text_range()),
                item_span: item_span.clone(),
            });
        }
        prefix.truncate(depth);
    }
}
