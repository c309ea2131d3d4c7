//! PayPal REST webhooks: a JSON event about a capture (or its refund), signed with RSA-SHA256
//! over `transmission_id|transmission_time|webhook_id|crc32(body)`, one transmission per
//! attempt. PayPal sends no webhook while a buyer is in a 3-D Secure challenge.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rsa::pkcs1v15::SigningKey;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::RsaPrivateKey;
use serde_json::json;
use sha2::Sha256;

use crate::payments::gateways::paypal::{signed_message, AUTH_ALGO};
use crate::sandbox::dialects::{decimal, rfc3339, stable_hex, uuid4, Callback, Event};

const API: &str = "https://api.sandbox.paypal.com";

/// (content type, body, event id); `None` for an event PayPal would not send.
pub(crate) fn render(ev: &Event<'_>, now: i64) -> Option<(&'static str, Vec<u8>, String)> {
    let p = ev.payment;
    let capture = stable_hex(&p.id, "paypal", 17).to_ascii_uppercase();
    let amount = json!({"currency_code": p.currency, "value": decimal(p)});
    let time = rfc3339(now);
    let link = |rel: &str, href: String| json!({"rel": rel, "method": "GET", "href": href});
    let capture_resource = |status: &str| {
        json!({
            "id": capture,
            "status": status,
            "amount": amount,
            "final_capture": true,
            "seller_protection": {"status": "ELIGIBLE"},
            "custom_id": p.order_id,
            "create_time": time,
            "update_time": time,
            "links": [link("self", format!("{API}/v2/payments/captures/{capture}"))],
        })
    };
    let (event_type, resource_type, summary, resource) = match ev.kind {
        "payment.succeeded" => {
            ("PAYMENT.CAPTURE.COMPLETED", "capture", "Payment completed", capture_resource("COMPLETED"))
        }
        "payment.failed" => ("PAYMENT.CAPTURE.DECLINED", "capture", "Payment declined", capture_resource("DECLINED")),
        "refund.succeeded" => {
            let refund = crate::sandbox::dialects::fresh_hex(17).to_ascii_uppercase();
            let resource = json!({
                "id": refund,
                "status": "COMPLETED",
                "amount": amount,
                "custom_id": p.order_id,
                "create_time": time,
                "update_time": time,
                "links": [
                    link("self", format!("{API}/v2/payments/refunds/{refund}")),
                    link("up", format!("{API}/v2/payments/captures/{capture}")),
                ],
            });
            ("PAYMENT.CAPTURE.REFUNDED", "refund", "A payment was refunded", resource)
        }
        _ => return None,
    };
    let id = format!(
        "WH-{}-{}",
        crate::sandbox::dialects::fresh_hex(17).to_ascii_uppercase(),
        crate::sandbox::dialects::fresh_hex(17).to_ascii_uppercase()
    );
    let event = json!({
        "id": id,
        "event_version": "1.0",
        "create_time": time,
        "resource_type": resource_type,
        "resource_version": "2.0",
        "event_type": event_type,
        "summary": format!("{summary}: {} {}", decimal(p), p.currency),
        "resource": resource,
        "links": [link("self", format!("{API}/v1/notifications/webhooks-events/{id}"))],
    });
    Some(("application/json", serde_json::to_vec(&event).expect("json"), id))
}

/// The transmission headers of this attempt (a new transmission id and time each time).
pub(crate) fn headers(webhook_id: &str, key: &RsaPrivateKey, cb: &Callback, now: i64) -> Vec<(&'static str, String)> {
    let transmission_id = uuid4();
    let time = rfc3339(now);
    let message = signed_message(&transmission_id, &time, webhook_id, &cb.body);
    let sig = SigningKey::<Sha256>::new(key.clone()).sign(message.as_bytes()).to_bytes();
    vec![
        ("paypal-transmission-id", transmission_id),
        ("paypal-transmission-time", time),
        ("paypal-transmission-sig", STANDARD.encode(sig)),
        ("paypal-cert-url", format!("{API}/v1/notifications/certs/CERT-keyturn-sandbox")),
        ("paypal-auth-algo", AUTH_ALGO.into()),
        ("paypal-auth-version", "v2".into()),
    ]
}
