//! Every rendered event verifies through the matching adapter and maps to the expected event.

use std::sync::{Arc, OnceLock};

use poem::http::{HeaderMap, HeaderName, HeaderValue};
use rsa::pkcs8::{EncodePublicKey, LineEnding};
use rsa::RsaPrivateKey;

use super::{Dialect, Event, Voice};
use crate::payments::gateways::{
    allsecure::AllSecure, dotpay::Dotpay, freedompay::FreedomPay, paypal::PayPal, sandbox::Sandbox, square::Square,
    stripe::Stripe, twocheckout::TwoCheckout, EventKind, Gateway, RawCallback, ThreeDs, VerifiedEvent, VerifyError,
};
use crate::sandbox::model::SandboxPayment;

const NOW: i64 = 1_704_110_400;
const NOTIFY: &str = "https://shop.example/api/v1/payments/square/callback";

/// One RSA key for every test (slow to generate in debug builds; the size is irrelevant here).
fn rsa_key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| RsaPrivateKey::new(&mut rand::thread_rng(), 1024).unwrap())
}

/// The sandbox speaking `d`, and the adapter holding the same secrets (plus an older one).
fn pair(d: Dialect) -> (Voice, Box<dyn Gateway>) {
    let old = || "an-older-secret".to_string();
    match d {
        Dialect::Sandbox => {
            (Voice::Sandbox { key: vec![7; 32] }, Box::new(Sandbox { keys: Arc::new(vec![vec![1; 32], vec![7; 32]]) }))
        }
        Dialect::Stripe => (
            Voice::Stripe { secret: "whsec_test".into() },
            Box::new(Stripe { secrets: vec!["whsec_old".into(), "whsec_test".into()] }),
        ),
        Dialect::FreedomPay => (
            Voice::FreedomPay { merchant_id: "555".into(), secret: "fp-secret".into() },
            Box::new(FreedomPay { merchant_id: "555".into(), secret_keys: vec![old(), "fp-secret".into()] }),
        ),
        Dialect::TwoCheckout => (
            Voice::TwoCheckout { secret: "2co-secret".into() },
            Box::new(TwoCheckout { merchant_code: "M1".into(), secret_keys: vec!["2co-secret".into()] }),
        ),
        Dialect::AllSecure => (
            Voice::AllSecure { secret: "as-secret".into() },
            Box::new(AllSecure { api_key: "k".into(), shared_secrets: vec![old(), "as-secret".into()] }),
        ),
        Dialect::PayPal => {
            let pem = rsa_key().to_public_key().to_public_key_pem(LineEnding::LF).unwrap();
            (
                Voice::PayPal { webhook_id: "WH1".into(), key: Box::new(rsa_key().clone()) },
                Box::new(PayPal { webhook_id: "WH1".into(), certificates: vec![pem.into_bytes()] }),
            )
        }
        Dialect::Dotpay => (
            Voice::Dotpay { shop_id: "123456".into(), pin: "PIN123".into() },
            Box::new(Dotpay { shop_id: "123456".into(), pins: vec!["PIN123".into()] }),
        ),
        Dialect::Square => (
            Voice::Square { key: "sq-key".into(), notification_url: NOTIFY.into() },
            Box::new(Square { signature_keys: vec!["sq-key".into()], notification_url: NOTIFY.into() }),
        ),
    }
}

fn payment(currency: &str, amount_minor: i64, card: &str) -> SandboxPayment {
    SandboxPayment {
        id: crate::crypto::random_id("sbp"),
        order_id: crate::crypto::random_id("ord"),
        amount_minor,
        currency: currency.into(),
        card_last4: card.into(),
        status: crate::payments::model::PaymentStatus::Succeeded,
        three_ds: None,
        created_at: NOW - 60,
        refunded_minor: 0,
    }
}

fn header_map(pairs: Vec<(&'static str, String)>) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(HeaderName::from_static(k), HeaderValue::from_str(&v).unwrap());
    }
    h
}

/// Renders and sends `kind` through the adapter; `None` when the dialect cannot express it.
fn deliver(
    voice: &Voice,
    gw: &dyn Gateway,
    p: &SandboxPayment,
    kind: &str,
    three_ds: Option<&str>,
) -> Option<Result<VerifiedEvent, VerifyError>> {
    let uri = voice.dialect().callback_path();
    let cb = voice.render(&Event { kind, payment: p, three_ds }, &uri, NOW)?;
    assert_eq!(cb.uri, uri);
    // A retry 90 s later is signed afresh and still verifies then.
    let h = header_map(voice.headers(&cb, NOW + 90));
    Some(gw.verify(&RawCallback { headers: &h, body: &cb.body, uri: &uri }, NOW + 90))
}

const KINDS: [(&str, Option<&str>); 4] = [
    ("payment.requires_action", None),
    ("payment.succeeded", Some("authenticated")),
    ("payment.failed", Some("failed")),
    ("refund.succeeded", Some("authenticated")),
];

/// Which kinds each gateway can express.
fn expressible(d: Dialect, kind: &str) -> bool {
    match d {
        Dialect::FreedomPay => matches!(kind, "payment.succeeded" | "payment.failed"),
        Dialect::PayPal | Dialect::Square => kind != "payment.requires_action",
        _ => true,
    }
}

#[test]
fn every_dialect_verifies_through_its_adapter_and_maps() {
    for d in Dialect::ALL {
        let (voice, gw) = pair(d);
        assert_eq!(voice.dialect(), d);
        assert_eq!(gw.name(), d.name());
        for (currency, amount, decimal) in [("EUR", 1990, "19.90"), ("JPY", 2500, "2500"), ("KZT", 50000, "500.00")] {
            let p = payment(currency, amount, "4242");
            let mut payment_ids = vec![];
            let mut event_ids = vec![];
            for (kind, three_ds) in KINDS {
                let Some(result) = deliver(&voice, gw.as_ref(), &p, kind, three_ds) else {
                    assert!(!expressible(d, kind), "{d:?} should express {kind}");
                    continue;
                };
                assert!(expressible(d, kind), "{d:?} has no way to express {kind}");
                let ev = result.unwrap_or_else(|e| panic!("{d:?} {kind} {currency}: {e}"));
                let expected = match kind {
                    "payment.succeeded" => EventKind::Succeeded,
                    "payment.failed" => EventKind::Failed,
                    "payment.requires_action" => EventKind::RequiresAction,
                    _ => EventKind::Refunded,
                };
                assert_eq!(ev.kind, expected, "{d:?} {kind}");
                // Refunds may name only the payment (the service finds the order through it).
                if kind != "refund.succeeded" || ev.order_id.is_some() {
                    assert_eq!(ev.order_id.as_deref(), Some(p.order_id.as_str()), "{d:?} {kind}");
                }
                if ev.amount_minor.is_some() || kind != "payment.requires_action" {
                    assert_eq!(ev.amount_minor, Some(amount), "{d:?} {kind} {decimal}");
                    assert_eq!(ev.currency.as_deref(), Some(currency), "{d:?} {kind}");
                }
                payment_ids.push(ev.payment_id);
                event_ids.push(ev.event_id);
            }
            payment_ids.dedup();
            assert_eq!(payment_ids.len(), 1, "{d:?}: every event names the same payment");
            let n = event_ids.len();
            event_ids.sort();
            event_ids.dedup();
            assert_eq!(event_ids.len(), n, "{d:?}: each event has its own identity");
        }
    }
}

#[test]
fn three_d_secure_travels_where_the_gateway_reports_it() {
    let p = payment("EUR", 1990, "3220");
    for (d, expected) in [
        (Dialect::Sandbox, Some(ThreeDs::Attempted)),
        (Dialect::Stripe, Some(ThreeDs::Attempted)),
        (Dialect::AllSecure, None),
        (Dialect::PayPal, None),
    ] {
        let (voice, gw) = pair(d);
        let ev = deliver(&voice, gw.as_ref(), &p, "payment.succeeded", Some("attempted")).unwrap().unwrap();
        assert_eq!(ev.three_ds, expected, "{d:?}");
    }
    let (voice, gw) = pair(Dialect::Stripe);
    for (three_ds, expected) in [
        ("authenticated", Some(ThreeDs::Authenticated)),
        ("exempted", Some(ThreeDs::Exempted)),
        ("failed", Some(ThreeDs::Failed)),
        ("not_performed", None),
    ] {
        let ev = deliver(&voice, gw.as_ref(), &p, "payment.succeeded", Some(three_ds)).unwrap().unwrap();
        assert_eq!(ev.three_ds, expected, "{three_ds}");
    }
    // A declined card after a passed challenge reports the authentication on its charge.
    let ev = deliver(&voice, gw.as_ref(), &p, "payment.failed", Some("authenticated")).unwrap().unwrap();
    assert_eq!((ev.kind, ev.three_ds), (EventKind::Failed, Some(ThreeDs::Authenticated)));
}

#[test]
fn each_delivery_is_a_new_event_and_other_secrets_do_not_verify() {
    let p = payment("EUR", 1990, "4242");
    for d in Dialect::ALL {
        let (voice, gw) = pair(d);
        let uri = d.callback_path();
        let ev = Event { kind: "payment.succeeded", payment: &p, three_ds: Some("authenticated") };
        let a = voice.render(&ev, &uri, NOW).unwrap();
        let b = voice.render(&ev, &uri, NOW).unwrap();
        // Gateways with an event id send a new one; the others identify the payment's status.
        if matches!(d, Dialect::Sandbox | Dialect::Stripe | Dialect::PayPal | Dialect::Square) {
            assert_ne!(a.event_id, b.event_id, "{d:?}");
        }
        // One byte changed after signing is refused.
        let h = header_map(voice.headers(&a, NOW));
        let mut body = a.body.clone();
        let at = body.iter().position(|&c| c == b'4').unwrap_or(body.len() / 2);
        body[at] = if body[at] == b'4' { b'5' } else { body[at] ^ 1 };
        let raw = RawCallback { headers: &h, body: &body, uri: &uri };
        assert!(matches!(gw.verify(&raw, NOW), Err(VerifyError::BadSignature(_))), "{d:?}");
    }
    // An unknown kind is expressed by no one.
    for d in Dialect::ALL {
        let ev = Event { kind: "payment.teleported", payment: &p, three_ds: None };
        assert!(pair(d).0.render(&ev, &d.callback_path(), NOW).is_none(), "{d:?}");
    }
}

#[test]
fn freedompay_signs_with_the_script_it_is_posted_to() {
    let (voice, gw) = pair(Dialect::FreedomPay);
    let p = payment("KZT", 50000, "4242");
    let cb =
        voice.render(&Event { kind: "payment.succeeded", payment: &p, three_ds: None }, "/pay/result", NOW).unwrap();
    let h = header_map(voice.headers(&cb, NOW));
    assert!(gw.verify(&RawCallback { headers: &h, body: &cb.body, uri: "/pay/result" }, NOW).is_ok());
    assert!(gw.verify(&RawCallback { headers: &h, body: &cb.body, uri: "/pay/callback" }, NOW).is_err());
}

#[test]
fn dialect_names_round_trip_and_replies_are_checked() {
    for d in Dialect::ALL {
        assert_eq!(Dialect::parse(d.name()), Some(d));
    }
    assert_eq!(Dialect::Sandbox.callback_path(), "/api/v1/payments/sandbox/callback");
    assert_eq!(Dialect::Stripe.callback_path(), "/api/v1/payments/sandbox/stripe/callback");
    assert_eq!(Dialect::parse("paybox"), None);
    assert!(Dialect::FreedomPay.acknowledged("<response><pg_status>ok</pg_status></response>"));
    assert!(!Dialect::FreedomPay.acknowledged("<response><pg_status>error</pg_status></response>"));
    assert!(Dialect::AllSecure.acknowledged("OK") && !Dialect::Dotpay.acknowledged("{\"received\":true}"));
    assert!(Dialect::TwoCheckout.acknowledged(r#"<sig algo="sha256" date="20240101120000">ab</sig>"#));
    assert!(Dialect::Stripe.acknowledged(""));
}
