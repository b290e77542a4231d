//! How the subject calls the LLM, seen from outside: the token bucket, the breaker's
//! probe, client errors and 429s (contract LLM-2 to LLM-5).

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::certify::{check, check_eq, ensure, ensure_eq, CaseResult, Ctx, Or};
use crate::llm::{AnswerStyle, FailStatus, FailureMode, LatencyProfile};

const QUESTION: &str = "What is the status of Delta Industries?";

/// The models of the calls that reached the fake, oldest first.
fn models(app: &Ctx) -> Vec<String> {
    app.env()
        .map(|e| e.llm().recent_requests())
        .unwrap_or_default()
        .iter()
        .filter_map(|r| r["model"].as_str().map(str::to_owned))
        .collect()
}

async fn breaker(app: &Ctx) -> Value {
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
pub async fn a_client_error_neither_opens_the_breaker_nor_is_retried(app: &Ctx) -> CaseResult {
    app.env()?
        .llm()
        .set_failure(FailureMode::new(1.0, FailStatus::InvalidRequest).or_error("mode")?);
    for _ in 0..4 {
        let (s, body, _) = app.chat(QUESTION).await;
        check_eq!(
            app,
            "CHAT-6",
            (s, &body["fallback"]),
            (200, &serde_json::json!("template")),
            "{body}"
        );
    }
    let seen = models(app);
    let primary = seen
        .iter()
        .filter(|m| m.as_str() == "claude-sonnet-4-5")
        .count();
    check_eq!(
        app,
        "LLM-4",
        primary,
        4,
        "the primary was retried after a 400: {seen:?}"
    );
    check!(
        app,
        "LLM-4",
        seen.len() <= 8,
        "more than one fallback call a request: {seen:?}"
    );
    check_eq!(
        app,
        "LLM-4",
        breaker(app).await,
        "closed",
        "8 client errors opened it"
    );
    app.env()?.llm().set_failure(FailureMode::NONE);
    let (_, body, _) = app.chat(QUESTION).await;
    check_eq!(app, "LLM-4", body["fallback"], "none", "{body}");
    Ok(())
}

/// Contract LLM-5 (defect 7): after a 429 the next attempt waits the longer of
/// `Retry-After` (the fake sends 1 s) and the backoff (10 ms here). Before the fix it
/// waited the shorter: three attempts in about 30 ms.
pub async fn a_429_waits_the_longer_of_retry_after_and_the_backoff(app: &Ctx) -> CaseResult {
    app.env()?
        .llm()
        .set_failure(FailureMode::new(1.0, FailStatus::RateLimited).or_error("mode")?);
    let t = Instant::now();
    let (s, body, _) = app.chat(QUESTION).await;
    let took = t.elapsed();
    app.measure(
        "answer time after 429s with Retry-After 1 s",
        took.as_secs_f64() * 1e3,
        "ms",
        Some(">= 1000 per retry"),
    );
    check_eq!(app, "CHAT-6", s, 200, "the template after 429s: {body}");
    let seen = models(app);
    let primary = seen
        .iter()
        .filter(|m| m.as_str() == "claude-sonnet-4-5")
        .count();
    check!(
        app,
        "LLM-5",
        primary >= 2,
        "a 429 was not retried: {seen:?}"
    );
    let waits = u32::try_from(primary - 1).unwrap_or(0);
    check!(
        app,
        "LLM-5",
        took >= Duration::from_secs(1) * waits,
        "{primary} primary attempts in {took:?}: Retry-After was cut short"
    );
    check_eq!(
        app,
        "LLM-5",
        breaker(app).await,
        "closed",
        "a 429 counted as a failure"
    );
    Ok(())
}

/// Contract LLM-3 (defect 1): the half-open probe's caller goes away. Before the fix
/// the breaker stayed half-open for good and every later answer was the template.
pub async fn a_probe_whose_caller_leaves_does_not_stick_the_breaker(app: &Ctx) -> CaseResult {
    let llm = app.env()?.llm();
    llm.set_failure(FailureMode::new(1.0, FailStatus::ApiError).or_error("mode")?);
    for _ in 0..2 {
        app.chat(QUESTION).await;
    }
    ensure_eq!("LLM-3", breaker(app).await, "open");
    llm.set_failure(FailureMode::NONE);
    llm.set_profile(profile(2000.0)).or_error("slow")?;
    let reopen = app.limits()?.breaker_timeout;
    tokio::time::sleep(reopen + Duration::from_millis(200)).await;
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
    ensure!("LLM-3", gone.is_err(), "the probe answered within 600 ms");
    ensure_eq!(
        "LLM-3",
        llm.calls(),
        calls + 1,
        "the probe did not reach the LLM"
    );
    llm.set_profile(LatencyProfile::instant())
        .or_error("fast")?;
    // Whether or not the SUT cancels the probe, the breaker must probe again within
    // its timeout after the probe ends: by 2 s (probe) + its timeout + slack.
    let deadline = Instant::now() + Duration::from_secs(7) + reopen;
    let last = loop {
        let (_, body, _) = app.chat(QUESTION).await;
        if body["fallback"] == "none" || Instant::now() > deadline {
            break body;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    check_eq!(
        app,
        "LLM-3",
        last["fallback"],
        "none",
        "still refusing: {last}"
    );
    check_eq!(app, "LLM-3", breaker(app).await, "closed");
    Ok(())
}

/// Contract LLM-2: a token bucket limits LLM calls, and a call that gets no token in
/// time takes the fallback path at once instead of queueing.
pub async fn llm_calls_beyond_the_token_bucket_take_the_fallback_path(app: &Ctx) -> CaseResult {
    // One token a minute: the next one is further off than any call's timeout, at every
    // level (3 s at quick, the seeds' 30 s at full), so a call that finds the bucket
    // empty cannot get a token in time and must not wait for one.
    let timeout = app.limits()?.llm_timeout;
    let mut templates = 0;
    let mut slowest = Duration::ZERO;
    for _ in 0..10 {
        let t = Instant::now();
        let (s, body, _) = app.chat(QUESTION).await;
        check_eq!(app, "CHAT-6", s, 200, "{body}");
        slowest = slowest.max(t.elapsed());
        check!(
            app,
            "LLM-2",
            t.elapsed() < Duration::from_secs(4),
            "queued {:?} for a token that could not come within the {timeout:?} call timeout",
            t.elapsed()
        );
        if body["fallback"] == "template" {
            templates += 1;
        }
    }
    let calls = app.env()?.llm().calls();
    app.measure(
        "slowest of 10 answers",
        slowest.as_secs_f64() * 1000.0,
        "ms",
        Some("< 4000"),
    );
    app.measure(
        "LLM calls for 10 questions at 1 a minute",
        calls as f64,
        "calls",
        Some("<= 2"),
    );
    app.measure(
        "template answers of 10",
        f64::from(templates),
        "answers",
        Some(">= 8"),
    );
    check!(app, "LLM-2", calls <= 2, "{calls} LLM calls at 1 a minute");
    check!(
        app,
        "CHAT-6",
        templates >= 8,
        "only {templates} of 10 answers were templates"
    );
    Ok(())
}

/// Contract CHAT-16 (the toy gate of issue 15 counted words): an answer that names no
/// customer and quotes nothing from its context is refused however long it is, each
/// attempt and the fallback; the answer is then the template.
pub async fn the_quality_gate_refuses_an_answer_its_context_does_not_bear_out(
    app: &Ctx,
) -> CaseResult {
    let (_, good, _) = app.chat(QUESTION).await;
    ensure_eq!("CHAT-16", good["fallback"], "none", "{good}");
    ensure!(
        "CHAT-16",
        good["quality_score"].as_f64().unwrap_or(0.0) >= 0.7,
        "{good}"
    );
    let before = models(app).len();
    app.env()?.llm().set_answers(AnswerStyle::Filler);
    let (s, bad, _) = app.chat(QUESTION).await;
    check_eq!(
        app,
        "CHAT-6",
        (s, &bad["fallback"]),
        (200, &serde_json::json!("template")),
        "{bad}"
    );
    let seen = models(app)[before..].to_vec();
    let primary = seen
        .iter()
        .filter(|m| m.as_str() == "claude-sonnet-4-5")
        .count();
    check_eq!(
        app,
        "CHAT-16",
        (primary, seen.len()),
        (3, 4),
        "attempts: {seen:?}"
    );
    Ok(())
}
