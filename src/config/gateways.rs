//! Payment gateway settings, `KEYTURN_<GATEWAY>_<NAME>`. A gateway is enabled when its
//! required settings are present; secrets take several comma-separated values (rotation).

use super::declare::settings_group;
use super::ConfigError;

settings_group! {
    /// Settings of every gateway (all optional).
    pub struct GatewaySettings, docs GATEWAY_SETTINGS, apply apply;
    @secret stripe_webhook_secret: Vec<String> = Default::default(),
        "(off)",
        "Stripe endpoint signing secret(s) whsec_…; enables Stripe.";
    @secret stripe_api_key: Option<String> = Default::default(),
        "(none)",
        "Stripe secret API key, to create Checkout Sessions.";
    stripe_api_base: Option<String> = Default::default(),
        "https://api.stripe.com",
        "Stripe API base URL.";
    freedompay_merchant_id: Option<String> = Default::default(),
        "(off)",
        "FreedomPay merchant id; with the secret key, enables FreedomPay.";
    @secret freedompay_secret_key: Vec<String> = Default::default(),
        "(none)",
        "FreedomPay secret key(s) for pg_sig.";
    freedompay_api_base: Option<String> = Default::default(),
        "https://api.freedompay.kz",
        "FreedomPay API base URL.";
    twocheckout_merchant_code: Option<String> = Default::default(),
        "(off)",
        "2Checkout/Verifone merchant code; with the secret key, enables 2Checkout.";
    @secret twocheckout_secret_key: Vec<String> = Default::default(),
        "(none)",
        "2Checkout secret key(s) for IPN signatures.";
    twocheckout_api_base: Option<String> = Default::default(),
        "https://secure.2checkout.com",
        "2Checkout buy-link base URL.";
    @secret twocheckout_buy_link_secret: Option<String> = Default::default(),
        "(the secret key)",
        "2Checkout ConvertPlus buy-link secret word, to sign buy links.";
    allsecure_api_key: Option<String> = Default::default(),
        "(off)",
        "AllSecure Exchange (IXOPAY) API key; with the shared secret, enables AllSecure.";
    @secret allsecure_shared_secret: Vec<String> = Default::default(),
        "(none)",
        "AllSecure shared secret(s) for X-Signature.";
    allsecure_api_base: Option<String> = Default::default(),
        "https://asxgw.com",
        "AllSecure API base URL.";
    allsecure_username: Option<String> = Default::default(),
        "(none)",
        "AllSecure API user (HTTP Basic), to start payments.";
    @secret allsecure_password: Option<String> = Default::default(),
        "(none)",
        "AllSecure API password.";
    paypal_webhook_id: Option<String> = Default::default(),
        "(off)",
        "PayPal webhook id; enables PayPal.";
    paypal_cert_file: Option<std::path::PathBuf> = Default::default(),
        "(fetch from PAYPAL-CERT-URL)",
        "PEM certificate(s) to verify PayPal signatures with, instead of fetching.";
    paypal_cert_origins: Vec<String> = Default::default(),
        "PayPal's four API origins",
        "Origins (scheme://host[:port]) PAYPAL-CERT-URL may point to; certificates are fetched from nowhere else.";
    paypal_client_id: Option<String> = Default::default(),
        "(none)",
        "PayPal REST client id, to create orders.";
    @secret paypal_client_secret: Option<String> = Default::default(),
        "(none)",
        "PayPal REST client secret.";
    paypal_api_base: Option<String> = Default::default(),
        "https://api-m.paypal.com",
        "PayPal API base URL.";
    dotpay_shop_id: Option<String> = Default::default(),
        "(off)",
        "Dotpay shop id; with the PIN, enables Dotpay.";
    @secret dotpay_pin: Vec<String> = Default::default(),
        "(none)",
        "Dotpay PIN(s) for URLC signatures.";
    dotpay_api_base: Option<String> = Default::default(),
        "https://ssl.dotpay.pl/t2/",
        "Dotpay payment page URL.";
    @secret square_signature_key: Vec<String> = Default::default(),
        "(off)",
        "Square webhook signature key(s); with the notification URL, enables Square.";
    square_notification_url: Option<String> = Default::default(),
        "(none)",
        "The notification URL exactly as registered with Square.";
    @secret square_access_token: Option<String> = Default::default(),
        "(none)",
        "Square access token, to create payment links.";
    square_api_base: Option<String> = Default::default(),
        "https://connect.squareup.com",
        "Square API base URL.";
    square_location_id: Option<String> = Default::default(),
        "(none)",
        "Square location that payment links are created for.";
}

impl GatewaySettings {
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
