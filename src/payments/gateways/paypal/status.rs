//! PayPal's answer about a payment we started: its order.

use serde_json::Value;

use super::start as paypal;
use crate::payments::gateways::money_fields;
use crate::payments::start::status::{bad, json_answer, malformed, str_at, word, Paid, Status};
use crate::payments::start::{base, StartError};
use crate::state::AppState;

/// PayPal `GET /v2/checkout/orders/{id}`: paid when the order is `COMPLETED` with a completed
/// capture (the capture is the payment PayPal's webhooks name).
pub async fn ask(state: &AppState, id: &str) -> Result<Status, StartError> {
    let g = &state.settings.gateways.paypal;
    if super::subscriptions::is_subscription(id) {
        // A subscription's first charge (a sale) is settled by its webhook, which PayPal retries
        // for days; the subscription's own status does not name the sale.
        return Ok(Status::Unpaid("subscription: settled by webhook".into()));
    }
    let bearer = paypal::token(state).await?;
    let url = format!("{}/v2/checkout/orders/{id}", base(&g.paypal_api_base, paypal::DEFAULT_BASE));
    let o = json_answer(state.http.get(url).bearer_auth(bearer).send().await?, "paypal").await?;
    let status = str_at(&o, "/status");
    let capture = o.pointer("/purchase_units/0/payments/captures/0");
    let Some(capture) = capture.filter(|c| status == Some("COMPLETED") && str_at(c, "/status") == Some("COMPLETED"))
    else {
        return Ok(Status::Unpaid(word(status)));
    };
    let capture_id = str_at(capture, "/id").ok_or_else(|| bad("paypal", "capture without id"))?;
    let (amount_minor, currency) =
        money_fields(str_at(capture, "/amount/value"), str_at(capture, "/amount/currency_code"))
            .map_err(malformed("paypal"))?;
    let unit = o.pointer("/purchase_units/0").unwrap_or(&Value::Null);
    let order_id = ["/custom_id", "/invoice_id", "/reference_id"].iter().find_map(|p| str_at(unit, p));
    Ok(Status::Paid(Paid {
        payment_id: capture_id.to_string(),
        order_id: order_id.map(String::from),
        amount_minor,
        currency,
        // Same source as the capture webhook (which carries no 3-D Secure result), so the two
        // paths can never disagree about one payment.
        three_ds: None,
    }))
}
