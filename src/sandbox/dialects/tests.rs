//! Every rendered event verifies through the matching adapter and maps to the expected event.

use std::sync::{Arc, OnceLock};

use poem::http::{HeaderMap, HeaderName, HeaderValue};
use rsa::pkcs8::{EncodePublicKey, LineEnding};
use rsa::RsaPrivateKey;

use super::{callback_path, Event, Speaker, Voice};
use crate::payments::gateways::allsecure::{dialect::AllSecureVoice, AllSecure};
use crate::payments::gateways::dotpay::{dialect::DotpayVoice, Dotpay};
use crate::payments::gateways::freedompay::{dialect::FreedomPayVoice, FreedomPay};
use crate::payments::gateways::paypal::{dialect::PayPalVoice, PayPal};
use crate::payments::gateways::sandbox::{dialect::SandboxVoice, Sandbox};
use crate::payments::gateways::square::{dialect::SquareVoice, Square};
use crate::payments::gateways::stripe::{dialect::StripeVoice, Stripe};
use crate::payments::gateways::twocheckout::{dialect::TwoCheckoutVoice, TwoCheckout};
use crate::payments::gateways::{EventKind, Gateway, GatewayId, RawCallback, ThreeDs, VerifiedEvent, VerifyError};
use crate::sandbox::model::SandboxPayment;

const NOW: i64 = 1_704_110_400;
const NOTIFY: &str = "https://shop.example/api/v1/payments/square/callback";

/// One RSA key for every test (slow to generate in debug builds; the size is irrelevant here).
fn rsa_key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| RsaPrivateKey::new(&mut rand::thread_rng(), 1024).unwrap())
}

/// The sandbox speaking `d`, and the adapter holding the same secrets (plus an older one).
fn pair(d: GatewayId) -> (Voice, Box<dyn Gateway>) {
    let old = || "an-older-secret".to_string();
    let (speaker, gw): (Box<dyn Speaker>, Box<dyn Gateway>) = match d {
        GatewayId::Sandbox => (
            Box::new(SandboxVoice { key: vec![7; 32] }),
            Box::new(Sandbox { keys: Arc::new(vec![vec![1; 32], vec![7; 32]]) }),
        ),
        GatewayId::Stripe => (
            Box::new(StripeVoice { secret: "whsec_test".into() }),
            Box::new(Stripe { secrets: vec!["whsec_old".into(), "whsec_test".into()] }),
        ),
        GatewayId::FreedomPay => (
            Box::new(FreedomPayVoice { merchant_id: "555".into(), secret: "fp-secret".into() }),
            Box::new(FreedomPay { merchant_id: "555".into(), secret_keys: vec![old(), "fp-secret".into()] }),
        ),
        GatewayId::TwoCheckout => (
            Box::new(TwoCheckoutVoice { secret: "2co-secret".into() }),
            Box::new(TwoCheckout { merchant_code: "M1".into(), secret_keys: vec!["2co-secret".into()] }),
        ),
        GatewayId::AllSecure => (
            Box::new(AllSecureVoice { secret: "as-secret".into() }),
            Box::new(AllSecure { api_key: "k".into(), shared_secrets: vec![old(), "as-secret".into()] }),
        ),
        GatewayId::PayPal => {
            let pem = rsa_key().to_public_key().to_public_key_pem(LineEnding::LF).unwrap();
            (
                Box::new(PayPalVoice { webhook_id: "WH1".into(), key: Box::new(rsa_key().clone()) }),
                Box::new(PayPal { webhook_id: "WH1".into(), certificates: vec![pem.into_bytes()] }),
            )
        }
        GatewayId::Dotpay => (
            Box::new(DotpayVoice { shop_id: "123456".into(), pin: "PIN123".into() }),
            Box::new(Dotpay { shop_id: "123456".into(), pins: vec!["PIN123".into()] }),
        ),
        GatewayId::Square => (
            Box::new(SquareVoice { key: "sq-key".into(), notification_url: NOTIFY.into() }),
            Box::new(Square { signature_keys: vec!["sq-key".into()], notification_url: NOTIFY.into() }),
        ),
    };
    (Voice::new(d, speaker), gw)
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
    let uri = callback_path(voice.dialect());
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
fn expressible(d: GatewayId, kind: &str) -> bool {
    match d {
        GatewayId::FreedomPay => matches!(kind, "payment.succeeded" | "payment.failed"),
        GatewayId::PayPal | GatewayId::Square => kind != "payment.requires_action",
        _ => true,
    }
}

#[test]
fn every_dialect_verifies_through_its_adapter_and_maps() {
    for &d in GatewayId::ALL {
        let (voice, gw) = pair(d);
        assert_eq!(voice.dialect(), d);
        assert_eq!(gw.name(), d.as_str());
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
        (GatewayId::Sandbox, Some(ThreeDs::Attempted)),
        (GatewayId::Stripe, Some(ThreeDs::Attempted)),
        (GatewayId::AllSecure, None),
        (GatewayId::PayPal, None),
    ] {
        let (voice, gw) = pair(d);
        let ev = deliver(&voice, gw.as_ref(), &p, "payment.succeeded", Some("attempted")).unwrap().unwrap();
        assert_eq!(ev.three_ds, expected, "{d:?}");
    }
    let (voice, gw) = pair(GatewayId::Stripe);
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
    for &d in GatewayId::ALL {
        let (voice, gw) = pair(d);
        let uri = callback_path(d);
        let ev = Event { kind: "payment.succeeded", payment: &p, three_ds: Some("authenticated") };
        let a = voice.render(&ev, &uri, NOW).unwrap();
        let b = voice.render(&ev, &uri, NOW).unwrap();
        // Gateways with an event id send a new one; the others identify the payment's status.
        if matches!(d, GatewayId::Sandbox | GatewayId::Stripe | GatewayId::PayPal | GatewayId::Square) {
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
    for &d in GatewayId::ALL {
        let ev = Event { kind: "payment.teleported", payment: &p, three_ds: None };
        assert!(pair(d).0.render(&ev, &callback_path(d), NOW).is_none(), "{d:?}");
    }
}

#[test]
fn freedompay_signs_with_the_script_it_is_posted_to() {
    let (voice, gw) = pair(GatewayId::FreedomPay);
    let p = payment("KZT", 50000, "4242");
    let cb =
        voice.render(&Event { kind: "payment.succeeded", payment: &p, three_ds: None }, "/pay/result", NOW).unwrap();
    let h = header_map(voice.headers(&cb, NOW));
    assert!(gw.verify(&RawCallback { headers: &h, body: &cb.body, uri: "/pay/result" }, NOW).is_ok());
    assert!(gw.verify(&RawCallback { headers: &h, body: &cb.body, uri: "/pay/callback" }, NOW).is_err());
}

#[test]
fn dialect_names_round_trip_and_replies_are_checked() {
    for &d in GatewayId::ALL {
        assert_eq!(d.as_str().parse::<GatewayId>(), Ok(d));
    }
    assert_eq!(callback_path(GatewayId::Sandbox), "/api/v1/payments/sandbox/callback");
    assert_eq!(callback_path(GatewayId::Stripe), "/api/v1/payments/sandbox/stripe/callback");
    assert!("paybox".parse::<GatewayId>().is_err());
    let acknowledged = |d: GatewayId, body: &str| d.dialect().acknowledged(body);
    assert!(acknowledged(GatewayId::FreedomPay, "<response><pg_status>ok</pg_status></response>"));
    assert!(!acknowledged(GatewayId::FreedomPay, "<response><pg_status>error</pg_status></response>"));
    assert!(acknowledged(GatewayId::AllSecure, "OK") && !acknowledged(GatewayId::Dotpay, "{\"received\":true}"));
    assert!(acknowledged(GatewayId::TwoCheckout, r#"<sig algo="sha256" date="20240101120000">ab</sig>"#));
    assert!(acknowledged(GatewayId::Stripe, ""));
}
