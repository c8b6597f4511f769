//! The call graph from the entry points, walked in program order: which accessors that fail
//! when their holder is uninitialized a program reaches before an initialization of that
//! holder has completed (SSOT007). The entry points are the `main` of every binary, then
//! the request handlers it registers on a router, each as a request after start-up
//! (`handlers`). Syntactic: calls are resolved by path, methods through the
//! types the model can read (a binding's declared type, the return type of the call that
//! made it, a field's type), closures and `async` blocks are not entered unless spawned.

mod handlers;

use std::collections::{HashMap, HashSet};

use super::failing::{failing_method, failing_read};
use super::{Model, local};
use crate::ids::{FileId, FnId, ModId};
use crate::resolve::{Res, Scope};
use crate::summary::{Chain, ChainRoot, FileSummary, ItemKind, RawType, Reach, Span};
use crate::workspace::TargetKind;

/// How deep the walk follows calls from an entry point.
pub const MAX_CALL_DEPTH: usize = 12;
/// How many function bodies the walk visits from one entry point (a function is visited
/// again on every path that calls it).
pub const MAX_VISITS: usize = 20_000;

/// A function of the workspace, as the walk visits it: the function, and the module its
/// file's root is in the crate it is visited in (a file may be a module of several crates).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
struct FnRef {
    id: FnId,
    root: ModId,
}

impl FnRef {
    /// The file's module `local` (an index into its summary's modules) in the crate.
    fn module(self, local: usize) -> ModId {
        self.root.with_node(self.root.node + local)
    }
}

/// What a failing accessor needs initialized.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Holder {
    /// A project type with a pool in an `Option` field and an initializing method (its name).
    Manager(String),
    /// A global holder of a resource kind in its SSOT (the kind).
    Kind(String),
}

/// A place in a file, with what happens there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub file: FileId,
    pub span: Span,
    pub message: String,
}

/// An accessor reached before its holder's initialization completed.
#[derive(Clone, Debug)]
pub struct Reached {
    /// The entry, named: the `main` of `app`, or the handler `health` that the `main` of
    /// `app` registers.
    pub entry: String,
    /// The path, in program order: the entry, each call, the failing read.
    pub steps: Vec<Step>,
    /// Index in `steps` of the call that reaches the accessor (where it is reported).
    pub at: usize,
    /// `DatabaseManager::health_check()`.
    pub accessor: String,
    /// What is not initialized: `DatabaseManager`, `the sql pool/client`.
    pub holder: String,
    /// Why it is not initialized there.
    pub late: Late,
    /// For [`Late::Never`]: where an initialization of the holder is defined.
    pub init_at: Option<Step>,
}

/// Why an accessor's holder is not initialized where it is reached.
#[derive(Clone, Debug)]
pub enum Late {
    /// Nothing on the path initializes it.
    Never,
    /// Only a branch that may not have run did (the step of that initialization).
    Branch(Step),
    /// It was spawned and not awaited (the step of the spawned initialization).
    Spawned(Step),
}

/// A failing read inside a function.
#[derive(Clone, Debug)]
struct Read {
    holder: Holder,
    /// Display name of the holder.
    name: String,
    span: Span,
    text: String,
}

/// Where an initialization stands on the path walked so far.
#[derive(Clone, Debug)]
enum Status {
    /// Completed (at the step): everywhere after it, or (`Some`) only inside that branch of
    /// a file.
    Done(Option<(FileId, Span)>, Step),
    /// Spawned and not awaited.
    Spawned(Step),
}

/// A call found in a chain: the function it calls and the range of the call.
struct Call {
    callee: FnRef,
    span: Span,
    text: String,
}

struct Walk<'m, 'g> {
    model: &'m mut Model<'g>,
    /// Per function: its chains in program order (by where they end).
    chains: HashMap<FnId, Vec<usize>>,
    /// (type name, method name) -> the methods of that name on project types of that name.
    methods: HashMap<(String, String), Vec<FnRef>>,
    /// Per function: its failing reads.
    reads: HashMap<FnId, Vec<Read>>,
    /// Per manager type name: where its first initializing method is.
    init_methods: HashMap<String, Step>,
    state: HashMap<Holder, Vec<Status>>,
    /// The call sites from the entry to the function being walked.
    stack: Vec<Step>,
    on_path: Vec<FnRef>,
    /// How many initializations the walk has seen (to tell a leaf initializer).
    events: usize,
    out: Vec<Reached>,
    reported: HashSet<(String, FileId, u32)>,
    entry: String,
    /// Visits left from the current entry point.
    budget: usize,
    /// How many of the calls on the current path run only in a branch.
    conditional: usize,
    /// The request handlers the current entry registered: the call, the path to the
    /// registration, the registration.
    handlers: Vec<(Call, Vec<Step>, Step)>,
}

impl Model<'_> {
    /// Every failing accessor a `main` of a binary reaches, in program order through the
    /// workspace's functions, before an initialization of its holder has completed on that
    /// path (none, one only in another branch, or one spawned and not awaited).
    pub fn reached_before_initialization(&mut self) -> Vec<Reached> {
        let mut w = Walk {
            model: self,
            chains: HashMap::new(),
            methods: HashMap::new(),
            reads: HashMap::new(),
            init_methods: HashMap::new(),
            state: HashMap::new(),
            stack: Vec::new(),
            on_path: Vec::new(),
            events: 0,
            out: Vec::new(),
            reported: HashSet::new(),
            entry: String::new(),
            budget: 0,
            conditional: 0,
            handlers: Vec::new(),
        };
        if !w.index() {
            return Vec::new();
        }
        for entry in w.entries() {
            let g = w.model.g;
            let f = &g.files[entry.id.file].summary.fns[entry.id.func];
            w.entry = format!("the `{}` of `{}`", f.name, g.crates[entry.root.krate].name);
            w.state.clear();
            // At `fn main`, after its attributes and comments.
            let text = g.source(entry.id.file);
            let at = text
                .get(f.span.start as usize..f.span.end as usize)
                .and_then(|t| t.find(&format!("fn {}", f.name)))
                .map_or(f.span.start, |i| f.span.start + i as u32);
            w.stack = vec![Step {
                file: entry.id.file,
                span: at..at + 2,
                message: format!("`{}` starts here", f.name),
            }];
            w.budget = MAX_VISITS;
            w.walk(entry, false, 0);
            let entry = w.entry.clone();
            w.walk_handlers(&entry);
        }
        w.out
    }
}

impl Walk<'_, '_> {
    /// The chains per function, the methods of project types, the failing reads and the
    /// initializing methods of managers.
    fn index(&mut self) -> bool {
        let g = self.model.g;
        let inits = self.model.inits.clone();
        // The failing reads first: most workspaces have none, and then nothing else is
        // indexed.
        for k in g.crate_ids() {
            for (fid, base) in self.model.file_base(k) {
                let s: &FileSummary = &g.files[fid].summary;
                let at = FnRef {
                    id: FnId { file: fid, func: 0 },
                    root: ModId::new(k, base),
                };
                for c in &s.chains {
                    let Some(fi) = c.func else { continue };
                    if !failing_read(c, None) {
                        continue;
                    }
                    let f = &s.fns[fi];
                    if c.is_test || f.is_test || self.model.allowed(at.module(c.module), false) {
                        continue;
                    }
                    let fr = FnRef {
                        id: FnId {
                            file: fid,
                            func: fi,
                        },
                        ..at
                    };
                    if let Some(read) = self.read_holder(fr, c) {
                        let list = self.reads.entry(fr.id).or_default();
                        if !list.iter().any(|r| r.span == read.span) {
                            list.push(read);
                        }
                    }
                }
            }
        }
        if self.reads.is_empty() {
            return false;
        }
        let mut seen: HashSet<FileId> = HashSet::new();
        for k in g.crate_ids() {
            for (fid, base) in self.model.file_base(k) {
                let s: &FileSummary = &g.files[fid].summary;
                for (fi, f) in s.fns.iter().enumerate() {
                    if let Some(t) = f.self_type.as_ref().and_then(|t| t.segs.last()) {
                        let id = FnId {
                            file: fid,
                            func: fi,
                        };
                        self.methods
                            .entry((t.clone(), f.name.clone()))
                            .or_default()
                            .push(FnRef {
                                id,
                                root: ModId::new(k, base),
                            });
                        if inits.is_init(id) {
                            self.init_methods.entry(t.clone()).or_insert(Step {
                                file: fid,
                                span: f.span.start..f.span.start,
                                message: String::new(),
                            });
                        }
                    }
                }
                if !seen.insert(fid) {
                    continue;
                }
                let mut per: HashMap<FnId, Vec<usize>> = HashMap::new();
                for (ci, c) in s.chains.iter().enumerate() {
                    if let Some(fi) = c.func {
                        per.entry(FnId {
                            file: fid,
                            func: fi,
                        })
                        .or_default()
                        .push(ci);
                    }
                }
                for v in per.values_mut() {
                    v.sort_by_key(|&ci| (s.chains[ci].span.end, s.chains[ci].span.start));
                }
                self.chains.extend(per);
            }
        }
        // A manager's accessors fail only if something initializes the manager by hand.
        let managers: HashSet<String> = self.init_methods.keys().cloned().collect();
        for list in self.reads.values_mut() {
            list.retain(|r| match &r.holder {
                Holder::Manager(n) => managers.contains(n),
                Holder::Kind(_) => true,
            });
        }
        self.reads.retain(|_, v| !v.is_empty());
        !self.reads.is_empty()
    }

    /// What the failing read `c` in function `at` reads: a manager's `Option` field of a
    /// holder type, or a global holder in the SSOT of its kind.
    fn read_holder(&mut self, at: FnRef, c: &Chain) -> Option<Read> {
        let g = self.model.g;
        let s = &g.files[at.id.file].summary;
        let f = &s.fns[at.id.func];
        let scope = Scope {
            module: at.module(c.module),
            func: Some(f),
            fns: Some(&s.fns),
        };
        // The read as written, shortened: `POOL.get().expect(..)`.
        let failing = failing_method(c, None);
        let text = c
            .methods
            .iter()
            .enumerate()
            .map(|(i, m)| {
                if Some(i) == failing && m.name != "unwrap" {
                    format!(".{}(..)", m.name)
                } else {
                    format!(".{}()", m.name)
                }
            })
            .collect::<String>();
        match &c.root {
            ChainRoot::SelfField(field) => {
                let st = f.self_type.clone()?;
                let (im, fty) = self.model.field_type(
                    Scope {
                        func: None,
                        ..scope
                    },
                    &st,
                    field,
                )?;
                if !fty
                    .all
                    .iter()
                    .any(|p| p.segs.last().is_some_and(|l| l == "Option"))
                {
                    return None;
                }
                let fscope = Scope {
                    module: im,
                    func: None,
                    fns: None,
                };
                self.model.holder_in(fscope, &fty)?;
                let name = st.segs.last()?.clone();
                Some(Read {
                    holder: Holder::Manager(name.clone()),
                    name: format!("`{name}`"),
                    span: c.root_span.start..c.span.end,
                    text: format!("self.{field}{text}"),
                })
            }
            ChainRoot::Value(p)
                if !p.is_single() || local(f, &p.segs[0], c.span.start).is_none() =>
            {
                let Res::Item(im, ii) = self.model.res.resolve_path(scope, p)? else {
                    return None;
                };
                let node = g.module(im);
                let fs = &g.files[node.file].summary;
                let item = &fs.modules[node.local].items[ii];
                if item.kind != ItemKind::Static {
                    return None;
                }
                let st = fs
                    .statics
                    .iter()
                    .find(|st| st.name == item.name && st.module == node.local)?;
                let sscope = Scope {
                    module: im,
                    func: None,
                    fns: None,
                };
                let (pack, _) = self.model.holder_in(sscope, &st.ty)?;
                let resource = self.model.packs.packs[pack].resource.clone();
                if !self.model.ssot_scope(&resource, scope.module) {
                    return None;
                }
                Some(Read {
                    name: format!("the {resource} pool/client in `{}`", st.name),
                    holder: Holder::Kind(resource),
                    span: c.root_span.start..c.span.end,
                    text: format!("{}{text}", p.text()),
                })
            }
            _ => None,
        }
    }

    /// The `main` function of every binary target (its crate root file), outside test and
    /// allowed code.
    fn entries(&self) -> Vec<FnRef> {
        let g = self.model.g;
        let mut out = Vec::new();
        for k in g.crate_ids() {
            if g.crates[k].kind != TargetKind::Bin {
                continue;
            }
            for (fid, base) in self.model.file_base(k) {
                if base != 0 {
                    continue;
                }
                let s = &g.files[fid].summary;
                for (fi, f) in s.fns.iter().enumerate() {
                    if f.name == "main"
                        && f.module == 0
                        && f.parent_fn.is_none()
                        && f.self_type.is_none()
                        && !f.is_test
                        && !self.model.allowed(ModId::new(k, base), false)
                    {
                        out.push(FnRef {
                            id: FnId {
                                file: fid,
                                func: fi,
                            },
                            root: ModId::new(k, base),
                        });
                    }
                }
            }
        }
        out
    }

    /// Whether `h` is initialized at the current point of the path: a completed
    /// initialization, everywhere or in a branch the path is inside.
    fn status(&self, h: &Holder, here: &Step) -> Result<(), Late> {
        let Some(list) = self.state.get(h) else {
            return Err(Late::Never);
        };
        let inside = |file: FileId, body: &Span| {
            self.stack
                .iter()
                .chain(std::iter::once(here))
                .any(|s| s.file == file && body.start <= s.span.start && s.span.end <= body.end)
        };
        let mut late = Late::Never;
        for st in list {
            match st {
                Status::Done(None, _) => return Ok(()),
                Status::Done(Some((file, body)), _) if inside(*file, body) => return Ok(()),
                Status::Done(_, s) => {
                    if matches!(late, Late::Never) {
                        late = Late::Branch(s.clone());
                    }
                }
                Status::Spawned(s) => {
                    if !matches!(late, Late::Spawned(_)) {
                        late = Late::Spawned(s.clone());
                    }
                }
            }
        }
        Err(late)
    }

    fn walk(&mut self, f: FnRef, spawned: bool, depth: usize) {
        if depth > MAX_CALL_DEPTH || self.on_path.contains(&f) || self.budget == 0 {
            return;
        }
        self.budget -= 1;
        let g = self.model.g;
        let s: &FileSummary = &g.files[f.id.file].summary;
        let Some(order) = self.chains.get(&f.id).cloned() else {
            return;
        };
        self.on_path.push(f);
        // What a `spawn(..)` of this function runs later: its arguments.
        let spawns: Vec<Span> = order
            .iter()
            .map(|&ci| &s.chains[ci])
            .filter(|c| {
                matches!(&c.root, ChainRoot::Call(p) if p.segs.last().is_some_and(|l| l == "spawn" || l == "spawn_local"))
            })
            .filter_map(|c| c.args_span.clone())
            .collect();
        for &ci in &order {
            let c = &s.chains[ci];
            if !spawned {
                self.note_registrations(f, c);
            }
            let in_spawn = spawns
                .iter()
                .any(|a| a.start <= c.span.start && c.span.end <= a.end);
            if c.reach == Reach::Deferred && !in_spawn {
                continue;
            }
            let spawned_here = spawned || in_spawn;
            // An initialization in a branch holds only inside it, unless the branch is taken
            // exactly when it is needed (`if !m.is_initialized() { m.initialize().await? }`).
            let within = match &c.reach {
                Reach::Branch { body, decided_by } if !self.init_guard(f.id.file, decided_by) => {
                    Some((f.id.file, body.clone()))
                }
                _ => None,
            };
            let calls = self.calls(f, c);
            let branch = usize::from(matches!(c.reach, Reach::Branch { .. }));
            self.conditional += branch;
            for call in calls {
                let step = Step {
                    file: f.id.file,
                    span: call.span.clone(),
                    message: format!("calls `{}`", call.text),
                };
                let callee = &g.files[call.callee.id.file].summary.fns[call.callee.id.func];
                // An `async fn` called and not awaited (nor spawned) does not run.
                if callee.is_async && !c.awaited && !in_spawn && !c.in_macro {
                    continue;
                }
                self.visit(&call, &step, spawned_here, &within, depth);
            }
            self.conditional -= branch;
        }
        self.on_path.pop();
    }

    /// A call of `call.callee` at `step` that runs (`spawned`: in a task not awaited;
    /// `within`: the branch an initialization it makes holds in): check the failing reads of
    /// the callee, or walk into it and record the initialization it makes.
    fn visit(
        &mut self,
        call: &Call,
        step: &Step,
        spawned_here: bool,
        within: &Option<(FileId, Span)>,
        depth: usize,
    ) {
        let g = self.model.g;
        let callee = &g.files[call.callee.id.file].summary.fns[call.callee.id.func];
        if let Some(reads) = self.reads.get(&call.callee.id).cloned() {
            if !spawned_here {
                for r in reads {
                    match self.status(&r.holder, step) {
                        // Initialized on one branch, read on one: the two conditions
                        // may be one (`if postgres { init }`, later `if postgres {
                        // read }`), which the walk cannot tell.
                        Err(Late::Branch(_)) if self.conditional > 0 => {}
                        Err(late) => self.report(call, step, &r, late),
                        Ok(()) => {}
                    }
                }
            }
            return;
        }
        let before = self.events;
        self.stack.push(step.clone());
        self.walk(call.callee, spawned_here, depth + 1);
        self.stack.pop();
        if self.events == before && self.model.inits.is_init(call.callee.id) {
            // A leaf initializer: nothing it calls initializes; it does.
            self.events += 1;
            let mut holders: Vec<Holder> = self
                .model
                .inits
                .fns
                .get(&call.callee.id)
                .map(|ks| ks.iter().cloned().map(Holder::Kind).collect())
                .unwrap_or_default();
            if let Some(t) = callee.self_type.as_ref().and_then(|t| t.segs.last()) {
                holders.push(Holder::Manager(t.clone()));
            }
            let status = if spawned_here {
                Status::Spawned(Step {
                    message: format!(
                        "`{}` is spawned here and not awaited: what follows does not wait for it",
                        call.text
                    ),
                    ..step.clone()
                })
            } else {
                Status::Done(
                    within.clone(),
                    Step {
                        message: format!(
                            "`{}` initializes it here, only on this branch",
                            call.text
                        ),
                        ..step.clone()
                    },
                )
            };
            for h in holders {
                self.state.entry(h).or_default().push(status.clone());
            }
        }
    }

    /// Whether the text of `decided_by` tests initialization (`!m.is_initialized()`).
    fn init_guard(&self, file: FileId, decided_by: &Span) -> bool {
        let text = self.model.g.source(file);
        text.get(decided_by.start as usize..decided_by.end as usize)
            .is_some_and(|t| t.contains("init"))
    }

    fn report(&mut self, call: &Call, step: &Step, r: &Read, late: Late) {
        if !self
            .reported
            .insert((self.entry.clone(), step.file, step.span.start))
        {
            return;
        }
        let g = self.model.g;
        let callee = &g.files[call.callee.id.file].summary.fns[call.callee.id.func];
        let mut steps = self.stack.clone();
        steps.push(step.clone());
        let at = steps.len() - 1;
        steps.push(Step {
            file: call.callee.id.file,
            span: r.span.clone(),
            message: format!("`{}` fails: {} is not initialized yet", r.text, r.name),
        });
        let init_at = match (&late, &r.holder) {
            (Late::Never, Holder::Manager(n)) => self.init_methods.get(n).map(|s| Step {
                message: format!(
                    "`{n}` is initialized here, but nothing on this path calls it first"
                ),
                ..s.clone()
            }),
            _ => None,
        };
        let accessor = match callee.self_type.as_ref().and_then(|t| t.segs.last()) {
            Some(t) => format!("{t}::{}()", callee.name),
            None => format!("{}()", callee.name),
        };
        self.out.push(Reached {
            entry: self.entry.clone(),
            steps,
            at,
            accessor,
            holder: r.name.clone(),
            late,
            init_at,
        });
    }

    /// The calls of workspace functions in chain `c` of function `f`, in the order they run:
    /// the root call, then each method call.
    fn calls(&mut self, f: FnRef, c: &Chain) -> Vec<Call> {
        let mut out = Vec::new();
        let mut types = self.root_types(f, c, &mut out, 0);
        for m in &c.methods {
            let hit = types.iter().find_map(|t| {
                self.methods
                    .get(&(t.clone(), m.name.clone()))
                    .and_then(|v| v.first().copied())
                    .map(|r| (t.clone(), r))
            });
            if let Some((t, callee)) = hit {
                types = self.ret_names(callee);
                out.push(Call {
                    callee,
                    span: m.name_offset..m.span.end,
                    text: format!("{t}::{}()", m.name),
                });
            }
        }
        out
    }

    /// The project type names a chain's root value may have; a root call of a workspace
    /// function goes to `out`.
    fn root_types(
        &mut self,
        f: FnRef,
        c: &Chain,
        out: &mut Vec<Call>,
        depth: usize,
    ) -> Vec<String> {
        let g = self.model.g;
        let s: &FileSummary = &g.files[f.id.file].summary;
        let func = &s.fns[f.id.func];
        let scope = Scope {
            module: f.module(c.module),
            func: Some(func),
            fns: Some(&s.fns),
        };
        match &c.root {
            ChainRoot::Call(p) => {
                let Some(callee) = self.resolve_fn(f, scope, p) else {
                    return Vec::new();
                };
                let end = c.args_span.as_ref().map_or(c.root_span.end, |a| a.end + 1);
                out.push(Call {
                    callee,
                    span: c.root_span.start..end.max(c.root_span.end),
                    text: format!("{}()", p.text()),
                });
                self.ret_names(callee)
            }
            ChainRoot::SelfField(field) => {
                let Some(st) = func.self_type.clone() else {
                    return Vec::new();
                };
                self.model
                    .field_type(
                        Scope {
                            func: None,
                            ..scope
                        },
                        &st,
                        field,
                    )
                    .map(|(_, t)| type_names(Some(&t)))
                    .unwrap_or_default()
            }
            ChainRoot::Value(p) if p.is_single() => {
                let name = &p.segs[0];
                if name == "self" {
                    return func
                        .self_type
                        .iter()
                        .filter_map(|t| t.segs.last().cloned())
                        .collect();
                }
                match local(func, name, c.span.start) {
                    Some(super::Local::Param(t)) => type_names(Some(t)),
                    Some(super::Local::Let(l)) => {
                        if let Some(t) = &l.ty {
                            return type_names(Some(t));
                        }
                        match l.init {
                            Some(ci) if depth < 4 => {
                                let init = &s.chains[ci];
                                let mut ignored = Vec::new();
                                let mut types = self.root_types(f, init, &mut ignored, depth + 1);
                                for m in &init.methods {
                                    if let Some(r) = types.iter().find_map(|t| {
                                        self.methods
                                            .get(&(t.clone(), m.name.clone()))
                                            .and_then(|v| v.first().copied())
                                    }) {
                                        types = self.ret_names(r);
                                    }
                                }
                                types
                            }
                            _ => Vec::new(),
                        }
                    }
                    None => self.static_types(scope, p),
                }
            }
            ChainRoot::Value(p) => self.static_types(scope, p),
            _ => Vec::new(),
        }
    }

    /// The type names of what function `f` returns (`Self` is its self type).
    fn ret_names(&self, f: FnRef) -> Vec<String> {
        let func = &self.model.g.files[f.id.file].summary.fns[f.id.func];
        let mut v = type_names(func.ret.as_ref());
        if let Some(t) = func.self_type.as_ref().and_then(|t| t.segs.last()) {
            for n in v.iter_mut().filter(|n| *n == "Self") {
                *n = t.clone();
            }
        }
        v
    }

    /// The type names of the `static` that path `p` names.
    fn static_types(&mut self, scope: Scope, p: &crate::summary::RawPath) -> Vec<String> {
        let g = self.model.g;
        let Some(Res::Item(im, ii)) = self.model.res.resolve_path(scope, p) else {
            return Vec::new();
        };
        let node = g.module(im);
        let fs = &g.files[node.file].summary;
        let item = &fs.modules[node.local].items[ii];
        if item.kind != ItemKind::Static {
            return Vec::new();
        }
        fs.statics
            .iter()
            .find(|st| st.name == item.name && st.module == node.local)
            .map(|st| type_names(Some(&st.ty)))
            .unwrap_or_default()
    }

    /// The workspace function path `p` calls: a function item, or a method of a project
    /// type (`Type::method`, `Self::method`).
    fn resolve_fn(&mut self, f: FnRef, scope: Scope, p: &crate::summary::RawPath) -> Option<FnRef> {
        let g = self.model.g;
        if let Some(Res::Item(im, ii)) = self.model.res.resolve_path(scope, p) {
            let node = g.module(im);
            let item = &g.files[node.file].summary.modules[node.local].items[ii];
            let func = item.func?;
            return Some(FnRef {
                id: FnId {
                    file: node.file,
                    func,
                },
                root: im.with_node(im.node - node.local),
            });
        }
        if p.segs.len() < 2 {
            return None;
        }
        let method = p.segs.last()?;
        let ty = &p.segs[p.segs.len() - 2];
        let ty = if ty == "Self" {
            let s = &g.files[f.id.file].summary;
            s.fns[f.id.func].self_type.as_ref()?.segs.last()?.clone()
        } else {
            ty.clone()
        };
        self.methods.get(&(ty, method.clone()))?.first().copied()
    }
}

/// The last segment of every path in a type (`Result<&Mutex<DatabaseManager>, E>`: `Result`,
/// `Mutex`, `DatabaseManager`, `E`): the names a method call on its value may dispatch on,
/// through the wrappers a chain looks through (`.lock().await`, `?`).
fn type_names(t: Option<&RawType>) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for p in t.map(|t| t.all.as_slice()).unwrap_or_default() {
        if let Some(l) = p.segs.last()
            && !v.contains(l)
        {
            v.push(l.clone());
        }
    }
    v
}
