//! Renewals a gateway charges on its own schedule (Stripe subscriptions, PayPal subscriptions).
//! A service opts in per gateway with a price/plan id (`PlanMap` settings in the gateway's own
//! `settings.rs`); paying such an order starts a subscription at the gateway instead of a
//! one-off payment. Its first charge pays the order like any payment and the subscription is
//! remembered (`model`) with the account, service and the terms agreed then; each later charge
//! becomes a renewal order for the same account that extends its access (`service`), exactly
//! once per charge. A cancellation at the gateway is recorded: the access runs to its end.

pub mod model;
pub mod service;

use crate::config::declare::SettingValue;
use crate::config::ConfigError;

/// `slug=id` pairs, comma-separated (`vpn=price_1Q…,course=price_1R…`): which services are sold
/// as a subscription at a gateway, and the gateway's price or plan id for each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanMap(pub Vec<(String, String)>);

impl PlanMap {
    /// The gateway's price/plan id for service `slug`, when it is sold as a subscription there.
    pub fn get(&self, slug: &str) -> Option<&str> {
        self.0.iter().find(|(s, _)| s == slug).map(|(_, id)| id.as_str())
    }
}

/// A slug or gateway id we put into a request: 1 to 128 of `A-Z a-z 0-9 _ - .`.
fn plain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

impl SettingValue for PlanMap {
    fn read(key: &str, v: &str) -> Result<Self, ConfigError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for item in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (slug, id) = item.split_once('=').map(|(s, i)| (s.trim(), i.trim())).unwrap_or((item, ""));
            if !plain(slug) || !plain(id) {
                return Err(ConfigError::Invalid {
                    key: key.into(),
                    message: format!("`{item}` is not slug=id (letters, digits, _ - . only)"),
                });
            }
            if pairs.iter().any(|(s, _)| s == slug) {
                return Err(ConfigError::Invalid {
                    key: key.into(),
                    message: format!("service `{slug}` is named twice"),
                });
            }
            pairs.push((slug.to_string(), id.to_string()));
        }
        Ok(PlanMap(pairs))
    }

    fn is_set(&self) -> bool {
        !self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_slug_id_pairs() {
        let m = PlanMap::read("k", " vpn=price_1Qa , course = P-5ML4271244454362WXNWU5NQ,").unwrap();
        assert_eq!(m.get("vpn"), Some("price_1Qa"));
        assert_eq!(m.get("course"), Some("P-5ML4271244454362WXNWU5NQ"));
        assert_eq!(m.get("other"), None);
        assert!(!PlanMap::read("k", "").unwrap().is_set());
        for bad in ["vpn", "vpn=", "=price_1", "vpn=price 1", "a=b,a=c", "vpn=price_1/x"] {
            assert!(PlanMap::read("k", bad).is_err(), "{bad}");
        }
    }
}
