//! `AppError`: the one error type of the HTTP layer. Each variant has a status; client errors carry
//! a reason the client can act on; internal errors are logged with context and answered with a
//! generic message, never the details.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::store::StoreError;

/// An error answered to an HTTP client.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Malformed input: 400 with the reason.
    #[error("{0}")]
    BadRequest(String),
    /// No or an invalid bearer token: 401.
    #[error("authentication required")]
    Unauthorized,
    /// Authenticated but not allowed: 403.
    #[error("{0}")]
    Forbidden(String),
    /// 404 with what was not found.
    #[error("{0}")]
    NotFound(String),
    /// 409: the request conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// 503: a dependency (the database) is unavailable.
    #[error("{0}")]
    Unavailable(String),
    /// 500: logged, not shown.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> AppError {
        match e {
            StoreError::Conflict(m) => AppError::Conflict(m),
            StoreError::NotFound(m) => AppError::NotFound(m),
            other => AppError::Internal(other.into()),
        }
    }
}

impl From<crate::admin::AdminError> for AppError {
    fn from(e: crate::admin::AdminError) -> AppError {
        use crate::admin::{AdminError, ErrorClass};
        match (e.class(), e) {
            (_, AdminError::Store(s)) => s.into(),
            (ErrorClass::Invalid, e) => AppError::BadRequest(e.to_string()),
            (ErrorClass::NotFound, e) => AppError::NotFound(e.to_string()),
            (ErrorClass::Conflict, e) => AppError::Conflict(e.to_string()),
            (ErrorClass::Internal, e) => AppError::Internal(e.into()),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let AppError::Internal(e) = &self {
            tracing::error!(error = format!("{e:#}"), "request failed");
        }
        let mut resp = (status, Json(json!({ "error": self.to_string() }))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        resp
    }
}
