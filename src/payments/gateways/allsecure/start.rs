//! Starting an AllSecure (IXOPAY) payment: a signed `debit` (or `preauthorize` with
//! `capture = manual`) transaction; the same signed requests serve the operations and status.

use base64::Engine;
use serde_json::{json, Value};

use crate::payments::gateways::allsecure;
use crate::payments::start::{
    authorise_only, base, id_at, json_or_error, required, url_in, Checkout, StartError, Started,
};
use crate::state::AppState;

/// A request to the IXOPAY API: HTTP Basic auth plus `X-Signature` over the method, the body's
/// MD5, the content type, the date and the path (the scheme its callbacks use). `path` gets the
/// API key.
pub(crate) async fn allsecure_request(
    state: &AppState,
    method: reqwest::Method,
    path: impl FnOnce(&str) -> String,
    body: Vec<u8>,
) -> Result<reqwest::Response, StartError> {
    let g = &state.settings.gateways.allsecure;
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
pub async fn start(state: &AppState, c: &Checkout<'_>) -> Result<Started, StartError> {
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
