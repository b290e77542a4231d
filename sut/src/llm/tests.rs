//! The retry, breaker and fallback policy against a scripted LLM on a loopback port.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::Router;
use serde_json::json;

use super::*;

/// A deadline far enough away not to matter.
fn soon() -> tokio::time::Instant {
    tokio::time::Instant::now() + Duration::from_secs(60)
}

/// One scripted answer: a status (200 gives a good answer), a Retry-After, a delay.
#[derive(Clone, Copy)]
struct Step {
    status: u16,
    retry_after: Option<u64>,
    delay: Duration,
}

const OK: Step = Step {
    status: 200,
    retry_after: None,
    delay: Duration::ZERO,
};

fn status(status: u16) -> Step {
    Step { status, ..OK }
}

/// A fake LLM that answers request n with `script[n]` (the last step repeats), and
/// keeps the time each request arrived.
struct Scripted {
    url: String,
    arrivals: Arc<Mutex<Vec<Instant>>>,
}

async fn scripted(script: Vec<Step>) -> Scripted {
    let n = Arc::new(AtomicUsize::new(0));
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let seen = arrivals.clone();
    let app = Router::new().route(
        "/v1/messages",
        post(move || {
            let i = n.fetch_add(1, Ordering::SeqCst);
            if let Ok(mut a) = seen.lock() {
                a.push(Instant::now());
            }
            let step = script[i.min(script.len() - 1)];
            async move {
                tokio::time::sleep(step.delay).await;
                let mut headers = HeaderMap::new();
                if let Some(s) = step.retry_after {
                    headers.insert("retry-after", HeaderValue::from(s));
                }
                let body = if step.status == 200 {
                    json!({"content": [{"type": "text", "text": "Delta Industries pays on time and owes nothing overdue."}]})
                } else {
                    json!({"type": "error", "error": {"type": "x", "message": "scripted"}})
                };
                let code = StatusCode::from_u16(step.status).unwrap_or(StatusCode::OK);
                (code, headers, axum::Json(body)).into_response()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    Scripted { url, arrivals }
}

impl Scripted {
    fn calls(&self) -> usize {
        self.arrivals.lock().map(|a| a.len()).unwrap_or(0)
    }

    fn service(&self, vars: &[(&str, &str)]) -> LlmService {
        let mut all = vec![
            ("DATABASE_URL", "postgres://unused"),
            ("REDIS_URL", "redis://unused"),
            ("LLM_BASE_URL", self.url.as_str()),
            ("LLM_API_KEY", "k"),
            ("JWT_SECRET", "s"),
            ("SUT_LLM_BACKOFF_MS", "10"),
            ("SUT_LLM_REQUESTS_PER_MINUTE", "100000"),
        ];
        all.extend_from_slice(vars);
        let config = Config::from_lookup(|k| {
            all.iter()
                .rev()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| (*v).to_owned())
        })
        .expect("config");
        LlmService::new(&config, Arc::new(Metrics::new().expect("metrics")))
    }
}

/// Defect 1: a half-open probe whose caller went away (a client disconnect drops the
/// request's future) reported neither success nor failure, and the breaker stayed
/// half-open for good: every later answer was a template.
#[tokio::test]
async fn a_cancelled_probe_never_leaves_the_breaker_half_open() {
    let hang = Step {
        delay: Duration::from_secs(30),
        ..OK
    };
    let llm = scripted(vec![status(500), hang, OK]).await;
    let service = llm.service(&[
        ("SUT_BREAKER_THRESHOLD", "1"),
        ("SUT_BREAKER_TIMEOUT_MS", "100"),
    ]);
    assert_eq!(
        service
            .generate("s", "p", 10, soon(), &Grounds::default())
            .await
            .fallback,
        Fallback::Template
    );
    assert_eq!(service.breaker.state(), BreakerState::Open);
    tokio::time::sleep(Duration::from_millis(150)).await;
    // The probe hangs, and its caller gives up.
    let grounds = Grounds::default();
    let cancelled = tokio::time::timeout(
        Duration::from_millis(200),
        service.generate("s", "p", 10, soon(), &grounds),
    );
    assert!(
        cancelled.await.is_err(),
        "the probe should still be waiting"
    );
    assert_eq!(llm.calls(), 2);
    tokio::time::sleep(Duration::from_millis(150)).await;
    let after = service
        .generate("s", "p", 10, soon(), &Grounds::default())
        .await;
    assert_eq!(
        after.fallback,
        Fallback::None,
        "breaker stuck in {:?}",
        service.breaker.state()
    );
    assert_eq!(service.breaker.state(), BreakerState::Closed);
}

/// Defect 7: an LLM 4xx caused by the request (an oversized prompt) counted toward the
/// shared breaker, so a few such requests opened it for everyone.
#[tokio::test]
async fn a_client_error_does_not_count_toward_the_breaker() {
    let llm = scripted(vec![status(400)]).await;
    let service = llm.service(&[("SUT_BREAKER_THRESHOLD", "2")]);
    for _ in 0..3 {
        assert_eq!(
            service
                .generate("s", "p", 10, soon(), &Grounds::default())
                .await
                .fallback,
            Fallback::Template
        );
    }
    assert_eq!(service.breaker.state(), BreakerState::Closed);
    // A 400 will not change on retry: one primary call and one fallback call each.
    assert_eq!(llm.calls(), 6);
}

/// Defect 7: after a 429 the retry waited `min(Retry-After, backoff)`: with a 10 ms
/// backoff it came back at once, against the API's explicit instruction.
#[tokio::test]
async fn a_429_waits_at_least_its_retry_after() {
    let limited = Step {
        status: 429,
        retry_after: Some(1),
        delay: Duration::ZERO,
    };
    let llm = scripted(vec![limited, OK]).await;
    let service = llm.service(&[]);
    assert_eq!(
        service
            .generate("s", "p", 10, soon(), &Grounds::default())
            .await
            .fallback,
        Fallback::None
    );
    let arrivals = llm.arrivals.lock().map(|a| a.clone()).unwrap_or_default();
    assert_eq!(arrivals.len(), 2);
    let waited = arrivals[1] - arrivals[0];
    assert!(waited >= Duration::from_secs(1), "retried after {waited:?}");
    // 429 is the API protecting itself, not the service being down.
    assert_eq!(service.breaker.state(), BreakerState::Closed);
}
