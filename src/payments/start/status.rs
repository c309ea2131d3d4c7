//! Asking a gateway what became of a payment we started (the reconciliation sweep's
//! question, for when its callback was lost): the answer's shape and the helpers the gateways'
//! `status.rs` share. Read-only: nothing here changes an order; the answer goes through the
//! same `apply_event` as a callback.

use serde_json::Value;

use super::StartError;
use crate::payments::gateways::{self, ThreeDs};

/// A payment the gateway reports as paid (captured), with what it says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paid {
    /// The gateway's payment id, as its callbacks name it (Stripe PaymentIntent, PayPal
    /// capture, FreedomPay payment, AllSecure transaction, Square payment).
    pub payment_id: String,
    /// Our order id as the gateway echoes it, when it does.
    pub order_id: Option<String>,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub three_ds: Option<ThreeDs>,
}

/// The gateway's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Paid(Paid),
    /// Not (yet) paid; the gateway's own word for its state, for the log.
    Unpaid(String),
}

pub(crate) fn bad(gateway: &str, what: &str) -> StartError {
    StartError::Gateway(format!("{gateway} status answer: {what}"))
}

pub(crate) fn malformed(gateway: &str) -> impl Fn(gateways::VerifyError) -> StartError + '_ {
    move |e| bad(gateway, &e.to_string())
}

pub(crate) fn word(v: Option<&str>) -> String {
    v.unwrap_or("none").chars().filter(|c| c.is_ascii_graphic()).take(32).collect()
}

/// A successful JSON object answer, or the error to log.
pub(crate) async fn json_answer(resp: reqwest::Response, gateway: &str) -> Result<Value, StartError> {
    let status = resp.status();
    if !status.is_success() {
        return Err(StartError::Gateway(format!("{gateway} status API answered {status}")));
    }
    let v: Value = resp.json().await.map_err(|_| bad(gateway, "not JSON"))?;
    v.is_object().then_some(v).ok_or_else(|| bad(gateway, "not a JSON object"))
}

pub(crate) fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

/// A decimal amount that may come as a string or a number.
pub(crate) fn decimal_at(v: &Value, pointer: &str) -> Option<String> {
    match v.pointer(pointer)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// An amount in minor units with its currency (`{amount: 1990, currency: "EUR"}` shapes).
pub(crate) fn minor_units(
    gateway: &str,
    amount: Option<&Value>,
    currency: Option<&str>,
) -> Result<(i64, String), StartError> {
    let amount = amount.and_then(Value::as_i64).filter(|a| *a >= 0).ok_or_else(|| bad(gateway, "no amount"))?;
    let currency = gateways::checked_currency(currency.unwrap_or_default()).map_err(malformed(gateway))?;
    Ok((amount, currency))
}
