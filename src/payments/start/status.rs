//! Asking a gateway what became of a payment we started (the reconciliation sweep's
//! question, for when its callback was lost): Stripe checkout session, PayPal order,
//! FreedomPay `get_status2.php`, AllSecure/IXOPAY status API, Square order. Read-only: nothing
//! here changes an order; the answer goes through the same `apply_event` as a callback.

use serde_json::Value;

use super::{base, required, StartError};
use crate::payments::gateways::paypal::start as paypal;
use crate::payments::gateways::{self, freedompay, money_fields, ThreeDs};
use crate::state::AppState;

/// A payment the gateway reports as paid (captured), with what it says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paid {
    /// The gateway's payment id, as its callbacks name it (Stripe PaymentIntent, PayPal
    /// capture, FreedomPay payment, AllSecure transaction, Square payment).
    pub payment_id: String,
    /// Our order id as the gateway echoes it, when it does.
    pub order_id: Option<String>,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub three_ds: Option<ThreeDs>,
}

/// The gateway's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Paid(Paid),
    /// Not (yet) paid; the gateway's own word for its state, for the log.
    Unpaid(String),
}

fn bad(gateway: &str, what: &str) -> StartError {
    StartError::Gateway(format!("{gateway} status answer: {what}"))
}

fn malformed(gateway: &str) -> impl Fn(gateways::VerifyError) -> StartError + '_ {
    move |e| bad(gateway, &e.to_string())
}

fn word(v: Option<&str>) -> String {
    v.unwrap_or("none").chars().filter(|c| c.is_ascii_graphic()).take(32).collect()
}

/// A successful JSON object answer, or the error to log.
async fn json_answer(resp: reqwest::Response, gateway: &str) -> Result<Value, StartError> {
    let status = resp.status();
    if !status.is_success() {
        return Err(StartError::Gateway(format!("{gateway} status API answered {status}")));
    }
    let v: Value = resp.json().await.map_err(|_| bad(gateway, "not JSON"))?;
    v.is_object().then_some(v).ok_or_else(|| bad(gateway, "not a JSON object"))
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

/// A decimal amount that may come as a string or a number.
fn decimal_at(v: &Value, pointer: &str) -> Option<String> {
    match v.pointer(pointer)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// An amount in minor units with its currency (`{amount: 1990, currency: "EUR"}` shapes).
fn minor_units(gateway: &str, amount: Option<&Value>, currency: Option<&str>) -> Result<(i64, String), StartError> {
    let amount = amount.and_then(Value::as_i64).filter(|a| *a >= 0).ok_or_else(|| bad(gateway, "no amount"))?;
    let currency = gateways::checked_currency(currency.unwrap_or_default()).map_err(malformed(gateway))?;
    Ok((amount, currency))
}

/// Asks `gateway` about the payment it knows as `reference`.
pub async fn ask(state: &AppState, gateway: &str, reference: &str) -> Result<Status, StartError> {
    match gateway {
        "stripe" => stripe(state, reference).await,
        "paypal" => paypal_order(state, reference).await,
        "freedompay" => freedompay(state, reference).await,
        "allsecure" => allsecure(state, reference).await,
        "square" => square(state, reference).await,
        _ => Err(StartError::NotConfigured("this gateway", "a status API")),
    }
}

/// Stripe `GET /v1/checkout/sessions/{id}`: paid when `payment_status` is `paid`.
async fn stripe(state: &AppState, id: &str) -> Result<Status, StartError> {
    let g = &state.settings.gateways;
    let key = required(&g.stripe_api_key, "stripe", "KEYTURN_STRIPE_API_KEY")?;
    let url = format!("{}/v1/checkout/sessions/{id}", base(&g.stripe_api_base, "https://api.stripe.com"));
    let s = json_answer(state.http.get(url).bearer_auth(key).send().await?, "stripe").await?;
    let paid = str_at(&s, "/payment_status");
    if paid != Some("paid") {
        return Ok(Status::Unpaid(word(paid)));
    }
    let (amount, currency) = minor_units("stripe", s.get("amount_total"), str_at(&s, "/currency"))?;
    // `payment_intent` is an id, or the object when expanded; callbacks name the PaymentIntent.
    let intent = str_at(&s, "/payment_intent").or_else(|| str_at(&s, "/payment_intent/id"));
    Ok(Status::Paid(Paid {
        payment_id: intent.unwrap_or(id).to_string(),
        order_id: str_at(&s, "/metadata/order_id").or_else(|| str_at(&s, "/client_reference_id")).map(String::from),
        amount_minor: Some(amount),
        currency: Some(currency),
        three_ds: None,
    }))
}

/// PayPal `GET /v2/checkout/orders/{id}`: paid when the order is `COMPLETED` with a completed
/// capture (the capture is the payment PayPal's webhooks name).
async fn paypal_order(state: &AppState, id: &str) -> Result<Status, StartError> {
    let g = &state.settings.gateways;
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

/// FreedomPay `get_status2.php`: a request signed like `init_payment.php`, a signed XML answer;
/// paid when `pg_payment_status` is `success`.
async fn freedompay(state: &AppState, payment_id: &str) -> Result<Status, StartError> {
    let g = &state.settings.gateways;
    let merchant = required(&g.freedompay_merchant_id, "freedompay", "KEYTURN_FREEDOMPAY_MERCHANT_ID")?;
    let secret = g
        .freedompay_secret_key
        .first()
        .ok_or(StartError::NotConfigured("freedompay", "KEYTURN_FREEDOMPAY_SECRET_KEY"))?;
    let script = "get_status2.php";
    let salt = crate::crypto::random_id("s");
    let mut fields: Vec<(String, String)> =
        [("pg_merchant_id", merchant), ("pg_payment_id", payment_id), ("pg_salt", &salt)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    fields.push(("pg_sig".into(), freedompay::sign(script, &fields, secret)));
    let url = format!("{}/{script}", base(&g.freedompay_api_base, "https://api.freedompay.kz"));
    let resp = state.http.post(url).form(&fields).send().await?;
    if !resp.status().is_success() {
        return Err(StartError::Gateway(format!("freedompay status API answered {}", resp.status())));
    }
    let answer = super::api::xml_fields(&resp.text().await?);
    let get = |k: &str| answer.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let signed = g
        .freedompay_secret_key
        .iter()
        .any(|key| gateways::ct_eq_hex(&freedompay::sign(script, &answer, key), get("pg_sig").unwrap_or_default()));
    if !signed {
        return Err(bad("freedompay", "not signed with our secret"));
    }
    if get("pg_status") != Some("ok") {
        return Err(bad("freedompay", &format!("refused: {}", word(get("pg_error_description")))));
    }
    let status = get("pg_payment_status");
    if status != Some("success") {
        return Ok(Status::Unpaid(word(status)));
    }
    let (amount_minor, currency) =
        money_fields(get("pg_amount"), get("pg_currency")).map_err(malformed("freedompay"))?;
    Ok(Status::Paid(Paid {
        payment_id: get("pg_payment_id").filter(|p| !p.is_empty()).unwrap_or(payment_id).to_string(),
        order_id: get("pg_order_id").map(String::from),
        amount_minor,
        currency,
        three_ds: None,
    }))
}

/// AllSecure / IXOPAY `GET /api/v3/status/{apiKey}/getByUuid/{uuid}`, signed like the debit with
/// method `GET` and an empty body; paid when `transactionStatus` is `SUCCESS` for a debit or capture.
async fn allsecure(state: &AppState, uuid: &str) -> Result<Status, StartError> {
    let path = |key: &str| format!("/api/v3/status/{key}/getByUuid/{uuid}");
    let resp = super::api::allsecure_request(state, reqwest::Method::GET, path, Vec::new()).await?;
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

/// Square `GET /v2/orders/{order_id}` (the payment link's order): paid when the order is
/// `COMPLETED` or carries tenders, none of them a card payment still short of `CAPTURED`.
async fn square(state: &AppState, order_id: &str) -> Result<Status, StartError> {
    let g = &state.settings.gateways;
    let token = required(&g.square_access_token, "square", "KEYTURN_SQUARE_ACCESS_TOKEN")?;
    let url = format!("{}/v2/orders/{order_id}", base(&g.square_api_base, "https://connect.squareup.com"));
    let resp =
        state.http.get(url).bearer_auth(token).header("Square-Version", super::api::SQUARE_VERSION).send().await?;
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
