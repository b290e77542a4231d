//! The reference system under test: the seeds' LLM-backed account assistant and
//! document-processing service, in axum, sqlx and redis. `sut/CONTRACT.md` is what it
//! promises; the harness knows it only through that contract.

// Layers, top to bottom (tests/architecture checks that no module imports one above it):
// this file and `main` → `http` (handlers, extractors, errors) → `worker` → `state` →
// the domain (`chat`, `documents`) → services (`llm`, `ratelimit`, `kv`) → `auth`,
// `config`, `metrics`, `timing`, `seed`.
pub mod auth;
pub mod chat;
pub mod config;
pub mod defect;
pub mod documents;
pub mod entry;
pub mod http;
pub mod kv;
pub mod llm;
pub mod metrics;
pub mod ratelimit;
pub mod seed;
pub mod state;
pub mod timing;
pub mod worker;

use std::future::Future;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

pub use config::Config;
pub use state::AppState;

use http::error::{AppError, ErrorKind};
use http::{audit, health};
use timing::Timings;
use tracing::Instrument;

/// The migrations, embedded at build time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The router with every route and middleware, for `serve` and for `oneshot` tests.
pub fn app(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let limit = state.config.limits.max_body_bytes;
    Router::new()
        .route("/api/chat", post(http::chat::chat))
        .route("/api/chat/stream", post(http::chat::chat_stream))
        .route("/api/v1/documents/process", post(http::documents::process))
        .route("/api/v1/jobs/{id}", get(http::documents::job_status))
        .route("/api/v1/audit", get(audit::list))
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .route("/metrics", get(health::metrics))
        .fallback(|| async { AppError::NotFound("route".into()) })
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

/// Times every request: per-route metrics, the operation histogram, and `Server-Timing`.
async fn observe(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let timings = Timings::default();
    req.extensions_mut().insert(timings.clone());
    let started = Instant::now();
    // Every line logged while the request runs carries its id and route.
    let span = tracing::info_span!("request", request_id = %request_id, route = %route);
    let mut resp = next.run(req).instrument(span).await;
    let total = started.elapsed();
    log_outcome(&request_id, &route, &method, &resp, total);
    timings.record("request_handler.handle_request", total);
    let entries = timings.entries();
    for (op, d) in &entries {
        state
            .metrics
            .operation_duration
            .with_label_values(&[op])
            .observe(d.as_secs_f64());
    }
    for op in timings.failures() {
        state
            .metrics
            .operation_errors
            .with_label_values(&[op])
            .inc();
    }
    let uncounted = resp.status().is_server_error()
        && crate::defect::active(crate::defect::Defect::Uncounted5xx);
    if !uncounted {
        state
            .metrics
            .requests
            .with_label_values(&[&route, &method, resp.status().as_str()])
            .inc();
    }
    state
        .metrics
        .request_duration
        .with_label_values(&[&route])
        .observe(total.as_secs_f64());
    if let Ok(v) = HeaderValue::from_str(&timing::header_value(&entries)) {
        resp.headers_mut().insert("server-timing", v);
    }
    resp
}

/// One flat line per request that failed (all of them at debug level): the request id,
/// the operation (route and method), the status and the error kind.
fn log_outcome(request_id: &str, route: &str, method: &str, resp: &Response, took: Duration) {
    let status = resp.status().as_u16();
    let kind = resp.extensions().get::<ErrorKind>().map_or("", |k| k.0);
    let ms = took.as_secs_f64() * 1000.0;
    match status {
        500.. => tracing::error!(
            request_id,
            route,
            method,
            status,
            error_kind = kind,
            duration_ms = ms,
            "request_failed"
        ),
        400..=499 => tracing::info!(
            request_id,
            route,
            method,
            status,
            error_kind = kind,
            duration_ms = ms,
            "request_refused"
        ),
        _ => tracing::debug!(
            request_id,
            route,
            method,
            status,
            duration_ms = ms,
            "request_completed"
        ),
    }
}

/// Runs migrations, then loads `seed` if given, retrying until both succeed (the
/// database may come up after the service). `/ready` stays 503 until then.
pub async fn migrate_until_done(state: &AppState, seed: Option<&seed::Seed>) {
    let mut delay = Duration::from_millis(200);
    loop {
        let step = async {
            MIGRATOR.run(&state.db).await.map_err(|e| e.to_string())?;
            match seed {
                Some(seed) => seed::insert(&state.db, seed)
                    .await
                    .map(Some)
                    .map_err(|e| e.to_string()),
                None => Ok(None),
            }
        };
        match step.await {
            Ok(rows) => {
                fill_pool(&state.db).await;
                state.migrated.store(true, Ordering::Release);
                tracing::info!(seed_rows = rows, "migrations applied");
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, "migrations or seeding failed; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// Opens every connection the pool may hold, at once, so that no request waits for one
/// to be opened. A failure is left to the pool, which opens connections on demand.
async fn fill_pool(db: &sqlx::PgPool) {
    let size = db.options().get_max_connections();
    let open = futures::future::join_all((0..size).map(|_| db.acquire())).await;
    let held = open.iter().filter(|c| c.is_ok()).count();
    tracing::info!(connections = held, "database pool filled");
}

/// Reads and parses `SUT_SEED_FILE`, if set, so a bad file stops start-up at once.
pub fn read_seed(config: &Config) -> std::io::Result<Option<seed::Seed>> {
    let Some(path) = &config.seed_file else {
        return Ok(None);
    };
    let bad = |e: String| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("SUT_SEED_FILE={}: {e}", path.display()),
        )
    };
    let json = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    seed::parse(&json).map(Some).map_err(|e| bad(e.to_string()))
}

async fn refresh_directory(state: AppState) {
    loop {
        if state.migrated.load(Ordering::Acquire) {
            if let Err(e) = state.directory.refresh(&state.db).await {
                tracing::warn!(error = %e, "entity directory refresh failed");
            }
        }
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
}

/// Serves on `listener` until `shutdown` resolves, then stops accepting, finishes the
/// requests in flight, and lets document workers finish their current job. Queued jobs
/// stay in Redis.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let seed = read_seed(&state.config)?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let migrations = tokio::spawn({
        let s = state.clone();
        async move { migrate_until_done(&s, seed.as_ref()).await }
    });
    let directory = tokio::spawn(refresh_directory(state.clone()));
    let watcher = tokio::spawn(http::health::watch_dependencies(state.clone()));
    let workers = worker::spawn_workers(state.clone(), stop_rx);
    let result = axum::serve(listener, app(state).into_make_service())
        .with_graceful_shutdown(shutdown)
        .await;
    let _ = stop_tx.send(true);
    // One deadline for all workers: a worker stuck on an unreachable Redis must not
    // multiply the shutdown time.
    let drain = futures::future::join_all(workers);
    if tokio::time::timeout(Duration::from_secs(30), drain)
        .await
        .is_err()
    {
        tracing::warn!("document workers did not finish within 30 s; their jobs stay queued");
    }
    migrations.abort();
    directory.abort();
    watcher.abort();
    result
}

impl IntoResponse for state::StateError {
    fn into_response(self) -> Response {
        AppError::Internal(self.to_string()).into_response()
    }
}
