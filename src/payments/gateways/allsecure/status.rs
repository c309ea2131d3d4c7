//! AllSecure's (IXOPAY's) answer about a payment we started: its transaction.

use serde_json::Value;

use crate::payments::gateways::money_fields;
use crate::payments::start::status::{bad, decimal_at, json_answer, malformed, str_at, word, Paid, Status};
use crate::payments::start::StartError;
use crate::state::AppState;

/// AllSecure / IXOPAY `GET /api/v3/status/{apiKey}/getByUuid/{uuid}`, signed like the debit with
/// method `GET` and an empty body; paid when `transactionStatus` is `SUCCESS` for a debit or capture.
pub async fn ask(state: &AppState, uuid: &str) -> Result<Status, StartError> {
    let path = |key: &str| format!("/api/v3/status/{key}/getByUuid/{uuid}");
    let resp = super::start::allsecure_request(state, reqwest::Method::GET, path, Vec::new()).await?;
    let t = json_answer(resp, "allsecure").await?;
    if t["success"] != Value::Bool(true) {
        return Err(bad("allsecure", &format!("refused: {}", word(str_at(&t, "/errorMessage")))));
    }
    let status = str_at(&t, "/transactionStatus");
    let payment = matches!(str_at(&t, "/transactionType"), Some("DEBIT" | "CAPTURE"));
    if status != Some("SUCCESS") || !payment {
        return Ok(Status::Unpaid(format!("{}:{}", word(str_at(&t, "/transactionType")), word(status))));
    }
    let (amount_minor, currency) =
        money_fields(decimal_at(&t, "/amount").as_deref(), str_at(&t, "/currency")).map_err(malformed("allsecure"))?;
    Ok(Status::Paid(Paid {
        payment_id: str_at(&t, "/uuid").unwrap_or(uuid).to_string(),
        order_id: str_at(&t, "/merchantTransactionId").map(String::from),
        amount_minor,
        currency,
        three_ds: None,
    }))
}
