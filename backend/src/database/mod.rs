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
//!
//! One code path serves SQLite and PostgreSQL: sqlx's `Any` driver picks the driver
//! from the URL at run time. The two engines differ only in their migrations
//! (`migrations/sqlite`, `migrations/postgres`) and in the connection setup below.

mod settings;

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Connection, Executor};
use tokio::sync::{Mutex, MutexGuard, OnceCell};

pub use settings::{Backend, DEFAULT_DATA_DIR, SQLITE_FILE_NAME, Settings, redact};

/// The process-wide database. Private: [`pool()`] is the way in.
static DATABASE: OnceCell<Database> = OnceCell::const_new();

static POOLS_CREATED: AtomicU64 = AtomicU64::new(0);
static INIT_FAILURES: AtomicU64 = AtomicU64::new(0);

/// Connections in the SQLite pool. WAL lets readers run beside the one writer.
const SQLITE_MAX_CONNECTIONS: u32 = 8;
/// Connections in the PostgreSQL pool.
const POSTGRES_MAX_CONNECTIONS: u32 = 16;
/// How long a caller waits for a free connection (or for a connection to open).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the first connection of an initialization may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long SQLite waits on a lock held by another process before `SQLITE_BUSY`.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 5_000;

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
    ConnectTimeout { backend: Backend, seconds: u64 },

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
}

impl DatabaseError {
    /// True when the database is unreachable (as opposed to one query failing).
    pub fn is_unavailable(&self) -> bool {
        match self {
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
    /// SQLite has one writer at a time. Queuing writers here, in order, instead of letting
    /// them collide inside SQLite (where a loser sleeps in the busy handler, or fails at
    /// once when a read transaction tries to upgrade) keeps write latency flat under load.
    /// PostgreSQL needs no such gate.
    write_gate: Option<Mutex<()>>,
}

/// Permission to write, held for the duration of one write statement or transaction.
pub struct Writer<'a> {
    pool: &'a AnyPool,
    _gate: Option<MutexGuard<'a, ()>>,
}

impl Writer<'_> {
    /// The pool to run the write on while this `Writer` is alive.
    pub fn pool(&self) -> &AnyPool {
        self.pool
    }
}

/// The one accessor: returns the database, creating the pool on first use.
///
/// Concurrent first callers wait for a single initialization. If it fails, each of them
/// gets an error and the next call tries again.
pub async fn pool() -> Result<&'static Database, DatabaseError> {
    DATABASE.get_or_try_init(Database::open).await
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

    /// The pool for reads.
    pub fn reader(&self) -> &AnyPool {
        &self.pool
    }

    /// The pool for writes, after taking the write gate (SQLite only).
    pub async fn writer(&self) -> Writer<'_> {
        let gate = match &self.write_gate {
            Some(gate) => Some(gate.lock().await),
            None => None,
        };
        Writer {
            pool: &self.pool,
            _gate: gate,
        }
    }

    /// A round trip to the database.
    pub async fn ping(&self) -> Result<(), DatabaseError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn open() -> Result<Database, DatabaseError> {
        let result = async {
            let settings = Settings::from_env()?;
            Database::connect(&settings).await
        }
        .await;
        match &result {
            Ok(database) => eprintln!("database: {} pool ready", database.backend),
            Err(error) => {
                INIT_FAILURES.fetch_add(1, Ordering::SeqCst);
                eprintln!("database: initialization failed (will retry on next use): {error}");
            }
        }
        result
    }

    async fn connect(settings: &Settings) -> Result<Database, DatabaseError> {
        sqlx::any::install_default_drivers();
        let backend = settings.backend();
        let url = settings.prepare()?;
        let options = AnyConnectOptions::from_str(&url)
            .map_err(|source| DatabaseError::Connect { backend, source })?;

        // One plain connection first: it fails fast with the real reason ("connection
        // refused", "password authentication failed", ...), where the pool would retry a
        // refused connection until its acquire timeout and then report only a timeout.
        let mut probe = tokio::time::timeout(CONNECT_TIMEOUT, options.connect())
            .await
            .map_err(|_| DatabaseError::ConnectTimeout {
                backend,
                seconds: CONNECT_TIMEOUT.as_secs(),
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

        let max_connections = match backend {
            Backend::Sqlite => SQLITE_MAX_CONNECTIONS,
            Backend::Postgres => POSTGRES_MAX_CONNECTIONS,
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .min_connections(0)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // Per-connection settings. NORMAL is durable across process crashes
                        // in WAL mode and avoids an fsync per commit.
                        conn.execute(
                            format!(
                                "PRAGMA synchronous = NORMAL; \
                                 PRAGMA foreign_keys = ON; \
                                 PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS};"
                            )
                            .as_str(),
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|source| DatabaseError::Connect { backend, source })?;
        POOLS_CREATED.fetch_add(1, Ordering::SeqCst);

        let database = Database {
            pool,
            backend,
            write_gate: (backend == Backend::Sqlite).then(|| Mutex::new(())),
        };
        if let Err(error) = database.prepare_schema().await {
            database.pool.close().await;
            return Err(error);
        }
        Ok(database)
    }

    async fn prepare_schema(&self) -> Result<(), DatabaseError> {
        let backend = self.backend;
        match backend {
            Backend::Sqlite => {
                sqlx::migrate!("./migrations/sqlite")
                    .run(&self.pool)
                    .await
                    .map_err(|source| DatabaseError::Migrate { backend, source })?;
            }
            Backend::Postgres => {
                sqlx::migrate!("./migrations/postgres")
                    .run(&self.pool)
                    .await
                    .map_err(|source| DatabaseError::Migrate { backend, source })?;
            }
        }
        Ok(())
    }
}
