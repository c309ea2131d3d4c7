-- A renewal link knows the outbox job whose email carries it: a retried `renewal_reminder`
-- expires the link its earlier attempt issued, so a job leaves one live link.
ALTER TABLE renewal_tokens ADD COLUMN outbox_id TEXT;
CREATE INDEX renewal_tokens_outbox ON renewal_tokens (outbox_id);
