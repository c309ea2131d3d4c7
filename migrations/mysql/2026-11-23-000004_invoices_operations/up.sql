-- Pay-by-link invoices (an order whose item may be a free description instead of a catalog
-- service), captured and refunded amounts per payment, admin payment operations, replayable
-- Idempotency-Key answers, and the re-authentication time of admin sessions.
-- MariaDB translation. Times are unix seconds.

-- PostgreSQL: ALTER COLUMN service_slug DROP NOT NULL (MODIFY restates the whole column; the
-- foreign key orders_service_slug_fkey stays).
ALTER TABLE orders MODIFY COLUMN service_slug VARCHAR(191) NULL;
ALTER TABLE orders ADD COLUMN IF NOT EXISTS item_name TEXT;
ALTER TABLE orders ADD COLUMN IF NOT EXISTS period_days INT;

CREATE TABLE IF NOT EXISTS invoices (
    id VARCHAR(191) NOT NULL PRIMARY KEY,
    order_id VARCHAR(191) NOT NULL,
    created_by TEXT NOT NULL,
    terms_accepted_at BIGINT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    CONSTRAINT invoices_order_id_key UNIQUE (order_id),
    INDEX invoices_created (created_at),
    CONSTRAINT invoices_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

ALTER TABLE payments ADD COLUMN IF NOT EXISTS captured_minor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE payments ADD COLUMN IF NOT EXISTS refunded_minor BIGINT NOT NULL DEFAULT 0;
UPDATE payments SET captured_minor = amount_minor WHERE status IN ('succeeded', 'partially_refunded', 'refunded');
UPDATE payments SET refunded_minor = amount_minor WHERE status = 'refunded';

CREATE TABLE IF NOT EXISTS payment_operations (
    id VARCHAR(191) NOT NULL PRIMARY KEY,
    payment_id VARCHAR(191) NOT NULL,
    kind TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    status TEXT NOT NULL,
    gateway_reference TEXT,
    detail TEXT NOT NULL DEFAULT '',
    actor TEXT NOT NULL,
    request_key TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    INDEX payment_operations_payment (payment_id),
    CONSTRAINT payment_operations_payment_id_fkey FOREIGN KEY (payment_id) REFERENCES payments (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The application accepts keys of 1 to 255 visible ASCII characters: VARCHAR(255).
CREATE TABLE IF NOT EXISTS idempotency_keys (
    `key` VARCHAR(255) NOT NULL PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    status_code INT,
    response_body MEDIUMTEXT,
    created_at BIGINT NOT NULL,
    INDEX idempotency_keys_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

ALTER TABLE admin_sessions ADD COLUMN IF NOT EXISTS reauth_at BIGINT NOT NULL DEFAULT 0;
UPDATE admin_sessions SET reauth_at = created_at;

ALTER TABLE sandbox_payments ADD COLUMN IF NOT EXISTS refunded_minor BIGINT NOT NULL DEFAULT 0;
