//! PayPal: capture (`POST /v2/payments/authorizations/{id}/capture`) or void an authorisation,
//! refund a capture (`POST /v2/payments/captures/{id}/refund`); JSON with decimal amounts, the
//! OAuth token `start::paypal` gets, the operation as `PayPal-Request-Id` (PayPal answers a
//! repeated id with the first result instead of acting twice).

use serde_json::{json, Value};

use crate::payments::gateways::paypal::start as paypal;
use crate::payments::gateways::GatewayId;
use crate::payments::ops::gateway_api::{declined, from_start, key_of, not_done, segment, send, unreadable, Reply};
use crate::payments::ops::{OpAnswer, OpKind, OpRequest, Unreachable};
use crate::payments::start::base;
use crate::state::AppState;

const CREDENTIALS: &str = "KEYTURN_PAYPAL_CLIENT_ID and KEYTURN_PAYPAL_CLIENT_SECRET";
/// PayPal-Request-Id may be at most this long.
const MAX_REQUEST_ID: usize = 108;

/// The capture a refund names: the one keyturn made, else the payment as recorded (a capture
/// id, when the payment came from a PAYMENT.CAPTURE.COMPLETED of an order captured at once).
fn capture_id(req: &OpRequest) -> &str {
    req.capture_reference.as_deref().unwrap_or(&req.gateway_payment_id)
}

/// The path and JSON body of `req`.
pub(crate) fn call(req: &OpRequest) -> (String, Option<Value>) {
    let money = json!({
        "value": crate::money::format_minor(req.amount_minor, &req.currency),
        "currency_code": req.currency,
    });
    let authorization = segment(&req.gateway_payment_id);
    match req.kind {
        OpKind::Capture => (
            format!("/v2/payments/authorizations/{authorization}/capture"),
            Some(json!({"amount": money, "final_capture": true})),
        ),
        OpKind::Cancel => (format!("/v2/payments/authorizations/{authorization}/void"), None),
        OpKind::Refund => {
            (format!("/v2/payments/captures/{}/refund", segment(capture_id(req))), Some(json!({"amount": money})))
        }
    }
}

/// PayPal's reason: `details[0].issue` and its description, else the top-level message.
fn reason(reply: &Reply) -> Option<String> {
    let issue = reply.str_at("/details/0/issue");
    let detail = reply.str_at("/details/0/description").or_else(|| reply.str_at("/message"));
    match (issue, detail) {
        (Some(i), Some(d)) => Some(format!("{i}: {d}")),
        (i, d) => i.or(d).or_else(|| reply.str_at("/name")).map(String::from),
    }
}

/// Reads PayPal's answer: a capture or refund object, nothing (a void's 204), or an error.
pub(crate) fn answer(req: &OpRequest, reply: &Reply) -> Result<OpAnswer, Unreachable> {
    if !reply.ok() {
        if reply.status == 404 && req.kind == OpKind::Refund && req.capture_reference.is_none() {
            return Ok(OpAnswer::Declined(format!(
                "PayPal knows no capture {}: a payment captured in PayPal's dashboard is refunded there; \
                 its callback updates keyturn",
                req.gateway_payment_id
            )));
        }
        return Ok(declined(GatewayId::PayPal, reply, reason(reply).as_deref(), CREDENTIALS));
    }
    if req.kind == OpKind::Cancel {
        // 204 No Content: the authorisation is the only id there is.
        let reference = reply.str_at("/id").unwrap_or(&req.gateway_payment_id);
        return Ok(OpAnswer::Done { reference: reference.to_string() });
    }
    let id = reply.str_at("/id").ok_or_else(|| unreadable(GatewayId::PayPal, "id"))?;
    match reply.str_at("/status").ok_or_else(|| unreadable(GatewayId::PayPal, "status"))? {
        "COMPLETED" | "PENDING" => Ok(OpAnswer::Done { reference: id.to_string() }),
        other => Ok(not_done(GatewayId::PayPal, req.kind, other)),
    }
}

pub(crate) async fn perform(state: &AppState, req: &OpRequest) -> Result<OpAnswer, Unreachable> {
    let bearer = match paypal::token(state).await {
        Ok(t) => t,
        Err(e) => return from_start(GatewayId::PayPal, req.kind, e),
    };
    let (path, body) = call(req);
    let base = base(&state.settings.gateways.paypal.paypal_api_base, paypal::DEFAULT_BASE);
    let mut request = state
        .http
        .post(format!("{base}{path}"))
        .bearer_auth(bearer)
        .header("PayPal-Request-Id", key_of(&req.operation_id, MAX_REQUEST_ID));
    request = match body {
        Some(b) => request.json(&b),
        None => request.header("Content-Type", "application/json"),
    };
    answer(req, &send(GatewayId::PayPal, request).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payments::ops::gateway_api::test_support::{reply, request};

    #[test]
    fn builds_requests() {
        let mut req = request(OpKind::Capture);
        req.gateway_payment_id = "0VF52814937998046".into();
        let (path, body) = call(&req);
        assert_eq!(path, "/v2/payments/authorizations/0VF52814937998046/capture");
        assert_eq!(body.unwrap(), json!({"amount": {"value": "19.90", "currency_code": "EUR"}, "final_capture": true}));
        req.kind = OpKind::Cancel;
        assert_eq!(call(&req), ("/v2/payments/authorizations/0VF52814937998046/void".into(), None));
        req.kind = OpKind::Refund;
        req.amount_minor = 500;
        req.currency = "JPY".into();
        let (path, body) = call(&req);
        assert_eq!(path, "/v2/payments/captures/0VF52814937998046/refund", "no capture of ours: the recorded id");
        assert_eq!(body.unwrap(), json!({"amount": {"value": "500", "currency_code": "JPY"}}));
        req.capture_reference = Some("2GG279541U471931P".into());
        assert_eq!(call(&req).0, "/v2/payments/captures/2GG279541U471931P/refund", "our capture");
    }

    #[test]
    fn maps_answers() {
        let req = request(OpKind::Capture);
        let captured = reply(201, r#"{"id":"2GG279541U471931P","status":"COMPLETED"}"#);
        assert_eq!(answer(&req, &captured).unwrap(), OpAnswer::Done { reference: "2GG279541U471931P".into() });
        let pending = reply(201, r#"{"id":"3C","status":"PENDING"}"#);
        assert_eq!(answer(&req, &pending).unwrap(), OpAnswer::Done { reference: "3C".into() });
        let declined = reply(201, r#"{"id":"3D","status":"DECLINED"}"#);
        assert!(matches!(answer(&req, &declined).unwrap(), OpAnswer::Declined(m) if m.contains("DECLINED")));
        let already = reply(
            422,
            r#"{"name":"UNPROCESSABLE_ENTITY","message":"The requested action could not be performed.","details":[{"issue":"AUTHORIZATION_ALREADY_CAPTURED","description":"Authorization has been previously captured and hence cannot be captured again."}]}"#,
        );
        assert!(
            matches!(answer(&req, &already).unwrap(), OpAnswer::Declined(m) if m.contains("AUTHORIZATION_ALREADY_CAPTURED: Authorization"))
        );
        let void = request(OpKind::Cancel);
        assert_eq!(answer(&void, &reply(204, "")).unwrap(), OpAnswer::Done { reference: "pay_1".into() });
        let refund = request(OpKind::Refund);
        let missing = reply(404, r#"{"name":"RESOURCE_NOT_FOUND","details":[{"issue":"INVALID_RESOURCE_ID"}]}"#);
        assert!(matches!(answer(&refund, &missing).unwrap(), OpAnswer::Declined(m) if m.contains("dashboard")));
        assert!(answer(&refund, &reply(201, r#"{"status":"COMPLETED"}"#)).is_err());
    }
}
