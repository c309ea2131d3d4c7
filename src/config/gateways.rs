//! Payment gateway settings, `KEYTURN_<GATEWAY>_<NAME>`. A gateway is enabled when its
//! required settings are present; secrets take several comma-separated values (rotation).

use super::{list, opt, ConfigError, SettingDoc};

macro_rules! gateway_docs {
    ($( $name:literal, $default:literal, $doc:literal; )*) => {
        /// The documented gateway settings.
        pub const GATEWAY_SETTINGS: &[SettingDoc] = &[ $( SettingDoc { name: $name, default: $default, doc: $doc } ),* ];
    };
}

gateway_docs! {
    "stripe_webhook_secret", "(off)", "Stripe endpoint signing secret(s) whsec_…; enables Stripe.";
    "stripe_api_key", "(none)", "Stripe secret API key, to create Checkout Sessions.";
    "stripe_api_base", "https://api.stripe.com", "Stripe API base URL.";
    "freedompay_merchant_id", "(off)", "FreedomPay merchant id; with the secret key, enables FreedomPay.";
    "freedompay_secret_key", "(none)", "FreedomPay secret key(s) for pg_sig.";
    "freedompay_api_base", "https://api.freedompay.kz", "FreedomPay API base URL.";
    "twocheckout_merchant_code", "(off)", "2Checkout/Verifone merchant code; with the secret key, enables 2Checkout.";
    "twocheckout_secret_key", "(none)", "2Checkout secret key(s) for IPN signatures.";
    "twocheckout_api_base", "https://secure.2checkout.com", "2Checkout buy-link base URL.";
    "twocheckout_buy_link_secret", "(the secret key)", "2Checkout ConvertPlus buy-link secret word, to sign buy links.";
    "allsecure_api_key", "(off)", "AllSecure Exchange (IXOPAY) API key; with the shared secret, enables AllSecure.";
    "allsecure_shared_secret", "(none)", "AllSecure shared secret(s) for X-Signature.";
    "allsecure_api_base", "https://asxgw.com", "AllSecure API base URL.";
    "allsecure_username", "(none)", "AllSecure API user (HTTP Basic), to start payments.";
    "allsecure_password", "(none)", "AllSecure API password.";
    "paypal_webhook_id", "(off)", "PayPal webhook id; enables PayPal.";
    "paypal_cert_file", "(fetch from PAYPAL-CERT-URL)", "PEM certificate(s) to verify PayPal signatures with, instead of fetching.";
    "paypal_cert_origins", "PayPal's four API origins", "Origins (scheme://host[:port]) PAYPAL-CERT-URL may point to; certificates are fetched from nowhere else.";
    "paypal_client_id", "(none)", "PayPal REST client id, to create orders.";
    "paypal_client_secret", "(none)", "PayPal REST client secret.";
    "paypal_api_base", "https://api-m.paypal.com", "PayPal API base URL.";
    "dotpay_shop_id", "(off)", "Dotpay shop id; with the PIN, enables Dotpay.";
    "dotpay_pin", "(none)", "Dotpay PIN(s) for URLC signatures.";
    "dotpay_api_base", "https://ssl.dotpay.pl/t2/", "Dotpay payment page URL.";
    "square_signature_key", "(off)", "Square webhook signature key(s); with the notification URL, enables Square.";
    "square_notification_url", "(none)", "The notification URL exactly as registered with Square.";
    "square_access_token", "(none)", "Square access token, to create payment links.";
    "square_api_base", "https://connect.squareup.com", "Square API base URL.";
    "square_location_id", "(none)", "Square location that payment links are created for.";
}

/// Settings of every gateway (all optional).
#[derive(Debug, Clone, Default)]
pub struct GatewaySettings {
    pub stripe_webhook_secret: Vec<String>,
    pub stripe_api_key: Option<String>,
    pub stripe_api_base: Option<String>,
    pub freedompay_merchant_id: Option<String>,
    pub freedompay_secret_key: Vec<String>,
    pub freedompay_api_base: Option<String>,
    pub twocheckout_merchant_code: Option<String>,
    pub twocheckout_secret_key: Vec<String>,
    pub twocheckout_api_base: Option<String>,
    pub twocheckout_buy_link_secret: Option<String>,
    pub allsecure_api_key: Option<String>,
    pub allsecure_shared_secret: Vec<String>,
    pub allsecure_api_base: Option<String>,
    pub allsecure_username: Option<String>,
    pub allsecure_password: Option<String>,
    pub paypal_webhook_id: Option<String>,
    pub paypal_cert_file: Option<std::path::PathBuf>,
    /// Empty = PayPal's own origins.
    pub paypal_cert_origins: Vec<String>,
    pub paypal_client_id: Option<String>,
    pub paypal_client_secret: Option<String>,
    pub paypal_api_base: Option<String>,
    pub dotpay_shop_id: Option<String>,
    pub dotpay_pin: Vec<String>,
    pub dotpay_api_base: Option<String>,
    pub square_signature_key: Vec<String>,
    pub square_notification_url: Option<String>,
    pub square_access_token: Option<String>,
    pub square_api_base: Option<String>,
    pub square_location_id: Option<String>,
}

impl GatewaySettings {
    /// Applies one setting; `Ok(false)` when the key is not a gateway setting.
    pub fn apply(&mut self, key: &str, v: &str) -> Result<bool, ConfigError> {
        match key {
            "stripe_webhook_secret" => self.stripe_webhook_secret = list(v),
            "stripe_api_key" => self.stripe_api_key = opt(v),
            "stripe_api_base" => self.stripe_api_base = opt(v),
            "freedompay_merchant_id" => self.freedompay_merchant_id = opt(v),
            "freedompay_secret_key" => self.freedompay_secret_key = list(v),
            "freedompay_api_base" => self.freedompay_api_base = opt(v),
            "twocheckout_merchant_code" => self.twocheckout_merchant_code = opt(v),
            "twocheckout_secret_key" => self.twocheckout_secret_key = list(v),
            "twocheckout_api_base" => self.twocheckout_api_base = opt(v),
            "twocheckout_buy_link_secret" => self.twocheckout_buy_link_secret = opt(v),
            "allsecure_api_key" => self.allsecure_api_key = opt(v),
            "allsecure_shared_secret" => self.allsecure_shared_secret = list(v),
            "allsecure_api_base" => self.allsecure_api_base = opt(v),
            "allsecure_username" => self.allsecure_username = opt(v),
            "allsecure_password" => self.allsecure_password = opt(v),
            "paypal_webhook_id" => self.paypal_webhook_id = opt(v),
            "paypal_cert_file" => self.paypal_cert_file = opt(v).map(Into::into),
            "paypal_cert_origins" => self.paypal_cert_origins = list(v),
            "paypal_client_id" => self.paypal_client_id = opt(v),
            "paypal_client_secret" => self.paypal_client_secret = opt(v),
            "paypal_api_base" => self.paypal_api_base = opt(v),
            "dotpay_shop_id" => self.dotpay_shop_id = opt(v),
            "dotpay_pin" => self.dotpay_pin = list(v),
            "dotpay_api_base" => self.dotpay_api_base = opt(v),
            "square_signature_key" => self.square_signature_key = list(v),
            "square_notification_url" => self.square_notification_url = opt(v),
            "square_access_token" => self.square_access_token = opt(v),
            "square_api_base" => self.square_api_base = opt(v),
            "square_location_id" => self.square_location_id = opt(v),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// True when any real gateway has its callback settings.
    pub fn any_enabled(&self) -> bool {
        !self.stripe_webhook_secret.is_empty()
            || self.freedompay_merchant_id.is_some()
            || self.twocheckout_merchant_code.is_some()
            || self.allsecure_api_key.is_some()
            || self.paypal_webhook_id.is_some()
            || self.dotpay_shop_id.is_some()
            || !self.square_signature_key.is_empty()
    }

    /// Refuses half-configured gateways (a merchant id without its secret, and so on).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let pairs: [(&str, bool, &str, bool); 5] = [
            (
                "freedompay_merchant_id",
                self.freedompay_merchant_id.is_some(),
                "freedompay_secret_key",
                !self.freedompay_secret_key.is_empty(),
            ),
            (
                "twocheckout_merchant_code",
                self.twocheckout_merchant_code.is_some(),
                "twocheckout_secret_key",
                !self.twocheckout_secret_key.is_empty(),
            ),
            (
                "allsecure_api_key",
                self.allsecure_api_key.is_some(),
                "allsecure_shared_secret",
                !self.allsecure_shared_secret.is_empty(),
            ),
            ("dotpay_shop_id", self.dotpay_shop_id.is_some(), "dotpay_pin", !self.dotpay_pin.is_empty()),
            (
                "square_signature_key",
                !self.square_signature_key.is_empty(),
                "square_notification_url",
                self.square_notification_url.is_some(),
            ),
        ];
        for (a, has_a, b, has_b) in pairs {
            if has_a != has_b {
                let (set, missing) = if has_a { (a, b) } else { (b, a) };
                return Err(ConfigError::Invalid {
                    key: missing.to_string(),
                    message: format!("required when {set} is set"),
                });
            }
        }
        for s in &self.stripe_webhook_secret {
            if !s.starts_with("whsec_") {
                return Err(ConfigError::Invalid {
                    key: "stripe_webhook_secret".into(),
                    message: "must start with whsec_".into(),
                });
            }
        }
        Ok(())
    }
}
