//! Every gateway keyturn knows, one line each: its [`GatewayId`], its folder (whose name is the
//! gateway's name in URLs, the database and the settings), its name for people, and its adapter
//! (which implements [`Gateway`] and [`GatewayFolder`]: the folder's settings group and sandbox
//! dialect). Which are enabled: the sandbox when on, and every gateway whose settings are present.
//! Adding a gateway is its folder and one line here: its settings join [`GatewaySettings`]
//! (so `KEYTURN_*`, `check-config --list` and validation), and the sandbox can speak its dialect.

use std::str::FromStr;
use std::sync::Arc;

use super::{allsecure, dotpay, freedompay, paypal, sandbox, square, stripe, twocheckout};
use super::{Gateway, GatewayFolder, GatewaySettingsGroup, Gateways};
use crate::config::declare::Group;
use crate::config::{ConfigError, SettingDoc, Settings};
use crate::sandbox::dialects::{missing_settings, sandbox_adapter, SandboxDialect, Voice};

macro_rules! registry {
    ($( $id:ident = $folder:ident, $display:literal, $adapter:ident; )*) => {
        /// A gateway keyturn knows. [`GatewayId::as_str`] is what URLs and the database hold
        /// (stored as text like the status enums, `db/types.rs`; its folder's name, which is the
        /// variant's name in lower case).
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash,
            diesel::AsExpression, diesel::deserialize::FromSqlRow, poem_openapi::Enum,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        #[oai(rename_all = "lowercase")]
        pub enum GatewayId {
            $( $id, )*
        }

        impl GatewayId {
            /// Every gateway, in registry order.
            pub const ALL: &'static [GatewayId] = &[$( GatewayId::$id, )*];

            /// The name in `/api/v1/payments/{gateway}/callback`, in the database and in settings.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( GatewayId::$id => stringify!($folder), )*
                }
            }

            /// The name people know it by, for messages.
            pub fn display_name(self) -> &'static str {
                match self {
                    $( GatewayId::$id => $display, )*
                }
            }

            /// How the sandbox speaks this gateway's callbacks (its folder's `dialect.rs`).
            pub fn dialect(self) -> &'static dyn SandboxDialect {
                match self {
                    $( GatewayId::$id => <$folder::$adapter as GatewayFolder>::DIALECT, )*
                }
            }

            /// Its documented settings (its folder's `settings.rs`).
            pub fn setting_docs(self) -> &'static [SettingDoc] {
                match self {
                    $( GatewayId::$id => <<$folder::$adapter as GatewayFolder>::Settings as Group>::DOCS, )*
                }
            }

            /// Its adapter, when its settings are present.
            fn build(self, s: &Settings, sandbox_keys: &Arc<Vec<Vec<u8>>>) -> anyhow::Result<Option<Arc<dyn Gateway>>> {
                Ok(match self {
                    $( GatewayId::$id => <$folder::$adapter>::from_settings(s, sandbox_keys)?.map(|g| Arc::new(g) as Arc<dyn Gateway>), )*
                })
            }
        }

        /// Every gateway's settings group, named after its folder (`settings.gateways.stripe`).
        #[derive(Debug, Clone, Default)]
        pub struct GatewaySettings {
            $( pub $folder: <$folder::$adapter as GatewayFolder>::Settings, )*
        }

        impl GatewaySettings {
            /// Applies `key` when it names a gateway's setting; `Ok(false)` when it does not.
            pub fn apply(&mut self, key: &str, v: &str) -> Result<bool, ConfigError> {
                $( if self.$folder.apply_setting(key, v)? { return Ok(true); } )*
                Ok(false)
            }

            /// Whether the gateway setting `key` holds a value; `None` when it is none of theirs.
            pub fn is_set(&self, key: &str) -> Option<bool> {
                None $( .or_else(|| self.$folder.is_set(key)) )*
            }

            /// True when any real gateway has its callback settings.
            pub fn any_enabled(&self) -> bool {
                false $( || self.$folder.enabled() )*
            }

            /// Refuses half-configured gateways, in registry order.
            pub fn validate(&self) -> Result<(), ConfigError> {
                $( self.$folder.validate()?; )*
                Ok(())
            }

            /// Every gateway's documented settings, in registry order.
            pub fn docs() -> impl Iterator<Item = &'static SettingDoc> {
                GatewayId::ALL.iter().flat_map(|id| id.setting_docs())
            }
        }
    };
}

registry! {
    Sandbox = sandbox, "Sandbox", Sandbox;
    Stripe = stripe, "Stripe", Stripe;
    FreedomPay = freedompay, "FreedomPay", FreedomPay;
    TwoCheckout = twocheckout, "2Checkout", TwoCheckout;
    AllSecure = allsecure, "AllSecure", AllSecure;
    PayPal = paypal, "PayPal", PayPal;
    Dotpay = dotpay, "Dotpay", Dotpay;
    Square = square, "Square", Square;
}

impl GatewayId {
    /// `sandbox, stripe, …` for messages.
    pub fn names() -> String {
        GatewayId::ALL.iter().map(|id| id.as_str()).collect::<Vec<_>>().join(", ")
    }
}

/// A name that is no gateway keyturn knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown gateway")]
pub struct UnknownGateway;

impl FromStr for GatewayId {
    type Err = UnknownGateway;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        GatewayId::ALL.iter().copied().find(|g| g.as_str() == s).ok_or(UnknownGateway)
    }
}

crate::text_value!(GatewayId, "gateway");

/// Builds the enabled gateways; fails on settings that cannot work (e.g. an unreadable PEM).
pub fn from_settings(s: &Settings, sandbox_keys: Arc<Vec<Vec<u8>>>) -> anyhow::Result<Gateways> {
    check_dialect_settings(s)?;
    let mut gateways = Gateways::default();
    for id in GatewayId::ALL {
        if let Some(g) = id.build(s, &sandbox_keys)? {
            debug_assert_eq!(g.id(), *id, "the registry line and the adapter name the same gateway");
            check_refund_sources(g.as_ref())?;
            gateways.add(g);
        }
    }
    check_sandbox_dialect(s, &gateways, &sandbox_keys)?;
    if let Some(adapter) = sandbox_adapter(s, &sandbox_keys)? {
        check_refund_sources(adapter.as_ref())?;
        gateways.set_sandbox_dialect(adapter);
    }
    Ok(gateways)
}

/// A gateway whose refund notices add up ([`Gateway::refund_notices_add_up`]) must not refund
/// through us: our own refunds are reserved in `refunded_minor` before the gateway is asked, and
/// the gateway's notice of that same refund (its echo) would be added on top — counted twice,
/// the order ended and access taken back for half the money. Refused at start.
fn check_refund_sources(g: &dyn Gateway) -> anyhow::Result<()> {
    if g.refund_notices_add_up() && g.capabilities().refund {
        anyhow::bail!(
            "{}: refund notices that add up and refunds through keyturn cannot be combined (a refund would count twice)",
            g.name()
        );
    }
    Ok(())
}

/// The sandbox can speak a gateway's dialect only when that gateway is configured (the sandbox
/// uses its merchant ids; it signs with sandbox-only secrets, never the gateway's).
fn check_dialect_settings(s: &Settings) -> anyhow::Result<()> {
    let dialect = s.sandbox_dialect;
    let missing = missing_settings(s, dialect);
    if s.sandbox_enabled && !missing.is_empty() {
        anyhow::bail!("sandbox_dialect={dialect} needs the {dialect} gateway configured: set {}", missing.join(", "));
    }
    Ok(())
}

/// The dialect's gateway is enabled and the sandbox can sign for it (e.g. its PayPal key
/// matches `paypal_cert_file`).
fn check_sandbox_dialect(s: &Settings, gateways: &Gateways, sandbox_keys: &[Vec<u8>]) -> anyhow::Result<()> {
    let dialect = s.sandbox_dialect;
    if !s.sandbox_enabled || dialect == GatewayId::Sandbox {
        return Ok(());
    }
    if gateways.by_id(dialect).is_none() {
        anyhow::bail!("sandbox_dialect={dialect}: the {dialect} gateway is not enabled");
    }
    Voice::from_settings(s, sandbox_keys).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A gateway that could refund through us while its refund notices add up is refused;
    /// 2Checkout (notices add up, no refunds through us) passes.
    #[test]
    fn refund_notices_that_add_up_exclude_refunds_through_keyturn() {
        struct Both;
        impl Gateway for Both {
            fn from_settings(_: &Settings, _: &Arc<Vec<Vec<u8>>>) -> anyhow::Result<Option<Self>> {
                Ok(None)
            }
            fn id(&self) -> GatewayId {
                GatewayId::Stripe
            }
            fn verify(
                &self,
                _: &crate::payments::gateways::RawCallback<'_>,
                _: i64,
            ) -> Result<crate::payments::gateways::VerifiedEvent, crate::payments::gateways::VerifyError> {
                Err(crate::payments::gateways::VerifyError::UnsupportedMediaType)
            }
            fn capabilities(&self) -> crate::payments::gateways::Capabilities {
                crate::payments::gateways::Capabilities::ALL
            }
            fn refund_notices_add_up(&self) -> bool {
                true
            }
        }
        let err = check_refund_sources(&Both).unwrap_err().to_string();
        assert!(err.contains("count twice"), "{err}");
        let twocheckout = twocheckout::TwoCheckout { merchant_code: "KT".into(), secret_keys: vec!["k".into()] };
        assert!(twocheckout.refund_notices_add_up());
        check_refund_sources(&twocheckout).unwrap();
    }

    #[test]
    fn ids_round_trip_through_their_names() {
        for id in GatewayId::ALL {
            assert_eq!(id.as_str().parse::<GatewayId>(), Ok(*id));
            assert_eq!(id.to_string(), id.as_str());
        }
        assert_eq!("Stripe".parse::<GatewayId>(), Err(UnknownGateway));
        assert_eq!(GatewayId::TwoCheckout.display_name(), "2Checkout");
    }

    /// A folder's settings carry its name (`KEYTURN_<NAME>_…`) and are read back as its own;
    /// the settings a dialect requires exist (a misspelt one would pass for set).
    #[test]
    fn each_folder_declares_its_own_settings_and_its_dialect_names_real_ones() {
        for id in GatewayId::ALL {
            for doc in id.setting_docs() {
                assert!(doc.name.starts_with(&format!("{}_", id.as_str())), "{id}: {}", doc.name);
                assert_eq!(GatewaySettings::default().is_set(doc.name), Some(false), "{id}: {} unset", doc.name);
            }
            for name in id.dialect().required_settings() {
                assert!(crate::config::all_settings().any(|d| d.name == *name), "{id} requires unknown {name}");
            }
        }
        let s = Settings::from_pairs([("dotpay_shop_id", "123456"), ("dotpay_pin", "a,b")]).unwrap();
        assert_eq!(s.gateways.dotpay.dotpay_pin, ["a", "b"]);
        assert!(s.gateways.any_enabled() && s.has("dotpay_pin") && !s.has("square_signature_key"));
        assert!(missing_settings(&s, GatewayId::Dotpay).is_empty());
        assert_eq!(missing_settings(&s, GatewayId::Square).len(), 2);
        let err = Settings::from_pairs([("dotpay_pin", "x")]).unwrap_err().to_string();
        assert!(err.contains("dotpay_shop_id") && err.contains("required when dotpay_pin is set"), "{err}");
    }
}
