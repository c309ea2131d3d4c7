//! Starting a Square payment: a payment link. Payment links offer no delayed capture.

use serde_json::json;

use crate::payments::start::{base, id_at, json_or_error, required, url_in, Checkout, StartError, Started};
use crate::state::AppState;

/// The `Square-Version` header of every Square API call.
pub const SQUARE_VERSION: &str = "2024-01-18";

/// Square payment link (`POST /v2/online-checkout/payment-links`) for an order carrying our id.
/// Payment links offer no delayed capture, so Square payments are captured at once whatever
/// `capture` says (a payment approved elsewhere can still be completed by an admin).
pub async fn start(state: &AppState, c: &Checkout<'_>) -> Result<Started, StartError> {
    let g = &state.settings.gateways.square;
    let token = required(&g.square_access_token, "square", "KEYTURN_SQUARE_ACCESS_TOKEN")?;
    let location = required(&g.square_location_id, "square", "KEYTURN_SQUARE_LOCATION_ID")?;
    let o = c.order;
    let body = json!({
        "idempotency_key": format!("keyturn-{}", o.id),
        "order": {
            "location_id": location,
            "reference_id": o.id,
            "line_items": [{
                "name": c.service_name,
                "quantity": "1",
                "base_price_money": {"amount": o.amount_minor, "currency": o.currency},
            }],
        },
        "checkout_options": {"redirect_url": c.return_url},
        "pre_populated_data": {"buyer_email": o.email},
    });
    let resp = state
        .http
        .post(format!("{}/v2/online-checkout/payment-links", base(&g.square_api_base, "https://connect.squareup.com")))
        .bearer_auth(token)
        .header("Square-Version", SQUARE_VERSION)
        .json(&body)
        .send()
        .await?;
    let body = json_or_error(resp, "square").await?;
    // The link's order carries our reference_id; its status is what the sweep asks about.
    Ok(Started {
        url: url_in(&body, "/payment_link/url", "square")?,
        reference: id_at(&body, "/payment_link/order_id"),
    })
}
