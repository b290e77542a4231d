//! Health and the metrics the alert rules read, as the components go down and come
//! back: `/health` and `/ready` (HEALTH-1, READY-1), the metrics' names (MET-1, MET-3),
//! and whether they follow what they measure (ALERT-2, ALERT-3). An alert is only as
//! true as its metric, so a metric that does not move is a breach of its own.

use std::time::{Duration, Instant};

use crate::certify::{check, check_eq, CaseResult, Ctx};
use crate::environment::proxy;

/// One scrape interval of the alert rules' Prometheus (ALERT-1).
pub(super) const SCRAPE: Duration = Duration::from_secs(1);

/// How soon after a dependency changes `dependency_up` must say so (ALERT-2).
const DEPENDENCY_METRIC_WITHIN: Duration = Duration::from_secs(2);

/// The value of the sample `series` (a metric's name and its labels as the exposition
/// writes them, `name{label="v"}`) in Prometheus text `exposition`; `None` when the
/// series is absent.
pub(super) fn value(exposition: &str, series: &str) -> Option<f64> {
    exposition
        .lines()
        .filter_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .find_map(|rest| rest.split_whitespace().next()?.parse().ok())
}

/// Reads `/metrics` until `series` reads `want`, for at most `within`.
pub(super) async fn reads(app: &Ctx, series: &str, want: f64, within: Duration) -> bool {
    let until = Instant::now() + within;
    loop {
        if value(&app.metrics().await, series) == Some(want) {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `http_requests_total` for one route, method and status, as the exposition orders
/// the labels; an absent series has counted nothing.
fn requests(exposition: &str, method: &str, route: &str, status: u16) -> f64 {
    let series =
        format!("http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}}");
    value(exposition, &series).unwrap_or(0.0)
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
    let redis = "dependency_up{dependency=\"redis\"}";
    check!(
        app,
        "ALERT-2",
        reads(app, redis, 0.0, DEPENDENCY_METRIC_WITHIN).await,
        "{redis} did not read 0 within {DEPENDENCY_METRIC_WITHIN:?} of Redis going"
    );
    app.restore(proxy::REDIS).await?;
    // Counted before the 503s this case provokes, so that only they make the difference.
    let before = app.metrics().await;
    app.cut(proxy::POSTGRES).await?;
    let db = "dependency_up{dependency=\"database\"}";
    check!(
        app,
        "ALERT-2",
        reads(app, db, 0.0, DEPENDENCY_METRIC_WITHIN).await,
        "{db} did not read 0 within {DEPENDENCY_METRIC_WITHIN:?} of the database going"
    );
    let (health, h) = app.get_json("/health", "").await;
    check_eq!(
        app,
        "HEALTH-1",
        (health, h["status"].as_str()),
        (503, Some("unhealthy")),
        "the database down: {h}"
    );
    let (ready, _) = app.get_json("/ready", "").await;
    check_eq!(app, "READY-1", ready, 503);
    app.restore(proxy::POSTGRES).await?;
    check!(
        app,
        "ALERT-2",
        reads(app, db, 1.0, DEPENDENCY_METRIC_WITHIN).await,
        "{db} did not read 1 again within {DEPENDENCY_METRIC_WITHIN:?} of the database coming back"
    );
    let metrics = app.metrics().await;
    // Each answer as it came, whatever HEALTH-1 and READY-1 make of it (a status of 0
    // is no answer, so nothing to count).
    for (route, status) in [("/health", health), ("/ready", ready)] {
        if status == 0 {
            continue;
        }
        let counted =
            requests(&metrics, "GET", route, status) - requests(&before, "GET", route, status);
        check_eq!(
            app,
            "ALERT-3",
            counted,
            1.0,
            "GET {route} answered {status} once; http_requests_total counted {counted}"
        );
    }
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
    for dependency in ["database", "redis", "llm"] {
        let series = format!("dependency_up{{dependency=\"{dependency}\"}}");
        check!(
            app,
            "MET-3",
            value(&metrics, &series).is_some(),
            "{series} missing"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_series_is_read_by_its_whole_name_and_labels() {
        let text = "# HELP circuit_breaker_state 0 closed, 1 open\n\
                    circuit_breaker_state 1\n\
                    http_requests_total{method=\"GET\",route=\"/health\",status=\"503\"} 2\n\
                    http_requests_total{method=\"GET\",route=\"/health\",status=\"5030\"} 7\n";
        assert_eq!(value(text, "circuit_breaker_state"), Some(1.0));
        assert_eq!(requests(text, "GET", "/health", 503), 2.0);
        assert_eq!(requests(text, "GET", "/ready", 503), 0.0);
        assert_eq!(value(text, "circuit_breaker"), None);
    }
}
