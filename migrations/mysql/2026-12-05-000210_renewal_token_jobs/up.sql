-- A renewal link knows the outbox job whose email carries it: a retried `renewal_reminder`
-- expires the link its earlier attempt issued, so a job leaves one live link. MariaDB translation.
ALTER TABLE renewal_tokens ADD COLUMN IF NOT EXISTS outbox_id VARCHAR(191);
CREATE INDEX IF NOT EXISTS renewal_tokens_outbox ON renewal_tokens (outbox_id);
