//! Seed 000 audit trail: one record per document access and processing event, written
//! in the same transaction as the event, and chained: each record's hash covers the
//! previous record's hash, so an edited, inserted or deleted record breaks every hash
//! after it. The chain can be checked from `GET /api/v1/audit` alone (contract AUD-2).

use chrono::{DateTime, DurationRound, SecondsFormat, Utc};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};

/// The `prev_hash` of the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Serialises audit writers, so each record chains onto the one committed before it.
const CHAIN_LOCK: i64 = 0x6175_6469_745f_6c6f; // "audit_lo"

/// Writes one audit record inside `tx`, the event's own transaction: if the record
/// cannot be written, the event fails with it.
pub async fn record(
    tx: &mut PgConnection,
    user_id: &str,
    document_id: &str,
    action: &str,
    detail: Value,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(CHAIN_LOCK)
        .execute(&mut *tx)
        .await?;
    let prev: Option<String> =
        sqlx::query_scalar("SELECT integrity_hash FROM app.audit_log ORDER BY id DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
    let prev = prev.unwrap_or_else(|| GENESIS.to_owned());
    // Postgres keeps microseconds; hashing the same precision keeps records verifiable.
    let at = Utc::now()
        .duration_trunc(chrono::TimeDelta::microseconds(1))
        .unwrap_or_else(|_| Utc::now());
    let hash = chain_hash(&prev, at, user_id, document_id, action, &detail);
    sqlx::query(
        "INSERT INTO app.audit_log (at, user_id, document_id, action, detail, prev_hash, integrity_hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(at)
    .bind(user_id)
    .bind(document_id)
    .bind(action)
    .bind(&detail)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// A record's hash: hex SHA-256 of the canonical JSON of `{action, at, detail,
/// document_id, prev_hash, user_id}` (keys sorted at every level, no whitespace, `at`
/// in RFC 3339 UTC with microseconds and `Z`).
pub fn chain_hash(
    prev_hash: &str,
    at: DateTime<Utc>,
    user_id: &str,
    document_id: &str,
    action: &str,
    detail: &Value,
) -> String {
    let entry = json!({
        "action": action,
        "at": at.to_rfc3339_opts(SecondsFormat::Micros, true),
        "detail": detail,
        "document_id": document_id,
        "prev_hash": prev_hash,
        "user_id": user_id,
    });
    hex::encode(Sha256::digest(canonical(&entry).as_bytes()))
}

/// JSON text with object keys sorted at every level, whatever order the value holds
/// them in (Postgres `jsonb` keeps its own).
pub fn canonical(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let fields: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), canonical(&m[k])))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}

type AuditRow = (
    i64,
    DateTime<Utc>,
    String,
    String,
    String,
    Value,
    Option<String>,
    String,
);

/// Records after `after` (a `seq`), at most `limit`, oldest first, as the contract's
/// JSON (AUD-2); and the `after` for the next page, when this one is full.
pub async fn page(
    db: &PgPool,
    after: i64,
    limit: i64,
) -> Result<(Vec<Value>, Option<i64>), sqlx::Error> {
    let rows: Vec<AuditRow> = sqlx::query_as(
        "SELECT id, at, user_id, document_id, action, detail, prev_hash, integrity_hash \
           FROM app.audit_log WHERE id > $1 ORDER BY id LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(db)
    .await?;
    let next = rows
        .last()
        .filter(|_| rows.len() as i64 == limit)
        .map(|r| r.0);
    let records: Vec<Value> = rows
        .into_iter()
        .map(
            |(seq, at, user_id, document_id, action, detail, prev_hash, hash)| {
                json!({
                    "seq": seq,
                    "at": at.to_rfc3339_opts(SecondsFormat::Micros, true),
                    "user_id": user_id,
                    "document_id": document_id,
                    "action": action,
                    "detail": detail,
                    "prev_hash": prev_hash,
                    "hash": hash,
                })
            },
        )
        .collect();
    Ok((records, next))
}
