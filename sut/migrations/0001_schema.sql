-- Seed 002 §1.2, §2.1 and seed 000: the domain data, the intelligence tables, jobs and
-- the audit log. Indexes are plain CREATE INDEX: migrations run in a transaction, where
-- CONCURRENTLY is not allowed; on an empty database at start-up nothing is locked out.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE SCHEMA IF NOT EXISTS domain;
CREATE SCHEMA IF NOT EXISTS app;

CREATE TABLE domain.customers (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'active',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE domain.sales_orders (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES domain.customers(id),
    priority    TEXT NOT NULL DEFAULT 'normal',
    amount      NUMERIC(12,2) NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE domain.invoices (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES domain.customers(id),
    amount      NUMERIC(12,2) NOT NULL,
    due_date    DATE NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE domain.payments (
    id          TEXT PRIMARY KEY,
    invoice_id  TEXT NOT NULL REFERENCES domain.invoices(id),
    amount      NUMERIC(12,2) NOT NULL,
    paid_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE app.entity_aliases (
    alias       TEXT NOT NULL,
    customer_id TEXT NOT NULL REFERENCES domain.customers(id),
    PRIMARY KEY (alias, customer_id)
);

CREATE TABLE app.memories (
    id           BIGSERIAL PRIMARY KEY,
    user_id      TEXT NOT NULL,
    session_id   TEXT NOT NULL,
    content      TEXT NOT NULL,
    entity_links TEXT[] NOT NULL DEFAULT '{}',
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE app.customer_patterns (
    customer_id    TEXT NOT NULL,
    pattern_type   TEXT NOT NULL,
    confidence     DOUBLE PRECISION NOT NULL,
    significance   DOUBLE PRECISION NOT NULL,
    insight        TEXT NOT NULL,
    data           JSONB NOT NULL DEFAULT '{}',
    recommendation TEXT,
    computed_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, pattern_type)
);

CREATE TABLE app.jobs (
    id           TEXT PRIMARY KEY,
    document_id  TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    priority     SMALLINT NOT NULL,
    processing_type TEXT NOT NULL,
    content      TEXT NOT NULL,
    status       TEXT NOT NULL,
    attempts     INT NOT NULL DEFAULT 0,
    enqueued     BOOLEAN NOT NULL DEFAULT false,
    result       JSONB,
    error        TEXT,
    submitted_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE app.audit_log (
    id             BIGSERIAL PRIMARY KEY,
    at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    user_id        TEXT NOT NULL,
    document_id    TEXT NOT NULL,
    action         TEXT NOT NULL,
    detail         JSONB NOT NULL DEFAULT '{}',
    integrity_hash TEXT NOT NULL
);

-- Seed 002 §2.1.
CREATE INDEX idx_sales_orders_customer_priority_created
    ON domain.sales_orders(customer_id, priority, created_at) WHERE priority = 'rush';
CREATE INDEX idx_payments_customer_paid ON domain.payments(invoice_id, paid_at);
CREATE INDEX idx_invoices_customer_due ON domain.invoices(customer_id, due_date, created_at);
CREATE INDEX idx_sales_orders_customer_created ON domain.sales_orders(customer_id, created_at DESC);
CREATE INDEX idx_customers_name_trgm ON domain.customers USING gin (name gin_trgm_ops);
CREATE INDEX idx_entity_aliases_alias ON app.entity_aliases(alias);
CREATE INDEX idx_memories_entity_links ON app.memories USING gin (entity_links);
CREATE INDEX idx_memories_user_created ON app.memories(user_id, created_at DESC);
CREATE INDEX idx_customer_patterns_computed ON app.customer_patterns(customer_id, computed_at DESC);
CREATE INDEX idx_customer_patterns_confidence
    ON app.customer_patterns(customer_id, confidence DESC) WHERE confidence > 0.6;
CREATE INDEX idx_jobs_pending ON app.jobs(submitted_at) WHERE NOT enqueued;
