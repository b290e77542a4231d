//! `/health`, `/ready` and `/metrics` (seeds 001, 003, 004). Health checks are real
//! round trips: `SELECT 1` and `PING`, each with a short deadline. The LLM is judged by
//! the circuit breaker, so health checks never spend LLM calls.

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use crate::state::AppState;

const CHECK_TIMEOUT: Duration = Duration::from_millis(1000);

async fn db_ok(state: &AppState) -> bool {
    let q = sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(&state.db);
    matches!(tokio::time::timeout(CHECK_TIMEOUT, q).await, Ok(Ok(1)))
}

async fn redis_ok(state: &AppState) -> bool {
    matches!(state.kv.query::<String>(&redis::cmd("PING")).await, Ok(s) if s == "PONG")
}

/// `GET /health`: 200 `healthy` or `degraded` (redis or llm down), 503 `unhealthy`
/// (database down).
pub async fn health(State(state): State<AppState>) -> impl IntoResponse {
    let (db, redis) = tokio::join!(db_ok(&state), redis_ok(&state));
    let db = db || crate::defect::active(crate::defect::Defect::HealthIgnoresDb);
    let llm = !state.llm.is_down();
    let word = |ok: bool| if ok { "up" } else { "down" };
    let (status, overall) = if !db {
        (StatusCode::SERVICE_UNAVAILABLE, "unhealthy")
    } else if !redis || !llm {
        (StatusCode::OK, "degraded")
    } else {
        (StatusCode::OK, "healthy")
    };
    (
        status,
        Json(json!({
            "status": overall,
            "components": {
                "database": {"status": word(db), "critical": true},
                "redis": {"status": word(redis), "critical": false},
                "llm": {"status": word(llm), "critical": false, "circuit_breaker": state.llm.breaker.state().as_str()},
            }
        })),
    )
}

/// How often the service probes its dependencies for `dependency_up`.
const WATCH_EVERY: Duration = Duration::from_millis(500);

/// Probes each dependency as `/health` does, every half second, and keeps the answer in
/// `dependency_up` (MET-3), so that a scrape reads the service's view at once instead
/// of waiting up to a probe's deadline, which would outlast a one-second scrape.
pub async fn watch_dependencies(state: AppState) {
    let mut tick = tokio::time::interval(WATCH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let (db, redis) = tokio::join!(db_ok(&state), redis_ok(&state));
        let db = db || crate::defect::active(crate::defect::Defect::DependencyMetricIgnoresDb);
        let llm = !state.llm.is_down();
        let up = &state.metrics.dependency_up;
        for (name, ok) in [("database", db), ("redis", redis), ("llm", llm)] {
            up.with_label_values(&[name]).set(i64::from(ok));
        }
    }
}

/// `GET /ready`: 200 once migrations have run and the database answers, else 503.
pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    let migrated = state.migrated.load(Ordering::Acquire);
    let db = migrated && db_ok(&state).await;
    let status = if db {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(json!({"ready": db, "migrated": migrated})))
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    state.metrics.set_breaker(state.llm.breaker.state().gauge());
    let (size, idle) = (state.db.size(), state.db.num_idle() as u32);
    let pool = &state.metrics.db_pool;
    pool.with_label_values(&["in_use"])
        .set(i64::from(size.saturating_sub(idle)));
    pool.with_label_values(&["idle"]).set(i64::from(idle));
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        state.metrics.render(),
    )
}
