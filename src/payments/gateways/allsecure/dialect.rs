//! AllSecure Exchange (IXOPAY): a JSON postback per transaction status, signed with
//! `X-Signature` over method, body digest, content type, `Date` and request URI. A debit keeps
//! its `uuid` through its status changes; a refund is a new transaction naming the debit.

use std::path::Path;
use std::sync::Arc;

use serde_json::json;

use crate::config::Settings;
use crate::payments::gateways::allsecure::{signature, AllSecure};
use crate::payments::gateways::Gateway;
use crate::sandbox::dialects::{
    decimal, required, stable_hex, throwaway, utc, Callback, Event, SandboxDialect, Speaker,
};

/// (content type, body, event id); `None` for an event AllSecure would not send.
pub(crate) fn render(ev: &Event<'_>) -> Option<(&'static str, Vec<u8>, String)> {
    let p = ev.payment;
    let debit = stable_hex(&p.id, "allsecure", 20);
    let (result, tx_type, uuid) = match ev.kind {
        "payment.succeeded" => ("OK", "DEBIT", debit.clone()),
        "payment.failed" => ("ERROR", "DEBIT", debit.clone()),
        "payment.requires_action" => ("PENDING", "DEBIT", debit.clone()),
        "refund.succeeded" => ("OK", "REFUND", crate::sandbox::dialects::fresh_hex(20)),
        _ => return None,
    };
    let mut body = json!({
        "result": result,
        "uuid": uuid,
        "merchantTransactionId": p.order_id,
        "purchaseId": format!("{}-{uuid}", utc(p.created_at, "%Y%m%d")),
        "transactionType": tx_type,
        "paymentMethod": "Creditcard",
        "amount": decimal(p),
        "currency": p.currency,
        "returnData": {
            "_TYPE": "cardData", "type": "visa", "cardHolder": "Sandbox Customer",
            "expiryMonth": "12", "expiryYear": "2030", "lastFourDigits": p.card_last4,
        },
    });
    if let Some(obj) = body.as_object_mut() {
        if tx_type == "REFUND" {
            obj.insert("referenceUuid".into(), json!(debit));
        }
        if result == "ERROR" {
            let (message, code) = if ev.three_ds == Some("failed") {
                ("3D-Secure authentication failed", 2021)
            } else {
                ("The transaction was declined", 2003)
            };
            obj.insert("message".into(), json!(message));
            obj.insert("code".into(), json!(code));
            obj.insert("errors".into(), json!([{"message": message, "code": code}]));
        }
    }
    let event_id = format!("{uuid}:{tx_type}:{result}");
    Some(("application/json; charset=utf-8", serde_json::to_vec(&body).expect("json"), event_id))
}

/// `Date` and `X-Signature` for this attempt.
pub(crate) fn headers(secret: &str, cb: &Callback, now: i64) -> Vec<(&'static str, String)> {
    let date = utc(now, "%a, %d %b %Y %H:%M:%S GMT");
    let sig = signature(secret, &cb.body, cb.content_type, &date, &cb.uri);
    vec![("date", date), ("x-signature", sig)]
}

/// The sandbox speaking AllSecure.
pub struct AllSecureVoice {
    pub secret: String,
}

impl Speaker for AllSecureVoice {
    fn render(&self, ev: &Event<'_>, _uri: &str, _now: i64) -> Option<(&'static str, Vec<u8>, String)> {
        render(ev)
    }

    fn headers(&self, cb: &Callback, now: i64) -> Vec<(&'static str, String)> {
        headers(&self.secret, cb, now)
    }
}

/// AllSecure as the sandbox speaks it.
pub struct AllSecureDialect;

impl SandboxDialect for AllSecureDialect {
    fn required_settings(&self) -> &'static [&'static str] {
        &["allsecure_api_key", "allsecure_shared_secret"]
    }

    fn acknowledged(&self, body: &str) -> bool {
        body.trim() == "OK"
    }

    fn voice(&self, _s: &Settings, secret: String, _key: &[u8]) -> anyhow::Result<Box<dyn Speaker>> {
        Ok(Box::new(AllSecureVoice { secret }))
    }

    fn adapter(&self, s: &Settings, secrets: Vec<String>) -> anyhow::Result<Option<Arc<dyn Gateway>>> {
        let api_key = required(&s.gateways.allsecure.allsecure_api_key, "allsecure_api_key")?;
        Ok(Some(Arc::new(AllSecure { api_key, shared_secrets: secrets })))
    }

    fn demo_settings(&self, _dir: &Path) -> anyhow::Result<Vec<(&'static str, String)>> {
        Ok(vec![("allsecure_api_key", "demo".into()), ("allsecure_shared_secret", throwaway())])
    }
}
