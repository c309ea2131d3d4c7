//! PayPal: an OAuth client-credentials token, an order created with our order id as
//! `custom_id`, the customer approves on PayPal, and on their return we ask PayPal to capture
//! (server to server) — or, with `capture = manual`, to authorise (intent `AUTHORIZE`): an admin
//! captures later; `/pay/{order_id}/paypal/return` is where PayPal sends the customer back.
//! The order still changes only on a signed webhook.

use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{handler, Response};
use serde_json::{json, Value};

use crate::payments::gateways::GatewayId;
use crate::payments::start::authorise_only;
use crate::payments::start::{base, required, Checkout, StartError, Started};
use crate::state::AppState;

/// PayPal's public API base.
pub const DEFAULT_BASE: &str = "https://api-m.paypal.com";

/// An OAuth access token (client credentials).
pub async fn token(state: &AppState) -> Result<String, StartError> {
    let g = &state.settings.gateways.paypal;
    let id = required(&g.paypal_client_id, "paypal", "KEYTURN_PAYPAL_CLIENT_ID")?;
    let secret = required(&g.paypal_client_secret, "paypal", "KEYTURN_PAYPAL_CLIENT_SECRET")?;
    let resp = state
        .http
        .post(format!("{}/v1/oauth2/token", base(&g.paypal_api_base, DEFAULT_BASE)))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await?;
    if !resp.status().is_success() {
        return Err(StartError::Gateway(format!("paypal token request answered {}", resp.status())));
    }
    let body: Value = resp.json().await?;
    body["access_token"].as_str().map(String::from).ok_or_else(|| StartError::Gateway("paypal gave no token".into()))
}

/// Creates the PayPal order; returns the approval URL and the PayPal order id.
pub async fn start(state: &AppState, c: &Checkout<'_>) -> Result<Started, StartError> {
    let g = &state.settings.gateways.paypal;
    if let Some(plan) = subscription_plan(state, c) {
        return super::subscriptions::start(state, c, plan).await;
    }
    let bearer = token(state).await?;
    let o = c.order;
    let intent = if authorise_only(state) { "AUTHORIZE" } else { "CAPTURE" };
    let body = json!({
        "intent": intent,
        "purchase_units": [{
            "reference_id": o.id,
            "custom_id": o.id,
            "invoice_id": o.id,
            "description": c.service_name,
            "amount": {"currency_code": o.currency, "value": c.amount()},
        }],
        "payment_source": {"paypal": {"experience_context": {
            "return_url": state.link(&format!("/pay/{}/paypal/return", o.id)),
            "cancel_url": c.cancel_url,
            "user_action": "PAY_NOW",
        }}},
    });
    let resp = state
        .http
        .post(format!("{}/v2/checkout/orders", base(&g.paypal_api_base, DEFAULT_BASE)))
        .bearer_auth(bearer)
        .header(
            "PayPal-Request-Id",
            format!("keyturn-order-{}{}", if intent == "AUTHORIZE" { "auth-" } else { "" }, o.id),
        )
        .json(&body)
        .send()
        .await?;
    if !resp.status().is_success() {
        return Err(StartError::Gateway(format!("paypal answered {}", resp.status())));
    }
    let answer: Value = resp.json().await?;
    let url = answer["links"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|l| matches!(l["rel"].as_str(), Some("payer-action" | "approve")))
        .and_then(|l| l["href"].as_str())
        .map(String::from)
        .ok_or_else(|| StartError::Gateway("paypal gave no approval link".into()))?;
    Ok(Started { url, reference: answer["id"].as_str().map(String::from) })
}

/// The billing plan the order's service is sold on as a PayPal subscription, if any. With
/// `capture = manual` none is: a subscription charges at once, an admin could not review it.
fn subscription_plan<'s>(state: &'s AppState, c: &Checkout<'_>) -> Option<&'s str> {
    let slug = c.order.service_slug.as_deref()?;
    let plan = state.settings.gateways.paypal.paypal_subscription_plans.get(slug)?;
    (!authorise_only(state)).then_some(plan)
}

/// Captures an approved PayPal order — or, with `capture = manual`, authorises it (PAYMENT.
/// AUTHORIZATION.CREATED follows; an admin captures later). Idempotent on PayPal's side per
/// request id.
pub async fn capture(state: &AppState, paypal_order: &str) -> Result<(), StartError> {
    let g = &state.settings.gateways.paypal;
    let bearer = token(state).await?;
    let action = if authorise_only(state) { "authorize" } else { "capture" };
    let resp = state
        .http
        .post(format!("{}/v2/checkout/orders/{paypal_order}/{action}", base(&g.paypal_api_base, DEFAULT_BASE)))
        .bearer_auth(bearer)
        .header("PayPal-Request-Id", format!("keyturn-{action}-{paypal_order}"))
        .json(&json!({}))
        .send()
        .await?;
    // 422 (ORDER_ALREADY_CAPTURED / _AUTHORIZED on a reload, or an order created before the
    // capture setting changed) is fine: the webhook settles the order either way.
    if resp.status().is_success() || resp.status().as_u16() == 422 {
        Ok(())
    } else {
        Err(StartError::Gateway(format!("paypal {action} answered {}", resp.status())))
    }
}

#[derive(serde::Deserialize)]
pub struct PayPalReturn {
    #[serde(default)]
    token: String,
}

/// PayPal sends the customer back here after approval: ask PayPal to capture, then show the
/// status page (the order changes only when PayPal's signed webhook arrives).
#[handler]
pub async fn get_paypal_return(
    Path(order_id): Path<String>,
    poem::web::Query(q): poem::web::Query<PayPalReturn>,
    state: Data<&AppState>,
) -> Response {
    let token_ok = !q.token.is_empty() && q.token.len() <= 64 && q.token.bytes().all(|b| b.is_ascii_alphanumeric());
    // Only a PayPal order we created for this order of ours is captured.
    let ours = token_ok && crate::crypto::is_key(&order_id) && {
        let (token, id) = (q.token.clone(), order_id.clone());
        state
            .db
            .read(move |c| Ok(crate::payments::starts::belongs_to(c, GatewayId::PayPal.as_str(), &token, &id)?))
            .await
            .unwrap_or(false)
    };
    if ours && state.gateways.by_id(GatewayId::PayPal).is_some() {
        if let Err(e) = capture(&state, &q.token).await {
            tracing::warn!(event = "paypal_capture_failed", order_id = %order_id, error = %e, "capture failed");
        }
    }
    let target = if crate::crypto::is_key(&order_id) { format!("/orders/{order_id}/return") } else { "/".into() };
    Response::builder().status(StatusCode::SEE_OTHER).header("Location", state.link(&target)).finish()
}
