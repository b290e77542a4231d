//! The subject as a process: readiness before migrations, seed loading, SIGTERM, logs
//! and start-up errors (READY-1, DATA-2, SHUT-1, SHUT-2, LOG-1, CFG-1).

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::certify::{check, check_eq, ensure, ensure_eq, mint, CaseError, CaseResult, Ctx, Or};
use crate::environment::proxy;
use crate::llm::LatencyProfile;

fn token(app: &Ctx, roles: &[&str]) -> String {
    mint(app.secret(), app.user(), roles, 3600)
}

/// Asks about Delta Industries and returns the entities of the answer; no answer fails
/// `clause`, the one the caller judges.
async fn delta_entities(app: &Ctx, clause: &'static str, base: &str) -> Result<Value, CaseError> {
    let r = app
        .http
        .post(format!("{base}/api/chat"))
        .bearer_auth(token(app, &["viewer"]))
        .json(&json!({"query": "What is the status of Delta Industries?", "session_id": "s"}))
        .send()
        .await
        .or_fail(clause, "chat")?;
    ensure_eq!(clause, r.status(), 200);
    let body: Value = r.json().await.or_fail(clause, "json")?;
    Ok(body["entities"].clone())
}

pub async fn ready_is_503_until_migrations_and_seed_loads_idempotently(app: &Ctx) -> CaseResult {
    let env = app.launch()?.start_env().await?;
    let dir = tempfile::tempdir().or_error("tempdir")?;
    env.faults()
        .disable(proxy::POSTGRES)
        .await
        .or_error("cut db")?;
    let mut sut = app.launch()?.spawn(&env, &[], dir.path())?;
    let http = app.http.clone();
    let ready = format!("{}/ready", sut.base_url());

    // Listening, but the database is unreachable: not ready, and says why.
    let deadline = Instant::now() + Duration::from_secs(20);
    let body: Value = loop {
        if let Ok(r) = http.get(&ready).send().await {
            ensure_eq!("READY-1", r.status(), 503, "ready before migrations");
            break r.json().await.or_fail("READY-1", "json")?;
        }
        ensure!("CFG-4", Instant::now() < deadline, "{}", sut.log_tail(20));
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    check_eq!(app, "READY-1", body["migrated"], false, "{body}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let r = http.get(&ready).send().await.or_fail("CFG-4", "ready")?;
    check_eq!(app, "READY-1", r.status(), 503, "still no database");

    env.faults()
        .enable(proxy::POSTGRES)
        .await
        .or_error("restore db")?;
    sut.wait_ready(Duration::from_secs(30))
        .await
        .or_fail("CFG-4", "ready after the database returns")?;

    // The seed file was loaded before ready: its customers resolve.
    let first = delta_entities(app, "DATA-2", sut.base_url()).await?;
    check_eq!(
        app,
        "DATA-2",
        first[0]["name"],
        "Delta Industries",
        "{first}"
    );
    check_eq!(
        app,
        "DATA-2",
        first.as_array().map(Vec::len),
        Some(1),
        "{first}"
    );
    sut.stop(Duration::from_secs(30))
        .await
        .or_fail("DATA-2", "stop")?;

    // A second start loads the same file again: it gets ready, and nothing is doubled.
    let mut sut = app.launch()?.spawn(&env, &[], dir.path())?;
    sut.wait_ready(Duration::from_secs(60))
        .await
        .or_fail("DATA-2", "ready after a second seed load")?;
    let again = delta_entities(app, "DATA-2", sut.base_url()).await?;
    check_eq!(
        app,
        "DATA-2",
        again,
        first,
        "the second load changed the data"
    );
    sut.stop(Duration::from_secs(30))
        .await
        .or_fail("DATA-2", "stop")?;
    env.shutdown().await.or_error("env shutdown")?;
    Ok(())
}

pub async fn sigterm_finishes_requests_in_flight_and_keeps_queued_jobs(app: &Ctx) -> CaseResult {
    let env = app.launch()?.start_env().await?;
    let dir = tempfile::tempdir().or_error("tempdir")?;
    let mut sut = app
        .launch()?
        .spawn(&env, &[("SUT_WORKERS", "0")], dir.path())?;
    sut.wait_ready(Duration::from_secs(60))
        .await
        .or_fail("READY-1", "ready")?;
    let http = app.http.clone();
    let base = sut.base_url().to_owned();

    // A queued job: no workers, so it waits in Redis.
    let r = http
        .post(format!("{base}/api/v1/documents/process"))
        .bearer_auth(token(app, &["processor"]))
        .json(
            &json!({"document_id": "doc-shutdown", "content": "Quarterly terms.",
                      "processing_type": "summarize", "priority": 1}),
        )
        .send()
        .await
        .or_fail("SHUT-2", "submit")?;
    ensure_eq!("SHUT-2", r.status(), 202);
    let job: Value = r.json().await.or_fail("SHUT-2", "json")?;
    let job_id = job["job_id"]
        .as_str()
        .or_fail("SHUT-2", "job_id")?
        .to_owned();

    // A chat request that takes ~2 s, in flight when SIGTERM arrives.
    env.llm()
        .set_profile(LatencyProfile {
            base_ms: 2000.0,
            spread: 0.0,
            per_output_token_ms: 0.0,
            output_tokens: 32,
        })
        .or_error("slow llm")?;
    let viewer = token(app, &["viewer"]);
    let chat = tokio::spawn({
        let http = http.clone();
        let url = format!("{base}/api/chat");
        async move {
            let started = Instant::now();
            let r = http
                .post(url)
                .bearer_auth(viewer)
                .json(
                    &json!({"query": "What is the status of Delta Industries?", "session_id": "s"}),
                )
                .send()
                .await
                .or_fail("SHUT-1", "in-flight chat")?;
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            Ok::<_, CaseError>((status, body, started.elapsed()))
        }
    });
    let calls_before = env.llm().calls();
    let deadline = Instant::now() + Duration::from_secs(10);
    while env.llm().calls() == calls_before {
        ensure!(
            "SHUT-1",
            Instant::now() < deadline,
            "chat never reached the LLM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    sut.terminate().or_error("SIGTERM")?;

    // New connections are refused soon after the signal.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused = http
        .get(format!("{base}/health"))
        .timeout(Duration::from_secs(2))
        .send()
        .await;
    check!(
        app,
        "SHUT-1",
        refused.is_err(),
        "accepted a connection after SIGTERM"
    );

    let (status, body, took) = chat.await.or_error("chat task")??;
    check_eq!(app, "SHUT-1", status, 200, "in-flight request: {body}");
    check_eq!(app, "SHUT-1", body["fallback"], "none", "{body}");
    check!(
        app,
        "SHUT-1",
        took >= Duration::from_millis(1500),
        "took {took:?}"
    );
    let exit = sut.wait_exit(Duration::from_secs(40)).await;
    check!(
        app,
        "SHUT-3",
        exit.is_some(),
        "no exit within 40 s of SIGTERM: {}",
        sut.log_tail(20)
    );
    check!(
        app,
        "SHUT-1",
        exit.is_none_or(|s| s.success()),
        "exit {exit:?}: {}",
        sut.log_tail(20)
    );

    // The job is still queued, for the next instance, which finishes it.
    let mut next = app.launch()?.spawn(&env, &[], dir.path())?;
    next.wait_ready(Duration::from_secs(60))
        .await
        .or_fail("READY-1", "next instance ready")?;
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        let r = http
            .get(format!("{}/api/v1/jobs/{job_id}", next.base_url()))
            .bearer_auth(token(app, &["viewer"]))
            .send()
            .await
            .or_fail("SHUT-2", "job")?;
        ensure_eq!("SHUT-2", r.status(), 200);
        let body: Value = r.json().await.or_fail("SHUT-2", "json")?;
        let status = body["status"].as_str().unwrap_or("").to_owned();
        if status == "completed" || status == "failed" || Instant::now() > deadline {
            break status;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    check_eq!(app, "SHUT-2", status, "completed", "{}", next.log_tail(20));
    next.stop(Duration::from_secs(40))
        .await
        .or_fail("SHUT-1", "stop")?;
    env.shutdown().await.or_error("env shutdown")?;
    Ok(())
}

/// Contract LOG-1: the service logs JSON lines, and a failed request's line carries its
/// request id, route, status and error kind, so a failing case can cite it.
pub async fn logs_are_json_lines_that_name_the_request_and_the_error_kind(app: &Ctx) -> CaseResult {
    let env = app.launch()?.start_env().await?;
    let dir = tempfile::tempdir().or_error("tempdir")?;
    let mut sut = app.launch()?.spawn(&env, &[], dir.path())?;
    sut.wait_ready(Duration::from_secs(60))
        .await
        .or_fail("LOG-1", "ready")?;
    env.faults()
        .disable(proxy::POSTGRES)
        .await
        .or_error("down")?;
    let r = app
        .http
        .clone()
        .get(format!("{}/api/v1/jobs/some-job", sut.base_url()))
        .bearer_auth(token(app, &["viewer"]))
        .send()
        .await
        .or_fail("LOG-1", "get")?;
    env.faults().enable(proxy::POSTGRES).await.or_error("up")?;
    ensure_eq!("LOG-1", r.status(), 503);
    let id = r
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .or_fail("LOG-1", "x-request-id")?
        .to_owned();
    sut.stop(Duration::from_secs(30))
        .await
        .or_fail("LOG-1", "stop")?;
    env.shutdown().await.or_error("env shutdown")?;

    let log = std::fs::read_to_string(dir.path().join("sut.log")).or_fail("LOG-1", "sut.log")?;
    let lines: Vec<Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l)
                .map_err(|e| CaseError::fail("LOG-1", format!("not JSON ({e}): {l}")))
        })
        .collect::<Result<_, _>>()?;
    let line = lines
        .iter()
        .find(|l| l["request_id"] == id.as_str())
        .or_fail("LOG-1", &format!("a line for request {id} in:\n{log}"))?;
    ensure_eq!("LOG-1", line["level"], "ERROR", "{line}");
    ensure_eq!("LOG-1", line["error_kind"], "unavailable", "{line}");
    ensure_eq!("LOG-1", line["status"], 503, "{line}");
    ensure_eq!("LOG-1", line["route"], "/api/v1/jobs/{id}", "{line}");
    // The cause, logged deeper down, carries the same id through its span.
    ensure!(
        "LOG-1",
        lines
            .iter()
            .any(|l| l["span"]["request_id"] == id.as_str() && l["message"] != line["message"]),
        "no cause line for {id}:\n{log}"
    );
    Ok(())
}

/// Contract CFG-1: a missing or malformed required variable stops start-up with a
/// message that names it.
pub async fn a_missing_or_malformed_variable_is_named_at_start_up(app: &Ctx) -> CaseResult {
    use crate::service::{contract_env, RunningSut, SutSettings};
    let env = app.launch()?.start_env().await?;
    let dir = tempfile::tempdir().or_error("tempdir")?;
    let settings = SutSettings {
        jwt_secret: app.secret().into(),
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
        let port = crate::net::free_port().or_fail("CFG-1", "port")?;
        let listen = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let mut vars: Vec<(String, String)> = contract_env(env.endpoints(), listen, &settings)
            .into_iter()
            .filter(|(k, _)| k != name)
            .collect();
        if let Some(v) = value {
            vars.push((name.to_owned(), v.to_owned()));
        }
        let log = dir.path().join(format!("{name}.log"));
        let command = &app.launch()?.command;
        let mut sut = RunningSut::spawn(command, listen, &vars, &log).or_fail("CFG-1", "spawn")?;
        let exit = sut.wait_exit(Duration::from_secs(20)).await;
        ensure!(
            "CFG-1",
            exit.is_some_and(|s| !s.success()),
            "{name} {value:?}: exit {exit:?}"
        );
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        ensure!(
            "CFG-1",
            text.contains(name),
            "{name} is not named in:\n{text}"
        );
    }
    env.shutdown().await.or_error("env shutdown")?;
    Ok(())
}
