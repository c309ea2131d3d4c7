-- Issue 11, subscriptions (DESIGN §7). MariaDB translation.
-- Days before active_until at which a renewal reminder goes out, as a JSON array of
-- distinct positive integers, largest first; existing services get the default [7,1].
-- (MariaDB 10.2+ allows a literal DEFAULT on TEXT.)
ALTER TABLE services ADD COLUMN IF NOT EXISTS reminder_days TEXT NOT NULL DEFAULT '[7,1]';
-- The customer can turn renewal reminders off in the cabinet (transactional emails stay on).
ALTER TABLE accounts ADD COLUMN IF NOT EXISTS renewal_reminders BOOLEAN NOT NULL DEFAULT TRUE;
-- Renewal links (`<public_url>/renew/<token>`): only the SHA-256 of the token is kept. A link
-- belongs to one account and one service and works until `expires_at` (the end of the grace
-- of the period it was issued for); it can be used more than once until then.
CREATE TABLE IF NOT EXISTS renewal_tokens (
    token_hash VARCHAR(191) NOT NULL PRIMARY KEY,
    account_id VARCHAR(191) NOT NULL,
    service_slug VARCHAR(191) NOT NULL,
    period_end BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    INDEX renewal_tokens_account (account_id, service_slug),
    CONSTRAINT renewal_tokens_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
