//! The HTTP routes other than `/ws`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::auth::{self, User};
use crate::database;
use crate::error::AppError;
use crate::store;
use crate::ws;

/// `GET /health/database`: 200 `{"status":"healthy"}` or 503 with the reason.
pub async fn health_database() -> Response {
    let result = match database::pool().await {
        Ok(db) => db.ping().await,
        Err(error) => Err(error),
    };
    match result {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "healthy" }))).into_response(),
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unhealthy", "reason": error.to_string() })),
        )
            .into_response(),
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
        serde_json::from_slice(&body).map_err(|error| AppError::BadRequest(error.to_string()))?
    };
    let name = request.name.unwrap_or_default().trim().to_owned();
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

/// `GET /threads/{id}/messages`: the thread's messages, oldest first; 404 unless it is
/// the caller's thread.
pub async fn thread_messages(
    user: User,
    Path(thread_id): Path<String>,
) -> Result<Response, AppError> {
    const NOT_FOUND: AppError = AppError::NotFound("thread not found");
    if !ws::valid_thread_id(&thread_id) {
        return Err(NOT_FOUND);
    }
    let db = database::pool().await?;
    match store::thread_owner(db, &thread_id).await? {
        Some(owner) if owner == user.id => {}
        _ => return Err(NOT_FOUND),
    }
    let messages = store::list_messages(db, &thread_id).await?;
    Ok(Json(json!({ "thread_id": thread_id, "messages": messages })).into_response())
}
