//! Dotpay URLC: a form post with `signature = sha256(PIN + the listed fields)`. A payment
//! keeps its `operation_number` through its statuses; a refund is a new operation naming it.

use std::path::Path;
use std::sync::Arc;

use crate::config::Settings;
use crate::payments::gateways::dotpay::{signature, Dotpay};
use crate::payments::gateways::Gateway;
use crate::sandbox::dialects::{
    decimal, description, form, number, required, throwaway, utc, Event, SandboxDialect, Speaker,
};

/// `M1234-5678`, Dotpay's operation number format.
fn operation_number(digits: &str) -> String {
    format!("M{}-{}", &digits[..4], &digits[4..8])
}

/// (content type, body, event id); `None` for an event Dotpay would not send.
pub(crate) fn render(ev: &Event<'_>, shop_id: &str, pin: &str, now: i64) -> Option<(&'static str, Vec<u8>, String)> {
    let p = ev.payment;
    let payment = operation_number(&number(&p.id, 8));
    let (op_type, status, op_number, related) = match ev.kind {
        "payment.succeeded" => ("payment", "completed", payment, None),
        "payment.failed" => ("payment", "rejected", payment, None),
        "payment.requires_action" => ("payment", "processing", payment, None),
        "refund.succeeded" => (
            "refund",
            "completed",
            operation_number(&number(&crate::sandbox::dialects::fresh_hex(16), 8)),
            Some(payment),
        ),
        _ => return None,
    };
    let amount = decimal(p);
    let mut fields: Vec<(String, String)> = [
        ("id", shop_id.to_string()),
        ("operation_number", op_number.clone()),
        ("operation_type", op_type.into()),
        ("operation_status", status.into()),
        ("operation_amount", amount.clone()),
        ("operation_currency", p.currency.clone()),
        ("operation_original_amount", amount),
        ("operation_original_currency", p.currency.clone()),
        ("operation_datetime", utc(now, "%Y-%m-%d %H:%M:%S")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    if let Some(related) = related {
        fields.push(("operation_related_number".into(), related));
    }
    for (k, v) in [
        ("control", p.order_id.clone()),
        ("description", description(p)),
        ("p_info", "keyturn sandbox shop".into()),
        ("credit_card_masked_number", format!("XXXX XXXX XXXX {}", p.card_last4)),
        ("credit_card_brand_codename", "visa".into()),
        ("channel", "248".into()),
    ] {
        fields.push((k.into(), v));
    }
    let sig = signature(pin, &fields);
    fields.push(("signature".into(), sig));
    Some(("application/x-www-form-urlencoded", form(&fields), format!("{op_number}:{status}")))
}

/// The sandbox speaking Dotpay.
pub struct DotpayVoice {
    pub shop_id: String,
    pub pin: String,
}

impl Speaker for DotpayVoice {
    fn render(&self, ev: &Event<'_>, _uri: &str, now: i64) -> Option<(&'static str, Vec<u8>, String)> {
        render(ev, &self.shop_id, &self.pin, now)
    }
}

/// Dotpay as the sandbox speaks it.
pub struct DotpayDialect;

impl SandboxDialect for DotpayDialect {
    fn required_settings(&self) -> &'static [&'static str] {
        &["dotpay_shop_id", "dotpay_pin"]
    }

    fn acknowledged(&self, body: &str) -> bool {
        body.trim() == "OK"
    }

    fn voice(&self, s: &Settings, pin: String, _key: &[u8]) -> anyhow::Result<Box<dyn Speaker>> {
        let shop_id = required(&s.gateways.dotpay.dotpay_shop_id, "dotpay_shop_id")?;
        Ok(Box::new(DotpayVoice { shop_id, pin }))
    }

    fn adapter(&self, s: &Settings, pins: Vec<String>) -> anyhow::Result<Option<Arc<dyn Gateway>>> {
        let shop_id = required(&s.gateways.dotpay.dotpay_shop_id, "dotpay_shop_id")?;
        Ok(Some(Arc::new(Dotpay { shop_id, pins })))
    }

    fn demo_settings(&self, _dir: &Path) -> anyhow::Result<Vec<(&'static str, String)>> {
        Ok(vec![("dotpay_shop_id", "123456".into()), ("dotpay_pin", throwaway())])
    }
}
