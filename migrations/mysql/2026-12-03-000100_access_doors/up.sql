-- Issue 9, the doors to the paid service. MariaDB translation.
-- Days an access keeps opening the doors after active_until (DESIGN §7); existing services get 3.
ALTER TABLE services ADD COLUMN IF NOT EXISTS grace_days INT NOT NULL DEFAULT 3;
-- Where the customer uses the service (shown in the cabinet and the catalog).
ALTER TABLE services ADD COLUMN IF NOT EXISTS access_url TEXT;
-- Set when a refund or a voided authorisation took the period back: such an access gets no grace.
ALTER TABLE access_grants ADD COLUMN IF NOT EXISTS taken_back_at BIGINT;
-- Server API keys: only the SHA-256 of the key is kept.
CREATE TABLE IF NOT EXISTS api_keys (
    id VARCHAR(191) NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    key_hash VARCHAR(191) NOT NULL,
    key_prefix TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_by VARCHAR(191) NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash),
    INDEX api_keys_created_by_fk (created_by),
    CONSTRAINT api_keys_created_by_fkey FOREIGN KEY (created_by) REFERENCES admins (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
