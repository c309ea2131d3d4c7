//! Stripe webhooks: `Stripe-Signature: t=<unix>,v1=<hex>…`, HMAC-SHA256 over `"<t>." + raw body`
//! keyed by the endpoint secret string as given; PaymentIntent (incl. authorisations for manual
//! capture), Checkout Session and Charge events. Every payment is named by its PaymentIntent id.

pub mod dialect;
pub mod ops;
pub mod settings;
pub mod start;
pub mod status;

use std::sync::Arc;

use crate::config::Settings;
use crate::payments::gateways::{api_methods, Capabilities, GatewayFolder, GatewayId};
use crate::sandbox::dialects::SandboxDialect;

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::{
    checked_currency, checked_id, other, within, EventKind, Gateway, RawCallback, SubscriptionEvent, SubscriptionRef,
    ThreeDs, VerifiedEvent, VerifyError,
};

/// Accepted distance between the signed `t=` and now, both directions.
pub const TOLERANCE_SECS: i64 = 300;
/// Longest `Stripe-Signature` header we read.
const MAX_HEADER: usize = 2048;

/// The Stripe adapter.
pub struct Stripe {
    /// Endpoint secrets (`whsec_…`), newest first: a signature by any of them is accepted.
    pub secrets: Vec<String>,
}

fn mac(secret: &str, t: &str, body: &[u8]) -> Hmac<Sha256> {
    let mut m = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    m.update(t.as_bytes());
    m.update(b".");
    m.update(body);
    m
}

/// The `Stripe-Signature` header Stripe would send for `body` at time `t`.
pub fn signature_header(secret: &str, t: i64, body: &[u8]) -> String {
    let tag = mac(secret, &t.to_string(), body).finalize().into_bytes();
    format!("t={t},v1={}", hex::encode(tag))
}

/// Verifies a `Stripe-Signature` header over the raw body; returns the signed timestamp.
pub fn verify_header(secrets: &[String], header: Option<&str>, body: &[u8], now: i64) -> Result<i64, VerifyError> {
    let header = header.ok_or(VerifyError::BadSignature("missing Stripe-Signature"))?;
    if header.len() > MAX_HEADER {
        return Err(VerifyError::BadSignature("oversized Stripe-Signature"));
    }
    let mut t = None;
    let mut candidates = Vec::new();
    for (k, v) in header.split(',').filter_map(|part| part.trim().split_once('=')) {
        match k {
            "t" if t.is_some() => return Err(VerifyError::BadSignature("repeated t=")),
            "t" => t = Some(v),
            "v1" => candidates.extend(hex::decode(v).ok().filter(|s| s.len() == 32)),
            _ => {}
        }
    }
    let t_str = t.ok_or(VerifyError::BadSignature("no t= in Stripe-Signature"))?;
    if t_str.is_empty() || t_str.len() > 12 || !t_str.bytes().all(|b| b.is_ascii_digit()) {
        return Err(VerifyError::BadSignature("t= is not a unix time"));
    }
    let t: i64 = t_str.parse().map_err(|_| VerifyError::BadSignature("t= is not a unix time"))?;
    if candidates.is_empty() {
        return Err(VerifyError::BadSignature("no v1= signature"));
    }
    // verify_slice compares in constant time.
    let matches = secrets.iter().any(|s| candidates.iter().any(|c| mac(s, t_str, body).verify_slice(c).is_ok()));
    if !matches {
        return Err(VerifyError::BadSignature("no signature matches"));
    }
    if !within(now, t, TOLERANCE_SECS) {
        return Err(VerifyError::StaleTimestamp);
    }
    Ok(t)
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

/// Stripe's 3-D Secure `result` → ours. `processing_error` and `data_share_only` mean no
/// authentication happened (guess: treated as not performed); unknown values → `None`.
fn three_ds(result: &str) -> Option<ThreeDs> {
    match result {
        "processing_error" | "data_share_only" => Some(ThreeDs::NotPerformed),
        other => ThreeDs::parse(other),
    }
}

fn three_ds_of(obj: &Value) -> Option<ThreeDs> {
    const RESULT: &str = "/payment_method_details/card/three_d_secure/result";
    ["/charges/data/0", "/latest_charge", ""]
        .iter()
        .find_map(|prefix| str_at(obj, &format!("{prefix}{RESULT}")))
        .and_then(three_ds)
}

/// The id at `pointer`: a string, or an expanded object's `id`.
fn id_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    let at = v.pointer(pointer)?;
    at.as_str().or_else(|| at.get("id").and_then(Value::as_str)).filter(|s| !s.is_empty())
}

/// The payment a Checkout Session is about: its PaymentIntent (mode `payment`), else the first
/// invoice of the subscription it created (mode `subscription`, where it has no PaymentIntent),
/// else the session itself. The status API answers with the same id, so both name one payment.
pub(crate) fn session_payment(session: &Value) -> Option<&str> {
    id_at(session, "/payment_intent").or_else(|| id_at(session, "/invoice")).or_else(|| id_at(session, "/id"))
}

/// An invoice's subscription and our order id: `parent.subscription_details` since API version
/// 2025-03-31.basil, top-level `subscription` / `subscription_details` before it; the
/// subscription's metadata is also copied onto its invoice lines.
fn invoice_subscription(inv: &Value) -> (Option<&str>, Option<&str>) {
    let sub = id_at(inv, "/parent/subscription_details/subscription").or_else(|| id_at(inv, "/subscription"));
    let order = [
        "/parent/subscription_details/metadata/order_id",
        "/subscription_details/metadata/order_id",
        "/lines/data/0/metadata/order_id",
        "/metadata/order_id",
    ]
    .iter()
    .find_map(|p| str_at(inv, p));
    (sub, order)
}

fn subscription(id: Option<&str>, event: SubscriptionEvent) -> Result<Option<SubscriptionRef>, VerifyError> {
    id.map(|id| Ok(SubscriptionRef { id: checked_id("subscription id", id, 255)?, event })).transpose()
}

/// Maps a verified Event JSON.
fn map_event(event: &Value) -> Result<VerifiedEvent, VerifyError> {
    let malformed = |m: &str| VerifyError::Malformed(m.to_string());
    let event_id = checked_id("id", str_at(event, "/id").ok_or_else(|| malformed("missing id"))?, 255)?;
    let kind = str_at(event, "/type").ok_or_else(|| malformed("missing type"))?;
    let obj =
        event.pointer("/data/object").filter(|o| o.is_object()).ok_or_else(|| malformed("missing data.object"))?;
    let object_id = str_at(obj, "/id").ok_or_else(|| malformed("missing data.object.id"))?;
    // Later events of one payment carry its PaymentIntent id, so they update the same payment.
    let intent_or_object = str_at(obj, "/payment_intent").unwrap_or(object_id);
    let mut order_id = str_at(obj, "/metadata/order_id").or_else(|| str_at(obj, "/client_reference_id"));
    let mut sub = None;
    let (kind, amount_field, payment_id) = match kind {
        "payment_intent.succeeded" => (EventKind::Succeeded, "amount", object_id),
        "payment_intent.payment_failed" => (EventKind::Failed, "amount", object_id),
        "payment_intent.requires_action" => (EventKind::RequiresAction, "amount", object_id),
        // Manual capture: the card is authorised for `amount_capturable`; capture comes later.
        "payment_intent.amount_capturable_updated" => {
            let capturable = str_at(obj, "/status") == Some("requires_capture");
            (if capturable { EventKind::Authorized } else { other(kind) }, "amount_capturable", object_id)
        }
        "checkout.session.completed" | "checkout.session.async_payment_succeeded" => {
            let paid = str_at(obj, "/payment_status") == Some("paid");
            if paid {
                sub = subscription(id_at(obj, "/subscription"), SubscriptionEvent::FirstCharge)?;
            }
            let payment = session_payment(obj).unwrap_or(object_id);
            (if paid { EventKind::Succeeded } else { other(kind) }, "amount_total", payment)
        }
        "checkout.session.async_payment_failed" => {
            (EventKind::Failed, "amount_total", session_payment(obj).unwrap_or(object_id))
        }
        // A subscription's charge, first or renewal; its payment is the invoice.
        "invoice.paid" | "invoice.payment_succeeded" => {
            let (sub_id, order) = invoice_subscription(obj);
            order_id = order;
            let place = match str_at(obj, "/billing_reason") {
                Some("subscription_create") => Some(SubscriptionEvent::FirstCharge),
                Some("subscription_cycle") => Some(SubscriptionEvent::CycleCharge),
                // Prorations, thresholds, manual invoices: recorded, they renew nothing.
                _ => None,
            };
            match (sub_id, place) {
                (Some(id), Some(place)) => {
                    sub = subscription(Some(id), place)?;
                    (EventKind::Succeeded, "amount_paid", object_id)
                }
                _ => (other(kind), "amount_paid", object_id),
            }
        }
        "customer.subscription.deleted" => {
            sub = subscription(Some(object_id), SubscriptionEvent::Ended)?;
            (other(kind), "", object_id)
        }
        // Since API version 2025-03-31.basil the charges of a subscription's invoice no longer
        // name it: this event links the PaymentIntent (or Charge) that paid it to the invoice.
        "invoice_payment.paid" => {
            // `payment.payment_intent` / `payment.charge`; preview versions put them on top.
            let paid_by = ["/payment/payment_intent", "/payment/charge", "/payment_intent", "/charge"]
                .iter()
                .find_map(|p| id_at(obj, p));
            match (paid_by, id_at(obj, "/invoice"), str_at(obj, "/status")) {
                (Some(by), Some(invoice), Some("paid")) => {
                    (EventKind::AlsoKnownAs(checked_id("payment", by, 255)?), "amount_paid", invoice)
                }
                _ => (other(kind), "amount_paid", object_id),
            }
        }
        // A subscription's charge is known by its invoice (older API versions name it here).
        "charge.refunded" => {
            (EventKind::Refunded, "amount_refunded", id_at(obj, "/invoice").unwrap_or(intent_or_object))
        }
        _ => (other(kind), "amount", object_id),
    };
    let amount_minor = match obj.get(amount_field) {
        None | Some(Value::Null) => None,
        Some(v) => {
            Some(v.as_i64().filter(|a| *a >= 0).ok_or_else(|| malformed("amount must be a non-negative integer"))?)
        }
    };
    let currency = str_at(obj, "/currency").map(checked_currency).transpose()?;
    Ok(VerifiedEvent {
        event_id,
        kind,
        order_id: order_id.map(str::to_string),
        payment_id: checked_id("payment id", payment_id, 255)?,
        amount_minor,
        currency,
        three_ds: three_ds_of(obj),
        subscription: sub,
    })
}

impl GatewayFolder for Stripe {
    type Settings = settings::StripeSettings;
    const DIALECT: &'static dyn SandboxDialect = &dialect::StripeDialect;
}

impl Gateway for Stripe {
    fn from_settings(s: &Settings, _sandbox_keys: &Arc<Vec<Vec<u8>>>) -> anyhow::Result<Option<Self>> {
        let secrets = &s.gateways.stripe.stripe_webhook_secret;
        Ok((!secrets.is_empty()).then(|| Stripe { secrets: secrets.clone() }))
    }

    fn id(&self) -> GatewayId {
        GatewayId::Stripe
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::ALL
    }

    api_methods!(start, ops, status);

    fn pay_label(&self) -> &'static str {
        "Pay by card (Stripe)"
    }

    fn verify(&self, raw: &RawCallback<'_>, now: i64) -> Result<VerifiedEvent, VerifyError> {
        if raw.media_type() != "application/json" {
            return Err(VerifyError::UnsupportedMediaType);
        }
        verify_header(&self.secrets, raw.header("stripe-signature"), raw.body, now)?;
        let event: Value = serde_json::from_slice(raw.body).map_err(|e| VerifyError::Malformed(e.to_string()))?;
        map_event(&event)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::headers;
    use super::*;

    const SECRET: &str = "whsec_test_secret";
    const T: i64 = 1_700_000_000;
    const BODY: &str = r#"{"id":"evt_test_1","object":"event","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","object":"payment_intent","status":"succeeded","amount":1999,"currency":"usd","metadata":{"order_id":"ord_42"}}}}"#;
    const V1: &str = "2435e791f90da93724eaa767850ff78a3f0039e922ea94e57ab37233f40f0ef5";

    fn stripe() -> Stripe {
        Stripe { secrets: vec![SECRET.into()] }
    }

    fn call(g: &Stripe, ct: &str, sig: &str, body: &str, now: i64) -> Result<VerifiedEvent, VerifyError> {
        let h = headers(&[("content-type", ct), ("stripe-signature", sig)]);
        g.verify(&RawCallback { headers: &h, body: body.as_bytes(), uri: "/api/v1/payments/stripe/callback" }, now)
    }

    #[test]
    fn reproduces_the_reference_vector() {
        assert_eq!(signature_header(SECRET, T, BODY.as_bytes()), format!("t={T},v1={V1}"));
    }

    #[test]
    fn verifies_and_maps_a_succeeded_payment_intent() {
        let sig = format!("t={T},v1={V1}");
        let ev = call(&stripe(), "application/json; charset=utf-8", &sig, BODY, T + 10).unwrap();
        assert_eq!(ev.event_id, "evt_test_1");
        assert_eq!(ev.kind, EventKind::Succeeded);
        assert_eq!(ev.order_id.as_deref(), Some("ord_42"));
        assert_eq!(ev.payment_id, "pi_1");
        assert_eq!((ev.amount_minor, ev.currency.as_deref()), (Some(1999), Some("USD")));
        assert_eq!(ev.three_ds, None);
    }

    #[test]
    fn refuses_forgeries_and_stale_or_bad_headers() {
        let g = stripe();
        let good = format!("t={T},v1={V1}");
        let forged = format!("t={T},v1={}", "0".repeat(64));
        assert!(matches!(call(&g, "application/json", &forged, BODY, T), Err(VerifyError::BadSignature(_))));
        let changed = BODY.replace("1999", "1998");
        assert!(matches!(call(&g, "application/json", &good, &changed, T), Err(VerifyError::BadSignature(_))));
        let wrong = Stripe { secrets: vec!["whsec_other".into()] };
        assert!(matches!(call(&wrong, "application/json", &good, BODY, T), Err(VerifyError::BadSignature(_))));
        assert_eq!(call(&g, "application/json", &good, BODY, T + 301).unwrap_err(), VerifyError::StaleTimestamp);
        assert_eq!(call(&g, "application/json", &good, BODY, T - 301).unwrap_err(), VerifyError::StaleTimestamp);
        assert!(call(&g, "application/json", &good, BODY, T + 300).is_ok());
        let oversized = format!("{good},{}", "x".repeat(MAX_HEADER));
        assert!(matches!(call(&g, "application/json", &oversized, BODY, T), Err(VerifyError::BadSignature(_))));
        assert!(matches!(
            call(&g, "application/json", &format!("v1={V1}"), BODY, T),
            Err(VerifyError::BadSignature(_))
        ));
        let h = headers(&[("content-type", "application/json")]);
        let raw = RawCallback { headers: &h, body: BODY.as_bytes(), uri: "/" };
        assert!(matches!(g.verify(&raw, T), Err(VerifyError::BadSignature(_))));
        assert_eq!(call(&g, "text/plain", &good, BODY, T).unwrap_err(), VerifyError::UnsupportedMediaType);
    }

    #[test]
    fn rotation_and_several_v1_entries() {
        let g = Stripe { secrets: vec!["whsec_new".into(), SECRET.into()] };
        let sig = format!("t={T},v1={},v1={V1}", "ab".repeat(32));
        assert!(call(&g, "application/json", &sig, BODY, T).is_ok());
    }

    fn event(kind: &str, object: &str) -> String {
        format!(r#"{{"id":"evt_2","type":"{kind}","data":{{"object":{object}}}}}"#)
    }

    fn signed(body: &str) -> Result<VerifiedEvent, VerifyError> {
        call(&stripe(), "application/json", &signature_header(SECRET, T, body.as_bytes()), body, T)
    }

    #[test]
    fn maps_other_states() {
        let pi = r#"{"id":"pi_9","amount":500,"currency":"eur","metadata":{"order_id":"o1"}}"#;
        assert_eq!(signed(&event("payment_intent.payment_failed", pi)).unwrap().kind, EventKind::Failed);
        assert_eq!(signed(&event("payment_intent.requires_action", pi)).unwrap().kind, EventKind::RequiresAction);
        assert_eq!(
            signed(&event("payment_intent.created", pi)).unwrap().kind,
            EventKind::Other("payment_intent.created".into())
        );
        let ch = r#"{"id":"ch_1","payment_intent":"pi_9","amount":500,"amount_refunded":500,"currency":"eur","payment_method_details":{"card":{"three_d_secure":{"result":"authenticated"}}}}"#;
        let ev = signed(&event("charge.refunded", ch)).unwrap();
        assert_eq!((ev.kind, ev.payment_id.as_str(), ev.amount_minor), (EventKind::Refunded, "pi_9", Some(500)));
        assert_eq!(ev.three_ds, Some(ThreeDs::Authenticated));
        let cs = r#"{"id":"cs_1","payment_intent":"pi_7","payment_status":"paid","amount_total":2500,"currency":"jpy","metadata":{"order_id":"o7"}}"#;
        let ev = signed(&event("checkout.session.completed", cs)).unwrap();
        assert_eq!(ev.kind, EventKind::Succeeded);
        assert_eq!((ev.order_id.as_deref(), ev.payment_id.as_str()), (Some("o7"), "pi_7"));
        assert_eq!((ev.amount_minor, ev.currency.as_deref()), (Some(2500), Some("JPY")));
        let unpaid = cs.replace(r#""paid""#, r#""unpaid""#);
        assert_eq!(
            signed(&event("checkout.session.completed", &unpaid)).unwrap().kind,
            EventKind::Other("checkout.session.completed".into())
        );
        let negative = pi.replace("500", "-5");
        assert!(matches!(signed(&event("payment_intent.succeeded", &negative)), Err(VerifyError::Malformed(_))));
    }

    #[test]
    fn maps_subscription_events() {
        let ev = |kind: &str, obj: Value| {
            map_event(&serde_json::json!({"id": "evt_1", "type": kind, "data": {"object": obj}}))
        };
        let sub = |id: &str, event| Some(SubscriptionRef { id: id.into(), event });
        // Checkout in subscription mode: no PaymentIntent; the payment is the first invoice.
        let session = serde_json::json!({"id": "cs_1", "mode": "subscription", "payment_status": "paid", "amount_total": 990,
            "currency": "eur", "payment_intent": null, "invoice": "in_1", "subscription": "sub_1", "metadata": {"order_id": "ord_1"}});
        let e = ev("checkout.session.completed", session).unwrap();
        assert_eq!(
            (e.kind, e.payment_id.as_str(), e.order_id.as_deref()),
            (EventKind::Succeeded, "in_1", Some("ord_1"))
        );
        assert_eq!(e.subscription, sub("sub_1", SubscriptionEvent::FirstCharge));
        // An invoice before 2025-03-31.basil, and one since (`parent.subscription_details`).
        let old = serde_json::json!({"id": "in_2", "billing_reason": "subscription_cycle", "amount_paid": 990, "currency": "eur",
            "subscription": "sub_1", "subscription_details": {"metadata": {"order_id": "ord_1"}}, "payment_intent": "pi_2"});
        let e = ev("invoice.paid", old).unwrap();
        assert_eq!(
            (e.kind, e.payment_id.as_str(), e.order_id.as_deref()),
            (EventKind::Succeeded, "in_2", Some("ord_1"))
        );
        assert_eq!((e.amount_minor, e.currency.as_deref()), (Some(990), Some("EUR")));
        assert_eq!(e.subscription, sub("sub_1", SubscriptionEvent::CycleCharge));
        let basil = serde_json::json!({"id": "in_3", "billing_reason": "subscription_create", "amount_paid": 990, "currency": "eur",
            "parent": {"type": "subscription_details", "subscription_details": {"subscription": "sub_1", "metadata": {"order_id": "ord_1"}}}});
        let e = ev("invoice.payment_succeeded", basil).unwrap();
        assert_eq!((e.payment_id.as_str(), e.order_id.as_deref()), ("in_3", Some("ord_1")));
        assert_eq!(e.subscription, sub("sub_1", SubscriptionEvent::FirstCharge));
        // A proration (or an invoice of no subscription) renews nothing.
        let proration = serde_json::json!({"id": "in_4", "billing_reason": "subscription_update", "amount_paid": 10, "currency": "eur", "subscription": "sub_1"});
        let e = ev("invoice.paid", proration).unwrap();
        assert_eq!((e.kind, e.subscription), (EventKind::Other("invoice.paid".into()), None));
        let e =
            ev("customer.subscription.deleted", serde_json::json!({"id": "sub_1", "metadata": {"order_id": "ord_1"}}))
                .unwrap();
        assert_eq!(
            (e.kind, e.order_id.as_deref()),
            (EventKind::Other("customer.subscription.deleted".into()), Some("ord_1"))
        );
        assert_eq!(e.subscription, sub("sub_1", SubscriptionEvent::Ended));
        // A refund of a subscription's charge names its invoice (API versions before basil).
        let charge = serde_json::json!({"id": "ch_1", "payment_intent": "pi_2", "invoice": "in_2", "amount_refunded": 990, "currency": "eur"});
        assert_eq!(ev("charge.refunded", charge).unwrap().payment_id, "in_2");
        // Since basil: the invoice's payment names the PaymentIntent that paid it.
        let paid = serde_json::json!({"id": "inpay_1", "object": "invoice_payment", "invoice": "in_3", "status": "paid",
            "amount_paid": 990, "currency": "eur", "payment": {"type": "payment_intent", "payment_intent": "pi_3"}});
        let e = ev("invoice_payment.paid", paid.clone()).unwrap();
        assert_eq!((e.kind, e.payment_id.as_str()), (EventKind::AlsoKnownAs("pi_3".into()), "in_3"));
        let mut open = paid;
        open["status"] = "open".into();
        assert_eq!(ev("invoice_payment.paid", open).unwrap().kind, EventKind::Other("invoice_payment.paid".into()));
    }

    #[test]
    fn maps_an_authorisation_for_manual_capture() {
        let pi = r#"{"id":"pi_5","object":"payment_intent","status":"requires_capture","amount":1999,"amount_capturable":1999,"amount_received":0,"capture_method":"manual","currency":"eur","metadata":{"order_id":"o5"}}"#;
        let ev = signed(&event("payment_intent.amount_capturable_updated", pi)).unwrap();
        assert_eq!(
            (ev.kind, ev.payment_id.as_str(), ev.order_id.as_deref()),
            (EventKind::Authorized, "pi_5", Some("o5"))
        );
        assert_eq!((ev.amount_minor, ev.currency.as_deref()), (Some(1999), Some("EUR")));
        // Nothing left to capture (after a capture or a cancel): not an authorisation.
        let spent = pi
            .replace("requires_capture", "succeeded")
            .replace(r#""amount_capturable":1999"#, r#""amount_capturable":0"#);
        let ev = signed(&event("payment_intent.amount_capturable_updated", &spent)).unwrap();
        assert_eq!(ev.kind, EventKind::Other("payment_intent.amount_capturable_updated".into()));
        // The capture itself arrives as payment_intent.succeeded for the same PaymentIntent.
        let captured = pi.replace("requires_capture", "succeeded");
        let ev = signed(&event("payment_intent.succeeded", &captured)).unwrap();
        assert_eq!((ev.kind, ev.payment_id.as_str(), ev.amount_minor), (EventKind::Succeeded, "pi_5", Some(1999)));
    }

    #[test]
    fn reads_three_d_secure_from_the_charge() {
        for (result, expected) in [
            ("authenticated", Some(ThreeDs::Authenticated)),
            ("attempt_acknowledged", Some(ThreeDs::Attempted)),
            ("exempted", Some(ThreeDs::Exempted)),
            ("failed", Some(ThreeDs::Failed)),
            ("not_supported", Some(ThreeDs::NotPerformed)),
            ("something_new", None),
        ] {
            let pi = format!(
                r#"{{"id":"pi_1","amount":1,"currency":"usd","latest_charge":{{"id":"ch_1","payment_method_details":{{"card":{{"three_d_secure":{{"result":"{result}"}}}}}}}}}}"#
            );
            assert_eq!(signed(&event("payment_intent.succeeded", &pi)).unwrap().three_ds, expected, "{result}");
        }
        let legacy = r#"{"id":"pi_1","amount":1,"currency":"usd","charges":{"data":[{"payment_method_details":{"card":{"three_d_secure":{"result":"failed"}}}}]}}"#;
        assert_eq!(signed(&event("payment_intent.succeeded", legacy)).unwrap().three_ds, Some(ThreeDs::Failed));
        let none = r#"{"id":"pi_1","amount":1,"currency":"usd","latest_charge":"ch_1"}"#;
        assert_eq!(signed(&event("payment_intent.succeeded", none)).unwrap().three_ds, None);
    }
}
