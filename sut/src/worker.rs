//! Document workers and the outbox.

use std::time::Duration;

use serde_json::json;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::documents::{audit, pii, queue_key, result_key};
use crate::llm::Grounds;
use crate::state::AppState;

/// How long one job attempt may spend on generation: no client waits on it, so this
/// only keeps a hung LLM from holding a worker for good.
const JOB_DEADLINE: Duration = Duration::from_secs(300);

/// Starts the configured number of workers and one outbox task; they stop taking new
/// work when `stop` turns true.
pub fn spawn_workers(state: AppState, stop: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    let mut handles: Vec<JoinHandle<()>> = (0..state.config.limits.workers)
        .map(|i| tokio::spawn(work(state.clone(), stop.clone(), i)))
        .collect();
    handles.push(tokio::spawn(outbox(state, stop)));
    handles
}

async fn pop(state: &AppState) -> Result<Option<String>, String> {
    let mut conn = state.kv.dedicated().await.map_err(|e| e.to_string())?;
    // BRPOP checks the lists in the order given: high priority first.
    let cmd = redis::cmd("BRPOP")
        .arg(queue_key(1))
        .arg(queue_key(2))
        .arg(queue_key(3))
        .arg(1)
        .clone();
    let r: Result<Option<(String, String)>, _> =
        tokio::time::timeout(Duration::from_secs(3), cmd.query_async(&mut conn))
            .await
            .map_err(|_| "BRPOP timed out".to_string())?;
    r.map(|o| o.map(|(_, id)| id)).map_err(|e| e.to_string())
}

async fn work(state: AppState, stop: watch::Receiver<bool>, n: usize) {
    while !*stop.borrow() {
        // While the breaker turns calls away, a job taken now would spend one of its
        // attempts on a template; it waits in the queue instead.
        if !state.llm.breaker.admits_calls() {
            tokio::time::sleep(Duration::from_millis(250)).await;
            continue;
        }
        match pop(&state).await {
            Ok(Some(id)) => process_job(&state, &id).await,
            Ok(None) => {}
            Err(e) => {
                tracing::debug!(worker = n, error = %e, "queue unavailable");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

#[derive(sqlx::FromRow)]
struct Claimed {
    document_id: String,
    processing_type: String,
    content: String,
    attempts: i32,
    user_id: String,
}

async fn process_job(state: &AppState, id: &str) {
    // Claiming is atomic, so a job pushed twice runs once.
    let claimed: Result<Option<Claimed>, _> = sqlx::query_as(
        "UPDATE app.jobs SET status = 'processing', attempts = attempts + 1, updated_at = now() \
          WHERE id = $1 AND status = 'queued' \
          RETURNING document_id, processing_type, content, attempts, user_id",
    )
    .bind(id)
    .fetch_optional(&state.db)
    .await;
    let Ok(Some(Claimed {
        document_id,
        processing_type,
        content,
        attempts,
        user_id,
    })) = claimed
    else {
        return;
    };
    let (redacted, removed) = pii::redact(&content);
    let prompt = format!("Task: {processing_type} the following document.\n\n{redacted}");
    let generation = state
        .llm
        .generate(
            "You process business documents.",
            &prompt,
            800,
            tokio::time::Instant::now() + JOB_DEADLINE,
            &Grounds::new([], &redacted),
        )
        .await;
    let max = state.config.limits.job_max_retries as i32;
    match generation.text {
        Some(text) => {
            let result =
                json!({"output": text, "pii_removed": removed, "fallback": generation.fallback});
            let done = Outcome {
                status: "completed",
                result: Some(&result),
                error: None,
                action: "process_completed",
            };
            if let Err(e) = finish(state, id, &user_id, &document_id, attempts, done).await {
                // The job stays `processing`; the outbox requeues it.
                tracing::error!(job_id = id, error = %e, "could not record the finished job");
                return;
            }
            let _ = state
                .kv
                .query::<()>(
                    redis::cmd("SETEX")
                        .arg(result_key(&user_id, &processing_type, &content))
                        .arg(3600)
                        .arg(result.to_string()),
                )
                .await;
            state.metrics.jobs.with_label_values(&["completed"]).inc();
        }
        // The breaker opened while this job was being generated: the LLM was never
        // asked, so the attempt is given back.
        None if !state.llm.breaker.admits_calls() => {
            let _ = sqlx::query("UPDATE app.jobs SET status = 'queued', enqueued = false, attempts = attempts - 1, updated_at = now() WHERE id = $1")
                .bind(id)
                .execute(&state.db)
                .await;
        }
        None if attempts < max => {
            let _ = sqlx::query("UPDATE app.jobs SET status = 'queued', enqueued = false, updated_at = now() WHERE id = $1")
                .bind(id)
                .execute(&state.db)
                .await;
        }
        None => {
            let failed = Outcome {
                status: "failed",
                result: None,
                error: Some("LLM unavailable after retries"),
                action: "process_failed",
            };
            match finish(state, id, &user_id, &document_id, attempts, failed).await {
                Ok(()) => state.metrics.jobs.with_label_values(&["failed"]).inc(),
                Err(e) => {
                    tracing::error!(job_id = id, error = %e, "could not record the failed job")
                }
            }
        }
    }
}

/// How a job ended, for [`finish`].
struct Outcome<'a> {
    status: &'static str,
    result: Option<&'a serde_json::Value>,
    error: Option<&'static str>,
    action: &'static str,
}

/// Records a job's end and its audit record in one transaction.
async fn finish(
    state: &AppState,
    id: &str,
    user_id: &str,
    document_id: &str,
    attempts: i32,
    end: Outcome<'_>,
) -> Result<(), sqlx::Error> {
    let mut tx = state.db.begin().await?;
    sqlx::query(
        "UPDATE app.jobs SET status = $2, result = $3, error = $4, updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(end.status)
    .bind(end.result)
    .bind(end.error)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        user_id,
        document_id,
        end.action,
        json!({"attempts": attempts, "job_id": id}),
    )
    .await?;
    tx.commit().await
}

/// Pushes jobs that are in Postgres but not (or no longer) in Redis, and requeues jobs
/// whose worker died mid-way.
async fn outbox(state: AppState, stop: watch::Receiver<bool>) {
    while !*stop.borrow() {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let _ = sqlx::query(
            "UPDATE app.jobs SET status = 'queued', enqueued = false \
              WHERE status = 'processing' AND updated_at < now() - interval '5 minutes'",
        )
        .execute(&state.db)
        .await;
        let due: Vec<(String, i16)> = match sqlx::query_as(
            "SELECT id, priority FROM app.jobs WHERE status = 'queued' \
               AND (NOT enqueued OR updated_at < now() - interval '60 seconds') \
             ORDER BY submitted_at LIMIT 100",
        )
        .fetch_all(&state.db)
        .await
        {
            Ok(d) => d,
            Err(_) => continue,
        };
        for (id, priority) in due {
            // Marked before the push: a worker may pop, run and requeue the job (which
            // clears the mark) before a mark set after the push would land, and the
            // job would then wait in Postgres, marked but in no list, for 60 s.
            let _ = sqlx::query(
                "UPDATE app.jobs SET enqueued = true, updated_at = now() WHERE id = $1",
            )
            .bind(&id)
            .execute(&state.db)
            .await;
            if state
                .kv
                .query::<i64>(redis::cmd("LPUSH").arg(queue_key(priority)).arg(&id))
                .await
                .is_err()
            {
                let _ = sqlx::query("UPDATE app.jobs SET enqueued = false WHERE id = $1")
                    .bind(&id)
                    .execute(&state.db)
                    .await;
                break;
            }
        }
    }
}
