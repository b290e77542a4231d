//! Memory and database-fact retrieval (seed 002 §3.1 phase 2).

use serde::Serialize;
use sqlx::PgPool;

use super::entities::Entity;

/// Account facts for one customer.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Facts {
    /// Customer name.
    pub name: String,
    /// Account status.
    pub status: String,
    /// Unpaid invoices.
    pub open_invoices: i64,
    /// Their total.
    pub open_amount: f64,
    /// Unpaid and past due.
    pub overdue_invoices: i64,
    /// Orders in the last 90 days.
    pub recent_orders: i64,
    /// Rush orders among them.
    pub recent_rush_orders: i64,
    /// Last payment, if any.
    pub last_payment: Option<chrono::DateTime<chrono::Utc>>,
}

/// Facts for every entity, in one query.
pub async fn facts(db: &PgPool, entities: &[Entity]) -> Result<Vec<Facts>, sqlx::Error> {
    let ids: Vec<String> = entities.iter().map(|e| e.id.clone()).collect();
    sqlx::query_as::<_, Facts>(
        "WITH unpaid AS ( \
           SELECT i.* FROM domain.invoices i \
            WHERE i.customer_id = ANY($1) \
              AND NOT EXISTS (SELECT 1 FROM domain.payments p WHERE p.invoice_id = i.id)) \
         SELECT c.name, c.status, \
           (SELECT count(*) FROM unpaid u WHERE u.customer_id = c.id) AS open_invoices, \
           (SELECT coalesce(sum(u.amount), 0)::float8 FROM unpaid u WHERE u.customer_id = c.id) AS open_amount, \
           (SELECT count(*) FROM unpaid u WHERE u.customer_id = c.id AND u.due_date < current_date) AS overdue_invoices, \
           (SELECT count(*) FROM domain.sales_orders o WHERE o.customer_id = c.id AND o.created_at > now() - interval '90 days') AS recent_orders, \
           (SELECT count(*) FROM domain.sales_orders o WHERE o.customer_id = c.id AND o.priority = 'rush' AND o.created_at > now() - interval '90 days') AS recent_rush_orders, \
           (SELECT max(p.paid_at) FROM domain.payments p JOIN domain.invoices i ON i.id = p.invoice_id WHERE i.customer_id = c.id) AS last_payment \
         FROM domain.customers c WHERE c.id = ANY($1) ORDER BY c.name",
    )
    .bind(&ids)
    .fetch_all(db)
    .await
}

/// The user's recent memories about these entities.
pub async fn memories(
    db: &PgPool,
    user_id: &str,
    entities: &[Entity],
) -> Result<Vec<String>, sqlx::Error> {
    let ids: Vec<String> = entities.iter().map(|e| e.id.clone()).collect();
    sqlx::query_scalar(
        "SELECT content FROM app.memories WHERE user_id = $1 AND entity_links && $2 \
          ORDER BY created_at DESC LIMIT 5",
    )
    .bind(user_id)
    .bind(&ids)
    .fetch_all(db)
    .await
}

/// Stores an interaction as a memory (run in the background after answering).
pub async fn store_memory(
    db: &PgPool,
    user_id: &str,
    session_id: &str,
    content: &str,
    entities: &[Entity],
) -> Result<(), sqlx::Error> {
    let ids: Vec<String> = entities.iter().map(|e| e.id.clone()).collect();
    sqlx::query("INSERT INTO app.memories (user_id, session_id, content, entity_links) VALUES ($1, $2, $3, $4)")
        .bind(user_id)
        .bind(session_id)
        .bind(content)
        .bind(&ids)
        .execute(db)
        .await
        .map(|_| ())
}
