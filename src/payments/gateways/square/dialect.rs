//! Square webhooks: `payment.updated` / `refund.updated` JSON events signed with
//! `x-square-hmacsha256-signature` over the subscription's notification URL and the body.
//! A Square payment exists only once the buyer is verified: no pending-3-D-Secure event.

use std::path::Path;
use std::sync::Arc;

use serde_json::json;

use crate::config::Settings;
use crate::payments::gateways::square::{signature, Square};
use crate::payments::gateways::Gateway;
use crate::sandbox::dialects::{
    required, rfc3339, stable_hex, throwaway, uuid4, Callback, Event, SandboxDialect, Speaker,
};

/// (content type, body, event id); `None` for an event Square would not send.
pub(crate) fn render(ev: &Event<'_>, now: i64) -> Option<(&'static str, Vec<u8>, String)> {
    let p = ev.payment;
    let payment_id = stable_hex(&p.id, "square", 29);
    let money = json!({"amount": p.amount_minor, "currency": p.currency});
    let (created, updated) = (rfc3339(p.created_at.min(now)), rfc3339(now));
    let payment = |status: &str, card_status: &str| {
        json!({"payment": {
            "id": payment_id,
            "created_at": created,
            "updated_at": updated,
            "amount_money": money,
            "total_money": money,
            "status": status,
            "source_type": "CARD",
            "card_details": {"status": card_status, "card": {"card_brand": "VISA", "last_4": p.card_last4},
                             "entry_method": "KEYED"},
            "location_id": "LSANDBOXKEYTURN",
            "reference_id": p.order_id,
            "version": if status == "COMPLETED" { 3 } else { 2 },
        }})
    };
    let (kind, data_type, id, object) = match ev.kind {
        "payment.succeeded" => ("payment.updated", "payment", payment_id.clone(), payment("COMPLETED", "CAPTURED")),
        "payment.failed" => ("payment.updated", "payment", payment_id.clone(), payment("FAILED", "FAILED")),
        "refund.succeeded" => {
            let refund = format!("{payment_id}_{}", crate::sandbox::dialects::fresh_hex(20));
            let object = json!({"refund": {
                "id": refund, "status": "COMPLETED", "amount_money": money, "payment_id": payment_id,
                "location_id": "LSANDBOXKEYTURN", "created_at": updated, "updated_at": updated,
            }});
            ("refund.updated", "refund", refund, object)
        }
        _ => return None,
    };
    let event_id = uuid4();
    let event = json!({
        "merchant_id": "MLSANDBOXKEYTURN",
        "type": kind,
        "event_id": event_id,
        "created_at": updated,
        "data": {"type": data_type, "id": id, "object": object},
    });
    Some(("application/json", serde_json::to_vec(&event).expect("json"), event_id))
}

/// `x-square-hmacsha256-signature` (no time is signed: the same for every attempt).
pub(crate) fn headers(key: &str, notification_url: &str, cb: &Callback) -> Vec<(&'static str, String)> {
    vec![("x-square-hmacsha256-signature", signature(key, notification_url, &cb.body))]
}

/// The sandbox speaking Square.
pub struct SquareVoice {
    pub key: String,
    pub notification_url: String,
}

impl Speaker for SquareVoice {
    fn render(&self, ev: &Event<'_>, _uri: &str, now: i64) -> Option<(&'static str, Vec<u8>, String)> {
        render(ev, now)
    }

    fn headers(&self, cb: &Callback, _now: i64) -> Vec<(&'static str, String)> {
        headers(&self.key, &self.notification_url, cb)
    }
}

/// Square as the sandbox speaks it.
pub struct SquareDialect;

impl SandboxDialect for SquareDialect {
    fn required_settings(&self) -> &'static [&'static str] {
        &["square_signature_key", "square_notification_url"]
    }

    fn voice(&self, s: &Settings, secret: String, _sandbox_key: &[u8]) -> anyhow::Result<Box<dyn Speaker>> {
        let notification_url = required(&s.gateways.square.square_notification_url, "square_notification_url")?;
        Ok(Box::new(SquareVoice { key: secret, notification_url }))
    }

    fn adapter(&self, s: &Settings, signature_keys: Vec<String>) -> anyhow::Result<Option<Arc<dyn Gateway>>> {
        let notification_url = required(&s.gateways.square.square_notification_url, "square_notification_url")?;
        Ok(Some(Arc::new(Square { signature_keys, notification_url })))
    }

    fn demo_settings(&self, _dir: &Path) -> anyhow::Result<Vec<(&'static str, String)>> {
        Ok(vec![
            ("square_signature_key", throwaway()),
            // Square signs the URL as registered; the demo registers a made-up public one.
            ("square_notification_url", "https://shop.example/api/v1/payments/square/callback".into()),
        ])
    }
}
