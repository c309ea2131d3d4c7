//! The payment-operations half of the fake gateway APIs: capture, void and refund as Stripe,
//! PayPal, Square and IXOPAY take them. Each call is checked (credentials, signature,
//! idempotency key, amount present) and remembered; it is answered as the test's [`OpMode`]
//! says, in the gateway's own success and refusal shapes.

use poem::http::StatusCode;
use poem::{Request, Response};
use serde_json::{json, Value};

use super::{as_sig, form, get, ok, FakeGateway};

/// How operation calls are answered.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OpMode {
    /// Done.
    Accept,
    /// A business refusal (already captured, amount too large) in the gateway's 4xx shape.
    Refuse,
    /// 503.
    Down,
}

/// One operation call as the fake saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct OpCall {
    pub gateway: &'static str,
    /// capture | cancel | refund.
    pub kind: &'static str,
    /// The gateway payment the call names (a PayPal refund: the capture).
    pub target: String,
    /// The amount as sent (minor units or a decimal string); `None` when the call has none.
    pub amount: Option<String>,
    /// The idempotency key as sent (header, body field or IXOPAY's merchantTransactionId).
    pub key: Option<String>,
}

impl FakeGateway {
    pub fn set_op_mode(&self, mode: OpMode) {
        self.inner.lock().unwrap().op_mode = mode;
    }

    /// Every operation call so far, oldest first.
    pub fn op_calls(&self) -> Vec<OpCall> {
        self.inner.lock().unwrap().op_calls.clone()
    }

    fn op_call(&self, call: OpCall) -> (OpMode, usize) {
        let mut inner = self.inner.lock().unwrap();
        inner.op_calls.push(call);
        (inner.op_mode, inner.op_calls.len())
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn status(code: u16, body: Value) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(code).unwrap())
        .content_type("application/json")
        .body(body.to_string())
}

/// Answers an operation call, or `None` when `req` is not one.
pub(super) fn handle(fake: &FakeGateway, req: &Request, body: &[u8]) -> Option<Response> {
    if req.method() != "POST" {
        return None;
    }
    let path = req.uri().path().to_string();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let auth = req.header("authorization").unwrap_or_default();
    let json_body: Value = serde_json::from_slice(body).unwrap_or_default();
    let f = form(body);
    let need = |cond: bool, what: &str| {
        if !cond {
            fake.problem(format!("{path}: {what}"));
        }
    };
    let header = |name: &str| req.header(name).map(String::from);
    let call = match segments.as_slice() {
        ["v1", "payment_intents", pi, action @ ("capture" | "cancel")] => {
            need(auth == "Bearer sk_test_123" && header("idempotency-key").is_some(), "stripe auth or key");
            let amount = (*action == "capture").then(|| get(&f, "amount_to_capture").to_string());
            let kind = if *action == "capture" { "capture" } else { "cancel" };
            OpCall { gateway: "stripe", kind, target: pi.to_string(), amount, key: header("idempotency-key") }
        }
        ["v1", "refunds"] => {
            need(auth == "Bearer sk_test_123" && header("idempotency-key").is_some(), "stripe auth or key");
            let target = get(&f, "payment_intent").to_string();
            OpCall {
                gateway: "stripe",
                kind: "refund",
                target,
                amount: Some(get(&f, "amount").into()),
                key: header("idempotency-key"),
            }
        }
        ["v2", "payments", "authorizations", id, action @ ("capture" | "void")] => {
            need(auth == "Bearer pp-access" && header("paypal-request-id").is_some(), "paypal auth or request id");
            let amount = text(&json_body["amount"]["value"]);
            need((*action == "capture") == amount.is_some(), "paypal capture amount");
            let kind = if *action == "capture" { "capture" } else { "cancel" };
            OpCall { gateway: "paypal", kind, target: id.to_string(), amount, key: header("paypal-request-id") }
        }
        ["v2", "payments", "captures", id, "refund"] => {
            need(auth == "Bearer pp-access" && header("paypal-request-id").is_some(), "paypal auth or request id");
            need(json_body["amount"]["currency_code"].is_string(), "paypal refund currency");
            let amount = text(&json_body["amount"]["value"]);
            OpCall {
                gateway: "paypal",
                kind: "refund",
                target: id.to_string(),
                amount,
                key: header("paypal-request-id"),
            }
        }
        ["v2", "payments", id, action @ ("complete" | "cancel")] => {
            need(auth == "Bearer sq-token" && header("square-version").is_some(), "square auth or version");
            let kind = if *action == "complete" { "capture" } else { "cancel" };
            OpCall { gateway: "square", kind, target: id.to_string(), amount: None, key: None }
        }
        ["v2", "refunds"] => {
            need(auth == "Bearer sq-token" && header("square-version").is_some(), "square auth or version");
            let key = json_body["idempotency_key"].as_str().map(String::from);
            need(key.as_ref().is_some_and(|k| k.len() <= 45), "square idempotency_key");
            need(json_body["amount_money"]["currency"].is_string(), "square refund currency");
            let target = json_body["payment_id"].as_str().unwrap_or_default().to_string();
            OpCall {
                gateway: "square",
                kind: "refund",
                target,
                amount: text(&json_body["amount_money"]["amount"]),
                key,
            }
        }
        ["api", "v3", "transaction", "as-key", action @ ("capture" | "void" | "refund")] => {
            let basic = format!(
                "Basic {}",
                base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "as-user:as-pass")
            );
            need(
                auth == basic && header("x-signature") == Some(as_sig("POST", body, req)),
                "allsecure auth or X-Signature",
            );
            let amount = text(&json_body["amount"]);
            need((*action == "void") == amount.is_none(), "allsecure amount (none for a void)");
            need((*action == "void") == json_body["currency"].is_null(), "allsecure currency");
            let kind = match *action {
                "capture" => "capture",
                "void" => "cancel",
                _ => "refund",
            };
            let target = json_body["referenceUuid"].as_str().unwrap_or_default().to_string();
            let key = json_body["merchantTransactionId"].as_str().map(String::from);
            OpCall { gateway: "allsecure", kind, target, amount, key }
        }
        _ => return None,
    };
    let (mode, n) = fake.op_call(call.clone());
    Some(answer(&call, mode, n))
}

/// The gateway's answer to `call` in `mode`; `n` numbers the new capture/refund ids.
fn answer(call: &OpCall, mode: OpMode, n: usize) -> Response {
    if mode == OpMode::Down {
        return Response::builder().status(StatusCode::SERVICE_UNAVAILABLE).body("maintenance");
    }
    let refuse = mode == OpMode::Refuse;
    let target = call.target.as_str();
    match (call.gateway, call.kind) {
        ("stripe", _) if refuse => status(
            400,
            json!({"error": {"type": "invalid_request_error", "code": "payment_intent_unexpected_state",
                "message": "This PaymentIntent could not be captured because it has a status of canceled."}}),
        ),
        ("stripe", "capture") => ok(
            json!({"id": target, "object": "payment_intent", "status": "succeeded", "latest_charge": format!("ch_{n}")}),
        ),
        ("stripe", "cancel") => ok(json!({"id": target, "object": "payment_intent", "status": "canceled"})),
        ("stripe", _) => ok(json!({"id": format!("re_{n}"), "object": "refund", "status": "succeeded"})),
        ("paypal", _) if refuse => status(
            422,
            json!({"name": "UNPROCESSABLE_ENTITY", "message": "The requested action could not be performed.",
                "details": [{"issue": "AUTHORIZATION_ALREADY_CAPTURED", "description": "Authorization has been previously captured."}]}),
        ),
        ("paypal", "capture") => status(201, json!({"id": format!("CAP-{n}"), "status": "COMPLETED"})),
        ("paypal", "cancel") => Response::builder().status(StatusCode::NO_CONTENT).finish(),
        ("paypal", _) => status(201, json!({"id": format!("REF-{n}"), "status": "COMPLETED"})),
        ("square", _) if refuse => status(
            400,
            json!({"errors": [{"category": "INVALID_REQUEST_ERROR", "code": "BAD_REQUEST",
                "detail": "The payment is not in a state that allows this."}]}),
        ),
        ("square", "capture") => ok(json!({"payment": {"id": target, "status": "COMPLETED"}})),
        ("square", "cancel") => ok(json!({"payment": {"id": target, "status": "CANCELED"}})),
        ("square", _) => ok(json!({"refund": {"id": format!("SQREF-{n}"), "status": "PENDING", "payment_id": target}})),
        (_, _) if refuse => ok(json!({"success": true, "uuid": format!("as-op-{n}"), "returnType": "ERROR",
            "errors": [{"errorMessage": "Transaction already captured", "errorCode": 3002}]})),
        (_, _) => {
            ok(json!({"success": true, "uuid": format!("as-op-{n}"), "purchaseId": "p", "returnType": "FINISHED"}))
        }
    }
}
