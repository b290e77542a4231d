//! The reference's streamed answers, looked at from inside: one spawned app through a
//! clean stream, a model that fails before its first token, one that fails after it,
//! and a client that leaves mid-answer. The contract's side is `harness certify`'s
//! STREAM cases.

use std::time::Duration;

use harness::llm::{FailStatus, FailureMode, LatencyProfile, StreamFault};
use harness::sse::{Event, Parser};
use serde_json::Value;

use super::helpers::{spawn_app, TestApp};

/// The events of one streamed answer, and whether the body ended cleanly.
async fn stream(app: &TestApp, query: &str) -> (u16, Vec<Event>) {
    let mut r = app
        .http
        .post(app.url("/api/chat/stream"))
        .bearer_auth(app.token(&["viewer"]))
        .json(&serde_json::json!({"query": query, "session_id": "s-1"}))
        .send()
        .await
        .expect("stream");
    let status = r.status().as_u16();
    let mut parser = Parser::default();
    let mut events = Vec::new();
    while let Ok(Some(chunk)) = r.chunk().await {
        parser.push(&chunk, |e| events.push(e));
    }
    (status, events)
}

fn last(events: &[Event]) -> (&str, Value) {
    let e = events.last().expect("at least one event");
    (
        e.name.as_str(),
        serde_json::from_str(&e.data).unwrap_or(Value::Null),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_tokens_then_done_falls_back_before_the_first_token_and_errors_after_it() {
    let app = spawn_app().await;
    let llm = app.env.llm();
    llm.set_profile(LatencyProfile {
        base_ms: 20.0,
        spread: 0.0,
        per_output_token_ms: 2.0,
        output_tokens: 30,
    })
    .expect("profile");
    let q = "Summarise Delta Industries";

    let (s, events) = stream(&app, q).await;
    assert_eq!(s, 200);
    let tokens: Vec<&Event> = events.iter().filter(|e| e.name == "token").collect();
    assert_eq!(tokens.len(), 30, "{events:?}");
    let (name, done) = last(&events);
    assert_eq!(name, "done", "{events:?}");
    assert_eq!(
        (done["fallback"].as_str(), done["retracted"].as_bool()),
        (Some("none"), Some(false))
    );
    for field in [
        "confidence",
        "quality_score",
        "sources",
        "entities",
        "degraded",
        "text",
    ] {
        assert!(done.get(field).is_some(), "done lacks {field}: {done}");
    }
    assert!(llm.streams() >= 1);

    // Every call fails before a token: the template, as /api/chat answers.
    llm.set_failure(FailureMode::new(1.0, FailStatus::ApiError).expect("mode"));
    let (_, events) = stream(&app, q).await;
    assert!(events.iter().all(|e| e.name != "token"), "{events:?}");
    let (name, done) = last(&events);
    assert_eq!(
        (name, done["fallback"].as_str()),
        ("done", Some("template"))
    );
    llm.set_failure(FailureMode::NONE);

    // The model's stream fails after 5 tokens: an error event naming no library.
    llm.set_stream_fault(StreamFault::Error { after: 5 });
    let (_, events) = stream(&app, q).await;
    let (name, error) = last(&events);
    assert_eq!(name, "error", "{events:?}");
    assert_eq!(events.iter().filter(|e| e.name == "token").count(), 5);
    let text = error.to_string();
    for library in ["reqwest", "hyper", "sqlx", "529", "overloaded"] {
        assert!(!text.contains(library), "{text}");
    }
    llm.set_stream_fault(StreamFault::Truncate { after: 3 });
    let (_, events) = stream(&app, q).await;
    assert_eq!(
        last(&events).0,
        "error",
        "a cut stream ends in an error event too"
    );
    llm.set_stream_fault(StreamFault::None);

    // Tokens the quality gate refuses once the answer is whole are withdrawn.
    llm.set_answers(harness::llm::AnswerStyle::Filler);
    let (_, events) = stream(&app, q).await;
    let (name, done) = last(&events);
    assert_eq!(name, "done");
    assert!(events.iter().any(|e| e.name == "token"));
    assert_eq!(
        (done["fallback"].as_str(), done["retracted"].as_bool()),
        (Some("template"), Some(true)),
        "{done}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_leaves_cancels_the_llm_call_and_the_breaker_stays_closed() {
    let app = spawn_app().await;
    let llm = app.env.llm();
    llm.set_profile(LatencyProfile {
        base_ms: 20.0,
        spread: 0.0,
        per_output_token_ms: 50.0,
        output_tokens: 60,
    })
    .expect("profile");
    for _ in 0..3 {
        let mut r = app
            .http
            .post(app.url("/api/chat/stream"))
            .bearer_auth(app.token(&["viewer"]))
            .json(&serde_json::json!({"query": "Summarise Delta Industries"}))
            .send()
            .await
            .expect("stream");
        let mut seen = 0;
        while seen < 3 {
            let chunk = r.chunk().await.expect("a chunk").expect("not the end");
            seen += chunk.windows(11).filter(|w| w == b"event: toke").count();
        }
        drop(r);
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while llm.disconnects() < 3 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        llm.disconnects(),
        3,
        "each abandoned stream cancels its LLM call"
    );
    assert_eq!(
        app.state.llm.breaker.state(),
        sut::llm::BreakerState::Closed
    );
    app.stop().await;
}
