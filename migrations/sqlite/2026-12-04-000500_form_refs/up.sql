-- Issue 10, storefront: orders placed by a site builder's server (the Tilda webhook) are
-- found again when Tilda's success redirect brings the customer's browser back. `ref` is
-- `tilda:<tranid>` (Tilda's id of the form submission) or `ref:<token>` (a random token the
-- embed snippet puts in the form); it is unique, so a webhook Tilda repeats makes no second order.
CREATE TABLE form_refs (
    ref TEXT PRIMARY KEY NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX form_refs_order ON form_refs (order_id);
