//! keyturn integration tests: the app runs in-process, driven over HTTP like a
//! customer, a browser and a payment gateway would, with real SMTP servers and
//! a fake hCaptcha verifier. Set KEYTURN_TEST_DATABASE_URL=postgres://… to run
//! every app on its own fresh PostgreSQL database instead of SQLite.

mod harness;

mod acme;
mod admin_api;
mod admin_auth;
mod admin_browser;
mod api_document;
mod api_keys;
mod backup;
mod bad_input;
mod browser;
mod callbacks;
mod captcha_and_limits;
mod csrf;
mod edge;
mod edge_limits;
mod emails_snapshot;
mod enumeration;
mod expiry;
mod flow;
mod forward_auth;
mod gateways;
mod going_live;
mod holds;
mod interop;
mod invoices;
mod languages;
mod mail_lands;
mod mail_transport;
mod metrics;
mod oidc;
mod oidc_interop;
mod oidc_security;
mod operations;
mod outbound;
mod password_reset;
mod passwords;
mod payment_ops;
mod payment_ops_gateways;
mod payment_start;
mod paypal_certs;
mod privacy;
mod reconcile;
mod recovery;
mod refunds;
mod reminders;
mod renewals;
mod secrets;
mod sessions;
mod storefront;
mod storefront_browser;
mod tls;
mod verification;
mod webhooks;
mod webhooks_delivery;
