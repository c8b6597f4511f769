//! The single source of truth for the database.
//!
//! Every other module reaches the database through [`pool()`], and only through it:
//! no other module builds a pool, opens a connection or holds one in a `static`.
//!
//! * The pool is created on first use, exactly once per process, race-free:
//!   [`tokio::sync::OnceCell::get_or_try_init`] lets one caller initialize while the
//!   others wait for its result. There is no `initialize()` to forget: `main` does not
//!   touch the database, the first request does.
//! * It can never be observed uninitialized: the only accessor initializes it.
//! * A failed initialization returns a typed [`DatabaseError`]; the cell stays empty,
//!   so the next caller tries again (a database that comes up later is picked up).
//!   Nothing panics.
//! * Failed attempts are single-flight too: one attempt runs at a time, bounded by
//!   `DB_INIT_TIMEOUT_SECS`, and every caller that was waiting while it ran receives its
//!   error (the same reason) instead of starting an attempt of its own.
//!
//! One code path serves SQLite and PostgreSQL: sqlx's `Any` driver picks the driver
//! from the URL at run time. The two engines differ only in their migrations
//! (`migrations/sqlite`, `migrations/postgres`) and in the connection setup below.

mod settings;

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use sqlx::any::{AnyArguments, AnyConnectOptions, AnyPoolOptions, AnyQueryResult, AnyRow};
use sqlx::pool::PoolConnection;
use sqlx::query::Query;
use sqlx::{Any, AnyPool, ConnectOptions, Connection, Executor, Row};
use tokio::sync::{Mutex, MutexGuard, OnceCell};

use crate::store::ExchangeQueue;

pub use settings::{Backend, DEFAULT_DATA_DIR, SQLITE_FILE_NAME, Settings, redact};

/// The process-wide database. Private: [`pool()`] is the way in.
static DATABASE: OnceCell<Database> = OnceCell::const_new();

static POOLS_CREATED: AtomicU64 = AtomicU64::new(0);
static INIT_FAILURES: AtomicU64 = AtomicU64::new(0);

/// The last failed initialization attempt: its number (the value of `INIT_FAILURES` it
/// set) and its error, shared with every caller that waited while it ran.
static LAST_FAILURE: std::sync::Mutex<Option<(u64, Arc<DatabaseError>)>> =
    std::sync::Mutex::new(None);

/// The timeouts, read from the environment once.
static TIMEOUTS: OnceLock<Result<Timeouts, String>> = OnceLock::new();

/// Connections in the SQLite pool. WAL lets readers run beside the one writer.
const SQLITE_MAX_CONNECTIONS: u32 = 8;
/// Connections in the PostgreSQL pool.
const POSTGRES_MAX_CONNECTIONS: u32 = 16;
/// `DB_ACQUIRE_TIMEOUT_SECS`: how long a request waits for a free pooled connection (or
/// for one to open).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);
/// `DB_CONNECT_TIMEOUT_SECS`: how long the first connection of an initialization may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// `DB_INIT_TIMEOUT_SECS`: how long a whole initialization attempt (connect, configure,
/// migrate) may take; also the longest a caller waits for the database to be initialized.
const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// `HEALTH_TIMEOUT_SECS`: how long `/health/database` waits for a pooled connection, and
/// then for a direct connection that tells why the pool has none.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);
/// How long SQLite waits on a lock held by another process before `SQLITE_BUSY`.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 5_000;
/// How often the background checkpointer copies new WAL frames into the database file.
/// A check that finds nothing new costs one query and no I/O. More often keeps the part
/// left to the committing connection smaller, at the cost of copying and fsyncing the pages
/// written most (index leaves) more often: 100 ms cost ~4% more server CPU under sustained
/// writing than 250 ms.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(250);
/// Time without a new WAL frame after which the WAL file is emptied (truncated).
const IDLE_TRUNCATE_AFTER: Duration = Duration::from_secs(1);
/// `SQLITE_WAL_LIMIT_MB`: WAL size at which the committing connection checkpoints what the
/// background checkpointer has not copied yet, so that the next write starts the WAL over
/// from its beginning (SQLite's `wal_autocheckpoint`, in pages of 4 KiB).
const WAL_LIMIT_MB: usize = 64;

/// Why the database cannot be reached or used.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("DATABASE_URL `{url}` is not supported: expected postgres://… or sqlite:…")]
    UnsupportedUrl { url: String },

    #[error("cannot create the data dir {}: {source}", path.display())]
    DataDir {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot connect to the {backend} database: {source}")]
    Connect {
        backend: Backend,
        #[source]
        source: sqlx::Error,
    },

    #[error("cannot connect to the {backend} database: no answer within {seconds} s")]
    ConnectTimeout { backend: Backend, seconds: f64 },

    #[error("cannot configure the {backend} database: {source}")]
    Configure {
        backend: Backend,
        #[source]
        source: sqlx::Error,
    },

    #[error("cannot apply the migrations to the {backend} database: {source}")]
    Migrate {
        backend: Backend,
        #[source]
        source: sqlx::migrate::MigrateError,
    },

    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),

    #[error("invalid database setting: {0}")]
    Setting(String),

    #[error("the {backend} database was not initialized within {seconds} s")]
    InitTimeout { backend: Backend, seconds: f64 },

    #[error("the database is being initialized and did not become ready within {seconds} s")]
    InitWait { seconds: f64 },

    /// A failed initialization attempt, shared by every caller that waited for it.
    #[error(transparent)]
    Init(Arc<DatabaseError>),

    /// The database answers but cannot do what the service needs.
    #[error("{0}")]
    Degraded(String),
}

impl DatabaseError {
    /// True when the database is unreachable (as opposed to one query failing).
    pub fn is_unavailable(&self) -> bool {
        match self {
            DatabaseError::Init(error) => error.is_unavailable(),
            DatabaseError::Query(error) => matches!(
                error,
                sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::Io(_)
                    | sqlx::Error::Tls(_)
            ),
            _ => true,
        }
    }
}

/// The database handle: the pool and what is needed to use it well.
pub struct Database {
    pool: AnyPool,
    backend: Backend,
    /// SQLite: one connection of the pool, set aside for all writes.
    ///
    /// SQLite has one writer at a time. Queuing writers here, in order, instead of letting
    /// them collide inside SQLite (where a loser sleeps in the busy handler, or fails at
    /// once when a read transaction tries to upgrade) keeps write latency flat under load;
    /// and one connection doing every write keeps its page cache warm, where writes spread
    /// over the pool make each connection re-read the pages the others changed.
    /// PostgreSQL needs none of this: its writes take any connection of the pool.
    write_connection: Option<Arc<Mutex<PoolConnection<Any>>>>,
    /// SQLite: exchanges waiting for the write connection (see [`ExchangeQueue`]).
    exchange_queue: Option<ExchangeQueue>,
    /// How to open one more connection outside the pool (health's diagnosis).
    options: AnyConnectOptions,
    /// SQLite: the database file, and its identity when it was opened.
    file: Option<OpenedFile>,
    timeouts: Timeouts,
}

/// The timeouts of the database module, from the environment.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub init: Duration,
    pub acquire: Duration,
    pub health: Duration,
}

impl Timeouts {
    fn from_env() -> Result<Timeouts, String> {
        use crate::config::seconds;
        Ok(Timeouts {
            connect: seconds("DB_CONNECT_TIMEOUT_SECS", CONNECT_TIMEOUT)?,
            init: seconds("DB_INIT_TIMEOUT_SECS", INIT_TIMEOUT)?,
            acquire: seconds("DB_ACQUIRE_TIMEOUT_SECS", ACQUIRE_TIMEOUT)?,
            health: seconds("HEALTH_TIMEOUT_SECS", HEALTH_TIMEOUT)?,
        })
    }

    /// Read once per process.
    pub fn get() -> Result<Timeouts, DatabaseError> {
        TIMEOUTS
            .get_or_init(Timeouts::from_env)
            .clone()
            .map_err(DatabaseError::Setting)
    }
}

/// A SQLite database file as it was when the pool opened it.
struct OpenedFile {
    path: PathBuf,
    identity: Option<(u64, u64)>,
}

impl OpenedFile {
    fn open(path: PathBuf) -> OpenedFile {
        let identity = file_identity(&path);
        OpenedFile { path, identity }
    }

    /// Why writing to this file would not be durable, if it would not: the file was removed
    /// or replaced since it was opened (the pool's connections still write to the old one).
    /// A `stat` of the path (it must find the file the path names now, not the one opened).
    fn changed(&self) -> Option<String> {
        let opened = self.identity?;
        match file_identity(&self.path) {
            None => Some(format!(
                "the database file {} was removed while the server was running; writes would be lost",
                self.path.display()
            )),
            Some(now) if now != opened => Some(format!(
                "the database file {} was replaced while the server was running; writes would go to the old file",
                self.path.display()
            )),
            Some(_) => None,
        }
    }

    /// The file no longer starts with SQLite's header (overwritten while running). Only
    /// the first 16 bytes are read; damage further in is SQLite's to find.
    fn header_damaged(&self) -> Option<String> {
        use std::io::Read;
        const MAGIC: &[u8; 16] = b"SQLite format 3\0";
        let mut header = [0u8; 16];
        let read = std::fs::File::open(&self.path).and_then(|mut file| file.read(&mut header));
        match read {
            // A file shorter than the header has not been written yet.
            Ok(n) if n < MAGIC.len() => None,
            Ok(_) if &header == MAGIC => None,
            Ok(_) => Some(format!(
                "the database file {} is not a SQLite database any more (its header was overwritten)",
                self.path.display()
            )),
            Err(error) => Some(format!(
                "the database file {} cannot be read: {error}",
                self.path.display()
            )),
        }
    }
}

/// (device, inode) of a file.
#[cfg(unix)]
fn file_identity(path: &std::path::Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path)
        .ok()
        .map(|meta| (meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn file_identity(path: &std::path::Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|_| (0, 0))
}

/// Permission to write, held for the duration of one write statement or transaction.
pub struct Writer<'a> {
    target: WriteTarget<'a>,
}

enum WriteTarget<'a> {
    Dedicated(MutexGuard<'a, PoolConnection<Any>>),
    Pool(&'a AnyPool),
}

type AnyQuery<'q> = Query<'q, Any, AnyArguments<'q>>;

impl Writer<'_> {
    /// Runs a write statement.
    pub async fn execute(&mut self, query: AnyQuery<'_>) -> Result<AnyQueryResult, sqlx::Error> {
        match &mut self.target {
            WriteTarget::Dedicated(connection) => query.execute(&mut ***connection).await,
            WriteTarget::Pool(pool) => query.execute(*pool).await,
        }
    }

    /// Runs a write statement that returns rows (`RETURNING`).
    pub async fn fetch_all(&mut self, query: AnyQuery<'_>) -> Result<Vec<AnyRow>, sqlx::Error> {
        match &mut self.target {
            WriteTarget::Dedicated(connection) => query.fetch_all(&mut ***connection).await,
            WriteTarget::Pool(pool) => query.fetch_all(*pool).await,
        }
    }
}

/// The one accessor: returns the database, creating the pool on first use.
///
/// Concurrent first callers wait for a single initialization. If it fails, all of them
/// get its error (the same reason; none starts an attempt of its own), and the next call
/// tries again. No caller waits longer than the init timeout (plus a second of grace).
pub async fn pool() -> Result<&'static Database, DatabaseError> {
    // Once initialized (every call but the first few), nothing to wait for: no timer armed.
    if let Some(database) = DATABASE.get() {
        return Ok(database);
    }
    let timeouts = Timeouts::get()?;
    // Attempts that had failed before this caller arrived; one failing after it is its answer.
    let seen = INIT_FAILURES.load(Ordering::SeqCst);
    let wait = timeouts.init + Duration::from_secs(1);
    let init = DATABASE.get_or_try_init(|| Database::open(seen, timeouts));
    match tokio::time::timeout(wait, init).await {
        Ok(result) => result,
        Err(_) => Err(DatabaseError::InitWait {
            seconds: wait.as_secs_f64(),
        }),
    }
}

/// How many pools this process has created (1 after a successful start, ever).
pub fn pools_created() -> u64 {
    POOLS_CREATED.load(Ordering::SeqCst)
}

/// How many initialization attempts have failed in this process.
pub fn init_failures() -> u64 {
    INIT_FAILURES.load(Ordering::SeqCst)
}

impl Database {
    /// Which engine this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for reads. Writes go through [`Database::writer`].
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Where writes go: the write connection once it is free (SQLite), or the pool.
    pub async fn writer(&self) -> Writer<'_> {
        let target = match &self.write_connection {
            Some(connection) => WriteTarget::Dedicated(connection.lock().await),
            None => WriteTarget::Pool(&self.pool),
        };
        Writer { target }
    }

    /// The group-commit queue in front of the write connection (SQLite only).
    pub fn exchange_queue(&self) -> Option<&ExchangeQueue> {
        self.exchange_queue.as_ref()
    }

    /// SQLite: why a write would not be durable (the database file was removed or replaced
    /// since it was opened), if it would not. Checked after a write and before it is
    /// acknowledged: a `stat`, once per group of exchanges written together.
    pub fn not_durable(&self) -> Option<DatabaseError> {
        self.file
            .as_ref()
            .and_then(OpenedFile::changed)
            .map(DatabaseError::Degraded)
    }

    /// What `/health/database` checks: a pooled connection within the health timeout (if
    /// there is none, a direct connection says why), the schema, that writes can be made
    /// and, on SQLite, that the file is still the one opened.
    ///
    /// `Err` is either unavailable ([`DatabaseError::is_unavailable`]) or
    /// [`DatabaseError::Degraded`]: it answers, but cannot serve.
    pub async fn health(&self) -> Result<(), DatabaseError> {
        // The file first: once it is gone or damaged, what the connections say is a symptom.
        if let Some(changed) = self.not_durable() {
            return Err(changed);
        }
        if let Some(damaged) = self.file.as_ref().and_then(OpenedFile::header_damaged) {
            return Err(DatabaseError::Degraded(damaged));
        }
        let limit = self.timeouts.health;
        let seconds = limit.as_secs_f64();
        // A pooled connection if one comes within the limit; otherwise a direct one, which
        // either fails with the real reason ("connection refused", ...) where the pool would
        // only report that it timed out, or shows the database is fine and the pool busy.
        let mut pooled = tokio::time::timeout(limit, self.pool.acquire())
            .await
            .ok()
            .and_then(Result::ok);
        let mut direct = None;
        if pooled.is_none() {
            let connection = tokio::time::timeout(limit, self.options.connect())
                .await
                .map_err(|_| DatabaseError::ConnectTimeout {
                    backend: self.backend,
                    seconds,
                })?
                .map_err(|source| DatabaseError::Connect {
                    backend: self.backend,
                    source,
                })?;
            direct = Some(connection);
        }
        let result = match (&mut pooled, &mut direct) {
            (Some(pooled), _) => self.check(&mut *pooled).await,
            (None, Some(direct)) => self.check(direct).await,
            (None, None) => Ok(()),
        };
        if let Some(direct) = direct {
            let _ = direct.close().await;
        }
        result
    }

    async fn check(&self, connection: &mut sqlx::AnyConnection) -> Result<(), DatabaseError> {
        let limit = self.timeouts.health;
        let seconds = limit.as_secs_f64();
        for table in ["users", "threads", "messages"] {
            let probe = format!("SELECT 1 FROM {table} WHERE 1 = 0");
            if let Err(error) = sqlx::query(&probe).execute(&mut *connection).await {
                if matches!(error, sqlx::Error::Database(_)) {
                    return Err(DatabaseError::Degraded(format!(
                        "the schema is missing (table {table}): {error}"
                    )));
                }
                return Err(error.into());
            }
        }

        match &self.write_connection {
            Some(writer) => {
                let mut writer =
                    tokio::time::timeout(limit, writer.lock())
                        .await
                        .map_err(|_| {
                            DatabaseError::Degraded(format!(
                                "the write connection was busy for more than {seconds} s"
                            ))
                        })?;
                // A write statement that changes nothing, rolled back: it needs the write
                // lock and a writable file (BEGIN IMMEDIATE alone succeeds on a read-only
                // database).
                let mut write = sqlx::query("BEGIN IMMEDIATE").execute(&mut **writer).await;
                if write.is_ok() {
                    write = sqlx::query("UPDATE users SET name = name WHERE 1 = 0")
                        .execute(&mut **writer)
                        .await;
                    let _ = sqlx::query("ROLLBACK").execute(&mut **writer).await;
                }
                write.map_err(|error| {
                    DatabaseError::Degraded(format!("the database cannot be written: {error}"))
                })?;
            }
            None => {
                let row = sqlx::query("SELECT current_setting('transaction_read_only')")
                    .fetch_one(&mut *connection)
                    .await?;
                let read_only: String = row.try_get(0)?;
                if read_only == "on" {
                    return Err(DatabaseError::Degraded(
                        "the database is read-only (transaction_read_only = on)".to_owned(),
                    ));
                }
            }
        }
        Ok(())
    }

    /// One initialization attempt, run by the caller the `OnceCell` lets in; or, when an
    /// attempt failed while this caller was waiting (`seen` attempts had failed when it
    /// arrived), that attempt's error.
    async fn open(seen: u64, timeouts: Timeouts) -> Result<Database, DatabaseError> {
        if let Some(error) = shared_failure(seen) {
            return Err(DatabaseError::Init(error));
        }
        let result = async {
            let settings = Settings::from_env()?;
            match tokio::time::timeout(timeouts.init, Database::connect(&settings, timeouts)).await
            {
                Ok(result) => result,
                Err(_) => Err(DatabaseError::InitTimeout {
                    backend: settings.backend(),
                    seconds: timeouts.init.as_secs_f64(),
                }),
            }
        }
        .await;
        match result {
            Ok(database) => {
                eprintln!("database: {} pool ready", database.backend);
                Ok(database)
            }
            Err(error) => {
                eprintln!("database: initialization failed (will retry on next use): {error}");
                let error = Arc::new(error);
                let mut last = lock(&LAST_FAILURE);
                let attempt = INIT_FAILURES.fetch_add(1, Ordering::SeqCst) + 1;
                *last = Some((attempt, Arc::clone(&error)));
                Err(DatabaseError::Init(error))
            }
        }
    }

    async fn connect(settings: &Settings, timeouts: Timeouts) -> Result<Database, DatabaseError> {
        sqlx::any::install_default_drivers();
        let backend = settings.backend();
        let url = settings.prepare()?;
        let options = AnyConnectOptions::from_str(&url)
            .map_err(|source| DatabaseError::Connect { backend, source })?;

        // One plain connection first: it fails fast with the real reason ("connection
        // refused", "password authentication failed", ...), where the pool would retry a
        // refused connection until its acquire timeout and then report only a timeout.
        let mut probe = tokio::time::timeout(timeouts.connect, options.connect())
            .await
            .map_err(|_| DatabaseError::ConnectTimeout {
                backend,
                seconds: timeouts.connect.as_secs_f64(),
            })?
            .map_err(|source| DatabaseError::Connect { backend, source })?;
        if backend == Backend::Sqlite {
            // Persistent in the file. It needs an exclusive lock that busy_timeout does not
            // wait for, so it is set here, while this is the process's only connection.
            let wal = probe.execute("PRAGMA journal_mode = WAL").await;
            let _ = probe.close().await;
            wal.map_err(|source| DatabaseError::Configure { backend, source })?;
        } else {
            let _ = probe.close().await;
        }

        let wal_limit_pages = match backend {
            Backend::Sqlite => wal_limit_pages()?,
            Backend::Postgres => 0,
        };
        let max_connections = match backend {
            Backend::Sqlite => SQLITE_MAX_CONNECTIONS,
            Backend::Postgres => POSTGRES_MAX_CONNECTIONS,
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .min_connections(0)
            .acquire_timeout(timeouts.acquire)
            // A SQLite connection is a local file handle: pinging it before every use would
            // cost a round trip to its worker thread per query and detect nothing.
            .test_before_acquire(backend == Backend::Postgres)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // Per-connection settings. NORMAL is durable across process crashes
                        // in WAL mode and avoids an fsync per commit. Copying the WAL into
                        // the database file is the background checkpointer's job (see
                        // `checkpoint_loop`); the committing writer only finishes it when
                        // the WAL reaches SQLITE_WAL_LIMIT_MB.
                        conn.execute(
                            format!(
                                "PRAGMA synchronous = NORMAL; \
                                 PRAGMA foreign_keys = ON; \
                                 PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}; \
                                 PRAGMA wal_autocheckpoint = {wal_limit_pages};"
                            )
                            .as_str(),
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options.clone())
            .await
            .map_err(|source| DatabaseError::Connect { backend, source })?;
        POOLS_CREATED.fetch_add(1, Ordering::SeqCst);

        let file = settings.sqlite_file().map(OpenedFile::open);
        match Database::finish(pool.clone(), backend, options, file, timeouts).await {
            Ok(database) => {
                // SQLite (the only engine with a write connection): checkpoints.
                if let Some(write_connection) = &database.write_connection {
                    tokio::spawn(checkpoint_loop(
                        database.pool.clone(),
                        Arc::clone(write_connection),
                    ));
                }
                Ok(database)
            }
            Err(error) => {
                pool.close().await;
                Err(error)
            }
        }
    }

    /// Migrates, and sets the write connection aside.
    async fn finish(
        pool: AnyPool,
        backend: Backend,
        options: AnyConnectOptions,
        file: Option<OpenedFile>,
        timeouts: Timeouts,
    ) -> Result<Database, DatabaseError> {
        Database::migrate(&pool, backend).await?;
        let write_connection = match backend {
            Backend::Sqlite => Some(Arc::new(Mutex::new(pool.acquire().await?))),
            Backend::Postgres => None,
        };
        Ok(Database {
            pool,
            backend,
            exchange_queue: write_connection.is_some().then(ExchangeQueue::default),
            write_connection,
            options,
            file,
            timeouts,
        })
    }

    async fn migrate(pool: &AnyPool, backend: Backend) -> Result<(), DatabaseError> {
        match backend {
            Backend::Sqlite => {
                sqlx::migrate!("./migrations/sqlite")
                    .run(pool)
                    .await
                    .map_err(|source| DatabaseError::Migrate { backend, source })?;
            }
            Backend::Postgres => {
                sqlx::migrate!("./migrations/postgres")
                    .run(pool)
                    .await
                    .map_err(|source| DatabaseError::Migrate { backend, source })?;
            }
        }
        Ok(())
    }
}

/// `SQLITE_WAL_LIMIT_MB` in pages of 4 KiB (SQLite's default page size).
fn wal_limit_pages() -> Result<u32, DatabaseError> {
    let mb = crate::config::count("SQLITE_WAL_LIMIT_MB", WAL_LIMIT_MB)
        .map_err(DatabaseError::Setting)?;
    mb.checked_mul(256)
        .and_then(|pages| u32::try_from(pages).ok())
        .ok_or_else(|| DatabaseError::Setting(format!("SQLITE_WAL_LIMIT_MB={mb} is too large")))
}

/// The error of the attempt that failed after `seen` attempts had, if one did.
fn shared_failure(seen: u64) -> Option<Arc<DatabaseError>> {
    match &*lock(&LAST_FAILURE) {
        Some((attempt, error)) if *attempt > seen => Some(Arc::clone(error)),
        _ => None,
    }
}

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Nothing panics while holding these locks; if something did, the data is still valid.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// SQLite: keeps checkpoints off the write path, and the WAL small.
///
/// By default the connection that commits checkpoints once the WAL holds 1000 pages: it
/// copies them into the database file and fsyncs while every writer waits; under load
/// those commits took 10–30 ms and set the p99 of agent runs. Here a `PASSIVE` checkpoint
/// runs every [`CHECKPOINT_INTERVAL`] on a reading connection, concurrently with the
/// writer, and copies the new frames.
///
/// A WAL starts over from its beginning when a write begins with every frame copied. Under
/// moderate load that happens by itself between these checkpoints; under sustained writing
/// it never does, and the committing connection's own checkpoint at [`WAL_LIMIT_MB`]
/// (SQLite's `wal_autocheckpoint`) finishes the job: it has only the frames of the last
/// interval left to copy, then the fsyncs, and the next write starts the WAL over. The WAL
/// file thus stays under ~64 MiB and is rewritten in place. (Letting it grow to 512 MiB
/// under load, then emptying it when idle, made the kernel allocate blocks and page cache
/// for hundreds of MiB of new WAL on every burst: ~5% of the server's CPU.)
///
/// After [`IDLE_TRUNCATE_AFTER`] without a new frame, a `TRUNCATE` checkpoint on the idle
/// write connection empties the file. (Not `journal_size_limit`: it cuts the file back in
/// the first commit after each restart, under load.)
async fn checkpoint_loop(pool: AnyPool, write_connection: Arc<Mutex<PoolConnection<Any>>>) {
    let mut interval = tokio::time::interval(CHECKPOINT_INTERVAL);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Frames in the WAL at the previous check, and when that number last changed.
    let mut previous = 0;
    let mut changed = std::time::Instant::now();
    loop {
        interval.tick().await;
        if pool.is_closed() {
            return;
        }
        let wal = match checkpoint(&pool).await {
            Ok(wal) => wal,
            Err(error) => {
                eprintln!("database: background checkpoint failed: {error}");
                continue;
            }
        };
        if wal.frames != previous {
            previous = wal.frames;
            changed = std::time::Instant::now();
            continue;
        }
        if wal.frames == 0 || changed.elapsed() < IDLE_TRUNCATE_AFTER {
            continue;
        }
        // Nothing written for a while: empty the WAL file (TRUNCATE), so it does not keep
        // its high-water mark, if the writer is still idle.
        if let Ok(mut connection) = write_connection.try_lock() {
            let result = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&mut **connection)
                .await;
            drop(connection);
            match result {
                Ok(_) => previous = 0,
                Err(error) => eprintln!("database: truncating checkpoint failed: {error}"),
            }
        }
    }
}

/// The WAL as a checkpoint found it.
struct WalState {
    /// Frames in the WAL when the checkpoint started.
    frames: i64,
}

/// `PRAGMA wal_checkpoint(PASSIVE)`.
async fn checkpoint<'c, E>(executor: E) -> Result<WalState, sqlx::Error>
where
    E: Executor<'c, Database = Any>,
{
    let row = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(executor)
        .await?;
    // Columns: busy, log (frames in the WAL), checkpointed.
    Ok(WalState {
        frames: row.try_get(1)?,
    })
}
