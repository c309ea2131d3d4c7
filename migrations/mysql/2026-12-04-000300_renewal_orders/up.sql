-- Issue 11, renewing (DESIGN §7): a renewal order is made for an existing account, so it
-- carries `account_id` from its creation. At most one unpaid renewal order per account and
-- service is open at a time: a second click on Renew (or on the renewal link) reuses it.
--
-- MariaDB has no partial indexes. PostgreSQL's
--   CREATE UNIQUE INDEX orders_open_renewal ON orders (account_id, service_slug)
--       WHERE status = 'pending_payment' AND account_id IS NOT NULL;
-- becomes a virtual generated column that holds account_id only while the order is
-- pending_payment (NULL otherwise, and NULL when account_id is NULL), with a unique index on
-- (that column, service_slug). A unique index admits any number of rows with a NULL in it, so
-- exactly the rows the partial index covered are constrained, and a NULL service_slug (a
-- free-description invoice) never conflicts, as in PostgreSQL. The column is INVISIBLE
-- (not in SELECT *, not needed by INSERT without a column list) and never written: it is
-- not in src/db/schema.rs, and a backup/restore must leave it out (see the notes).
ALTER TABLE orders
    ADD COLUMN IF NOT EXISTS open_renewal_account_id VARCHAR(191)
        AS (CASE WHEN status = 'pending_payment' THEN account_id END) VIRTUAL INVISIBLE;
CREATE UNIQUE INDEX IF NOT EXISTS orders_open_renewal ON orders (open_renewal_account_id, service_slug);
