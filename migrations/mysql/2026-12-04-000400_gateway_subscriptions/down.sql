DROP TABLE IF EXISTS gateway_subscriptions;
