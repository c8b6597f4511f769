//! Paths and types as written: a path's segments (with a qualified path's anchor), a
//! type's head path and every path inside it, and the paths an item mentions.

use ra_ap_syntax::{
    AstNode, SyntaxKind, SyntaxNode,
    ast::{self, HasGenericArgs},
};

use super::{Walker, ident, innermost};
use crate::summary::{PathRef, RawPath, RawType};

impl Walker {
    pub(super) fn raw_path(&self, path: &ast::Path) -> Option<RawPath> {
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
                    // Only the head: `raw_type` would collect every path of the type
                    // again, once per level of `<<<T as A>::B as A>::B ..>` (exponential).
                    anchor = Some(Box::new(self.head_type(&type_ref?, 0)?));
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

    pub(super) fn raw_type(&self, ty: &ast::Type) -> RawType {
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
    pub(super) fn head_type(&self, ty: &ast::Type, depth: u32) -> Option<RawPath> {
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
    pub(super) fn collect_paths(&mut self, root: &SyntaxNode) {
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
}
