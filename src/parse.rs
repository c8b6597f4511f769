//! Parse stage: one file's text to its [`FileSummary`], with `ra_ap_syntax`.
//!
//! The tree is walked once and dropped. Macro calls whose token trees parse as Rust
//! (items, statements or an argument list) are re-parsed and walked as if written in
//! place, with their ranges mapped back into the file.

use ra_ap_syntax::{
    AstNode, Edition, SourceFile, SyntaxKind, SyntaxNode, TextRange,
    ast::{self, HasArgList, HasAttrs, HasGenericArgs, HasModuleItem, HasName, HasVisibility},
};

use crate::summary::*;

/// Summarize a file's text. Never fails: syntax errors are recorded in the summary and the
/// recovered tree is still walked.
pub fn summarize(text: &str, edition: Edition) -> FileSummary {
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
    if let Some(why) = crate::safety::source_too_deep(text) {
        let mut out = FileSummary::default();
        out.modules.push(ModuleSummary::default());
        let at = why.at as u32;
        out.syntax_errors.push(SyntaxProblem {
            message: why.message,
            span: at..at + 1,
        });
        out.line_starts = line_starts(text);
        return out;
    }
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
    };
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
    if text.contains("ssot-lint:") {
        w.out.suppressions = suppressions(file.syntax(), text);
    }
    w.out
}

pub fn line_starts(text: &str) -> Vec<u32> {
    let mut v = vec![0];
    v.extend(text.match_indices('\n').map(|(i, _)| i as u32 + 1));
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
}

/// Syntax errors kept per file (the rest are counted).
pub const MAX_SYNTAX_ERRORS: usize = 100;

/// Tree depth `walk_body` descends to (a method chain or operator chain thousands long).
pub const MAX_WALK_DEPTH: usize = 3000;

/// Macros whose token trees are not Rust code to look into.
const NOT_RUST_MACROS: &[&str] = &[
    "quote",
    "quote_spanned",
    "parse_quote",
    "parse_quote_spanned",
    "format_ident",
    "stringify",
    "concat",
    "include_str",
    "include_bytes",
    "env",
    "option_env",
    "compile_error",
    "asm",
    "global_asm",
    "cfg",
    "concat_idents",
    "macro_rules",
];

/// Macros whose arguments are expressions (even when a `;` appears in a nested block).
const EXPR_MACROS: &[&str] = &[
    "println",
    "print",
    "eprintln",
    "eprint",
    "format",
    "write",
    "writeln",
    "assert",
    "assert_eq",
    "assert_ne",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "panic",
    "vec",
    "dbg",
    "info",
    "warn",
    "error",
    "debug",
    "trace",
    "event",
    "matches",
    "todo",
    "unimplemented",
    "unreachable",
    "format_args",
    "anyhow",
    "bail",
    "ensure",
    "join",
    "try_join",
    "pin",
];

impl Walker {
    fn span(&self, r: TextRange) -> Span {
        let s = (u32::from(r.start()) as i64 + self.shift).max(0) as u32;
        let e = (u32::from(r.end()) as i64 + self.shift).max(0) as u32;
        s..e
    }

    fn raw_path(&self, path: &ast::Path) -> Option<RawPath> {
        let mut segs = Vec::new();
        let mut seg_ends = Vec::new();
        let mut anchor = None;
        let mut global = false;
        for (i, seg) in path.segments().enumerate() {
            if let Some(n) = seg.name_ref() {
                seg_ends.push(self.span(n.syntax().text_range()).end);
            }
            if i == 0 && seg.coloncolon_token().is_some() {
                global = true;
            }
            match seg.kind()? {
                ast::PathSegmentKind::Name(n) => segs.push(ident(n.text())),
                ast::PathSegmentKind::SelfKw => segs.push("self".into()),
                ast::PathSegmentKind::SuperKw => segs.push("super".into()),
                ast::PathSegmentKind::CrateKw => segs.push("crate".into()),
                ast::PathSegmentKind::SelfTypeKw => segs.push("Self".into()),
                ast::PathSegmentKind::Type { type_ref, .. } => {
                    if i != 0 {
                        return None;
                    }
                    anchor = Some(Box::new(self.raw_type(&type_ref?).head?));
                }
            }
        }
        if segs.is_empty() {
            return None;
        }
        Some(RawPath {
            global,
            anchor,
            segs,
            span: self.span(path.syntax().text_range()),
            seg_ends,
        })
    }

    fn raw_type(&self, ty: &ast::Type) -> RawType {
        // Paths in `fn(..)` pointers, `Fn(..)` sugar and `PhantomData<..>` name types the
        // value never holds: they are left out (a holder is what a field stores).
        let mut all = Vec::new();
        let mut iter = ty.syntax().preorder();
        while let Some(ev) = iter.next() {
            let ra_ap_syntax::WalkEvent::Enter(node) = ev else {
                continue;
            };
            match node.kind() {
                SyntaxKind::FN_PTR_TYPE | SyntaxKind::PARENTHESIZED_ARG_LIST => {
                    iter.skip_subtree();
                    continue;
                }
                SyntaxKind::RET_TYPE
                    if node
                        .parent()
                        .is_some_and(|p| p.kind() == SyntaxKind::PATH_SEGMENT) =>
                {
                    iter.skip_subtree();
                    continue;
                }
                _ => {}
            }
            let Some(p) = ast::PathType::cast(node) else {
                continue;
            };
            let Some(path) = p.path() else { continue };
            let phantom = path
                .segment()
                .and_then(|s| s.name_ref())
                .is_some_and(|n| n.text() == "PhantomData");
            if let Some(rp) = self.raw_path(&path) {
                all.push(rp);
            }
            if phantom {
                iter.skip_subtree();
            }
        }
        RawType {
            head: self.head_type(ty, 0),
            all,
        }
    }

    /// The type method calls dispatch on: `&T`, `Arc<T>`, `Rc<T>`, `Box<T>` peeled.
    fn head_type(&self, ty: &ast::Type, depth: u32) -> Option<RawPath> {
        if depth > 8 {
            return None;
        }
        match ty {
            ast::Type::RefType(r) => self.head_type(&r.ty()?, depth + 1),
            ast::Type::ParenType(p) => self.head_type(&p.ty()?, depth + 1),
            ast::Type::PathType(p) => {
                let path = p.path()?;
                let seg = path.segment()?;
                let name = seg
                    .name_ref()
                    .map(|n| n.text().to_string())
                    .unwrap_or_default();
                if matches!(name.as_str(), "Arc" | "Rc" | "Box")
                    && let Some(args) = seg.generic_arg_list()
                {
                    for arg in args.generic_args() {
                        if let ast::GenericArg::TypeArg(t) = arg {
                            return self.head_type(&t.ty()?, depth + 1);
                        }
                    }
                }
                self.raw_path(&path)
            }
            _ => None,
        }
    }

    /// Every multi-segment path outside `use` items and macro bodies, with its module and
    /// function, found by position after the walk.
    fn collect_paths(&mut self, root: &SyntaxNode) {
        let mut found: Vec<(RawPath, u32)> = Vec::new();
        let mut iter = root.preorder();
        while let Some(ev) = iter.next() {
            let ra_ap_syntax::WalkEvent::Enter(node) = ev else {
                continue;
            };
            match node.kind() {
                SyntaxKind::USE | SyntaxKind::MACRO_RULES | SyntaxKind::TOKEN_TREE => {
                    iter.skip_subtree();
                    continue;
                }
                SyntaxKind::PATH => {}
                _ => continue,
            }
            if node.parent().is_some_and(|p| p.kind() == SyntaxKind::PATH) {
                continue;
            }
            let Some(p) = ast::Path::cast(node.clone()) else {
                continue;
            };
            if p.qualifier().is_none() {
                continue;
            }
            let Some(rp) = self.raw_path(&p) else {
                continue;
            };
            found.push((rp, u32::from(node.text_range().start())));
        }
        // The innermost function and inline module around each path, by one sweep over
        // the ranges sorted by start (they nest or are disjoint): linear, not paths x fns.
        let fn_ranges: Vec<(u32, u32)> = self
            .out
            .fns
            .iter()
            .map(|f| (f.span.start, f.span.end))
            .collect();
        let mod_ranges: Vec<(u32, u32)> = self
            .module_ranges
            .iter()
            .map(|(r, _)| (u32::from(r.start()), u32::from(r.end())))
            .collect();
        let fn_at: Vec<u32> = found.iter().map(|(rp, _)| rp.span.start).collect();
        let mod_at: Vec<u32> = found.iter().map(|(_, at)| *at).collect();
        let funcs = innermost(&fn_ranges, &fn_at);
        let mods = innermost(&mod_ranges, &mod_at);
        for ((rp, _), (func, module)) in found.into_iter().zip(funcs.into_iter().zip(mods)) {
            self.out.paths.push(PathRef {
                path: rp,
                module: module.map_or(0, |m| self.module_ranges[m].1),
                func,
                in_macro: false,
            });
        }
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
                        let span = m
                            .name()
                            .map(|n| self.span(n.syntax().text_range()))
                            .unwrap_or_default();
                        self.out.mod_decls.push(ModDecl {
                            name: name.clone(),
                            path_attr,
                            cfg_path_attrs,
                            is_test: item_test,
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

    /// Walk an expression tree inside a function body (or a static initializer), to at
    /// most [`MAX_WALK_DEPTH`] levels.
    fn walk_body(&mut self, node: &SyntaxNode, ctx: &Ctx) {
        if self.body_depth >= MAX_WALK_DEPTH {
            self.too_deep
                .get_or_insert(self.span(node.text_range()).start);
            return;
        }
        self.body_depth += 1;
        self.walk_body_inner(node, ctx);
        self.body_depth -= 1;
    }

    fn walk_body_inner(&mut self, node: &SyntaxNode, ctx: &Ctx) {
        if let Some(item) = ast::Item::cast(node.clone())
            && node.kind() != SyntaxKind::MACRO_CALL
        {
            self.walk_item(item, ctx);
            return;
        }
        match node.kind() {
            SyntaxKind::MACRO_CALL => {
                if let Some(mc) = ast::MacroCall::cast(node.clone()) {
                    self.expand_macro(&mc, ctx);
                }
                return;
            }
            SyntaxKind::LET_STMT => {
                if let Some(l) = ast::LetStmt::cast(node.clone()) {
                    let before = self.out.chains.len();
                    let init = l.initializer();
                    for child in node.children() {
                        self.walk_body(&child, ctx);
                    }
                    if let (Some(f), Some(ast::Pat::IdentPat(ip))) = (ctx.func, l.pat())
                        && let Some(name) = ip.name()
                    {
                        let init_span = init.map(|e| self.span(e.syntax().text_range()));
                        let init_chain = init_span.and_then(|s| {
                            (before..self.out.chains.len()).find(|&i| self.out.chains[i].span == s)
                        });
                        let ty = l.ty().map(|t| self.raw_type(&t));
                        let offset = self.span(node.text_range()).end;
                        self.out.fns[f].lets.push(LetBinding {
                            name: name.text().to_string(),
                            ty,
                            init: init_chain,
                            offset,
                            field_of: None,
                        });
                    } else if let (Some(f), Some(ast::Pat::RecordPat(rp))) = (ctx.func, l.pat()) {
                        let offset = self.span(node.text_range()).end;
                        let lets = self.record_pat_bindings(&rp, offset);
                        self.out.fns[f].lets.extend(lets);
                    }
                }
                return;
            }
            SyntaxKind::RECORD_PAT | SyntaxKind::TUPLE_STRUCT_PAT
                if node.parent().is_some_and(|p| {
                    !matches!(p.kind(), SyntaxKind::LET_STMT | SyntaxKind::PARAM)
                }) =>
            {
                // `match x { Self::Fresh(fresh) => .. }`, `if let Settings { pool, .. } = s`.
                if let Some(f) = ctx.func {
                    let offset = self.span(node.text_range()).end;
                    let lets = match ast::Pat::cast(node.clone()) {
                        Some(ast::Pat::RecordPat(rp)) => self.record_pat_bindings(&rp, offset),
                        Some(ast::Pat::TupleStructPat(tp)) => self.tuple_pat_bindings(&tp, offset),
                        _ => Vec::new(),
                    };
                    self.out.fns[f].lets.extend(lets);
                }
            }
            SyntaxKind::BIN_EXPR => {
                if let (Some(f), Some(b)) = (ctx.func, ast::BinExpr::cast(node.clone()))
                    && matches!(b.op_kind(), Some(ast::BinaryOp::Assignment { op: None }))
                    && let Some(target) = b.lhs().and_then(|l| self.place_root(&l))
                {
                    let span = self.span(node.text_range());
                    self.out.fns[f].assigns.push(Assign { target, span });
                }
            }
            _ => {}
        }
        if is_spine(node.kind()) && is_spine_top(node) {
            self.record_chain(node, ctx);
        }
        for child in node.children() {
            self.walk_body(&child, ctx);
        }
    }

    /// The bindings of a struct pattern `Settings { pool_options, url: u, .. }`, each typed
    /// later as the named field of the struct.
    fn record_pat_bindings(&self, rp: &ast::RecordPat, offset: u32) -> Vec<LetBinding> {
        let mut out = Vec::new();
        let Some(path) = rp.path().and_then(|p| self.raw_path(&p)) else {
            return out;
        };
        let Some(list) = rp.record_pat_field_list() else {
            return out;
        };
        for field in list.fields() {
            let Some(ast::Pat::IdentPat(ip)) = field.pat() else {
                continue;
            };
            let Some(name) = ip.name().map(|n| n.text().to_string()) else {
                continue;
            };
            let fname = field
                .name_ref()
                .map(|n| n.text().to_string())
                .unwrap_or_else(|| name.clone());
            out.push(LetBinding {
                name,
                ty: None,
                init: None,
                offset,
                field_of: Some((path.clone(), fname)),
            });
        }
        out
    }

    fn arg_ref(&self, e: &ast::Expr) -> Option<ArgRef> {
        let mut e = e.clone();
        // `&manager`, `(manager)`
        for _ in 0..4 {
            e = match e {
                ast::Expr::RefExpr(r) => r.expr()?,
                ast::Expr::ParenExpr(p) => p.expr()?,
                other => {
                    e = other;
                    break;
                }
            };
        }
        if let ast::Expr::PathExpr(p) = &e
            && let Some(rp) = p.path().and_then(|p| self.raw_path(&p))
            && rp.is_single()
        {
            return Some(ArgRef::Local(rp.segs[0].clone()));
        }
        Some(ArgRef::Expr(self.span(e.syntax().text_range())))
    }

    /// The bindings of a tuple-struct pattern `Self::Fresh(fresh)`: field `0`, `1`, ...
    fn tuple_pat_bindings(&self, tp: &ast::TupleStructPat, offset: u32) -> Vec<LetBinding> {
        let Some(path) = tp.path().and_then(|p| self.raw_path(&p)) else {
            return Vec::new();
        };
        tp.fields()
            .enumerate()
            .filter_map(|(i, f)| match f {
                ast::Pat::IdentPat(ip) => Some(LetBinding {
                    name: ip.name()?.text().to_string(),
                    ty: None,
                    init: None,
                    offset,
                    field_of: Some((path.clone(), i.to_string())),
                }),
                _ => None,
            })
            .collect()
    }

    /// The root of an assignment's place: `self.f`, `binding.f`, a path, or any of these
    /// under `*` and a spine of method calls (`*self.pool.write().await`).
    fn place_root(&self, e: &ast::Expr) -> Option<ChainRoot> {
        let mut cur = e.clone();
        for _ in 0..16 {
            cur = match cur {
                ast::Expr::PrefixExpr(p) => p.expr()?,
                ast::Expr::ParenExpr(p) => p.expr()?,
                ast::Expr::AwaitExpr(a) => a.expr()?,
                ast::Expr::TryExpr(t) => t.expr()?,
                ast::Expr::MethodCallExpr(m) => m.receiver()?,
                ast::Expr::FieldExpr(f) => {
                    let name = f.name_ref()?.text().to_string();
                    return match f.expr()? {
                        ast::Expr::PathExpr(p) => {
                            let rp = self.raw_path(&p.path()?)?;
                            if !rp.is_single() {
                                return None;
                            }
                            if rp.segs[0] == "self" {
                                Some(ChainRoot::SelfField(name))
                            } else {
                                Some(ChainRoot::BindingField(rp.segs[0].clone(), name))
                            }
                        }
                        _ => None,
                    };
                }
                ast::Expr::PathExpr(p) => {
                    return Some(ChainRoot::Value(self.raw_path(&p.path()?)?));
                }
                _ => return None,
            };
        }
        None
    }

    fn record_chain(&mut self, top: &SyntaxNode, ctx: &Ctx) {
        let mut methods = Vec::new();
        let mut node = top.clone();
        let (root, root_node) = loop {
            match node.kind() {
                SyntaxKind::TRY_EXPR | SyntaxKind::AWAIT_EXPR | SyntaxKind::PAREN_EXPR => {
                    match node.children().find(|c| ast::Expr::can_cast(c.kind())) {
                        Some(inner) => node = inner,
                        None => return,
                    }
                }
                SyntaxKind::METHOD_CALL_EXPR => {
                    let Some(m) = ast::MethodCallExpr::cast(node.clone()) else {
                        return;
                    };
                    let Some(nr) = m.name_ref() else { return };
                    let end = m
                        .arg_list()
                        .map(|a| a.syntax().text_range().end())
                        .unwrap_or(node.text_range().end());
                    let span = self.span(TextRange::new(node.text_range().start(), end));
                    let first_arg = m
                        .arg_list()
                        .and_then(|a| a.args().next())
                        .and_then(|e| self.arg_ref(&e));
                    methods.push(ChainMethod {
                        name: nr.text().to_string(),
                        span,
                        name_offset: self.span(nr.syntax().text_range()).start,
                        first_arg,
                    });
                    match m.receiver() {
                        Some(r) => node = r.syntax().clone(),
                        None => return,
                    }
                }
                SyntaxKind::CALL_EXPR => {
                    let Some(c) = ast::CallExpr::cast(node.clone()) else {
                        return;
                    };
                    match c.expr() {
                        Some(ast::Expr::PathExpr(p)) => {
                            match p.path().and_then(|p| self.raw_path(&p)) {
                                Some(rp) => break (ChainRoot::Call(rp), p.syntax().clone()),
                                None => break (ChainRoot::Other, node.clone()),
                            }
                        }
                        _ => break (ChainRoot::Other, node.clone()),
                    }
                }
                SyntaxKind::PATH_EXPR => {
                    let Some(p) = ast::PathExpr::cast(node.clone()) else {
                        return;
                    };
                    match p.path().and_then(|p| self.raw_path(&p)) {
                        Some(rp) => break (ChainRoot::Value(rp), node.clone()),
                        None => return,
                    }
                }
                SyntaxKind::FIELD_EXPR => {
                    let Some(f) = ast::FieldExpr::cast(node.clone()) else {
                        return;
                    };
                    let base = match f.expr() {
                        Some(ast::Expr::PathExpr(p)) => p
                            .path()
                            .and_then(|p| self.raw_path(&p))
                            .filter(RawPath::is_single)
                            .map(|p| p.segs[0].clone()),
                        _ => None,
                    };
                    match (base, f.name_ref()) {
                        (Some(b), Some(n)) if b == "self" => {
                            break (ChainRoot::SelfField(n.text().to_string()), node.clone());
                        }
                        (Some(b), Some(n)) => {
                            break (
                                ChainRoot::BindingField(b, n.text().to_string()),
                                node.clone(),
                            );
                        }
                        _ => break (ChainRoot::Other, node.clone()),
                    }
                }
                _ => break (ChainRoot::Other, node.clone()),
            }
        };
        methods.reverse();
        let interesting = match &root {
            ChainRoot::Call(_) => true,
            ChainRoot::Value(p) => p.segs.len() > 1 || p.anchor.is_some() || !methods.is_empty(),
            ChainRoot::SelfField(_) | ChainRoot::BindingField(..) | ChainRoot::Other => {
                !methods.is_empty()
            }
        };
        if !interesting {
            return;
        }
        let mut awaited = false;
        let mut n = Some(top.clone());
        while let Some(x) = n {
            if x.kind() == SyntaxKind::AWAIT_EXPR {
                awaited = true;
                break;
            }
            n = x.children().find(|c| ast::Expr::can_cast(c.kind()));
        }
        let tried = top.kind() == SyntaxKind::TRY_EXPR;
        let (args_span, async_tail) =
            match ast::CallExpr::cast(root_node.parent().unwrap_or(root_node.clone())) {
                Some(call) if matches!(root, ChainRoot::Call(_)) => {
                    let args = call.arg_list();
                    let span = args.as_ref().map(|a| {
                        let r = a.syntax().text_range();
                        let s = self.span(r);
                        s.start + 1..s.end.saturating_sub(1).max(s.start + 1)
                    });
                    let tail = args
                        .and_then(|a| a.args().next())
                        .and_then(|first| match first {
                            ast::Expr::BlockExpr(b) if b.async_token().is_some() => {
                                let list = b.stmt_list()?;
                                if list.statements().next().is_some() {
                                    return None;
                                }
                                list.tail_expr().map(|t| self.span(t.syntax().text_range()))
                            }
                            _ => None,
                        });
                    (span, tail)
                }
                _ => (None, None),
            };
        let root_arg = match (
            &root,
            ast::CallExpr::cast(root_node.parent().unwrap_or(root_node.clone())),
        ) {
            (ChainRoot::Call(_), Some(call)) => call
                .arg_list()
                .and_then(|a| a.args().next())
                .and_then(|e| self.arg_ref(&e)),
            _ => None,
        };
        let context = chain_context(top);
        self.out.chains.push(Chain {
            root_arg,
            fallback: is_fallback(top),
            context,
            awaited,
            tried,
            args_span,
            async_tail,
            root,
            root_span: self.span(root_node.text_range()),
            methods,
            span: self.span(top.text_range()),
            func: ctx.func,
            module: ctx.module,
            in_macro: self.in_macro,
            is_test: ctx.is_test,
        });
    }

    /// Walk a macro call's token tree as Rust where it parses as Rust.
    fn expand_macro(&mut self, mc: &ast::MacroCall, ctx: &Ctx) {
        if self.depth >= 4 {
            return;
        }
        let Some(tt) = mc.token_tree() else { return };
        let tt_text = tt.syntax().text().to_string();
        if tt_text.len() < 2 {
            return;
        }
        let inner = &tt_text[1..tt_text.len() - 1];
        if inner.trim().is_empty() {
            return;
        }
        let inner_start = u32::from(tt.syntax().text_range().start()) as i64 + 1 + self.shift;
        let name = mc
            .path()
            .and_then(|p| p.segment())
            .and_then(|s| s.name_ref())
            .map(|n| n.text().to_string())
            .unwrap_or_default();

        if NOT_RUST_MACROS.contains(&name.as_str())
            || !["(", "static", "mod ", "use ", "::"]
                .iter()
                .any(|t| inner.contains(t))
        {
            return;
        }
        const FN_PREFIX: &str = "fn __ssot_lint_macro() {\n";
        const ARGS_PREFIX: &str = "fn __ssot_lint_macro() { __ssot_lint_macro(\n";
        // One error-tolerant parse, in the shape the token tree looks like: items, statements
        // (a top-level `;` or `=>`), or an argument list.
        let mut first = None;
        let (mut semi, mut arrow) = (false, false);
        for el in tt.syntax().children_with_tokens().skip(1) {
            let k = el.kind();
            if k.is_trivia() {
                continue;
            }
            first.get_or_insert(k);
            semi |= k == SyntaxKind::SEMICOLON;
            arrow |= k == SyntaxKind::FAT_ARROW;
        }
        let item_start = matches!(
            first,
            Some(
                SyntaxKind::STATIC_KW
                    | SyntaxKind::PUB_KW
                    | SyntaxKind::FN_KW
                    | SyntaxKind::STRUCT_KW
                    | SyntaxKind::ENUM_KW
                    | SyntaxKind::IMPL_KW
                    | SyntaxKind::USE_KW
                    | SyntaxKind::MOD_KW
                    | SyntaxKind::CONST_KW
                    | SyntaxKind::TYPE_KW
                    | SyntaxKind::TRAIT_KW
                    | SyntaxKind::POUND
            )
        );
        let (text, prefix, mode) = if name == "lazy_static" {
            // `static ref X: T = e;` is lazy_static's own syntax; blank out `ref` (same length).
            (inner.replace("static ref ", "static     "), 0, b'i')
        } else if item_start || name == "thread_local" {
            (inner.to_string(), 0, b'i')
        } else if (semi || arrow) && !EXPR_MACROS.contains(&name.as_str()) {
            (format!("{FN_PREFIX}{inner}\n}}"), FN_PREFIX.len(), b's')
        } else {
            (
                format!("{ARGS_PREFIX}{inner}\n);}}"),
                ARGS_PREFIX.len(),
                b'a',
            )
        };
        let file = SourceFile::parse(&text, self.edition).tree();
        let saved = (self.shift, self.in_macro);
        self.shift = inner_start - prefix as i64;
        self.in_macro = true;
        self.depth += 1;
        if mode == b'i' {
            self.walk_items(file.items(), ctx);
        } else if let Some(ast::Item::Fn(f)) = file.items().next()
            && let Some(body) = f.body()
        {
            self.walk_body(body.syntax(), ctx);
        }
        self.depth -= 1;
        (self.shift, self.in_macro) = saved;
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

/// Text that makes a branch fail rather than initialize: an error, a panic.
fn fails(node: &SyntaxNode) -> bool {
    let t = node.text().to_string();
    [
        "Err(",
        "panic!",
        "unreachable!",
        "expect(",
        "bail!",
        "anyhow!",
        "todo!",
        "unimplemented!",
    ]
    .iter()
    .any(|p| t.contains(p))
        && !t.contains("get_or_init")
        && !t.contains("get_or_try_init")
}

/// Whether a block leaves the function or the loop, or panics: `?`, `return`, `break`,
/// `continue`, `panic!`/`bail!`/`unreachable!`/`todo!`, `Err(..)`, `exit(..)`.
fn propagates(block: &SyntaxNode) -> bool {
    block.descendants().any(|n| match n.kind() {
        SyntaxKind::TRY_EXPR
        | SyntaxKind::RETURN_EXPR
        | SyntaxKind::BREAK_EXPR
        | SyntaxKind::CONTINUE_EXPR => true,
        SyntaxKind::MACRO_CALL => ast::MacroCall::cast(n)
            .and_then(|m| m.path())
            .and_then(|p| p.segment())
            .and_then(|s| s.name_ref())
            .is_some_and(|name| {
                matches!(
                    name.text(),
                    "panic" | "bail" | "unreachable" | "todo" | "unimplemented"
                )
            }),
        SyntaxKind::CALL_EXPR => ast::CallExpr::cast(n)
            .and_then(|c| c.expr())
            .is_some_and(|e| {
                matches!(
                    e.syntax().text().to_string().rsplit("::").next(),
                    Some("Err" | "exit" | "abort")
                )
            }),
        _ => false,
    })
}

/// What the surrounding code does with the value of the spine `top`.
fn chain_context(top: &SyntaxNode) -> ChainContext {
    let Some(parent) = top.parent() else {
        return ChainContext::Other;
    };
    match parent.kind() {
        SyntaxKind::EXPR_STMT => ChainContext::Stmt,
        SyntaxKind::LET_STMT => {
            let Some(l) = ast::LetStmt::cast(parent.clone()) else {
                return ChainContext::Other;
            };
            if let Some(le) = l.let_else() {
                let some = l
                    .pat()
                    .is_some_and(|p| p.syntax().text().to_string().starts_with("Some"));
                return if some && fails(le.syntax()) {
                    ChainContext::NoneFails
                } else {
                    ChainContext::Other
                };
            }
            match l.pat() {
                Some(ast::Pat::WildcardPat(_)) => {
                    ChainContext::LetUnderscore(range(parent.text_range()))
                }
                Some(ast::Pat::IdentPat(ip)) => match ip.name() {
                    Some(n) => ChainContext::LetBind(n.text().to_string()),
                    None => ChainContext::Other,
                },
                _ => ChainContext::Other,
            }
        }
        SyntaxKind::MATCH_EXPR => {
            let Some(m) = ast::MatchExpr::cast(parent) else {
                return ChainContext::Other;
            };
            let none_fails = m.match_arm_list().is_some_and(|l| {
                let has_some = l.arms().any(|a| {
                    a.pat()
                        .is_some_and(|p| p.syntax().text().to_string().starts_with("Some"))
                });
                l.arms().any(|a| {
                    let pat = a
                        .pat()
                        .map(|p| p.syntax().text().to_string())
                        .unwrap_or_default();
                    (pat == "None" || (pat == "_" && has_some))
                        && a.expr().is_some_and(|e| fails(e.syntax()))
                })
            });
            if none_fails {
                ChainContext::NoneFails
            } else {
                ChainContext::Other
            }
        }
        SyntaxKind::LET_EXPR => {
            let Some(le) = ast::LetExpr::cast(parent.clone()) else {
                return ChainContext::Other;
            };
            let pat = le
                .pat()
                .map(|p| p.syntax().text().to_string())
                .unwrap_or_default();
            let Some(if_expr) = parent.parent().and_then(ast::IfExpr::cast) else {
                return ChainContext::Other;
            };
            if pat.starts_with("Some") {
                let else_fails = if_expr.else_branch().is_some_and(|e| match e {
                    ast::ElseBranch::Block(b) => fails(b.syntax()),
                    ast::ElseBranch::IfExpr(i) => fails(i.syntax()),
                });
                return if else_fails {
                    ChainContext::NoneFails
                } else {
                    ChainContext::Other
                };
            }
            if pat.starts_with("Err") {
                let then_propagates = if_expr
                    .then_branch()
                    .is_some_and(|b| propagates(b.syntax()));
                if !then_propagates && if_expr.else_branch().is_none() {
                    return ChainContext::ErrOnlyLogged;
                }
            }
            ChainContext::Other
        }
        _ => ChainContext::Other,
    }
}

/// Whether the spine `top` is a fallback for a value that was handed in: the `else` of
/// `if let Some(p) = injected { p } else { .. }`, the `None` arm of
/// `match injected { Some(p) => p, None => .. }`, or the closure of
/// `injected.unwrap_or_else(|| ..)`, where `injected` is a field (`self.pool`) or a local
/// name (`pool`), possibly `.take()`n or `.clone()`d: a library that builds its own pool
/// only when the caller gives none.
fn is_fallback(top: &SyntaxNode) -> bool {
    // A value handed in: `self.pool`, `builder.pool`, `pool`, `self.pool.take()`.
    fn injected(e: Option<ast::Expr>) -> bool {
        match e {
            Some(ast::Expr::FieldExpr(_)) => true,
            Some(ast::Expr::PathExpr(p)) => p.path().is_some_and(|p| {
                p.qualifier().is_none()
                    && p.segment().is_some_and(|s| {
                        s.name_ref().is_some_and(|n| {
                            let t = n.text();
                            t.chars()
                                .next()
                                .is_some_and(|c| c.is_lowercase() || c == '_')
                        })
                    })
            }),
            Some(ast::Expr::MethodCallExpr(m)) => {
                m.name_ref()
                    .is_some_and(|n| matches!(n.text(), "take" | "clone" | "as_ref"))
                    && injected(m.receiver())
            }
            _ => false,
        }
    }
    // The name `Some(name)` binds.
    fn some_binding(p: Option<ast::Pat>) -> Option<String> {
        let Some(ast::Pat::TupleStructPat(tp)) = p else {
            return None;
        };
        if tp.path()?.syntax().text() != "Some" {
            return None;
        }
        let mut fields = tp.fields();
        let Some(ast::Pat::IdentPat(ip)) = fields.next() else {
            return None;
        };
        if fields.next().is_some() {
            return None;
        }
        Some(ip.name()?.text().to_string())
    }
    // `name` or `name.clone()`, alone.
    fn yields(e: Option<ast::Expr>, name: &str) -> bool {
        match e {
            Some(ast::Expr::PathExpr(p)) => p.syntax().text() == name,
            Some(ast::Expr::MethodCallExpr(m)) => {
                m.name_ref().is_some_and(|n| n.text() == "clone") && yields(m.receiver(), name)
            }
            Some(ast::Expr::BlockExpr(b)) => b
                .stmt_list()
                .is_some_and(|l| l.statements().next().is_none() && yields(l.tail_expr(), name)),
            _ => false,
        }
    }
    let inside = |outer: &SyntaxNode| outer.text_range().contains_range(top.text_range());
    for a in top.ancestors().skip(1) {
        match a.kind() {
            SyntaxKind::FN => return false,
            SyntaxKind::IF_EXPR => {
                let Some(i) = ast::IfExpr::cast(a.clone()) else {
                    continue;
                };
                let Some(ast::Expr::LetExpr(le)) = i.condition() else {
                    continue;
                };
                let Some(else_b) = i.else_branch() else {
                    continue;
                };
                let else_node = match &else_b {
                    ast::ElseBranch::Block(b) => b.syntax().clone(),
                    ast::ElseBranch::IfExpr(x) => x.syntax().clone(),
                };
                if inside(&else_node)
                    && injected(le.expr())
                    && some_binding(le.pat())
                        .is_some_and(|n| yields(i.then_branch().map(ast::Expr::BlockExpr), &n))
                {
                    return true;
                }
            }
            SyntaxKind::MATCH_EXPR => {
                let Some(m) = ast::MatchExpr::cast(a.clone()) else {
                    continue;
                };
                let Some(list) = m.match_arm_list() else {
                    continue;
                };
                let handed = list
                    .arms()
                    .any(|arm| some_binding(arm.pat()).is_some_and(|n| yields(arm.expr(), &n)));
                let in_none = list.arms().any(|arm| {
                    arm.pat().is_some_and(|p| {
                        matches!(p.syntax().text().to_string().as_str(), "None" | "_")
                    }) && arm.expr().is_some_and(|e| inside(e.syntax()))
                });
                if handed && in_none && injected(m.expr()) {
                    return true;
                }
            }
            SyntaxKind::METHOD_CALL_EXPR => {
                let Some(m) = ast::MethodCallExpr::cast(a.clone()) else {
                    continue;
                };
                let in_args = m.arg_list().is_some_and(|l| inside(l.syntax()));
                if in_args
                    && m.name_ref().is_some_and(|n| n.text() == "unwrap_or_else")
                    && injected(m.receiver())
                {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

fn is_spine(k: SyntaxKind) -> bool {
    matches!(
        k,
        SyntaxKind::METHOD_CALL_EXPR
            | SyntaxKind::CALL_EXPR
            | SyntaxKind::PATH_EXPR
            | SyntaxKind::AWAIT_EXPR
            | SyntaxKind::TRY_EXPR
            | SyntaxKind::PAREN_EXPR
            | SyntaxKind::FIELD_EXPR
    )
}

/// Whether `node` is the outermost node of its spine (its parent does not continue it).
fn is_spine_top(node: &SyntaxNode) -> bool {
    let Some(parent) = node.parent() else {
        return true;
    };
    match parent.kind() {
        SyntaxKind::AWAIT_EXPR | SyntaxKind::TRY_EXPR | SyntaxKind::PAREN_EXPR => false,
        SyntaxKind::METHOD_CALL_EXPR => ast::MethodCallExpr::cast(parent)
            .and_then(|m| m.receiver())
            .is_none_or(|r| r.syntax() != node),
        SyntaxKind::CALL_EXPR => ast::CallExpr::cast(parent)
            .and_then(|c| c.expr())
            .is_none_or(|e| e.syntax() != node),
        SyntaxKind::FIELD_EXPR => node.kind() != SyntaxKind::PATH_EXPR,
        _ => true,
    }
}

/// The range of an item from its first token after attributes and comments.
fn item_start_range(node: &SyntaxNode) -> TextRange {
    let start = node
        .children_with_tokens()
        .find(|e| {
            !matches!(
                e.kind(),
                SyntaxKind::ATTR | SyntaxKind::COMMENT | SyntaxKind::WHITESPACE
            )
        })
        .map(|e| e.text_range().start())
        .unwrap_or(node.text_range().start());
    TextRange::new(start, node.text_range().end())
}

fn attr_is_test(a: &ast::Attr) -> bool {
    let text = a.syntax().text().to_string();
    let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if t.starts_with("#[cfg(") || t.starts_with("#![cfg(") {
        // `cfg(test)`, `cfg(all(test, ...))`; not `cfg(not(test))`.
        return t.contains("test") && !t.contains("not(test");
    }
    let path = a
        .path()
        .and_then(|p| p.segment())
        .and_then(|s| s.name_ref())
        .map(|n| n.text().to_string());
    matches!(
        path.as_deref(),
        Some("test" | "rstest" | "test_case" | "quickcheck" | "bench")
    )
}

fn attrs_test(item: &ast::Item) -> bool {
    attrs_test_node(item.syntax())
}

fn attrs_test_node(node: &SyntaxNode) -> bool {
    node.children()
        .filter_map(ast::Attr::cast)
        .any(|a| attr_is_test(&a))
}

fn path_attr(a: &ast::Attr) -> Option<String> {
    let t = a.syntax().text().to_string();
    let t = t.trim_start_matches("#[").trim_end_matches(']').trim();
    let rest = t
        .strip_prefix("path")?
        .trim_start()
        .strip_prefix('=')?
        .trim();
    let s = rest.strip_prefix('"')?.strip_suffix('"')?;
    Some(s.to_string())
}

/// The `path = "..."` of a `#[cfg_attr(predicate, path = "...")]` attribute's text.
pub fn cfg_attr_path(text: &str) -> Option<String> {
    let t = text.trim_start_matches("#[").trim_end_matches(']').trim();
    let inner = t
        .strip_prefix("cfg_attr")?
        .trim_start()
        .strip_prefix('(')?
        .strip_suffix(')')?;
    // The attributes after the predicate, split at top-level commas.
    let b = inner.as_bytes();
    let (mut depth, mut in_str, mut start, mut i) = (0i32, false, 0usize, 0usize);
    let mut parts = Vec::new();
    while i < b.len() {
        match b[i] {
            b'\\' if in_str => i += 1,
            b'"' => in_str = !in_str,
            b'(' if !in_str => depth += 1,
            b')' if !in_str => depth -= 1,
            b',' if !in_str && depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(inner.get(start..).unwrap_or_default());
    parts.iter().skip(1).find_map(|p| {
        let rest = p
            .trim()
            .strip_prefix("path")?
            .trim_start()
            .strip_prefix('=')?;
        let s = rest.trim().strip_prefix('"')?.strip_suffix('"')?;
        Some(s.to_string())
    })
}

/// `// ssot-lint: allow(SSOT001, pool-outside-ssot) reason`
fn suppressions(root: &SyntaxNode, text: &str) -> Vec<Suppression> {
    let starts = line_starts(text);
    let mut out = Vec::new();
    for tok in root
        .descendants_with_tokens()
        .filter_map(|e| e.into_token())
    {
        if tok.kind() != SyntaxKind::COMMENT {
            continue;
        }
        let t = tok.text();
        // Doc comments document; only plain comments suppress.
        if ["///", "//!", "/**", "/*!"]
            .iter()
            .any(|d| t.starts_with(d))
        {
            continue;
        }
        let Some(pos) = t.find("ssot-lint:") else {
            continue;
        };
        let rest = t[pos + "ssot-lint:".len()..].trim_start();
        let Some(args) = rest.strip_prefix("allow(") else {
            continue;
        };
        let Some(close) = args.find(')') else {
            continue;
        };
        let rules: Vec<String> = args[..close]
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        let start = u32::from(tok.text_range().start());
        let line_idx = starts.partition_point(|&s| s <= start) - 1;
        let line_start = starts[line_idx] as usize;
        let trailing = !text[line_start..start as usize].trim().is_empty();
        let line = if trailing {
            line_idx as u32 + 1
        } else {
            line_idx as u32 + 2
        };
        out.push(Suppression {
            rules,
            line,
            span: range(tok.text_range()),
        });
    }
    out
}
