//! The merchant's settings: pay-by-link invoices, when money is captured and when access is
//! granted, and the re-authentication window for refunds.

use super::{opt, ConfigError, SettingDoc};

macro_rules! merchant_docs {
    ($( $name:literal, $default:literal, $doc:literal; )*) => {
        /// The documented merchant settings.
        pub const MERCHANT_SETTINGS: &[SettingDoc] = &[ $( SettingDoc { name: $name, default: $default, doc: $doc } ),* ];
    };
}

merchant_docs! {
    "merchant_name", "<product_name>", "The merchant's name on pay-by-link pages.";
    "merchant_email", "(none)", "Address that gets a copy of the payment confirmation of every paid invoice.";
    "invoice_terms", "(a generic sentence)", "Terms the customer accepts on a pay-by-link page before paying (plain text).";
    "terms_url", "(none)", "Link to the full terms, shown next to invoice_terms.";
    "invoice_days", "7", "Default days a pay-by-link invoice stays payable (1–90; expires_in_days overrides).";
    "capture", "automatic", "automatic | manual: with manual, the sandbox and the gateways that support it only authorise the card; an admin captures (or cancels) the payment.";
    "provision_on_authorization", "false", "Grant access as soon as a payment is authorised instead of waiting for its capture.";
    "admin_reauth_minutes", "5", "Refunds need a password (and TOTP) confirmation from the last this many minutes (POST /api/v1/admin/session/reauth).";
}

/// When money is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureMode {
    /// Authorise and capture in one step.
    Automatic,
    /// Authorise only; an admin captures or cancels.
    Manual,
}

/// Merchant settings (all with defaults).
#[derive(Debug, Clone)]
pub struct MerchantSettings {
    /// `None`: the product name.
    pub merchant_name: Option<String>,
    pub merchant_email: Option<String>,
    pub invoice_terms: String,
    pub terms_url: Option<String>,
    pub invoice_days: i64,
    pub capture: CaptureMode,
    pub provision_on_authorization: bool,
    pub admin_reauth_minutes: i64,
}

impl Default for MerchantSettings {
    fn default() -> Self {
        MerchantSettings {
            merchant_name: None,
            merchant_email: None,
            invoice_terms:
                "By paying you accept the seller's terms of service and confirm that the details above are correct."
                    .into(),
            terms_url: None,
            invoice_days: 7,
            capture: CaptureMode::Automatic,
            provision_on_authorization: false,
            admin_reauth_minutes: 5,
        }
    }
}

impl MerchantSettings {
    /// Applies `key` when it is a merchant setting; `Ok(false)` when it is not one.
    pub fn apply(&mut self, key: &str, v: &str) -> Result<bool, ConfigError> {
        match key {
            "merchant_name" => self.merchant_name = opt(v),
            "merchant_email" => self.merchant_email = opt(v),
            "invoice_terms" => self.invoice_terms = v.trim().to_string(),
            "terms_url" => self.terms_url = opt(v),
            "invoice_days" => self.invoice_days = super::parse(key, v)?,
            "capture" => {
                self.capture = match v.trim() {
                    "automatic" => CaptureMode::Automatic,
                    "manual" => CaptureMode::Manual,
                    _ => return Err(super::invalid(key, "expected automatic or manual")),
                }
            }
            "provision_on_authorization" => self.provision_on_authorization = super::parse_bool(key, v)?,
            "admin_reauth_minutes" => self.admin_reauth_minutes = super::parse(key, v)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

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
