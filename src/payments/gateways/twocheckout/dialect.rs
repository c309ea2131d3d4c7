//! 2Checkout (Verifone) IPN: a form post with array fields, signed in all three forms a
//! current account sends (`HASH`, `SIGNATURE_SHA2_256`, `SIGNATURE_SHA3_256`) over every
//! field's byte length and value in order.

use std::path::Path;
use std::sync::Arc;

use crate::config::Settings;
use crate::payments::gateways::twocheckout::{hmac_hex, signed_values, Algo, TwoCheckout};
use crate::payments::gateways::Gateway;
use crate::payments::model::PaymentStatus;
use crate::sandbox::dialects::{
    decimal, description, form, number, required, throwaway, utc, Event, SandboxDialect, Speaker,
};

/// (content type, body, event id); `None` for an event 2Checkout would not send.
pub(crate) fn render(ev: &Event<'_>, secret: &str, now: i64) -> Option<(&'static str, Vec<u8>, String)> {
    let p = ev.payment;
    let status = match ev.kind {
        "payment.succeeded" => "COMPLETE",
        "payment.failed" => "CANCELED",
        "payment.requires_action" => "PENDING",
        "refund.succeeded" => "REFUND",
        _ => return None,
    };
    let refno = number(&p.id, 8);
    let amount = decimal(p);
    let sale_date = utc(p.created_at.min(now), "%Y-%m-%d %H:%M:%S");
    let payment_date = if matches!(status, "COMPLETE" | "REFUND") { sale_date.clone() } else { String::new() };
    let mut fields: Vec<(String, String)> = [
        ("GIFT_ORDER", "0".to_string()),
        ("SALEDATE", sale_date),
        ("PAYMENTDATE", payment_date),
        ("REFNO", refno.clone()),
        ("REFNOEXT", p.order_id.clone()),
        ("ORDERNO", "0".into()),
        ("ORDERSTATUS", status.into()),
        ("PAYMETHOD", "Visa/MasterCard".into()),
        ("PAYMETHOD_CODE", "CCVISAMC".into()),
        ("IPN_PID[]", "1".into()),
        ("IPN_PNAME[]", description(p)),
        ("IPN_PCODE[]", String::new()),
        ("IPN_QTY[]", "1".into()),
        ("IPN_PRICE[]", amount.clone()),
        ("IPN_TOTAL[]", amount.clone()),
        ("IPN_TOTALGENERAL", amount),
        ("IPN_SHIPPING", "0.00".into()),
        ("IPN_DATE", utc(now, "%Y%m%d%H%M%S")),
        ("CURRENCY", p.currency.clone()),
        ("FRAUD_STATUS", "APPROVED".into()),
        ("TEST_ORDER", "1".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    if status == "REFUND" {
        let refund_type = if p.status == PaymentStatus::PartiallyRefunded { "PARTIAL" } else { "FULL" };
        fields.push(("REFUND_TYPE".into(), refund_type.into()));
    }
    let signatures: Vec<(String, String)> = {
        let values = signed_values(&fields);
        [("HASH", Algo::Md5), ("SIGNATURE_SHA2_256", Algo::Sha256), ("SIGNATURE_SHA3_256", Algo::Sha3_256)]
            .into_iter()
            .map(|(name, algo)| (name.to_string(), hmac_hex(algo, secret, &values)))
            .collect()
    };
    fields.extend(signatures);
    Some(("application/x-www-form-urlencoded", form(&fields), format!("{refno}:{status}")))
}

/// The sandbox speaking 2Checkout.
pub struct TwoCheckoutVoice {
    pub secret: String,
}

impl Speaker for TwoCheckoutVoice {
    fn render(&self, ev: &Event<'_>, _uri: &str, now: i64) -> Option<(&'static str, Vec<u8>, String)> {
        render(ev, &self.secret, now)
    }
}

/// 2Checkout as the sandbox speaks it.
pub struct TwoCheckoutDialect;

impl SandboxDialect for TwoCheckoutDialect {
    fn required_settings(&self) -> &'static [&'static str] {
        &["twocheckout_merchant_code", "twocheckout_secret_key"]
    }

    fn acknowledged(&self, body: &str) -> bool {
        body.contains("<sig algo=") || body.contains("<EPAYMENT>")
    }

    fn voice(&self, _s: &Settings, secret: String, _key: &[u8]) -> anyhow::Result<Box<dyn Speaker>> {
        Ok(Box::new(TwoCheckoutVoice { secret }))
    }

    fn adapter(&self, s: &Settings, secrets: Vec<String>) -> anyhow::Result<Option<Arc<dyn Gateway>>> {
        let merchant_code = required(&s.gateways.twocheckout.twocheckout_merchant_code, "twocheckout_merchant_code")?;
        Ok(Some(Arc::new(TwoCheckout { merchant_code, secret_keys: secrets })))
    }

    fn demo_settings(&self, _dir: &Path) -> anyhow::Result<Vec<(&'static str, String)>> {
        Ok(vec![("twocheckout_merchant_code", "DEMO".into()), ("twocheckout_secret_key", throwaway())])
    }
}
