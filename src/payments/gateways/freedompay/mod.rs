//! FreedomPay (Kazakhstan, formerly PayBox.money) result-URL callbacks: a form post signed with
//! `pg_sig = md5(script;values sorted by field name;secret)`, answered with a signed XML reply.

pub mod dialect;
pub mod settings;
pub mod start;
pub mod status;

use std::sync::Arc;

use crate::config::Settings;
use crate::payments::gateways::{api_methods, Capabilities, GatewayFolder, GatewayId};
use crate::sandbox::dialects::SandboxDialect;

use md5::{Digest, Md5};
use rand::distributions::Alphanumeric;
use rand::Rng;

use super::{
    checked_id, field, form_fields, last_path_segment, money_fields, other, unique_field, Ack, EventKind, Gateway,
    RawCallback, VerifiedEvent, VerifyError,
};

/// Longest `pg_sig` we read (an MD5 hex is 32).
const MAX_SIG: usize = 64;

/// The FreedomPay adapter.
pub struct FreedomPay {
    /// Our merchant id: a callback naming another merchant (`pg_merchant_id`) is refused.
    pub merchant_id: String,
    /// Secret keys, newest first: a signature by any of them is accepted.
    pub secret_keys: Vec<String>,
}

/// `pg_sig` over `fields` (any `pg_sig` among them is skipped): MD5 hex of the script name, the
/// values sorted by field name (stable for repeated names), and the secret, joined by `;`.
/// Nested arrays must already be flattened by the caller (FreedomPay names them `key` + `%03d`).
pub fn sign<K: AsRef<str>, V: AsRef<str>>(script: &str, fields: &[(K, V)], secret: &str) -> String {
    let mut sorted: Vec<(&str, &str)> =
        fields.iter().map(|(k, v)| (k.as_ref(), v.as_ref())).filter(|(k, _)| *k != "pg_sig").collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let mut h = Md5::new();
    h.update(script.as_bytes());
    for (_, v) in sorted {
        h.update(b";");
        h.update(v.as_bytes());
    }
    h.update(b";");
    h.update(secret.as_bytes());
    hex::encode(h.finalize())
}

/// The script name FreedomPay signs with: the last segment of our callback path.
pub fn script_name(uri: &str) -> &str {
    last_path_segment(uri)
}

impl FreedomPay {
    /// The secret that signed these fields, if any.
    fn matching_key(&self, script: &str, fields: &[(String, String)]) -> Result<&str, VerifyError> {
        let sig = unique_field(fields, "pg_sig")?.ok_or(VerifyError::BadSignature("missing pg_sig"))?;
        if sig.len() > MAX_SIG {
            return Err(VerifyError::BadSignature("oversized pg_sig"));
        }
        self.secret_keys
            .iter()
            .find(|key| super::ct_eq_hex(&sign(script, fields, key), sig))
            .map(String::as_str)
            .ok_or(VerifyError::BadSignature("pg_sig does not match"))
    }
}

fn salt() -> String {
    rand::thread_rng().sample_iter(&Alphanumeric).take(16).map(char::from).collect()
}

impl GatewayFolder for FreedomPay {
    type Settings = settings::FreedomPaySettings;
    const DIALECT: &'static dyn SandboxDialect = &dialect::FreedomPayDialect;
}

impl Gateway for FreedomPay {
    fn from_settings(s: &Settings, _sandbox_keys: &Arc<Vec<Vec<u8>>>) -> anyhow::Result<Option<Self>> {
        let g = &s.gateways.freedompay;
        Ok(g.freedompay_merchant_id.as_ref().map(|merchant_id| FreedomPay {
            merchant_id: merchant_id.clone(),
            secret_keys: g.freedompay_secret_key.clone(),
        }))
    }

    fn id(&self) -> GatewayId {
        GatewayId::FreedomPay
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { status: true, ..Capabilities::START }
    }

    api_methods!(start, status);

    fn pay_label(&self) -> &'static str {
        "Pay with FreedomPay"
    }

    fn verify(&self, raw: &RawCallback<'_>, _now: i64) -> Result<VerifiedEvent, VerifyError> {
        if raw.media_type() != "application/x-www-form-urlencoded" {
            return Err(VerifyError::UnsupportedMediaType);
        }
        let fields = form_fields(raw.body);
        self.matching_key(script_name(raw.uri), &fields)?;
        let get = |name: &str| field(&fields, name);
        if let Some(m) = get("pg_merchant_id") {
            if !self.merchant_id.is_empty() && m != self.merchant_id {
                return Err(VerifyError::Malformed("pg_merchant_id is not ours".into()));
            }
        }
        let payment_id = checked_id("pg_payment_id", get("pg_payment_id").unwrap_or_default(), 128)?;
        let result = get("pg_result").unwrap_or_default();
        let kind = match result {
            "1" => EventKind::Succeeded,
            "0" => EventKind::Failed,
            r => other(&format!("pg_result={r}")),
        };
        let (amount_minor, currency) = money_fields(get("pg_amount"), get("pg_currency"))?;
        Ok(VerifiedEvent {
            event_id: checked_id("event id", &format!("{payment_id}:{result}"), 255)?,
            kind,
            order_id: get("pg_order_id").map(str::to_string),
            payment_id,
            amount_minor,
            currency,
            three_ds: None,
            subscription: None,
        })
    }

    fn can_refuse(&self, raw: &RawCallback<'_>) -> bool {
        field(&form_fields(raw.body), "pg_can_reject") == Some("1")
    }

    /// The signed XML FreedomPay expects: `rejected` (the gateway then reverses the payment) only
    /// when we refused the event and the request allowed it (`pg_can_reject=1`), else `ok`. Signed
    /// with the secret that signed the request (the first one if none did).
    fn reply(&self, raw: &RawCallback<'_>, ack: Ack, _now: i64) -> poem::Response {
        let fields = form_fields(raw.body);
        let script = script_name(raw.uri);
        let key = self
            .matching_key(script, &fields)
            .ok()
            .or_else(|| self.secret_keys.first().map(String::as_str))
            .unwrap_or_default();
        let reject = ack == Ack::Refused && self.can_refuse(raw);
        let (status, description) = if reject { ("rejected", "Payment refused") } else { ("ok", "Payment accepted") };
        let salt = salt();
        let sig = sign(script, &[("pg_status", status), ("pg_description", description), ("pg_salt", &salt)], key);
        poem::Response::builder().content_type("application/xml; charset=utf-8").body(format!(
            r#"<?xml version="1.0" encoding="utf-8"?><response><pg_status>{status}</pg_status><pg_description>{description}</pg_description><pg_salt>{salt}</pg_salt><pg_sig>{sig}</pg_sig></response>"#
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{body_of, form, headers};
    use super::*;

    const FIELDS: &[(&str, &str)] = &[
        ("pg_order_id", "ord_42"),
        ("pg_payment_id", "12345"),
        ("pg_amount", "500"),
        ("pg_currency", "KZT"),
        ("pg_description", "Order 42"),
        ("pg_result", "1"),
        ("pg_can_reject", "1"),
        ("pg_payment_date", "2024-01-01 12:00:00"),
        ("pg_user_phone", "77777777777"),
        ("pg_user_ip", "127.0.0.1"),
        ("pg_user_id", "u1"),
        ("pg_merchant_id", "555"),
        ("pg_testing_mode", "1"),
        ("pg_salt", "abc123"),
    ];
    const URI: &str = "/api/v1/payments/freedompay/callback";

    fn gw(keys: &[&str]) -> FreedomPay {
        FreedomPay { merchant_id: "555".into(), secret_keys: keys.iter().map(|k| k.to_string()).collect() }
    }

    /// The reference fields plus overrides, signed for the `callback` script with `secret`.
    fn signed_body(overrides: &[(&str, &str)], secret: &str) -> Vec<u8> {
        let mut fields: Vec<(&str, &str)> = FIELDS.to_vec();
        for (k, v) in overrides {
            match fields.iter_mut().find(|(name, _)| name == k) {
                Some(f) => f.1 = v,
                None => fields.push((k, v)),
            }
        }
        let sig = sign("callback", &fields, secret);
        fields.push(("pg_sig", &sig));
        form(&fields)
    }

    fn call(g: &FreedomPay, ct: &str, body: &[u8]) -> Result<VerifiedEvent, VerifyError> {
        let h = headers(&[("content-type", ct)]);
        g.verify(&RawCallback { headers: &h, body, uri: URI }, 0)
    }

    #[test]
    fn reproduces_the_reference_vector() {
        assert_eq!(sign("result", FIELDS, "testsecret"), "539fe5d432c7ad2b2592a7393ea6aac1");
        // Order of arrival does not matter; a pg_sig among the fields is not signed.
        let mut shuffled: Vec<(&str, &str)> = FIELDS.iter().rev().copied().collect();
        shuffled.push(("pg_sig", "whatever"));
        assert_eq!(sign("result", &shuffled, "testsecret"), "539fe5d432c7ad2b2592a7393ea6aac1");
        assert_eq!(script_name("/api/v1/payments/freedompay/callback"), "callback");
    }

    #[test]
    fn verifies_the_reference_request_at_a_result_url() {
        let mut fields = FIELDS.to_vec();
        fields.push(("pg_sig", "539FE5D432C7AD2B2592A7393EA6AAC1"));
        let h = headers(&[("content-type", "application/x-www-form-urlencoded")]);
        let raw = RawCallback { headers: &h, body: &form(&fields), uri: "/pay/result?x=1" };
        let ev = gw(&["testsecret"]).verify(&raw, 0).unwrap();
        assert_eq!(ev.event_id, "12345:1");
        assert_eq!(ev.kind, EventKind::Succeeded);
        assert_eq!(ev.order_id.as_deref(), Some("ord_42"));
        assert_eq!(ev.payment_id, "12345");
        assert_eq!((ev.amount_minor, ev.currency.as_deref()), (Some(50000), Some("KZT")));
        assert_eq!(ev.three_ds, None);
    }

    #[test]
    fn refuses_forgeries() {
        let g = gw(&["testsecret"]);
        let body = signed_body(&[], "testsecret");
        assert!(call(&g, "application/x-www-form-urlencoded", &body).is_ok());
        assert!(matches!(
            call(&gw(&["other"]), "application/x-www-form-urlencoded", &body),
            Err(VerifyError::BadSignature(_))
        ));
        let mut changed = body.clone();
        let at = changed.windows(3).position(|w| w == b"500").unwrap();
        changed[at] = b'9';
        assert!(matches!(call(&g, "application/x-www-form-urlencoded", &changed), Err(VerifyError::BadSignature(_))));
        let added = [body.as_slice(), b"&pg_extra=1"].concat();
        assert!(matches!(call(&g, "application/x-www-form-urlencoded", &added), Err(VerifyError::BadSignature(_))));
        let unsigned = form(FIELDS);
        assert!(matches!(call(&g, "application/x-www-form-urlencoded", &unsigned), Err(VerifyError::BadSignature(_))));
        let long_sig = "a".repeat(65);
        let long = form(&[FIELDS, &[("pg_sig", long_sig.as_str())]].concat());
        assert!(matches!(call(&g, "application/x-www-form-urlencoded", &long), Err(VerifyError::BadSignature(_))));
        let twice = [body.as_slice(), b"&pg_sig=00"].concat();
        assert!(matches!(call(&g, "application/x-www-form-urlencoded", &twice), Err(VerifyError::BadSignature(_))));
        assert_eq!(call(&g, "application/json", &body).unwrap_err(), VerifyError::UnsupportedMediaType);
        let foreign = signed_body(&[("pg_merchant_id", "556")], "testsecret");
        assert!(matches!(call(&g, "application/x-www-form-urlencoded", &foreign), Err(VerifyError::Malformed(_))));
    }

    #[test]
    fn rotation_and_statuses() {
        let g = gw(&["new", "testsecret"]);
        let ev =
            call(&g, "application/x-www-form-urlencoded", &signed_body(&[("pg_result", "0")], "testsecret")).unwrap();
        assert_eq!((ev.kind, ev.event_id.as_str()), (EventKind::Failed, "12345:0"));
        let ev = call(&g, "application/x-www-form-urlencoded", &signed_body(&[("pg_amount", "19.99")], "new")).unwrap();
        assert_eq!(ev.amount_minor, Some(1999));
        let bad = signed_body(&[("pg_amount", "19.999")], "new");
        assert!(matches!(call(&g, "application/x-www-form-urlencoded", &bad), Err(VerifyError::Malformed(_))));
    }

    fn tag<'a>(xml: &'a str, name: &str) -> &'a str {
        let open = format!("<{name}>");
        let start = xml.find(&open).unwrap() + open.len();
        &xml[start..start + xml[start..].find('<').unwrap()]
    }

    async fn reply(g: &FreedomPay, body: &[u8], ack: Ack) -> (String, String) {
        let h = headers(&[("content-type", "application/x-www-form-urlencoded")]);
        let (status, ct, xml) = body_of(g.reply(&RawCallback { headers: &h, body, uri: URI }, ack, 0)).await;
        assert_eq!((status, ct.as_deref()), (200, Some("application/xml; charset=utf-8")));
        assert!(xml.starts_with(r#"<?xml version="1.0" encoding="utf-8"?><response><pg_status>"#), "{xml}");
        (tag(&xml, "pg_status").to_string(), xml)
    }

    fn check_reply_sig(xml: &str, secret: &str) {
        let fields = [
            ("pg_status", tag(xml, "pg_status")),
            ("pg_description", tag(xml, "pg_description")),
            ("pg_salt", tag(xml, "pg_salt")),
        ];
        assert_eq!(tag(xml, "pg_sig"), sign("callback", &fields, secret), "{xml}");
        assert!(tag(xml, "pg_salt").len() >= 16);
    }

    #[tokio::test]
    async fn replies_signed_xml() {
        let g = gw(&["testsecret", "old"]);
        let can = signed_body(&[], "testsecret");
        let (status, xml) = reply(&g, &can, Ack::Accepted).await;
        assert_eq!(status, "ok");
        check_reply_sig(&xml, "testsecret");
        let (status, xml) = reply(&g, &can, Ack::Refused).await;
        assert_eq!(status, "rejected");
        check_reply_sig(&xml, "testsecret");
        let cannot = signed_body(&[("pg_can_reject", "0")], "old");
        let h = headers(&[("content-type", "application/x-www-form-urlencoded")]);
        assert!(g.can_refuse(&RawCallback { headers: &h, body: &can, uri: URI }));
        assert!(!g.can_refuse(&RawCallback { headers: &h, body: &cannot, uri: URI }));
        let (status, xml) = reply(&g, &cannot, Ack::Refused).await;
        assert_eq!(status, "ok");
        // Answered with the key the request was signed with.
        check_reply_sig(&xml, "old");
        let (_, a) = reply(&g, &can, Ack::Accepted).await;
        assert_ne!(tag(&a, "pg_salt"), tag(&xml, "pg_salt"));
    }
}
