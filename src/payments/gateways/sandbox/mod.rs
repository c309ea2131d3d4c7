//! The built-in sandbox gateway's callback dialect: Standard Webhooks over a JSON body
//! `{"type": …, "data": {payment_id, order_id, amount_minor, currency, three_ds}}`.

pub mod dialect;
pub mod ops;

use std::sync::Arc;

use serde::Deserialize;

use super::{standard_webhooks, EventKind, Gateway, RawCallback, ThreeDs, VerifiedEvent, VerifyError};
use crate::config::Settings;
use crate::payments::gateways::{api_methods, Capabilities, GatewayFolder, GatewayId};
use crate::sandbox::dialects::SandboxDialect;

/// The sandbox adapter.
pub struct Sandbox {
    pub keys: Arc<Vec<Vec<u8>>>,
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: String,
    data: Data,
}

#[derive(Deserialize)]
struct Data {
    payment_id: String,
    order_id: Option<String>,
    amount_minor: Option<i64>,
    currency: Option<String>,
    three_ds: Option<String>,
}

impl GatewayFolder for Sandbox {
    type Settings = crate::payments::gateways::NoSettings;
    const DIALECT: &'static dyn SandboxDialect = &dialect::SandboxOwnDialect;
}

impl Gateway for Sandbox {
    fn from_settings(s: &Settings, sandbox_keys: &Arc<Vec<Vec<u8>>>) -> anyhow::Result<Option<Self>> {
        Ok(s.sandbox_enabled.then(|| Sandbox { keys: sandbox_keys.clone() }))
    }

    fn id(&self) -> GatewayId {
        GatewayId::Sandbox
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { capture: true, cancel: true, refund: true, ..Capabilities::default() }
    }

    api_methods!(ops);

    /// The sandbox's own checkout page (nothing to create at a remote gateway).
    fn pay_button(&self, order_id: &str) -> (&'static str, String) {
        ("Pay by card (sandbox)", format!("/sandbox/checkout/{order_id}"))
    }

    fn verify(&self, raw: &RawCallback<'_>, now: i64) -> Result<VerifiedEvent, VerifyError> {
        if raw.media_type() != "application/json" {
            return Err(VerifyError::UnsupportedMediaType);
        }
        let id = standard_webhooks::verify(
            &self.keys,
            raw.header("webhook-id"),
            raw.header("webhook-timestamp"),
            raw.header("webhook-signature"),
            raw.body,
            now,
        )?;
        let env: Envelope = serde_json::from_slice(raw.body).map_err(|e| VerifyError::Malformed(e.to_string()))?;
        let kind = match env.kind.as_str() {
            "payment.succeeded" => EventKind::Succeeded,
            "payment.authorized" => EventKind::Authorized,
            "payment.failed" => EventKind::Failed,
            "payment.requires_action" => EventKind::RequiresAction,
            "refund.succeeded" => EventKind::Refunded,
            "payment.cancelled" => EventKind::Cancelled,
            other => EventKind::Other(other.chars().filter(|c| c.is_ascii_graphic()).take(64).collect()),
        };
        let three_ds = match env.data.three_ds.as_deref() {
            None => None,
            Some(s) => {
                Some(ThreeDs::parse(s).ok_or_else(|| VerifyError::Malformed(format!("unknown three_ds `{s}`")))?)
            }
        };
        if env.data.payment_id.is_empty()
            || env.data.payment_id.len() > 128
            || env.data.payment_id.chars().any(char::is_control)
        {
            return Err(VerifyError::Malformed("payment_id must be 1 to 128 printable characters".into()));
        }
        if let Some(c) = &env.data.currency {
            if c.len() != 3 || !c.bytes().all(|b| b.is_ascii_alphabetic()) {
                return Err(VerifyError::Malformed("currency must be a 3-letter ISO code".into()));
            }
        }
        Ok(VerifiedEvent {
            event_id: id.to_string(),
            kind,
            order_id: env.data.order_id,
            payment_id: env.data.payment_id,
            amount_minor: env.data.amount_minor,
            currency: env.data.currency,
            three_ds,
            subscription: None,
        })
    }
}
