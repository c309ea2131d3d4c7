//! Starting a FreedomPay payment: `init_payment.php`, signed, with a signed XML answer.

use crate::payments::gateways::freedompay;
use crate::payments::start::{base, required, Checkout, StartError, Started};
use crate::state::AppState;

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
pub async fn start(state: &AppState, c: &Checkout<'_>) -> Result<Started, StartError> {
    let g = &state.settings.gateways.freedompay;
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
