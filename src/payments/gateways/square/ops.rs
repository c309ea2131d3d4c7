//! Square: complete (`POST /v2/payments/{id}/complete`) or cancel an approved payment, refund
//! it (`POST /v2/refunds`, the operation as `idempotency_key`); bearer `square_access_token`.

use serde_json::{json, Value};

use crate::payments::gateways::square::start::SQUARE_VERSION;
use crate::payments::gateways::GatewayId;
use crate::payments::ops::gateway_api::{declined, key_of, missing, not_done, segment, send, unreadable, Reply};
use crate::payments::ops::{OpAnswer, OpKind, OpRequest, Unreachable};
use crate::payments::start::base;
use crate::state::AppState;

const TOKEN_SETTING: &str = "KEYTURN_SQUARE_ACCESS_TOKEN";
/// Square's limit for a refund's idempotency key.
const MAX_KEY: usize = 45;

/// The path and JSON body of `req`.
pub(crate) fn call(req: &OpRequest) -> (String, Value) {
    let payment = segment(&req.gateway_payment_id);
    match req.kind {
        OpKind::Capture => (format!("/v2/payments/{payment}/complete"), json!({})),
        OpKind::Cancel => (format!("/v2/payments/{payment}/cancel"), json!({})),
        OpKind::Refund => (
            "/v2/refunds".into(),
            json!({
                "idempotency_key": key_of(&req.operation_id, MAX_KEY),
                "payment_id": req.gateway_payment_id,
                "amount_money": {"amount": req.amount_minor, "currency": req.currency},
            }),
        ),
    }
}

/// Reads Square's answer: `{payment}` (complete, cancel), `{refund}`, or `{errors: [...]}`.
pub(crate) fn answer(kind: OpKind, reply: &Reply) -> Result<OpAnswer, Unreachable> {
    if !reply.ok() {
        let reason = match (reply.str_at("/errors/0/code"), reply.str_at("/errors/0/detail")) {
            (Some(c), Some(d)) => Some(format!("{c}: {d}")),
            (c, d) => c.or(d).map(String::from),
        };
        return Ok(declined(GatewayId::Square, reply, reason.as_deref(), TOKEN_SETTING));
    }
    let (object, done): (&str, &[&str]) = match kind {
        OpKind::Capture => ("/payment", &["COMPLETED"]),
        OpKind::Cancel => ("/payment", &["CANCELED"]),
        OpKind::Refund => ("/refund", &["PENDING", "COMPLETED"]),
    };
    let id = reply.str_at(&format!("{object}/id")).ok_or_else(|| unreadable(GatewayId::Square, "id"))?;
    let status = reply.str_at(&format!("{object}/status")).ok_or_else(|| unreadable(GatewayId::Square, "status"))?;
    if !done.contains(&status) {
        return Ok(not_done(GatewayId::Square, kind, status));
    }
    Ok(OpAnswer::Done { reference: id.to_string() })
}

pub(crate) async fn perform(state: &AppState, req: &OpRequest) -> Result<OpAnswer, Unreachable> {
    let g = &state.settings.gateways.square;
    let Some(token) = g.square_access_token.as_deref() else {
        return Ok(missing(GatewayId::Square, req.kind, TOKEN_SETTING));
    };
    let (path, body) = call(req);
    let request = state
        .http
        .post(format!("{}{path}", base(&g.square_api_base, "https://connect.squareup.com")))
        .bearer_auth(token)
        .header("Square-Version", SQUARE_VERSION)
        .json(&body);
    answer(req.kind, &send(GatewayId::Square, request).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payments::ops::gateway_api::test_support::{reply, request};

    #[test]
    fn builds_requests() {
        let mut req = request(OpKind::Capture);
        req.gateway_payment_id = "hYy9pRFVxpDsO1FB05SunFWUe9JZY".into();
        assert_eq!(call(&req).0, "/v2/payments/hYy9pRFVxpDsO1FB05SunFWUe9JZY/complete");
        req.kind = OpKind::Cancel;
        assert_eq!(call(&req).0, "/v2/payments/hYy9pRFVxpDsO1FB05SunFWUe9JZY/cancel");
        req.kind = OpKind::Refund;
        req.amount_minor = 700;
        let (path, body) = call(&req);
        assert_eq!(path, "/v2/refunds");
        assert_eq!(
            body,
            json!({"idempotency_key": "op_1", "payment_id": "hYy9pRFVxpDsO1FB05SunFWUe9JZY",
                   "amount_money": {"amount": 700, "currency": "EUR"}})
        );
    }

    #[test]
    fn maps_answers() {
        let completed = reply(200, r#"{"payment":{"id":"p1","status":"COMPLETED"}}"#);
        assert_eq!(answer(OpKind::Capture, &completed).unwrap(), OpAnswer::Done { reference: "p1".into() });
        let canceled = reply(200, r#"{"payment":{"id":"p1","status":"CANCELED"}}"#);
        assert_eq!(answer(OpKind::Cancel, &canceled).unwrap(), OpAnswer::Done { reference: "p1".into() });
        assert!(
            matches!(answer(OpKind::Cancel, &completed).unwrap(), OpAnswer::Declined(m) if m.contains("COMPLETED"))
        );
        let refund = reply(200, r#"{"refund":{"id":"r1","status":"PENDING","payment_id":"p1"}}"#);
        assert_eq!(answer(OpKind::Refund, &refund).unwrap(), OpAnswer::Done { reference: "r1".into() });
        let rejected = reply(200, r#"{"refund":{"id":"r2","status":"REJECTED"}}"#);
        assert!(matches!(answer(OpKind::Refund, &rejected).unwrap(), OpAnswer::Declined(m) if m.contains("REJECTED")));
        let too_much = reply(
            400,
            r#"{"errors":[{"category":"INVALID_REQUEST_ERROR","code":"REFUND_AMOUNT_INVALID","detail":"The requested refund amount exceeds the amount available to refund."}]}"#,
        );
        assert!(
            matches!(answer(OpKind::Refund, &too_much).unwrap(), OpAnswer::Declined(m) if m.contains("REFUND_AMOUNT_INVALID: The requested"))
        );
        assert!(answer(OpKind::Capture, &reply(200, "{}")).is_err());
    }
}
