//! Square webhooks: `x-square-hmacsha256-signature = base64(HMAC-SHA256(signature key,
//! notification URL + raw body))`; payment and refund events.

pub mod dialect;
pub mod ops;
pub mod settings;
pub mod start;
pub mod status;

use std::sync::Arc;

use crate::config::Settings;
use crate::payments::gateways::{api_methods, Capabilities, GatewayFolder, GatewayId};
use crate::sandbox::dialects::SandboxDialect;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::{checked_currency, checked_id, other, EventKind, Gateway, RawCallback, VerifiedEvent, VerifyError};

/// Longest signature header we read (a base64 SHA-256 is 44).
const MAX_SIG: usize = 128;

/// The Square adapter.
pub struct Square {
    /// Subscription signature keys, newest first: a signature by any of them is accepted.
    pub signature_keys: Vec<String>,
    /// The notification URL exactly as in the subscription (it is signed byte for byte).
    pub notification_url: String,
}

fn mac(key: &str, url: &str, body: &[u8]) -> Hmac<Sha256> {
    let mut m = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
    m.update(url.as_bytes());
    m.update(body);
    m
}

/// The `x-square-hmacsha256-signature` Square would send.
pub fn signature(key: &str, url: &str, body: &[u8]) -> String {
    STANDARD.encode(mac(key, url, body).finalize().into_bytes())
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

/// A payment's status → kind.
fn payment_kind(status: &str) -> EventKind {
    match status {
        "COMPLETED" => EventKind::Succeeded,
        "APPROVED" => EventKind::Authorized,
        "PENDING" => EventKind::RequiresAction,
        "FAILED" | "CANCELED" => EventKind::Failed,
        s => other(&format!("payment:{s}")),
    }
}

fn map_event(event: &Value) -> Result<VerifiedEvent, VerifyError> {
    let malformed = |m: &str| VerifyError::Malformed(m.to_string());
    let event_id =
        checked_id("event_id", str_at(event, "/event_id").ok_or_else(|| malformed("missing event_id"))?, 255)?;
    let kind_s = str_at(event, "/type").ok_or_else(|| malformed("missing type"))?;
    let data_id = str_at(event, "/data/id");
    // (kind, the object, the payment it concerns, our order id)
    let (kind, obj, payment_id, order_id) = match kind_s {
        "payment.created" | "payment.updated" => {
            let p = event.pointer("/data/object/payment").ok_or_else(|| malformed("missing data.object.payment"))?;
            let id = str_at(p, "/id").or(data_id).ok_or_else(|| malformed("missing payment id"))?;
            (payment_kind(str_at(p, "/status").unwrap_or_default()), Some(p), id, str_at(p, "/reference_id"))
        }
        // Our addition: a completed refund (the brief lists no Square refund mapping).
        "refund.created" | "refund.updated" => {
            let r = event.pointer("/data/object/refund").ok_or_else(|| malformed("missing data.object.refund"))?;
            let kind = match str_at(r, "/status") {
                Some("COMPLETED") => EventKind::Refunded,
                s => other(&format!("refund:{}", s.unwrap_or_default())),
            };
            let id = str_at(r, "/payment_id").or(data_id).ok_or_else(|| malformed("missing payment id"))?;
            (kind, Some(r), id, None)
        }
        _ => (other(kind_s), None, data_id.unwrap_or(event_id.as_str()), None),
    };
    let (amount_minor, currency) = match obj.and_then(|o| o.get("amount_money")) {
        None => (None, None),
        Some(m) => {
            let amount = m.get("amount").and_then(Value::as_i64).filter(|a| *a >= 0);
            let amount = amount.ok_or_else(|| malformed("amount_money.amount must be a non-negative integer"))?;
            let currency = str_at(m, "/currency").ok_or_else(|| malformed("amount_money without currency"))?;
            (Some(amount), Some(checked_currency(currency)?))
        }
    };
    Ok(VerifiedEvent {
        event_id: event_id.clone(),
        kind,
        order_id: order_id.map(str::to_string),
        payment_id: checked_id("payment id", payment_id, 255)?,
        amount_minor,
        currency,
        three_ds: None,
        subscription: None,
    })
}

impl GatewayFolder for Square {
    type Settings = settings::SquareSettings;
    const DIALECT: &'static dyn SandboxDialect = &dialect::SquareDialect;
}

impl Gateway for Square {
    fn from_settings(s: &Settings, _sandbox_keys: &Arc<Vec<Vec<u8>>>) -> anyhow::Result<Option<Self>> {
        let g = &s.gateways.square;
        Ok(g.square_notification_url
            .as_ref()
            .map(|url| Square { signature_keys: g.square_signature_key.clone(), notification_url: url.clone() }))
    }

    fn id(&self) -> GatewayId {
        GatewayId::Square
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::ALL
    }

    api_methods!(start, ops, status);

    fn pay_label(&self) -> &'static str {
        "Pay with Square"
    }

    fn verify(&self, raw: &RawCallback<'_>, _now: i64) -> Result<VerifiedEvent, VerifyError> {
        if raw.media_type() != "application/json" {
            return Err(VerifyError::UnsupportedMediaType);
        }
        let sig = raw
            .header("x-square-hmacsha256-signature")
            .ok_or(VerifyError::BadSignature("missing x-square-hmacsha256-signature"))?;
        if sig.len() > MAX_SIG {
            return Err(VerifyError::BadSignature("oversized signature header"));
        }
        let tag = STANDARD.decode(sig).map_err(|_| VerifyError::BadSignature("signature is not base64"))?;
        // verify_slice compares in constant time.
        if !self.signature_keys.iter().any(|k| mac(k, &self.notification_url, raw.body).verify_slice(&tag).is_ok()) {
            return Err(VerifyError::BadSignature("signature does not match"));
        }
        let event: Value = serde_json::from_slice(raw.body).map_err(|e| VerifyError::Malformed(e.to_string()))?;
        map_event(&event)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::headers;
    use super::*;

    const KEY: &str = "Kx3u5hZp9QvW-test";
    const URL: &str = "https://shop.example.com/api/v1/payments/square/callback";
    const BODY: &str = r#"{"merchant_id":"ML8M1AQ1GQG2K","type":"payment.updated","event_id":"6a8f5f28-54a1-4eb0-a98a-3111513fd4fc","created_at":"2024-01-01T12:00:00Z","data":{"type":"payment","id":"hYy9pRFVxpDsO1FB05SunFWUe9JZY","object":{"payment":{"id":"hYy9pRFVxpDsO1FB05SunFWUe9JZY","status":"COMPLETED","reference_id":"ord_42","amount_money":{"amount":1999,"currency":"USD"}}}}}"#;
    // No vector in gateways.md. Computed independently, once, with Python:
    //   base64.b64encode(hmac.new(KEY.encode(), (URL + BODY).encode(), hashlib.sha256).digest())
    const SIG: &str = "1gtswov0ymeG9JHL4pchBA5gyC9Me5nz1rHPwGcVGTE=";

    fn gw(keys: &[&str]) -> Square {
        Square { signature_keys: keys.iter().map(|k| k.to_string()).collect(), notification_url: URL.into() }
    }

    fn call(g: &Square, ct: &str, sig: Option<&str>, body: &str) -> Result<VerifiedEvent, VerifyError> {
        let mut hs = vec![("content-type", ct)];
        hs.extend(sig.map(|s| ("x-square-hmacsha256-signature", s)));
        let h = headers(&hs);
        g.verify(&RawCallback { headers: &h, body: body.as_bytes(), uri: "/api/v1/payments/square/callback" }, 0)
    }

    fn signed(body: &str) -> Result<VerifiedEvent, VerifyError> {
        call(&gw(&["new", KEY]), "application/json", Some(&signature(KEY, URL, body.as_bytes())), body)
    }

    #[test]
    fn reproduces_the_independent_vector() {
        assert_eq!(signature(KEY, URL, BODY.as_bytes()), SIG);
    }

    #[test]
    fn verifies_and_maps() {
        let ev = call(&gw(&[KEY]), "application/json", Some(SIG), BODY).unwrap();
        assert_eq!(ev.event_id, "6a8f5f28-54a1-4eb0-a98a-3111513fd4fc");
        assert_eq!(ev.kind, EventKind::Succeeded);
        assert_eq!(ev.order_id.as_deref(), Some("ord_42"));
        assert_eq!(ev.payment_id, "hYy9pRFVxpDsO1FB05SunFWUe9JZY");
        assert_eq!((ev.amount_minor, ev.currency.as_deref()), (Some(1999), Some("USD")));
        assert_eq!(ev.three_ds, None);
    }

    #[test]
    fn refuses_forgeries() {
        let g = gw(&[KEY]);
        assert!(matches!(
            call(&gw(&["other"]), "application/json", Some(SIG), BODY),
            Err(VerifyError::BadSignature(_))
        ));
        let changed = BODY.replace("1999", "1899");
        assert!(matches!(call(&g, "application/json", Some(SIG), &changed), Err(VerifyError::BadSignature(_))));
        let other_url = Square { signature_keys: vec![KEY.into()], notification_url: format!("{URL}/") };
        assert!(matches!(call(&other_url, "application/json", Some(SIG), BODY), Err(VerifyError::BadSignature(_))));
        let forged = SIG.replacen('1', "2", 1);
        assert!(matches!(call(&g, "application/json", Some(&forged), BODY), Err(VerifyError::BadSignature(_))));
        assert!(matches!(call(&g, "application/json", None, BODY), Err(VerifyError::BadSignature(_))));
        let long = "A".repeat(MAX_SIG + 4);
        assert!(matches!(call(&g, "application/json", Some(&long), BODY), Err(VerifyError::BadSignature(_))));
        assert_eq!(call(&g, "text/plain", Some(SIG), BODY).unwrap_err(), VerifyError::UnsupportedMediaType);
    }

    #[test]
    fn rotation_and_statuses() {
        for (status, expected) in [
            ("COMPLETED", EventKind::Succeeded),
            ("APPROVED", EventKind::Authorized),
            ("PENDING", EventKind::RequiresAction),
            ("FAILED", EventKind::Failed),
            ("CANCELED", EventKind::Failed),
        ] {
            let body = BODY.replace("COMPLETED", status);
            assert_eq!(signed(&body).unwrap().kind, expected, "{status}");
        }
        assert_eq!(signed(&BODY.replace("payment.updated", "payment.created")).unwrap().kind, EventKind::Succeeded);
        let refund = r#"{"type":"refund.updated","event_id":"e2","data":{"type":"refund","id":"r1","object":{"refund":{"id":"r1","status":"COMPLETED","payment_id":"p1","amount_money":{"amount":500,"currency":"JPY"}}}}}"#;
        let ev = signed(refund).unwrap();
        assert_eq!((ev.kind, ev.payment_id.as_str(), ev.amount_minor), (EventKind::Refunded, "p1", Some(500)));
        let other_ev =
            r#"{"type":"customer.created","event_id":"e3","data":{"type":"customer","id":"c1","object":{}}}"#;
        assert_eq!(signed(other_ev).unwrap().kind, EventKind::Other("customer.created".into()));
        assert!(matches!(signed(&BODY.replace("1999", "-1")), Err(VerifyError::Malformed(_))));
    }
}
