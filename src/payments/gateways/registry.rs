//! Every gateway keyturn knows, one line each: its [`GatewayId`], its name (in URLs, the
//! database and the settings), its name for people, and its adapter (which implements
//! [`Gateway`]). Which are enabled: the sandbox when on, and every gateway whose settings are present.

use std::str::FromStr;
use std::sync::Arc;

use super::{allsecure, dotpay, freedompay, paypal, sandbox, square, stripe, twocheckout};
use super::{Gateway, Gateways};
use crate::config::Settings;
use crate::sandbox::dialects::{missing_settings, sandbox_adapter, Dialect, Voice};

macro_rules! registry {
    ($( $id:ident = $name:literal, $display:literal, $adapter:ty; )*) => {
        /// A gateway keyturn knows. [`GatewayId::as_str`] is what URLs and the database hold
        /// (stored as text like the status enums, `db/types.rs`).
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash,
            diesel::AsExpression, diesel::deserialize::FromSqlRow, poem_openapi::Enum,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub enum GatewayId {
            $( #[oai(rename = $name)] $id, )*
        }

        impl GatewayId {
            /// Every gateway, in registry order.
            pub const ALL: &'static [GatewayId] = &[$( GatewayId::$id, )*];

            /// The name in `/api/v1/payments/{gateway}/callback`, in the database and in settings.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( GatewayId::$id => $name, )*
                }
            }

            /// The name people know it by, for messages.
            pub fn display_name(self) -> &'static str {
                match self {
                    $( GatewayId::$id => $display, )*
                }
            }

            /// Its adapter, when its settings are present.
            fn build(self, s: &Settings, sandbox_keys: &Arc<Vec<Vec<u8>>>) -> anyhow::Result<Option<Arc<dyn Gateway>>> {
                Ok(match self {
                    $( GatewayId::$id => <$adapter>::from_settings(s, sandbox_keys)?.map(|g| Arc::new(g) as Arc<dyn Gateway>), )*
                })
            }
        }
    };
}

registry! {
    Sandbox = "sandbox", "Sandbox", sandbox::Sandbox;
    Stripe = "stripe", "Stripe", stripe::Stripe;
    FreedomPay = "freedompay", "FreedomPay", freedompay::FreedomPay;
    TwoCheckout = "twocheckout", "2Checkout", twocheckout::TwoCheckout;
    AllSecure = "allsecure", "AllSecure", allsecure::AllSecure;
    Dotpay = "dotpay", "Dotpay", dotpay::Dotpay;
    Square = "square", "Square", square::Square;
    PayPal = "paypal", "PayPal", paypal::PayPal;
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
            gateways.add(g);
        }
    }
    check_sandbox_dialect(s, &gateways, &sandbox_keys)?;
    if let Some(adapter) = sandbox_adapter(s, &sandbox_keys)? {
        gateways.set_sandbox_dialect(adapter);
    }
    Ok(gateways)
}

/// The sandbox can speak a gateway's dialect only when that gateway is configured (the sandbox
/// uses its merchant ids; it signs with sandbox-only secrets, never the gateway's).
fn check_dialect_settings(s: &Settings) -> anyhow::Result<()> {
    let dialect = s.sandbox_dialect;
    let missing = missing_settings(s, dialect);
    if s.sandbox_enabled && !missing.is_empty() {
        anyhow::bail!(
            "sandbox_dialect={} needs the {} gateway configured: set {}",
            dialect.name(),
            dialect.name(),
            missing.join(", ")
        );
    }
    Ok(())
}

/// The dialect's gateway is enabled and the sandbox can sign for it (e.g. its PayPal key
/// matches `paypal_cert_file`).
fn check_sandbox_dialect(s: &Settings, gateways: &Gateways, sandbox_keys: &[Vec<u8>]) -> anyhow::Result<()> {
    let dialect = s.sandbox_dialect;
    if !s.sandbox_enabled || dialect == Dialect::Sandbox {
        return Ok(());
    }
    if gateways.get(dialect.name()).is_none() {
        anyhow::bail!("sandbox_dialect={}: the {} gateway is not enabled", dialect.name(), dialect.name());
    }
    Voice::from_settings(s, sandbox_keys).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_their_names() {
        for id in GatewayId::ALL {
            assert_eq!(id.as_str().parse::<GatewayId>(), Ok(*id));
            assert_eq!(id.to_string(), id.as_str());
        }
        assert_eq!("Stripe".parse::<GatewayId>(), Err(UnknownGateway));
        assert_eq!(GatewayId::TwoCheckout.display_name(), "2Checkout");
    }
}
