//! The gateway seam. An adapter turns a raw callback request into a [`VerifiedEvent`] (or
//! refuses it) and renders the reply its gateway expects. Adapters are pure: no database,
//! no clock of their own (the caller passes `now`), no network.

pub mod sandbox;
pub mod standard_webhooks;

use std::collections::BTreeMap;
use std::sync::Arc;

use poem::http::HeaderMap;
use poem::Response;

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

/// How we treated a verified event, for the gateway's reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ack {
    /// Recorded (applied, duplicate, mismatch or ignored): the gateway must stop retrying.
    Received,
}

/// One payment gateway's callback dialect.
pub trait Gateway: Send + Sync {
    /// The name in `/api/v1/payments/{gateway}/callback`.
    fn name(&self) -> &'static str;
    /// Verifies a raw callback; `now` is unix seconds.
    fn verify(&self, raw: &RawCallback<'_>, now: i64) -> Result<VerifiedEvent, VerifyError>;
    /// The success reply this gateway expects.
    fn reply(&self, _ack: Ack) -> Response {
        Response::builder().content_type("application/json").body(r#"{"received":true}"#)
    }
}

/// The enabled gateways by name.
#[derive(Clone, Default)]
pub struct Gateways {
    by_name: BTreeMap<&'static str, Arc<dyn Gateway>>,
}

impl Gateways {
    pub fn add(&mut self, g: Arc<dyn Gateway>) {
        self.by_name.insert(g.name(), g);
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn Gateway>> {
        self.by_name.get(name)
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.by_name.keys().copied().collect()
    }
}
