//! Payments created through a gateway's API: Stripe, Square, FreedomPay, AllSecure (IXOPAY).
//! With `capture = manual`, Stripe and IXOPAY only authorise the card (an admin captures later);
//! Square payment links and FreedomPay always capture.

use base64::Engine;
use serde_json::{json, Value};

use super::{base, required, Checkout, StartError, Started};
use crate::config::merchant::CaptureMode;
use crate::payments::gateways::{allsecure, freedompay};
use crate::state::AppState;

/// The `Square-Version` header of every Square API call.
pub const SQUARE_VERSION: &str = "2024-01-18";

/// True when payments are only authorised at start (`capture = manual`).
pub fn authorise_only(state: &AppState) -> bool {
    state.settings.merchant.capture == CaptureMode::Manual
}

async fn json_or_error(resp: reqwest::Response, gateway: &str) -> Result<Value, StartError> {
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        return Err(StartError::Gateway(format!("{gateway} answered {status}")));
    }
    Ok(body)
}

/// The gateway's id at `pointer` (a string, or a number as FreedomPay may send it).
fn id_at(v: &Value, pointer: &str) -> Option<String> {
    match v.pointer(pointer)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn url_in(v: &Value, pointer: &str, gateway: &str) -> Result<String, StartError> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        .map(String::from)
        .ok_or_else(|| StartError::Gateway(format!("{gateway} gave no redirect URL")))
}

/// Stripe Checkout Session (`POST /v1/checkout/sessions`), idempotent per order (and capture
/// mode: a manual-capture session asks Stripe only to authorise the card).
pub async fn stripe(state: &AppState, c: &Checkout<'_>) -> Result<Started, StartError> {
    let g = &state.settings.gateways;
    let key = required(&g.stripe_api_key, "stripe", "KEYTURN_STRIPE_API_KEY")?;
    let o = c.order;
    let amount = o.amount_minor.to_string();
    let currency = o.currency.to_lowercase();
    let manual = authorise_only(state);
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
    let resp = state
        .http
        .post(format!("{}/v1/checkout/sessions", base(&g.stripe_api_base, "https://api.stripe.com")))
        .bearer_auth(key)
        .header("Idempotency-Key", idempotency_key)
        .form(&params)
        .send()
        .await?;
    let body = json_or_error(resp, "stripe").await?;
    Ok(Started { url: url_in(&body, "/url", "stripe")?, reference: id_at(&body, "/id") })
}

/// Square payment link (`POST /v2/online-checkout/payment-links`) for an order carrying our id.
/// Payment links offer no delayed capture, so Square payments are captured at once whatever
/// `capture` says (a payment approved elsewhere can still be completed by an admin).
pub async fn square(state: &AppState, c: &Checkout<'_>) -> Result<Started, StartError> {
    let g = &state.settings.gateways;
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

/// The `<tag>value</tag>` children of FreedomPay's `<response>`, in order.
pub fn xml_fields(xml: &str) -> Vec<(String, String)> {
    let inner = xml.split_once("<response>").and_then(|(_, r)| r.rsplit_once("</response>")).map(|(i, _)| i);
    let mut rest = inner.unwrap_or_default();
    let mut out = Vec::new();
    while let Some(start) = rest.find('<') {
        let Some(end) = rest[start..].find('>') else { break };
        let tag = &rest[start + 1..start + end];
        if tag.starts_with('/') || tag.contains(' ') || tag.is_empty() {
            rest = &rest[start + end + 1..];
            continue;
        }
        let close = format!("</{tag}>");
        let body_start = start + end + 1;
        let Some(close_at) = rest[body_start..].find(&close) else { break };
        let value = &rest[body_start..body_start + close_at];
        let value = value.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'");
        out.push((tag.to_string(), value.replace("&amp;", "&")));
        rest = &rest[body_start + close_at + close.len()..];
    }
    out
}

/// FreedomPay `init_payment.php`: signed request, signed XML answer with the redirect URL.
pub async fn freedompay(state: &AppState, c: &Checkout<'_>) -> Result<Started, StartError> {
    let g = &state.settings.gateways;
    let merchant = required(&g.freedompay_merchant_id, "freedompay", "KEYTURN_FREEDOMPAY_MERCHANT_ID")?;
    let secret = g
        .freedompay_secret_key
        .first()
        .ok_or(StartError::NotConfigured("freedompay", "KEYTURN_FREEDOMPAY_SECRET_KEY"))?;
    let o = c.order;
    let salt = crate::crypto::random_id("s");
    let mut fields: Vec<(String, String)> = [
        ("pg_merchant_id", merchant),
        ("pg_order_id", &o.id),
        ("pg_amount", &c.amount()),
        ("pg_currency", &o.currency),
        ("pg_description", c.service_name),
        ("pg_result_url", &c.callback_url),
        ("pg_success_url", &c.return_url),
        ("pg_failure_url", &c.cancel_url),
        ("pg_user_contact_email", &o.email),
        ("pg_salt", &salt),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let script = "init_payment.php";
    fields.push(("pg_sig".into(), freedompay::sign(script, &fields, secret)));
    let resp = state
        .http
        .post(format!("{}/{script}", base(&g.freedompay_api_base, "https://api.freedompay.kz")))
        .form(&fields)
        .send()
        .await?;
    if !resp.status().is_success() {
        return Err(StartError::Gateway(format!("freedompay answered {}", resp.status())));
    }
    let answer = xml_fields(&resp.text().await?);
    let get = |k: &str| answer.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let sig = get("pg_sig").unwrap_or_default();
    if !crate::payments::gateways::ct_eq_hex(&freedompay::sign(script, &answer, secret), sig) {
        return Err(StartError::Gateway("freedompay's answer is not signed with our secret".into()));
    }
    if get("pg_status") != Some("ok") {
        let why = get("pg_error_description").unwrap_or("refused");
        return Err(StartError::Gateway(format!("freedompay refused: {why}")));
    }
    let url = get("pg_redirect_url")
        .map(String::from)
        .ok_or_else(|| StartError::Gateway("freedompay gave no redirect URL".into()))?;
    Ok(Started { url, reference: get("pg_payment_id").map(String::from) })
}

/// A request to the IXOPAY API: HTTP Basic auth plus `X-Signature` over the method, the body's
/// MD5, the content type, the date and the path (the scheme its callbacks use). `path` gets the
/// API key.
pub(crate) async fn allsecure_request(
    state: &AppState,
    method: reqwest::Method,
    path: impl FnOnce(&str) -> String,
    body: Vec<u8>,
) -> Result<reqwest::Response, StartError> {
    let g = &state.settings.gateways;
    let api_key = required(&g.allsecure_api_key, "allsecure", "KEYTURN_ALLSECURE_API_KEY")?;
    let user = required(&g.allsecure_username, "allsecure", "KEYTURN_ALLSECURE_USERNAME")?;
    let password = required(&g.allsecure_password, "allsecure", "KEYTURN_ALLSECURE_PASSWORD")?;
    let secret = g
        .allsecure_shared_secret
        .first()
        .ok_or(StartError::NotConfigured("allsecure", "KEYTURN_ALLSECURE_SHARED_SECRET"))?;
    let path = path(api_key);
    let content_type = "application/json; charset=utf-8";
    let date = chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let signature = allsecure::request_signature(method.as_str(), secret, &body, content_type, &date, &path);
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let mut request = state
        .http
        .request(method, format!("{}{path}", base(&g.allsecure_api_base, "https://asxgw.com")))
        .header("Authorization", format!("Basic {basic}"))
        .header("Content-Type", content_type)
        .header("Date", date)
        .header("X-Signature", signature);
    if !body.is_empty() {
        request = request.body(body);
    }
    Ok(request.send().await?)
}

/// AllSecure / IXOPAY `POST /api/v3/transaction/{apiKey}/debit` (or `preauthorize` with
/// `capture = manual`), signed like its callbacks.
pub async fn allsecure(state: &AppState, c: &Checkout<'_>) -> Result<Started, StartError> {
    let transaction = if authorise_only(state) { "preauthorize" } else { "debit" };
    let o = c.order;
    let body = serde_json::to_vec(&json!({
        "merchantTransactionId": o.id,
        "amount": c.amount(),
        "currency": o.currency,
        "description": c.service_name,
        "successUrl": c.return_url,
        "cancelUrl": c.cancel_url,
        "errorUrl": c.cancel_url,
        "callbackUrl": c.callback_url,
        "customer": {"email": o.email},
    }))
    .map_err(|e| StartError::Gateway(e.to_string()))?;
    let resp =
        allsecure_request(state, reqwest::Method::POST, |key| format!("/api/v3/transaction/{key}/{transaction}"), body)
            .await?;
    let answer = json_or_error(resp, "allsecure").await?;
    if answer["success"] != Value::Bool(true) {
        return Err(StartError::Gateway("allsecure refused the transaction".into()));
    }
    let url = match answer["returnType"].as_str() {
        Some("REDIRECT") => url_in(&answer, "/redirectUrl", "allsecure")?,
        // Finished without customer interaction: the callback settles it; show the status.
        Some("FINISHED" | "PENDING") => c.return_url.clone(),
        _ => return Err(StartError::Gateway("allsecure returned an error".into())),
    };
    Ok(Started { url, reference: id_at(&answer, "/uuid") })
}

#[cfg(test)]
mod tests {
    use super::xml_fields;

    #[test]
    fn reads_freedompay_xml_in_order() {
        let xml = "<?xml version=\"1.0\"?><response><pg_status>ok</pg_status><pg_payment_id>42</pg_payment_id>\
                   <pg_redirect_url>https://pay.example/x?a=1&amp;b=2</pg_redirect_url></response>";
        let f = xml_fields(xml);
        assert_eq!(f[0], ("pg_status".into(), "ok".into()));
        assert_eq!(f[2].1, "https://pay.example/x?a=1&b=2");
    }
}
