DROP INDEX IF EXISTS access_notices_outbox ON access_notices;
ALTER TABLE access_notices DROP COLUMN IF EXISTS skipped;
ALTER TABLE access_notices DROP COLUMN IF EXISTS outbox_id;
