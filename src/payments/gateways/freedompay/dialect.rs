//! FreedomPay: a result-URL form post signed with `pg_sig` (MD5 over the script name, the
//! values sorted by field name and the secret). It reports only the final result: no
//! callback for a pending 3-D Secure challenge, and refunds are not on the result URL.

use crate::payments::gateways::freedompay::{script_name, sign};
use crate::sandbox::dialects::{decimal, description, form, number, utc, Event};

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
