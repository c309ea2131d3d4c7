-- keyturn schema, MariaDB 10.6+ translation of migrations/postgres (see /work/notes/mysql.md).
-- Times are unix seconds (BIGINT), money is integer minor units, enums are text, ids are random
-- text. Every table is InnoDB, utf8mb4 with the binary collation utf8mb4_bin, so comparisons
-- and unique keys are case- and accent-sensitive like PostgreSQL and SQLite. Text that is part
-- of a key, an index or a foreign key is VARCHAR (191, or 255 where the application accepts
-- up to 255 characters); other text stays TEXT (MEDIUMTEXT for possibly large bodies).
-- Foreign keys and the indexes MariaDB needs for them are named, so the down migrations can
-- undo exactly what the up ones made. `key` is a reserved word in MariaDB: always quoted.
-- IF [NOT] EXISTS: MariaDB DDL is not transactional, so a migration cut off half-way can be
-- run again.

CREATE TABLE IF NOT EXISTS services (
    slug VARCHAR(191) NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    price_minor BIGINT NOT NULL CHECK (price_minor >= 0),
    currency TEXT NOT NULL,
    period_days INT NOT NULL CHECK (period_days > 0),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS accounts (
    id VARCHAR(191) NOT NULL PRIMARY KEY,
    login VARCHAR(255) NOT NULL,
    email VARCHAR(255) NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    password_hash TEXT,
    must_change_password BOOLEAN NOT NULL,
    temp_password_expires_at BIGINT,
    email_verified_at BIGINT,
    failed_logins INT NOT NULL DEFAULT 0,
    failed_window_start BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT accounts_login_key UNIQUE (login),
    CONSTRAINT accounts_email_key UNIQUE (email)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS orders (
    id VARCHAR(191) NOT NULL PRIMARY KEY,
    service_slug VARCHAR(191) NOT NULL,
    customer_name TEXT NOT NULL,
    email VARCHAR(255) NOT NULL,
    phone TEXT,
    locale TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    status VARCHAR(191) NOT NULL,
    account_id VARCHAR(191),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    paid_at BIGINT,
    expires_at BIGINT NOT NULL,
    INDEX orders_status_expires (status, expires_at),
    INDEX orders_email (email),
    INDEX orders_service_fk (service_slug),
    INDEX orders_account_fk (account_id),
    CONSTRAINT orders_service_slug_fkey FOREIGN KEY (service_slug) REFERENCES services (slug),
    CONSTRAINT orders_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS payments (
    id VARCHAR(191) NOT NULL PRIMARY KEY,
    order_id VARCHAR(191) NOT NULL,
    gateway VARCHAR(191) NOT NULL,
    gateway_payment_id VARCHAR(191) NOT NULL,
    status TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    three_ds TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT payments_gateway_gateway_payment_id_key UNIQUE (gateway, gateway_payment_id),
    INDEX payments_order (order_id),
    CONSTRAINT payments_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS payment_events (
    id VARCHAR(191) NOT NULL PRIMARY KEY,
    gateway VARCHAR(191) NOT NULL,
    event_id VARCHAR(191) NOT NULL,
    order_id VARCHAR(191),
    gateway_payment_id TEXT,
    kind TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail MEDIUMTEXT NOT NULL,
    amount_minor BIGINT,
    currency TEXT,
    received_at BIGINT NOT NULL,
    CONSTRAINT payment_events_gateway_event_id_key UNIQUE (gateway, event_id),
    INDEX payment_events_order (order_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS access_grants (
    account_id VARCHAR(191) NOT NULL,
    service_slug VARCHAR(191) NOT NULL,
    active_until BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, service_slug),
    INDEX access_grants_service_fk (service_slug),
    CONSTRAINT access_grants_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (id),
    CONSTRAINT access_grants_service_slug_fkey FOREIGN KEY (service_slug) REFERENCES services (slug)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS email_tokens (
    token_hash VARCHAR(191) NOT NULL PRIMARY KEY,
    account_id VARCHAR(191) NOT NULL,
    purpose TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    created_at BIGINT NOT NULL,
    INDEX email_tokens_account (account_id),
    CONSTRAINT email_tokens_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS sessions (
    id_hash VARCHAR(191) NOT NULL PRIMARY KEY,
    account_id VARCHAR(191) NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    absolute_expires_at BIGINT NOT NULL,
    INDEX sessions_account (account_id),
    CONSTRAINT sessions_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS outbox (
    id VARCHAR(191) NOT NULL PRIMARY KEY,
    kind TEXT NOT NULL,
    account_id TEXT,
    order_id TEXT,
    status VARCHAR(191) NOT NULL,
    attempts INT NOT NULL DEFAULT 0,
    run_at BIGINT NOT NULL,
    locked_until BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    sent_at BIGINT,
    INDEX outbox_due (status, run_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS throttles (
    `key` VARCHAR(191) NOT NULL PRIMARY KEY,
    window_start BIGINT NOT NULL,
    count INT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS sandbox_payments (
    id VARCHAR(191) NOT NULL PRIMARY KEY,
    order_id TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    card_last4 TEXT NOT NULL,
    status TEXT NOT NULL,
    three_ds TEXT,
    created_at BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
