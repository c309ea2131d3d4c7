-- Issue 10, storefront: orders placed by a site builder's server (the Tilda webhook) are
-- found again when Tilda's success redirect brings the customer's browser back. `ref` is
-- `tilda:<tranid>` (Tilda's id of the form submission) or `ref:<token>` (a random token the
-- embed snippet puts in the form); it is unique, so a webhook Tilda repeats makes no second order.
-- MariaDB translation.
CREATE TABLE IF NOT EXISTS form_refs (
    ref VARCHAR(191) NOT NULL PRIMARY KEY,
    order_id VARCHAR(191) NOT NULL,
    created_at BIGINT NOT NULL,
    INDEX form_refs_order (order_id),
    CONSTRAINT form_refs_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
