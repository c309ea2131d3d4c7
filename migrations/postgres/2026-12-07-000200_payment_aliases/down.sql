DROP INDEX IF EXISTS payment_events_gateway_payment;
DROP TABLE IF EXISTS payment_aliases;
