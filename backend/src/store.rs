//! The queries: users, threads, messages.
//!
//! Every function takes the [`Database`] handed out by [`crate::database::pool()`];
//! nothing here opens a connection of its own. The SQL is written once for both engines
//! (`$n` parameters, `ON CONFLICT`, `RETURNING` are understood by SQLite and PostgreSQL).

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use sqlx::Row;

use std::collections::HashMap;

use tokio::sync::oneshot;

use crate::database::{Database, DatabaseError, Writer};

/// A stored chat message.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StoredMessage {
    pub id: i64,
    pub run_id: String,
    pub role: String,
    pub content: String,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
}

/// The result of claiming a thread id for a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// The thread belongs to the user (it did already, or has just been created for them).
    Owned,
    /// The thread belongs to someone else.
    Foreign,
}

pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

pub async fn create_user(
    db: &Database,
    id: &str,
    name: &str,
    token_hash: &str,
) -> Result<(), DatabaseError> {
    let query =
        sqlx::query("INSERT INTO users (id, name, token_hash, created_at) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(name)
            .bind(token_hash)
            .bind(now_millis());
    db.writer().await.execute(query).await?;
    match db.not_durable() {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// The id and name of the user whose token hashes to `token_hash`.
pub async fn user_by_token_hash(
    db: &Database,
    token_hash: &str,
) -> Result<Option<(String, String)>, DatabaseError> {
    let row = sqlx::query("SELECT id, name FROM users WHERE token_hash = $1")
        .bind(token_hash)
        .fetch_optional(db.pool())
        .await?;
    match row {
        Some(row) => Ok(Some((row.try_get("id")?, row.try_get("name")?))),
        None => Ok(None),
    }
}

/// Who owns a thread, if it exists.
pub async fn thread_owner(db: &Database, thread_id: &str) -> Result<Option<String>, DatabaseError> {
    let row = sqlx::query("SELECT owner_id FROM threads WHERE id = $1")
        .bind(thread_id)
        .fetch_optional(db.pool())
        .await?;
    match row {
        Some(row) => Ok(Some(row.try_get("owner_id")?)),
        None => Ok(None),
    }
}

/// Makes `thread_id` a thread of `user_id` unless it exists; tells whose it is.
pub async fn claim_thread(
    db: &Database,
    thread_id: &str,
    user_id: &str,
) -> Result<Claim, DatabaseError> {
    let owner = match thread_owner(db, thread_id).await? {
        Some(owner) => owner,
        None => {
            let query = sqlx::query(
                "INSERT INTO threads (id, owner_id, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(thread_id)
            .bind(user_id)
            .bind(now_millis());
            db.writer().await.execute(query).await?;
            // Whoever won a race for the same id owns it.
            thread_owner(db, thread_id).await?.unwrap_or_default()
        }
    };
    Ok(if owner == user_id {
        Claim::Owned
    } else {
        Claim::Foreign
    })
}

/// One agent run's messages, to be stored together.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub thread_id: String,
    pub run_id: String,
    pub user_message: String,
    pub assistant_message: String,
}

/// The ids of an exchange's two messages: (user, assistant).
pub type ExchangeIds = (i64, i64);

struct PendingExchange {
    exchange: Exchange,
    done: oneshot::Sender<Result<ExchangeIds, DatabaseError>>,
}

/// Exchanges waiting for SQLite's write connection (group commit).
///
/// Under load many runs finish while one write is in progress. Instead of each taking the
/// write connection in turn for one small statement, the next one to get it writes every
/// exchange waiting by then in a single statement, and hands each run its ids. A run whose
/// exchange was written by another simply receives its result.
#[derive(Default)]
pub struct ExchangeQueue {
    pending: std::sync::Mutex<Vec<PendingExchange>>,
}

/// Most exchanges written by one statement (5 parameters each, far below SQLite's limit).
const MAX_GROUP: usize = 64;

impl ExchangeQueue {
    fn push(&self, pending: PendingExchange) {
        self.lock().push(pending);
    }

    /// The oldest waiting exchanges, at most [`MAX_GROUP`].
    fn take(&self) -> Vec<PendingExchange> {
        let mut pending = self.lock();
        let n = pending.len().min(MAX_GROUP);
        pending.drain(..n).collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<PendingExchange>> {
        // Nothing panics while holding this lock; if something did, the queue is still valid.
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Stores one exchange (the user's message and the assistant's answer) atomically;
/// returns the ids of the two messages.
///
/// Never acknowledges what a restart would not find: after the statement that stored the
/// exchange, the database file is checked ([`Database::not_durable`]); if it was removed or
/// replaced meanwhile, the exchange is reported as not stored. On SQLite that check runs
/// once per group of exchanges written together, after their commit and before any of
/// them is answered.
pub async fn append_exchange(
    db: &Database,
    exchange: Exchange,
) -> Result<ExchangeIds, DatabaseError> {
    let Some(queue) = db.exchange_queue() else {
        // PostgreSQL: concurrent writers are its business.
        let mut writer = db.writer().await;
        let ids = insert_exchanges(&mut writer, &[&exchange])
            .await
            .map(|ids| ids[0])?;
        drop(writer);
        return match db.not_durable() {
            Some(error) => Err(error),
            None => Ok(ids),
        };
    };
    let (done, mut result) = oneshot::channel();
    queue.push(PendingExchange { exchange, done });
    loop {
        tokio::select! {
            biased;
            written = &mut result => {
                return written.unwrap_or_else(|_| {
                    Err(DatabaseError::Query(sqlx::Error::Protocol(
                        "the exchange was dropped before it was written".to_owned(),
                    )))
                });
            }
            mut writer = db.writer() => {
                let group = queue.take();
                if !group.is_empty() {
                    let written = write_group(&mut writer, group).await;
                    drop(writer);
                    acknowledge(db, written);
                }
            }
        }
    }
}

/// A written exchange's waiter and the outcome of its write.
type Written = (
    oneshot::Sender<Result<ExchangeIds, DatabaseError>>,
    Result<ExchangeIds, DatabaseError>,
);

async fn write_group(writer: &mut Writer<'_>, group: Vec<PendingExchange>) -> Vec<Written> {
    let exchanges: Vec<&Exchange> = group.iter().map(|p| &p.exchange).collect();
    let results: Vec<Result<ExchangeIds, DatabaseError>> =
        match insert_exchanges(writer, &exchanges).await {
            Ok(ids) => ids.into_iter().map(Ok).collect(),
            Err(error) if group.len() == 1 => vec![Err(error)],
            Err(_) => {
                // One bad exchange must not fail the others: write them one by one.
                let mut results = Vec::with_capacity(group.len());
                for exchange in &exchanges {
                    results.push(
                        insert_exchanges(writer, &[exchange])
                            .await
                            .map(|ids| ids[0]),
                    );
                }
                results
            }
        };
    group
        .into_iter()
        .map(|pending| pending.done)
        .zip(results)
        .collect()
}

/// Answers the waiters of a written group, after checking once that the database file is
/// still the one written to.
fn acknowledge(db: &Database, written: Vec<Written>) {
    let lost = if written.iter().any(|(_, result)| result.is_ok()) {
        db.not_durable().map(|error| error.to_string())
    } else {
        None
    };
    for (done, result) in written {
        let result = match (&lost, result) {
            (Some(reason), Ok(_)) => Err(DatabaseError::Degraded(reason.clone())),
            (_, result) => result,
        };
        let _ = done.send(result);
    }
}

/// Inserts the exchanges with one statement (atomic); their ids, in the given order.
async fn insert_exchanges(
    writer: &mut Writer<'_>,
    exchanges: &[&Exchange],
) -> Result<Vec<ExchangeIds>, DatabaseError> {
    let n = exchanges.len();
    let created_at = 4 * n + 1;
    let mut sql =
        String::from("INSERT INTO messages (thread_id, run_id, role, content, created_at) VALUES ");
    for i in 0..n {
        let b = 4 * i;
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!(
            "(${t}, ${r}, 'user', ${u}, ${created_at}), (${t}, ${r}, 'assistant', ${a}, ${created_at})",
            t = b + 1,
            r = b + 2,
            u = b + 3,
            a = b + 4,
        ));
    }
    sql.push_str(" RETURNING id, run_id, role");

    let mut query = sqlx::query(&sql);
    for exchange in exchanges {
        query = query
            .bind(exchange.thread_id.as_str())
            .bind(exchange.run_id.as_str())
            .bind(exchange.user_message.as_str())
            .bind(exchange.assistant_message.as_str());
    }
    let rows = writer.fetch_all(query.bind(now_millis())).await?;

    // RETURNING promises no order: match rows to exchanges by run id and role.
    let mut ids: HashMap<(String, String), i64> = HashMap::with_capacity(rows.len());
    for row in &rows {
        ids.insert(
            (row.try_get("run_id")?, row.try_get("role")?),
            row.try_get("id")?,
        );
    }
    exchanges
        .iter()
        .map(|exchange| {
            let id = |role: &str| {
                ids.get(&(exchange.run_id.clone(), role.to_owned()))
                    .copied()
                    .ok_or_else(|| {
                        DatabaseError::Query(sqlx::Error::Protocol(format!(
                            "no {role} message id returned for run {}",
                            exchange.run_id
                        )))
                    })
            };
            Ok((id("user")?, id("assistant")?))
        })
        .collect()
}

/// Content bytes a page carries at most (at least one message, whatever its size): with
/// messages of up to 32768 characters, `limit` alone would allow pages of 128 MiB.
pub const MAX_PAGE_CONTENT_BYTES: usize = 1024 * 1024;

/// One page of a thread's messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub messages: Vec<StoredMessage>,
    /// The id to pass as `after` for the next page; None on the last page.
    pub next_cursor: Option<i64>,
}

/// The messages of a thread with an id above `after`, oldest first: at most `limit`, and no
/// more than [`MAX_PAGE_CONTENT_BYTES`] of content (rows are read one at a time, so a
/// page never holds more than that in memory).
pub async fn list_messages(
    db: &Database,
    thread_id: &str,
    after: i64,
    limit: i64,
) -> Result<Page, DatabaseError> {
    use futures_util::TryStreamExt;

    let mut rows = sqlx::query(
        "SELECT id, run_id, role, content, created_at FROM messages \
         WHERE thread_id = $1 AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind(thread_id)
    .bind(after)
    // One more than asked: tells whether there is a next page.
    .bind(limit + 1)
    .fetch(db.pool());
    let mut messages: Vec<StoredMessage> = Vec::new();
    let mut bytes = 0usize;
    let mut more = false;
    while let Some(row) = rows.try_next().await? {
        if i64::try_from(messages.len()).unwrap_or(i64::MAX) >= limit
            || (!messages.is_empty() && bytes >= MAX_PAGE_CONTENT_BYTES)
        {
            more = true;
            break;
        }
        let message = StoredMessage {
            id: row.try_get("id")?,
            run_id: row.try_get("run_id")?,
            role: row.try_get("role")?,
            content: row.try_get("content")?,
            created_at: row.try_get("created_at")?,
        };
        bytes += message.content.len();
        messages.push(message);
    }
    let next_cursor = if more {
        messages.last().map(|message| message.id)
    } else {
        None
    };
    Ok(Page {
        messages,
        next_cursor,
    })
}
