-- Signed outgoing webhooks (Standard Webhooks). Kept identical in both backends.
-- `secret` signs every delivery, so it cannot be hashed: it is never logged and never shown
-- after creation or rotation; `previous_secret` signs too until `previous_until` (rotation).
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    events TEXT,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_until BIGINT,
    status TEXT NOT NULL,
    disabled_reason TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- One row per event, written in the transaction of the change it reports; `id` is the
-- `webhook-id` (stable across retries) and `payload` the exact body that is signed.
CREATE TABLE webhook_events (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    account_id TEXT,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX webhook_events_account ON webhook_events (account_id);

-- One row per (event, endpoint), claimed with a lease like the mail outbox.
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    run_at BIGINT NOT NULL,
    locked_until BIGINT,
    claim_token TEXT,
    last_status INTEGER,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT,
    UNIQUE (event_id, endpoint_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, run_at);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at);

-- The expiry sweep's claims: one row per (access, period end, kind), so several instances
-- emit `access.expiring` / `access.expired` once and a restarted one catches up.
CREATE TABLE access_notices (
    account_id TEXT NOT NULL,
    service_slug TEXT NOT NULL,
    period_end BIGINT NOT NULL,
    kind TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, service_slug, period_end, kind)
);
