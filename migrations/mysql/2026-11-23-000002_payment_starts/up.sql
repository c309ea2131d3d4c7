-- Where each payment was started: the gateway and its own id for what we created there
-- (Stripe checkout session, PayPal order, FreedomPay payment, AllSecure transaction uuid,
-- Square order), so the reconciliation sweep can ask the gateway about it when no callback
-- came. `checked_at` is when the sweep last asked (0: never). MariaDB translation.

CREATE TABLE IF NOT EXISTS payment_starts (
    gateway VARCHAR(191) NOT NULL,
    reference VARCHAR(191) NOT NULL,
    order_id VARCHAR(191) NOT NULL,
    created_at BIGINT NOT NULL,
    checked_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (gateway, reference),
    INDEX payment_starts_order (order_id),
    CONSTRAINT payment_starts_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
