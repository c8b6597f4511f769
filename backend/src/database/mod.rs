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
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
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
/// How often the background checkpointer copies the WAL into the database file.
const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(1);
/// WAL size (in frames, i.e. pages: 16 MiB) from which the checkpointer lets the WAL start
/// over when the write connection is idle...
const WAL_RESTART_FRAMES: i64 = 4_096;
/// ...and the size (512 MiB) at which it makes writers wait for that.
const WAL_LIMIT_FRAMES: i64 = 131_072;
/// Background checkpoints to run, at most, before the final one on the write connection...
const CATCH_UP_ROUNDS: usize = 8;
/// ...until one of them finds no more than this many new frames.
const CATCH_UP_FRAMES: i64 = 256;
/// SQLite's own automatic checkpoint, left as a safety net far above the normal WAL size.
const SQLITE_AUTOCHECKPOINT_PAGES: u32 = 262_144;

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
            // A SQLite connection is a local file handle: pinging it before every use would
            // cost a round trip to its worker thread per query and detect nothing.
            .test_before_acquire(backend == Backend::Postgres)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // Per-connection settings. NORMAL is durable across process crashes
                        // in WAL mode and avoids an fsync per commit. Checkpoints are the
                        // background checkpointer's job (see `checkpoint_loop`), not the
                        // committing writer's.
                        conn.execute(
                            format!(
                                "PRAGMA synchronous = NORMAL; \
                                 PRAGMA foreign_keys = ON; \
                                 PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}; \
                                 PRAGMA wal_autocheckpoint = {SQLITE_AUTOCHECKPOINT_PAGES};"
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

        match Database::finish(pool.clone(), backend).await {
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
    async fn finish(pool: AnyPool, backend: Backend) -> Result<Database, DatabaseError> {
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

/// SQLite: keeps checkpoints off the write path.
///
/// By default the connection that commits also checkpoints once the WAL holds 1000
/// pages: it copies them into the database file and fsyncs while every writer waits;
/// under load those commits took 10–30 ms and set the p99 of agent runs. Here a `PASSIVE`
/// checkpoint runs every second on a reading connection, concurrently with the writer.
///
/// A WAL starts over only when a write begins with every frame checkpointed, which never
/// happens while writes keep arriving during checkpoints. So once the WAL holds
/// [`WAL_RESTART_FRAMES`] frames, the checkpointer finishes the job on the write connection
/// itself, where no write can interleave: at once if that connection is idle, or, under
/// sustained writing, only once the WAL reaches [`WAL_LIMIT_FRAMES`] — after background
/// rounds have copied all but the last few frames, so writers wait only for those and the
/// fsyncs. As with SQLite's defaults, the WAL file keeps the largest size it reached and is
/// reused from its start (cutting a file of hundreds of MiB back would itself stall writes).
async fn checkpoint_loop(pool: AnyPool, write_connection: Arc<Mutex<PoolConnection<Any>>>) {
    let mut interval = tokio::time::interval(CHECKPOINT_INTERVAL);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        if pool.is_closed() {
            return;
        }
        let mut wal = match checkpoint(&pool).await {
            Ok(wal) => wal,
            Err(error) => {
                eprintln!("database: background checkpoint failed: {error}");
                continue;
            }
        };
        if wal.frames < WAL_RESTART_FRAMES {
            continue;
        }
        let mut connection = match write_connection.try_lock() {
            Ok(idle) => idle,
            Err(_) if wal.frames < WAL_LIMIT_FRAMES => continue,
            Err(_) => {
                // Each round copies what was written during the previous one; the rounds
                // shrink as long as checkpointing is faster than writing.
                for _ in 0..CATCH_UP_ROUNDS {
                    match checkpoint(&pool).await {
                        Ok(next) => {
                            let written_meanwhile = next.frames - wal.frames;
                            wal = next;
                            if written_meanwhile <= CATCH_UP_FRAMES {
                                break;
                            }
                        }
                        Err(_) => break,
                    }
                }
                write_connection.lock().await
            }
        };
        let started = std::time::Instant::now();
        let result = checkpoint(&mut **connection).await;
        drop(connection);
        if let Err(error) = result {
            eprintln!("database: checkpoint on the write connection failed: {error}");
        }
        let held = started.elapsed();
        if held > Duration::from_millis(100) {
            eprintln!(
                "database: a WAL checkpoint held writes for {} ms (WAL: {} frames)",
                held.as_millis(),
                wal.frames
            );
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
