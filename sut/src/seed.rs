//! Loads `fixtures/seed.json` idempotently: rows that exist are left alone.

use serde::Deserialize;
use sqlx::PgPool;

/// Parsed seed data, ready to insert.
#[derive(Debug, Deserialize)]
pub struct Seed {
    customers: Vec<Customer>,
    orders: Vec<Order>,
    invoices: Vec<Invoice>,
    payments: Vec<Payment>,
}

#[derive(Debug, Deserialize)]
struct Customer {
    id: String,
    name: String,
    status: String,
    #[serde(default)]
    aliases: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Order {
    id: String,
    customer_id: String,
    priority: String,
    amount: f64,
    days_ago: i32,
}

#[derive(Debug, Deserialize)]
struct Invoice {
    id: String,
    customer_id: String,
    amount: f64,
    due_in_days: i32,
    days_ago: i32,
}

#[derive(Debug, Deserialize)]
struct Payment {
    id: String,
    invoice_id: String,
    amount: f64,
    days_ago: i32,
}

/// Errors loading seed data.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The JSON is malformed.
    #[error("seed data: {0}")]
    Parse(#[from] serde_json::Error),
    /// A statement failed.
    #[error("seed data: {0}")]
    Db(#[from] sqlx::Error),
}

/// Parses and inserts seed data; see [`insert`].
pub async fn load(db: &PgPool, json: &str) -> Result<u64, SeedError> {
    insert(db, &parse(json)?).await
}

/// Parses seed JSON, so a bad file fails before anything is written.
pub fn parse(json: &str) -> Result<Seed, SeedError> {
    Ok(serde_json::from_str(json)?)
}

/// Inserts the seed rows that are missing, in one transaction. Dates are relative to
/// today so patterns stay current. Returns the number of rows inserted.
pub async fn insert(db: &PgPool, seed: &Seed) -> Result<u64, SeedError> {
    let mut tx = db.begin().await?;
    let mut n = 0;
    for c in &seed.customers {
        n += sqlx::query("INSERT INTO domain.customers (id, name, status) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(&c.id).bind(&c.name).bind(&c.status).execute(&mut *tx).await?.rows_affected();
        for a in &c.aliases {
            n += sqlx::query("INSERT INTO app.entity_aliases (alias, customer_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(a).bind(&c.id).execute(&mut *tx).await?.rows_affected();
        }
    }
    for o in &seed.orders {
        n += sqlx::query(
            "INSERT INTO domain.sales_orders (id, customer_id, priority, amount, created_at) \
             VALUES ($1, $2, $3, $4::float8::numeric, now() - make_interval(days => $5)) ON CONFLICT DO NOTHING",
        )
        .bind(&o.id).bind(&o.customer_id).bind(&o.priority).bind(o.amount).bind(o.days_ago)
        .execute(&mut *tx).await?.rows_affected();
    }
    for i in &seed.invoices {
        n += sqlx::query(
            "INSERT INTO domain.invoices (id, customer_id, amount, due_date, created_at) \
             VALUES ($1, $2, $3::float8::numeric, current_date + $4, now() - make_interval(days => $5)) ON CONFLICT DO NOTHING",
        )
        .bind(&i.id).bind(&i.customer_id).bind(i.amount).bind(i.due_in_days).bind(i.days_ago)
        .execute(&mut *tx).await?.rows_affected();
    }
    for p in &seed.payments {
        n += sqlx::query(
            "INSERT INTO domain.payments (id, invoice_id, amount, paid_at) \
             VALUES ($1, $2, $3::float8::numeric, now() - make_interval(days => $4)) ON CONFLICT DO NOTHING",
        )
        .bind(&p.id).bind(&p.invoice_id).bind(p.amount).bind(p.days_ago)
        .execute(&mut *tx).await?.rows_affected();
    }
    tx.commit().await?;
    Ok(n)
}
