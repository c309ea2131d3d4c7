DROP INDEX IF EXISTS renewal_tokens_outbox ON renewal_tokens;
ALTER TABLE renewal_tokens DROP COLUMN IF EXISTS outbox_id;
