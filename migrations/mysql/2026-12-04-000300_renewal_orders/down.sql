DROP INDEX IF EXISTS orders_open_renewal ON orders;
ALTER TABLE orders DROP COLUMN IF EXISTS open_renewal_account_id;
