//! Admin payment operations: capture an authorisation, cancel (void) it, refund (full or
//! partial, never beyond what was captured). `service` owns the rules and the bookkeeping;
//! `sandbox` performs them on the built-in sandbox; `gateway_api` asks a real gateway's API.

pub mod gateway_api;
pub mod model;
pub mod service;

crate::text_enum! {
    /// What an admin asks the gateway to do (`payment_operations.kind`).
    pub enum OpKind("payment operation kind") {
        Capture = "capture",
        Cancel = "cancel",
        Refund = "refund",
    }
}

/// One operation, as a gateway client needs it.
#[derive(Debug, Clone)]
pub struct OpRequest {
    pub kind: OpKind,
    /// The gateway's own payment id, as its callbacks (or our start) recorded it.
    pub gateway_payment_id: String,
    /// What a previous successful capture operation of this payment returned as its reference
    /// (PayPal refunds name the capture, not the authorisation); `None` otherwise.
    pub capture_reference: Option<String>,
    /// Minor units: the amount to capture (the authorised amount) or to refund.
    pub amount_minor: i64,
    /// ISO 4217, upper case.
    pub currency: String,
    pub order_id: String,
    /// Unique per operation: pass it as the gateway's idempotency key where it takes one.
    pub operation_id: String,
}

/// What the gateway answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpAnswer {
    /// Done at the gateway; its id for the capture/void/refund.
    Done { reference: String },
    /// The gateway refused (already captured, amount too large, …): its reason, for the admin.
    Declined(String),
    /// This gateway (or its configuration) offers no API for the operation: do it in the
    /// gateway's dashboard; its callback updates keyturn.
    Unsupported(String),
}

/// The gateway could not be asked (network, 5xx, unreadable answer): nothing is known to have
/// happened; the admin may retry (with the same Idempotency-Key).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unreachable(pub String);
