//! 2Checkout (Verifone) IPN: a form post signed with an HMAC (SHA3-256, SHA-256 or legacy MD5)
//! over every field's byte length and value in the order received; answered with a signed
//! read receipt `<sig algo="…" date="YmdHis">HASH</sig>`.

pub mod dialect;
pub mod settings;
pub mod start;

use std::sync::Arc;

use crate::config::Settings;
use crate::payments::gateways::{api_methods, Capabilities, GatewayFolder, GatewayId};
use crate::sandbox::dialects::SandboxDialect;

use hmac::{Hmac, Mac};
use md5::Md5;
use sha2::Sha256;
use sha3::Sha3_256;

use super::{
    checked_id, field, form_fields, money_fields, other, text_reply, unique_field, Ack, EventKind, Gateway,
    RawCallback, VerifiedEvent, VerifyError,
};

/// The signature fields, strongest first; none of them is signed.
const SIGNATURE_FIELDS: [&str; 3] = ["SIGNATURE_SHA3_256", "SIGNATURE_SHA2_256", "HASH"];
/// Longest signature field we read (a 256-bit hex is 64).
const MAX_SIG: usize = 128;

/// The 2Checkout adapter.
pub struct TwoCheckout {
    /// Our merchant code (for the merchant API; the IPN is not checked against it).
    pub merchant_code: String,
    /// Secret keys, newest first: a signature by any of them is accepted.
    pub secret_keys: Vec<String>,
}

/// An IPN HMAC algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algo {
    /// `SIGNATURE_SHA3_256`, receipt `algo="sha3-256"`.
    Sha3_256,
    /// `SIGNATURE_SHA2_256`, receipt `algo="sha256"`.
    Sha256,
    /// Legacy `HASH`, receipt `<EPAYMENT>DATE|HASH</EPAYMENT>`.
    Md5,
}

/// The signed string: each value's byte length then the value (an empty value gives `0`).
pub fn source<S: AsRef<str>>(values: &[S]) -> String {
    values.iter().map(|v| format!("{}{}", v.as_ref().len(), v.as_ref())).collect()
}

fn mac_verify(algo: Algo, key: &str, msg: &[u8], tag: &[u8]) -> bool {
    fn check<M: Mac + hmac::digest::KeyInit>(key: &str, msg: &[u8], tag: &[u8]) -> bool {
        let mut m = <M as Mac>::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
        m.update(msg);
        m.verify_slice(tag).is_ok()
    }
    match algo {
        Algo::Sha3_256 => check::<Hmac<Sha3_256>>(key, msg, tag),
        Algo::Sha256 => check::<Hmac<Sha256>>(key, msg, tag),
        Algo::Md5 => check::<Hmac<Md5>>(key, msg, tag),
    }
}

/// Hex HMAC of the length-prefixed `values` with `algo`.
pub fn hmac_hex<S: AsRef<str>>(algo: Algo, key: &str, values: &[S]) -> String {
    fn tag<M: Mac + hmac::digest::KeyInit>(key: &str, msg: &[u8]) -> String {
        let mut m = <M as Mac>::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
        m.update(msg);
        hex::encode(m.finalize().into_bytes())
    }
    let msg = source(values);
    match algo {
        Algo::Sha3_256 => tag::<Hmac<Sha3_256>>(key, msg.as_bytes()),
        Algo::Sha256 => tag::<Hmac<Sha256>>(key, msg.as_bytes()),
        Algo::Md5 => tag::<Hmac<Md5>>(key, msg.as_bytes()),
    }
}

/// Hex HMAC-SHA256 of the length-prefixed `values` (`SIGNATURE_SHA2_256`).
pub fn hmac_sha256_hex<S: AsRef<str>>(key: &str, values: &[S]) -> String {
    hmac_hex(Algo::Sha256, key, values)
}

/// The values an IPN signs: every field in the order received except the signature fields.
pub fn signed_values(fields: &[(String, String)]) -> Vec<&str> {
    fields.iter().filter(|(k, _)| !SIGNATURE_FIELDS.contains(&k.as_str())).map(|(_, v)| v.as_str()).collect()
}

/// The read receipt for an IPN, dated `date` (`YmdHis`, UTC).
pub fn receipt(algo: Algo, key: &str, fields: &[(String, String)], date: &str) -> String {
    let first = |name: &str| {
        fields.iter().find(|(k, _)| k == name || k.starts_with(&format!("{name}["))).map_or("", |(_, v)| v.as_str())
    };
    let hash = hmac_hex(algo, key, &[first("IPN_PID"), first("IPN_PNAME"), first("IPN_DATE"), date]);
    match algo {
        Algo::Sha3_256 => format!(r#"<sig algo="sha3-256" date="{date}">{hash}</sig>"#),
        Algo::Sha256 => format!(r#"<sig algo="sha256" date="{date}">{hash}</sig>"#),
        Algo::Md5 => format!("<EPAYMENT>{date}|{hash}</EPAYMENT>"),
    }
}

impl TwoCheckout {
    /// The strongest signature present and the secret that made it.
    fn matching_key(&self, fields: &[(String, String)]) -> Result<(Algo, &str), VerifyError> {
        let mut present = None;
        for (name, algo) in SIGNATURE_FIELDS.iter().zip([Algo::Sha3_256, Algo::Sha256, Algo::Md5]) {
            if let Some(sig) = unique_field(fields, name)? {
                present = Some((algo, sig));
                break;
            }
        }
        // Only the strongest signature present counts: no falling back to a weaker one.
        let (algo, sig) = present.ok_or(VerifyError::BadSignature("no IPN signature field"))?;
        if sig.len() > MAX_SIG {
            return Err(VerifyError::BadSignature("oversized IPN signature"));
        }
        let tag = hex::decode(sig).map_err(|_| VerifyError::BadSignature("IPN signature is not hex"))?;
        let msg = source(&signed_values(fields));
        self.secret_keys
            .iter()
            .find(|key| mac_verify(algo, key, msg.as_bytes(), &tag))
            .map(|key| (algo, key.as_str()))
            .ok_or(VerifyError::BadSignature("IPN signature does not match"))
    }
}

fn kind(status: &str, fraud: Option<&str>, refund_type: Option<&str>) -> EventKind {
    match status {
        "COMPLETE" | "PAYMENT_AUTHORIZED" | "AUTHRECEIVED" if fraud == Some("DENIED") => EventKind::Failed,
        "COMPLETE" | "PAYMENT_AUTHORIZED" | "AUTHRECEIVED" => EventKind::Succeeded,
        // A reversal releases the whole authorisation. A refund that says `REFUND_TYPE=PARTIAL`
        // is partial whatever its amount; any other (`FULL`, or no type) is judged by its amount
        // against what was captured: below it, partial.
        "REVERSED" => EventKind::Refunded,
        "REFUND" if refund_type.is_some_and(|t| t.eq_ignore_ascii_case("PARTIAL")) => EventKind::PartiallyRefunded,
        "REFUND" => EventKind::Refunded,
        "CANCELED" | "INVALID" => EventKind::Failed,
        "PENDING" | "PURCHASE_PENDING" | "PENDING_APPROVAL" => EventKind::RequiresAction,
        s => other(s),
    }
}

/// What a refund notice's dedupe key is made of besides `REFNO` and `ORDERSTATUS`: what says
/// which refund it is. Never `IPN_DATE` (2Checkout re-dates a notice it sends again — retries
/// until acknowledged, "resend IPN" — and a re-dated repeat must not count the refund twice) nor
/// the signature fields (they sign the date). 2Checkout's public documentation names no refund
/// id, so two genuine refunds of the same type, amount and currency collide: the second is taken
/// for a repeat and not counted (under-counting keeps the customer's access; an admin sees both
/// notices in the gateway's dashboard).
const REFUND_KEY_FIELDS: [&str; 3] = ["REFUND_TYPE", "IPN_TOTALGENERAL", "CURRENCY"];

/// The dedupe key. A payment reaches each of its other states once (`REFNO:ORDERSTATUS`, which
/// holds no date, so a re-sent notice is a duplicate); a refund notice (which may come several
/// times per payment, [`Gateway::refund_notices_add_up`]) adds [`REFUND_KEY_FIELDS`], so a
/// repeat — however dated — is a duplicate while a refund of another amount is its own event.
fn event_id(payment_id: &str, status: &str, fields: &[(String, String)]) -> String {
    if !matches!(status, "REFUND" | "REVERSED") {
        return format!("{payment_id}:{status}");
    }
    let values = REFUND_KEY_FIELDS.map(|name| field(fields, name).unwrap_or_default());
    let digest = <sha2::Sha256 as sha2::Digest>::digest(source(&values).as_bytes());
    format!("{payment_id}:{status}:{}", hex::encode(&digest[..16]))
}

impl GatewayFolder for TwoCheckout {
    type Settings = settings::TwoCheckoutSettings;
    const DIALECT: &'static dyn SandboxDialect = &dialect::TwoCheckoutDialect;
}

impl Gateway for TwoCheckout {
    fn from_settings(s: &Settings, _sandbox_keys: &Arc<Vec<Vec<u8>>>) -> anyhow::Result<Option<Self>> {
        let g = &s.gateways.twocheckout;
        Ok(g.twocheckout_merchant_code.as_ref().map(|merchant_code| TwoCheckout {
            merchant_code: merchant_code.clone(),
            secret_keys: g.twocheckout_secret_key.clone(),
        }))
    }

    fn id(&self) -> GatewayId {
        GatewayId::TwoCheckout
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::START
    }

    api_methods!(link);

    fn pay_label(&self) -> &'static str {
        "Pay with 2Checkout"
    }

    fn refund_notices_add_up(&self) -> bool {
        true
    }

    fn verify(&self, raw: &RawCallback<'_>, _now: i64) -> Result<VerifiedEvent, VerifyError> {
        if raw.media_type() != "application/x-www-form-urlencoded" {
            return Err(VerifyError::UnsupportedMediaType);
        }
        let fields = form_fields(raw.body);
        self.matching_key(&fields)?;
        let get = |name: &str| field(&fields, name);
        let payment_id = checked_id("REFNO", get("REFNO").unwrap_or_default(), 128)?;
        let status = get("ORDERSTATUS").unwrap_or_default();
        let refund = matches!(status, "REFUND" | "REVERSED");
        // Refund notices show the cancelled amount as a negative value.
        let total = get("IPN_TOTALGENERAL").map(|t| if refund { t.strip_prefix('-').unwrap_or(t) } else { t });
        let (amount_minor, currency) = money_fields(total, get("CURRENCY"))?;
        let kind = kind(status, get("FRAUD_STATUS"), get("REFUND_TYPE"));
        Ok(VerifiedEvent {
            event_id: checked_id("event id", &event_id(&payment_id, status, &fields), 255)?,
            amount_minor,
            kind,
            order_id: get("REFNOEXT").map(str::to_string),
            payment_id,
            currency,
            three_ds: None,
            subscription: None,
        })
    }

    /// The read receipt in the request's own algorithm (guess: 2Checkout's docs show SHA-256 and
    /// SHA3-256 receipts; a legacy `HASH`-only IPN gets the legacy `<EPAYMENT>` receipt), keyed
    /// with the secret that signed the request (the first one if none did), dated `now`.
    fn reply(&self, raw: &RawCallback<'_>, _ack: Ack, now: i64) -> poem::Response {
        let fields = form_fields(raw.body);
        let (algo, key) = self
            .matching_key(&fields)
            .unwrap_or_else(|_| (Algo::Sha256, self.secret_keys.first().map(String::as_str).unwrap_or_default()));
        let date = chrono::DateTime::from_timestamp(now, 0).unwrap_or_default().format("%Y%m%d%H%M%S").to_string();
        text_reply(&receipt(algo, key, &fields, &date))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{body_of, form, headers};
    use super::*;

    const KEY: &str = "SECRET_KEY_123";
    const FIELDS: &[(&str, &str)] = &[
        ("SALEDATE", "2016-06-01 12:22:09"),
        ("REFNO", "1000037"),
        ("REFNOEXT", "ord_42"),
        ("ORDERSTATUS", "COMPLETE"),
        ("IPN_PID[]", "1"),
        ("IPN_PNAME[]", "Software program"),
        ("IPN_TOTALGENERAL", "19.99"),
        ("CURRENCY", "USD"),
        ("FRAUD_STATUS", "APPROVED"),
        ("IPN_DATE", "20050303123434"),
    ];
    const SHA256: &str = "b446c49ac87aad5eb801a16863bf0f38df301aa492b74f0eff1ed6c7caf86188";
    const MD5: &str = "acb6cc4710a1389b98661c1eae8afc29";
    // HMAC-SHA3-256 of the reference source with the reference key; computed independently with
    // python3 -c "import hmac,hashlib; print(hmac.new(b'SECRET_KEY_123', SOURCE, hashlib.sha3_256).hexdigest())".
    const SHA3: &str = "d479a18560043f8027732de35223452b4a02a6580d0457e6786c0cbf3cc97a0a";
    /// 2005-03-03 12:34:34 UTC.
    const DATE_UNIX: i64 = 1_109_853_274;

    fn values() -> Vec<&'static str> {
        FIELDS.iter().map(|(_, v)| *v).collect()
    }

    fn gw(keys: &[&str]) -> TwoCheckout {
        TwoCheckout { merchant_code: "250111206876".into(), secret_keys: keys.iter().map(|k| k.to_string()).collect() }
    }

    fn with(overrides: &[(&str, &str)], sig: (&str, &str)) -> Vec<u8> {
        let mut fields = FIELDS.to_vec();
        for (k, v) in overrides {
            fields.iter_mut().find(|(name, _)| name == k).unwrap().1 = v;
        }
        fields.push(sig);
        form(&fields)
    }

    fn signed(overrides: &[(&str, &str)], key: &str) -> Vec<u8> {
        let mut fields = FIELDS.to_vec();
        for (k, v) in overrides {
            fields.iter_mut().find(|(name, _)| name == k).unwrap().1 = v;
        }
        let vals: Vec<&str> = fields.iter().map(|(_, v)| *v).collect();
        let sig = hmac_sha256_hex(key, &vals);
        fields.push(("SIGNATURE_SHA2_256", &sig));
        form(&fields)
    }

    fn call(g: &TwoCheckout, ct: &str, body: &[u8]) -> Result<VerifiedEvent, VerifyError> {
        let h = headers(&[("content-type", ct)]);
        g.verify(&RawCallback { headers: &h, body, uri: "/api/v1/payments/twocheckout/callback" }, 0)
    }

    const FORM: &str = "application/x-www-form-urlencoded";

    #[test]
    fn reproduces_the_reference_vectors() {
        assert_eq!(
            source(&values()),
            "192016-06-01 12:22:09710000376ord_428COMPLETE1116Software program519.993USD8APPROVED1420050303123434"
        );
        assert_eq!(hmac_sha256_hex(KEY, &values()), SHA256);
        assert_eq!(hmac_hex(Algo::Md5, KEY, &values()), MD5);
        assert_eq!(hmac_hex(Algo::Sha3_256, KEY, &values()), SHA3);
        assert_eq!(source(&["", "é"]), "02é");
    }

    #[test]
    fn verifies_each_algorithm_and_maps() {
        let g = gw(&[KEY]);
        for sig in [("SIGNATURE_SHA2_256", SHA256), ("SIGNATURE_SHA3_256", SHA3), ("HASH", MD5)] {
            let ev = call(&g, FORM, &with(&[], sig)).unwrap_or_else(|e| panic!("{sig:?}: {e}"));
            assert_eq!(ev.event_id, "1000037:COMPLETE");
            assert_eq!(ev.kind, EventKind::Succeeded);
            assert_eq!(ev.order_id.as_deref(), Some("ord_42"));
            assert_eq!(ev.payment_id, "1000037");
            assert_eq!((ev.amount_minor, ev.currency.as_deref()), (Some(1999), Some("USD")));
        }
    }

    #[test]
    fn refuses_forgeries() {
        let g = gw(&[KEY]);
        assert!(matches!(
            call(&gw(&["nope"]), FORM, &with(&[], ("SIGNATURE_SHA2_256", SHA256))),
            Err(VerifyError::BadSignature(_))
        ));
        let changed = with(&[("IPN_TOTALGENERAL", "19.98")], ("SIGNATURE_SHA2_256", SHA256));
        assert!(matches!(call(&g, FORM, &changed), Err(VerifyError::BadSignature(_))));
        let forged = SHA256.replace('b', "c");
        assert!(matches!(
            call(&g, FORM, &with(&[], ("SIGNATURE_SHA2_256", &forged))),
            Err(VerifyError::BadSignature(_))
        ));
        // A wrong strongest signature is not rescued by a right weaker one.
        let both =
            [with(&[], ("SIGNATURE_SHA3_256", &"0".repeat(64))), b"&HASH=".to_vec(), MD5.as_bytes().to_vec()].concat();
        assert!(matches!(call(&g, FORM, &both), Err(VerifyError::BadSignature(_))));
        assert!(matches!(call(&g, FORM, &form(FIELDS)), Err(VerifyError::BadSignature(_))));
        assert!(matches!(
            call(&g, FORM, &with(&[], ("SIGNATURE_SHA2_256", &"a".repeat(130)))),
            Err(VerifyError::BadSignature(_))
        ));
        assert_eq!(
            call(&g, "application/json", &with(&[], ("HASH", MD5))).unwrap_err(),
            VerifyError::UnsupportedMediaType
        );
    }

    #[test]
    fn rotation_and_statuses() {
        let g = gw(&["new", KEY]);
        let cases = [
            (vec![("FRAUD_STATUS", "DENIED")], EventKind::Failed),
            (vec![("ORDERSTATUS", "PAYMENT_AUTHORIZED")], EventKind::Succeeded),
            (vec![("ORDERSTATUS", "AUTHRECEIVED"), ("FRAUD_STATUS", "PENDING")], EventKind::Succeeded),
            (vec![("ORDERSTATUS", "REFUND")], EventKind::Refunded),
            (vec![("ORDERSTATUS", "REVERSED")], EventKind::Refunded),
            (vec![("ORDERSTATUS", "CANCELED")], EventKind::Failed),
            (vec![("ORDERSTATUS", "PENDING")], EventKind::RequiresAction),
            (vec![("ORDERSTATUS", "PAYMENT_RECEIVED")], EventKind::Other("PAYMENT_RECEIVED".into())),
        ];
        for (overrides, expected) in cases {
            assert_eq!(call(&g, FORM, &signed(&overrides, KEY)).unwrap().kind, expected, "{overrides:?}");
        }
        let jpy = signed(&[("CURRENCY", "JPY"), ("IPN_TOTALGENERAL", "2500")], "new");
        assert_eq!(call(&g, FORM, &jpy).unwrap().amount_minor, Some(2500));
    }

    /// The reference fields with `ORDERSTATUS=REFUND`, `changes` applied and `extra` appended, signed.
    fn refund(changes: &[(&str, &str)], extra: &[(&str, &str)]) -> Vec<u8> {
        let mut fields = FIELDS.to_vec();
        for (k, v) in [("ORDERSTATUS", "REFUND")].iter().chain(changes) {
            fields.iter_mut().find(|(name, _)| name == k).unwrap().1 = v;
        }
        fields.extend_from_slice(extra);
        let vals: Vec<&str> = fields.iter().map(|(_, v)| *v).collect();
        let sig = hmac_sha256_hex(KEY, &vals);
        fields.push(("SIGNATURE_SHA2_256", &sig));
        form(&fields)
    }

    #[test]
    fn refund_notices_are_partial_when_they_say_so_and_keyed_by_the_refund_not_its_date() {
        let g = gw(&[KEY]);
        let ev = |body: Vec<u8>| call(&g, FORM, &body).unwrap();
        let partial = ev(refund(&[("IPN_TOTALGENERAL", "-5.00")], &[("REFUND_TYPE", "PARTIAL")]));
        assert_eq!((partial.kind.clone(), partial.amount_minor), (EventKind::PartiallyRefunded, Some(500)));
        // No REFUND_TYPE: the amount decides (applying it compares it with what was captured).
        let untyped = ev(refund(&[("IPN_TOTALGENERAL", "-5.00")], &[]));
        assert_eq!((untyped.kind.clone(), untyped.amount_minor), (EventKind::Refunded, Some(500)));
        let full = ev(refund(&[("IPN_TOTALGENERAL", "-19.99")], &[("REFUND_TYPE", "FULL")]));
        assert_eq!((full.kind, full.amount_minor), (EventKind::Refunded, Some(1999)));
        assert_eq!(ev(refund(&[("ORDERSTATUS", "REVERSED")], &[])).kind, EventKind::Refunded);
        // The same notice twice is one event, and so is the same notice re-sent later (a new
        // IPN_DATE, so a new signature).
        let again = ev(refund(&[("IPN_TOTALGENERAL", "-5.00")], &[("REFUND_TYPE", "PARTIAL")]));
        assert_eq!(again.event_id, partial.event_id);
        let resent =
            ev(refund(&[("IPN_TOTALGENERAL", "-5.00"), ("IPN_DATE", "20050303133434")], &[("REFUND_TYPE", "PARTIAL")]));
        assert_eq!(resent.event_id, partial.event_id);
        assert!(resent.event_id.starts_with("1000037:REFUND:"), "{}", resent.event_id);
        // Another amount, type or currency is another refund.
        let other_amount = ev(refund(&[("IPN_TOTALGENERAL", "-6.00")], &[("REFUND_TYPE", "PARTIAL")]));
        let other_currency =
            ev(refund(&[("IPN_TOTALGENERAL", "-5.00"), ("CURRENCY", "EUR")], &[("REFUND_TYPE", "PARTIAL")]));
        let ids = [&partial, &untyped, &other_amount, &other_currency].map(|e| e.event_id.clone());
        assert_eq!(ids.iter().collect::<std::collections::HashSet<_>>().len(), 4, "{ids:?}");
        // Other states keep their one event per payment, whatever the date.
        assert_eq!(ev(with(&[], ("SIGNATURE_SHA2_256", SHA256))).event_id, "1000037:COMPLETE");
        let redated = signed(&[("IPN_DATE", "20050303133434")], KEY);
        assert_eq!(ev(redated).event_id, "1000037:COMPLETE");
    }

    async fn reply(g: &TwoCheckout, body: &[u8]) -> String {
        let h = headers(&[("content-type", FORM)]);
        let (status, _, text) =
            body_of(g.reply(&RawCallback { headers: &h, body, uri: "/" }, Ack::Accepted, DATE_UNIX)).await;
        assert_eq!(status, 200);
        text
    }

    #[tokio::test]
    async fn replies_the_reference_receipt() {
        let g = gw(&[KEY]);
        assert_eq!(
            reply(&g, &with(&[], ("SIGNATURE_SHA2_256", SHA256))).await,
            r#"<sig algo="sha256" date="20050303123434">0ef3c3e87a218a3d0c7944fadece1178630428af95608f52828fbb975dac50db</sig>"#
        );
        // Receipt hashes computed independently with python3 hmac/hashlib over
        // "11" + "16Software program" + "1420050303123434" + "1420050303123434".
        assert_eq!(
            reply(&g, &with(&[], ("SIGNATURE_SHA3_256", SHA3))).await,
            r#"<sig algo="sha3-256" date="20050303123434">f26d284d1f767080c0ff91057ab1127b8bd27d51f2bb4ec6b6f14d7a6b5c89ff</sig>"#
        );
        assert_eq!(
            reply(&g, &with(&[], ("HASH", MD5))).await,
            "<EPAYMENT>20050303123434|9b26abd1fb538757df20255644500d90</EPAYMENT>"
        );
        // Signed with an older key: the receipt uses that key too.
        let rotated = gw(&["new", KEY]);
        assert!(reply(&rotated, &with(&[], ("SIGNATURE_SHA2_256", SHA256))).await.contains("0ef3c3e87a218a3d"));
    }
}
