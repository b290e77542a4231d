//! The fake's public face: a thin HTTP front that forwards every request to wiremock and
//! replays one that fell into a rotation window (see the module docs of `llm`), so that
//! freeing wiremock's retained requests never costs a caller an answer. Streamed answers
//! it serves itself (`stream.rs`): wiremock cannot pace a body's chunks.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;

use crate::responder::Shared;
use crate::stream;

/// Largest request body the front accepts (the real API's limit is 32 MB).
const MAX_BODY: usize = 32 * 1024 * 1024;
/// Replays per request; one rotation window can only be hit once in practice.
const ATTEMPTS: usize = 3;

/// Rotation state shared between the rotator and the front.
#[derive(Debug, Default)]
pub(crate) struct Rotation {
    /// Set while a reset-and-remount is under way.
    pub(crate) active: AtomicBool,
    /// Completed rotations.
    pub(crate) count: AtomicU64,
}

#[derive(Clone)]
struct Front {
    shared: Arc<Shared>,
    backend: String,
    client: reqwest::Client,
    rotation: Arc<Rotation>,
}

/// Serves the front on `listener` until the returned task is aborted.
pub(crate) fn spawn(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    backend: String,
    rotation: Arc<Rotation>,
) -> tokio::task::JoinHandle<()> {
    let front = Front {
        shared,
        backend,
        client: reqwest::Client::new(),
        rotation,
    };
    let app = Router::new().fallback(forward).with_state(front);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "LLM fake front stopped");
        }
    })
}

fn hop_by_hop(name: &HeaderName) -> bool {
    name == header::HOST
        || name == header::CONTENT_LENGTH
        || name == header::CONNECTION
        || name == header::TRANSFER_ENCODING
}

async fn forward(State(front): State<Front>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = match to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(e) => return (StatusCode::PAYLOAD_TOO_LARGE, e.to_string()).into_response(),
    };
    if parts.method == axum::http::Method::POST
        && parts.uri.path() == "/v1/messages"
        && stream::wanted(&body)
    {
        return stream::respond(&front.shared, &parts.headers, &body);
    }
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let url = format!("{}{}", front.backend, path);
    for attempt in 1..=ATTEMPTS {
        let before = front.rotation.count.load(Ordering::Acquire);
        let mut upstream = front.client.request(parts.method.clone(), &url);
        for (name, value) in parts.headers.iter().filter(|(n, _)| !hop_by_hop(n)) {
            upstream = upstream.header(name, value);
        }
        let resp = match upstream.body(body.clone()).send().await {
            Ok(r) => r,
            Err(e) => return (StatusCode::BAD_GATEWAY, format!("LLM fake: {e}")).into_response(),
        };
        let in_window = resp.status() == StatusCode::NOT_FOUND
            && (front.rotation.active.load(Ordering::Acquire)
                || front.rotation.count.load(Ordering::Acquire) != before);
        if in_window && attempt < ATTEMPTS {
            continue;
        }
        let mut out = Response::builder().status(resp.status());
        for (name, value) in resp.headers().iter().filter(|(n, _)| !hop_by_hop(n)) {
            out = out.header(name, value);
        }
        let bytes = resp.bytes().await.unwrap_or_default();
        return out
            .body(Body::from(bytes))
            .unwrap_or_else(|e| (StatusCode::BAD_GATEWAY, e.to_string()).into_response());
    }
    (
        StatusCode::BAD_GATEWAY,
        "LLM fake: rotation retries exhausted",
    )
        .into_response()
}
