//! keyturn: turns a verified payment into a working customer account.
//!
//! Folders by feature (`catalog`, `orders`, `payments`, `invoices`, `accounts`, `sessions`,
//! `access`, `admin`, `mail`, `jobs`, `sandbox`, `webhooks`), each with api/service/model roles; `http` holds the one route table;
//! `audit` and `idempotency` sit below both `admin` and `payments`.

pub mod access;
pub mod accounts;
pub mod admin;
pub mod app;
pub mod audit;
pub mod catalog;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod error;
pub mod http;
pub mod i18n;
pub mod idempotency;
pub mod invoices;
pub mod jobs;
pub mod logging;
pub mod mail;
pub mod metrics;
pub mod money;
pub mod oidc;
pub mod orders;
pub mod password_reset;
pub mod payments;
pub mod renewals;
pub mod sandbox;
pub mod sessions;
pub mod state;
pub mod storefront;
pub mod webhooks;
