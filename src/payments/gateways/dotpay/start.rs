//! Starting a Dotpay payment: a payment-page link signed with `chk`.

use sha2::{Digest, Sha256};

use crate::payments::gateways::GatewaySettings;
use crate::payments::start::{base, query, required, Checkout, StartError};

/// Dotpay `chk`: SHA-256 hex of the PIN followed by the parameters in Dotpay's documented
/// order (api_version, lang, id, amount, currency, description, control, url, type, urlc,
/// email for the ones we send). Unconfirmed, like the URLC field order.
pub fn dotpay_chk(pin: &str, params: &[(&str, String)]) -> String {
    const ORDER: [&str; 11] =
        ["api_version", "lang", "id", "amount", "currency", "description", "control", "url", "type", "urlc", "email"];
    let mut h = Sha256::new();
    h.update(pin.as_bytes());
    for name in ORDER {
        if let Some((_, v)) = params.iter().find(|(k, _)| *k == name) {
            h.update(v.as_bytes());
        }
    }
    hex::encode(h.finalize())
}

/// A Dotpay payment-page URL with `control` = our order id and the URLC callback.
pub fn link(all: &GatewaySettings, c: &Checkout<'_>) -> Result<String, StartError> {
    let g = &all.dotpay;
    let shop = required(&g.dotpay_shop_id, "dotpay", "KEYTURN_DOTPAY_SHOP_ID")?;
    let pin = g.dotpay_pin.first().ok_or(StartError::NotConfigured("dotpay", "KEYTURN_DOTPAY_PIN"))?;
    let o = c.order;
    let mut params: Vec<(&str, String)> = vec![
        ("api_version", "next".into()),
        ("lang", "en".into()),
        ("id", shop.to_string()),
        ("amount", c.amount()),
        ("currency", o.currency.clone()),
        ("description", c.service_name.to_string()),
        ("control", o.id.to_string()),
        ("url", c.return_url.clone()),
        ("type", "4".into()),
        ("urlc", c.callback_url.clone()),
        ("email", o.email.clone()),
    ];
    params.push(("chk", dotpay_chk(pin, &params)));
    Ok(query(base(&g.dotpay_api_base, "https://ssl.dotpay.pl/t2/"), &params))
}
