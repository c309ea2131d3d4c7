//! Stripe's answer about a payment we started: its Checkout Session.

use crate::payments::start::status::{json_answer, minor_units, str_at, word, Paid, Status};
use crate::payments::start::{base, required, StartError};
use crate::state::AppState;

/// Stripe `GET /v1/checkout/sessions/{id}`: paid when `payment_status` is `paid`.
pub async fn ask(state: &AppState, id: &str) -> Result<Status, StartError> {
    let g = &state.settings.gateways.stripe;
    let key = required(&g.stripe_api_key, "stripe", "KEYTURN_STRIPE_API_KEY")?;
    let url = format!("{}/v1/checkout/sessions/{id}", base(&g.stripe_api_base, "https://api.stripe.com"));
    let s = json_answer(state.http.get(url).bearer_auth(key).send().await?, "stripe").await?;
    let paid = str_at(&s, "/payment_status");
    if paid != Some("paid") {
        return Ok(Status::Unpaid(word(paid)));
    }
    let (amount, currency) = minor_units("stripe", s.get("amount_total"), str_at(&s, "/currency"))?;
    // The payment as callbacks name it: the PaymentIntent, or a subscription's first invoice.
    Ok(Status::Paid(Paid {
        payment_id: super::session_payment(&s).unwrap_or(id).to_string(),
        order_id: str_at(&s, "/metadata/order_id").or_else(|| str_at(&s, "/client_reference_id")).map(String::from),
        amount_minor: Some(amount),
        currency: Some(currency),
        three_ds: None,
    }))
}
