ALTER TABLE email_tokens DROP COLUMN replaced_at;
ALTER TABLE outbox DROP COLUMN possible_repeat;
ALTER TABLE outbox DROP COLUMN handed_over_at;
