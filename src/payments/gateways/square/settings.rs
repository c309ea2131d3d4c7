//! Square settings, `KEYTURN_SQUARE_<NAME>`: declared here, composed into the gateway settings
//! by the registry.

use crate::config::declare::{settings_group, together};
use crate::config::ConfigError;
use crate::payments::gateways::GatewaySettingsGroup;

settings_group! {
    /// Square's settings (all optional).
    pub struct SquareSettings, docs DOCS, apply apply;
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

impl GatewaySettingsGroup for SquareSettings {
    fn enabled(&self) -> bool {
        !self.square_signature_key.is_empty()
    }

    /// Refuses one of its two enabling settings without the other.
    fn validate(&self) -> Result<(), ConfigError> {
        together(
            ("square_signature_key", !self.square_signature_key.is_empty()),
            ("square_notification_url", self.square_notification_url.is_some()),
        )
    }
}
