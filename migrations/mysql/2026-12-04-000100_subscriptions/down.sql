DROP TABLE IF EXISTS renewal_tokens;
ALTER TABLE accounts DROP COLUMN IF EXISTS renewal_reminders;
ALTER TABLE services DROP COLUMN IF EXISTS reminder_days;
