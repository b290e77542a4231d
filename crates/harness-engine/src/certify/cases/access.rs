//! Who may do what, and what bad input gets: the JWT attack set, roles, the rate limit,
//! body limits, and every route's answers against openapi.yaml (AUTH-*, LIM-*).

use std::time::Duration;

use serde_json::{json, Value};

use crate::certify::{check, check_eq, mint, openapi, CaseResult, Ctx, Or};
use crate::environment::proxy;
use crate::llm::{FailStatus, FailureMode};

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
        let r = req.send().await.or_fail("AUTH-2", "send")?;
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
        .or_fail("AUTH-3", "send")?;
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
            .or_fail("LIM-1", "send")?;
        if r.status() == 429 {
            limited = Some(r);
            break;
        }
        check_eq!(app, "LIM-1", r.status(), 200, "a request under the limit");
    }
    // The rate limit's checks go on to the body limit's whatever they found.
    match limited {
        None => app.broke(
            "CFG-5",
            "no 429 after 10 requests with SUT_RATE_LIMIT_PER_MINUTE=3".into(),
        ),
        Some(r) => {
            let retry = r
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            match retry {
                None => app.broke("LIM-1", "the 429 has no Retry-After in seconds".into()),
                Some(s) => {
                    check!(
                        app,
                        "LIM-6",
                        (1..=60).contains(&s),
                        "Retry-After {s}: the seconds left in the window, at least 1"
                    );
                }
            }
        }
    }

    let other = mint(app.secret(), "user-2", &["viewer"], 3600);
    let big = format!(r#"{{"query":"{}"}}"#, "x".repeat(2 * 1024 * 1024));
    // An early 413 races the client's write (broken pipe) and a pooled connection
    // races the close (incomplete message). The SUT drains the body and says it
    // closes; one pooled client over many rounds would hit either race without that.
    // A 413 that breaks LIM-2 ends the rounds, not the case: malformed JSON (LIM-3)
    // is still judged, on a request of its own.
    let malformed = "{\"query\": ";
    let mut last = None;
    for round in 0..20 {
        let r = match app.post_raw("/api/chat", Some(&other), big.clone()).await {
            Ok(r) => r,
            Err(e) => {
                app.broke("LIM-2", format!("round {round}, oversized body: {e}"));
                break;
            }
        };
        let close = r.headers().get("connection").map(|v| v.as_bytes()) == Some(&b"close"[..]);
        if r.status() != 413 || !close {
            app.broke(
                "LIM-2",
                format!(
                    "round {round}, oversized body: expected 413 with Connection: close, observed {} with Connection {:?}",
                    r.status(),
                    r.headers().get("connection")
                ),
            );
            break;
        }
        let r = match app.post_raw("/api/chat", Some(&other), malformed).await {
            Ok(r) => r,
            Err(e) => {
                app.broke("LIM-2", format!("round {round}, request after a 413: {e}"));
                break;
            }
        };
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
    let r = match last {
        Some(r) => r,
        None => {
            let r = app
                .post_raw("/api/chat", Some(&other), malformed)
                .await
                .or_fail("LIM-3", "malformed JSON")?;
            check_eq!(app, "LIM-3", r.status().as_u16(), 400, "malformed JSON");
            r
        }
    };
    let body: Value = r.json().await.or_fail("LIM-3", "JSON error body")?;
    check_eq!(
        app,
        "LIM-3",
        body["error"]["type"],
        "invalid_request",
        "the error body: {body}"
    );
    Ok(())
}

/// The clause an answer to a role judges: a 403 is AUTH-3's (no permission, no
/// access), any other status AUTH-1's (what the role grants).
fn granted(status: u16) -> &'static str {
    if status == 403 {
        "AUTH-3"
    } else {
        "AUTH-1"
    }
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
            .or_fail(granted(chat), "chat")?;
        check_eq!(app, granted(chat), r.status(), chat, "{role} chat");
        let r = app
            .http
            .post(app.url("/api/v1/documents/process"))
            .bearer_auth(&token)
            .json(&doc)
            .send()
            .await
            .or_fail(granted(process), "process")?;
        check_eq!(app, granted(process), r.status(), process, "{role} process");
        let (s, body) = app.get_json("/api/v1/audit?limit=1", &token).await;
        check_eq!(app, granted(audit), s, audit, "{role} audit: {body}");
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
        let r = app
            .post_raw(path, token, body)
            .await
            .or_fail(clause, "send")?;
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
    openapi::check_as(app, "DOC-3", &spec, "get", "/api/v1/jobs/{id}", 200, &done)?;
    let r = app
        .post_raw(
            "/api/v1/documents/process",
            Some(&processor),
            r#"{"document_id":"doc-c","content":"Hello Acme","processing_type":"summarize"}"#,
        )
        .await
        .or_fail("DOC-1", "send")?;
    let s = r.status().as_u16();
    check_eq!(
        app,
        "DOC-1",
        s,
        200,
        "second submission is served from the result cache"
    );
    let b: Value = r.json().await.unwrap_or(Value::Null);
    openapi::check_as(
        app,
        "DOC-1",
        &spec,
        "post",
        "/api/v1/documents/process",
        s,
        &b,
    )?;
    let (s, b) = app.get_json("/api/v1/jobs/nope", &viewer).await;
    openapi::check_as(app, "DOC-3", &spec, "get", "/api/v1/jobs/{id}", s, &b)?;
    for (path, clause) in [("/health", "HEALTH-1"), ("/ready", "READY-1")] {
        let (s, b) = app.get_json(path, "").await;
        openapi::check_as(app, clause, &spec, "get", path, s, &b)?;
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
