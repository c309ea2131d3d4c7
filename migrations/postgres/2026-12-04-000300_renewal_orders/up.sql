-- Issue 11, renewing (DESIGN §7): a renewal order is made for an existing account, so it
-- carries `account_id` from its creation. At most one unpaid renewal order per account and
-- service is open at a time: a second click on Renew (or on the renewal link) reuses it.
CREATE UNIQUE INDEX orders_open_renewal ON orders (account_id, service_slug)
    WHERE status = 'pending_payment' AND account_id IS NOT NULL;
