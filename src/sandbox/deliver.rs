//! Delivers the sandbox's signed callbacks, retrying with backoff until acknowledged, like a
//! real gateway (deliveries in flight are lost if the process stops: the gateway's side).
//! The callbacks speak the dialect of `sandbox_dialect` (Standard Webhooks by default).

use std::time::Duration;

use crate::sandbox::dialects::{callback_path, Event, Voice};
use crate::sandbox::model::SandboxPayment;
use crate::state::AppState;

/// How many times a callback is attempted.
const ATTEMPTS: u32 = 8;

/// The path and query of a URL (what gateways that sign the request URI sign).
fn path_and_query(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        },
        Err(_) => "/".into(),
    }
}

/// Sends one event in the background, in the configured dialect. Nothing is sent for an event
/// the dialect's gateway has no way to express.
pub fn spawn_delivery(state: &AppState, kind: &str, p: &SandboxPayment, three_ds: Option<&str>) {
    let voice = match Voice::from_settings(&state.settings, &state.sandbox_keys) {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(event = "sandbox_delivery_failed", error = %e, "sandbox cannot sign its callback");
            return;
        }
    };
    let dialect = voice.dialect();
    let url = state.settings.sandbox_callback_url.clone().unwrap_or_else(|| state.link(&callback_path(dialect)));
    let event = Event { kind, payment: p, three_ds };
    let Some(callback) = voice.render(&event, &path_and_query(&url), state.clock.now()) else {
        tracing::debug!(event = "sandbox_event_skipped", dialect = dialect.as_str(), %kind, "the gateway sends no such callback");
        return;
    };
    let state = state.clone();
    let kind = kind.to_string();
    tokio::spawn(async move {
        let event_id = &callback.event_id;
        let mut delay = Duration::from_millis(500);
        for attempt in 1..=ATTEMPTS {
            let mut request = state.http.post(&url).body(callback.body.clone());
            for (name, value) in voice.headers(&callback, state.clock.now()) {
                request = request.header(name, value);
            }
            match request.send().await {
                Ok(r) if r.status().is_success() => {
                    let body = r.text().await.unwrap_or_default();
                    if dialect.dialect().acknowledged(&body) {
                        tracing::debug!(event = "sandbox_delivered", %event_id, %kind, dialect = dialect.as_str(), attempt, "sandbox callback acknowledged");
                        return;
                    }
                    tracing::warn!(event = "sandbox_delivery_failed", %event_id, dialect = dialect.as_str(), attempt, "sandbox callback answered without the gateway's acknowledgement");
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

#[cfg(test)]
mod tests {
    #[test]
    fn signs_the_path_and_query() {
        assert_eq!(
            super::path_and_query("http://127.0.0.1:8080/api/v1/payments/x/callback"),
            "/api/v1/payments/x/callback"
        );
        assert_eq!(super::path_and_query("https://h/cb?a=1&b=2"), "/cb?a=1&b=2");
    }
}
