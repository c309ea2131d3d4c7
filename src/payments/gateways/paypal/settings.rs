//! PayPal settings, `KEYTURN_PAYPAL_<NAME>`: declared here, composed into the gateway settings
//! by the registry.

use crate::config::declare::settings_group;
use crate::payments::gateways::GatewaySettingsGroup;
use crate::payments::recurring::PlanMap;

settings_group! {
    /// PayPal's settings (all optional).
    pub struct PayPalSettings, docs DOCS, apply apply;
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
    paypal_subscription_plans: PlanMap = Default::default(),
        "(none)",
        "Services sold as PayPal subscriptions: slug=P-… pairs (billing plans whose price and interval match the service); PayPal then charges each renewal itself.";
}

impl GatewaySettingsGroup for PayPalSettings {
    fn enabled(&self) -> bool {
        self.paypal_webhook_id.is_some()
    }
}
