-- A claim identity that never repeats: every claim of an outbox job writes a fresh random
-- `claim_token`, and a worker may heartbeat, store credentials, hand over or record only
-- while the row still carries its token (`attempts` can be reset by an admin's retry).
-- MariaDB translation.

ALTER TABLE outbox ADD COLUMN IF NOT EXISTS claim_token TEXT;
