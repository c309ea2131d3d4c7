-- Crash-safe mail: `handed_over_at` records that a message was being handed to the transport
-- (set before the hand-over, cleared when the transport refused it), so a later attempt of
-- the same job knows the customer may already hold a copy; `possible_repeat` keeps that
-- mark for the job. `replaced_at` tells a verification link that a newer email replaced it
-- from one that merely ran out of time. MariaDB translation.

ALTER TABLE outbox ADD COLUMN IF NOT EXISTS handed_over_at BIGINT;
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS possible_repeat BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE email_tokens ADD COLUMN IF NOT EXISTS replaced_at BIGINT;
