-- Issue 9, the doors to the paid service.
-- Days an access keeps opening the doors after active_until (DESIGN §7); existing services get 3.
ALTER TABLE services ADD COLUMN grace_days INTEGER NOT NULL DEFAULT 3;
-- Where the customer uses the service (shown in the cabinet and the catalog).
ALTER TABLE services ADD COLUMN access_url TEXT;
-- Set when a refund or a voided authorisation took the period back: such an access gets no grace.
ALTER TABLE access_grants ADD COLUMN taken_back_at BIGINT;
-- Server API keys: only the SHA-256 of the key is kept.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    key_prefix TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES admins (id),
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
