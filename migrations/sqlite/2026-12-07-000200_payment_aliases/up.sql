-- Another name a gateway gives one of its payments. Stripe (API versions since 2025-03-31.basil)
-- names a subscription's charge by its invoice when it is paid but by its PaymentIntent when it
-- is refunded, and tells which invoice a PaymentIntent paid only in `invoice_payment.paid`; this
-- remembers that link, so the refund finds the payment (and its order and access).
CREATE TABLE payment_aliases (
    gateway TEXT NOT NULL,
    alias TEXT NOT NULL,
    gateway_payment_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (gateway, alias)
);
-- Events that named only a gateway's payment are found again by that name when its link comes.
CREATE INDEX payment_events_gateway_payment ON payment_events (gateway, gateway_payment_id);
