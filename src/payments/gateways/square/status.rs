//! Square's answer about a payment we started: the payment link's order.

use serde_json::Value;

use crate::payments::start::status::{bad, json_answer, minor_units, str_at, word, Paid, Status};
use crate::payments::start::{base, required, StartError};
use crate::state::AppState;

/// Square `GET /v2/orders/{order_id}` (the payment link's order): paid when the order is
/// `COMPLETED` or carries tenders, none of them a card payment still short of `CAPTURED`.
pub async fn ask(state: &AppState, order_id: &str) -> Result<Status, StartError> {
    let g = &state.settings.gateways.square;
    let token = required(&g.square_access_token, "square", "KEYTURN_SQUARE_ACCESS_TOKEN")?;
    let url = format!("{}/v2/orders/{order_id}", base(&g.square_api_base, "https://connect.squareup.com"));
    let resp =
        state.http.get(url).bearer_auth(token).header("Square-Version", super::start::SQUARE_VERSION).send().await?;
    let answer = json_answer(resp, "square").await?;
    let o = answer.get("order").filter(|o| o.is_object()).ok_or_else(|| bad("square", "no order"))?;
    let state_word = str_at(o, "/state");
    let tenders = o.get("tenders").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let uncaptured = tenders.iter().any(|t| str_at(t, "/card_details/status").is_some_and(|s| s != "CAPTURED"));
    let paid =
        (state_word == Some("COMPLETED") || !tenders.is_empty()) && !uncaptured && state_word != Some("CANCELED");
    if !paid {
        return Ok(Status::Unpaid(word(state_word)));
    }
    let money = o.get("total_money").unwrap_or(&Value::Null);
    let (amount, currency) = minor_units("square", money.get("amount"), str_at(money, "/currency"))?;
    let payment = tenders.first().and_then(|t| str_at(t, "/payment_id").or_else(|| str_at(t, "/id")));
    Ok(Status::Paid(Paid {
        payment_id: payment.unwrap_or(order_id).to_string(),
        order_id: str_at(o, "/reference_id").map(String::from),
        amount_minor: Some(amount),
        currency: Some(currency),
        three_ds: None,
    }))
}
