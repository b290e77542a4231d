//! Documents and jobs: the queue through Redis faults, and PII kept from the LLM with
//! every access audited (DOC-2, DOC-4, DOC-5, AUD-1, AUD-2).

use std::time::Duration;

use serde_json::{json, Value};

use crate::certify::{check, check_eq, ensure_eq, CaseError, CaseResult, Ctx, Or};
use crate::environment::proxy;

/// Submits a document as a processor; a job that is not accepted fails `clause`, the
/// one the caller judges.
async fn submit(
    app: &Ctx,
    clause: &'static str,
    doc: &str,
    content: &str,
) -> Result<String, CaseError> {
    let r = app
        .http
        .post(app.url("/api/v1/documents/process"))
        .bearer_auth(app.token(&["processor"]))
        .json(&json!({"document_id": doc, "content": content, "processing_type": "summarize", "priority": 1}))
        .send()
        .await
        .or_fail(clause, "submit")?;
    ensure_eq!(clause, r.status(), 202);
    let body: Value = r.json().await.or_fail(clause, "body")?;
    Ok(body["job_id"]
        .as_str()
        .or_fail(clause, "job_id")?
        .to_owned())
}

pub async fn jobs_survive_redis_down_and_slow(app: &Ctx) -> CaseResult {
    app.cut(proxy::REDIS).await?;
    let down = submit(
        app,
        "DOC-4",
        "doc-down",
        "Quarterly report for Delta Industries.",
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (_, status) = app
        .get_json(&format!("/api/v1/jobs/{down}"), &app.token(&["viewer"]))
        .await;
    check_eq!(app, "DOC-4", status["status"], "queued", "{status}");
    app.restore(proxy::REDIS).await?;
    check_eq!(
        app,
        "DOC-4",
        app.wait_job(&down, Duration::from_secs(20)).await["status"],
        "completed"
    );

    app.slow(proxy::REDIS, 2000).await?;
    let slow = submit(
        app,
        "DOC-4",
        "doc-slow",
        "Invoice summary for Acme Corporation.",
    )
    .await?;
    app.clear(proxy::REDIS).await?;
    check_eq!(
        app,
        "DOC-4",
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
    let id = submit(app, "DOC-5", "doc-pii", &content).await?;
    let done = app.wait_job(&id, Duration::from_secs(20)).await;
    check_eq!(app, "DOC-5", done["status"], "completed", "{done}");
    let seen: String = app
        .env()?
        .llm()
        .recent_requests()
        .iter()
        .map(Value::to_string)
        .collect();
    check!(
        app,
        "DOC-11",
        seen.contains("[SSN_REDACTED]"),
        "the document did not reach the LLM: {seen}"
    );
    for s in secrets {
        check!(app, "DOC-5", !seen.contains(s), "{s} reached the LLM");
    }

    // Every event left an audit record, and the chain holds (contract AUD-2).
    let (s, body) = app
        .get_json("/api/v1/audit?limit=1000", &app.token(&["auditor"]))
        .await;
    ensure_eq!("AUD-2", s, 200, "{body}");
    let records = body["records"].as_array().cloned().unwrap_or_default();
    let actions: Vec<&str> = records
        .iter()
        .filter(|r| r["document_id"] == "doc-pii")
        .filter_map(|r| r["action"].as_str())
        .collect();
    check!(
        app,
        "AUD-1",
        actions.len() >= 2,
        "audit actions: {actions:?}"
    );
    check_eq!(
        app,
        "AUD-2",
        super::findings::chain_break(&records),
        None,
        "{body}"
    );
    Ok(())
}
