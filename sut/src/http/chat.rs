//! `POST /api/chat` and `POST /api/chat/stream`: the request checked (permission, NUL,
//! length, rate limit), then answered by the chat flow, whole or streamed.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;

use super::error::AppError;
use super::extract::{no_nul, not_null, JsonBody};
use crate::auth::{Caller, Permission};
use crate::chat::stream::{self, Asked, StreamEvent};
use crate::chat::{answer, prepare, ChatResponse};
use crate::state::AppState;
use crate::timing::Timings;

/// The request body.
#[derive(Debug, Deserialize)]
pub struct ChatRequest {
    /// The question.
    pub query: String,
    /// Conversation id.
    #[serde(default, deserialize_with = "not_null")]
    pub session_id: Option<String>,
}

const MAX_QUERY_CHARS: usize = 4000;

/// Handles one chat request.
pub async fn chat(
    State(state): State<AppState>,
    Extension(timings): Extension<Timings>,
    caller: Result<Caller, AppError>,
    JsonBody(req): JsonBody<ChatRequest>,
) -> Result<Json<ChatResponse>, AppError> {
    let (caller, query) = checked(&state, caller, &req).await?;
    let deps = state.chat_deps();
    let response = answer(&deps, &timings, &caller.user_id, req.session_id, &query).await;
    if response.is_template() && crate::defect::active(crate::defect::Defect::NoTemplateFallback) {
        return Err(AppError::Unavailable("llm"));
    }
    Ok(Json(response))
}

/// Handles one streamed chat request (STREAM-*): the checks of `/api/chat`, phases 1
/// to 4, then Server-Sent Events. `Server-Timing` covers the time to the first byte.
pub async fn chat_stream(
    State(state): State<AppState>,
    Extension(timings): Extension<Timings>,
    caller: Result<Caller, AppError>,
    JsonBody(req): JsonBody<ChatRequest>,
) -> Result<Response, AppError> {
    let (caller, query) = checked(&state, caller, &req).await?;
    let prepared = prepare(&state.chat_deps(), &timings, &caller.user_id, &query).await;
    let asked = Asked {
        user_id: caller.user_id,
        session_id: req.session_id,
        query,
    };
    let (tx, mut events) = tokio::sync::mpsc::channel(64);
    tokio::spawn(async move { stream::produce(&state.chat_deps(), prepared, asked, tx).await });
    let buffered = if crate::defect::active(crate::defect::Defect::StreamBuffers) {
        let mut all = Vec::new();
        while let Some(e) = events.recv().await {
            all.push(e);
        }
        Some(all)
    } else {
        None
    };
    let frames = futures::stream::unfold(
        (events, buffered.map(Vec::into_iter)),
        |(mut events, mut buffered)| async move {
            let next = match &mut buffered {
                Some(all) => all.next(),
                None => events.recv().await,
            }?;
            if matches!(next, StreamEvent::Error(_))
                && crate::defect::active(crate::defect::Defect::StreamWithoutEnd)
            {
                return None;
            }
            let (name, data) = next.parts();
            let frame = Bytes::from(format!("event: {name}\ndata: {data}\n\n"));
            Some((Ok::<_, std::convert::Infallible>(frame), (events, buffered)))
        },
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        Body::from_stream(frames),
    )
        .into_response())
}

/// The checks both chat routes make: the caller (or the `chat-without-auth` defect's
/// anonymous viewer), its permission, the query and the rate limit. The trimmed query.
async fn checked(
    state: &AppState,
    caller: Result<Caller, AppError>,
    req: &ChatRequest,
) -> Result<(Caller, String), AppError> {
    let caller = match caller {
        Err(AppError::Unauthorized(_))
            if crate::defect::active(crate::defect::Defect::ChatWithoutAuth) =>
        {
            Caller {
                user_id: "anonymous".into(),
                permissions: crate::auth::role_permissions("viewer")
                    .iter()
                    .copied()
                    .collect(),
            }
        }
        other => other?,
    };
    caller.require(Permission::ViewResults)?;
    no_nul("query", &req.query)?;
    no_nul("session_id", req.session_id.as_deref().unwrap_or(""))?;
    let query = req.query.trim();
    if query.is_empty() {
        return Err(AppError::BadRequest("query: must not be empty".into()));
    }
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(AppError::BadRequest(format!(
            "query: longer than {MAX_QUERY_CHARS} characters"
        )));
    }
    state.limiter.check(&caller.user_id).await?;
    Ok((caller, query.to_owned()))
}
