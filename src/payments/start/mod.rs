//! Starting a payment at a real gateway: `/pay/{order_id}/{gateway}` calls the gateway's
//! [`Gateway::start`](crate::payments::gateways::Gateway::start) (its `start.rs`), which creates
//! the payment through its API (Stripe Checkout Session, Square payment link, FreedomPay
//! init_payment, IXOPAY debit, PayPal order) or signs its redirect (2Checkout buy link, Dotpay),
//! and hands the customer over. This module holds what they share. API base URLs are settings,
//! so tests run against local fakes. Nothing here changes the order: only the gateway's
//! verified callback does.

pub mod status;

use serde_json::Value;

use crate::config::merchant::CaptureMode;
use crate::orders::model::Order;
use crate::state::AppState;

/// What a gateway needs to know to take the customer's money for an order.
pub struct Checkout<'a> {
    pub order: &'a Order,
    pub service_name: &'a str,
    /// Where the gateway sends the customer back (shows the status; changes nothing).
    pub return_url: String,
    /// Where the customer lands if they cancel.
    pub cancel_url: String,
    /// Our callback for that gateway.
    pub callback_url: String,
}

impl<'a> Checkout<'a> {
    pub fn new(state: &AppState, gateway: &str, order: &'a Order, service_name: &'a str) -> Self {
        Checkout {
            order,
            service_name,
            return_url: state.link(&format!("/orders/{}/return", order.id)),
            cancel_url: state.link(&format!("/pay/{}", order.id)),
            callback_url: state.link(&format!("/api/v1/payments/{gateway}/callback")),
        }
    }

    /// The amount as the decimal string gateways expect ("19.90").
    pub fn amount(&self) -> String {
        crate::money::format_minor(self.order.amount_minor, &self.order.currency)
    }
}

/// Why the customer could not be handed over.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The gateway is enabled for callbacks but lacks the settings to start payments.
    #[error("{0} is not configured to start payments (missing {1})")]
    NotConfigured(&'static str, &'static str),
    /// The gateway's API refused or did not answer.
    #[error("{0}")]
    Gateway(String),
}

impl From<reqwest::Error> for StartError {
    fn from(e: reqwest::Error) -> Self {
        StartError::Gateway(format!("gateway unreachable: {}", e.without_url()))
    }
}

/// A payment handed over to a gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    /// Where to send the customer.
    pub url: String,
    /// The gateway's own id for what we created (Stripe checkout session, Square order,
    /// FreedomPay payment, AllSecure transaction, PayPal order): what the reconciliation
    /// sweep asks the gateway about. `None` for signed links (nothing was created yet).
    pub reference: Option<String>,
}

impl Started {
    /// A signed link: nothing exists at the gateway to ask about later.
    pub fn link(url: String) -> Started {
        Started { url, reference: None }
    }
}

/// A setting's value or the `NotConfigured` error naming it.
pub fn required<'s>(v: &'s Option<String>, gateway: &'static str, name: &'static str) -> Result<&'s str, StartError> {
    v.as_deref().ok_or(StartError::NotConfigured(gateway, name))
}

/// `base` without a trailing slash, or the gateway's public default.
pub fn base<'s>(v: &'s Option<String>, default: &'s str) -> &'s str {
    v.as_deref().unwrap_or(default).trim_end_matches('/')
}

// ---- Helpers shared by the gateways' start requests. ----

/// True when payments are only authorised at start (`capture = manual`).
pub fn authorise_only(state: &AppState) -> bool {
    state.settings.merchant.capture == CaptureMode::Manual
}

pub(crate) async fn json_or_error(resp: reqwest::Response, gateway: &str) -> Result<Value, StartError> {
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        return Err(StartError::Gateway(format!("{gateway} answered {status}")));
    }
    Ok(body)
}

/// The gateway's id at `pointer` (a string, or a number as FreedomPay may send it).
pub(crate) fn id_at(v: &Value, pointer: &str) -> Option<String> {
    match v.pointer(pointer)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub(crate) fn url_in(v: &Value, pointer: &str, gateway: &str) -> Result<String, StartError> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        .map(String::from)
        .ok_or_else(|| StartError::Gateway(format!("{gateway} gave no redirect URL")))
}

pub(crate) fn query(base_url: &str, params: &[(&str, String)]) -> String {
    let q = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())))
        .finish();
    let sep = if base_url.contains('?') { '&' } else { '?' };
    format!("{base_url}{sep}{q}")
}
