//! `AppState`: everything a request or a job needs, built once at start. No globals.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::clock::Clock;
use crate::config::Settings;
use crate::crypto::PasswordHasherPool;
use crate::db::Db;
use crate::http::captcha::CaptchaVerifier;
use crate::http::limits::Limiters;
use crate::mail::templates::LiveTemplates;
use crate::mail::transport::Mailer;
use crate::payments::gateways::Gateways;

/// Shared application state (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    /// Base URL for every link we build (never the Host header).
    pub public_url: Arc<str>,
    pub db: Db,
    pub clock: Clock,
    pub hasher: PasswordHasherPool,
    pub mailer: Mailer,
    /// The email templates (reloaded on SIGHUP).
    pub templates: Arc<LiveTemplates>,
    /// The customer pages' message catalogue.
    pub catalog: Arc<crate::i18n::Catalog>,
    pub captcha: Option<Arc<dyn CaptchaVerifier>>,
    pub limiters: Arc<Limiters>,
    /// The enabled payment gateways.
    pub gateways: Gateways,
    /// Gateway certificates fetched at callback time (PayPal without a certificate file).
    pub gateway_certs: Arc<crate::payments::gateways::paypal::certs::CertCache>,
    /// Sandbox webhook keys (decoded), first one signs; all verify.
    pub sandbox_keys: Arc<Vec<Vec<u8>>>,
    /// Outbound HTTP (sandbox callback delivery).
    pub http: reqwest::Client,
    /// Counters, histograms and queue gauges for `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Wakes the mail worker when a job is enqueued.
    pub worker_wake: Arc<Notify>,
}

impl AppState {
    /// `public_url` + `path`.
    pub fn link(&self, path: &str) -> String {
        format!("{}{}", self.public_url, path)
    }
}
