//! SSOT007 reached-before-initialization.

use super::{Context, Pass, RuleCode, RuleInfo};
use crate::diagnostic::{Finding, Severity};
use crate::semantic::reach::Late;

pub const RULE: RuleInfo = RuleInfo {
    code: RuleCode::Ssot007,
    name: "reached-before-initialization",
    label: "reached before initialization",
    severity: Severity::Error,
    importance: 0,
    pass: Pass::Check(run),
    summary: "a program reaches an accessor that fails when uninitialized before any initialization of its holder completed on that path (none, one in another branch, or one spawned and not awaited), shown as the call chain",
    fix: None,
    doc: r#"
## What it does
From each entry point (the `main` of every binary target, `#[tokio::main]` included),
follows the calls in program order through the workspace's functions, then each request
handler that start-up registered on a router (`get(health)`, `.post(create)`, actix's
`.to(index)` and `.service(index)`) as a request that arrives after start-up, and reports a call of
an accessor that fails when its holder is uninitialized (what SSOT004 flags: a legacy
manager's `self.pool.as_ref().ok_or(..)`, an SSOT global's `POOL.get().expect(..)`) made
before an initialization of that holder has completed on that path: none was called, one
was called only in a branch that may not have run, or one was spawned (`tokio::spawn`) and
not awaited. The finding sits on the call that reaches the accessor and carries the whole
chain: the entry, every call on the way, the failing read, and the initialization that
comes too late (spawned) or that nothing on the path calls first. A handler sees what the
whole start-up initialized (awaited), wherever it was registered.

## Why is this bad?
SSOT004 says that an accessor *can* fail; this says that start-up *does* reach it first.
It is the root cause of the outage behind this tool: start-up reached the legacy manager's
`health_check()`, whose `initialize()` the hotfix had spawned and nobody awaited, and
every request failed with `DatabaseManager not initialized`.

## Example
```rust
pub async fn get_database_manager() -> &'static Mutex<DatabaseManager> {
    let m = MANAGER.get_or_init(|| Mutex::new(DatabaseManager::new()));
    tokio::spawn(async move { m.lock().await.initialize().await }); // not awaited
    m
}
#[tokio::main]
async fn main() {
    let m = get_database_manager().await;
    m.lock().await.health_check().await.unwrap(); // reached before initialize() completes
}
```
Use instead: initialize on first use in the SSOT (`OnceCell::get_or_try_init`), or await
the initialization before anything reads the holder
(`m.lock().await.initialize().await?;`). SSOT004's fix retires such a manager onto the SSOT.

## Fix safety
No fix of its own: the order of start-up is the program's. SSOT004's and SSOT005's fixes
remove the causes (the failing accessor, the spawned initialization).

## Known limitations
The walk is syntactic. It follows calls of workspace functions by path and methods through
the types it can read (a binding's declared type, the return type of the call that made
it, a field's or a `static`'s type, looking through wrappers such as `Mutex` and
`Result`); it does not see calls through trait objects or generic parameters, closures
stored and called later, function pointers, or code inside macros it cannot read as Rust.
Closures and `async` blocks are entered only as the argument of a `spawn`. An `async fn`
called and not awaited counts as not run, even if its future is awaited later. An
initialization inside a branch holds only inside that branch, unless the branch tests
initialization (its condition mentions `init`: `if !m.is_initialized() {
m.initialize().await? }`); an accessor reached only inside a branch after an
initialization inside another is not reported, since the two conditions may be one (`if
postgres { init }`, later `if postgres { read }`) and the walk does not compare
conditions. Only binaries are walked: a library's accessors count when a binary of the
workspace reaches them. Handlers are found only where a routing call or method (`get`,
`post`, `put`, `delete`, `patch`, `head`, `options`, `trace`, `any`, `to`, `service`)
names a workspace function as its argument on a path start-up walks; a handler wrapped in
a closure or registered inside a macro call is not seen. Calls are followed to a depth of 12,
each function once per path. Test functions (`#[test]`, `#[tokio::test]`) are not entry
points.
"#,
};

fn run(cx: &mut Context) {
    for r in cx.model.reached_before_initialization() {
        let at = &r.steps[r.at];
        let (late, late_step) = match &r.late {
            Late::Spawned(s) => (
                "its only initialization was spawned and is not awaited",
                Some(s),
            ),
            Late::Branch(s) => (
                "it is initialized only on a branch that may not have run",
                Some(s),
            ),
            Late::Never => (
                "nothing on that path initializes it first",
                r.init_at.as_ref(),
            ),
        };
        let mut f = Finding::new(
            RULE.code,
            RULE.name,
            at.file,
            at.span.clone(),
            format!(
                "{} reaches `{}` before {} is initialized: {late}",
                r.entry, r.accessor, r.holder
            ),
        )
        .with_help(
            "await the initialization before this call, or initialize on first use in the SSOT (`OnceCell::get_or_try_init`)",
        );
        for s in &r.steps {
            f.related_spans
                .push((s.file, s.span.clone(), s.message.clone()));
        }
        if let Some(l) = late_step {
            f.related_spans
                .push((l.file, l.span.clone(), l.message.clone()));
        }
        cx.report(f);
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::check;

    const SSOT: &str = r#"
//- /Cargo.toml
[package]
name = "app"
version = "0.1.0"
edition = "2021"
[dependencies]
sqlx = "0.8"
tokio = "1"
//- /src/lib.rs
pub mod manager;
//- /src/manager.rs
pub struct Manager {
    pool: Option<sqlx::PgPool>,
}
impl Manager {
    pub fn new() -> Self {
        Manager { pool: None }
    }
    pub async fn initialize(&mut self) -> Result<(), sqlx::Error> {
        self.pool = Some(sqlx::PgPool::connect("postgres://").await?);
        Ok(())
    }
    pub fn pool(&self) -> &sqlx::PgPool {
        self.pool.as_ref().expect("not initialized")
      //^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ SSOT004
    }
}
"#;

    #[test]
    fn accessor_before_init_fires() {
        check(&format!(
            r#"{SSOT}
//- /src/main.rs
use app::manager::Manager;
#[tokio::main]
async fn main() {{
    let mut m = Manager::new();
    let _ = m.pool();
            //^^^^^^ SSOT007
    m.initialize().await.unwrap();
}}
"#
        ));
    }

    #[test]
    fn init_awaited_first_is_silent() {
        check(&format!(
            r#"{SSOT}
//- /src/main.rs
use app::manager::Manager;
#[tokio::main]
async fn main() {{
    let mut m = Manager::new();
    m.initialize().await.unwrap();
    let _ = m.pool();
}}
"#
        ));
    }

    /// A handler registered with a routing method (`.to(index)`) runs as a request after
    /// start-up: here nothing initializes the manager first.
    #[test]
    fn handler_before_any_init_fires() {
        check(&format!(
            r#"{SSOT}
//- /src/main.rs
use app::manager::Manager;
async fn index() -> &'static str {{
    let m = Manager::new();
    let _ = m.pool();
            //^^^^^^ SSOT007
    "ok"
}}
#[actix_web::main]
async fn main() {{
    let _app = actix_web::App::new().route("/", actix_web::web::get().to(index));
}}
"#
        ));
    }

    /// The same handler, after start-up awaited the initialization: silent, even though
    /// the handler is registered first.
    #[test]
    fn handler_after_awaited_init_is_silent() {
        check(&format!(
            r#"{SSOT}
//- /src/main.rs
use app::manager::Manager;
async fn index() -> &'static str {{
    let m = Manager::new();
    let _ = m.pool();
    "ok"
}}
#[actix_web::main]
async fn main() {{
    let _app = actix_web::App::new().route("/", actix_web::web::get().to(index));
    let mut m = Manager::new();
    m.initialize().await.unwrap();
}}
"#
        ));
    }
}
