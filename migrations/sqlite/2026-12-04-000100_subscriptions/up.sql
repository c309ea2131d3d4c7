-- Issue 11, subscriptions (DESIGN §7).
-- Days before active_until at which a renewal reminder goes out, as a JSON array of
-- distinct positive integers, largest first; existing services get the default [7,1].
ALTER TABLE services ADD COLUMN reminder_days TEXT NOT NULL DEFAULT '[7,1]';
-- The customer can turn renewal reminders off in the cabinet (transactional emails stay on).
ALTER TABLE accounts ADD COLUMN renewal_reminders BOOLEAN NOT NULL DEFAULT TRUE;
-- Renewal links (`<public_url>/renew/<token>`): only the SHA-256 of the token is kept. A link
-- belongs to one account and one service and works until `expires_at` (the end of the grace
-- of the period it was issued for); it can be used more than once until then.
CREATE TABLE renewal_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    service_slug TEXT NOT NULL,
    period_end BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX renewal_tokens_account ON renewal_tokens (account_id, service_slug);
