//! `JsonBody`: like axum's `Json`, but every rejection becomes an `AppError` with a JSON
//! body: 413 over the size limit, 400 for malformed JSON or a wrong shape.
//!
//! An oversized body is read to its end (within bounds) before the 413 goes out. A server
//! that answers early and closes makes the client's write fail with a broken pipe, so the
//! client never sees the 413 at all; nginx calls the cure a lingering close.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{FromRef, FromRequest, Request};
use axum::http::{header, StatusCode};
use futures::StreamExt;
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use super::error::AppError;
use crate::state::AppState;

/// The most of an oversized body we read and drop before giving up on the client.
const DRAIN_BYTES: usize = 16 * 1024 * 1024;
/// The longest we wait for the rest of an oversized body.
const DRAIN_TIME: Duration = Duration::from_secs(2);

/// A JSON request body.
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let limit = AppState::from_ref(state).config.limits.max_body_bytes;
        let (parts, body) = req.into_parts();
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let bytes = read_limited(body, limit, declared).await?;
        let req = Request::from_parts(parts, Body::from(bytes));
        use axum::extract::rejection::JsonRejection;
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(JsonBody(v)),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(AppError::TooLarge(limit)),
            // serde's own wording stays in the log; the body says which rule was broken.
            Err(JsonRejection::JsonSyntaxError(_))
                if crate::defect::active(crate::defect::Defect::MalformedJson500) =>
            {
                Err(AppError::Internal("malformed JSON".into()))
            }
            #[cfg(feature = "defects")]
            Err(JsonRejection::JsonSyntaxError(_))
                if crate::defect::active(crate::defect::Defect::MalformedJson422) =>
            {
                Err(AppError::Unprocessable("body: not valid JSON".into()))
            }
            Err(e) => {
                tracing::debug!(error = %e.body_text(), "request body refused");
                Err(AppError::BadRequest(
                    match e {
                        JsonRejection::MissingJsonContentType(_) => {
                            "content-type: must be application/json"
                        }
                        JsonRejection::JsonSyntaxError(_) => "body: not valid JSON",
                        _ => "body: does not match the operation's schema",
                    }
                    .into(),
                ))
            }
        }
    }
}

/// The whole body if it fits in `limit` bytes; otherwise `TooLarge`, after draining.
async fn read_limited(body: Body, limit: usize, declared: Option<u64>) -> Result<Bytes, AppError> {
    let mut stream = body.into_data_stream();
    if declared.is_some_and(|n| n > limit as u64) {
        drain(stream).await;
        return Err(AppError::TooLarge(limit));
    }
    let mut buf = Vec::with_capacity(declared.map_or(0, |n| n as usize));
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            tracing::debug!(error = %e, "request body broken off");
            AppError::BadRequest("body: could not be read".into())
        })?;
        if buf.len() + chunk.len() > limit {
            drain(stream).await;
            return Err(AppError::TooLarge(limit));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buf))
}

/// Reads and drops the rest of a body, at most `DRAIN_BYTES` within `DRAIN_TIME`; a
/// client that sends more than that gets its connection closed mid-write.
async fn drain(mut stream: axum::body::BodyDataStream) {
    let deadline = Instant::now() + DRAIN_TIME;
    let mut left = DRAIN_BYTES;
    while let Ok(Some(Ok(chunk))) = tokio::time::timeout_at(deadline, stream.next()).await {
        left = left.saturating_sub(chunk.len());
        if left == 0 {
            tracing::debug!("oversized body still arriving after the drain allowance");
            break;
        }
    }
}

/// For `#[serde(default, deserialize_with = "not_null")]`: a field that may be left out
/// but, when present, must hold a value. `null` is refused, as the contract does not
/// make these fields nullable.
pub fn not_null<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// `Err(400)` naming `field` when `value` holds a NUL character, which no text column
/// stores and no identifier needs.
pub fn no_nul(field: &str, value: &str) -> Result<(), AppError> {
    if value.contains('\0') {
        return Err(AppError::BadRequest(format!(
            "{field}: must not contain NUL characters"
        )));
    }
    Ok(())
}
