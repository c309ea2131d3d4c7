//! An independent Standard Webhooks signer, playing the gateway's part.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

/// A fresh `whsec_` secret and the raw key it encodes.
pub fn new_secret() -> (String, Vec<u8>) {
    let key: [u8; 32] = rand::random();
    (format!("whsec_{}", STANDARD.encode(key)), key.to_vec())
}

/// `v1,<base64 HMAC-SHA256(key, "{id}.{ts}.{body}")>`
pub fn sign(key: &[u8], id: &str, ts: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(format!("{id}.{ts}.").as_bytes());
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// A callback event body.
pub struct Event<'a> {
    pub kind: &'a str,
    pub order_id: &'a str,
    pub payment_id: &'a str,
    pub amount_minor: i64,
    pub currency: &'a str,
    pub three_ds: &'a str,
}

impl Event<'_> {
    pub fn body(&self) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "type": self.kind,
            "data": {
                "payment_id": self.payment_id,
                "order_id": self.order_id,
                "amount_minor": self.amount_minor,
                "currency": self.currency,
                "three_ds": self.three_ds,
            }
        }))
        .unwrap()
    }
}

pub fn random_id(prefix: &str) -> String {
    format!("{prefix}_{}", hex::encode(rand::random::<[u8; 12]>()))
}
