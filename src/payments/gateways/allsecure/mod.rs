//! AllSecure Exchange (the IXOPAY platform) JSON callbacks: `X-Signature = base64(HMAC-SHA512(
//! shared secret, "POST\n" + hex(MD5 or SHA-512 of body) + "\n" + Content-Type + "\n" + Date + "\n" + URI))`.

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
use md5::{Digest, Md5};
use serde_json::Value;
use sha2::Sha512;

use super::{
    checked_id, money_fields, other, text_reply, within, Ack, EventKind, Gateway, RawCallback, VerifiedEvent,
    VerifyError,
};

/// Accepted distance between the signed `Date` header and now, both directions (our choice:
/// the same window as Stripe's, since the date is signed).
pub const TOLERANCE_SECS: i64 = 300;
/// Longest `X-Signature` (a base64 SHA-512 is 88) and `Date` we read.
const MAX_SIG: usize = 256;
const MAX_DATE: usize = 64;
const MAX_CONTENT_TYPE: usize = 256;

/// The AllSecure adapter.
pub struct AllSecure {
    /// Our API key (for the merchant API; callbacks do not carry it).
    pub api_key: String,
    /// Shared secrets, newest first: a signature by any of them is accepted.
    pub shared_secrets: Vec<String>,
}

/// The digest of the body that goes into the signed string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyHash {
    /// `hex(MD5(body))`: older accounts.
    Md5,
    /// `hex(SHA-512(body))`: newer accounts.
    Sha512,
}

fn mac_for(
    method: &str,
    secret: &str,
    hash: BodyHash,
    body: &[u8],
    content_type: &str,
    date: &str,
    uri: &str,
) -> Hmac<Sha512> {
    let body_hash = match hash {
        BodyHash::Md5 => hex::encode(Md5::digest(body)),
        BodyHash::Sha512 => hex::encode(Sha512::digest(body)),
    };
    let mut m = Hmac::<Sha512>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    m.update(format!("{method}\n{body_hash}\n{content_type}\n{date}\n{uri}").as_bytes());
    m
}

fn mac(secret: &str, hash: BodyHash, body: &[u8], content_type: &str, date: &str, uri: &str) -> Hmac<Sha512> {
    mac_for("POST", secret, hash, body, content_type, date, uri)
}

/// `X-Signature` with the body digested by `hash`.
pub fn signature_with(hash: BodyHash, secret: &str, body: &[u8], content_type: &str, date: &str, uri: &str) -> String {
    STANDARD.encode(mac(secret, hash, body, content_type, date, uri).finalize().into_bytes())
}

/// `X-Signature` of a merchant-API request with another method, e.g. the status API's `GET`
/// (empty body, so the digest of nothing; the official client still signs its Content-Type).
pub fn request_signature(method: &str, secret: &str, body: &[u8], content_type: &str, date: &str, uri: &str) -> String {
    STANDARD.encode(mac_for(method, secret, BodyHash::Md5, body, content_type, date, uri).finalize().into_bytes())
}

/// `X-Signature` in the MD5-of-body variant.
pub fn signature(secret: &str, body: &[u8], content_type: &str, date: &str, uri: &str) -> String {
    signature_with(BodyHash::Md5, secret, body, content_type, date, uri)
}

fn str_field<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    v.get(name).and_then(Value::as_str)
}

/// `result` × `transactionType` → kind. Failures and pending states of refunds, voids and other
/// follow-up transactions are not failures of the payment (our choice): they map to `Other`.
fn kind(result: &str, tx_type: &str) -> EventKind {
    let payment = matches!(tx_type, "DEBIT" | "PREAUTHORIZE" | "CAPTURE");
    match (result, tx_type) {
        ("OK", "DEBIT" | "CAPTURE") => EventKind::Succeeded,
        ("OK", "PREAUTHORIZE") => EventKind::Authorized,
        ("OK", "REFUND" | "CHARGEBACK") => EventKind::Refunded,
        ("ERROR", _) if payment => EventKind::Failed,
        ("PENDING", _) if payment => EventKind::RequiresAction,
        _ => other(&format!("{tx_type}:{result}")),
    }
}

impl GatewayFolder for AllSecure {
    type Settings = settings::AllSecureSettings;
    const DIALECT: &'static dyn SandboxDialect = &dialect::AllSecureDialect;
}

impl Gateway for AllSecure {
    fn from_settings(s: &Settings, _sandbox_keys: &Arc<Vec<Vec<u8>>>) -> anyhow::Result<Option<Self>> {
        let g = &s.gateways.allsecure;
        Ok(g.allsecure_api_key
            .as_ref()
            .map(|api_key| AllSecure { api_key: api_key.clone(), shared_secrets: g.allsecure_shared_secret.clone() }))
    }

    fn id(&self) -> GatewayId {
        GatewayId::AllSecure
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::ALL
    }

    api_methods!(start, ops, status);

    fn pay_label(&self) -> &'static str {
        "Pay by card (AllSecure)"
    }

    fn verify(&self, raw: &RawCallback<'_>, now: i64) -> Result<VerifiedEvent, VerifyError> {
        if raw.media_type() != "application/json" {
            return Err(VerifyError::UnsupportedMediaType);
        }
        let (Some(sig), Some(date), Some(content_type)) =
            (raw.header("x-signature"), raw.header("date"), raw.header("content-type"))
        else {
            return Err(VerifyError::BadSignature("missing X-Signature or Date"));
        };
        if sig.len() > MAX_SIG || date.len() > MAX_DATE || content_type.len() > MAX_CONTENT_TYPE {
            return Err(VerifyError::BadSignature("oversized header"));
        }
        let tag = STANDARD.decode(sig).map_err(|_| VerifyError::BadSignature("X-Signature is not base64"))?;
        let matches = self.shared_secrets.iter().any(|secret| {
            [BodyHash::Md5, BodyHash::Sha512]
                .into_iter()
                .any(|hash| mac(secret, hash, raw.body, content_type, date, raw.uri).verify_slice(&tag).is_ok())
        });
        if !matches {
            return Err(VerifyError::BadSignature("X-Signature does not match"));
        }
        let signed_at = chrono::DateTime::parse_from_rfc2822(date)
            .map_err(|_| VerifyError::BadSignature("Date is not an HTTP date"))?
            .timestamp();
        if !within(now, signed_at, TOLERANCE_SECS) {
            return Err(VerifyError::StaleTimestamp);
        }

        let body: Value = serde_json::from_slice(raw.body).map_err(|e| VerifyError::Malformed(e.to_string()))?;
        let uuid = checked_id("uuid", str_field(&body, "uuid").unwrap_or_default(), 128)?;
        let result = str_field(&body, "result").unwrap_or_default();
        let tx_type = str_field(&body, "transactionType").unwrap_or_default();
        let amount = match body.get("amount") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let (amount_minor, currency) = money_fields(amount.as_deref(), str_field(&body, "currency"))?;
        // Follow-up transactions (a capture of a pre-authorisation, a void, a refund) name the one
        // they act on as `referenceUuid`, so that they update the same payment; the event id stays
        // this transaction's own. Their `merchantTransactionId` is their own too (keyturn sends
        // the operation id), not our order: the payment leads to the order instead.
        let reference = str_field(&body, "referenceUuid").filter(|_| tx_type != "DEBIT" && tx_type != "PREAUTHORIZE");
        let (payment_id, order_id) = match reference {
            Some(r) => (checked_id("referenceUuid", r, 128)?, None),
            None => (uuid.clone(), str_field(&body, "merchantTransactionId").map(str::to_string)),
        };
        Ok(VerifiedEvent {
            event_id: checked_id("event id", &format!("{uuid}:{tx_type}:{result}"), 255)?,
            kind: kind(result, tx_type),
            order_id,
            payment_id,
            amount_minor,
            currency,
            three_ds: None,
            subscription: None,
        })
    }

    /// HTTP 200, body `OK`.
    fn reply(&self, _raw: &RawCallback<'_>, _ack: Ack, _now: i64) -> poem::Response {
        text_reply("OK")
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{body_of, headers};
    use super::*;

    const SECRET: &str = "SHARED_SECRET";
    const DATE: &str = "Mon, 01 Jan 2024 12:00:00 GMT";
    /// `DATE` as unix seconds.
    const NOW: i64 = 1_704_110_400;
    const URI: &str = "/callback?order=42";
    const CT: &str = "application/json; charset=utf-8";
    const BODY: &str = r#"{"result":"OK","uuid":"d94c0d72f3a36e21f16e","merchantTransactionId":"ord_42","purchaseId":"20240101-d94c0d72f3a36e21f16e","transactionType":"DEBIT","paymentMethod":"Creditcard","amount":"19.99","currency":"EUR"}"#;
    const SIG: &str = "rfhzJzb+xUg8lk0DuW2wlnK9bU2jdQNb1ZokfuIzocHBf2RDqdcmPxzVJa5XOK1fkMXWMKGnsR4Zyas1PfrSBw==";

    fn gw(secrets: &[&str]) -> AllSecure {
        AllSecure { api_key: "key".into(), shared_secrets: secrets.iter().map(|s| s.to_string()).collect() }
    }

    fn call(g: &AllSecure, hs: &[(&str, &str)], body: &str, now: i64) -> Result<VerifiedEvent, VerifyError> {
        let h = headers(hs);
        g.verify(&RawCallback { headers: &h, body: body.as_bytes(), uri: URI }, now)
    }

    fn signed(body: &str, secret: &str) -> Result<VerifiedEvent, VerifyError> {
        let sig = signature(secret, body.as_bytes(), CT, DATE, URI);
        call(&gw(&["new", SECRET]), &[("content-type", CT), ("date", DATE), ("x-signature", &sig)], body, NOW)
    }

    #[test]
    fn reproduces_the_reference_vector() {
        assert_eq!(signature(SECRET, BODY.as_bytes(), CT, DATE, URI), SIG);
    }

    #[test]
    fn signs_requests_with_their_method() {
        assert_eq!(request_signature("POST", SECRET, BODY.as_bytes(), CT, DATE, URI), SIG);
        // The status API's GET: "GET\n" + md5("") + "\n" + Content-Type + "\n" + Date + "\n" + path.
        let mut m = Hmac::<Sha512>::new_from_slice(SECRET.as_bytes()).unwrap();
        m.update(
            format!("GET\nd41d8cd98f00b204e9800998ecf8427e\n{CT}\n{DATE}\n/api/v3/status/k/getByUuid/u1").as_bytes(),
        );
        let expected = STANDARD.encode(m.finalize().into_bytes());
        assert_eq!(request_signature("GET", SECRET, b"", CT, DATE, "/api/v3/status/k/getByUuid/u1"), expected);
    }

    #[test]
    fn verifies_and_maps() {
        let ev =
            call(&gw(&[SECRET]), &[("content-type", CT), ("date", DATE), ("x-signature", SIG)], BODY, NOW).unwrap();
        assert_eq!(ev.event_id, "d94c0d72f3a36e21f16e:DEBIT:OK");
        assert_eq!(ev.kind, EventKind::Succeeded);
        assert_eq!(ev.order_id.as_deref(), Some("ord_42"));
        assert_eq!(ev.payment_id, "d94c0d72f3a36e21f16e");
        assert_eq!((ev.amount_minor, ev.currency.as_deref()), (Some(1999), Some("EUR")));
        let sha512 = signature_with(BodyHash::Sha512, SECRET, BODY.as_bytes(), CT, DATE, URI);
        assert_ne!(sha512, SIG);
        let ev = call(&gw(&[SECRET]), &[("content-type", CT), ("date", DATE), ("x-signature", &sha512)], BODY, NOW);
        assert_eq!(ev.unwrap().kind, EventKind::Succeeded);
    }

    #[test]
    fn refuses_forgeries_and_stale_dates() {
        let g = gw(&[SECRET]);
        let good = [("content-type", CT), ("date", DATE), ("x-signature", SIG)];
        assert!(matches!(call(&gw(&["other"]), &good, BODY, NOW), Err(VerifyError::BadSignature(_))));
        assert!(matches!(call(&g, &good, &BODY.replace("19.99", "19.98"), NOW), Err(VerifyError::BadSignature(_))));
        let forged = SIG.replacen('r', "s", 1);
        assert!(matches!(
            call(&g, &[("content-type", CT), ("date", DATE), ("x-signature", &forged)], BODY, NOW),
            Err(VerifyError::BadSignature(_))
        ));
        // The signed parts outside the body: content type, date, URI.
        assert!(
            call(&g, &[("content-type", "application/json"), ("date", DATE), ("x-signature", SIG)], BODY, NOW).is_err()
        );
        let other_date = "Mon, 01 Jan 2024 12:00:01 GMT";
        assert!(call(&g, &[("content-type", CT), ("date", other_date), ("x-signature", SIG)], BODY, NOW).is_err());
        let h = headers(&good);
        assert!(g.verify(&RawCallback { headers: &h, body: BODY.as_bytes(), uri: "/callback?order=43" }, NOW).is_err());
        assert!(matches!(call(&g, &good[..2], BODY, NOW), Err(VerifyError::BadSignature(_))));
        let long = "A".repeat(300);
        assert!(matches!(
            call(&g, &[("content-type", CT), ("date", DATE), ("x-signature", &long)], BODY, NOW),
            Err(VerifyError::BadSignature(_))
        ));
        assert_eq!(call(&g, &good, BODY, NOW + 301).unwrap_err(), VerifyError::StaleTimestamp);
        assert_eq!(call(&g, &good, BODY, NOW - 301).unwrap_err(), VerifyError::StaleTimestamp);
        let form = [("content-type", "application/x-www-form-urlencoded"), ("date", DATE), ("x-signature", SIG)];
        assert_eq!(call(&g, &form, BODY, NOW).unwrap_err(), VerifyError::UnsupportedMediaType);
    }

    #[test]
    fn rotation_and_statuses() {
        let body = |result: &str, tx: &str| BODY.replace(r#""OK""#, &format!(r#""{result}""#)).replace("DEBIT", tx);
        for (result, tx, expected) in [
            ("OK", "DEBIT", EventKind::Succeeded),
            ("OK", "CAPTURE", EventKind::Succeeded),
            ("OK", "PREAUTHORIZE", EventKind::Authorized),
            ("OK", "REFUND", EventKind::Refunded),
            ("OK", "CHARGEBACK", EventKind::Refunded),
            ("OK", "VOID", EventKind::Other("VOID:OK".into())),
            ("ERROR", "DEBIT", EventKind::Failed),
            ("PENDING", "DEBIT", EventKind::RequiresAction),
            ("ERROR", "REFUND", EventKind::Other("REFUND:ERROR".into())),
        ] {
            let ev = signed(&body(result, tx), SECRET).unwrap();
            assert_eq!(ev.kind, expected, "{result} {tx}");
            assert_eq!(ev.event_id, format!("d94c0d72f3a36e21f16e:{tx}:{result}"));
        }
        let refund = BODY.replace("DEBIT", "REFUND").replace(r#""amount""#, r#""referenceUuid":"aaa","amount""#);
        let ev = signed(&refund, "new").unwrap();
        assert_eq!((ev.payment_id.as_str(), ev.order_id.as_deref()), ("aaa", None));
        assert!(matches!(signed(&BODY.replace("19.99", "19.999"), SECRET), Err(VerifyError::Malformed(_))));
    }

    #[test]
    fn a_capture_updates_its_pre_authorisation() {
        let preauth = BODY.replace("DEBIT", "PREAUTHORIZE");
        let ev = signed(&preauth, SECRET).unwrap();
        assert_eq!(ev.kind, EventKind::Authorized);
        assert_eq!((ev.payment_id.as_str(), ev.order_id.as_deref()), ("d94c0d72f3a36e21f16e", Some("ord_42")));
        assert_eq!(ev.amount_minor, Some(1999));
        let capture = BODY
            .replace("DEBIT", "CAPTURE")
            .replace(r#""uuid":"d94c0d72f3a36e21f16e""#, r#""uuid":"c0ffee","referenceUuid":"d94c0d72f3a36e21f16e""#)
            .replace(r#""merchantTransactionId":"ord_42""#, r#""merchantTransactionId":"op_1""#);
        let ev = signed(&capture, SECRET).unwrap();
        assert_eq!(ev.kind, EventKind::Succeeded);
        assert_eq!((ev.payment_id.as_str(), ev.order_id.as_deref()), ("d94c0d72f3a36e21f16e", None));
        assert_eq!((ev.event_id.as_str(), ev.amount_minor), ("c0ffee:CAPTURE:OK", Some(1999)));
        // A capture without a reference stands for itself.
        let bare = BODY.replace("DEBIT", "CAPTURE");
        assert_eq!(signed(&bare, SECRET).unwrap().order_id.as_deref(), Some("ord_42"));
    }

    #[tokio::test]
    async fn replies_ok() {
        let h = headers(&[]);
        let raw = RawCallback { headers: &h, body: b"", uri: URI };
        let (status, ct, body) = body_of(gw(&[SECRET]).reply(&raw, Ack::Refused, NOW)).await;
        assert_eq!((status, ct.as_deref(), body.as_str()), (200, Some("text/plain; charset=utf-8"), "OK"));
    }
}
