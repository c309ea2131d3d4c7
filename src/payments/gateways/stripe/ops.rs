//! Stripe: capture (`POST /v1/payment_intents/{pi}/capture`, `amount_to_capture`) and cancel a
//! PaymentIntent, refund it (`POST /v1/refunds`); form-encoded, bearer `stripe_api_key`, the
//! operation id as `Idempotency-Key` (a retry with the same key gets Stripe's first answer again).

use crate::payments::gateways::GatewayId;
use crate::payments::ops::gateway_api::{declined, key_of, missing, not_done, segment, send, unreadable, Reply};
use crate::payments::ops::{OpAnswer, OpKind, OpRequest, Unreachable};
use crate::payments::start::base;
use crate::state::AppState;

const KEY_SETTING: &str = "KEYTURN_STRIPE_API_KEY";

/// The path and form fields of `req`.
pub(crate) fn call(req: &OpRequest) -> (String, Vec<(&'static str, String)>) {
    let pi = segment(&req.gateway_payment_id);
    match req.kind {
        OpKind::Capture => {
            (format!("/v1/payment_intents/{pi}/capture"), vec![("amount_to_capture", req.amount_minor.to_string())])
        }
        OpKind::Cancel => (format!("/v1/payment_intents/{pi}/cancel"), vec![]),
        OpKind::Refund => (
            "/v1/refunds".into(),
            vec![("payment_intent", req.gateway_payment_id.clone()), ("amount", req.amount_minor.to_string())],
        ),
    }
}

/// The `Idempotency-Key` of an operation: its id (unique per operation, stable across retries
/// of one admin request; Stripe takes up to 255 characters).
pub(crate) fn idempotency_key(req: &OpRequest) -> String {
    key_of(&req.operation_id, 255)
}

/// Reads Stripe's answer: a PaymentIntent (capture, cancel) or a Refund, or an `error` object.
pub(crate) fn answer(kind: OpKind, reply: &Reply) -> Result<OpAnswer, Unreachable> {
    if !reply.ok() {
        let message = reply.str_at("/error/message").or_else(|| reply.str_at("/error/code"));
        return Ok(declined(GatewayId::Stripe, reply, message, KEY_SETTING));
    }
    let id = reply.str_at("/id").ok_or_else(|| unreadable(GatewayId::Stripe, "id"))?;
    let status = reply.str_at("/status").ok_or_else(|| unreadable(GatewayId::Stripe, "status"))?;
    let done = match kind {
        OpKind::Capture => matches!(status, "succeeded" | "processing"),
        OpKind::Cancel => status == "canceled",
        OpKind::Refund => matches!(status, "succeeded" | "pending" | "requires_action"),
    };
    if !done {
        let why = reply.str_at("/failure_reason").map(|r| format!("{status}: {r}"));
        return Ok(not_done(GatewayId::Stripe, kind, why.as_deref().unwrap_or(status)));
    }
    // A capture names the charge it captured; a refund and a cancel their own object.
    let reference = match kind {
        OpKind::Capture => reply.str_at("/latest_charge").or_else(|| reply.str_at("/latest_charge/id")).unwrap_or(id),
        _ => id,
    };
    Ok(OpAnswer::Done { reference: reference.to_string() })
}

pub(crate) async fn perform(state: &AppState, req: &OpRequest) -> Result<OpAnswer, Unreachable> {
    let g = &state.settings.gateways.stripe;
    let Some(key) = g.stripe_api_key.as_deref() else {
        return Ok(missing(GatewayId::Stripe, req.kind, KEY_SETTING));
    };
    // Payments keyturn starts are PaymentIntents; a legacy charge (ch_…) has no capture here.
    if !req.gateway_payment_id.starts_with("pi_") {
        return Ok(OpAnswer::Unsupported(format!(
            "Stripe payment {} is not a PaymentIntent: do the {} in Stripe's dashboard; its callback updates keyturn",
            req.gateway_payment_id,
            req.kind.as_str()
        )));
    }
    let (path, form) = call(req);
    let request = state
        .http
        .post(format!("{}{path}", base(&g.stripe_api_base, "https://api.stripe.com")))
        .bearer_auth(key)
        .header("Idempotency-Key", idempotency_key(req))
        .form(&form);
    answer(req.kind, &send(GatewayId::Stripe, request).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payments::ops::gateway_api::test_support::{reply, request};

    #[test]
    fn builds_requests() {
        let mut req = request(OpKind::Capture);
        req.gateway_payment_id = "pi_3Ab".into();
        assert_eq!(
            call(&req),
            ("/v1/payment_intents/pi_3Ab/capture".into(), vec![("amount_to_capture", "1990".into())])
        );
        req.kind = OpKind::Cancel;
        assert_eq!(call(&req), ("/v1/payment_intents/pi_3Ab/cancel".into(), vec![]));
        req.kind = OpKind::Refund;
        req.amount_minor = 500;
        assert_eq!(
            call(&req),
            ("/v1/refunds".into(), vec![("payment_intent", "pi_3Ab".into()), ("amount", "500".into())])
        );
        assert_eq!(idempotency_key(&req), "op_1");
    }

    #[test]
    fn maps_answers() {
        let captured =
            reply(200, r#"{"id":"pi_1","object":"payment_intent","status":"succeeded","latest_charge":"ch_9"}"#);
        assert_eq!(answer(OpKind::Capture, &captured).unwrap(), OpAnswer::Done { reference: "ch_9".into() });
        let cancelled = reply(200, r#"{"id":"pi_1","status":"canceled"}"#);
        assert_eq!(answer(OpKind::Cancel, &cancelled).unwrap(), OpAnswer::Done { reference: "pi_1".into() });
        let refund = reply(200, r#"{"id":"re_1","object":"refund","status":"pending"}"#);
        assert_eq!(answer(OpKind::Refund, &refund).unwrap(), OpAnswer::Done { reference: "re_1".into() });
        let failed = reply(200, r#"{"id":"re_2","status":"failed","failure_reason":"expired_or_canceled_card"}"#);
        assert!(
            matches!(answer(OpKind::Refund, &failed).unwrap(), OpAnswer::Declined(m) if m.contains("expired_or_canceled_card"))
        );
        let refused = reply(
            400,
            r#"{"error":{"type":"invalid_request_error","code":"payment_intent_unexpected_state","message":"This PaymentIntent could not be captured because it has a status of succeeded."}}"#,
        );
        assert!(
            matches!(answer(OpKind::Capture, &refused).unwrap(), OpAnswer::Declined(m) if m.contains("status of succeeded"))
        );
        let card = reply(402, r#"{"error":{"type":"card_error","code":"card_declined"}}"#);
        assert!(
            matches!(answer(OpKind::Capture, &card).unwrap(), OpAnswer::Declined(m) if m.contains("card_declined"))
        );
        assert!(answer(OpKind::Capture, &reply(200, r#"{"object":"payment_intent"}"#)).is_err());
    }
}
