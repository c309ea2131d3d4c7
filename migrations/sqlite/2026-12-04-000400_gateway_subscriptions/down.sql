DROP TABLE gateway_subscriptions;
