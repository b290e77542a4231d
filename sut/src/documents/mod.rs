//! Seed 000 document processing: jobs, a result cache per user and content, and a
//! three-priority job queue in Redis. The routes are in `http::documents`; the workers
//! in `worker`.
//!
//! Postgres holds every job (the source of truth); Redis lists carry job ids to the
//! workers. A job whose push to Redis failed, or that Redis lost, is pushed again by
//! the outbox, so no job is dropped silently: each ends `completed` or `failed`.

pub mod audit;
pub mod pii;

use serde_json::{json, Value};
use sqlx::PgPool;

use crate::kv::Kv;

/// The Redis list for a priority (1 high, 3 low).
pub fn queue_key(priority: i16) -> String {
    format!("jobs:p{}", priority.clamp(1, 3))
}

/// Where a finished result is cached: per user, processing type and content, so a
/// result goes back only to the user who submitted that very text (contract DOC-8).
pub fn result_key(user_id: &str, processing_type: &str, content: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    // Lengths first, so no two (user, content) pairs hash the same bytes.
    for part in [user_id, processing_type, content] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    format!("docresult:{}", hex::encode(h.finalize()))
}

/// The processing types a document may ask for.
pub const TYPES: [&str; 3] = ["summarize", "extract", "classify"];

/// A document to process, checked by the caller.
#[derive(Debug)]
pub struct Submission<'a> {
    /// Who submits it.
    pub user_id: &'a str,
    /// Their document id.
    pub document_id: &'a str,
    /// One of `TYPES`.
    pub processing_type: &'a str,
    /// The text.
    pub content: &'a str,
    /// 1 (high) to 3 (low).
    pub priority: i16,
}

/// The result this user already got for this very content and type, if any; a hit is an
/// access, audited in the same transaction (no record, no answer: contract AUD-1).
pub async fn cached_result(
    db: &PgPool,
    kv: &Kv,
    s: &Submission<'_>,
) -> Result<Option<Value>, sqlx::Error> {
    let cached: Option<String> = kv
        .query(redis::cmd("GET").arg(result_key(s.user_id, s.processing_type, s.content)))
        .await
        .unwrap_or(None);
    let Some(result) = cached.and_then(|c| serde_json::from_str::<Value>(&c).ok()) else {
        return Ok(None);
    };
    let mut tx = db.begin().await?;
    audit::record(
        &mut tx,
        s.user_id,
        s.document_id,
        "process_cache_hit",
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(Some(result))
}

/// Stores a new job with its audit record, then hands it to the queue. Returns its id.
pub async fn submit(db: &PgPool, kv: &Kv, s: &Submission<'_>) -> Result<String, sqlx::Error> {
    let job_id = uuid::Uuid::new_v4().to_string();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO app.jobs (id, document_id, user_id, priority, processing_type, content, status, enqueued) \
         VALUES ($1, $2, $3, $4, $5, $6, 'queued', true)",
    )
    .bind(&job_id)
    .bind(s.document_id)
    .bind(s.user_id)
    .bind(s.priority)
    .bind(s.processing_type)
    .bind(s.content)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        s.user_id,
        s.document_id,
        "process_submitted",
        json!({"job_id": job_id, "priority": s.priority, "processing_type": s.processing_type}),
    )
    .await?;
    tx.commit().await?;
    // Inserted as enqueued, so that a worker that runs and requeues the job at once
    // is not overwritten by a late mark. If Redis is down or slow the mark is taken
    // back, and the outbox pushes the job once Redis answers.
    let pushed = kv
        .query::<i64>(redis::cmd("LPUSH").arg(queue_key(s.priority)).arg(&job_id))
        .await;
    if pushed.is_err() {
        let _ = sqlx::query("UPDATE app.jobs SET enqueued = false WHERE id = $1")
            .bind(&job_id)
            .execute(db)
            .await;
        tracing::warn!(job_id, "queue unavailable; job kept for the outbox");
    }
    Ok(job_id)
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

/// Job `id` as `user_id` may see it: their own, or any when `sees_all` (contract DOC-9).
/// `None` both for a job that does not exist and for someone else's, so ids cannot be
/// probed. A view is audited in the same transaction.
pub async fn job_for(
    db: &PgPool,
    id: &str,
    user_id: &str,
    sees_all: bool,
) -> Result<Option<Value>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let row: Option<JobRow> = sqlx::query_as(
        "SELECT document_id, status, attempts, result, error, priority FROM app.jobs \
          WHERE id = $1 AND (user_id = $2 OR $3)",
    )
    .bind(id)
    .bind(user_id)
    .bind(sees_all)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(JobRow {
        document_id,
        status,
        attempts,
        result,
        error,
        priority,
    }) = row
    else {
        return Ok(None);
    };
    audit::record(
        &mut tx,
        user_id,
        &document_id,
        "view",
        json!({"job_id": id}),
    )
    .await?;
    tx.commit().await?;
    Ok(Some(json!({
        "job_id": id,
        "document_id": document_id,
        "status": status,
        "attempts": attempts,
        "priority": priority,
        "result": result,
        "error": error,
    })))
}
