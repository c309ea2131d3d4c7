//! Stripe settings, `KEYTURN_STRIPE_<NAME>`: declared here, composed into the gateway settings
//! by the registry.

use crate::config::declare::settings_group;
use crate::config::ConfigError;
use crate::payments::gateways::GatewaySettingsGroup;
use crate::payments::recurring::PlanMap;

settings_group! {
    /// Stripe's settings (all optional).
    pub struct StripeSettings, docs DOCS, apply apply;
    @secret stripe_webhook_secret: Vec<String> = Default::default(),
        "(off)",
        "Stripe endpoint signing secret(s) whsec_…; enables Stripe.";
    @secret stripe_api_key: Option<String> = Default::default(),
        "(none)",
        "Stripe secret API key, to create Checkout Sessions.";
    stripe_api_base: Option<String> = Default::default(),
        "https://api.stripe.com",
        "Stripe API base URL.";
    stripe_subscription_prices: PlanMap = Default::default(),
        "(none)",
        "Services sold as Stripe subscriptions: slug=price_… pairs (recurring Prices whose amount, currency and interval match the service); Stripe then charges each renewal itself.";
}

impl GatewaySettingsGroup for StripeSettings {
    fn enabled(&self) -> bool {
        !self.stripe_webhook_secret.is_empty()
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.stripe_webhook_secret.iter().any(|s| !s.starts_with("whsec_")) {
            return Err(ConfigError::Invalid {
                key: "stripe_webhook_secret".into(),
                message: "must start with whsec_".into(),
            });
        }
        Ok(())
    }
}
