-- Issue 11: the expiry sweep also sends emails. A notice row (the claim) now says which
-- outbox job carries its email (`renewal_reminder` / `access_expired`), so the job finds
-- the access and period it is about without storing anything secret, and whether the
-- reminder was skipped (an older reminder day passed while the process was down: only the
-- most recent due reminder goes out). MariaDB translation.
ALTER TABLE access_notices ADD COLUMN IF NOT EXISTS outbox_id VARCHAR(191);
ALTER TABLE access_notices ADD COLUMN IF NOT EXISTS skipped BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX IF NOT EXISTS access_notices_outbox ON access_notices (outbox_id);
