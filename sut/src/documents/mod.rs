//! Seed 000 document processing: `POST /api/v1/documents/process` and
//! `GET /api/v1/jobs/{id}`, a result cache, and a three-priority job queue in Redis.
//!
//! Postgres holds every job (the source of truth); Redis lists carry job ids to the
//! workers. A job whose push to Redis failed, or that Redis lost, is pushed again by
//! the outbox, so no job is dropped silently: each ends `completed` or `failed`.

pub mod audit;
pub mod pii;
mod worker;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

pub use worker::spawn_workers;

use crate::auth::{Caller, Permission};
use crate::error::AppError;
use crate::extract::{no_nul, JsonBody};
use crate::state::AppState;

/// The Redis list for a priority (1 high, 3 low).
pub fn queue_key(priority: i16) -> String {
    format!("jobs:p{}", priority.clamp(1, 3))
}

/// Where a finished result is cached: per user, processing type and content, so a
/// result goes back only to the user who submitted that very text (contract DOC-8).
fn result_key(user_id: &str, processing_type: &str, content: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    // Lengths first, so no two (user, content) pairs hash the same bytes.
    for part in [user_id, processing_type, content] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    format!("docresult:{}", hex::encode(h.finalize()))
}

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
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub priority: Option<f64>,
}

const TYPES: [&str; 3] = ["summarize", "extract", "classify"];

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

    let cached: Option<String> = state
        .kv
        .query(redis::cmd("GET").arg(result_key(
            &caller.user_id,
            &req.processing_type,
            &req.content,
        )))
        .await
        .unwrap_or(None);
    if let Some(result) = cached.and_then(|s| serde_json::from_str::<Value>(&s).ok()) {
        // No audit record, no answer: a cache hit is still an access.
        let mut tx = state.db.begin().await?;
        audit::record(
            &mut tx,
            &caller.user_id,
            &req.document_id,
            "process_cache_hit",
            json!({}),
        )
        .await?;
        tx.commit().await?;
        return Ok((
            StatusCode::OK,
            Json(
                json!({"status": "completed", "document_id": req.document_id, "cached": true, "result": result}),
            ),
        ));
    }

    let job_id = uuid::Uuid::new_v4().to_string();
    let mut tx = state.db.begin().await?;
    sqlx::query(
        "INSERT INTO app.jobs (id, document_id, user_id, priority, processing_type, content, status, enqueued) \
         VALUES ($1, $2, $3, $4, $5, $6, 'queued', true)",
    )
    .bind(&job_id)
    .bind(&req.document_id)
    .bind(&caller.user_id)
    .bind(priority)
    .bind(&req.processing_type)
    .bind(&req.content)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        &caller.user_id,
        &req.document_id,
        "process_submitted",
        json!({"job_id": job_id, "priority": priority, "processing_type": req.processing_type}),
    )
    .await?;
    tx.commit().await?;
    // Inserted as enqueued, so that a worker that runs and requeues the job at once
    // is not overwritten by a late mark. If Redis is down or slow the mark is taken
    // back, and the outbox pushes the job once Redis answers.
    let pushed = state
        .kv
        .query::<i64>(redis::cmd("LPUSH").arg(queue_key(priority)).arg(&job_id))
        .await;
    if pushed.is_err() {
        let _ = sqlx::query("UPDATE app.jobs SET enqueued = false WHERE id = $1")
            .bind(&job_id)
            .execute(&state.db)
            .await;
        tracing::warn!(job_id, "queue unavailable; job kept for the outbox");
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"job_id": job_id, "status": "queued", "document_id": req.document_id})),
    ))
}

#[derive(sqlx::FromRow)]
struct JobRow {
    document_id: String,
    status: String,
    attempts: i32,
    result: Option<Value>,
    error: Option<String>,
    priority: i16,
}

/// A job's status, for its owner and for the auditor and admin roles (contract DOC-9).
/// Anyone else gets the same 404 as for a job that does not exist, so ids cannot be
/// probed.
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
    let sees_all = caller.has(Permission::AuditLogAccess) || caller.has(Permission::AdminAccess);
    let mut tx = state.db.begin().await?;
    let row: Option<JobRow> = sqlx::query_as(
        "SELECT document_id, status, attempts, result, error, priority FROM app.jobs \
          WHERE id = $1 AND (user_id = $2 OR $3)",
    )
    .bind(&id)
    .bind(&caller.user_id)
    .bind(sees_all)
    .fetch_optional(&mut *tx)
    .await?;
    let JobRow {
        document_id,
        status,
        attempts,
        result,
        error,
        priority,
    } = row.ok_or_else(not_found)?;
    audit::record(
        &mut tx,
        &caller.user_id,
        &document_id,
        "view",
        json!({"job_id": id}),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(json!({
        "job_id": id,
        "document_id": document_id,
        "status": status,
        "attempts": attempts,
        "priority": priority,
        "result": result,
        "error": error,
    })))
}
