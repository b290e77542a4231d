//! `POST /api/chat`: the request checked (permission, NUL, length, rate limit), then
//! answered by the chat flow.

use axum::extract::State;
use axum::{Extension, Json};
use serde::Deserialize;

use super::error::AppError;
use super::extract::{no_nul, not_null, JsonBody};
use crate::auth::{Caller, Permission};
use crate::chat::{answer, ChatResponse};
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
    let deps = state.chat_deps();
    let response = answer(&deps, &timings, &caller.user_id, req.session_id, query).await;
    if response.is_template() && crate::defect::active(crate::defect::Defect::NoTemplateFallback) {
        return Err(AppError::Unavailable("llm"));
    }
    Ok(Json(response))
}
