-- Pay-by-link invoices (an order whose item may be a free description instead of a catalog
-- service), captured and refunded amounts per payment, admin payment operations, replayable
-- Idempotency-Key answers, and the re-authentication time of admin sessions.
-- Kept equivalent in both backends. Times are unix seconds.

ALTER TABLE orders ALTER COLUMN service_slug DROP NOT NULL;
ALTER TABLE orders ADD COLUMN item_name TEXT;
ALTER TABLE orders ADD COLUMN period_days INTEGER;

CREATE TABLE invoices (
    id TEXT PRIMARY KEY NOT NULL,
    order_id TEXT NOT NULL UNIQUE REFERENCES orders (id),
    created_by TEXT NOT NULL,
    terms_accepted_at BIGINT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX invoices_created ON invoices (created_at);

ALTER TABLE payments ADD COLUMN captured_minor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE payments ADD COLUMN refunded_minor BIGINT NOT NULL DEFAULT 0;
UPDATE payments SET captured_minor = amount_minor WHERE status IN ('succeeded', 'partially_refunded', 'refunded');
UPDATE payments SET refunded_minor = amount_minor WHERE status = 'refunded';

CREATE TABLE payment_operations (
    id TEXT PRIMARY KEY NOT NULL,
    payment_id TEXT NOT NULL REFERENCES payments (id),
    kind TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    status TEXT NOT NULL,
    gateway_reference TEXT,
    detail TEXT NOT NULL DEFAULT '',
    actor TEXT NOT NULL,
    request_key TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX payment_operations_payment ON payment_operations (payment_id);

CREATE TABLE idempotency_keys (
    key TEXT PRIMARY KEY NOT NULL,
    fingerprint TEXT NOT NULL,
    status_code INTEGER,
    response_body TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

ALTER TABLE admin_sessions ADD COLUMN reauth_at BIGINT NOT NULL DEFAULT 0;
UPDATE admin_sessions SET reauth_at = created_at;

ALTER TABLE sandbox_payments ADD COLUMN refunded_minor BIGINT NOT NULL DEFAULT 0;
