DROP TABLE renewal_tokens;
ALTER TABLE accounts DROP COLUMN renewal_reminders;
ALTER TABLE services DROP COLUMN reminder_days;
