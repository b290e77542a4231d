//! Seed 000 audit trail: one row per document access and processing event, with a
//! SHA-256 integrity hash over the entry's canonical JSON.

use chrono::{DateTime, DurationRound, SecondsFormat, Utc};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

/// Writes one audit row. Failures are logged: the audit write must not be skipped
/// silently, but it also must not turn a read into an error.
pub async fn record(db: &PgPool, user_id: &str, document_id: &str, action: &str, detail: Value) {
    // Postgres keeps microseconds; hashing the same precision keeps rows verifiable.
    let at = chrono::Utc::now()
        .duration_trunc(chrono::TimeDelta::microseconds(1))
        .unwrap_or_else(|_| chrono::Utc::now());
    let hash = integrity_hash(at, user_id, document_id, action, &detail);
    let q = sqlx::query(
        "INSERT INTO app.audit_log (at, user_id, document_id, action, detail, integrity_hash) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(at)
    .bind(user_id)
    .bind(document_id)
    .bind(action)
    .bind(&detail)
    .bind(&hash)
    .execute(db);
    match tokio::time::timeout(std::time::Duration::from_secs(2), q).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::error!(error = %e, action, document_id, "audit write failed"),
        Err(_) => tracing::error!(action, document_id, "audit write timed out"),
    }
}

/// SHA-256 over the entry's canonical JSON (sorted keys, RFC 3339 time in microseconds,
/// UTC), hex-encoded. Anyone holding a row can recompute it.
pub fn integrity_hash(
    at: DateTime<Utc>,
    user_id: &str,
    document_id: &str,
    action: &str,
    detail: &Value,
) -> String {
    let entry = json!({
        "at": at.to_rfc3339_opts(SecondsFormat::Micros, true),
        "user_id": user_id,
        "document_id": document_id,
        "action": action,
        "detail": detail,
    });
    // serde_json's maps are sorted, so this is canonical.
    hex::encode(Sha256::digest(entry.to_string().as_bytes()))
}
