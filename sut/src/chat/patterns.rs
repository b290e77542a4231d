//! Pattern analysis (seed 002 §1.2): rush orders, payment timing and anomalies, each run
//! independently with its own timeout so one failure does not block the others.

use tokio::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::PgPool;

/// One detected pattern.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatternInsight {
    /// rush_order, payment_timing or anomaly.
    pub pattern_type: String,
    /// 0–1.
    pub confidence: f64,
    /// 0–1, for ordering.
    pub significance: f64,
    /// One sentence.
    pub insight: String,
    /// Supporting numbers.
    pub data: serde_json::Value,
    /// What to do about it.
    pub recommendation: Option<String>,
}

async fn rush_orders(db: &PgPool, id: &str) -> Result<Option<PatternInsight>, sqlx::Error> {
    let (recent, before): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE created_at > now() - interval '90 days'), \
                count(*) FILTER (WHERE created_at <= now() - interval '90 days' AND created_at > now() - interval '180 days') \
           FROM domain.sales_orders WHERE customer_id = $1 AND priority = 'rush'",
    )
    .bind(id)
    .fetch_one(db)
    .await?;
    Ok((recent >= 2).then(|| PatternInsight {
        pattern_type: "rush_order".into(),
        confidence: if recent >= 3 { 0.85 } else { 0.7 },
        significance: 0.7,
        insight: format!("{recent} rush orders in the last 90 days (previous 90 days: {before})"),
        data: json!({"recent": recent, "previous": before}),
        recommendation: Some("Review capacity planning with this customer".into()),
    }))
}

async fn payment_timing(db: &PgPool, id: &str) -> Result<Option<PatternInsight>, sqlx::Error> {
    let (overdue, avg_late): (i64, Option<f64>) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM domain.invoices i WHERE i.customer_id = $1 AND i.due_date < current_date \
                   AND NOT EXISTS (SELECT 1 FROM domain.payments p WHERE p.invoice_id = i.id)), \
                (SELECT avg(p.paid_at::date - i.due_date)::float8 FROM domain.payments p \
                   JOIN domain.invoices i ON i.id = p.invoice_id WHERE i.customer_id = $1)",
    )
    .bind(id)
    .fetch_one(db)
    .await?;
    let late = avg_late.unwrap_or(0.0);
    Ok((overdue > 0 || late > 5.0).then(|| PatternInsight {
        pattern_type: "payment_timing".into(),
        confidence: 0.8,
        significance: 0.9,
        insight: format!("{overdue} overdue unpaid invoices; paid invoices settled {late:.0} days after due on average"),
        data: json!({"overdue_invoices": overdue, "avg_days_late": late}),
        recommendation: Some("Tighten payment terms or require a deposit".into()),
    }))
}

async fn anomalies(db: &PgPool, id: &str) -> Result<Option<PatternInsight>, sqlx::Error> {
    let (last, avg): (Option<f64>, Option<f64>) = sqlx::query_as(
        "SELECT (SELECT amount::float8 FROM domain.sales_orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 1), \
                (SELECT avg(amount)::float8 FROM domain.sales_orders WHERE customer_id = $1)",
    )
    .bind(id)
    .fetch_one(db)
    .await?;
    Ok(match (last, avg) {
        (Some(l), Some(a)) if a > 0.0 && l > 1.5 * a => Some(PatternInsight {
            pattern_type: "anomaly".into(),
            confidence: 0.65,
            significance: 0.5,
            insight: format!(
                "latest order ({l:.0}) is {:.1}x the average order ({a:.0})",
                l / a
            ),
            data: json!({"latest": l, "average": a}),
            recommendation: None,
        }),
        _ => None,
    })
}

/// Runs every detector at once, each until `until`; failures and timeouts are logged
/// and skipped, and the others' findings kept. Returns the findings and whether every
/// detector finished.
pub async fn analyze_entity(db: &PgPool, id: &str, until: Instant) -> (Vec<PatternInsight>, bool) {
    let (a, b, c) = tokio::join!(
        tokio::time::timeout_at(until, rush_orders(db, id)),
        tokio::time::timeout_at(until, payment_timing(db, id)),
        tokio::time::timeout_at(until, anomalies(db, id)),
    );
    let mut out = Vec::new();
    let mut complete = true;
    for (name, r) in [("rush_order", a), ("payment_timing", b), ("anomaly", c)] {
        match r {
            Ok(Ok(Some(p))) => out.push(p),
            Ok(Ok(None)) => {}
            Ok(Err(e)) => {
                complete = false;
                tracing::warn!(pattern = name, error = %e, "pattern detection failed");
            }
            Err(_) => {
                complete = false;
                tracing::warn!(pattern = name, "pattern detection timed out");
            }
        }
    }
    out.sort_by(|x, y| y.significance.total_cmp(&x.significance));
    (out, complete)
}
