DROP TABLE idempotency_keys;
DROP TABLE payment_operations;
DROP TABLE invoices;
ALTER TABLE payments DROP COLUMN captured_minor;
ALTER TABLE payments DROP COLUMN refunded_minor;
ALTER TABLE admin_sessions DROP COLUMN reauth_at;
ALTER TABLE sandbox_payments DROP COLUMN refunded_minor;
ALTER TABLE orders DROP COLUMN item_name;
ALTER TABLE orders DROP COLUMN period_days;
