//! Dotpay settings, `KEYTURN_DOTPAY_<NAME>`: declared here, composed into the gateway settings
//! by the registry.

use crate::config::declare::{settings_group, together};
use crate::config::ConfigError;
use crate::payments::gateways::GatewaySettingsGroup;

settings_group! {
    /// Dotpay's settings (all optional).
    pub struct DotpaySettings, docs DOCS, apply apply;
    dotpay_shop_id: Option<String> = Default::default(),
        "(off)",
        "Dotpay shop id; with the PIN, enables Dotpay.";
    @secret dotpay_pin: Vec<String> = Default::default(),
        "(none)",
        "Dotpay PIN(s) for URLC signatures.";
    dotpay_api_base: Option<String> = Default::default(),
        "https://ssl.dotpay.pl/t2/",
        "Dotpay payment page URL.";
}

impl GatewaySettingsGroup for DotpaySettings {
    fn enabled(&self) -> bool {
        self.dotpay_shop_id.is_some()
    }

    /// Refuses one of its two enabling settings without the other.
    fn validate(&self) -> Result<(), ConfigError> {
        together(("dotpay_shop_id", self.dotpay_shop_id.is_some()), ("dotpay_pin", !self.dotpay_pin.is_empty()))
    }
}
