//! Streamed answers (`"stream": true`): the event sequence, its pacing against the
//! profile, each stream fault, refusals before the stream, and cancelled calls.

use std::time::{Duration, Instant};

use harness::llm::{FailStatus, FailureMode, LatencyProfile, LlmFake, LlmFakeConfig, StreamFault};
use harness::sse::{Event, Parser};
use serde_json::{json, Value};

fn body(max_tokens: u64) -> Value {
    json!({"model":"claude-test","max_tokens":max_tokens,"stream":true,
           "messages":[{"role":"user","content":"Summarise Delta Industries"}]})
}

async fn fake(base_ms: f64, per_token_ms: f64, tokens: u64) -> LlmFake {
    LlmFake::start(LlmFakeConfig {
        profile: LatencyProfile {
            base_ms,
            spread: 0.0,
            per_output_token_ms: per_token_ms,
            output_tokens: tokens,
        },
        ..LlmFakeConfig::default()
    })
    .await
    .expect("start")
}

/// Sends `body` to the fake's Messages endpoint.
async fn send(fake: &LlmFake, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/v1/messages", fake.uri()))
        .header("x-api-key", "k")
        .json(body)
        .send()
        .await
        .expect("send")
}

/// Each event with its arrival after the send, and whether the body ended cleanly.
async fn read(fake: &LlmFake, body: &Value) -> (Vec<(Duration, Event)>, bool) {
    let sent = Instant::now();
    let mut r = send(fake, body).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let mut parser = Parser::default();
    let mut events = Vec::new();
    loop {
        match r.chunk().await {
            Ok(Some(c)) => {
                let at = sent.elapsed();
                parser.push(&c, |e| events.push((at, e)));
            }
            Ok(None) => return (events, true),
            Err(_) => return (events, false),
        }
    }
}

fn names(events: &[(Duration, Event)]) -> Vec<&str> {
    events.iter().map(|(_, e)| e.name.as_str()).collect()
}

fn token_times(events: &[(Duration, Event)]) -> Vec<Duration> {
    events
        .iter()
        .filter(|(_, e)| e.name == "content_block_delta")
        .map(|(t, _)| *t)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_follows_the_api_sequence_paced_by_prefill_and_decode() {
    let fake = fake(80.0, 10.0, 20).await;
    let (events, clean) = read(&fake, &body(100)).await;
    assert!(clean);
    let n = names(&events);
    assert_eq!(
        n[..3],
        ["message_start", "content_block_start", "ping"],
        "{n:?}"
    );
    assert_eq!(
        n[n.len() - 3..],
        ["content_block_stop", "message_delta", "message_stop"]
    );
    let delta: Value = serde_json::from_str(&events[n.len() - 2].1.data).expect("json");
    assert_eq!(delta["usage"]["output_tokens"], 20);
    let text: String = events
        .iter()
        .filter(|(_, e)| e.name == "content_block_delta")
        .map(|(_, e)| {
            let v: Value = serde_json::from_str(&e.data).expect("json");
            v["delta"]["text"].as_str().unwrap_or_default().to_owned()
        })
        .collect();
    assert!(text.starts_with("Summarise Delta Industries"), "{text}");
    let times = token_times(&events);
    assert_eq!(times.len(), 20);
    // Each token is due at its planned time from the request's arrival; the send and
    // the loopback add well under a millisecond, the scheduler now and then a few.
    for (i, t) in times.iter().enumerate() {
        let due = 80.0 + 10.0 * i as f64;
        let ms = t.as_secs_f64() * 1e3;
        assert!(
            ms >= due - 1.0 && ms <= due * 1.01 + 5.0,
            "token {i} at {ms:.1} ms, due {due}"
        );
    }
    let mut gaps: Vec<f64> = times
        .windows(2)
        .map(|w| (w[1] - w[0]).as_secs_f64() * 1e3)
        .collect();
    gaps.sort_by(f64::total_cmp);
    assert!((gaps[gaps.len() / 2] - 10.0).abs() < 1.0, "{gaps:?}");
    assert_eq!(
        (fake.control().streams(), fake.control().disconnects()),
        (1, 0)
    );
}

#[tokio::test]
async fn an_error_fault_ends_in_overloaded_error_and_a_truncation_cuts_the_body() {
    let fake = fake(5.0, 1.0, 10).await;
    fake.control()
        .set_stream_fault(StreamFault::Error { after: 3 });
    let (events, clean) = read(&fake, &body(100)).await;
    assert!(clean, "an error event ends the body cleanly");
    assert_eq!(token_times(&events).len(), 3);
    let (_, last) = events.last().expect("events");
    assert_eq!(last.name, "error");
    let data: Value = serde_json::from_str(&last.data).expect("json");
    assert_eq!(data["error"]["type"], "overloaded_error");

    fake.control()
        .set_stream_fault("truncate:4".parse().expect("fault"));
    let (events, clean) = read(&fake, &body(100)).await;
    assert!(!clean, "the body breaks off");
    assert_eq!(token_times(&events).len(), 4);
    assert!(!names(&events).contains(&"message_stop"));
    assert_eq!(
        fake.control().disconnects(),
        0,
        "a cut is the fake's own doing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stall_holds_the_next_token_and_slow_decode_sets_the_pace() {
    let fake = fake(5.0, 1.0, 6).await;
    fake.control()
        .set_stream_fault("stall:2:300ms".parse().expect("fault"));
    let (events, _) = read(&fake, &body(100)).await;
    let t = token_times(&events);
    assert_eq!(t.len(), 6);
    let stall = t[2] - t[1];
    assert!(
        stall >= Duration::from_millis(300) && stall < Duration::from_millis(320),
        "{stall:?}"
    );

    fake.control()
        .set_stream_fault(StreamFault::SlowDecode { tokens_per_s: 20 });
    let (events, _) = read(&fake, &body(100)).await;
    let t = token_times(&events);
    let gap = (t[5] - t[1]).as_secs_f64() * 1e3 / 4.0;
    assert!((gap - 50.0).abs() < 2.0, "{gap:.1} ms a token at 20/s");
}

#[tokio::test]
async fn a_failed_call_is_refused_before_any_stream_and_a_caller_that_leaves_is_counted() {
    let fake = fake(5.0, 20.0, 50).await;
    fake.control()
        .set_failure(FailureMode::new(1.0, FailStatus::Overloaded).expect("mode"));
    let r = send(&fake, &body(100)).await;
    assert_eq!(r.status(), 529);
    let b: Value = r.json().await.expect("json");
    assert_eq!(b["error"]["type"], "overloaded_error");
    assert_eq!(fake.control().streams(), 0);

    fake.control().set_failure(FailureMode::NONE);
    let mut r = send(&fake, &body(100)).await;
    // Two chunks in, the caller goes away mid-answer.
    for _ in 0..2 {
        r.chunk().await.expect("a chunk");
    }
    drop(r);
    let deadline = Instant::now() + Duration::from_secs(3);
    while fake.control().disconnects() == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        (fake.control().streams(), fake.control().disconnects()),
        (1, 1)
    );
}
