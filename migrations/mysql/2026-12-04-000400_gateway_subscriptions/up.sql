-- Issue 11 part 3: renewals a gateway charges on its own schedule (Stripe subscriptions,
-- PayPal subscriptions). One row per subscription at a gateway: which account and service
-- its charges renew, and the terms agreed when it started (amount, currency, period), so a
-- renewal charge is checked against them. A PayPal subscription is remembered when it is
-- created (`pending`, no account yet); a Stripe one when its first payment lands. The first
-- payment pays `order_id` like any order; later charges create renewal orders.
-- MariaDB translation.
CREATE TABLE IF NOT EXISTS gateway_subscriptions (
    gateway VARCHAR(191) NOT NULL,
    subscription_id VARCHAR(191) NOT NULL,
    order_id VARCHAR(191) NOT NULL,
    account_id VARCHAR(191),
    service_slug VARCHAR(191) NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    period_days INT NOT NULL,
    -- pending (created at the gateway, unpaid) | active | cancelled (at the gateway)
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    cancelled_at BIGINT,
    PRIMARY KEY (gateway, subscription_id),
    INDEX gateway_subscriptions_account (account_id, service_slug),
    INDEX gateway_subscriptions_order (order_id),
    CONSTRAINT gateway_subscriptions_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders (id),
    CONSTRAINT gateway_subscriptions_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
