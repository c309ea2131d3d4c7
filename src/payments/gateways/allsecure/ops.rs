//! AllSecure / IXOPAY: `POST /api/v3/transaction/{apiKey}/capture|void|refund` naming the
//! pre-authorisation or debit as `referenceUuid`, signed exactly like the debit that started it
//! (`start::api::allsecure_request`). Each transaction needs a unique `merchantTransactionId`:
//! the operation id, so a repeated operation is refused as a duplicate instead of done twice.

use serde_json::{json, Value};

use crate::payments::gateways::allsecure::start::allsecure_request;
use crate::payments::gateways::GatewayId;
use crate::payments::ops::gateway_api::{
    classify, declined, from_start, key_of, not_done, unreachable, unreadable, Reply,
};
use crate::payments::ops::{OpAnswer, OpKind, OpRequest, Unreachable};
use crate::state::AppState;

const CREDENTIALS: &str = "KEYTURN_ALLSECURE_USERNAME and KEYTURN_ALLSECURE_PASSWORD";
/// IXOPAY's limit for `merchantTransactionId`.
const MAX_TRANSACTION_ID: usize = 50;

/// The transaction type in the path.
pub(crate) fn action(kind: OpKind) -> &'static str {
    match kind {
        OpKind::Capture => "capture",
        OpKind::Cancel => "void",
        OpKind::Refund => "refund",
    }
}

/// The JSON body; a void carries no amount. Its callback comes back to `callback_url`.
pub(crate) fn body(req: &OpRequest, callback_url: &str) -> Value {
    let mut body = json!({
        "merchantTransactionId": key_of(&req.operation_id, MAX_TRANSACTION_ID),
        "referenceUuid": req.gateway_payment_id,
        "callbackUrl": callback_url,
    });
    if req.kind != OpKind::Cancel {
        body["amount"] = json!(crate::money::format_minor(req.amount_minor, &req.currency));
        body["currency"] = json!(req.currency);
    }
    body
}

/// IXOPAY's reason: `errors[0].errorMessage` (with the acquirer's own words when given), else
/// the top-level `errorMessage`.
fn reason(reply: &Reply) -> Option<String> {
    let message = reply.str_at("/errors/0/errorMessage").or_else(|| reply.str_at("/errorMessage"));
    match (message, reply.str_at("/errors/0/adapterMessage")) {
        (Some(m), Some(a)) if !a.is_empty() => Some(format!("{m} ({a})")),
        (m, a) => m.or(a).map(String::from),
    }
}

/// Reads IXOPAY's answer: `success` and `returnType` FINISHED (or PENDING: the callback settles
/// it) with the new transaction's `uuid`; `success: false` or `returnType: ERROR` is a refusal.
pub(crate) fn answer(kind: OpKind, reply: &Reply) -> Result<OpAnswer, Unreachable> {
    if !reply.ok() || reply.body["success"] == Value::Bool(false) {
        return Ok(declined(GatewayId::AllSecure, reply, reason(reply).as_deref(), CREDENTIALS));
    }
    match reply.str_at("/returnType") {
        Some("FINISHED" | "PENDING") => {
            let uuid = reply.str_at("/uuid").ok_or_else(|| unreadable(GatewayId::AllSecure, "uuid"))?;
            Ok(OpAnswer::Done { reference: uuid.to_string() })
        }
        Some("ERROR") => Ok(declined(GatewayId::AllSecure, reply, reason(reply).as_deref(), CREDENTIALS)),
        Some(other) => Ok(not_done(GatewayId::AllSecure, kind, other)),
        None => Err(unreadable(GatewayId::AllSecure, "returnType")),
    }
}

pub(crate) async fn perform(state: &AppState, req: &OpRequest) -> Result<OpAnswer, Unreachable> {
    let callback = state.link("/api/v1/payments/allsecure/callback");
    let body = serde_json::to_vec(&body(req, &callback)).map_err(|e| Unreachable(e.to_string()))?;
    let path = |key: &str| format!("/api/v3/transaction/{key}/{}", action(req.kind));
    match allsecure_request(state, reqwest::Method::POST, path, body).await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let bytes = resp.bytes().await.map_err(|e| unreachable(GatewayId::AllSecure, e))?;
            answer(req.kind, &classify(GatewayId::AllSecure, status, &bytes)?)
        }
        Err(e) => from_start(GatewayId::AllSecure, req.kind, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payments::ops::gateway_api::test_support::{reply, request};

    #[test]
    fn builds_requests() {
        let mut req = request(OpKind::Capture);
        req.gateway_payment_id = "d94c0d72f3a36e21f16e".into();
        let cb = "https://shop.test/api/v1/payments/allsecure/callback";
        assert_eq!(action(req.kind), "capture");
        assert_eq!(
            body(&req, cb),
            json!({"merchantTransactionId": "op_1", "referenceUuid": "d94c0d72f3a36e21f16e", "callbackUrl": cb,
                   "amount": "19.90", "currency": "EUR"})
        );
        req.kind = OpKind::Cancel;
        assert_eq!(action(req.kind), "void");
        assert_eq!(
            body(&req, cb),
            json!({"merchantTransactionId": "op_1", "referenceUuid": "d94c0d72f3a36e21f16e", "callbackUrl": cb})
        );
        req.kind = OpKind::Refund;
        assert_eq!(action(req.kind), "refund");
        assert_eq!(body(&req, cb)["amount"], "19.90");
    }

    #[test]
    fn maps_answers() {
        let done = reply(200, r#"{"success":true,"uuid":"u2","purchaseId":"p","returnType":"FINISHED"}"#);
        assert_eq!(answer(OpKind::Capture, &done).unwrap(), OpAnswer::Done { reference: "u2".into() });
        let pending = reply(200, r#"{"success":true,"uuid":"u3","returnType":"PENDING"}"#);
        assert_eq!(answer(OpKind::Refund, &pending).unwrap(), OpAnswer::Done { reference: "u3".into() });
        let error = reply(
            200,
            r#"{"success":true,"uuid":"u4","returnType":"ERROR","errors":[{"errorMessage":"Amount exceeds","errorCode":1003,"adapterMessage":"declined by acquirer"}]}"#,
        );
        assert!(
            matches!(answer(OpKind::Refund, &error).unwrap(), OpAnswer::Declined(m) if m == "AllSecure refused: Amount exceeds (declined by acquirer)")
        );
        let refused =
            reply(200, r#"{"success":false,"errorMessage":"Reference transaction not found","errorCode":3003}"#);
        assert!(matches!(answer(OpKind::Cancel, &refused).unwrap(), OpAnswer::Declined(m) if m.contains("not found")));
        let forbidden = reply(401, "");
        assert!(
            matches!(answer(OpKind::Cancel, &forbidden).unwrap(), OpAnswer::Declined(m) if m.contains("KEYTURN_ALLSECURE_USERNAME"))
        );
        assert!(answer(OpKind::Capture, &reply(200, r#"{"success":true}"#)).is_err());
    }
}
