DROP INDEX access_notices_outbox;
ALTER TABLE access_notices DROP COLUMN skipped;
ALTER TABLE access_notices DROP COLUMN outbox_id;
