//! Request handlers registered on a router: entry points that run after start-up. The walk
//! notes each registration it passes (`get(health)`, `.post(create)`, actix's
//! `web::get().to(index)`) and, once the entry's own body is walked, visits each handler with
//! what start-up initialized by then.

use super::{Call, FnRef, Step, Walk};
use crate::resolve::Scope;
use crate::semantic::local;
use crate::summary::{ArgRef, Chain, ChainRoot, FileSummary, RawPath};

/// Routing functions and methods whose argument is the handler: axum's method routers
/// (`get(h)`, `get(h).post(h2)`, `any(h)`), actix's `.to(h)` and `.service(h)` (a handler
/// its `#[get("/")]` attribute routes).
const ROUTING: &[&str] = &[
    "get", "post", "put", "delete", "patch", "head", "options", "trace", "any", "to", "service",
];

impl Walk<'_, '_> {
    /// The handlers chain `c` of function `f` registers: a routing call outside the workspace
    /// (`axum::routing::get`) or a routing method, whose argument names a workspace function
    /// (not a local binding, not a closure). Each is kept, with the path to its registration,
    /// for [`Self::walk_handlers`].
    pub(super) fn note_registrations(&mut self, f: FnRef, c: &Chain) {
        let g = self.model.g;
        let s: &FileSummary = &g.files[f.id.file].summary;
        let func = &s.fns[f.id.func];
        let scope = Scope {
            module: f.module(c.module),
            func: Some(func),
            fns: Some(&s.fns),
        };
        let mut args: Vec<(&ArgRef, crate::summary::Span)> = Vec::new();
        if let ChainRoot::Call(p) = &c.root
            && p.segs.last().is_some_and(|l| ROUTING.contains(&l.as_str()))
            && let Some(a) = &c.root_arg
            && self.resolve_fn(f, scope, p).is_none()
        {
            args.push((
                a,
                c.root_span.start..c.args_span.as_ref().map_or(c.root_span.end, |s| s.end + 1),
            ));
        }
        for m in &c.methods {
            if ROUTING.contains(&m.name.as_str())
                && let Some(a) = &m.first_arg
            {
                args.push((a, m.name_offset..m.span.end));
            }
        }
        for (arg, span) in args {
            let path = match arg {
                ArgRef::Local(name) => {
                    if local(func, name, c.span.start).is_some() {
                        continue;
                    }
                    RawPath {
                        global: false,
                        anchor: None,
                        segs: vec![name.clone()],
                        span: 0..0,
                        seg_ends: vec![0],
                    }
                }
                ArgRef::Expr(r) => match s
                    .paths
                    .iter()
                    .find(|p| p.func == Some(f.id.func) && p.path.span == *r)
                {
                    Some(p) => p.path.clone(),
                    None => continue,
                },
            };
            let Some(handler) = self.resolve_fn(f, scope, &path) else {
                continue;
            };
            if self.handlers.iter().any(|(h, _, _)| h.callee == handler) {
                continue;
            }
            let name = path.text();
            let step = Step {
                file: f.id.file,
                span,
                message: format!(
                    "registers the handler `{name}` here: it runs on each request, after start-up"
                ),
            };
            let call = Call {
                callee: handler,
                span: step.span.clone(),
                text: format!("{name}()"),
            };
            self.handlers.push((call, self.stack.clone(), step));
        }
    }

    /// Visits each handler the entry registered, as a request after start-up: with what the
    /// entry's whole body initialized (awaited), or only spawned.
    pub(super) fn walk_handlers(&mut self, entry: &str) {
        for (call, stack, step) in std::mem::take(&mut self.handlers) {
            let name = call.text.trim_end_matches("()").to_string();
            self.entry = format!("the handler `{name}` that {entry} registers");
            self.stack = stack;
            self.conditional = 0;
            self.visit(&call, &step, false, &None, 1);
        }
    }
}
