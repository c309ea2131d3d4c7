//! The sandbox's own dialect: Standard Webhooks over its JSON body, posted to
//! `/api/v1/payments/sandbox/callback` and signed with the sandbox's own key.

use std::path::Path;
use std::sync::Arc;

use crate::config::Settings;
use crate::payments::gateways::{standard_webhooks, Gateway};
use crate::sandbox::dialects::{Callback, Event, SandboxDialect, Speaker};

/// The events the sandbox's own dialect expresses.
const KNOWN: [&str; 6] = [
    "payment.succeeded",
    "payment.authorized",
    "payment.cancelled",
    "payment.failed",
    "payment.requires_action",
    "refund.succeeded",
];

/// The sandbox speaking its own dialect with one of its keys.
pub struct SandboxVoice {
    pub key: Vec<u8>,
}

impl Speaker for SandboxVoice {
    fn render(&self, ev: &Event<'_>, _uri: &str, _now: i64) -> Option<(&'static str, Vec<u8>, String)> {
        KNOWN.contains(&ev.kind).then(|| ("application/json", sandbox_body(ev), crate::crypto::random_id("evt")))
    }

    fn headers(&self, cb: &Callback, now: i64) -> Vec<(&'static str, String)> {
        vec![
            ("webhook-id", cb.event_id.clone()),
            ("webhook-timestamp", now.to_string()),
            ("webhook-signature", standard_webhooks::sign(&self.key, &cb.event_id, now, &cb.body)),
        ]
    }
}

/// The sandbox's own Standard Webhooks body.
pub fn sandbox_body(ev: &Event<'_>) -> Vec<u8> {
    let p = ev.payment;
    serde_json::to_vec(&serde_json::json!({
        "type": ev.kind,
        "data": {
            "payment_id": p.id,
            "order_id": p.order_id,
            "amount_minor": p.amount_minor,
            "currency": p.currency,
            "three_ds": ev.three_ds,
        }
    }))
    .expect("json")
}

/// The sandbox's own dialect (the default `sandbox_dialect`): verified by the sandbox gateway.
pub struct SandboxOwnDialect;

impl SandboxDialect for SandboxOwnDialect {
    fn required_settings(&self) -> &'static [&'static str] {
        &[]
    }

    fn voice(&self, _s: &Settings, _secret: String, key: &[u8]) -> anyhow::Result<Box<dyn Speaker>> {
        Ok(Box::new(SandboxVoice { key: key.to_vec() }))
    }

    fn adapter(&self, _s: &Settings, _secrets: Vec<String>) -> anyhow::Result<Option<Arc<dyn Gateway>>> {
        Ok(None)
    }

    fn demo_settings(&self, _dir: &Path) -> anyhow::Result<Vec<(&'static str, String)>> {
        Ok(Vec::new())
    }
}
