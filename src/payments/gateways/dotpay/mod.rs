//! Dotpay URLC notifications: a form post with `signature = hex(SHA-256(PIN + the values of a
//! fixed list of fields))`, absent fields as empty strings; answered with `OK`.

pub mod dialect;
pub mod settings;
pub mod start;

use std::sync::Arc;

use crate::config::Settings;
use crate::payments::gateways::{api_methods, Capabilities, GatewayFolder, GatewayId};
use crate::sandbox::dialects::SandboxDialect;

use sha2::{Digest, Sha256};

use super::{
    checked_id, ct_eq_hex, field, form_fields, money_fields, other, text_reply, unique_field, Ack, EventKind, Gateway,
    RawCallback, VerifiedEvent, VerifyError,
};

/// The signed fields, in signing order (from several independent implementations; the official
/// table was not readable: unconfirmed).
pub const SIGNED_FIELDS: [&str; 37] = [
    "id",
    "operation_number",
    "operation_type",
    "operation_status",
    "operation_amount",
    "operation_currency",
    "operation_withdrawal_amount",
    "operation_commission_amount",
    "is_completed",
    "operation_original_amount",
    "operation_original_currency",
    "operation_datetime",
    "operation_related_number",
    "control",
    "description",
    "email",
    "p_info",
    "p_email",
    "credit_card_issuer_identification_number",
    "credit_card_masked_number",
    "credit_card_expiration_year",
    "credit_card_expiration_month",
    "credit_card_brand_codename",
    "credit_card_brand_code",
    "credit_card_unique_identifier",
    "credit_card_id",
    "channel",
    "channel_country",
    "geoip_country",
    "payer_bank_account_name",
    "payer_bank_account",
    "payer_transfer_title",
    "blik_voucher_pin",
    "blik_voucher_amount",
    "blik_voucher_amount_used",
    "channel_reference_id",
    "operation_seller_code",
];

/// Longest `signature` we read (a SHA-256 hex is 64).
const MAX_SIG: usize = 128;

/// The Dotpay adapter.
pub struct Dotpay {
    /// Our shop id: a notification for another shop (`id`) is refused.
    pub shop_id: String,
    /// URLC PINs, newest first: a signature by any of them is accepted.
    pub pins: Vec<String>,
}

/// The URLC `signature` for `fields` (looked up by name, first occurrence; absent ones are empty).
pub fn signature<K: AsRef<str>, V: AsRef<str>>(pin: &str, fields: &[(K, V)]) -> String {
    let mut h = Sha256::new();
    h.update(pin.as_bytes());
    for name in SIGNED_FIELDS {
        if let Some((_, v)) = fields.iter().find(|(k, _)| k.as_ref() == name) {
            h.update(v.as_ref().as_bytes());
        }
    }
    hex::encode(h.finalize())
}

/// `operation_type` × `operation_status` → kind. A completed refund (or complaint) is a refund,
/// not a payment (our choice: the status alone would read as paid).
fn kind(op_type: &str, status: &str) -> EventKind {
    match (op_type, status) {
        ("payment", "completed") => EventKind::Succeeded,
        ("payment", "rejected") => EventKind::Failed,
        ("payment", "new" | "processing") => EventKind::RequiresAction,
        ("refund" | "complaint", "completed") => EventKind::Refunded,
        _ => other(&format!("{op_type}:{status}")),
    }
}

impl GatewayFolder for Dotpay {
    type Settings = settings::DotpaySettings;
    const DIALECT: &'static dyn SandboxDialect = &dialect::DotpayDialect;
}

impl Gateway for Dotpay {
    fn from_settings(s: &Settings, _sandbox_keys: &Arc<Vec<Vec<u8>>>) -> anyhow::Result<Option<Self>> {
        let g = &s.gateways.dotpay;
        Ok(g.dotpay_shop_id.as_ref().map(|shop_id| Dotpay { shop_id: shop_id.clone(), pins: g.dotpay_pin.clone() }))
    }

    fn id(&self) -> GatewayId {
        GatewayId::Dotpay
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::START
    }

    api_methods!(link);

    fn pay_label(&self) -> &'static str {
        "Pay with Dotpay"
    }

    fn verify(&self, raw: &RawCallback<'_>, _now: i64) -> Result<VerifiedEvent, VerifyError> {
        if raw.media_type() != "application/x-www-form-urlencoded" {
            return Err(VerifyError::UnsupportedMediaType);
        }
        let fields = form_fields(raw.body);
        let sig = unique_field(&fields, "signature")?.ok_or(VerifyError::BadSignature("missing signature"))?;
        if sig.len() > MAX_SIG {
            return Err(VerifyError::BadSignature("oversized signature"));
        }
        if !self.pins.iter().any(|pin| ct_eq_hex(&signature(pin, &fields), sig)) {
            return Err(VerifyError::BadSignature("signature does not match"));
        }
        let get = |name: &str| field(&fields, name).unwrap_or_default();
        if !self.shop_id.is_empty() && get("id") != self.shop_id {
            return Err(VerifyError::Malformed("id is not our shop".into()));
        }
        let number = checked_id("operation_number", get("operation_number"), 128)?;
        let (op_type, status) = (get("operation_type"), get("operation_status"));
        // A refund names the payment it refunds, so that it updates the same payment.
        let payment_id = match get("operation_related_number") {
            related if op_type != "payment" && !related.is_empty() => {
                checked_id("operation_related_number", related, 128)?
            }
            _ => number.clone(),
        };
        let (amount_minor, currency) =
            money_fields(field(&fields, "operation_amount"), field(&fields, "operation_currency"))?;
        Ok(VerifiedEvent {
            event_id: checked_id("event id", &format!("{number}:{status}"), 255)?,
            kind: kind(op_type, status),
            order_id: field(&fields, "control").map(str::to_string),
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
    use super::super::test_support::{body_of, form, headers};
    use super::*;

    const PIN: &str = "TestPin123";
    const FIELDS: &[(&str, &str)] = &[
        ("id", "123456"),
        ("operation_number", "M1234-5678"),
        ("operation_type", "payment"),
        ("operation_status", "completed"),
        ("operation_amount", "19.99"),
        ("operation_currency", "PLN"),
        ("operation_withdrawal_amount", "19.50"),
        ("operation_commission_amount", "0.49"),
        ("operation_original_amount", "19.99"),
        ("operation_original_currency", "PLN"),
        ("operation_datetime", "2024-01-01 12:00:00"),
        ("control", "ord_42"),
        ("description", "Zamówienie 42"),
        ("email", "jan@example.com"),
        ("p_info", "Sklep"),
        ("p_email", "shop@example.com"),
        ("channel", "73"),
        ("is_completed", "true"),
    ];
    // No vector in gateways.md. Computed independently, once, with Python:
    //   hashlib.sha256(("TestPin123" + "".join(f.get(k, "") for k in SIGNED_FIELDS)).encode()).hexdigest()
    // over the fields above, i.e. the UTF-8 string
    // "TestPin123123456M1234-5678paymentcompleted19.99PLN19.500.49true19.99PLN2024-01-01 12:00:00ord_42Zamówienie 42jan@example.comSklepshop@example.com73".
    const SIG: &str = "d07da836465781a44fe1e9165820c815b124446c42fae62be83eb258af377e5c";
    const FORM: &str = "application/x-www-form-urlencoded";

    fn gw(pins: &[&str]) -> Dotpay {
        Dotpay { shop_id: "123456".into(), pins: pins.iter().map(|p| p.to_string()).collect() }
    }

    fn body(overrides: &[(&str, &str)], pin: &str) -> Vec<u8> {
        let mut fields = FIELDS.to_vec();
        for (k, v) in overrides {
            match fields.iter_mut().find(|(name, _)| name == k) {
                Some(f) => f.1 = v,
                None => fields.push((k, v)),
            }
        }
        let sig = signature(pin, &fields);
        fields.push(("signature", &sig));
        form(&fields)
    }

    fn call(g: &Dotpay, ct: &str, body: &[u8]) -> Result<VerifiedEvent, VerifyError> {
        let h = headers(&[("content-type", ct)]);
        g.verify(&RawCallback { headers: &h, body, uri: "/api/v1/payments/dotpay/callback" }, 0)
    }

    #[test]
    fn reproduces_the_independent_vector() {
        assert_eq!(signature(PIN, FIELDS), SIG);
    }

    #[test]
    fn verifies_and_maps() {
        let mut fields = FIELDS.to_vec();
        fields.push(("signature", SIG));
        let ev = call(&gw(&[PIN]), FORM, &form(&fields)).unwrap();
        assert_eq!(ev.event_id, "M1234-5678:completed");
        assert_eq!(ev.kind, EventKind::Succeeded);
        assert_eq!(ev.order_id.as_deref(), Some("ord_42"));
        assert_eq!(ev.payment_id, "M1234-5678");
        assert_eq!((ev.amount_minor, ev.currency.as_deref()), (Some(1999), Some("PLN")));
        assert_eq!(ev.three_ds, None);
    }

    #[test]
    fn refuses_forgeries() {
        let g = gw(&[PIN]);
        let good = body(&[], PIN);
        assert!(call(&g, FORM, &good).is_ok());
        assert!(matches!(call(&gw(&["other"]), FORM, &good), Err(VerifyError::BadSignature(_))));
        let mut changed = good.clone();
        let at = changed.windows(5).position(|w| w == b"19.99").unwrap();
        changed[at + 4] = b'8';
        assert!(matches!(call(&g, FORM, &changed), Err(VerifyError::BadSignature(_))));
        assert!(matches!(call(&g, FORM, &form(FIELDS)), Err(VerifyError::BadSignature(_))));
        let long = [form(FIELDS), format!("&signature={}", "a".repeat(130)).into_bytes()].concat();
        assert!(matches!(call(&g, FORM, &long), Err(VerifyError::BadSignature(_))));
        let forged = [form(FIELDS), format!("&signature={}", "0".repeat(64)).into_bytes()].concat();
        assert!(matches!(call(&g, FORM, &forged), Err(VerifyError::BadSignature(_))));
        assert_eq!(call(&g, "application/json", &good).unwrap_err(), VerifyError::UnsupportedMediaType);
        let foreign = body(&[("id", "999")], PIN);
        assert!(matches!(call(&g, FORM, &foreign), Err(VerifyError::Malformed(_))));
    }

    #[test]
    fn rotation_and_statuses() {
        let g = gw(&["new", PIN]);
        for (status, expected) in [
            ("rejected", EventKind::Failed),
            ("new", EventKind::RequiresAction),
            ("processing", EventKind::RequiresAction),
            ("completed", EventKind::Succeeded),
        ] {
            let ev = call(&g, FORM, &body(&[("operation_status", status)], PIN)).unwrap();
            assert_eq!(ev.kind, expected, "{status}");
        }
        let refund = body(
            &[("operation_type", "refund"), ("operation_number", "M9-1"), ("operation_related_number", "M1234-5678")],
            "new",
        );
        let ev = call(&g, FORM, &refund).unwrap();
        assert_eq!(
            (ev.kind, ev.payment_id.as_str(), ev.event_id.as_str()),
            (EventKind::Refunded, "M1234-5678", "M9-1:completed")
        );
        let payout = body(&[("operation_type", "payout")], PIN);
        assert_eq!(call(&g, FORM, &payout).unwrap().kind, EventKind::Other("payout:completed".into()));
    }

    #[tokio::test]
    async fn replies_ok() {
        let h = headers(&[]);
        let raw = RawCallback { headers: &h, body: b"", uri: "/" };
        let (status, ct, text) = body_of(gw(&[PIN]).reply(&raw, Ack::Accepted, 0)).await;
        assert_eq!((status, ct.as_deref(), text.as_str()), (200, Some("text/plain; charset=utf-8"), "OK"));
    }
}
