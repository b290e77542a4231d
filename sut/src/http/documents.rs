//! `POST /api/v1/documents/process` and `GET /api/v1/jobs/{id}`: the request checked,
//! then handed to the document domain.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::AppError;
use super::extract::{no_nul, not_null, JsonBody};
use crate::auth::{Caller, Permission};
use crate::documents::{self, Submission, TYPES};
use crate::state::AppState;

/// The request body.
#[derive(Debug, Deserialize)]
pub struct ProcessRequest {
    /// Caller's document id.
    pub document_id: String,
    /// The text.
    pub content: String,
    /// summarize, extract or classify.
    pub processing_type: String,
    /// 1 (high) to 3 (low); default 2. A number, so `1.0` is 1, as JSON Schema's
    /// `integer` has it.
    #[serde(default, deserialize_with = "not_null")]
    pub priority: Option<f64>,
}

/// Submits a document: a cached result at once, or a queued job (202).
pub async fn process(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(req): JsonBody<ProcessRequest>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    caller.require(Permission::ProcessDocument)?;
    no_nul("document_id", &req.document_id)?;
    no_nul("content", &req.content)?;
    if req.document_id.trim().is_empty() || req.document_id.chars().count() > 200 {
        return Err(AppError::BadRequest(
            "document_id: 1 to 200 characters".into(),
        ));
    }
    if req.content.trim().is_empty() {
        return Err(AppError::BadRequest("content: must not be empty".into()));
    }
    if !TYPES.contains(&req.processing_type.as_str()) {
        return Err(AppError::BadRequest(format!(
            "processing_type: '{}' is not one of {}",
            req.processing_type,
            TYPES.join(", ")
        )));
    }
    let priority = match req.priority {
        None => 2,
        Some(p) if p == 1.0 || p == 2.0 || p == 3.0 => p as i16,
        Some(_) => return Err(AppError::BadRequest("priority: must be 1, 2 or 3".into())),
    };
    state.limiter.check(&caller.user_id).await?;
    let submission = Submission {
        user_id: &caller.user_id,
        document_id: &req.document_id,
        processing_type: &req.processing_type,
        content: &req.content,
        priority,
    };
    if let Some(result) = documents::cached_result(&state.db, &state.kv, &submission).await? {
        return Ok((
            StatusCode::OK,
            Json(
                json!({"status": "completed", "document_id": req.document_id, "cached": true, "result": result}),
            ),
        ));
    }
    let job_id = documents::submit(&state.db, &state.kv, &submission).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"job_id": job_id, "status": "queued", "document_id": req.document_id})),
    ))
}

/// A job's status, for its owner and for the auditor and admin roles (contract DOC-9).
/// Anyone else gets the same 404 as for a job that does not exist.
pub async fn job_status(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    caller.require(Permission::ViewResults)?;
    let not_found = || AppError::NotFound("job".into());
    if no_nul("job_id", &id).is_err() {
        return Err(not_found());
    }
    let sees_all = caller.sees_all_records()
        || crate::defect::active(crate::defect::Defect::JobsReadableByAnyone);
    documents::job_for(&state.db, &id, &caller.user_id, sees_all)
        .await?
        .map(Json)
        .ok_or_else(not_found)
}
