DROP INDEX renewal_tokens_outbox;
ALTER TABLE renewal_tokens DROP COLUMN outbox_id;
