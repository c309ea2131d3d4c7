-- Signed outgoing webhooks (Standard Webhooks). MariaDB translation.
-- `secret` signs every delivery, so it cannot be hashed: it is never logged and never shown
-- after creation or rotation; `previous_secret` signs too until `previous_until` (rotation).
CREATE TABLE IF NOT EXISTS webhook_endpoints (
    id VARCHAR(191) NOT NULL PRIMARY KEY,
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
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- One row per event, written in the transaction of the change it reports; `id` is the
-- `webhook-id` (stable across retries) and `payload` the exact body that is signed.
CREATE TABLE IF NOT EXISTS webhook_events (
    id VARCHAR(191) NOT NULL PRIMARY KEY,
    kind TEXT NOT NULL,
    account_id VARCHAR(191),
    payload MEDIUMTEXT NOT NULL,
    created_at BIGINT NOT NULL,
    INDEX webhook_events_account (account_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- One row per (event, endpoint), claimed with a lease like the mail outbox.
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id VARCHAR(191) NOT NULL PRIMARY KEY,
    event_id VARCHAR(191) NOT NULL,
    endpoint_id VARCHAR(191) NOT NULL,
    status VARCHAR(191) NOT NULL,
    attempts INT NOT NULL DEFAULT 0,
    run_at BIGINT NOT NULL,
    locked_until BIGINT,
    claim_token TEXT,
    last_status INT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT,
    CONSTRAINT webhook_deliveries_event_id_endpoint_id_key UNIQUE (event_id, endpoint_id),
    INDEX webhook_deliveries_due (status, run_at),
    INDEX webhook_deliveries_endpoint (endpoint_id, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The expiry sweep's claims: one row per (access, period end, kind), so several instances
-- emit `access.expiring` / `access.expired` once and a restarted one catches up.
-- Primary key: 3 x 191 x 4 + 8 = 2300 bytes, under InnoDB's 3072.
CREATE TABLE IF NOT EXISTS access_notices (
    account_id VARCHAR(191) NOT NULL,
    service_slug VARCHAR(191) NOT NULL,
    period_end BIGINT NOT NULL,
    kind VARCHAR(191) NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, service_slug, period_end, kind)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
