//! Starting a Stripe payment: a Checkout Session. With `capture = manual` the session only
//! authorises the card (an admin captures later).

use crate::payments::start::{
    authorise_only, base, id_at, json_or_error, required, url_in, Checkout, StartError, Started,
};
use crate::state::AppState;

/// Stripe Checkout Session (`POST /v1/checkout/sessions`), idempotent per order (and capture
/// mode: a manual-capture session asks Stripe only to authorise the card).
pub async fn start(state: &AppState, c: &Checkout<'_>) -> Result<Started, StartError> {
    let g = &state.settings.gateways.stripe;
    let key = required(&g.stripe_api_key, "stripe", "KEYTURN_STRIPE_API_KEY")?;
    let o = c.order;
    let amount = o.amount_minor.to_string();
    let currency = o.currency.to_lowercase();
    let manual = authorise_only(state);
    if let Some(price) = subscription_price(state, c) {
        return send(state, key, &subscription_params(c, price), format!("keyturn-checkout-subscription-{}", o.id))
            .await;
    }
    let mut params: Vec<(&str, &str)> = vec![
        ("mode", "payment"),
        ("success_url", &c.return_url),
        ("cancel_url", &c.cancel_url),
        ("client_reference_id", &o.id),
        ("customer_email", &o.email),
        ("metadata[order_id]", &o.id),
        ("payment_intent_data[metadata][order_id]", &o.id),
        ("line_items[0][quantity]", "1"),
        ("line_items[0][price_data][currency]", &currency),
        ("line_items[0][price_data][unit_amount]", &amount),
        ("line_items[0][price_data][product_data][name]", c.service_name),
    ];
    if manual {
        params.push(("payment_intent_data[capture_method]", "manual"));
    }
    let idempotency_key = format!("keyturn-checkout-{}{}", if manual { "manual-" } else { "" }, o.id);
    send(state, key, &params, idempotency_key).await
}

/// The recurring Price the order's service is sold on as a Stripe subscription, if any. With
/// `capture = manual` none is: a subscription charges at once, an admin could not review it.
fn subscription_price<'s>(state: &'s AppState, c: &Checkout<'_>) -> Option<&'s str> {
    let slug = c.order.service_slug.as_deref()?;
    let price = state.settings.gateways.stripe.stripe_subscription_prices.get(slug)?;
    (!authorise_only(state)).then_some(price)
}

/// A Checkout Session in subscription mode: our order id on the session and, through
/// `subscription_data`, on the subscription — whose invoices carry it in their
/// `subscription_details` metadata.
pub(crate) fn subscription_params<'a>(c: &'a Checkout<'a>, price: &'a str) -> Vec<(&'static str, &'a str)> {
    let o = c.order;
    vec![
        ("mode", "subscription"),
        ("success_url", &c.return_url),
        ("cancel_url", &c.cancel_url),
        ("client_reference_id", &o.id),
        ("customer_email", &o.email),
        ("metadata[order_id]", &o.id),
        ("subscription_data[metadata][order_id]", &o.id),
        ("line_items[0][price]", price),
        ("line_items[0][quantity]", "1"),
    ]
}

async fn send(
    state: &AppState,
    key: &str,
    params: &[(&str, &str)],
    idempotency_key: String,
) -> Result<Started, StartError> {
    let g = &state.settings.gateways.stripe;
    let resp = state
        .http
        .post(format!("{}/v1/checkout/sessions", base(&g.stripe_api_base, "https://api.stripe.com")))
        .bearer_auth(key)
        .header("Idempotency-Key", idempotency_key)
        .form(params)
        .send()
        .await?;
    let body = json_or_error(resp, "stripe").await?;
    Ok(Started { url: url_in(&body, "/url", "stripe")?, reference: id_at(&body, "/id") })
}
