-- Issue 11 part 3: renewals a gateway charges on its own schedule (Stripe subscriptions,
-- PayPal subscriptions). One row per subscription at a gateway: which account and service
-- its charges renew, and the terms agreed when it started (amount, currency, period), so a
-- renewal charge is checked against them. A PayPal subscription is remembered when it is
-- created (`pending`, no account yet); a Stripe one when its first payment lands. The first
-- payment pays `order_id` like any order; later charges create renewal orders.
CREATE TABLE gateway_subscriptions (
    gateway TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders (id),
    account_id TEXT REFERENCES accounts (id),
    service_slug TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    period_days INTEGER NOT NULL,
    -- pending (created at the gateway, unpaid) | active | cancelled (at the gateway)
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    cancelled_at BIGINT,
    PRIMARY KEY (gateway, subscription_id)
);
CREATE INDEX gateway_subscriptions_account ON gateway_subscriptions (account_id, service_slug);
CREATE INDEX gateway_subscriptions_order ON gateway_subscriptions (order_id);
