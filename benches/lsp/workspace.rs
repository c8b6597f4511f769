//! The generated workspace of the language server benchmark (`benches/lsp/main.rs`): a backend of
//! `crates` service crates with `modules` files each, about `lines` lines per file, behind
//! one SSOT crate (`db`, a lazily initialized sqlx pool) and one binary (`app`). Half of the
//! files run queries through the SSOT (so the prefilter parses them), half are plain logic;
//! one file builds its own pool (an SSOT001 and an SSOT006, so that the workspace is not
//! clean). Deterministic: the same arguments write the same bytes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub struct Shape {
    pub crates: usize,
    pub modules: usize,
    pub lines: usize,
}

/// The file the benchmark types into (relative to the root): a module that runs queries.
pub fn edited_file(shape: &Shape) -> String {
    format!(
        "crates/svc{:02}/src/m{:03}.rs",
        shape.crates / 2,
        shape.modules / 4 * 2
    )
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, text).expect("write");
}

/// Write the workspace into `root` (created); returns the number of lines of Rust written.
pub fn generate(root: &Path, shape: &Shape) -> usize {
    let mut lines = 0;
    let mut members = vec!["\"crates/db\"".to_string(), "\"crates/app\"".to_string()];
    for c in 0..shape.crates {
        members.push(format!("\"crates/svc{c:02}\""));
    }
    write(
        root,
        "Cargo.toml",
        &format!(
            "[workspace]\nmembers = [{}]\nresolver = \"2\"\n",
            members.join(", ")
        ),
    );
    write(
        root,
        "ssot-lint.toml",
        "[ssot]\nmodules = [\"db::pool\"]\n\n[accessor]\nsql = \"db::pool::pool().await\"\n",
    );
    let deps = "sqlx = { version = \"0.8\", features = [\"postgres\", \"runtime-tokio\"] }\n\
                tokio = { version = \"1\", features = [\"sync\", \"macros\", \"rt-multi-thread\"] }\n";
    write(
        root,
        "crates/db/Cargo.toml",
        &format!(
            "[package]\nname = \"db\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n{deps}"
        ),
    );
    let db_lib = "//! The database: the one place that builds the pool.\n\npub mod pool;\n";
    let db_pool = "//! The pool, built on first use, exactly once.\n\n\
use sqlx::postgres::PgPoolOptions;\n\
use sqlx::PgPool;\n\
use tokio::sync::OnceCell;\n\n\
static POOL: OnceCell<PgPool> = OnceCell::const_new();\n\n\
/// The pool, connected on first use.\n\
pub async fn pool() -> &'static PgPool {\n\
    POOL.get_or_init(|| async {\n\
        let url = std::env::var(\"DATABASE_URL\").unwrap_or_default();\n\
        PgPoolOptions::new()\n\
            .max_connections(16)\n\
            .connect_lazy(&url)\n\
            .expect(\"DATABASE_URL is a valid URL\")\n\
    })\n\
    .await\n\
}\n";
    write(root, "crates/db/src/lib.rs", db_lib);
    write(root, "crates/db/src/pool.rs", db_pool);
    lines += db_lib.lines().count() + db_pool.lines().count();
    let mut app_deps = String::from(deps);
    let mut app_main = String::from("//! The server.\n\n#[tokio::main]\nasync fn main() {\n");
    for c in 0..shape.crates {
        let name = format!("svc{c:02}");
        app_deps.push_str(&format!("{name} = {{ path = \"../{name}\" }}\n"));
        app_main.push_str(&format!("    {name}::start().await;\n"));
        write(
            root,
            &format!("crates/{name}/Cargo.toml"),
            &format!(
                "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
                 [dependencies]\n{deps}db = {{ path = \"../db\" }}\n"
            ),
        );
        let mut lib = format!("//! Service {c}.\n\npub mod common;\n");
        for m in 0..shape.modules {
            lib.push_str(&format!("pub mod m{m:03};\n"));
        }
        lib.push_str(
            "\n/// Warm the pool up at start-up.\npub async fn start() {\n    let _pool = db::pool::pool().await;\n}\n",
        );
        lines += lib.lines().count();
        write(root, &format!("crates/{name}/src/lib.rs"), &lib);
        let common = common_module();
        lines += common.lines().count();
        write(root, &format!("crates/{name}/src/common.rs"), &common);
        for m in 0..shape.modules {
            let text = module(c, m, shape.lines);
            lines += text.lines().count();
            write(root, &format!("crates/{name}/src/m{m:03}.rs"), &text);
        }
    }
    app_main.push_str("}\n");
    lines += app_main.lines().count();
    write(
        root,
        "crates/app/Cargo.toml",
        &format!(
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n{app_deps}db = {{ path = \"../db\" }}\n"
        ),
    );
    write(root, "crates/app/src/main.rs", &app_main);
    lines
}

fn common_module() -> String {
    "//! Types every module of the service shares.\n\n\
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]\n\
pub struct Money(pub i64);\n\n\
impl std::ops::Add for Money {\n\
    type Output = Money;\n\
    fn add(self, o: Money) -> Money {\n\
        Money(self.0 + o.0)\n\
    }\n\
}\n\n\
#[derive(Debug)]\n\
pub enum Error {\n\
    NotFound(i64),\n\
    Invalid(String),\n\
    Database(sqlx::Error),\n\
}\n\n\
impl From<sqlx::Error> for Error {\n\
    fn from(e: sqlx::Error) -> Self {\n\
        Error::Database(e)\n\
    }\n\
}\n"
    .to_string()
}

/// One module of about `target` lines: a record type, its methods, then numbered helper
/// functions; even modules also load and store records through the SSOT's pool.
fn module(c: usize, m: usize, target: usize) -> String {
    let queries = m.is_multiple_of(2);
    let own_pool = c == 0 && m == 1;
    let mut s = String::new();
    let _ = writeln!(s, "//! Records of kind {m} of service {c}.\n");
    let _ = writeln!(s, "use std::collections::HashMap;\n");
    let _ = writeln!(s, "use crate::common::{{Error, Money}};");
    if queries || own_pool {
        let _ = writeln!(s, "use sqlx::{{PgPool, Row}};");
    }
    let _ = writeln!(
        s,
        "\n#[derive(Debug, Clone, Default)]\npub struct Record{m} {{\n    pub id: i64,\n    pub owner: String,\n    pub total: Money,\n    pub tags: Vec<String>,\n    pub attrs: HashMap<String, String>,\n}}\n"
    );
    let _ = writeln!(
        s,
        "impl Record{m} {{\n    pub fn new(id: i64, owner: &str) -> Self {{\n        Record{m} {{\n            id,\n            owner: owner.to_string(),\n            ..Default::default()\n        }}\n    }}\n\n    pub fn add(&mut self, amount: i64) -> Result<(), Error> {{\n        if amount < 0 {{\n            return Err(Error::Invalid(format!(\"negative amount {{amount}} for {{}}\", self.id)));\n        }}\n        self.total = self.total + Money(amount);\n        Ok(())\n    }}\n\n    pub fn tagged(&self, tag: &str) -> bool {{\n        self.tags.iter().any(|t| t == tag)\n    }}\n}}\n"
    );
    if queries {
        let _ = writeln!(
            s,
            "/// Load a record through the SSOT's pool.\npub async fn load(id: i64) -> Result<Record{m}, Error> {{\n    let pool: &PgPool = db::pool::pool().await;\n    let row = sqlx::query(\"SELECT id, owner, total FROM records_{c}_{m} WHERE id = $1\")\n        .bind(id)\n        .fetch_optional(pool)\n        .await?\n        .ok_or(Error::NotFound(id))?;\n    let mut r = Record{m}::new(row.get(\"id\"), row.get::<&str, _>(\"owner\"));\n    r.total = Money(row.get(\"total\"));\n    Ok(r)\n}}\n\n/// Store a record through the SSOT's pool.\npub async fn store(r: &Record{m}) -> Result<(), Error> {{\n    let pool = db::pool::pool().await;\n    sqlx::query(\"INSERT INTO records_{c}_{m} (id, owner, total) VALUES ($1, $2, $3)\")\n        .bind(r.id)\n        .bind(&r.owner)\n        .bind(r.total.0)\n        .execute(pool)\n        .await?;\n    Ok(())\n}}\n"
        );
    }
    if own_pool {
        let _ = writeln!(
            s,
            "/// A report that builds a pool of its own (outside the SSOT).\npub async fn report() -> Result<i64, Error> {{\n    let pool = PgPool::connect(\"postgres://localhost/reports\").await?;\n    let row = sqlx::query(\"SELECT count(*) AS n FROM records\").fetch_one(&pool).await?;\n    Ok(row.get(\"n\"))\n}}\n"
        );
    }
    let mut i = 0;
    while s.lines().count() + 14 <= target {
        let _ = writeln!(
            s,
            "/// Step {i} of the pricing of kind {m}.\npub fn step_{i}(records: &[Record{m}], limit: i64) -> Vec<i64> {{\n    let mut out = Vec::with_capacity(records.len());\n    for (n, r) in records.iter().enumerate() {{\n        let value = match (r.total.0 + n as i64) % 3 {{\n            0 => r.total.0 * {k},\n            1 => r.total.0 / ({k} + 1),\n            _ => r.attrs.get(\"weight\").and_then(|w| w.parse().ok()).unwrap_or(limit),\n        }};\n        if value > limit {{ out.push(limit) }} else {{ out.push(value) }}\n    }}\n    out\n}}\n",
            k = i % 7 + 2
        );
        i += 1;
    }
    s
}

/// A fresh directory for the workspace under the system's temporary directory.
pub fn temp_root(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ssot-lint-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir.canonicalize().expect("canonical temp dir")
}
