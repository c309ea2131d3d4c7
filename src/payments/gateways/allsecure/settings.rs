//! AllSecure settings, `KEYTURN_ALLSECURE_<NAME>`: declared here, composed into the gateway settings
//! by the registry.

use crate::config::declare::{settings_group, together};
use crate::config::ConfigError;
use crate::payments::gateways::GatewaySettingsGroup;

settings_group! {
    /// AllSecure's settings (all optional).
    pub struct AllSecureSettings, docs DOCS, apply apply;
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
}

impl GatewaySettingsGroup for AllSecureSettings {
    fn enabled(&self) -> bool {
        self.allsecure_api_key.is_some()
    }

    /// Refuses one of its two enabling settings without the other.
    fn validate(&self) -> Result<(), ConfigError> {
        together(
            ("allsecure_api_key", self.allsecure_api_key.is_some()),
            ("allsecure_shared_secret", !self.allsecure_shared_secret.is_empty()),
        )
    }
}
