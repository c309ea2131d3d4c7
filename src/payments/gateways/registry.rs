//! Which gateways are enabled: the sandbox when on, and every gateway whose settings are present.

use std::sync::Arc;

use super::allsecure::AllSecure;
use super::dotpay::Dotpay;
use super::freedompay::FreedomPay;
use super::paypal::{self, PayPal};
use super::sandbox::Sandbox;
use super::square::Square;
use super::stripe::Stripe;
use super::twocheckout::TwoCheckout;
use super::Gateways;
use crate::config::Settings;
use crate::sandbox::dialects::{missing_settings, sandbox_adapter, Dialect, Voice};

/// Builds the enabled gateways; fails on settings that cannot work (e.g. an unreadable PEM).
pub fn from_settings(s: &Settings, sandbox_keys: Arc<Vec<Vec<u8>>>) -> anyhow::Result<Gateways> {
    check_dialect_settings(s)?;
    let g = &s.gateways;
    let mut gateways = Gateways::default();
    if s.sandbox_enabled {
        gateways.add(Arc::new(Sandbox { keys: sandbox_keys.clone() }));
    }
    if !g.stripe_webhook_secret.is_empty() {
        gateways.add(Arc::new(Stripe { secrets: g.stripe_webhook_secret.clone() }));
    }
    if let Some(merchant_id) = &g.freedompay_merchant_id {
        gateways.add(Arc::new(FreedomPay {
            merchant_id: merchant_id.clone(),
            secret_keys: g.freedompay_secret_key.clone(),
        }));
    }
    if let Some(merchant_code) = &g.twocheckout_merchant_code {
        gateways.add(Arc::new(TwoCheckout {
            merchant_code: merchant_code.clone(),
            secret_keys: g.twocheckout_secret_key.clone(),
        }));
    }
    if let Some(api_key) = &g.allsecure_api_key {
        gateways
            .add(Arc::new(AllSecure { api_key: api_key.clone(), shared_secrets: g.allsecure_shared_secret.clone() }));
    }
    if let Some(shop_id) = &g.dotpay_shop_id {
        gateways.add(Arc::new(Dotpay { shop_id: shop_id.clone(), pins: g.dotpay_pin.clone() }));
    }
    if let Some(url) = &g.square_notification_url {
        gateways
            .add(Arc::new(Square { signature_keys: g.square_signature_key.clone(), notification_url: url.clone() }));
    }
    if let Some(webhook_id) = &g.paypal_webhook_id {
        // Without a certificate file, each callback's PAYPAL-CERT-URL is fetched (allowed
        // origins only, cached): see payments::certs.
        let certificates = match &g.paypal_cert_file {
            Some(path) => {
                let pem =
                    std::fs::read(path).map_err(|e| anyhow::anyhow!("paypal_cert_file {}: {e}", path.display()))?;
                paypal::public_key(&pem).map_err(|e| anyhow::anyhow!("paypal_cert_file {}: {e}", path.display()))?;
                vec![pem]
            }
            None => Vec::new(),
        };
        gateways.add(Arc::new(PayPal { webhook_id: webhook_id.clone(), certificates }));
    }
    check_sandbox_dialect(s, &gateways, &sandbox_keys)?;
    if let Some(adapter) = sandbox_adapter(s, &sandbox_keys)? {
        gateways.set_sandbox_dialect(adapter);
    }
    Ok(gateways)
}

/// The sandbox can speak a gateway's dialect only when that gateway is configured (the sandbox
/// uses its merchant ids; it signs with sandbox-only secrets, never the gateway's).
fn check_dialect_settings(s: &Settings) -> anyhow::Result<()> {
    let dialect = s.sandbox_dialect;
    let missing = missing_settings(s, dialect);
    if s.sandbox_enabled && !missing.is_empty() {
        anyhow::bail!(
            "sandbox_dialect={} needs the {} gateway configured: set {}",
            dialect.name(),
            dialect.name(),
            missing.join(", ")
        );
    }
    Ok(())
}

/// The dialect's gateway is enabled and the sandbox can sign for it (e.g. its PayPal key
/// matches `paypal_cert_file`).
fn check_sandbox_dialect(s: &Settings, gateways: &Gateways, sandbox_keys: &[Vec<u8>]) -> anyhow::Result<()> {
    let dialect = s.sandbox_dialect;
    if !s.sandbox_enabled || dialect == Dialect::Sandbox {
        return Ok(());
    }
    if gateways.get(dialect.name()).is_none() {
        anyhow::bail!("sandbox_dialect={}: the {} gateway is not enabled", dialect.name(), dialect.name());
    }
    Voice::from_settings(s, sandbox_keys).map(|_| ())
}
