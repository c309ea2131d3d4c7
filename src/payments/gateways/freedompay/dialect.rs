//! FreedomPay: a result-URL form post signed with `pg_sig` (MD5 over the script name, the
//! values sorted by field name and the secret). It reports only the final result: no
//! callback for a pending 3-D Secure challenge, and refunds are not on the result URL.

use std::path::Path;
use std::sync::Arc;

use crate::config::Settings;
use crate::payments::gateways::freedompay::{script_name, sign, FreedomPay};
use crate::payments::gateways::Gateway;
use crate::sandbox::dialects::{
    decimal, description, form, number, required, throwaway, utc, Event, SandboxDialect, Speaker,
};

/// (content type, body, event id); `None` for an event FreedomPay would not send.
pub(crate) fn render(
    ev: &Event<'_>,
    merchant_id: &str,
    secret: &str,
    uri: &str,
    now: i64,
) -> Option<(&'static str, Vec<u8>, String)> {
    let p = ev.payment;
    let result = match ev.kind {
        "payment.succeeded" => "1",
        "payment.failed" => "0",
        _ => return None,
    };
    let payment_id = number(&p.id, 9);
    let salt = crate::sandbox::dialects::fresh_hex(16);
    let mut fields: Vec<(String, String)> = [
        ("pg_order_id", p.order_id.clone()),
        ("pg_payment_id", payment_id.clone()),
        ("pg_amount", decimal(p)),
        ("pg_currency", p.currency.clone()),
        ("pg_net_amount", decimal(p)),
        ("pg_ps_amount", decimal(p)),
        ("pg_ps_full_amount", decimal(p)),
        ("pg_ps_currency", p.currency.clone()),
        ("pg_description", description(p)),
        ("pg_result", result.into()),
        ("pg_payment_date", utc(now, "%Y-%m-%d %H:%M:%S")),
        ("pg_can_reject", "1".into()),
        ("pg_payment_method", "bankcard".into()),
        (
            "pg_card_pan",
            format!("{}XX-XXXX-{}", if p.card_last4 == "4242" { "4242-42" } else { "4000-00" }, p.card_last4),
        ),
        ("pg_card_brand", "VI".into()),
        ("pg_captured", result.into()),
        ("pg_merchant_id", merchant_id.into()),
        ("pg_testing_mode", "1".into()),
        ("pg_salt", salt),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    if result == "0" {
        fields.push(("pg_failure_code".into(), "101".into()));
        fields.push(("pg_failure_description".into(), "Payment declined by the issuer".into()));
    }
    let sig = sign(script_name(uri), &fields, secret);
    fields.push(("pg_sig".into(), sig));
    Some(("application/x-www-form-urlencoded", form(&fields), format!("{payment_id}:{result}")))
}

/// The sandbox speaking FreedomPay.
pub struct FreedomPayVoice {
    pub merchant_id: String,
    pub secret: String,
}

impl Speaker for FreedomPayVoice {
    fn render(&self, ev: &Event<'_>, uri: &str, now: i64) -> Option<(&'static str, Vec<u8>, String)> {
        render(ev, &self.merchant_id, &self.secret, uri, now)
    }
}

/// FreedomPay as the sandbox speaks it.
pub struct FreedomPayDialect;

impl SandboxDialect for FreedomPayDialect {
    fn required_settings(&self) -> &'static [&'static str] {
        &["freedompay_merchant_id", "freedompay_secret_key"]
    }

    fn acknowledged(&self, body: &str) -> bool {
        body.contains("<pg_status>ok</pg_status>") || body.contains("<pg_status>rejected</pg_status>")
    }

    fn voice(&self, s: &Settings, secret: String, _key: &[u8]) -> anyhow::Result<Box<dyn Speaker>> {
        let merchant_id = required(&s.gateways.freedompay.freedompay_merchant_id, "freedompay_merchant_id")?;
        Ok(Box::new(FreedomPayVoice { merchant_id, secret }))
    }

    fn adapter(&self, s: &Settings, secrets: Vec<String>) -> anyhow::Result<Option<Arc<dyn Gateway>>> {
        let merchant_id = required(&s.gateways.freedompay.freedompay_merchant_id, "freedompay_merchant_id")?;
        Ok(Some(Arc::new(FreedomPay { merchant_id, secret_keys: secrets })))
    }

    fn demo_settings(&self, _dir: &Path) -> anyhow::Result<Vec<(&'static str, String)>> {
        Ok(vec![("freedompay_merchant_id", "550001".into()), ("freedompay_secret_key", throwaway())])
    }
}
