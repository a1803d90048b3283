//! JSON errors: every failure is `{"error": "<message>"}` with a fitting status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use switchboard_storage::StorageError;

/// The body of every error.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    /// What went wrong, for the user.
    pub error: String,
}

/// An HTTP error with a message for the user.
#[derive(Debug, thiserror::Error)]
#[error("{message} (HTTP {status})")]
pub struct HttpError {
    /// Status code.
    pub status: u16,
    /// Message.
    pub message: String,
    /// Extra machine-readable fields merged into the JSON body (e.g. an import report).
    pub details: Option<serde_json::Value>,
}

impl HttpError {
    /// New error.
    pub fn new(status: u16, message: impl Into<String>) -> HttpError {
        HttpError {
            status,
            message: message.into(),
            details: None,
        }
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ErrorBody {
            error: self.message,
        };
        let mut body = serde_json::to_value(body).unwrap_or_default();
        if let Some(serde_json::Value::Object(extra)) = self.details {
            for (k, v) in extra {
                body[k] = v;
            }
        }
        (status, Json(body)).into_response()
    }
}

impl From<StorageError> for HttpError {
    fn from(e: StorageError) -> HttpError {
        match e {
            StorageError::NotFound(m) => HttpError::new(404, m),
            StorageError::Conflict(m) => HttpError::new(409, m),
            StorageError::Invalid(m) => HttpError::new(400, m),
            other => {
                tracing::error!(%other, "storage error");
                HttpError::new(500, "internal storage error")
            }
        }
    }
}

/// JSON bodies that fail to parse answer 400 with serde's message; a body
/// over the size limit answers 413.
pub fn bad_json(e: axum::extract::rejection::JsonRejection) -> HttpError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        return HttpError::new(
            413,
            format!(
                "request body too large (at most {} KiB)",
                crate::hardening::API_BODY_LIMIT >> 10
            ),
        );
    }
    HttpError::new(400, format!("invalid JSON body: {}", e.body_text()))
}

/// Unknown routes.
pub async fn not_found() -> HttpError {
    HttpError::new(404, "no such endpoint (see /openapi.json)")
}
