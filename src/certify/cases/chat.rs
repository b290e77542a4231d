//! The contract's chat, health, auth, limits and jobs cases.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::certify::{
    check, check_eq, ensure, ensure_eq, ensure_ne, mint, openapi, CaseError, CaseResult, Ctx, Or,
};
use crate::environment::proxy;
use crate::llm::{FailStatus, FailureMode};

const OPERATIONS: [&str; 4] = [
    "entity_resolver.resolve",
    "context_synthesizer.synthesize",
    "response_generator.generate",
    "request_handler.handle_request",
];

fn sources(body: &Value) -> Vec<&str> {
    body["sources"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

pub async fn chat_answers_with_the_contract_fields_and_headers(app: &Ctx) -> CaseResult {
    let (s, body, headers) = app
        .chat("Should we extend payment terms to Delta Industries?")
        .await;
    ensure_eq!(s, 200, "{body}");
    for f in [
        "text",
        "confidence",
        "quality_score",
        "sources",
        "degraded",
        "fallback",
        "entities",
    ] {
        ensure!(body.get(f).is_some(), "missing {f}: {body}");
    }
    ensure_eq!(body["fallback"], "none");
    // Contract CHAT-15: the primary answered with everything in hand.
    ensure_eq!(body["degraded"], false, "{body}");
    ensure_eq!(body["confidence"], 0.85, "{body}");
    ensure!(body["decision"]["recommendation"].is_string(), "{body}");
    ensure_eq!(body["entities"][0]["name"], "Delta Industries");
    ensure!(sources(&body).contains(&"database"), "{body}");
    ensure!(sources(&body).contains(&"patterns"), "{body}");
    ensure!(headers.contains_key("x-request-id"));
    let timing = headers
        .get("server-timing")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    for op in OPERATIONS
        .iter()
        .chain(&["decision_support.analyze_decision"])
    {
        ensure!(
            timing.contains(op),
            "{op} missing from Server-Timing: {timing}"
        );
    }
    ensure!(timing.contains("pattern_analyzer."), "{timing}");
    // The question reached the LLM.
    let seen = app.env()?.llm().recent_requests();
    ensure!(seen
        .iter()
        .any(|r| r.to_string().contains("Delta Industries")));
    Ok(())
}

/// Seed 002 §5.2 test_database_timeout.
pub async fn database_latency_10s_still_answers_from_cache(app: &Ctx) -> CaseResult {
    let (s, healthy, _) = app.chat("What is Delta's status?").await;
    ensure_eq!(s, 200);
    app.slow(proxy::POSTGRES, 10_000).await?;
    let t = Instant::now();
    let (s, body, _) = app.chat("What is Delta's status?").await;
    let took = t.elapsed();
    app.measure(
        "answer time with 10 s of database latency",
        took.as_secs_f64() * 1e3,
        "ms",
        Some("< 8000"),
    );
    ensure_eq!(s, 200, "{body}");
    ensure!(sources(&body).contains(&"cache"), "{body}");
    ensure_eq!(body["degraded"], true);
    // Entity resolution (1 s) plus the retrieval deadline (5 s) plus slack.
    ensure!(took < Duration::from_secs(8), "took {took:?}");
    // Contract CHAT-11: an answer built without the account data is less sure of itself.
    let (sure, unsure) = (healthy["confidence"].as_f64(), body["confidence"].as_f64());
    ensure!(
        unsure < sure,
        "confidence {unsure:?} without the database, {sure:?} with it"
    );
    app.clear(proxy::POSTGRES).await?;
    Ok(())
}

/// Seed 002 §5.2 test_llm_failure.
pub async fn llm_failure_rate_1_gives_the_template(app: &Ctx) -> CaseResult {
    app.env()?
        .llm()
        .set_failure(FailureMode::new(1.0, FailStatus::ApiError).or_error("mode")?);
    let (s, body, _) = app.chat("Should we extend terms?").await;
    check_eq!(app, "CHAT-7", s, 200, "{body}");
    check_eq!(app, "CHAT-6", body["fallback"], "template", "{body}");
    if body["fallback"] == "template" {
        check!(
            app,
            "CHAT-7",
            body["quality_score"].as_f64().unwrap_or(1.0) < 0.7,
            "quality_score not under 0.7: {body}"
        );
        // Contract CHAT-15: what the template's fields say.
        check_eq!(app, "CHAT-15", body["degraded"], true, "{body}");
        check_eq!(app, "CHAT-15", body["quality_score"], 0.6, "{body}");
        check!(
            app,
            "CHAT-15",
            body["confidence"].as_f64().unwrap_or(1.0) <= 0.6,
            "confidence above 0.6: {body}"
        );
    }
    let metrics = app.metrics().await;
    check!(
        app,
        "CHAT-6",
        metrics.contains("llm_fallbacks_total{kind=\"template\"} 1"),
        "no template fallback counted: {metrics}"
    );
    Ok(())
}

/// Seed 002 §5.2 test_partial_retrieval_failure: pattern retrieval is made slower than
/// its budget through the fault layer (Redis, the L2 tier, answers after 300 ms).
pub async fn pattern_timeout_answers_without_pattern_analysis(app: &Ctx) -> CaseResult {
    app.slow(proxy::REDIS, 300).await?;
    let (s, body, _) = app.chat("What's going on with Delta?").await;
    ensure_eq!(s, 200, "{body}");
    ensure!(!sources(&body).contains(&"patterns"), "{body}");
    ensure_eq!(body["degraded"], true, "{body}");
    ensure!(sources(&body).contains(&"database"), "{body}");
    app.clear(proxy::REDIS).await?;
    Ok(())
}

async fn breaker_state(app: &Ctx) -> String {
    let (_, h) = app.get_json("/health", "").await;
    h["components"]["llm"]["circuit_breaker"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

pub async fn breaker_opens_after_5_failures_and_closes_after_its_timeout(app: &Ctx) -> CaseResult {
    let llm = app.env()?.llm();
    llm.set_failure(FailureMode::new(1.0, FailStatus::Overloaded).or_error("mode")?);
    // Each request tries the primary 3 times and the fallback once: the second opens it.
    for _ in 0..2 {
        let (s, body, _) = app.chat("What is the status of Delta Industries?").await;
        check_eq!(
            app,
            "CHAT-6",
            (s, &body["fallback"]),
            (200, &json!("template")),
            "{body}"
        );
    }
    ensure_eq!(breaker_state(app).await, "open");
    let calls_when_open = llm.calls();
    ensure_eq!(calls_when_open, 5, "breaker should open on the 5th failure");
    for _ in 0..5 {
        let (s, body, _) = app.chat("What is the status of Delta Industries?").await;
        check_eq!(
            app,
            "CHAT-6",
            (s, body["fallback"].as_str()),
            (200, Some("template")),
            "while open"
        );
    }
    ensure_eq!(
        llm.calls(),
        calls_when_open,
        "calls reached the LLM while the breaker was open"
    );
    llm.set_failure(FailureMode::NONE);
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let (_, body, _) = app.chat("What is the status of Delta Industries?").await;
    check_eq!(
        app,
        "LLM-1",
        body["fallback"],
        "none",
        "after the timeout: {body}"
    );
    check_eq!(
        app,
        "LLM-1",
        llm.calls(),
        calls_when_open + 1,
        "one half-open probe"
    );
    check_eq!(
        app,
        "LLM-1",
        breaker_state(app).await,
        "closed",
        "after the probe"
    );
    Ok(())
}

pub async fn jwt_attacks_get_401_or_403(app: &Ctx) -> CaseResult {
    let good = app.token(&["viewer"]);
    let parts: Vec<&str> = good.split('.').collect();
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let encode = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
    let payload = parts.get(1).copied().unwrap_or_default();
    let tampered_payload = {
        let mut claims: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).or_error("claims")?)
                .or_error("claims")?;
        claims["roles"] = json!(["admin"]);
        encode(claims.to_string().as_bytes())
    };
    let attacks: Vec<(&str, Option<String>)> = vec![
        ("missing", None),
        ("expired", Some(mint(app.secret(), "u", &["admin"], -60))),
        (
            "wrong signature",
            Some(mint("another-secret", "u", &["admin"], 3600)),
        ),
        (
            "alg none",
            Some(format!(
                "{}.{}.",
                encode(br#"{"alg":"none","typ":"JWT"}"#),
                payload
            )),
        ),
        (
            "tampered role",
            Some(format!(
                "{}.{}.{}",
                parts.first().copied().unwrap_or_default(),
                tampered_payload,
                parts.get(2).copied().unwrap_or_default()
            )),
        ),
        ("garbage", Some("not-a-token".into())),
    ];
    for (name, token) in attacks {
        let mut req = app
            .http
            .post(app.url("/api/chat"))
            .json(&json!({"query": "status of Delta Industries"}));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.or_fail("send")?;
        check_eq!(app, "AUTH-2", r.status(), 401, "{name}");
        let body: Value = r.json().await.unwrap_or(Value::Null);
        check_eq!(
            app,
            "AUTH-2",
            body["error"]["type"],
            "unauthorized",
            "{name}: {body}"
        );
    }
    // A valid token without the permission.
    let r = app
        .http
        .post(app.url("/api/v1/documents/process"))
        .bearer_auth(app.token(&["viewer"]))
        .json(&json!({"document_id": "d1", "content": "x", "processing_type": "summarize"}))
        .send()
        .await
        .or_fail("send")?;
    check_eq!(
        app,
        "AUTH-3",
        r.status(),
        403,
        "a viewer processing a document"
    );
    Ok(())
}

pub async fn rate_limit_body_limit_and_malformed_json(app: &Ctx) -> CaseResult {
    let token = app.token(&["viewer"]);
    let mut limited = None;
    for _ in 0..10 {
        let r = app
            .http
            .post(app.url("/api/chat"))
            .bearer_auth(&token)
            .json(&json!({"query": "status of Acme"}))
            .send()
            .await
            .or_fail("send")?;
        if r.status() == 429 {
            limited = Some(r);
            break;
        }
        ensure_eq!(r.status(), 200);
    }
    let r = limited.or_fail("no 429 after 10 requests at 3/minute")?;
    let retry: u64 = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .or_fail("Retry-After")?;
    ensure!((1..=60).contains(&retry));

    let other = mint(app.secret(), "user-2", &["viewer"], 3600);
    let big = format!(r#"{{"query":"{}"}}"#, "x".repeat(2 * 1024 * 1024));
    // An early 413 races the client's write (broken pipe) and a pooled connection
    // races the close (incomplete message). The SUT drains the body and says it
    // closes; one pooled client over many rounds would hit either race without that.
    let mut last = None;
    for round in 0..20 {
        let r = app
            .post_raw("/api/chat", Some(&other), big.clone())
            .await
            .map_err(|e| CaseError::Fail(format!("round {round}, oversized body: {e}")))?;
        ensure_eq!(r.status(), 413);
        ensure_eq!(
            r.headers().get("connection").map(|v| v.as_bytes()),
            Some(&b"close"[..])
        );
        let r = app
            .post_raw("/api/chat", Some(&other), "{\"query\": ")
            .await
            .map_err(|e| CaseError::Fail(format!("round {round}, request after a 413: {e}")))?;
        let status = r.status().as_u16();
        check_eq!(
            app,
            "LIM-3",
            status,
            400,
            "malformed JSON after a 413, round {round}"
        );
        last = Some(r);
        if status != 400 {
            break;
        }
    }
    let r = last.or_fail("20 rounds")?;
    let body: Value = r.json().await.or_fail("JSON error body")?;
    check_eq!(
        app,
        "LIM-3",
        body["error"]["type"],
        "invalid_request",
        "the error body: {body}"
    );
    Ok(())
}

async fn submit(app: &Ctx, doc: &str, content: &str) -> Result<String, CaseError> {
    let r = app
        .http
        .post(app.url("/api/v1/documents/process"))
        .bearer_auth(app.token(&["processor"]))
        .json(&json!({"document_id": doc, "content": content, "processing_type": "summarize", "priority": 1}))
        .send()
        .await
        .or_fail("submit")?;
    ensure_eq!(r.status(), 202);
    let body: Value = r.json().await.or_fail("body")?;
    Ok(body["job_id"].as_str().or_fail("job_id")?.to_owned())
}

pub async fn jobs_survive_redis_down_and_slow(app: &Ctx) -> CaseResult {
    app.cut(proxy::REDIS).await?;
    let down = submit(app, "doc-down", "Quarterly report for Delta Industries.").await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (_, status) = app
        .get_json(&format!("/api/v1/jobs/{down}"), &app.token(&["viewer"]))
        .await;
    ensure_eq!(status["status"], "queued", "{status}");
    app.restore(proxy::REDIS).await?;
    ensure_eq!(
        app.wait_job(&down, Duration::from_secs(20)).await["status"],
        "completed"
    );

    app.slow(proxy::REDIS, 2000).await?;
    let slow = submit(app, "doc-slow", "Invoice summary for Acme Corporation.").await?;
    app.clear(proxy::REDIS).await?;
    ensure_eq!(
        app.wait_job(&slow, Duration::from_secs(20)).await["status"],
        "completed"
    );
    Ok(())
}

pub async fn pii_never_reaches_the_llm(app: &Ctx) -> CaseResult {
    let secrets = [
        "123-45-6789",
        "555-867-5309",
        "jane.doe@example.com",
        "4111 1111 1111 1111",
        "42 Elm Street",
    ];
    let content = format!(
        "Customer contact: SSN {}, phone {}, email {}, card {}, address {}.",
        secrets[0], secrets[1], secrets[2], secrets[3], secrets[4]
    );
    let id = submit(app, "doc-pii", &content).await?;
    let done = app.wait_job(&id, Duration::from_secs(20)).await;
    ensure_eq!(done["status"], "completed", "{done}");
    let seen: String = app
        .env()?
        .llm()
        .recent_requests()
        .iter()
        .map(Value::to_string)
        .collect();
    ensure!(
        seen.contains("[SSN_REDACTED]"),
        "the document did not reach the LLM: {seen}"
    );
    for s in secrets {
        ensure!(!seen.contains(s), "{s} reached the LLM");
    }

    // Every event left an audit record, and the chain holds (contract AUD-2).
    let (s, body) = app
        .get_json("/api/v1/audit?limit=1000", &app.token(&["auditor"]))
        .await;
    ensure_eq!(s, 200, "{body}");
    let records = body["records"].as_array().cloned().unwrap_or_default();
    let actions: Vec<&str> = records
        .iter()
        .filter(|r| r["document_id"] == "doc-pii")
        .filter_map(|r| r["action"].as_str())
        .collect();
    ensure!(actions.len() >= 2, "audit actions: {actions:?}");
    ensure_eq!(super::defects::chain_break(&records), None, "{body}");
    Ok(())
}

pub async fn health_reflects_components(app: &Ctx) -> CaseResult {
    ensure_eq!(app.chat("What is the status of Acme?").await.0, 200);
    let (s, h) = app.get_json("/health", "").await;
    ensure_eq!((s, h["status"].as_str()), (200, Some("healthy")), "{h}");
    app.cut(proxy::REDIS).await?;
    let (s, h) = app.get_json("/health", "").await;
    ensure_eq!((s, h["status"].as_str()), (200, Some("degraded")), "{h}");
    ensure_eq!(h["components"]["redis"]["status"], "down");
    app.restore(proxy::REDIS).await?;
    app.cut(proxy::POSTGRES).await?;
    let (s, h) = app.get_json("/health", "").await;
    check_eq!(
        app,
        "HEALTH-1",
        (s, h["status"].as_str()),
        (503, Some("unhealthy")),
        "the database down: {h}"
    );
    let (s, _) = app.get_json("/ready", "").await;
    ensure_eq!(s, 503);
    app.restore(proxy::POSTGRES).await?;
    let metrics = app.metrics().await;
    for m in [
        "http_requests_total{method=\"POST\",route=\"/api/chat\",status=\"200\"} 1",
        "operation_duration_seconds_bucket{operation=\"entity_resolver.resolve\"",
        "circuit_breaker_state 0",
        "cache_misses_total{cache=\"patterns\"}",
        "llm_calls_total{model=\"claude-sonnet-4-5\",outcome=\"ok\"} 1",
        "http_request_duration_seconds_bucket{route=\"/api/chat\"",
    ] {
        ensure!(metrics.contains(m), "{m} missing");
    }
    Ok(())
}

/// Real responses of every route and status the contract lists validate against
/// openapi.yaml (CONTRACT.md API-1).
pub async fn responses_validate_against_openapi(app: &Ctx) -> CaseResult {
    let spec = openapi::spec()?;
    let viewer = app.token(&["viewer"]);
    let processor = app.token(&["processor"]);

    let (s, b, _) = app
        .chat("Should we extend payment terms to Delta Industries?")
        .await;
    openapi::check_as(app, "CHAT-1", &spec, "post", "/api/chat", s, &b)?;
    app.env()?
        .llm()
        .set_failure(FailureMode::new(1.0, FailStatus::ApiError).or_error("mode")?);
    let (s, b, _) = app.chat("What is the status of Acme?").await;
    check_eq!(
        app,
        "CHAT-6",
        (s, &b["fallback"]),
        (200, &json!("template")),
        "every LLM call failing: {b}"
    );
    openapi::check_as(app, "CHAT-6", &spec, "post", "/api/chat", s, &b)?;
    app.env()?.llm().set_failure(FailureMode::NONE);

    // Each bad input with the clause that says how it is answered.
    let cases: Vec<(&str, Option<&str>, String, u16, &str)> = vec![
        ("/api/chat", Some(&viewer), "{".into(), 400, "LIM-3"),
        (
            "/api/chat",
            Some(&viewer),
            r#"{"query": 5}"#.into(),
            400,
            "LIM-3",
        ),
        (
            "/api/chat",
            Some(&viewer),
            r#"{"query": "   "}"#.into(),
            400,
            "LIM-3",
        ),
        (
            "/api/chat",
            Some(&viewer),
            r#"{"query": "hi", "unknown": 1}"#.into(),
            200,
            "CHAT-1",
        ),
        (
            "/api/chat",
            None,
            r#"{"query": "hi"}"#.into(),
            401,
            "AUTH-2",
        ),
        (
            "/api/chat",
            Some(&viewer),
            format!(r#"{{"query":"{}"}}"#, "x".repeat(2 << 20)),
            413,
            "LIM-2",
        ),
        (
            "/api/v1/documents/process",
            Some(&viewer),
            r#"{"document_id":"d","content":"c","processing_type":"summarize"}"#.into(),
            403,
            "AUTH-3",
        ),
        (
            "/api/v1/documents/process",
            Some(&processor),
            r#"{"document_id":"d","content":"c","processing_type":"dance"}"#.into(),
            400,
            "LIM-3",
        ),
        (
            "/api/v1/documents/process",
            Some(&processor),
            r#"{"document_id":"d","content":"c","processing_type":"summarize","priority":9}"#
                .into(),
            400,
            "LIM-3",
        ),
        (
            "/api/v1/documents/process",
            Some(&processor),
            r#"{"document_id":"doc-c","content":"Hello Acme","processing_type":"summarize"}"#
                .into(),
            202,
            "DOC-1",
        ),
    ];
    let mut job = String::new();
    for (path, token, body, want, clause) in cases {
        let r = app.post_raw(path, token, body).await.or_fail("send")?;
        let s = r.status().as_u16();
        if s == 413 {
            check_eq!(
                app,
                "LIM-2",
                r.headers().get("connection").map(|v| v.as_bytes()),
                Some(&b"close"[..]),
                "a 413 closes the connection it did not read to the end"
            );
        }
        let b: Value = r.json().await.unwrap_or(Value::Null);
        check_eq!(app, "LIM-4", s != 500, true, "{path} answered a 500: {b}");
        if s != 500 {
            check_eq!(app, clause, s, want, "{path}: {b}");
            openapi::check_as(app, clause, &spec, "post", path, s, &b)?;
        }
        if s == 202 {
            job = b["job_id"].as_str().unwrap_or("").to_owned();
        }
    }
    let done = app.wait_job(&job, Duration::from_secs(20)).await;
    openapi::check(&spec, "get", "/api/v1/jobs/{id}", 200, &done)?;
    let r = app
        .post_raw(
            "/api/v1/documents/process",
            Some(&processor),
            r#"{"document_id":"doc-c","content":"Hello Acme","processing_type":"summarize"}"#,
        )
        .await
        .or_fail("send")?;
    ensure_eq!(
        r.status(),
        200,
        "second submission is served from the result cache"
    );
    openapi::check(
        &spec,
        "post",
        "/api/v1/documents/process",
        200,
        &r.json().await.or_fail("json")?,
    )?;
    let (s, b) = app.get_json("/api/v1/jobs/nope", &viewer).await;
    openapi::check(&spec, "get", "/api/v1/jobs/{id}", s, &b)?;
    for path in ["/health", "/ready"] {
        let (s, b) = app.get_json(path, "").await;
        openapi::check(&spec, "get", path, s, &b)?;
    }
    app.cut(proxy::POSTGRES).await?;
    for (path, clause) in [("/health", "HEALTH-1"), ("/ready", "READY-1")] {
        let (s, b) = app.get_json(path, "").await;
        check_eq!(app, clause, s, 503, "{path} with the database down: {b}");
        openapi::check_as(app, clause, &spec, "get", path, s, &b)?;
    }
    app.restore(proxy::POSTGRES).await?;
    Ok(())
}

/// Contract CHAT-9: memory is stored after the response, so the next question about the
/// same customer in the session is built from it.
pub async fn a_conversation_is_remembered_for_the_next_question(app: &Ctx) -> CaseResult {
    let (_, first, _) = app.chat("What is the status of Globex Ltd?").await;
    ensure!(!sources(&first).contains(&"memory"), "{first}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let later = loop {
        let (_, body, _) = app.chat("Has Globex Ltd paid its invoices?").await;
        if sources(&body).contains(&"memory") || Instant::now() > deadline {
            break body;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    ensure!(sources(&later).contains(&"memory"), "{later}");
    Ok(())
}

/// Contract AUTH-1 and AUTH-3: each role reaches what seed 000 grants it, and gets 403
/// elsewhere.
pub async fn each_role_reaches_what_seed_000_grants_it(app: &Ctx) -> CaseResult {
    let doc = json!({"document_id": "doc-roles", "content": "Terms for Acme.", "processing_type": "classify"});
    for (role, chat, process, audit) in [
        ("viewer", 200, 403, 403),
        ("processor", 200, 202, 403),
        ("admin", 200, 202, 200),
        ("auditor", 200, 403, 200),
        ("intern", 403, 403, 403),
    ] {
        let token = app.token_for(&format!("u-{role}"), &[role]);
        let r = app
            .http
            .post(app.url("/api/chat"))
            .bearer_auth(&token)
            .json(&json!({"query": "What is the status of Acme?"}))
            .send()
            .await
            .or_fail("chat")?;
        ensure_eq!(r.status(), chat, "{role} chat");
        let r = app
            .http
            .post(app.url("/api/v1/documents/process"))
            .bearer_auth(&token)
            .json(&doc)
            .send()
            .await
            .or_fail("process")?;
        ensure_eq!(r.status(), process, "{role} process");
        let (s, body) = app.get_json("/api/v1/audit?limit=1", &token).await;
        ensure_eq!(s, audit, "{role} audit: {body}");
    }
    Ok(())
}

/// Contract CHAT-12: the recommendation follows the account's own figures. Acme has paid
/// every invoice; Globex is on hold with its only invoice 40 days overdue and no payment.
pub async fn decisions_follow_the_accounts_own_figures(app: &Ctx) -> CaseResult {
    let (_, acme, _) = app
        .chat("Should we extend payment terms to Acme Corporation?")
        .await;
    let (_, globex, _) = app
        .chat("Should we extend payment terms to Globex Ltd?")
        .await;
    ensure_eq!(acme["decision"]["recommendation"], "proceed", "{acme}");
    ensure_ne!(globex["decision"]["recommendation"], "proceed", "{globex}");
    let risk = |b: &Value| b["decision"]["risk_score"].as_f64().unwrap_or(f64::NAN);
    ensure!(risk(&acme) < risk(&globex), "{acme}\n{globex}");
    let factors = globex["decision"]["factors"].to_string();
    ensure!(factors.contains("overdue"), "{factors}");
    let (_, plain, _) = app.chat("What is the status of Acme Corporation?").await;
    ensure!(plain.get("decision").is_none(), "{plain}");
    Ok(())
}

/// Contract HDR-3: which Server-Timing names appear, and when.
pub async fn server_timing_names_each_operation_that_ran(app: &Ctx) -> CaseResult {
    let names = |h: &reqwest::header::HeaderMap| -> Vec<String> {
        h.get("server-timing")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .split(',')
            .filter_map(|e| e.split(';').next())
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty())
            .collect()
    };
    let (s, body, first) = app.chat("What is the status of Globex Ltd?").await;
    ensure_eq!(s, 200, "{body}");
    let first = names(&first);
    for op in OPERATIONS {
        ensure!(first.iter().any(|n| n == op), "{op} missing: {first:?}");
    }
    let pattern_ops: Vec<&String> = first
        .iter()
        .filter(|n| n.starts_with("pattern_analyzer."))
        .collect();
    ensure_eq!(
        pattern_ops.len(),
        1,
        "one pattern_analyzer operation: {first:?}"
    );
    // On its own fresh instance nobody has asked about Globex yet: computed, not cached.
    // A shared running subject (black-box) may have it cached already.
    if app.fresh() {
        ensure!(
            first.iter().any(|n| n == "pattern_analyzer.analyze_entity"),
            "pattern_analyzer.analyze_entity missing on a first question: {first:?}"
        );
    }
    ensure!(
        !first
            .iter()
            .any(|n| n == "decision_support.analyze_decision"),
        "{first:?}"
    );
    // The same customer again: its patterns come from a cache tier.
    let (_, _, again) = app.chat("Has Globex Ltd paid?").await;
    let again = names(&again);
    ensure!(
        again
            .iter()
            .any(|n| n == "pattern_analyzer.get_cached_patterns"),
        "{again:?}"
    );
    let r = app
        .http
        .get(app.url("/health"))
        .send()
        .await
        .or_fail("health")?;
    ensure_eq!(
        names(r.headers()),
        vec!["request_handler.handle_request".to_owned()]
    );
    Ok(())
}

/// Contract HDR-2 and defect 11: each Server-Timing entry is its own operation's time.
/// Under load, `pattern_analyzer.get_cached_patterns` read 1.2 s at p95 because it was
/// timed after the whole retrieval phase, facts and memories included. Here every
/// database answer takes 400 ms while the patterns come from the cache.
pub async fn cached_patterns_are_timed_apart_from_the_database_reads(app: &Ctx) -> CaseResult {
    let (s, body, _) = app.chat("What is the status of Delta Industries?").await;
    ensure_eq!(s, 200, "{body}");
    app.slow(proxy::POSTGRES, 400).await?;
    let (s, body, headers) = app.chat("Has Delta Industries paid?").await;
    app.clear(proxy::POSTGRES).await?;
    ensure_eq!(s, 200, "{body}");
    let timing = headers
        .get("server-timing")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let ms = |op: &str| -> Result<f64, CaseError> {
        timing
            .split(',')
            .find_map(|e| {
                e.trim()
                    .strip_prefix(op)?
                    .strip_prefix(";dur=")?
                    .parse()
                    .ok()
            })
            .or_fail(&format!("{op} in Server-Timing {timing}"))
    };
    ensure!(ms("request_handler.handle_request")? >= 400.0, "{timing}");
    ensure!(
        ms("pattern_analyzer.get_cached_patterns")? < 200.0,
        "the cache lookup was charged the database's time: {timing}"
    );
    Ok(())
}
