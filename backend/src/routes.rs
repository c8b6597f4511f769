//! The HTTP routes other than `/ws`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::auth::{self, User};
use crate::database::{self, DatabaseError};
use crate::error::AppError;
use crate::store;
use crate::ws;

/// `GET /health/database`: 200 `{"status":"healthy"}`; or 503 with the reason, `unhealthy`
/// when the database cannot be reached, `degraded` when it answers but cannot serve (schema
/// missing, writes failing, file removed).
pub async fn health_database() -> Response {
    let result = match database::pool().await {
        Ok(db) => db.health().await,
        Err(error) => Err(error),
    };
    match result {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "healthy" }))).into_response(),
        Err(error) => {
            let status = match error {
                DatabaseError::Degraded(_) => "degraded",
                _ => "unhealthy",
            };
            let reason = error.to_string();
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({
                    "status": status,
                    "reason": reason,
                    "error": "database_unavailable",
                    "message": reason,
                })),
            )
                .into_response()
        }
    }
}

/// `GET /stats`: process counters, for tests and operators.
pub async fn stats() -> Response {
    Json(json!({
        "pools_created": database::pools_created(),
        "pool_init_failures": database::init_failures(),
    }))
    .into_response()
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    #[serde(default)]
    name: Option<String>,
}

/// Longest user name, in characters.
const MAX_NAME_CHARS: usize = 100;

/// `POST /users` with an optional JSON body `{"name": "..."}`: 201 with the user's id
/// and bearer token. The token is shown once; only its SHA-256 is stored.
pub async fn create_user(body: Bytes) -> Result<Response, AppError> {
    let request: NewUser = if body.iter().all(u8::is_ascii_whitespace) {
        NewUser::default()
    } else {
        let value: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|error| AppError::BadRequest(format!("the body is not JSON: {error}")))?;
        if !value.is_object() {
            // serde would read a struct from an array too: `["alice"]`.
            return Err(AppError::BadRequest(
                "the body must be a JSON object, e.g. {\"name\":\"alice\"}".to_owned(),
            ));
        }
        serde_json::from_value(value).map_err(|error| AppError::BadRequest(error.to_string()))?
    };
    let name = request.name.unwrap_or_default().trim().to_owned();
    if name.contains('\0') {
        return Err(AppError::BadRequest(
            "name must not contain NUL (\\u0000)".to_owned(),
        ));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::BadRequest(format!(
            "name is longer than {MAX_NAME_CHARS} characters"
        )));
    }
    let randomness =
        |error: getrandom::Error| AppError::BadRequest(format!("cannot generate a token: {error}"));
    let user_id = format!("u_{}", auth::random_hex(12).map_err(randomness)?);
    let token = auth::new_token().map_err(randomness)?;
    let name = if name.is_empty() {
        user_id.clone()
    } else {
        name
    };

    let db = database::pool().await?;
    store::create_user(db, &user_id, &name, &auth::hash_token(&token)).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "user_id": user_id, "name": name, "token": token })),
    )
        .into_response())
}

/// Messages per page when `limit` is not given.
pub const DEFAULT_PAGE_MESSAGES: i64 = 100;
/// Largest `limit`.
pub const MAX_PAGE_MESSAGES: i64 = 1000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    limit: Option<String>,
    after: Option<String>,
}

/// `GET /threads/{id}/messages?limit=N&after=ID`: one page of the thread's messages,
/// oldest first, those with an id above `after`; `next_cursor` is the `after` of the next
/// page, or null on the last. 404 unless it is the caller's thread.
pub async fn thread_messages(
    user: User,
    Path(thread_id): Path<String>,
    Query(page): Query<PageQuery>,
) -> Result<Response, AppError> {
    const NOT_FOUND: AppError = AppError::NotFound("thread not found");
    let limit = match page.limit.as_deref() {
        None => DEFAULT_PAGE_MESSAGES,
        Some(text) => match text.parse::<i64>() {
            Ok(n) if (1..=MAX_PAGE_MESSAGES).contains(&n) => n,
            _ => {
                return Err(AppError::BadRequest(format!(
                    "limit must be a whole number from 1 to {MAX_PAGE_MESSAGES}"
                )));
            }
        },
    };
    let after = match page.after.as_deref() {
        None => 0,
        Some(text) => match text.parse::<i64>() {
            Ok(n) if n >= 0 => n,
            _ => {
                return Err(AppError::BadRequest(
                    "after must be a message id (the next_cursor of the previous page)".to_owned(),
                ));
            }
        },
    };
    if !ws::valid_thread_id(&thread_id) {
        return Err(NOT_FOUND);
    }
    let db = database::pool().await?;
    match store::thread_owner(db, &thread_id).await? {
        Some(owner) if owner == user.id => {}
        _ => return Err(NOT_FOUND),
    }
    let page = store::list_messages(db, &thread_id, after, limit).await?;
    Ok(Json(json!({
        "thread_id": thread_id,
        "messages": page.messages,
        "next_cursor": page.next_cursor,
    }))
    .into_response())
}
