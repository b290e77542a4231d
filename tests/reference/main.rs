//! The reference SUT's own tests: properties of `sut/` that only its insides show (query
//! plans, its pool's settings, its tables). They run it in-process against the real
//! environment. The contract, which any implementation must meet, is checked black-box
//! by the cases of `harness certify` (`tests/certify`).

mod helpers;
mod stream;

use std::time::Duration;

use helpers::{spawn_app, spawn_app_with, TestApp};
use serde_json::{json, Value};

async fn direct_db(app: &TestApp) -> sqlx::PgPool {
    sqlx::PgPool::connect(&app.env.endpoints().postgres_direct_url)
        .await
        .expect("direct pool")
}

/// Defect 9: `c.name <% $1` put the column where `gin_trgm_ops` cannot use it, so fuzzy
/// entity resolution scanned every customer. With sequential scans disabled, the plan
/// must use the trigram index.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entity_resolution_can_use_the_trigram_index() {
    let app = spawn_app().await;
    let db = direct_db(&app).await;
    let mut conn = db.acquire().await.expect("connection");
    sqlx::query("SET enable_seqscan = off")
        .execute(&mut *conn)
        .await
        .expect("set");
    let question = "What is the status of Delta Industires?";
    let plan: Vec<(String,)> =
        sqlx::query_as(&format!("EXPLAIN {}", sut::chat::entities::RESOLVE_SQL))
            .bind(question)
            .bind(sut::chat::entities::phrases(question))
            .fetch_all(&mut *conn)
            .await
            .expect("explain");
    let plan: Vec<String> = plan.into_iter().map(|(l,)| l).collect();
    eprintln!("{}", plan.join("\n"));
    assert!(
        plan.iter().any(|l| l.contains("idx_customers_name_trgm")),
        "the trigram index is not used:\n{}",
        plan.join("\n")
    );
    drop(conn);
    db.close().await;
    app.stop().await;
}

/// Defect 6: no query outlives its request: the reference's pool sets a
/// `statement_timeout` (5 s by default).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pool_sets_a_statement_timeout() {
    let app = spawn_app().await;
    let timeout: String = sqlx::query_scalar("SHOW statement_timeout")
        .fetch_one(&app.state.db)
        .await
        .expect("show");
    assert_eq!(timeout, "5s");
    app.stop().await;
}

/// Defect 8: one slow pattern detector discarded every detector's result. Here the
/// invoices table is locked (payment timing cannot read it) while rush orders, which
/// Delta Industries has, are found as usual. The lock is a fault only the reference's own
/// database can take; the certify case `pattern_detectors_and_entities_run_at_once` checks the contract's side (CHAT-10) black-box.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keeps_the_patterns_that_finished_when_one_detector_is_slow() {
    let app = spawn_app_with(&[("SUT_PATTERN_TIMEOUT_MS", "1000")]).await;
    let db = direct_db(&app).await;
    let mut lock = db.begin().await.expect("begin");
    sqlx::query("LOCK TABLE domain.invoices IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .expect("lock");
    let (s, body, _) = app
        .chat("What patterns do you see for Delta Industries?")
        .await;
    lock.rollback().await.expect("unlock");
    db.close().await;
    assert_eq!(s, 200, "{body}");
    let text = body["text"].as_str().unwrap_or("");
    assert!(
        text.contains("rush orders in the last 90 days"),
        "the rush-order pattern was lost with the slow detector: {body}"
    );
    assert_eq!(body["degraded"], true, "{body}");
    app.stop().await;
}

/// Defect 10: deleting a row from the reference's audit table, even one whose neighbours
/// are left alone, shows in what `GET /api/v1/audit` returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_audit_row_breaks_the_served_chain() {
    let app = spawn_app().await;
    let r = app
        .http
        .post(app.url("/api/v1/documents/process"))
        .bearer_auth(app.token_for("alice", &["processor"]))
        .json(&json!({"document_id": "doc-audit", "content": "Audited text.", "processing_type": "summarize"}))
        .send()
        .await
        .expect("submit");
    let body: Value = r.json().await.expect("json");
    let id = body["job_id"].as_str().expect("job_id").to_owned();
    app.wait_job_as("alice", &id, Duration::from_secs(30)).await;
    let auditor = app.token_for("carol", &["auditor"]);
    let linked = |records: &[Value]| {
        records
            .windows(2)
            .all(|w| w[1]["prev_hash"] == w[0]["hash"])
    };
    let (_, body) = app.get_json("/api/v1/audit?limit=1000", &auditor).await;
    let records = body["records"].as_array().cloned().unwrap_or_default();
    assert!(records.len() >= 3 && linked(&records), "{body}");

    let db = direct_db(&app).await;
    sqlx::query("DELETE FROM app.audit_log WHERE id = $1")
        .bind(records[1]["seq"].as_i64().expect("seq"))
        .execute(&db)
        .await
        .expect("delete");
    db.close().await;
    let (_, body) = app.get_json("/api/v1/audit?limit=1000", &auditor).await;
    let records = body["records"].as_array().cloned().unwrap_or_default();
    assert!(!linked(&records), "a deleted record went unnoticed: {body}");
    app.stop().await;
}

/// Contract DATA-1 and DATA-2 as the reference meets them: the seed 002 §2.1 indexes
/// exist, and loading the seed file again inserts nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schema_has_the_seed_indexes_and_the_seed_loads_idempotently() {
    let app = spawn_app().await;
    let db = direct_db(&app).await;
    let customers: i64 = sqlx::query_scalar("SELECT count(*) FROM domain.customers")
        .fetch_one(&db)
        .await
        .expect("count");
    assert!(customers >= 3, "seeded customers: {customers}");
    let indexes: Vec<String> = sqlx::query_scalar("SELECT indexdef FROM pg_indexes")
        .fetch_all(&db)
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
    let again = sut::seed::load(&db, &seed).await.expect("reload");
    assert_eq!(again, 0, "a second load inserted rows");
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM domain.customers")
        .fetch_one(&db)
        .await
        .expect("count");
    assert_eq!(after, customers);
    db.close().await;
    app.stop().await;
}
