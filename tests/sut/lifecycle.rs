//! The SUT as a process: readiness before migrations, seed loading, and SIGTERM
//! (contract clauses READY-1, DATA-2, SHUT-1, SHUT-2 and LOG-1).

use std::time::{Duration, Instant};

use harness::environment::proxy;
use harness::llm::LatencyProfile;
use serde_json::{json, Value};

use crate::helpers::{spawn_binary, start_env, SECRET};

fn token(roles: &[&str]) -> String {
    sut::auth::mint(SECRET, "user-1", roles, 3600).expect("token")
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

    // The seed file was loaded before ready; loading it again inserts nothing.
    let direct = sqlx::PgPool::connect(&env.endpoints().postgres_direct_url)
        .await
        .expect("direct pool");
    let customers: i64 = sqlx::query_scalar("SELECT count(*) FROM domain.customers")
        .fetch_one(&direct)
        .await
        .expect("count");
    assert!(customers >= 3, "seeded customers: {customers}");
    // Seed 002 §2.1: the indexes, with pg_trgm for fuzzy names.
    let indexes: Vec<String> = sqlx::query_scalar("SELECT indexdef FROM pg_indexes")
        .fetch_all(&direct)
        .await
        .expect("indexes");
    for want in [
        "idx_customers_name_trgm",
        "gin_trgm_ops",
        "idx_sales_orders_customer_priority_created",
        "idx_invoices_customer_due",
        "idx_payments_customer_paid",
    ] {
        assert!(
            indexes.iter().any(|d| d.contains(want)),
            "{want} missing from the schema"
        );
    }
    let seed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.json"))
        .expect("seed file");
    let again = sut::seed::load(&direct, &seed).await.expect("reload");
    assert_eq!(again, 0, "a second load inserted rows");
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM domain.customers")
        .fetch_one(&direct)
        .await
        .expect("count");
    assert_eq!(after, customers);
    direct.close().await;

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

    // The job is still in its queue, for the next instance.
    let client = redis::Client::open(env.endpoints().redis_direct_url.as_str()).expect("redis");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis conn");
    let mut queued: Vec<String> = Vec::new();
    for p in 1..=3 {
        let ids: Vec<String> = redis::cmd("LRANGE")
            .arg(sut::documents::queue_key(p))
            .arg(0)
            .arg(-1)
            .query_async(&mut conn)
            .await
            .expect("LRANGE");
        queued.extend(ids);
    }
    assert!(
        queued.contains(&job_id),
        "job {job_id} not queued: {queued:?}"
    );
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
