//! Errors of the HTTP routes, and how they look on the wire.
//!
//! Every error response has one shape: `{"error": "<code>", "message": "<text>"}` with
//! `content-type: application/json` — the routes' own errors, and also the answers axum
//! and its extractors produce (unknown route, wrong method, body too large, a `GET /ws`
//! without upgrade, a query or path that does not parse), which [`json_errors`] rewrites.

use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::database::DatabaseError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("missing or invalid bearer token")]
    Unauthorized,
    #[error("{0}")]
    NotFound(&'static str),
    #[error("{0}")]
    BadRequest(String),
    #[error("method not allowed on this route")]
    MethodNotAllowed,
    #[error("the request was not received and answered within {} s (REQUEST_TIMEOUT_SECS)", .0.as_secs_f64())]
    Timeout(Duration),
    #[error(transparent)]
    Database(#[from] DatabaseError),
}

/// The error code of each status, the `error` field.
pub fn code(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "invalid_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        408 => "request_timeout",
        411 => "length_required",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        422 => "invalid_request",
        426 => "upgrade_required",
        429 => "too_many_requests",
        503 => "unavailable",
        s if s >= 500 => "internal",
        _ => "invalid_request",
    }
}

fn body(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "error": code, "message": message }))).into_response()
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let message = self.to_string();
        let mut response = match &self {
            AppError::Unauthorized => body(StatusCode::UNAUTHORIZED, "unauthorized", &message),
            AppError::NotFound(_) => body(StatusCode::NOT_FOUND, "not_found", &message),
            AppError::BadRequest(_) => body(StatusCode::BAD_REQUEST, "invalid_request", &message),
            AppError::MethodNotAllowed => body(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                &message,
            ),
            AppError::Timeout(_) => body(StatusCode::REQUEST_TIMEOUT, "request_timeout", &message),
            AppError::Database(error) if error.is_unavailable() => {
                eprintln!("request failed: {error}");
                body(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "database_unavailable",
                    &message,
                )
            }
            AppError::Database(error) => {
                eprintln!("request failed: {error}");
                body(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error",
                )
            }
        };
        if matches!(self, AppError::Unauthorized) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if matches!(self, AppError::Timeout(_)) {
            // The rest of the body is not going to be read.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

/// Longest plain-text error body carried over into `message`.
const MAX_TEXT: usize = 4096;

/// Middleware: an error response that is not JSON (axum's rejections, its 404/405) becomes
/// `{"error": code, "message": its text}`; headers such as `Allow` are kept.
pub async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, original) = response.into_parts();
    let text = match axum::body::to_bytes(original, MAX_TEXT).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_owned(),
        Err(_) => String::new(),
    };
    let message = if text.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("error")
            .to_ascii_lowercase()
    } else {
        text
    };
    let json = json!({ "error": code(status), "message": message }).to_string();
    parts.headers.remove(header::CONTENT_LENGTH);
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        // The rest of the body is not read: the connection cannot carry another request.
        parts
            .headers
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(json))
}
