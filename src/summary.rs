//! The per-file summary: what the parse stage keeps of a file once its tree is dropped.
//!
//! Everything later stages need is here: the module skeleton (items, imports, `mod`
//! declarations), the functions with their local scopes, and the *candidates*, the
//! expression chains and `static` items that may construct or hold a resource. Ranges are
//! byte offsets into the original file text.

use std::ops::Range;

use serde::{Deserialize, Serialize};

/// Byte range in a file's original text.
pub type Span = Range<u32>;

/// A path as written: segments with generic arguments dropped.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct RawPath {
    /// `::a::b` (2018+: an extern crate).
    pub global: bool,
    /// `<T>::x` or `<T as Trait>::x`: the anchor type's head path.
    pub anchor: Option<Box<RawPath>>,
    pub segs: Vec<String>,
    pub span: Span,
    /// End offset of each segment's name (generic arguments excluded), for prefix rewrites.
    pub seg_ends: Vec<u32>,
}

impl RawPath {
    pub fn is_single(&self) -> bool {
        !self.global && self.anchor.is_none() && self.segs.len() == 1
    }
    pub fn text(&self) -> String {
        let mut s = String::new();
        if let Some(a) = &self.anchor {
            s.push('<');
            s.push_str(&a.text());
            s.push('>');
            s.push_str("::");
        } else if self.global {
            s.push_str("::");
        }
        s.push_str(&self.segs.join("::"));
        s
    }
}

/// A type as written, reduced to what the rules need.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct RawType {
    /// The type a method call on a value of this type dispatches on: references and
    /// `Arc`/`Rc`/`Box` are peeled (auto-deref).
    pub head: Option<RawPath>,
    /// Every path mentioned anywhere in the type, generic arguments included.
    pub all: Vec<RawPath>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    Fn,
    Type,
    TypeAlias,
    Static,
    Const,
    Mod,
    Macro,
    Trait,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct ItemDef {
    pub name: String,
    pub kind: ItemKind,
    /// For `ItemKind::Mod`: the module index in this file (inline) or `None` (out of line).
    pub module: Option<usize>,
    /// For `ItemKind::TypeAlias`: the aliased type.
    pub alias_of: Option<RawType>,
    /// For `ItemKind::Type`: index into `FileSummary::adts`.
    pub adt: Option<usize>,
    /// For `ItemKind::Fn`: index into `FileSummary::fns`.
    pub func: Option<usize>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub enum ImportKind {
    /// `use a::b;` or `use a::b as c;`: binds `name`.
    Named(String),
    /// `use a::b::*;`
    Glob,
    /// `use a::b as _;`: binds nothing by name.
    Underscore,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Import {
    /// The full path of the import (`self` in a group already folded: `use a::{self}` is `a`).
    pub path: Vec<String>,
    pub global: bool,
    pub kind: ImportKind,
    pub is_pub: bool,
    /// Range of the path as written inside the `use` tree (the last segment's end), for fixes.
    pub span: Span,
    /// Range of the whole `use` item.
    pub item_span: Span,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct ModDecl {
    pub name: String,
    /// `#[path = "..."]`
    pub path_attr: Option<String>,
    /// `#[cfg_attr(.., path = "...")]`, in the order written (cfgs are not evaluated: the
    /// first that names a readable file is followed).
    pub cfg_path_attrs: Vec<String>,
    pub is_test: bool,
    /// Its `#[cfg(..)]` attributes that name a feature and are not test code by themselves
    /// (`#[cfg(any(test, feature = "testing"))]`): test code when the features only test
    /// builds enable are off (decided with the manifests, in the crate graph).
    pub feature_cfgs: Vec<String>,
    /// The module index in this file that declares it.
    pub parent: usize,
    /// The declared name (where a module file that cannot be read is reported).
    pub span: Span,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
pub struct ModuleSummary {
    /// Names of inline modules from the file's root module down to this one.
    pub inline_path: Vec<String>,
    pub parent: Option<usize>,
    pub items: Vec<ItemDef>,
    pub imports: Vec<Import>,
    /// `extern crate a as b;`: (crate, bound name).
    pub extern_crates: Vec<(String, String)>,
    pub is_test: bool,
}

/// A struct, enum or union and the types of its fields (for project holder types).
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct AdtSummary {
    pub name: String,
    pub module: usize,
    pub fields: Vec<(String, RawType)>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
pub struct FnSummary {
    pub name: String,
    pub module: usize,
    /// The enclosing function for a nested `fn`, whose local items it sees.
    pub parent_fn: Option<usize>,
    pub is_test: bool,
    pub is_async: bool,
    pub returns_result: bool,
    /// The declared return type.
    pub ret: Option<RawType>,
    pub self_type: Option<RawPath>,
    pub local_imports: Vec<Import>,
    pub local_items: Vec<String>,
    pub params: Vec<(String, RawType)>,
    pub lets: Vec<LetBinding>,
    /// Assignments (`place = value`): where a function may store what it built.
    pub assigns: Vec<Assign>,
    pub span: Span,
}

/// An assignment's place, reduced to the root of the place expression: `self.pool = ..`
/// and `*self.pool.write().await = ..` are `SelfField("pool")`, `*POOL.lock() = ..` is
/// `Value(POOL)`, `state.pool = ..` is `BindingField("state", "pool")`.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Assign {
    pub target: ChainRoot,
    pub span: Span,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct LetBinding {
    pub name: String,
    pub ty: Option<RawType>,
    /// The chain that initializes it, as an index into `FileSummary::chains`.
    pub init: Option<usize>,
    /// Where the binding starts being visible.
    pub offset: u32,
    /// A binding made by a struct pattern (`let Settings { pool_options, .. } = s;`): the
    /// struct's path and the field it binds.
    pub field_of: Option<(RawPath, String)>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub enum ChainRoot {
    /// `path(args)`
    Call(RawPath),
    /// `path` used as a value (a constructor taken as a function value, a static, a local).
    Value(RawPath),
    /// `self.field`
    SelfField(String),
    /// `binding.field` (a parameter or a local)
    BindingField(String, String),
    /// Anything else (a literal, a closure call, ...).
    Other,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct ChainMethod {
    pub name: String,
    /// The range of the method call expression up to and including its argument list.
    pub span: Span,
    /// Offset of the method's name.
    pub name_offset: u32,
    /// The first argument (a generic pool's manager in `.build(manager)`).
    pub first_arg: Option<ArgRef>,
}

/// An argument as the rules need it: a local name, or an expression (its range, to find
/// the chain recorded for it).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub enum ArgRef {
    Local(String),
    Expr(Span),
}

/// A maximal expression spine: a root followed by method calls, with `.await`, `?` and
/// parentheses looked through.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Chain {
    pub root: ChainRoot,
    /// Range of the root (the path for a call).
    pub root_span: Span,
    pub methods: Vec<ChainMethod>,
    /// The whole expression including trailing `.await` and `?`.
    pub span: Span,
    /// Index into `FileSummary::fns`; `None` for a `static`/`const` initializer.
    pub func: Option<usize>,
    pub module: usize,
    /// Inside a macro call's token tree (fixes there are display-only).
    pub in_macro: bool,
    pub is_test: bool,
    /// Where the value goes: dropped, bound, matched on, ...
    pub context: ChainContext,
    /// Built only when no value was handed in (`if let Some(p) = self.pool { p } else { .. }`,
    /// `match pool { Some(p) => p, None => .. }`, `pool.unwrap_or_else(|| ..)`).
    pub fallback: bool,
    /// The spine has a `.await` (anywhere) / ends in `?`.
    pub awaited: bool,
    pub tried: bool,
    /// For a root call: the range of its argument list, parentheses excluded.
    pub args_span: Option<Span>,
    /// For a root call: its first argument (`Pool::new(manager)`).
    pub root_arg: Option<ArgRef>,
    /// For a root call whose first argument is `async [move] { tail }` with only a tail
    /// expression: the tail's range (what a detached task runs).
    pub async_tail: Option<Span>,
    /// Whether it runs whenever the code before it in its function ran.
    pub reach: Reach,
}

/// Where a chain runs within its function.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
pub enum Reach {
    /// Whenever the code before it ran (up to an early exit).
    #[default]
    Always,
    /// Only on some paths: in a branch of an `if`, a `match` arm, the body of a `while` or
    /// `for` loop, the right of `&&`/`||`, a `let .. else` block (the innermost): the range
    /// of that branch, and of what decides it (the condition, the scrutinee, the iterable,
    /// the left operand).
    Branch { body: Span, decided_by: Span },
    /// In a closure's body or an `async` block (at any depth): when, and whether, it runs is
    /// up to whoever calls or awaits it.
    Deferred,
}

/// What the code around a chain does with its value.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
pub enum ChainContext {
    #[default]
    Other,
    /// `expr;`: the value is dropped.
    Stmt,
    /// `let _ = expr;`: the whole statement's range.
    LetUnderscore(Span),
    /// `let name = expr;`
    LetBind(String),
    /// The value is matched as an `Option`: the branches that handle its `None`. The `None`
    /// arms of `match expr { .. }` (and `_` next to a `Some(..)` arm), the `else` of
    /// `if let Some(..) = expr {..} else {..}` and of `let Some(..) = expr else {..};`.
    NoneBranches(Vec<Branch>),
    /// `if let Err(e) = expr { .. }` with no `else`: its block.
    ErrBranch(Branch),
}

/// What a branch of code contains, as written.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Branch {
    /// The [`Mark`]s its text contains, one bit each.
    pub marks: u16,
    /// It leaves the function or the loop, or stops: `?`, `return`, `break`, `continue`,
    /// `panic!`/`bail!`/`unreachable!`/`todo!`/`unimplemented!`, a call of `Err(..)`,
    /// `exit(..)` or `abort(..)`.
    pub exits: bool,
}

impl Branch {
    pub fn has(&self, m: Mark) -> bool {
        self.marks & m.bit() != 0
    }
}

/// A word a branch's text may contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// `Err(`
    ErrCall,
    /// `panic!`
    Panic,
    /// `unreachable!`
    Unreachable,
    /// `expect(`
    Expect,
    /// `bail!`
    Bail,
    /// `anyhow!`
    Anyhow,
    /// `todo!`
    Todo,
    /// `unimplemented!`
    Unimplemented,
    /// `get_or_init`
    GetOrInit,
    /// `get_or_try_init`
    GetOrTryInit,
}

impl Mark {
    pub const ALL: &'static [Mark] = &[
        Mark::ErrCall,
        Mark::Panic,
        Mark::Unreachable,
        Mark::Expect,
        Mark::Bail,
        Mark::Anyhow,
        Mark::Todo,
        Mark::Unimplemented,
        Mark::GetOrInit,
        Mark::GetOrTryInit,
    ];

    /// The text looked for.
    pub fn text(self) -> &'static str {
        match self {
            Mark::ErrCall => "Err(",
            Mark::Panic => "panic!",
            Mark::Unreachable => "unreachable!",
            Mark::Expect => "expect(",
            Mark::Bail => "bail!",
            Mark::Anyhow => "anyhow!",
            Mark::Todo => "todo!",
            Mark::Unimplemented => "unimplemented!",
            Mark::GetOrInit => "get_or_init",
            Mark::GetOrTryInit => "get_or_try_init",
        }
    }

    pub fn bit(self) -> u16 {
        1 << self as u16
    }
}

/// A multi-segment path outside `use` items (an expression or a type), for path rules.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct PathRef {
    pub path: RawPath,
    pub module: usize,
    pub func: Option<usize>,
    pub in_macro: bool,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct StaticSummary {
    pub name: String,
    pub ty: RawType,
    pub is_mut: bool,
    /// From the first token after attributes (`pub` or `static`) to the end of the item.
    pub span: Span,
    pub module: usize,
    pub func: Option<usize>,
    pub in_macro: bool,
    pub is_test: bool,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Suppression {
    /// Codes or names inside `allow(...)`.
    pub rules: Vec<String>,
    /// 1-based line the suppression applies to.
    pub line: u32,
    /// The comment's own range (for SSOT100 and its fix).
    pub span: Span,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct SyntaxProblem {
    pub message: String,
    pub span: Span,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
pub struct FileSummary {
    pub modules: Vec<ModuleSummary>,
    pub mod_decls: Vec<ModDecl>,
    pub fns: Vec<FnSummary>,
    pub adts: Vec<AdtSummary>,
    pub chains: Vec<Chain>,
    pub paths: Vec<PathRef>,
    pub statics: Vec<StaticSummary>,
    pub suppressions: Vec<Suppression>,
    /// The first [`crate::parse::MAX_SYNTAX_ERRORS`] syntax errors.
    pub syntax_errors: Vec<SyntaxProblem>,
    /// How many there are in all.
    pub syntax_error_count: usize,
    /// Byte offset of the start of every line (for line/column without the text). Empty in
    /// a summary of the module structure alone (`CrateGraph::line_of` reads the text).
    pub line_starts: Vec<u32>,
    /// How many lines the text has.
    pub line_count: usize,
}
