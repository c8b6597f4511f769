//! Errors of the HTTP routes, and how they look on the wire.

use axum::Json;
use axum::http::StatusCode;
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
    #[error(transparent)]
    Database(#[from] DatabaseError),
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, body) = match &self {
            AppError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                json!({ "error": "unauthorized", "reason": self.to_string() }),
            ),
            AppError::NotFound(what) => (StatusCode::NOT_FOUND, json!({ "error": what })),
            AppError::BadRequest(reason) => (
                StatusCode::BAD_REQUEST,
                json!({ "error": "bad request", "reason": reason }),
            ),
            AppError::Database(error) if error.is_unavailable() => {
                eprintln!("request failed: {error}");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    json!({ "error": "database unavailable", "reason": error.to_string() }),
                )
            }
            AppError::Database(error) => {
                eprintln!("request failed: {error}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({ "error": "internal error" }),
                )
            }
        };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED
            && let Ok(value) = axum::http::HeaderValue::from_str("Bearer")
        {
            response
                .headers_mut()
                .insert(axum::http::header::WWW_AUTHENTICATE, value);
        }
        response
    }
}
