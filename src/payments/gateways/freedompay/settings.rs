//! FreedomPay settings, `KEYTURN_FREEDOMPAY_<NAME>`: declared here, composed into the gateway settings
//! by the registry.

use crate::config::declare::{settings_group, together};
use crate::config::ConfigError;
use crate::payments::gateways::GatewaySettingsGroup;

settings_group! {
    /// FreedomPay's settings (all optional).
    pub struct FreedomPaySettings, docs DOCS, apply apply;
    freedompay_merchant_id: Option<String> = Default::default(),
        "(off)",
        "FreedomPay merchant id; with the secret key, enables FreedomPay.";
    @secret freedompay_secret_key: Vec<String> = Default::default(),
        "(none)",
        "FreedomPay secret key(s) for pg_sig.";
    freedompay_api_base: Option<String> = Default::default(),
        "https://api.freedompay.kz",
        "FreedomPay API base URL.";
}

impl GatewaySettingsGroup for FreedomPaySettings {
    fn enabled(&self) -> bool {
        self.freedompay_merchant_id.is_some()
    }

    /// Refuses one of its two enabling settings without the other.
    fn validate(&self) -> Result<(), ConfigError> {
        together(
            ("freedompay_merchant_id", self.freedompay_merchant_id.is_some()),
            ("freedompay_secret_key", !self.freedompay_secret_key.is_empty()),
        )
    }
}
