//! Outgoing webhooks' settings: whether private targets are allowed and how long a rotated
//! signing secret keeps signing.

use super::declare::settings_group;
use super::{invalid, ConfigError};

settings_group! {
    /// Outgoing webhook settings (all with defaults).
    pub struct WebhookSettings, docs WEBHOOK_SETTINGS, apply apply;
    webhook_allow_private: bool = false,
        "false",
        "Allow webhook endpoints whose host resolves to a private, loopback, link-local or otherwise non-public address (checked at creation and again at every delivery). Only for receivers on the same network.";
    webhook_rotation_hours: i64 = 24,
        "24",
        "After a webhook secret rotation, the previous secret keeps signing (a second `v1,` signature) for this many hours (1–720).";
}

impl WebhookSettings {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=720).contains(&self.webhook_rotation_hours) {
            return Err(invalid("webhook_rotation_hours", "must be between 1 and 720"));
        }
        Ok(())
    }
}
