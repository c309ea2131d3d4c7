-- payment_starts_order backs the foreign key on order_id: MariaDB refuses to drop it on its
-- own (error 1553), and DROP TABLE takes it along.
DROP TABLE IF EXISTS payment_starts;
