-- Where each payment was started: the gateway and its own id for what we created there
-- (Stripe checkout session, PayPal order, FreedomPay payment, AllSecure transaction uuid,
-- Square order), so the reconciliation sweep can ask the gateway about it when no callback
-- came. `checked_at` is when the sweep last asked (0: never). Kept identical in both backends.

CREATE TABLE payment_starts (
    gateway TEXT NOT NULL,
    reference TEXT NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders (id),
    created_at BIGINT NOT NULL,
    checked_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (gateway, reference)
);
CREATE INDEX payment_starts_order ON payment_starts (order_id);
