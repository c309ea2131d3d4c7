-- Gateway ids as long as the verifiers accept them: payment ids, subscription ids and the
-- references a payment was started under up to 255 characters, event ids up to 300 (the
-- reconciliation sweep's `reconcile:<reference>`). The first MariaDB translation gave them
-- VARCHAR(191), so a longer id was refused by the database after its signature had been
-- verified. InnoDB's DYNAMIC rows index up to 3072 bytes: (191 + 300) * 4 fits.
-- SQLite and PostgreSQL store these as TEXT: their migration of this name changes nothing.
ALTER TABLE payments MODIFY COLUMN gateway_payment_id VARCHAR(255) NOT NULL;
ALTER TABLE payment_events MODIFY COLUMN event_id VARCHAR(300) NOT NULL;
ALTER TABLE payment_starts MODIFY COLUMN reference VARCHAR(255) NOT NULL;
ALTER TABLE gateway_subscriptions MODIFY COLUMN subscription_id VARCHAR(255) NOT NULL;
