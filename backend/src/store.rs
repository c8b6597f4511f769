//! The queries: users, threads, messages.
//!
//! Every function takes the [`Database`] handed out by [`crate::database::pool()`];
//! nothing here opens a connection of its own. The SQL is written once for both engines
//! (`$n` parameters, `ON CONFLICT`, `RETURNING` are understood by SQLite and PostgreSQL).

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use sqlx::Row;

use crate::database::{Database, DatabaseError};

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
    let writer = db.writer().await;
    sqlx::query("INSERT INTO users (id, name, token_hash, created_at) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(name)
        .bind(token_hash)
        .bind(now_millis())
        .execute(writer.pool())
        .await?;
    Ok(())
}

/// The id and name of the user whose token hashes to `token_hash`.
pub async fn user_by_token_hash(
    db: &Database,
    token_hash: &str,
) -> Result<Option<(String, String)>, DatabaseError> {
    let row = sqlx::query("SELECT id, name FROM users WHERE token_hash = $1")
        .bind(token_hash)
        .fetch_optional(db.reader())
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
        .fetch_optional(db.reader())
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
            let writer = db.writer().await;
            sqlx::query(
                "INSERT INTO threads (id, owner_id, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(thread_id)
            .bind(user_id)
            .bind(now_millis())
            .execute(writer.pool())
            .await?;
            drop(writer);
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

/// Stores one exchange (the user's message and the assistant's answer) atomically, as a
/// single statement; returns the ids of the two messages in that order.
pub async fn append_exchange(
    db: &Database,
    thread_id: &str,
    run_id: &str,
    user_message: &str,
    assistant_message: &str,
) -> Result<(i64, i64), DatabaseError> {
    let writer = db.writer().await;
    let rows = sqlx::query(
        "INSERT INTO messages (thread_id, run_id, role, content, created_at) \
         VALUES ($1, $2, 'user', $3, $5), ($1, $2, 'assistant', $4, $5) \
         RETURNING id",
    )
    .bind(thread_id)
    .bind(run_id)
    .bind(user_message)
    .bind(assistant_message)
    .bind(now_millis())
    .fetch_all(writer.pool())
    .await?;
    drop(writer);
    let mut ids = rows
        .iter()
        .map(|row| row.try_get::<i64, _>("id"))
        .collect::<Result<Vec<_>, _>>()?;
    // RETURNING promises no order; ids grow in insertion order.
    ids.sort_unstable();
    match ids[..] {
        [user, assistant] => Ok((user, assistant)),
        _ => Err(DatabaseError::Query(sqlx::Error::Protocol(format!(
            "expected 2 inserted messages, got {}",
            ids.len()
        )))),
    }
}

/// The messages of a thread, oldest first.
pub async fn list_messages(
    db: &Database,
    thread_id: &str,
) -> Result<Vec<StoredMessage>, DatabaseError> {
    let rows = sqlx::query(
        "SELECT id, run_id, role, content, created_at FROM messages \
         WHERE thread_id = $1 ORDER BY id",
    )
    .bind(thread_id)
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(StoredMessage {
                id: row.try_get("id")?,
                run_id: row.try_get("run_id")?,
                role: row.try_get("role")?,
                content: row.try_get("content")?,
                created_at: row.try_get("created_at")?,
            })
        })
        .collect()
}
