//! 2Checkout settings, `KEYTURN_TWOCHECKOUT_<NAME>`: declared here, composed into the gateway settings
//! by the registry.

use crate::config::declare::{settings_group, together};
use crate::config::ConfigError;
use crate::payments::gateways::GatewaySettingsGroup;

settings_group! {
    /// 2Checkout's settings (all optional).
    pub struct TwoCheckoutSettings, docs DOCS, apply apply;
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
}

impl GatewaySettingsGroup for TwoCheckoutSettings {
    fn enabled(&self) -> bool {
        self.twocheckout_merchant_code.is_some()
    }

    /// Refuses one of its two enabling settings without the other.
    fn validate(&self) -> Result<(), ConfigError> {
        together(
            ("twocheckout_merchant_code", self.twocheckout_merchant_code.is_some()),
            ("twocheckout_secret_key", !self.twocheckout_secret_key.is_empty()),
        )
    }
}
