-- Another name a gateway gives one of its payments. Stripe (API versions since 2025-03-31.basil)
-- names a subscription's charge by its invoice when it is paid but by its PaymentIntent when it
-- is refunded, and tells which invoice a PaymentIntent paid only in `invoice_payment.paid`; this
-- remembers that link, so the refund finds the payment (and its order and access).
-- MariaDB translation.
CREATE TABLE IF NOT EXISTS payment_aliases (
    gateway VARCHAR(191) NOT NULL,
    alias VARCHAR(255) NOT NULL,
    gateway_payment_id VARCHAR(255) NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (gateway, alias)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
-- Events that named only a gateway's payment are found again by that name when its link comes
-- (a prefix index: the column is TEXT here; ids are at most 255 characters).
CREATE INDEX IF NOT EXISTS payment_events_gateway_payment ON payment_events (gateway, gateway_payment_id(255));
