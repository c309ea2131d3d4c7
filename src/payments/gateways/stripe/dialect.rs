//! Stripe: a JSON Event with a PaymentIntent (or, for a refund, a Charge), signed with
//! `Stripe-Signature: t=…,v1=…`. The API version is one whose PaymentIntent still embeds its
//! `charges` list, so the Charge's 3-D Secure `result` travels with the event.

use std::path::Path;
use std::sync::Arc;

use serde_json::{json, Value};

use crate::config::Settings;
use crate::payments::gateways::stripe::{signature_header, Stripe};
use crate::payments::gateways::Gateway;
use crate::sandbox::dialects::{Callback, Event, SandboxDialect, Speaker};
use crate::sandbox::model::SandboxPayment;

/// An API version whose PaymentIntent embeds `charges` (newer ones only name `latest_charge`).
const API_VERSION: &str = "2020-08-27";

/// Sandbox 3-D Secure → Stripe's `three_d_secure.result`; `None` when no authentication ran.
fn three_ds_result(three_ds: Option<&str>) -> Option<&'static str> {
    match three_ds? {
        "authenticated" => Some("authenticated"),
        "attempted" => Some("attempt_acknowledged"),
        "exempted" => Some("exempted"),
        "failed" => Some("failed"),
        _ => None,
    }
}

fn suffix(p: &SandboxPayment) -> &str {
    p.id.rsplit('_').next().unwrap_or(&p.id)
}

fn charge(p: &SandboxPayment, three_ds: Option<&str>, succeeded: bool, refunded: bool) -> Value {
    let secure = three_ds_result(three_ds).map(|result| {
        json!({"authentication_flow": if p.card_last4 == "4242" { "frictionless" } else { "challenge" },
               "result": result, "result_reason": null, "version": "2.2.0"})
    });
    json!({
        "id": format!("ch_{}", suffix(p)),
        "object": "charge",
        "amount": p.amount_minor,
        "amount_captured": if succeeded { p.amount_minor } else { 0 },
        "amount_refunded": if refunded { p.amount_minor } else { 0 },
        "captured": succeeded,
        "currency": p.currency.to_ascii_lowercase(),
        "livemode": false,
        "metadata": {"order_id": p.order_id},
        "outcome": {"network_status": if succeeded { "approved_by_network" } else { "declined_by_network" },
                    "type": if succeeded { "authorized" } else { "issuer_declined" }},
        "paid": succeeded,
        "payment_intent": format!("pi_{}", suffix(p)),
        "payment_method_details": {"type": "card", "card": {"brand": "visa", "last4": p.card_last4, "three_d_secure": secure}},
        "refunded": refunded,
        "status": if succeeded { "succeeded" } else { "failed" },
    })
}

fn payment_intent(p: &SandboxPayment, status: &str, charges: Vec<Value>, extra: Value, now: i64) -> Value {
    let id = format!("pi_{}", suffix(p));
    let mut pi = json!({
        "id": id,
        "object": "payment_intent",
        "amount": p.amount_minor,
        "amount_received": if status == "succeeded" { p.amount_minor } else { 0 },
        "capture_method": "automatic",
        "charges": {"object": "list", "data": charges, "has_more": false, "total_count": charges.len(),
                    "url": format!("/v1/charges?payment_intent={id}")},
        "created": p.created_at.min(now),
        "currency": p.currency.to_ascii_lowercase(),
        "last_payment_error": null,
        "livemode": false,
        "metadata": {"order_id": p.order_id},
        "next_action": null,
        "payment_method_types": ["card"],
        "status": status,
    });
    if let (Some(pi), Some(extra)) = (pi.as_object_mut(), extra.as_object()) {
        pi.extend(extra.clone());
    }
    pi
}

/// (content type, body, event id); `None` for an event Stripe would not send.
pub(crate) fn render(ev: &Event<'_>, now: i64) -> Option<(&'static str, Vec<u8>, String)> {
    let p = ev.payment;
    let (kind, object) = match ev.kind {
        "payment.succeeded" => {
            let ch = charge(p, ev.three_ds, true, false);
            ("payment_intent.succeeded", payment_intent(p, "succeeded", vec![ch], json!({}), now))
        }
        "payment.requires_action" => {
            let next = json!({"next_action": {"type": "use_stripe_sdk", "use_stripe_sdk": {"type": "three_d_secure_redirect"}}});
            ("payment_intent.requires_action", payment_intent(p, "requires_action", vec![], next, now))
        }
        "payment.failed" => {
            // A failed authentication never reaches the card network: no charge.
            let failed_3ds = ev.three_ds == Some("failed");
            let (code, message, charges) = if failed_3ds {
                ("payment_intent_authentication_failure", "3-D Secure authentication failed.", vec![])
            } else {
                ("card_declined", "Your card was declined.", vec![charge(p, ev.three_ds, false, false)])
            };
            let error = json!({"last_payment_error": {"type": "card_error", "code": code, "message": message}});
            ("payment_intent.payment_failed", payment_intent(p, "requires_payment_method", charges, error, now))
        }
        "refund.succeeded" => ("charge.refunded", charge(p, ev.three_ds, true, true)),
        _ => return None,
    };
    let id = crate::crypto::random_id("evt");
    let event = json!({
        "id": id,
        "object": "event",
        "api_version": API_VERSION,
        "created": now,
        "data": {"object": object},
        "livemode": false,
        "pending_webhooks": 1,
        "request": {"id": null, "idempotency_key": null},
        "type": kind,
    });
    Some(("application/json; charset=utf-8", serde_json::to_vec(&event).expect("json"), id))
}

/// `Stripe-Signature` for this attempt.
pub(crate) fn headers(secret: &str, cb: &Callback, now: i64) -> Vec<(&'static str, String)> {
    vec![
        ("stripe-signature", signature_header(secret, now, &cb.body)),
        ("user-agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)".into()),
    ]
}

/// The sandbox speaking Stripe.
pub struct StripeVoice {
    pub secret: String,
}

impl Speaker for StripeVoice {
    fn render(&self, ev: &Event<'_>, _uri: &str, now: i64) -> Option<(&'static str, Vec<u8>, String)> {
        render(ev, now)
    }

    fn headers(&self, cb: &Callback, now: i64) -> Vec<(&'static str, String)> {
        headers(&self.secret, cb, now)
    }
}

/// Stripe as the sandbox speaks it.
pub struct StripeDialect;

impl SandboxDialect for StripeDialect {
    fn required_settings(&self) -> &'static [&'static str] {
        &["stripe_webhook_secret"]
    }

    fn secret(&self, derived: String) -> String {
        format!("whsec_{derived}")
    }

    fn voice(&self, _s: &Settings, secret: String, _key: &[u8]) -> anyhow::Result<Box<dyn Speaker>> {
        Ok(Box::new(StripeVoice { secret }))
    }

    fn adapter(&self, _s: &Settings, secrets: Vec<String>) -> anyhow::Result<Option<Arc<dyn Gateway>>> {
        Ok(Some(Arc::new(Stripe { secrets })))
    }

    fn demo_settings(&self, _dir: &Path) -> anyhow::Result<Vec<(&'static str, String)>> {
        Ok(vec![("stripe_webhook_secret", crate::app::new_webhook_secret())])
    }
}
