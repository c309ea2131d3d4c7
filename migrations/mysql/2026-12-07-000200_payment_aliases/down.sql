DROP TABLE IF EXISTS payment_aliases;
