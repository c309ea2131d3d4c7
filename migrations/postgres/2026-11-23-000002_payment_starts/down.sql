DROP INDEX payment_starts_order;
DROP TABLE payment_starts;
