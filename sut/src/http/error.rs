//! `AppError`: every failure a handler can return, rendered as a JSON error body with the
//! right status. Bad input maps to 4xx; a 500 means a bug or an outage of a critical
//! dependency, never a malformed request.
//!
//! No body carries a driver's or library's text: a 5xx names at most the component that
//! failed, and the cause goes to the log with the request id.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::auth::AuthError;
use crate::ratelimit::Limited;

/// A handler failure.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: the request is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no token, or a bad one (which of the checks failed is logged, not told).
    #[error("{0}")]
    Unauthorized(&'static str),
    /// 403: the token lacks a permission.
    #[error("permission {0} required")]
    Forbidden(&'static str),
    /// 404.
    #[error("{0} not found")]
    NotFound(String),
    /// 413: body over the limit.
    #[error("request body exceeds {0} bytes")]
    TooLarge(usize),
    /// 429: rate limited; retry after this many seconds.
    #[error("rate limit exceeded")]
    RateLimited(u64),
    /// 503: a critical dependency (named) is unavailable.
    #[error("{0} unavailable")]
    Unavailable(&'static str),
    /// 500, with the cause for the log only.
    #[error("internal error: {0}")]
    Internal(String),
    /// 422: only a build with the `malformed-json-422` breach answers it.
    #[cfg(feature = "defects")]
    #[error("{0}")]
    Unprocessable(String),
}

/// The `error.type` of a response, for the request's log line.
#[derive(Debug, Clone, Copy)]
pub struct ErrorKind(pub &'static str);

impl AppError {
    fn parts(&self) -> (StatusCode, &'static str) {
        match self {
            AppError::BadRequest(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
            AppError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            AppError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            AppError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            AppError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            AppError::RateLimited(_) => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            AppError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            AppError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
            #[cfg(feature = "defects")]
            AppError::Unprocessable(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request"),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, kind) = self.parts();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let message = match &self {
            AppError::Internal(_) => "internal error".to_owned(),
            other => other.to_string(),
        };
        let mut resp = (
            status,
            Json(json!({"error": {"type": kind, "message": message}})),
        )
            .into_response();
        resp.extensions_mut().insert(ErrorKind(kind));
        match self {
            AppError::RateLimited(secs) => {
                if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
                    resp.headers_mut().insert(header::RETRY_AFTER, v);
                }
            }
            // An oversized body is drained only within bounds, so the connection may
            // still hold unread bytes. Saying we close it stops a client from pooling it
            // and sending its next request into a dying socket (RFC 9112 §9.6).
            AppError::TooLarge(_)
                if !crate::defect::active(crate::defect::Defect::NoConnectionClose) =>
            {
                resp.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            _ => {}
        }
        resp
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        tracing::error!(error = %e, "database call failed");
        AppError::Unavailable("database")
    }
}

impl From<AuthError> for AppError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Missing => AppError::Unauthorized("missing bearer token"),
            AuthError::Invalid => AppError::Unauthorized("invalid bearer token"),
            AuthError::Forbidden(p) => AppError::Forbidden(p.as_str()),
        }
    }
}

impl From<Limited> for AppError {
    fn from(Limited(secs): Limited) -> Self {
        AppError::RateLimited(secs)
    }
}
