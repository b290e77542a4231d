//! The SUT as a process: readiness before migrations, seed loading, and SIGTERM
//! (contract clauses READY-1, DATA-2, SHUT-1, SHUT-2 and LOG-1).

use std::time::{Duration, Instant};

use harness::environment::proxy;
use harness::llm::LatencyProfile;
use serde_json::{json, Value};

use crate::helpers::{mint, spawn_binary, start_env, SECRET};

fn token(roles: &[&str]) -> String {
    mint(SECRET, "user-1", roles, 3600)
}

/// Asks about Delta Industries and returns the entities of the answer.
async fn delta_entities(base: &str) -> Value {
    let r = reqwest::Client::new()
        .post(format!("{base}/api/chat"))
        .bearer_auth(token(&["viewer"]))
        .json(&json!({"query": "What is the status of Delta Industries?", "session_id": "s"}))
        .send()
        .await
        .expect("chat");
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("json");
    body["entities"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_is_503_until_migrations_and_seed_loads_idempotently() {
    let env = start_env().await;
    let dir = tempfile::tempdir().expect("tempdir");
    env.faults().disable(proxy::POSTGRES).await.expect("cut db");
    let mut sut = spawn_binary(&env, &[], dir.path()).await;
    let http = reqwest::Client::new();
    let ready = format!("{}/ready", sut.base_url());

    // Listening, but the database is unreachable: not ready, and says why.
    let deadline = Instant::now() + Duration::from_secs(20);
    let body: Value = loop {
        if let Ok(r) = http.get(&ready).send().await {
            assert_eq!(r.status(), 503, "ready before migrations");
            break r.json().await.expect("json");
        }
        assert!(Instant::now() < deadline, "{}", sut.log_tail(20));
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(body["migrated"], false, "{body}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let r = http.get(&ready).send().await.expect("ready");
    assert_eq!(r.status(), 503, "still no database");

    env.faults()
        .enable(proxy::POSTGRES)
        .await
        .expect("restore db");
    sut.wait_ready(Duration::from_secs(30))
        .await
        .expect("ready after the database returns");

    // The seed file was loaded before ready: its customers resolve.
    let first = delta_entities(sut.base_url()).await;
    assert_eq!(first[0]["name"], "Delta Industries", "{first}");
    assert_eq!(first.as_array().map(Vec::len), Some(1), "{first}");
    sut.stop(Duration::from_secs(30)).await.expect("stop");

    // A second start loads the same file again: it gets ready, and nothing is doubled.
    let mut sut = spawn_binary(&env, &[], dir.path()).await;
    sut.wait_ready(Duration::from_secs(60))
        .await
        .expect("ready after a second seed load");
    let again = delta_entities(sut.base_url()).await;
    assert_eq!(again, first, "the second load changed the data");
    sut.stop(Duration::from_secs(30)).await.expect("stop");
    env.shutdown().await.expect("env shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_requests_in_flight_and_keeps_queued_jobs() {
    let env = start_env().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut sut = spawn_binary(&env, &[("SUT_WORKERS", "0")], dir.path()).await;
    sut.wait_ready(Duration::from_secs(60))
        .await
        .expect("ready");
    let http = reqwest::Client::new();
    let base = sut.base_url().to_owned();

    // A queued job: no workers, so it waits in Redis.
    let r = http
        .post(format!("{base}/api/v1/documents/process"))
        .bearer_auth(token(&["processor"]))
        .json(
            &json!({"document_id": "doc-shutdown", "content": "Quarterly terms.",
                      "processing_type": "summarize", "priority": 1}),
        )
        .send()
        .await
        .expect("submit");
    assert_eq!(r.status(), 202);
    let job: Value = r.json().await.expect("json");
    let job_id = job["job_id"].as_str().expect("job_id").to_owned();

    // A chat request that takes ~2 s, in flight when SIGTERM arrives.
    env.llm()
        .set_profile(LatencyProfile {
            base_ms: 2000.0,
            spread: 0.0,
            per_output_token_ms: 0.0,
            output_tokens: 32,
        })
        .expect("slow llm");
    let chat = tokio::spawn({
        let http = http.clone();
        let url = format!("{base}/api/chat");
        async move {
            let started = Instant::now();
            let r = http
                .post(url)
                .bearer_auth(token(&["viewer"]))
                .json(
                    &json!({"query": "What is the status of Delta Industries?", "session_id": "s"}),
                )
                .send()
                .await
                .expect("in-flight chat");
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            (status, body, started.elapsed())
        }
    });
    let calls_before = env.llm().calls();
    let deadline = Instant::now() + Duration::from_secs(10);
    while env.llm().calls() == calls_before {
        assert!(Instant::now() < deadline, "chat never reached the LLM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    sut.terminate().expect("SIGTERM");

    // New connections are refused soon after the signal.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused = http
        .get(format!("{base}/health"))
        .timeout(Duration::from_secs(2))
        .send()
        .await;
    assert!(refused.is_err(), "accepted a connection after SIGTERM");

    let (status, body, took) = chat.await.expect("chat task");
    assert_eq!(status, 200, "in-flight request: {body}");
    assert_eq!(body["fallback"], "none", "{body}");
    assert!(took >= Duration::from_millis(1500), "took {took:?}");
    let exit = sut.wait_exit(Duration::from_secs(40)).await;
    assert!(
        exit.is_some_and(|s| s.success()),
        "exit {exit:?}: {}",
        sut.log_tail(20)
    );

    // The job is still queued, for the next instance, which finishes it.
    let mut next = spawn_binary(&env, &[], dir.path()).await;
    next.wait_ready(Duration::from_secs(60))
        .await
        .expect("next instance ready");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        let r = http
            .get(format!("{}/api/v1/jobs/{job_id}", next.base_url()))
            .bearer_auth(token(&["viewer"]))
            .send()
            .await
            .expect("job");
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.expect("json");
        let status = body["status"].as_str().unwrap_or("").to_owned();
        if status == "completed" || status == "failed" || Instant::now() > deadline {
            break status;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(status, "completed", "{}", next.log_tail(20));
    next.stop(Duration::from_secs(40)).await.expect("stop");
    env.shutdown().await.expect("env shutdown");
}

/// Contract LOG-1: the service logs JSON lines, and a failed request's line carries its
/// request id, route, status and error kind, so a failing case can cite it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_are_json_lines_that_name_the_request_and_the_error_kind() {
    let env = start_env().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut sut = spawn_binary(&env, &[], dir.path()).await;
    sut.wait_ready(Duration::from_secs(60))
        .await
        .expect("ready");
    env.faults().disable(proxy::POSTGRES).await.expect("down");
    let r = reqwest::Client::new()
        .get(format!("{}/api/v1/jobs/some-job", sut.base_url()))
        .bearer_auth(token(&["viewer"]))
        .send()
        .await
        .expect("get");
    env.faults().enable(proxy::POSTGRES).await.expect("up");
    assert_eq!(r.status(), 503);
    let id = r
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("x-request-id")
        .to_owned();
    sut.stop(Duration::from_secs(30)).await.expect("stop");
    env.shutdown().await.expect("env shutdown");

    let log = std::fs::read_to_string(dir.path().join("sut.log")).expect("sut.log");
    let lines: Vec<Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let line = lines
        .iter()
        .find(|l| l["request_id"] == id.as_str())
        .unwrap_or_else(|| panic!("no line for request {id} in:\n{log}"));
    assert_eq!(line["level"], "ERROR", "{line}");
    assert_eq!(line["error_kind"], "unavailable", "{line}");
    assert_eq!(line["status"], 503, "{line}");
    assert_eq!(line["route"], "/api/v1/jobs/{id}", "{line}");
    // The cause, logged deeper down, carries the same id through its span.
    assert!(
        lines
            .iter()
            .any(|l| l["span"]["request_id"] == id.as_str() && l["message"] != line["message"]),
        "no cause line for {id}:\n{log}"
    );
}

/// Contract CFG-1: a missing or malformed required variable stops start-up with a
/// message that names it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_or_malformed_variable_is_named_at_start_up() {
    use harness::service::{contract_env, RunningSut, SutSettings};
    let env = start_env().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let settings = SutSettings {
        jwt_secret: SECRET.into(),
        seed_file: None,
        extra: Vec::new(),
    };
    for (name, value) in [
        ("JWT_SECRET", None),
        ("DATABASE_URL", None),
        ("DATABASE_URL", Some("not a url")),
        ("LLM_BASE_URL", Some("not a url")),
        ("SUT_LISTEN_ADDR", Some("nowhere")),
    ] {
        let port = harness::net::free_port().expect("port");
        let listen = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let mut vars: Vec<(String, String)> = contract_env(env.endpoints(), listen, &settings)
            .into_iter()
            .filter(|(k, _)| k != name)
            .collect();
        if let Some(v) = value {
            vars.push((name.to_owned(), v.to_owned()));
        }
        let log = dir.path().join(format!("{name}.log"));
        let command = crate::helpers::sut_command().await;
        let mut sut = RunningSut::spawn(&command, listen, &vars, &log).expect("spawn");
        let exit = sut.wait_exit(Duration::from_secs(20)).await;
        assert!(
            exit.is_some_and(|s| !s.success()),
            "{name} {value:?}: exit {exit:?}"
        );
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(text.contains(name), "{name} is not named in:\n{text}");
    }
    env.shutdown().await.expect("env shutdown");
}
