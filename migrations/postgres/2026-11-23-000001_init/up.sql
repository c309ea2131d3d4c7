-- keyturn schema. Times are unix seconds (BIGINT), money is integer minor units,
-- enums are text, ids are random text. Kept identical in migrations/postgres.

CREATE TABLE services (
    slug TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    price_minor BIGINT NOT NULL CHECK (price_minor >= 0),
    currency TEXT NOT NULL,
    period_days INTEGER NOT NULL CHECK (period_days > 0),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE accounts (
    id TEXT PRIMARY KEY NOT NULL,
    login TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    password_hash TEXT,
    must_change_password BOOLEAN NOT NULL,
    temp_password_expires_at BIGINT,
    email_verified_at BIGINT,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    failed_window_start BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE orders (
    id TEXT PRIMARY KEY NOT NULL,
    service_slug TEXT NOT NULL REFERENCES services (slug),
    customer_name TEXT NOT NULL,
    email TEXT NOT NULL,
    phone TEXT,
    locale TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    account_id TEXT REFERENCES accounts (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    paid_at BIGINT,
    expires_at BIGINT NOT NULL
);
CREATE INDEX orders_status_expires ON orders (status, expires_at);
CREATE INDEX orders_email ON orders (email);

CREATE TABLE payments (
    id TEXT PRIMARY KEY NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders (id),
    gateway TEXT NOT NULL,
    gateway_payment_id TEXT NOT NULL,
    status TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    three_ds TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (gateway, gateway_payment_id)
);
CREATE INDEX payments_order ON payments (order_id);

CREATE TABLE payment_events (
    id TEXT PRIMARY KEY NOT NULL,
    gateway TEXT NOT NULL,
    event_id TEXT NOT NULL,
    order_id TEXT,
    gateway_payment_id TEXT,
    kind TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL,
    amount_minor BIGINT,
    currency TEXT,
    received_at BIGINT NOT NULL,
    UNIQUE (gateway, event_id)
);
CREATE INDEX payment_events_order ON payment_events (order_id);

CREATE TABLE access_grants (
    account_id TEXT NOT NULL REFERENCES accounts (id),
    service_slug TEXT NOT NULL REFERENCES services (slug),
    active_until BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, service_slug)
);

CREATE TABLE email_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    purpose TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX email_tokens_account ON email_tokens (account_id);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    absolute_expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_account ON sessions (account_id);

CREATE TABLE outbox (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    account_id TEXT,
    order_id TEXT,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    run_at BIGINT NOT NULL,
    locked_until BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    sent_at BIGINT
);
CREATE INDEX outbox_due ON outbox (status, run_at);

CREATE TABLE throttles (
    key TEXT PRIMARY KEY NOT NULL,
    window_start BIGINT NOT NULL,
    count INTEGER NOT NULL
);

CREATE TABLE sandbox_payments (
    id TEXT PRIMARY KEY NOT NULL,
    order_id TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    card_last4 TEXT NOT NULL,
    status TEXT NOT NULL,
    three_ds TEXT,
    created_at BIGINT NOT NULL
);
