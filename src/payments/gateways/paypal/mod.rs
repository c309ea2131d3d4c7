//! PayPal REST webhooks, verified offline: RSA-SHA256 (PKCS#1 v1.5) over
//! `transmission_id|transmission_time|webhook_id|crc32(raw body)` with a configured certificate.
//! A payment is named by its capture, or — for orders with intent `AUTHORIZE` — by its
//! authorisation, which its capture's `supplementary_data.related_ids` names.

pub mod certs;
pub mod dialect;
pub mod ops;
pub mod settings;
pub mod start;
pub mod status;
pub mod subscriptions;

use std::sync::Arc;

use crate::config::Settings;
use crate::payments::gateways::{api_methods, Capabilities, GatewayFolder, GatewayId};
use crate::sandbox::dialects::SandboxDialect;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use rsa::RsaPublicKey;
use serde_json::Value;
use sha2::Sha256;
use x509_cert::der::{Decode, Encode};
use x509_cert::Certificate;

use super::{
    checked_id, money_fields, other, within, EventKind, Gateway, RawCallback, ThreeDs, VerifiedEvent, VerifyError,
};

/// Accepted distance between the signed transmission time and now, both directions.
pub const TOLERANCE_SECS: i64 = 300;
/// The only `PAYPAL-AUTH-ALGO` we accept.
pub const AUTH_ALGO: &str = "SHA256withRSA";
const MAX_ID: usize = 128;
const MAX_TIME: usize = 64;
const MAX_SIG: usize = 1024;

/// The PayPal adapter.
pub struct PayPal {
    /// Our webhook id (it is part of the signed string).
    pub webhook_id: String,
    /// PEM files (a certificate, or a bare `PUBLIC KEY`), newest first: a signature by any accepted.
    pub certificates: Vec<Vec<u8>>,
}

/// The string PayPal signs.
pub fn signed_message(transmission_id: &str, transmission_time: &str, webhook_id: &str, body: &[u8]) -> String {
    format!("{transmission_id}|{transmission_time}|{webhook_id}|{}", crc32fast::hash(body))
}

/// The RSA key of a PEM file: from its first `CERTIFICATE` (the leaf of a chain), `PUBLIC KEY`
/// or `RSA PUBLIC KEY` block. Usable at startup to validate the configured file.
pub fn public_key(pem: &[u8]) -> Result<RsaPublicKey, String> {
    let mut rest = std::str::from_utf8(pem).map_err(|_| "the PEM is not UTF-8".to_string())?;
    while let Some(start) = rest.find("-----BEGIN ") {
        let block = &rest[start..];
        let label_len = block[11..].find("-----").ok_or("a PEM header is not terminated")?;
        let end_marker = format!("-----END {}-----", &block[11..11 + label_len]);
        let end = block.find(&end_marker).ok_or("a PEM block is not terminated")? + end_marker.len();
        let (label, der) = x509_cert::der::pem::decode_vec(&block.as_bytes()[..end]).map_err(|e| e.to_string())?;
        match label {
            "CERTIFICATE" => {
                let cert = Certificate::from_der(&der).map_err(|e| e.to_string())?;
                let spki = cert.tbs_certificate.subject_public_key_info.to_der().map_err(|e| e.to_string())?;
                return RsaPublicKey::from_public_key_der(&spki).map_err(|e| e.to_string());
            }
            "PUBLIC KEY" => return RsaPublicKey::from_public_key_der(&der).map_err(|e| e.to_string()),
            "RSA PUBLIC KEY" => return RsaPublicKey::from_pkcs1_der(&der).map_err(|e| e.to_string()),
            _ => rest = &block[end..],
        }
    }
    Err("no CERTIFICATE or PUBLIC KEY block".into())
}

/// Verifies the transmission headers over the raw body.
fn verify_transmission(
    certificates: &[Vec<u8>],
    webhook_id: &str,
    raw: &RawCallback<'_>,
    now: i64,
) -> Result<(), VerifyError> {
    let (Some(id), Some(time), Some(sig), Some(algo)) = (
        raw.header("paypal-transmission-id"),
        raw.header("paypal-transmission-time"),
        raw.header("paypal-transmission-sig"),
        raw.header("paypal-auth-algo"),
    ) else {
        return Err(VerifyError::BadSignature("missing PAYPAL-TRANSMISSION-* or PAYPAL-AUTH-ALGO header"));
    };
    if id.is_empty() || id.len() > MAX_ID || time.len() > MAX_TIME || sig.len() > MAX_SIG {
        return Err(VerifyError::BadSignature("oversized or empty header"));
    }
    if algo != AUTH_ALGO {
        return Err(VerifyError::BadSignature("unsupported PAYPAL-AUTH-ALGO"));
    }
    let sig = STANDARD.decode(sig).map_err(|_| VerifyError::BadSignature("PAYPAL-TRANSMISSION-SIG is not base64"))?;
    let sig = Signature::try_from(sig.as_slice()).map_err(|_| VerifyError::BadSignature("unusable signature"))?;
    let message = signed_message(id, time, webhook_id, raw.body);
    let keys: Vec<RsaPublicKey> = certificates.iter().filter_map(|pem| public_key(pem).ok()).collect();
    if keys.is_empty() {
        return Err(VerifyError::BadSignature("no usable PayPal certificate configured"));
    }
    let ok = keys.into_iter().any(|k| VerifyingKey::<Sha256>::new(k).verify(message.as_bytes(), &sig).is_ok());
    if !ok {
        return Err(VerifyError::BadSignature("PAYPAL-TRANSMISSION-SIG does not verify"));
    }
    let sent = chrono::DateTime::parse_from_rfc3339(time)
        .map_err(|_| VerifyError::BadSignature("PAYPAL-TRANSMISSION-TIME is not RFC 3339"))?
        .timestamp();
    if !within(now, sent, TOLERANCE_SECS) {
        return Err(VerifyError::StaleTimestamp);
    }
    Ok(())
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

/// The capture a refund belongs to: its `up` link `…/v2/payments/captures/{id}`.
fn refunded_capture(resource: &Value) -> Option<&str> {
    resource.get("links")?.as_array()?.iter().find_map(|l| {
        let href = str_at(l, "/href").filter(|_| str_at(l, "/rel") == Some("up"))?;
        let (_, id) = href.split_once("/captures/")?;
        Some(id.split(['/', '?']).next().unwrap_or(id)).filter(|id| !id.is_empty())
    })
}

/// `liability_shift` when the resource carries one: YES/POSSIBLE → authenticated, NO → not
/// performed (guess: the capture event usually has none, and then this is `None`).
pub(crate) fn three_ds(resource: &Value) -> Option<ThreeDs> {
    let shift = str_at(resource, "/liability_shift")
        .or_else(|| str_at(resource, "/payment_source/card/authentication_result/liability_shift"))?;
    match shift {
        "YES" | "POSSIBLE" => Some(ThreeDs::Authenticated),
        "NO" => Some(ThreeDs::NotPerformed),
        _ => None,
    }
}

/// The authorisation a capture (or, where PayPal says so, a refund) belongs to: with intent
/// `AUTHORIZE` the payment is the authorisation, so its later capture must update it.
fn authorization_of(resource: &Value) -> Option<&str> {
    str_at(resource, "/supplementary_data/related_ids/authorization_id").filter(|id| !id.is_empty())
}

fn map_event(event: &Value) -> Result<VerifiedEvent, VerifyError> {
    let malformed = |m: &str| VerifyError::Malformed(m.to_string());
    let event_id = checked_id("id", str_at(event, "/id").ok_or_else(|| malformed("missing id"))?, 255)?;
    let event_type = str_at(event, "/event_type").ok_or_else(|| malformed("missing event_type"))?;
    let resource = event.get("resource").filter(|r| r.is_object()).ok_or_else(|| malformed("missing resource"))?;
    let resource_id = str_at(resource, "/id").ok_or_else(|| malformed("missing resource.id"))?;
    if let Some(ev) = subscriptions::map(event_id.clone(), event_type, resource, resource_id)? {
        return Ok(ev);
    }
    let capture_of = authorization_of(resource).unwrap_or(resource_id);
    let (kind, payment_id) = match event_type {
        "PAYMENT.AUTHORIZATION.CREATED" => (EventKind::Authorized, resource_id),
        "PAYMENT.AUTHORIZATION.VOIDED" => (EventKind::Cancelled, resource_id),
        "PAYMENT.CAPTURE.COMPLETED" => (EventKind::Succeeded, capture_of),
        "PAYMENT.CAPTURE.DENIED" | "PAYMENT.CAPTURE.DECLINED" => (EventKind::Failed, capture_of),
        // A refund names its capture (the `up` link); the authorisation only if PayPal adds it.
        "PAYMENT.CAPTURE.REFUNDED" | "PAYMENT.CAPTURE.REVERSED" => (
            EventKind::Refunded,
            authorization_of(resource).or_else(|| refunded_capture(resource)).unwrap_or(resource_id),
        ),
        t => (other(t), resource_id),
    };
    let (amount_minor, currency) =
        money_fields(str_at(resource, "/amount/value"), str_at(resource, "/amount/currency_code"))?;
    let order_id = str_at(resource, "/custom_id").or_else(|| str_at(resource, "/invoice_id")).map(str::to_string);
    Ok(VerifiedEvent {
        event_id,
        kind,
        order_id,
        payment_id: checked_id("payment id", payment_id, 255)?,
        amount_minor,
        currency,
        three_ds: three_ds(resource),
        subscription: None,
    })
}

impl GatewayFolder for PayPal {
    type Settings = settings::PayPalSettings;
    const DIALECT: &'static dyn SandboxDialect = &dialect::PayPalDialect;
}

impl Gateway for PayPal {
    fn from_settings(s: &Settings, _sandbox_keys: &Arc<Vec<Vec<u8>>>) -> anyhow::Result<Option<Self>> {
        let g = &s.gateways.paypal;
        let Some(webhook_id) = &g.paypal_webhook_id else { return Ok(None) };
        // Without a certificate file, each callback's PAYPAL-CERT-URL is fetched (allowed
        // origins only, cached): see payments::certs.
        let certificates = match &g.paypal_cert_file {
            Some(path) => {
                let pem =
                    std::fs::read(path).map_err(|e| anyhow::anyhow!("paypal_cert_file {}: {e}", path.display()))?;
                public_key(&pem).map_err(|e| anyhow::anyhow!("paypal_cert_file {}: {e}", path.display()))?;
                vec![pem]
            }
            None => Vec::new(),
        };
        Ok(Some(PayPal { webhook_id: webhook_id.clone(), certificates }))
    }

    fn id(&self) -> GatewayId {
        GatewayId::PayPal
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::ALL
    }

    api_methods!(start, ops, status);

    fn pay_label(&self) -> &'static str {
        "Pay with PayPal"
    }

    fn verify(&self, raw: &RawCallback<'_>, now: i64) -> Result<VerifiedEvent, VerifyError> {
        self.verify_against(&self.certificates, raw, now)
    }

    fn certificate_url(&self, raw: &RawCallback<'_>) -> Option<String> {
        if !self.certificates.is_empty() {
            return None;
        }
        raw.header("paypal-cert-url").filter(|u| u.len() <= 512).map(String::from)
    }

    fn verify_with_certificate(
        &self,
        raw: &RawCallback<'_>,
        now: i64,
        pem: &[u8],
    ) -> Result<VerifiedEvent, VerifyError> {
        self.verify_against(&[pem.to_vec()], raw, now)
    }
}

impl PayPal {
    fn verify_against(
        &self,
        certificates: &[Vec<u8>],
        raw: &RawCallback<'_>,
        now: i64,
    ) -> Result<VerifiedEvent, VerifyError> {
        if raw.media_type() != "application/json" {
            return Err(VerifyError::UnsupportedMediaType);
        }
        verify_transmission(certificates, &self.webhook_id, raw, now)?;
        let event: Value = serde_json::from_slice(raw.body).map_err(|e| VerifyError::Malformed(e.to_string()))?;
        map_event(&event)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use rsa::pkcs1v15::SigningKey;
    use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
    use rsa::signature::{SignatureEncoding, Signer};
    use rsa::RsaPrivateKey;

    use super::super::test_support::headers;
    use super::*;

    const WEBHOOK_ID: &str = "1JE4291016473214C";
    const TX_ID: &str = "103e3700-8b0c-11e6-8695-6b12b2b0ecc9";
    const TIME: &str = "2024-01-01T12:00:00Z";
    const NOW: i64 = 1_704_110_400;
    const BODY: &str = r#"{"id":"WH-58D329510W468432D-8HN650336L201105X","event_type":"PAYMENT.CAPTURE.COMPLETED","resource_type":"capture","resource":{"id":"42311647XV020574X","status":"COMPLETED","amount":{"currency_code":"EUR","value":"19.99"},"custom_id":"ord_42","invoice_id":"inv_1"}}"#;

    struct Keys {
        private: RsaPrivateKey,
        cert_pem: String,
        public_pem: String,
    }

    /// One 2048-bit key for all tests (slow to generate in debug builds).
    fn keys() -> &'static Keys {
        static KEYS: OnceLock<Keys> = OnceLock::new();
        KEYS.get_or_init(|| {
            let private = RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
            let pkcs8 = private.to_pkcs8_pem(LineEnding::LF).unwrap();
            let pair = rcgen::KeyPair::from_pem_and_sign_algo(&pkcs8, &rcgen::PKCS_RSA_SHA256).unwrap();
            let params = rcgen::CertificateParams::new(vec!["api.paypal.test".to_string()]).unwrap();
            let cert_pem = params.self_signed(&pair).unwrap().pem();
            let public_pem = private.to_public_key().to_public_key_pem(LineEnding::LF).unwrap();
            Keys { private, cert_pem, public_pem }
        })
    }

    fn sign(id: &str, time: &str, webhook_id: &str, body: &[u8]) -> String {
        let key = SigningKey::<Sha256>::new(keys().private.clone());
        STANDARD.encode(key.sign(signed_message(id, time, webhook_id, body).as_bytes()).to_bytes())
    }

    fn gw(pems: &[&str]) -> PayPal {
        PayPal { webhook_id: WEBHOOK_ID.into(), certificates: pems.iter().map(|p| p.as_bytes().to_vec()).collect() }
    }

    fn call_with(g: &PayPal, hs: &[(&str, &str)], body: &str, now: i64) -> Result<VerifiedEvent, VerifyError> {
        let h = headers(hs);
        g.verify(&RawCallback { headers: &h, body: body.as_bytes(), uri: "/api/v1/payments/paypal/callback" }, now)
    }

    /// Headers for `body` signed at `time`, with `sig` (or a good signature when `None`).
    fn call(g: &PayPal, body: &str, time: &str, sig: Option<&str>, now: i64) -> Result<VerifiedEvent, VerifyError> {
        let good = sign(TX_ID, time, WEBHOOK_ID, body.as_bytes());
        let hs = [
            ("content-type", "application/json"),
            ("paypal-transmission-id", TX_ID),
            ("paypal-transmission-time", time),
            ("paypal-transmission-sig", sig.unwrap_or(&good)),
            ("paypal-auth-algo", AUTH_ALGO),
            ("paypal-cert-url", "https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-1d93a270"),
        ];
        call_with(g, &hs, body, now)
    }

    #[test]
    fn signed_message_uses_unsigned_decimal_crc32() {
        // CRC-32 (IEEE) of "123456789" is the classic check value 0xCBF43926 = 3421780262.
        assert_eq!(signed_message("a", "b", "c", b"123456789"), "a|b|c|3421780262");
    }

    #[test]
    fn verifies_with_a_certificate_and_with_a_bare_public_key() {
        for pem in [&keys().cert_pem, &keys().public_pem] {
            let ev = call(&gw(&[pem]), BODY, TIME, None, NOW + 30).unwrap();
            assert_eq!(ev.event_id, "WH-58D329510W468432D-8HN650336L201105X");
            assert_eq!(ev.kind, EventKind::Succeeded);
            assert_eq!(ev.order_id.as_deref(), Some("ord_42"));
            assert_eq!(ev.payment_id, "42311647XV020574X");
            assert_eq!((ev.amount_minor, ev.currency.as_deref()), (Some(1999), Some("EUR")));
            assert_eq!(ev.three_ds, None);
        }
        // A chain file: the leaf certificate comes first.
        let chain = format!("{}\n{}", keys().cert_pem, keys().cert_pem);
        assert!(call(&gw(&[&chain]), BODY, TIME, None, NOW).is_ok());
    }

    #[test]
    fn refuses_forgeries_stale_times_and_bad_headers() {
        let g = gw(&[&keys().cert_pem]);
        let changed = BODY.replace("19.99", "19.98");
        let sig = sign(TX_ID, TIME, WEBHOOK_ID, BODY.as_bytes());
        assert!(matches!(call(&g, &changed, TIME, Some(&sig), NOW), Err(VerifyError::BadSignature(_))));
        let other_hook = sign(TX_ID, TIME, "OTHER", BODY.as_bytes());
        assert!(matches!(call(&g, BODY, TIME, Some(&other_hook), NOW), Err(VerifyError::BadSignature(_))));
        let mut forged = STANDARD.decode(&sig).unwrap();
        forged[10] ^= 1;
        assert!(matches!(call(&g, BODY, TIME, Some(&STANDARD.encode(forged)), NOW), Err(VerifyError::BadSignature(_))));
        // The signed time cannot be moved, and an old or future one is refused.
        assert!(matches!(call(&g, BODY, "2024-01-01T12:00:01Z", Some(&sig), NOW), Err(VerifyError::BadSignature(_))));
        assert_eq!(call(&g, BODY, TIME, None, NOW + 301).unwrap_err(), VerifyError::StaleTimestamp);
        assert_eq!(call(&g, BODY, TIME, None, NOW - 301).unwrap_err(), VerifyError::StaleTimestamp);
        assert!(call(&g, BODY, "2024-01-01T13:00:00+01:00", None, NOW).is_ok());
        assert!(matches!(call(&g, BODY, TIME, Some(&"A".repeat(MAX_SIG + 4)), NOW), Err(VerifyError::BadSignature(_))));
        // A key that did not sign.
        let other = RsaPrivateKey::new(&mut rand::thread_rng(), 1024).unwrap();
        let other_pem = other.to_public_key().to_public_key_pem(LineEnding::LF).unwrap();
        assert!(matches!(call(&gw(&[&other_pem]), BODY, TIME, None, NOW), Err(VerifyError::BadSignature(_))));
        // Rotation: the second configured key verifies.
        assert!(call(&gw(&[&other_pem, &keys().public_pem]), BODY, TIME, None, NOW).is_ok());
        assert!(matches!(call(&gw(&["garbage"]), BODY, TIME, None, NOW), Err(VerifyError::BadSignature(_))));
        let good = sign(TX_ID, TIME, WEBHOOK_ID, BODY.as_bytes());
        let mut hs = vec![
            ("content-type", "application/json"),
            ("paypal-transmission-id", TX_ID),
            ("paypal-transmission-time", TIME),
            ("paypal-transmission-sig", good.as_str()),
            ("paypal-auth-algo", "SHA1withRSA"),
        ];
        assert!(matches!(call_with(&g, &hs, BODY, NOW), Err(VerifyError::BadSignature(_))));
        hs.pop();
        assert!(matches!(call_with(&g, &hs, BODY, NOW), Err(VerifyError::BadSignature(_))));
        hs.push(("paypal-auth-algo", AUTH_ALGO));
        hs[0] = ("content-type", "text/plain");
        assert_eq!(call_with(&g, &hs, BODY, NOW).unwrap_err(), VerifyError::UnsupportedMediaType);
    }

    #[test]
    fn maps_other_events() {
        let g = gw(&[&keys().public_pem]);
        for (t, expected) in [
            ("PAYMENT.CAPTURE.DENIED", EventKind::Failed),
            ("PAYMENT.CAPTURE.DECLINED", EventKind::Failed),
            ("PAYMENT.CAPTURE.PENDING", EventKind::Other("PAYMENT.CAPTURE.PENDING".into())),
        ] {
            assert_eq!(
                call(&g, &BODY.replace("PAYMENT.CAPTURE.COMPLETED", t), TIME, None, NOW).unwrap().kind,
                expected
            );
        }
        let refund = r#"{"id":"WH-2","event_type":"PAYMENT.CAPTURE.REFUNDED","resource":{"id":"1Y107995YT783435V","status":"COMPLETED","amount":{"currency_code":"JPY","value":"500"},"invoice_id":"ord_7","links":[{"rel":"self","href":"https://api.paypal.com/v2/payments/refunds/1Y107995YT783435V"},{"rel":"up","href":"https://api.paypal.com/v2/payments/captures/2GG279541U471931P"}]}}"#;
        let ev = call(&g, refund, TIME, None, NOW).unwrap();
        assert_eq!(ev.kind, EventKind::Refunded);
        assert_eq!((ev.payment_id.as_str(), ev.order_id.as_deref()), ("2GG279541U471931P", Some("ord_7")));
        assert_eq!((ev.amount_minor, ev.currency.as_deref()), (Some(500), Some("JPY")));
        let shifted = BODY.replace(r#""custom_id""#, r#""liability_shift":"NO","custom_id""#);
        assert_eq!(call(&g, &shifted, TIME, None, NOW).unwrap().three_ds, Some(ThreeDs::NotPerformed));
        let shifted = BODY.replace(r#""custom_id""#, r#""liability_shift":"POSSIBLE","custom_id""#);
        assert_eq!(call(&g, &shifted, TIME, None, NOW).unwrap().three_ds, Some(ThreeDs::Authenticated));
        let bad = BODY.replace("19.99", "19.999");
        assert!(matches!(call(&g, &bad, TIME, None, NOW), Err(VerifyError::Malformed(_))));
    }

    #[test]
    fn an_authorisation_and_its_capture_are_one_payment() {
        let g = gw(&[&keys().public_pem]);
        let created = r#"{"id":"WH-A1","event_type":"PAYMENT.AUTHORIZATION.CREATED","resource_type":"authorization","resource":{"id":"0VF52814937998046","status":"CREATED","amount":{"currency_code":"EUR","value":"19.99"},"custom_id":"ord_42","supplementary_data":{"related_ids":{"order_id":"5O190127TN364715T"}}}}"#;
        let ev = call(&g, created, TIME, None, NOW).unwrap();
        assert_eq!(ev.kind, EventKind::Authorized);
        assert_eq!((ev.payment_id.as_str(), ev.order_id.as_deref()), ("0VF52814937998046", Some("ord_42")));
        assert_eq!((ev.amount_minor, ev.currency.as_deref()), (Some(1999), Some("EUR")));
        let voided = created.replace("PAYMENT.AUTHORIZATION.CREATED", "PAYMENT.AUTHORIZATION.VOIDED");
        let ev = call(&g, &voided, TIME, None, NOW).unwrap();
        assert_eq!((ev.kind, ev.payment_id.as_str()), (EventKind::Cancelled, "0VF52814937998046"));
        // The capture of that authorisation updates it, not a payment of its own.
        let captured = BODY.replace(
            r#""custom_id""#,
            r#""supplementary_data":{"related_ids":{"order_id":"5O190127TN364715T","authorization_id":"0VF52814937998046"}},"custom_id""#,
        );
        let ev = call(&g, &captured, TIME, None, NOW).unwrap();
        assert_eq!((ev.kind, ev.payment_id.as_str()), (EventKind::Succeeded, "0VF52814937998046"));
        let denied = captured.replace("PAYMENT.CAPTURE.COMPLETED", "PAYMENT.CAPTURE.DENIED");
        assert_eq!(call(&g, &denied, TIME, None, NOW).unwrap().payment_id, "0VF52814937998046");
        // A refund names its capture; the authorisation only when the payload carries it.
        let refund = r#"{"id":"WH-R1","event_type":"PAYMENT.CAPTURE.REFUNDED","resource":{"id":"1Y1","amount":{"currency_code":"EUR","value":"5.00"},"links":[{"rel":"up","href":"https://api.paypal.com/v2/payments/captures/2GG279541U471931P"}]}}"#;
        assert_eq!(call(&g, refund, TIME, None, NOW).unwrap().payment_id, "2GG279541U471931P");
        let related = refund.replace(
            r#""links""#,
            r#""supplementary_data":{"related_ids":{"authorization_id":"0VF52814937998046"}},"links""#,
        );
        assert_eq!(call(&g, &related, TIME, None, NOW).unwrap().payment_id, "0VF52814937998046");
    }
}
