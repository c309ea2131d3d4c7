//! The merchant's settings: pay-by-link invoices, when money is captured and when access is
//! granted, and the re-authentication window for refunds.

use super::declare::{one_of, settings_group, SettingValue};
use super::ConfigError;

settings_group! {
    /// Merchant settings (all with defaults).
    pub struct MerchantSettings, docs MERCHANT_SETTINGS, apply apply;
    merchant_name: Option<String> = Default::default(),
        "<product_name>",
        "The merchant's name on pay-by-link pages.";
    merchant_email: Option<String> = Default::default(),
        "(none)",
        "Address that gets a copy of the payment confirmation of every paid invoice.";
    invoice_terms: String = "By paying you accept the seller's terms of service and confirm that the details above are correct.".into(),
        "(a generic sentence)",
        "Terms the customer accepts on a pay-by-link page before paying (plain text).";
    terms_url: Option<String> = Default::default(),
        "(none)",
        "Link to the full terms, shown next to invoice_terms.";
    invoice_days: i64 = 7,
        "7",
        "Default days a pay-by-link invoice stays payable (1–90; expires_in_days overrides).";
    capture: CaptureMode = CaptureMode::Automatic,
        "automatic",
        "automatic | manual: with manual, the sandbox and the gateways that support it only authorise the card; an admin captures (or cancels) the payment.";
    provision_on_authorization: bool = false,
        "false",
        "Grant access as soon as a payment is authorised instead of waiting for its capture.";
    admin_reauth_minutes: i64 = 5,
        "5",
        "Refunds need a password (and TOTP) confirmation from the last this many minutes (POST /api/v1/admin/session/reauth).";
}

/// When money is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureMode {
    /// Authorise and capture in one step.
    Automatic,
    /// Authorise only; an admin captures or cancels.
    Manual,
}

impl SettingValue for CaptureMode {
    fn read(key: &str, v: &str) -> Result<Self, ConfigError> {
        one_of(key, v, &[("automatic", CaptureMode::Automatic), ("manual", CaptureMode::Manual)])
    }
}

impl MerchantSettings {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(e) = &self.merchant_email {
            if e.parse::<lettre::Address>().is_err() {
                return Err(super::invalid("merchant_email", "not an email address"));
            }
        }
        if let Some(u) = &self.terms_url {
            match url::Url::parse(u) {
                Ok(p) if matches!(p.scheme(), "http" | "https") => {}
                _ => return Err(super::invalid("terms_url", "must be an http(s) URL")),
            }
        }
        if self.invoice_terms.is_empty() || self.invoice_terms.len() > 4000 {
            return Err(super::invalid("invoice_terms", "must be 1 to 4000 characters"));
        }
        if !(1..=90).contains(&self.invoice_days) {
            return Err(super::invalid("invoice_days", "must be 1 to 90"));
        }
        if !(1..=60).contains(&self.admin_reauth_minutes) {
            return Err(super::invalid("admin_reauth_minutes", "must be 1 to 60"));
        }
        Ok(())
    }
}
