//! FreedomPay's answer about a payment we started: `get_status2.php`.

use crate::payments::gateways::{self, freedompay, money_fields};
use crate::payments::start::status::{bad, malformed, word, Paid, Status};
use crate::payments::start::{base, required, StartError};
use crate::state::AppState;

/// FreedomPay `get_status2.php`: a request signed like `init_payment.php`, a signed XML answer;
/// paid when `pg_payment_status` is `success`.
pub async fn ask(state: &AppState, payment_id: &str) -> Result<Status, StartError> {
    let g = &state.settings.gateways.freedompay;
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
    let answer = super::start::xml_fields(&resp.text().await?);
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
