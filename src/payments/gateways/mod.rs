//! The gateway seam. Each gateway lives in its own folder (`<name>/`: `mod.rs` the callback
//! adapter, `settings.rs` its settings group, `dialect.rs` the sandbox's imitation of its
//! callbacks, and `start.rs`, `status.rs`, `ops.rs` as it has them) and implements [`Gateway`]
//! and [`GatewayFolder`]; `registry.rs` lists them, one line each, keyed by [`GatewayId`].
//!
//! The callback part of an adapter turns a raw callback request into a [`VerifiedEvent`] (or
//! refuses it) and renders the reply its gateway expects. It is pure: no database, no clock of
//! its own (the caller passes `now`), no network. The capability methods (start, operations,
//! status) call the gateway's API with the settings in `AppState`; [`Capabilities`] says which
//! it has.

pub mod allsecure;
mod capabilities;
pub mod dotpay;
mod folder;
pub mod freedompay;
pub mod paypal;
pub mod registry;
pub mod sandbox;
pub mod square;
pub mod standard_webhooks;
pub mod stripe;
pub mod twocheckout;

use std::collections::BTreeMap;
use std::future::ready;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use poem::http::HeaderMap;
use poem::Response;
use subtle::ConstantTimeEq;

pub(crate) use capabilities::api_methods;
pub use capabilities::Capabilities;
pub use folder::{GatewayFolder, GatewaySettingsGroup, NoSettings};
pub use registry::{GatewayId, GatewaySettings};

use crate::config::Settings;
use crate::payments::ops::{gateway_api, OpAnswer, OpRequest, Unreachable};
use crate::payments::start::status::Status;
use crate::payments::start::{Checkout, StartError, Started};
use crate::state::AppState;

/// A callback exactly as received.
pub struct RawCallback<'a> {
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    /// Path and query as received, e.g. `/api/v1/payments/sandbox/callback`.
    pub uri: &'a str,
}

impl RawCallback<'_> {
    /// A header as text (absent or non-UTF-8 → `None`).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The media type without parameters, lower-cased.
    pub fn media_type(&self) -> String {
        self.header("content-type")
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    }
}

/// What a gateway says happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// Money captured: the final paid state.
    Succeeded,
    /// Authorised, to be captured later.
    Authorized,
    Failed,
    /// Waiting for the customer (3-D Secure challenge).
    RequiresAction,
    Refunded,
    /// Part of the captured money given back, as the gateway says (`amount_minor`: this
    /// refund's, when known); never taken for a full refund whatever the amount.
    PartiallyRefunded,
    /// An authorisation voided before capture.
    Cancelled,
    /// The gateway also names its payment `payment_id` by this id (Stripe: the PaymentIntent
    /// that paid a subscription's invoice). Remembered, so a later event naming the payment
    /// only that way (a refund) finds it; no effect on money.
    AlsoKnownAs(String),
    /// Anything else; recorded, no effect.
    Other(String),
}

/// The 3-D Secure outcome a gateway reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreeDs {
    Authenticated,
    Attempted,
    Exempted,
    NotPerformed,
    Failed,
}

impl ThreeDs {
    pub fn parse(s: &str) -> Option<ThreeDs> {
        Some(match s {
            "authenticated" => ThreeDs::Authenticated,
            "attempted" | "attempt_acknowledged" => ThreeDs::Attempted,
            "exempted" => ThreeDs::Exempted,
            "not_performed" | "not_supported" => ThreeDs::NotPerformed,
            "failed" => ThreeDs::Failed,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ThreeDs::Authenticated => "authenticated",
            ThreeDs::Attempted => "attempted",
            ThreeDs::Exempted => "exempted",
            ThreeDs::NotPerformed => "not_performed",
            ThreeDs::Failed => "failed",
        }
    }
}

/// A callback whose origin has been proven.
#[derive(Debug, Clone)]
pub struct VerifiedEvent {
    /// The gateway's event id: the dedupe key.
    pub event_id: String,
    pub kind: EventKind,
    /// Our order id, as the gateway echoes it.
    pub order_id: Option<String>,
    /// The gateway's own payment id.
    pub payment_id: String,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    /// `None` when the gateway does not report 3-D Secure.
    pub three_ds: Option<ThreeDs>,
    /// The gateway subscription the event is about, for gateways that charge on their own
    /// schedule (`payments::recurring`); `None` for a one-off payment.
    pub subscription: Option<SubscriptionRef>,
}

/// A subscription at a gateway that an event names (Stripe `sub_…`, PayPal `I-…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRef {
    pub id: String,
    pub event: SubscriptionEvent,
}

/// What an event says about its subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionEvent {
    /// A charge the gateway calls the subscription's first (Stripe's Checkout completion and
    /// `billing_reason=subscription_create`): it pays the order the subscription was started for.
    FirstCharge,
    /// A charge the gateway calls a renewal (Stripe's `billing_reason=subscription_cycle`).
    CycleCharge,
    /// A charge whose place the gateway does not say (a PayPal sale): the first when it pays the
    /// subscription's order, else a renewal.
    Charge,
    /// The subscription ended at the gateway (cancelled, expired): it charges no more.
    Ended,
}

/// Why a callback was refused before anything was recorded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error("signature invalid: {0}")]
    BadSignature(&'static str),
    #[error("timestamp outside the accepted window")]
    StaleTimestamp,
    #[error("malformed callback: {0}")]
    Malformed(String),
    #[error("unsupported content type")]
    UnsupportedMediaType,
}

/// How we treated a verified event, for the gateway's reply. Either way it was recorded and
/// the gateway must stop retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ack {
    /// Applied, a duplicate, or informational.
    Accepted,
    /// Refused on our side (amount/currency mismatch, failed 3-D Secure, a second payment for
    /// a paid order): gateways that can reverse a payment on our word (FreedomPay's
    /// `pg_can_reject=1` → `rejected`) are told so; the others just get their normal ack.
    Refused,
}

/// One payment gateway: its callback dialect (pure) and what its API does for us.
pub trait Gateway: Send + Sync {
    /// The adapter when its settings are present (`None`: the gateway is off); fails on
    /// settings that cannot work (e.g. an unreadable PEM).
    fn from_settings(s: &Settings, sandbox_keys: &Arc<Vec<Vec<u8>>>) -> anyhow::Result<Option<Self>>
    where
        Self: Sized;
    fn id(&self) -> GatewayId;
    /// The name in `/api/v1/payments/{gateway}/callback` and in the database.
    fn name(&self) -> &'static str {
        self.id().as_str()
    }

    // ---- Callbacks: pure. ----

    /// Verifies a raw callback; `now` is unix seconds.
    fn verify(&self, raw: &RawCallback<'_>, now: i64) -> Result<VerifiedEvent, VerifyError>;
    /// A certificate this callback names and the adapter does not hold (PayPal's
    /// `PAYPAL-CERT-URL` when no certificate file is configured): the caller fetches it —
    /// from allowed origins only, cached — and passes it to [`Gateway::verify_with_certificate`].
    fn certificate_url(&self, _raw: &RawCallback<'_>) -> Option<String> {
        None
    }
    /// Verifies with a fetched certificate (PEM) instead of configured ones.
    fn verify_with_certificate(
        &self,
        raw: &RawCallback<'_>,
        now: i64,
        _pem: &[u8],
    ) -> Result<VerifiedEvent, VerifyError> {
        self.verify(raw, now)
    }
    /// True when a [`Ack::Refused`] reply to this callback makes the gateway reverse the payment
    /// (FreedomPay's `pg_can_reject=1`): the refusal is then recorded as money not taken.
    fn can_refuse(&self, _raw: &RawCallback<'_>) -> bool {
        false
    }
    /// True when each refund notice reports that one refund's amount (2Checkout sends one notice
    /// per refund), so the amounts of its notices add up; otherwise a notice's amount is taken as
    /// the total given back so far. Never true for a gateway that refunds through us
    /// (`capabilities().refund`): the echo of our own refund, already reserved in
    /// `refunded_minor`, would be counted again (the registry refuses that at start).
    fn refund_notices_add_up(&self) -> bool {
        false
    }
    /// The reply this gateway expects for a verified callback (`raw` is the request it answers;
    /// `now` is unix seconds, for replies that sign a date).
    fn reply(&self, _raw: &RawCallback<'_>, _ack: Ack, _now: i64) -> Response {
        Response::builder().content_type("application/json").body(r#"{"received":true}"#)
    }

    // ---- What its API does for us (network; settings from `state`). ----

    /// Which of the methods below do something.
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }
    /// The label of the customer's pay button.
    fn pay_label(&self) -> &'static str {
        "Pay"
    }
    /// The pay button: its label and where it leads (`/pay/{order_id}/{gateway}`, which
    /// hands the customer over through [`Gateway::start`]).
    fn pay_button(&self, order_id: &str) -> (&'static str, String) {
        (self.pay_label(), format!("/pay/{order_id}/{}", self.name()))
    }
    /// Hands the customer over: where to send them and what was created at the gateway.
    fn start<'a>(&'a self, _state: &'a AppState, _c: &'a Checkout<'a>) -> BoxFuture<'a, Result<Started, StartError>> {
        Box::pin(ready(Err(StartError::NotConfigured("this gateway", "support for starting payments"))))
    }
    /// Performs an admin's capture, cancel or refund (asked only for those in
    /// [`Gateway::capabilities`]).
    fn operate<'a>(&'a self, _state: &'a AppState, req: &'a OpRequest) -> BoxFuture<'a, Result<OpAnswer, Unreachable>> {
        Box::pin(ready(Ok(gateway_api::dashboard(self.id(), req.kind))))
    }
    /// Asks what became of the payment the gateway knows as `reference` (from our start).
    fn status<'a>(&'a self, _state: &'a AppState, _reference: &'a str) -> BoxFuture<'a, Result<Status, StartError>> {
        Box::pin(ready(Err(StartError::NotConfigured("this gateway", "a status API"))))
    }
}

/// The enabled gateways by name (in name order: the order of the pay buttons).
#[derive(Clone, Default)]
pub struct Gateways {
    by_name: BTreeMap<&'static str, Arc<dyn Gateway>>,
    /// The sandbox's dialect adapter (sandbox-only secrets), for the sandbox's own callback.
    sandbox_dialect: Option<Arc<dyn Gateway>>,
}

impl Gateways {
    pub fn add(&mut self, g: Arc<dyn Gateway>) {
        self.by_name.insert(g.name(), g);
    }

    /// The enabled gateway of this name (as in a URL or a stored row).
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Gateway>> {
        self.by_name.get(name)
    }

    /// The gateway when enabled.
    pub fn by_id(&self, id: GatewayId) -> Option<&Arc<dyn Gateway>> {
        self.by_name.get(id.as_str())
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.by_name.keys().copied().collect()
    }

    /// The enabled gateways, in name order.
    pub fn all(&self) -> impl Iterator<Item = &Arc<dyn Gateway>> {
        self.by_name.values()
    }

    /// Sets the adapter that verifies the sandbox's callbacks in a gateway's dialect.
    pub fn set_sandbox_dialect(&mut self, g: Arc<dyn Gateway>) {
        self.sandbox_dialect = Some(g);
    }

    /// The adapter for `/api/v1/payments/sandbox/{name}/callback`, when the sandbox speaks `name`.
    pub fn sandbox_dialect(&self, name: &str) -> Option<&Arc<dyn Gateway>> {
        self.sandbox_dialect.as_ref().filter(|g| g.name() == name)
    }
}

// ---- Small helpers shared by the adapters. ----

/// Decoded `application/x-www-form-urlencoded` fields, in the order received (repeats kept).
pub fn form_fields(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// The first value of a form field.
pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// The single value of a form field: `Err` when it is repeated (a signature field must be unique).
pub fn unique_field<'a>(fields: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, VerifyError> {
    let mut values = fields.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let first = values.next();
    if values.next().is_some() {
        return Err(VerifyError::BadSignature("repeated signature field"));
    }
    Ok(first)
}

/// Constant-time equality of two byte strings (their lengths are not secret).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Constant-time comparison of a received hex digest with the expected lower-case hex,
/// ignoring the case of the received one.
pub fn ct_eq_hex(expected_lower: &str, received: &str) -> bool {
    ct_eq(expected_lower.as_bytes(), received.to_ascii_lowercase().as_bytes())
}

/// `true` when `t` is within `tolerance` seconds of `now`, either direction.
pub fn within(now: i64, t: i64, tolerance: i64) -> bool {
    now.checked_sub(t).is_some_and(|d| d.abs() <= tolerance)
}

/// A gateway id we store: 1 to `max` bytes, no control characters, no white space at either
/// end (MariaDB's PAD SPACE collations would match `id` and `id ` as one).
pub fn checked_id(what: &str, value: &str, max: usize) -> Result<String, VerifyError> {
    if value.is_empty() || value.len() > max || value.chars().any(char::is_control) || value.trim() != value {
        return Err(VerifyError::Malformed(format!(
            "{what} must be 1 to {max} printable characters, without spaces at either end"
        )));
    }
    Ok(value.to_string())
}

/// An ISO 4217 code, upper-cased.
pub fn checked_currency(value: &str) -> Result<String, VerifyError> {
    if value.len() != 3 || !value.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(VerifyError::Malformed("currency must be a 3-letter ISO code".into()));
    }
    Ok(value.to_ascii_uppercase())
}

/// A decimal amount string (`"19.99"`) in minor units of `currency`.
pub fn decimal_amount(value: &str, currency: &str) -> Result<i64, VerifyError> {
    crate::money::parse_decimal(value, currency).ok_or_else(|| {
        VerifyError::Malformed(format!("amount `{}` is not a valid {currency} amount", printable(value, 32)))
    })
}

/// `amount` and `currency` together (both or neither): the decimal string parsed by the currency.
pub fn money_fields(
    amount: Option<&str>,
    currency: Option<&str>,
) -> Result<(Option<i64>, Option<String>), VerifyError> {
    let currency = currency.filter(|c| !c.is_empty()).map(checked_currency).transpose()?;
    let amount = match (amount.filter(|a| !a.is_empty()), &currency) {
        (None, _) => None,
        (Some(a), Some(c)) => Some(decimal_amount(a, c)?),
        (Some(_), None) => return Err(VerifyError::Malformed("an amount without a currency".into())),
    };
    Ok((amount, currency))
}

/// An unrecognised event type or status, kept printable and short.
pub fn other(kind: &str) -> EventKind {
    EventKind::Other(printable(kind, 64))
}

fn printable(s: &str, max: usize) -> String {
    s.chars().filter(|c| c.is_ascii_graphic()).take(max).collect()
}

/// The last segment of a request path (`/a/b/callback?x=1` → `callback`).
pub fn last_path_segment(uri: &str) -> &str {
    let path = uri.split(['?', '#']).next().unwrap_or_default();
    path.trim_end_matches('/').rsplit('/').next().unwrap_or_default()
}

/// HTTP 200 with a `text/plain` body.
pub fn text_reply(body: &str) -> Response {
    Response::builder().content_type("text/plain; charset=utf-8").body(body.to_string())
}

#[cfg(test)]
pub(crate) mod test_support {
    use poem::http::{HeaderMap, HeaderName, HeaderValue};

    /// A header map from name/value pairs.
    pub fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    /// A url-encoded form body from fields in order.
    pub fn form(fields: &[(&str, &str)]) -> Vec<u8> {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in fields {
            s.append_pair(k, v);
        }
        s.finish().into_bytes()
    }

    /// A reply's status and body text.
    pub async fn body_of(r: poem::Response) -> (u16, Option<String>, String) {
        let status = r.status().as_u16();
        let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_string);
        (status, ct, r.into_body().into_string().await.unwrap())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(last_path_segment("/api/v1/payments/freedompay/callback?x=/y"), "callback");
        assert_eq!(last_path_segment("/a/result/"), "result");
        assert_eq!(
            form_fields(b"a=1&b=x+y&c=%26&a=2"),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "x y".into()),
                ("c".into(), "&".into()),
                ("a".into(), "2".into())
            ]
        );
        assert!(ct_eq_hex("abcd", "ABCD"));
        assert!(!ct_eq_hex("abcd", "abce"));
        assert!(!ct_eq_hex("abcd", "abc"));
        assert!(within(100, 400, 300) && !within(100, 401, 300) && !within(i64::MAX, -5, 300));
        assert_eq!(money_fields(Some("19.99"), Some("eur")), Ok((Some(1999), Some("EUR".into()))));
        assert!(money_fields(Some("19.99"), None).is_err());
        assert!(money_fields(Some("19.999"), Some("EUR")).is_err());
    }

    #[test]
    fn gateway_ids_are_bounded_printable_and_unpadded() {
        assert_eq!(checked_id("id", "pi_3Abc", 255), Ok("pi_3Abc".into()));
        assert!(checked_id("id", &"a".repeat(255), 255).is_ok());
        assert!(checked_id("id", &"a".repeat(256), 255).is_err());
        for bad in ["", "pi_1 ", " pi_1", "pi\n1", "\tpi"] {
            assert!(checked_id("id", bad, 255).is_err(), "{bad:?} accepted");
        }
        assert!(checked_id("id", "two words", 255).is_ok());
    }
}
