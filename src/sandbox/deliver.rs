//! Delivers the sandbox's signed callbacks, retrying with backoff until acknowledged, like a
//! real gateway (deliveries in flight are lost if the process stops: the gateway's side).

use std::time::Duration;

use crate::crypto::random_id;
use crate::payments::gateways::standard_webhooks;
use crate::sandbox::model::SandboxPayment;
use crate::state::AppState;

/// How many times a callback is attempted.
const ATTEMPTS: u32 = 8;

/// The callback body for an event about a sandbox payment.
pub fn event_body(kind: &str, p: &SandboxPayment, three_ds: Option<&str>) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "type": kind,
        "data": {
            "payment_id": p.id,
            "order_id": p.order_id,
            "amount_minor": p.amount_minor,
            "currency": p.currency,
            "three_ds": three_ds,
        }
    }))
    .expect("json")
}

/// Sends one event in the background.
pub fn spawn_delivery(state: &AppState, kind: &str, p: &SandboxPayment, three_ds: Option<&str>) {
    let body = event_body(kind, p, three_ds);
    let url =
        state.settings.sandbox_callback_url.clone().unwrap_or_else(|| state.link("/api/v1/payments/sandbox/callback"));
    let state = state.clone();
    let event_id = random_id("evt");
    let kind = kind.to_string();
    tokio::spawn(async move {
        let mut delay = Duration::from_millis(500);
        for attempt in 1..=ATTEMPTS {
            let ts = state.clock.now();
            let signature = standard_webhooks::sign(&state.sandbox_keys[0], &event_id, ts, &body);
            let result = state
                .http
                .post(&url)
                .header("content-type", "application/json")
                .header("webhook-id", &event_id)
                .header("webhook-timestamp", ts.to_string())
                .header("webhook-signature", signature)
                .body(body.clone())
                .send()
                .await;
            match result {
                Ok(r) if r.status().is_success() => {
                    tracing::debug!(event = "sandbox_delivered", %event_id, %kind, attempt, "sandbox callback acknowledged");
                    return;
                }
                Ok(r) => {
                    tracing::warn!(event = "sandbox_delivery_failed", %event_id, status = r.status().as_u16(), attempt, "sandbox callback refused")
                }
                Err(e) => {
                    tracing::warn!(event = "sandbox_delivery_failed", %event_id, error = %e, attempt, "sandbox callback failed")
                }
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(60));
        }
        tracing::error!(event = "sandbox_delivery_gave_up", %event_id, "sandbox callback never acknowledged");
    });
}
