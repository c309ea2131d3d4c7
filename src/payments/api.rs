//! `POST /api/v1/payments/{gateway}/callback`: the raw request goes to the gateway's
//! adapter, a verified event to the service, and the gateway gets the reply it expects.
//! `POST /api/v1/payments/sandbox/{gateway}/callback` does the same for the sandbox speaking a
//! gateway's dialect, verified with the sandbox's own secrets (never the gateway's live ones).
//! Each gateway's callbacks are rate-limited (429 with `Retry-After`; gateways retry).

use poem::http::StatusCode;
use poem::web::{Data, Path};
use std::sync::Arc;

use poem::{handler, IntoResponse, Request, Response};

use crate::error::json_error;
use crate::http::api_error::ApiError;
use crate::payments::gateways::paypal::certs::CertError;
use crate::payments::gateways::{Ack, Gateway, RawCallback, VerifyError};
use crate::payments::service::apply_callback;
use crate::state::AppState;

/// Receives a gateway's server-to-server callback.
#[handler]
pub async fn post_callback(
    req: &Request,
    Path(gateway): Path<String>,
    body: Vec<u8>,
    state: Data<&AppState>,
) -> Response {
    match state.gateways.get(&gateway).cloned() {
        Some(gw) => receive(req, &body, &state, gw).await,
        None => json_error(StatusCode::NOT_FOUND, "unknown_gateway", "No such payment gateway is enabled."),
    }
}

/// Receives the sandbox's callback in the dialect of `sandbox_dialect`.
#[handler]
pub async fn post_sandbox_callback(
    req: &Request,
    Path(gateway): Path<String>,
    body: Vec<u8>,
    state: Data<&AppState>,
) -> Response {
    match state.gateways.sandbox_dialect(&gateway).cloned() {
        Some(gw) => receive(req, &body, &state, gw).await,
        None => json_error(StatusCode::NOT_FOUND, "unknown_gateway", "The sandbox does not speak this gateway."),
    }
}

/// Verifies one callback with `gw`, applies it, and answers as the gateway expects; counts it
/// by gateway and outcome for the metrics.
async fn receive(req: &Request, body: &[u8], state: &AppState, gw: Arc<dyn Gateway>) -> Response {
    let (answer, outcome) = verify_and_apply(req, body, state, &gw).await;
    state.metrics.callback(gw.name(), outcome);
    answer
}

/// [`receive`]'s work: the answer, and the outcome's name (a refusal's code, or what the event did).
async fn verify_and_apply(
    req: &Request,
    body: &[u8],
    state: &AppState,
    gw: &Arc<dyn Gateway>,
) -> (Response, &'static str) {
    if let Err(wait) = state.limiters.check_callback(gw.name()) {
        return (ApiError::rate_limited(wait).into_response(), "rate_limited");
    }
    let uri = req.original_uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
    let raw = RawCallback { headers: req.headers(), body, uri: &uri };
    let verified = match gw.certificate_url(&raw) {
        Some(url) => match state.gateway_certs.get(&state.http, &url).await {
            Ok(pem) => gw.verify_with_certificate(&raw, state.clock.now(), &pem),
            Err(CertError::Busy(wait)) => {
                tracing::warn!(
                    event = "excess_rate_limit_exceeded",
                    bucket = "certificate_fetch",
                    gateway = gw.name(),
                    "certificate fetch budget spent"
                );
                return (ApiError::rate_limited(wait).into_response(), "rate_limited");
            }
            Err(why) => {
                tracing::warn!(event = "payment_callback_rejected", gateway = gw.name(), reason = %why, "certificate refused");
                let answer = json_error(StatusCode::BAD_REQUEST, "invalid_signature", "The signature does not verify.");
                return (answer, "invalid_certificate");
            }
        },
        None => gw.verify(&raw, state.clock.now()),
    };
    let event = match verified {
        Ok(ev) => ev,
        Err(e) => {
            tracing::warn!(event = "payment_callback_rejected", gateway = gw.name(), reason = %e, "callback refused");
            return match e {
                VerifyError::UnsupportedMediaType => (
                    json_error(
                        StatusCode::UNSUPPORTED_MEDIA_TYPE,
                        "unsupported_media_type",
                        "Unexpected content type.",
                    ),
                    "unsupported_media_type",
                ),
                VerifyError::StaleTimestamp => (
                    json_error(
                        StatusCode::BAD_REQUEST,
                        "stale_timestamp",
                        "The signed timestamp is outside the accepted window.",
                    ),
                    "stale_timestamp",
                ),
                VerifyError::BadSignature(_) => (
                    json_error(StatusCode::BAD_REQUEST, "invalid_signature", "The signature does not verify."),
                    "invalid_signature",
                ),
                VerifyError::Malformed(m) => (json_error(StatusCode::BAD_REQUEST, "invalid_body", &m), "invalid_body"),
            };
        }
    };
    match apply_callback(state, gw.id(), event, gw.can_refuse(&raw)).await {
        Ok(outcome) => {
            let ack = if outcome.is_refusal() { Ack::Refused } else { Ack::Accepted };
            (gw.reply(&raw, ack, state.clock.now()), outcome.as_str())
        }
        Err(e) => (
            poem::error::ResponseError::as_response(&crate::error::AppError::Unavailable(e.to_string())),
            "unavailable",
        ),
    }
}
