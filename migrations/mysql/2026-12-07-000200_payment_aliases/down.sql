DROP INDEX payment_events_gateway_payment ON payment_events;
DROP TABLE IF EXISTS payment_aliases;
