//! Serving a planned stream: the front hands a `"stream": true` call here, since
//! wiremock answers only whole bodies and cannot pace chunks.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tokio::time::{sleep_until, Instant};

use super::{plan, Planned, Step};
use crate::responder::{Decision, Shared};

/// Whether a Messages request body asks for a stream.
pub(crate) fn wanted(body: &[u8]) -> bool {
    // Cheap test first: most calls are whole, and their bodies need no second parse.
    body.windows(8).any(|w| w == b"\"stream\"")
        && serde_json::from_slice::<Value>(body).is_ok_and(|v| v["stream"] == true)
}

/// Answers one streamed call: an error status before the stream, as the API does, or
/// the paced events of the planned answer.
pub(crate) fn respond(shared: &Arc<Shared>, headers: &HeaderMap, body: &[u8]) -> Response {
    let start = Instant::now();
    let answer = match shared.decide(headers.contains_key("x-api-key"), body) {
        Decision::Refuse { status, body } => {
            let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut r = (code, axum::Json(body)).into_response();
            if status == 429 {
                r.headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
            }
            return r;
        }
        Decision::Answer(a) => a,
    };
    let steps = plan(&answer, shared.stream_fault());
    shared.streams.fetch_add(1, Ordering::Relaxed);
    let pacer = Pacer {
        shared: shared.clone(),
        steps: steps.into_iter(),
        start,
        done: false,
    };
    let events = futures::stream::unfold(pacer, |mut p| async move {
        let next = p.steps.next();
        let Some(Planned { at, step }) = next else {
            p.finish();
            return None;
        };
        sleep_until(p.start + at).await;
        match step {
            Step::Event { name, data } => {
                let frame = format!("event: {name}\ndata: {data}\n\n");
                Some((Ok(Bytes::from(frame)), p))
            }
            Step::Cut => {
                p.finish();
                let cut = std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "truncated");
                Some((Err(cut), p))
            }
        }
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(events))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// A stream's remaining steps. Dropped before its end, it was dropped because the
/// caller went away, which the fake counts: a cancelled call.
struct Pacer {
    shared: Arc<Shared>,
    steps: std::vec::IntoIter<Planned>,
    start: Instant,
    done: bool,
}

impl Pacer {
    /// The stream ran to its planned end (a cut included): no disconnect to count.
    fn finish(&mut self) {
        self.done = true;
    }
}

impl Drop for Pacer {
    fn drop(&mut self) {
        if !self.done {
            self.shared.disconnects.fetch_add(1, Ordering::Relaxed);
        }
    }
}
