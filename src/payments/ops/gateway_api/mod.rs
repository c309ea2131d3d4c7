//! Capture, cancel and refund through gateways' APIs (their API base URLs are settings, so
//! tests point them at local fakes). Each gateway's `ops.rs` (in its folder) builds its requests
//! and reads its answers (pure, unit-tested); the helpers here send them and sort every answer
//! into done, declined (the gateway said no), unsupported (no API, or a setting is missing) or
//! unreachable.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{OpAnswer, OpKind, OpRequest, Unreachable};
use crate::payments::gateways::{Gateway, GatewayId};
use crate::payments::start::StartError;
use crate::state::AppState;

/// Longest gateway message passed on to the admin.
const MAX_MESSAGE: usize = 300;

/// Performs `req` at `gateway`, through its API when it has one for the operation.
pub async fn perform(state: &AppState, gateway: &dyn Gateway, req: &OpRequest) -> Result<OpAnswer, Unreachable> {
    let result = match gateway.capabilities().operation(req.kind) {
        true => gateway.operate(state, req).await,
        false => Ok(dashboard(gateway.id(), req.kind)),
    };
    log(gateway.id(), req, &result);
    result
}

/// Refusals and missing support are logged here (the service logs what it does with the rest).
fn log(gateway: GatewayId, req: &OpRequest, result: &Result<OpAnswer, Unreachable>) {
    let (gateway, op, order_id) = (gateway.as_str(), req.kind.as_str(), req.order_id.as_str());
    match result {
        Ok(OpAnswer::Declined(reason)) => {
            tracing::info!(event = "gateway_op_declined", gateway, op, order_id, reason = %reason, "gateway refused")
        }
        Ok(OpAnswer::Unsupported(why)) => {
            tracing::info!(event = "gateway_op_unsupported", gateway, op, order_id, why = %why, "not through the API")
        }
        Ok(OpAnswer::Done { reference }) => {
            tracing::debug!(event = "gateway_op_done", gateway, op, order_id, reference = %reference, "gateway did it")
        }
        Err(e) => tracing::debug!(event = "gateway_op_unreachable", gateway, op, order_id, error = %e, "no answer"),
    }
}

/// The answer for gateways without an operations API (FreedomPay, 2Checkout, Dotpay).
pub(crate) fn dashboard(gateway: GatewayId, kind: OpKind) -> OpAnswer {
    OpAnswer::Unsupported(format!(
        "{} offers no {} through keyturn: do it in the gateway's dashboard; its callback updates keyturn",
        gateway.display_name(),
        kind.as_str()
    ))
}

/// The answer when a setting the API needs is missing.
pub(crate) fn missing(gateway: GatewayId, kind: OpKind, setting: &str) -> OpAnswer {
    OpAnswer::Unsupported(format!(
        "{} {} through keyturn needs {setting}: set it, or do it in the gateway's dashboard; its callback updates keyturn",
        gateway.display_name(),
        kind.as_str()
    ))
}

/// A failed request of the shared start/status helpers: a missing setting or no answer.
pub(crate) fn from_start(gateway: GatewayId, kind: OpKind, e: StartError) -> Result<OpAnswer, Unreachable> {
    match e {
        StartError::NotConfigured(_, setting) => Ok(missing(gateway, kind, setting)),
        StartError::Gateway(message) => Err(Unreachable(message)),
    }
}

/// A gateway's HTTP answer: status and JSON body (`Null` when empty or, for a refusal, unreadable).
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn str_at(&self, pointer: &str) -> Option<&str> {
        self.body.pointer(pointer).and_then(Value::as_str)
    }
}

/// Sorts a raw answer: 408, 429 and 5xx mean "not done, ask again later"; so does a success
/// whose body is not JSON (nothing can be read from it). Anything else is for the gateway's file.
pub(crate) fn classify(gateway: GatewayId, status: u16, body: &[u8]) -> Result<Reply, Unreachable> {
    if status >= 500 || status == 408 || status == 429 || !(200..500).contains(&status) {
        return Err(Unreachable(format!("{} answered {status}", gateway.display_name())));
    }
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(_) if status >= 300 => Value::Null,
            Err(_) => return Err(Unreachable(format!("{}'s answer is not JSON", gateway.display_name()))),
        }
    };
    Ok(Reply { status, body })
}

/// Sends a request and reads its answer.
pub(crate) async fn send(gateway: GatewayId, request: reqwest::RequestBuilder) -> Result<Reply, Unreachable> {
    let resp = request.send().await.map_err(|e| unreachable(gateway, e))?;
    let status = resp.status().as_u16();
    let body = resp.bytes().await.map_err(|e| unreachable(gateway, e))?;
    classify(gateway, status, &body)
}

/// A network error, without the URL (IXOPAY's carries the API key).
pub(crate) fn unreachable(gateway: GatewayId, e: reqwest::Error) -> Unreachable {
    Unreachable(format!("{} did not answer: {}", gateway.display_name(), e.without_url()))
}

/// A refusal for the admin: the gateway's own words, printable and short; our credentials
/// refused are named as such, with the setting to check.
pub(crate) fn declined(gateway: GatewayId, reply: &Reply, message: Option<&str>, credentials: &str) -> OpAnswer {
    if matches!(reply.status, 401 | 403) {
        return OpAnswer::Declined(format!(
            "{} refused our credentials ({}): check {credentials}",
            gateway.display_name(),
            reply.status
        ));
    }
    let message = message.map(|m| clean(m, MAX_MESSAGE)).filter(|m| !m.is_empty());
    let message = message.as_deref().unwrap_or("no reason given");
    // Some gateways (IXOPAY) refuse with a 200 and `success: false`.
    match reply.ok() {
        true => OpAnswer::Declined(format!("{} refused: {message}", gateway.display_name())),
        false => OpAnswer::Declined(format!("{} refused ({}): {message}", gateway.display_name(), reply.status)),
    }
}

/// A 2xx answer whose result is not what was asked (a failed refund, a capture still pending
/// at the card network's word): a refusal, in the gateway's own status words.
pub(crate) fn not_done(gateway: GatewayId, kind: OpKind, status: &str) -> OpAnswer {
    OpAnswer::Declined(format!(
        "{} answered that the {} is {}",
        gateway.display_name(),
        kind.as_str(),
        clean(status, 80)
    ))
}

/// A 2xx answer that names no result we can read: what happened is not known.
pub(crate) fn unreadable(gateway: GatewayId, what: &str) -> Unreachable {
    Unreachable(format!("{}'s answer has no {what}", gateway.display_name()))
}

/// `s` without control characters, at most `max` characters.
fn clean(s: &str, max: usize) -> String {
    s.chars().filter(|c| !c.is_control()).take(max).collect::<String>().trim().to_string()
}

/// An id as one URL path segment: unreserved characters kept, everything else percent-encoded.
pub(crate) fn segment(id: &str) -> String {
    id.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The operation id as an idempotency key of at most `max` characters (a SHA-256 prefix when
/// it is longer: still one key per operation).
pub(crate) fn key_of(operation_id: &str, max: usize) -> String {
    if operation_id.len() <= max {
        operation_id.to_string()
    } else {
        hex::encode(Sha256::digest(operation_id.as_bytes()))[..max.min(64)].to_string()
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::super::{OpKind, OpRequest};
    use super::Reply;

    pub fn request(kind: OpKind) -> OpRequest {
        OpRequest {
            kind,
            gateway_payment_id: "pay_1".into(),
            capture_reference: None,
            amount_minor: 1990,
            currency: "EUR".into(),
            order_id: "ord_1".into(),
            operation_id: "op_1".into(),
        }
    }

    pub fn reply(status: u16, body: &str) -> Reply {
        super::classify(super::GatewayId::Stripe, status, body.as_bytes()).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_answers() {
        assert!(classify(GatewayId::Stripe, 503, b"down").is_err());
        assert!(classify(GatewayId::Stripe, 429, b"{}").is_err());
        assert!(classify(GatewayId::Stripe, 200, b"<html>").is_err());
        assert_eq!(classify(GatewayId::Stripe, 204, b"").unwrap().body, Value::Null);
        assert_eq!(classify(GatewayId::Stripe, 400, b"<html>").unwrap().body, Value::Null);
        assert_eq!(classify(GatewayId::Stripe, 402, br#"{"a":1}"#).unwrap().body["a"], 1);
    }

    #[test]
    fn refusals_are_short_and_name_the_credentials() {
        let r = Reply { status: 400, body: Value::Null };
        let long = format!("too\nlong {}", "x".repeat(1000));
        let OpAnswer::Declined(m) = declined(GatewayId::Stripe, &r, Some(&long), "KEYTURN_STRIPE_API_KEY") else {
            panic!()
        };
        assert!(m.starts_with("Stripe refused (400): toolong x") && m.len() < MAX_MESSAGE + 40, "{m}");
        let r = Reply { status: 401, body: Value::Null };
        let OpAnswer::Declined(m) =
            declined(GatewayId::Stripe, &r, Some("bad key sk_live_x"), "KEYTURN_STRIPE_API_KEY")
        else {
            panic!()
        };
        assert_eq!(m, "Stripe refused our credentials (401): check KEYTURN_STRIPE_API_KEY");
    }

    #[test]
    fn gateways_without_an_api_point_to_the_dashboard() {
        for gw in [GatewayId::FreedomPay, GatewayId::TwoCheckout, GatewayId::Dotpay] {
            let OpAnswer::Unsupported(m) = dashboard(gw, OpKind::Refund) else { panic!() };
            assert!(m.contains("dashboard") && m.contains("refund"), "{m}");
        }
        let OpAnswer::Unsupported(m) = missing(GatewayId::Stripe, OpKind::Capture, "KEYTURN_STRIPE_API_KEY") else {
            panic!()
        };
        assert!(m.contains("KEYTURN_STRIPE_API_KEY"), "{m}");
    }

    #[test]
    fn ids_and_keys() {
        assert_eq!(segment("pi_1Ab-9.~"), "pi_1Ab-9.~");
        assert_eq!(segment("a/b?c d"), "a%2Fb%3Fc%20d");
        assert_eq!(key_of("op_1", 45), "op_1");
        let long = "op_".repeat(30);
        assert_eq!(key_of(&long, 45).len(), 45);
        assert_ne!(key_of(&long, 45), key_of(&format!("{long}x"), 45));
    }
}
