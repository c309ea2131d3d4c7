ALTER TABLE email_tokens DROP COLUMN IF EXISTS replaced_at;
ALTER TABLE outbox DROP COLUMN IF EXISTS possible_repeat;
ALTER TABLE outbox DROP COLUMN IF EXISTS handed_over_at;
