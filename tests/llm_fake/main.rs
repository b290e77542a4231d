//! The LLM fake suite: API shape, failure injection, latency model, history, rotation.

use std::time::Instant;

mod stream;

use harness::llm::{FailStatus, FailureMode, LatencyProfile, LlmFake, LlmFakeConfig};
use serde_json::{json, Value};

fn good() -> Value {
    json!({"model":"claude-test","max_tokens":64,"messages":[{"role":"user","content":"Summarise Delta Industries"}]})
}

async fn post(
    client: &reqwest::Client,
    fake: &LlmFake,
    body: &Value,
) -> (u16, Value, Option<String>) {
    let r = client
        .post(format!("{}/v1/messages", fake.uri()))
        .header("x-api-key", "k")
        .json(body)
        .send()
        .await
        .expect("send");
    let status = r.status().as_u16();
    let retry = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (status, r.json().await.unwrap_or(Value::Null), retry)
}

async fn start() -> LlmFake {
    LlmFake::start(LlmFakeConfig::default())
        .await
        .expect("start")
}

#[tokio::test]
async fn valid_request_gets_a_well_formed_message() {
    let fake = start().await;
    let (status, b, _) = post(&reqwest::Client::new(), &fake, &good()).await;
    assert_eq!(status, 200, "{b}");
    assert!(b["id"].as_str().is_some_and(|s| s.starts_with("msg_")));
    assert_eq!(b["type"], "message");
    assert_eq!(b["role"], "assistant");
    assert_eq!(b["model"], "claude-test");
    assert_eq!(b["content"][0]["type"], "text");
    assert!(b["content"][0]["text"]
        .as_str()
        .is_some_and(|t| !t.is_empty()));
    assert!(b["stop_reason"].is_string());
    assert!(b["usage"]["input_tokens"].as_u64().is_some_and(|n| n > 0));
    assert!(b["usage"]["output_tokens"].as_u64().is_some_and(|n| n > 0));
}

#[tokio::test]
async fn invalid_requests_get_400_in_the_api_error_shape() {
    let fake = start().await;
    let c = reqwest::Client::new();
    for (mut body, field) in [
        (good(), "model"),
        (good(), "max_tokens"),
        (good(), "messages"),
    ] {
        if field == "messages" {
            body[field] = json!([]);
        } else if let Some(o) = body.as_object_mut() {
            o.remove(field);
        }
        let (status, b, _) = post(&c, &fake, &body).await;
        assert_eq!(status, 400, "{field}: {b}");
        assert_eq!(b["type"], "error");
        assert_eq!(b["error"]["type"], "invalid_request_error");
        assert!(
            b["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains(field)),
            "{b}"
        );
    }
    assert_eq!(fake.control().calls(), 3);
}

#[tokio::test]
async fn failure_rate_one_fails_every_call_with_the_configured_status() {
    let fake = start().await;
    let c = reqwest::Client::new();
    for (status, kind) in [
        (FailStatus::InvalidRequest, "invalid_request_error"),
        (FailStatus::RateLimited, "rate_limit_error"),
        (FailStatus::ApiError, "api_error"),
        (FailStatus::Overloaded, "overloaded_error"),
    ] {
        fake.control()
            .set_failure(FailureMode::new(1.0, status).expect("mode"));
        for _ in 0..20 {
            let (code, b, retry) = post(&c, &fake, &good()).await;
            assert_eq!(code, status.code());
            assert_eq!(b["error"]["type"], kind);
            assert_eq!(retry.is_some(), code == 429, "retry-after only on 429");
        }
    }
    fake.control().set_failure(FailureMode::NONE);
    for _ in 0..50 {
        assert_eq!(post(&c, &fake, &good()).await.0, 200);
    }
}

#[tokio::test]
async fn failure_rate_0_3_is_within_binomial_tolerance() {
    let fake = start().await;
    fake.control()
        .set_failure(FailureMode::new(0.3, FailStatus::Overloaded).expect("mode"));
    let c = reqwest::Client::new();
    let n = 2000u32;
    let mut failed = 0u32;
    for _ in 0..n {
        if post(&c, &fake, &good()).await.0 == 529 {
            failed += 1;
        }
    }
    // Mean 600, sd sqrt(n p q) = 20.5: four sd either side.
    let (mean, sd) = (0.3 * n as f64, (n as f64 * 0.3 * 0.7).sqrt());
    assert!(
        (failed as f64 - mean).abs() <= 4.0 * sd,
        "{failed} failures of {n}, expected {mean} ± {:.0}",
        4.0 * sd
    );
    assert_eq!(fake.control().injected_failures(), failed as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observed_latency_median_is_within_5_percent_of_the_profile() {
    let profile = LatencyProfile {
        base_ms: 120.0,
        spread: 0.3,
        per_output_token_ms: 0.5,
        output_tokens: 60,
    };
    let want = profile.median(60).as_secs_f64();
    let fake = LlmFake::start(LlmFakeConfig {
        profile,
        ..LlmFakeConfig::default()
    })
    .await
    .expect("start");
    let c = reqwest::Client::new();
    // Warm the connection pool so connection set-up is not measured.
    post(&c, &fake, &good()).await;
    // 20 clients, 15 requests each: enough samples, without measuring a queue.
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (c, uri) = (c.clone(), fake.uri());
        tasks.push(tokio::spawn(async move {
            let mut v = Vec::new();
            for _ in 0..15 {
                let t = Instant::now();
                let r = c
                    .post(format!("{uri}/v1/messages"))
                    .header("x-api-key", "k")
                    .json(&good())
                    .send()
                    .await
                    .expect("send");
                assert_eq!(r.status(), 200);
                let _ = r.bytes().await;
                v.push(t.elapsed().as_secs_f64());
            }
            v
        }));
    }
    let mut v = Vec::new();
    for t in tasks {
        v.extend(t.await.expect("join"));
    }
    v.sort_by(f64::total_cmp);
    let got = v[v.len() / 2];
    assert!(
        (got - want).abs() / want <= 0.05,
        "median {got:.4}s vs profile {want:.4}s"
    );
}

#[tokio::test]
async fn records_what_reached_it_and_keeps_only_the_last_n() {
    let fake = LlmFake::start(LlmFakeConfig {
        history: 3,
        ..LlmFakeConfig::default()
    })
    .await
    .expect("start");
    let c = reqwest::Client::new();
    for i in 0..5 {
        let mut b = good();
        b["messages"][0]["content"] = json!(format!("question {i}"));
        post(&c, &fake, &b).await;
    }
    let seen = fake.control().recent_requests();
    let contents: Vec<&str> = seen
        .iter()
        .filter_map(|b| b["messages"][0]["content"].as_str())
        .collect();
    assert_eq!(contents, ["question 2", "question 3", "question 4"]);
    assert_eq!(fake.control().calls(), 5);
}

/// What the fake says it took to answer is a floor under what a caller measured, and
/// it is the profile's time: 80 ms, with no spread and no per-token time.
#[tokio::test]
async fn each_answered_call_is_recorded_with_the_time_it_was_held_back() {
    let fake = LlmFake::start(LlmFakeConfig {
        profile: LatencyProfile {
            base_ms: 80.0,
            spread: 0.0,
            per_output_token_ms: 0.0,
            output_tokens: 16,
        },
        history: 2,
        ..LlmFakeConfig::default()
    })
    .await
    .expect("start");
    let c = reqwest::Client::new();
    let mut measured = Vec::new();
    for i in 0..3 {
        let mut b = good();
        b["messages"][0]["content"] = json!(format!("question {i}"));
        let t = Instant::now();
        post(&c, &fake, &b).await;
        measured.push(t.elapsed());
    }
    // A failed call is not an answer.
    fake.control()
        .set_failure(FailureMode::new(1.0, FailStatus::ApiError).expect("mode"));
    post(&c, &fake, &good()).await;
    let answered = fake.control().answered();
    let contents: Vec<&str> = answered
        .iter()
        .filter_map(|a| a.body["messages"][0]["content"].as_str())
        .collect();
    assert_eq!(
        contents,
        ["question 1", "question 2"],
        "the last two answers"
    );
    for (a, m) in answered.iter().zip(&measured[1..]) {
        let off = a.took.abs_diff(std::time::Duration::from_millis(80));
        assert!(off < std::time::Duration::from_micros(1), "{a:?}");
        assert!(
            a.took <= *m,
            "the caller measured {m:?}, less than {:?}",
            a.took
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_under_continuous_load_loses_no_answer() {
    let fake = LlmFake::start(LlmFakeConfig {
        rotate_after: 100,
        ..LlmFakeConfig::default()
    })
    .await
    .expect("start");
    let c = reqwest::Client::new();
    let mut workers = Vec::new();
    for _ in 0..8 {
        let (c, uri) = (c.clone(), fake.uri());
        workers.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            for _ in 0..250 {
                let r = c
                    .post(format!("{uri}/v1/messages"))
                    .header("x-api-key", "k")
                    .json(&good())
                    .send()
                    .await
                    .expect("send");
                statuses.push(r.status().as_u16());
            }
            statuses
        }));
    }
    for w in workers {
        let statuses = w.await.expect("join");
        assert!(
            statuses.iter().all(|s| *s == 200),
            "lost answers: {statuses:?}"
        );
    }
    assert!(
        fake.control().rotations() >= 4,
        "rotations: {}",
        fake.control().rotations()
    );
    assert_eq!(fake.control().calls(), 2000);
}
