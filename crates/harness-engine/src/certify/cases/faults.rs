//! The answer under faults: a slow database, a failing LLM, a slow pattern tier, the
//! breaker, and health as the components go down (CHAT-6 to CHAT-14, LLM-1, HEALTH-1).

use std::time::{Duration, Instant};

use serde_json::json;

use super::chat::sources;
use crate::certify::{check, check_eq, ensure_eq, CaseResult, Ctx, Or};
use crate::environment::proxy;
use crate::llm::{FailStatus, FailureMode};

/// Seed 002 §5.2 test_database_timeout.
pub async fn database_latency_10s_still_answers_from_cache(app: &Ctx) -> CaseResult {
    let (s, healthy, _) = app.chat("What is Delta's status?").await;
    ensure_eq!("CHAT-8", s, 200);
    app.slow(proxy::POSTGRES, 10_000).await?;
    let t = Instant::now();
    let (s, body, _) = app.chat("What is Delta's status?").await;
    let took = t.elapsed();
    app.measure(
        "answer time with 10 s of database latency",
        took.as_secs_f64() * 1e3,
        "ms",
        Some("< 8000"),
    );
    ensure_eq!("CHAT-8", s, 200, "{body}");
    check!(app, "CHAT-8", sources(&body).contains(&"cache"), "{body}");
    check_eq!(app, "CHAT-15", body["degraded"], true);
    // Entity resolution (1 s) plus the retrieval deadline (5 s) plus slack.
    check!(app, "CFG-2", took < Duration::from_secs(8), "took {took:?}");
    // Contract CHAT-11: an answer built without the account data is less sure of itself.
    let (sure, unsure) = (healthy["confidence"].as_f64(), body["confidence"].as_f64());
    check!(
        app,
        "CHAT-11",
        unsure < sure,
        "confidence {unsure:?} without the database, {sure:?} with it"
    );
    app.clear(proxy::POSTGRES).await?;
    Ok(())
}

/// Seed 002 §5.2 test_llm_failure.
pub async fn llm_failure_rate_1_gives_the_template(app: &Ctx) -> CaseResult {
    app.env()?
        .llm()
        .set_failure(FailureMode::new(1.0, FailStatus::ApiError).or_error("mode")?);
    let (s, body, _) = app.chat("Should we extend terms?").await;
    check_eq!(app, "CHAT-7", s, 200, "{body}");
    check_eq!(app, "CHAT-6", body["fallback"], "template", "{body}");
    if body["fallback"] == "template" {
        check!(
            app,
            "CHAT-7",
            body["quality_score"].as_f64().unwrap_or(1.0) < 0.7,
            "quality_score not under 0.7: {body}"
        );
        // Contract CHAT-15: what the template's fields say.
        check_eq!(app, "CHAT-15", body["degraded"], true, "{body}");
        check_eq!(app, "CHAT-15", body["quality_score"], 0.6, "{body}");
        check!(
            app,
            "CHAT-15",
            body["confidence"].as_f64().unwrap_or(1.0) <= 0.6,
            "confidence above 0.6: {body}"
        );
    }
    let metrics = app.metrics().await;
    check!(
        app,
        "CHAT-6",
        metrics.contains("llm_fallbacks_total{kind=\"template\"} 1"),
        "no template fallback counted: {metrics}"
    );
    Ok(())
}

/// Seed 002 §5.2 test_partial_retrieval_failure: pattern retrieval is made slower than
/// its budget through the fault layer (Redis, the L2 tier, answers after 300 ms).
pub async fn pattern_timeout_answers_without_pattern_analysis(app: &Ctx) -> CaseResult {
    app.slow(proxy::REDIS, 300).await?;
    let (s, body, _) = app.chat("What's going on with Delta?").await;
    ensure_eq!("CHAT-14", s, 200, "{body}");
    check!(
        app,
        "CHAT-14",
        !sources(&body).contains(&"patterns"),
        "{body}"
    );
    check_eq!(app, "CHAT-14", body["degraded"], true, "{body}");
    check!(
        app,
        "CHAT-3",
        sources(&body).contains(&"database"),
        "{body}"
    );
    app.clear(proxy::REDIS).await?;
    Ok(())
}

async fn breaker_state(app: &Ctx) -> String {
    let (_, h) = app.get_json("/health", "").await;
    h["components"]["llm"]["circuit_breaker"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

pub async fn breaker_opens_after_5_failures_and_closes_after_its_timeout(app: &Ctx) -> CaseResult {
    let llm = app.env()?.llm();
    llm.set_failure(FailureMode::new(1.0, FailStatus::Overloaded).or_error("mode")?);
    // Each request tries the primary 3 times and the fallback once: the second opens it.
    for _ in 0..2 {
        let (s, body, _) = app.chat("What is the status of Delta Industries?").await;
        check_eq!(
            app,
            "CHAT-6",
            (s, &body["fallback"]),
            (200, &json!("template")),
            "{body}"
        );
    }
    check_eq!(app, "HEALTH-2", breaker_state(app).await, "open");
    let calls_when_open = llm.calls();
    check_eq!(
        app,
        "LLM-1",
        calls_when_open,
        5,
        "breaker should open on the 5th failure"
    );
    for _ in 0..5 {
        let (s, body, _) = app.chat("What is the status of Delta Industries?").await;
        check_eq!(
            app,
            "CHAT-6",
            (s, body["fallback"].as_str()),
            (200, Some("template")),
            "while open"
        );
    }
    check_eq!(
        app,
        "LLM-1",
        llm.calls(),
        calls_when_open,
        "calls reached the LLM while the breaker was open"
    );
    llm.set_failure(FailureMode::NONE);
    tokio::time::sleep(app.limits()?.breaker_timeout + Duration::from_millis(100)).await;
    let (_, body, _) = app.chat("What is the status of Delta Industries?").await;
    check_eq!(
        app,
        "LLM-1",
        body["fallback"],
        "none",
        "after the timeout: {body}"
    );
    check_eq!(
        app,
        "LLM-1",
        llm.calls(),
        calls_when_open + 1,
        "one half-open probe"
    );
    check_eq!(
        app,
        "LLM-1",
        breaker_state(app).await,
        "closed",
        "after the probe"
    );
    Ok(())
}

pub async fn health_reflects_components(app: &Ctx) -> CaseResult {
    check_eq!(
        app,
        "MET-1",
        app.chat("What is the status of Acme?").await.0,
        200
    );
    let (s, h) = app.get_json("/health", "").await;
    check_eq!(
        app,
        "HEALTH-1",
        (s, h["status"].as_str()),
        (200, Some("healthy")),
        "{h}"
    );
    app.cut(proxy::REDIS).await?;
    let (s, h) = app.get_json("/health", "").await;
    check_eq!(
        app,
        "HEALTH-1",
        (s, h["status"].as_str()),
        (200, Some("degraded")),
        "{h}"
    );
    check_eq!(app, "HEALTH-1", h["components"]["redis"]["status"], "down");
    let redis_down = "dependency_up{dependency=\"redis\"} 0";
    check!(
        app,
        "MET-3",
        metrics_show(app, redis_down).await,
        "{redis_down} never read"
    );
    app.restore(proxy::REDIS).await?;
    app.cut(proxy::POSTGRES).await?;
    let db_down = "dependency_up{dependency=\"database\"} 0";
    check!(
        app,
        "MET-3",
        metrics_show(app, db_down).await,
        "{db_down} never read"
    );
    let (s, h) = app.get_json("/health", "").await;
    check_eq!(
        app,
        "HEALTH-1",
        (s, h["status"].as_str()),
        (503, Some("unhealthy")),
        "the database down: {h}"
    );
    let (s, _) = app.get_json("/ready", "").await;
    check_eq!(app, "READY-1", s, 503);
    app.restore(proxy::POSTGRES).await?;
    let db_up = "dependency_up{dependency=\"database\"} 1";
    check!(
        app,
        "MET-3",
        metrics_show(app, db_up).await,
        "{db_up} never read again"
    );
    let metrics = app.metrics().await;
    for m in [
        "http_requests_total{method=\"POST\",route=\"/api/chat\",status=\"200\"} 1",
        "operation_duration_seconds_bucket{operation=\"entity_resolver.resolve\"",
        "circuit_breaker_state 0",
        "cache_misses_total{cache=\"patterns\"}",
        "llm_calls_total{model=\"claude-sonnet-4-5\",outcome=\"ok\"} 1",
        "http_request_duration_seconds_bucket{route=\"/api/chat\"",
    ] {
        check!(app, "MET-1", metrics.contains(m), "{m} missing");
    }
    Ok(())
}

/// How soon after a dependency changes `dependency_up` must say so (MET-3).
const DEPENDENCY_METRIC_WITHIN: Duration = Duration::from_secs(2);

/// Reads `/metrics` until it holds `line`, for at most [`DEPENDENCY_METRIC_WITHIN`].
async fn metrics_show(app: &Ctx, line: &str) -> bool {
    let until = Instant::now() + DEPENDENCY_METRIC_WITHIN;
    loop {
        if app.metrics().await.contains(line) {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
