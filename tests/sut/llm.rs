//! How the SUT calls the LLM, seen from outside: the token bucket, the breaker's probe,
//! client errors and 429s (contract LLM-2 to LLM-5). The LLM fake counts and keeps
//! what reaches it.

use std::time::{Duration, Instant};

use harness::llm::{AnswerStyle, FailStatus, FailureMode, LatencyProfile};
use serde_json::Value;

use crate::helpers::{spawn_app_with, TestApp};

const QUESTION: &str = "What is the status of Delta Industries?";

/// The models of the calls that reached the fake, oldest first.
fn models(app: &TestApp) -> Vec<String> {
    app.env
        .llm()
        .recent_requests()
        .iter()
        .filter_map(|r| r["model"].as_str().map(str::to_owned))
        .collect()
}

async fn breaker(app: &TestApp) -> Value {
    let (_, h) = app.get_json("/health", "").await;
    h["components"]["llm"]["circuit_breaker"].clone()
}

fn profile(ms: f64) -> LatencyProfile {
    LatencyProfile {
        base_ms: ms,
        spread: 0.0,
        per_output_token_ms: 0.0,
        output_tokens: 32,
    }
}

/// Contract LLM-4 (defect 7): a 4xx is the request's own fault. Before the fix, two
/// oversized documents' 400s opened the shared breaker for everyone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_error_neither_opens_the_breaker_nor_is_retried() {
    let app = spawn_app_with(&[]).await;
    app.env
        .llm()
        .set_failure(FailureMode::new(1.0, FailStatus::InvalidRequest).expect("mode"));
    for _ in 0..4 {
        let (s, body, _) = app.chat(QUESTION).await;
        assert_eq!(
            (s, &body["fallback"]),
            (200, &serde_json::json!("template"))
        );
    }
    let seen = models(&app);
    let primary = seen
        .iter()
        .filter(|m| m.as_str() == "claude-sonnet-4-5")
        .count();
    assert_eq!(primary, 4, "the primary was retried after a 400: {seen:?}");
    assert!(
        seen.len() <= 8,
        "more than one fallback call a request: {seen:?}"
    );
    assert_eq!(breaker(&app).await, "closed", "8 client errors opened it");
    app.env.llm().set_failure(FailureMode::NONE);
    let (_, body, _) = app.chat(QUESTION).await;
    assert_eq!(body["fallback"], "none", "{body}");
    app.stop().await;
}

/// Contract LLM-5 (defect 7): after a 429 the next attempt waits the longer of
/// `Retry-After` (the fake sends 1 s) and the backoff (10 ms here). Before the fix it
/// waited the shorter: three attempts in about 30 ms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_waits_the_longer_of_retry_after_and_the_backoff() {
    let app = spawn_app_with(&[]).await;
    app.env
        .llm()
        .set_failure(FailureMode::new(1.0, FailStatus::RateLimited).expect("mode"));
    let t = Instant::now();
    let (s, body, _) = app.chat(QUESTION).await;
    let took = t.elapsed();
    assert_eq!(s, 200, "{body}");
    let seen = models(&app);
    let primary = seen
        .iter()
        .filter(|m| m.as_str() == "claude-sonnet-4-5")
        .count();
    assert!(primary >= 2, "a 429 was not retried: {seen:?}");
    let waits = u32::try_from(primary - 1).unwrap_or(0);
    assert!(
        took >= Duration::from_secs(1) * waits,
        "{primary} primary attempts in {took:?}: Retry-After was cut short"
    );
    assert_eq!(breaker(&app).await, "closed", "a 429 counted as a failure");
    app.stop().await;
}

/// Contract LLM-3 (defect 1): the half-open probe's caller goes away. Before the fix
/// the breaker stayed half-open for good and every later answer was the template.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_probe_whose_caller_leaves_does_not_stick_the_breaker() {
    let app = spawn_app_with(&[("SUT_BREAKER_TIMEOUT_MS", "1000")]).await;
    let llm = app.env.llm();
    llm.set_failure(FailureMode::new(1.0, FailStatus::ApiError).expect("mode"));
    for _ in 0..2 {
        app.chat(QUESTION).await;
    }
    assert_eq!(breaker(&app).await, "open");
    llm.set_failure(FailureMode::NONE);
    llm.set_profile(profile(2000.0)).expect("slow");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    // This request is the probe; its client gives up while the LLM is still thinking.
    let calls = llm.calls();
    let gone = app
        .http
        .post(app.url("/api/chat"))
        .bearer_auth(app.token(&["viewer"]))
        .json(&serde_json::json!({"query": QUESTION}))
        .timeout(Duration::from_millis(600))
        .send()
        .await;
    assert!(gone.is_err(), "the probe answered within 600 ms");
    assert_eq!(llm.calls(), calls + 1, "the probe did not reach the LLM");
    llm.set_profile(LatencyProfile::instant()).expect("fast");
    // Whether or not the SUT cancels the probe, the breaker must probe again within
    // its timeout after the probe ends: by 2 s (probe) + 1 s (timeout) + slack.
    let deadline = Instant::now() + Duration::from_secs(8);
    let last = loop {
        let (_, body, _) = app.chat(QUESTION).await;
        if body["fallback"] == "none" || Instant::now() > deadline {
            break body;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert_eq!(last["fallback"], "none", "still refusing: {last}");
    assert_eq!(breaker(&app).await, "closed");
    app.stop().await;
}

/// Contract LLM-2: a token bucket limits LLM calls, and a call that gets no token in
/// time takes the fallback path at once instead of queueing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_calls_beyond_the_token_bucket_take_the_fallback_path() {
    let app = spawn_app_with(&[("SUT_LLM_REQUESTS_PER_MINUTE", "5")]).await;
    let mut templates = 0;
    for _ in 0..10 {
        let t = Instant::now();
        let (s, body, _) = app.chat(QUESTION).await;
        assert_eq!(s, 200, "{body}");
        assert!(
            t.elapsed() < Duration::from_secs(4),
            "queued {:?}",
            t.elapsed()
        );
        if body["fallback"] == "template" {
            templates += 1;
        }
    }
    let calls = app.env.llm().calls();
    assert!(calls <= 6, "{calls} LLM calls at 5 a minute");
    assert!(
        templates >= 4,
        "only {templates} of 10 answers were templates"
    );
    app.stop().await;
}

/// Contract CHAT-16 (the toy gate of issue 15 counted words): an answer that names no
/// customer and quotes nothing from its context is refused however long it is, each
/// attempt and the fallback; the answer is then the template.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quality_gate_refuses_an_answer_its_context_does_not_bear_out() {
    let app = spawn_app_with(&[]).await;
    let (_, good, _) = app.chat(QUESTION).await;
    assert_eq!(good["fallback"], "none", "{good}");
    assert!(
        good["quality_score"].as_f64().unwrap_or(0.0) >= 0.7,
        "{good}"
    );
    let before = models(&app).len();
    app.env.llm().set_answers(AnswerStyle::Filler);
    let (s, bad, _) = app.chat(QUESTION).await;
    assert_eq!(
        (s, &bad["fallback"]),
        (200, &serde_json::json!("template")),
        "{bad}"
    );
    let seen = models(&app)[before..].to_vec();
    let primary = seen
        .iter()
        .filter(|m| m.as_str() == "claude-sonnet-4-5")
        .count();
    assert_eq!((primary, seen.len()), (3, 4), "attempts: {seen:?}");
    app.stop().await;
}
