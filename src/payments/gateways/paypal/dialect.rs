//! PayPal REST webhooks: a JSON event about a capture (or its refund), signed with RSA-SHA256
//! over `transmission_id|transmission_time|webhook_id|crc32(body)`, one transmission per
//! attempt. PayPal sends no webhook while a buyer is in a 3-D Secure challenge.

use std::path::Path;
use std::sync::Arc;

use anyhow::{anyhow, bail, Context};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};
use rsa::signature::{SignatureEncoding, Signer};
use rsa::RsaPrivateKey;
use serde_json::json;
use sha2::Sha256;

use crate::config::Settings;
use crate::payments::gateways::paypal::{signed_message, PayPal, AUTH_ALGO};
use crate::payments::gateways::Gateway;
use crate::sandbox::dialects::{
    decimal, required, rfc3339, stable_hex, uuid4, Callback, Event, SandboxDialect, Speaker,
};

const API: &str = "https://api.sandbox.paypal.com";

/// (content type, body, event id); `None` for an event PayPal would not send.
pub(crate) fn render(ev: &Event<'_>, now: i64) -> Option<(&'static str, Vec<u8>, String)> {
    let p = ev.payment;
    let capture = stable_hex(&p.id, "paypal", 17).to_ascii_uppercase();
    let amount = json!({"currency_code": p.currency, "value": decimal(p)});
    let time = rfc3339(now);
    let link = |rel: &str, href: String| json!({"rel": rel, "method": "GET", "href": href});
    let capture_resource = |status: &str| {
        json!({
            "id": capture,
            "status": status,
            "amount": amount,
            "final_capture": true,
            "seller_protection": {"status": "ELIGIBLE"},
            "custom_id": p.order_id,
            "create_time": time,
            "update_time": time,
            "links": [link("self", format!("{API}/v2/payments/captures/{capture}"))],
        })
    };
    let (event_type, resource_type, summary, resource) = match ev.kind {
        "payment.succeeded" => {
            ("PAYMENT.CAPTURE.COMPLETED", "capture", "Payment completed", capture_resource("COMPLETED"))
        }
        "payment.failed" => ("PAYMENT.CAPTURE.DECLINED", "capture", "Payment declined", capture_resource("DECLINED")),
        "refund.succeeded" => {
            let refund = crate::sandbox::dialects::fresh_hex(17).to_ascii_uppercase();
            let resource = json!({
                "id": refund,
                "status": "COMPLETED",
                "amount": amount,
                "custom_id": p.order_id,
                "create_time": time,
                "update_time": time,
                "links": [
                    link("self", format!("{API}/v2/payments/refunds/{refund}")),
                    link("up", format!("{API}/v2/payments/captures/{capture}")),
                ],
            });
            ("PAYMENT.CAPTURE.REFUNDED", "refund", "A payment was refunded", resource)
        }
        _ => return None,
    };
    let id = format!(
        "WH-{}-{}",
        crate::sandbox::dialects::fresh_hex(17).to_ascii_uppercase(),
        crate::sandbox::dialects::fresh_hex(17).to_ascii_uppercase()
    );
    let event = json!({
        "id": id,
        "event_version": "1.0",
        "create_time": time,
        "resource_type": resource_type,
        "resource_version": "2.0",
        "event_type": event_type,
        "summary": format!("{summary}: {} {}", decimal(p), p.currency),
        "resource": resource,
        "links": [link("self", format!("{API}/v1/notifications/webhooks-events/{id}"))],
    });
    Some(("application/json", serde_json::to_vec(&event).expect("json"), id))
}

/// The transmission headers of this attempt (a new transmission id and time each time).
pub(crate) fn headers(webhook_id: &str, key: &RsaPrivateKey, cb: &Callback, now: i64) -> Vec<(&'static str, String)> {
    let transmission_id = uuid4();
    let time = rfc3339(now);
    let message = signed_message(&transmission_id, &time, webhook_id, &cb.body);
    let sig = SigningKey::<Sha256>::new(key.clone()).sign(message.as_bytes()).to_bytes();
    vec![
        ("paypal-transmission-id", transmission_id),
        ("paypal-transmission-time", time),
        ("paypal-transmission-sig", STANDARD.encode(sig)),
        ("paypal-cert-url", format!("{API}/v1/notifications/certs/CERT-keyturn-sandbox")),
        ("paypal-auth-algo", AUTH_ALGO.into()),
        ("paypal-auth-version", "v2".into()),
    ]
}

/// The sandbox speaking PayPal.
pub struct PayPalVoice {
    pub webhook_id: String,
    pub key: Box<RsaPrivateKey>,
}

impl Speaker for PayPalVoice {
    fn render(&self, ev: &Event<'_>, _uri: &str, now: i64) -> Option<(&'static str, Vec<u8>, String)> {
        render(ev, now)
    }

    fn headers(&self, cb: &Callback, now: i64) -> Vec<(&'static str, String)> {
        headers(&self.webhook_id, &self.key, cb, now)
    }
}

/// Reads the sandbox's PayPal signing key; refuses the key `paypal_cert_file` verifies live
/// callbacks with (the live PayPal callback would then accept what the sandbox signs).
fn paypal_key(s: &Settings) -> anyhow::Result<RsaPrivateKey> {
    let path = s.sandbox_paypal_key_file.as_ref().context("KEYTURN_SANDBOX_PAYPAL_KEY_FILE is not set")?;
    let pem = std::fs::read_to_string(path).with_context(|| format!("sandbox_paypal_key_file {}", path.display()))?;
    let key = RsaPrivateKey::from_pkcs8_pem(&pem)
        .or_else(|_| RsaPrivateKey::from_pkcs1_pem(&pem))
        .map_err(|e| anyhow!("sandbox_paypal_key_file {}: not a PKCS#8 PEM RSA private key ({e})", path.display()))?;
    if let Some(cert_path) = &s.gateways.paypal.paypal_cert_file {
        let cert = std::fs::read(cert_path).with_context(|| format!("paypal_cert_file {}", cert_path.display()))?;
        let live = crate::payments::gateways::paypal::public_key(&cert)
            .map_err(|e| anyhow!("paypal_cert_file {}: {e}", cert_path.display()))?;
        if live == key.to_public_key() {
            bail!(
                "sandbox_paypal_key_file {} is the key paypal_cert_file {} verifies live PayPal callbacks with: \
                 the sandbox must sign with a key of its own",
                path.display(),
                cert_path.display()
            );
        }
    }
    Ok(key)
}

/// PayPal as the sandbox speaks it: signed with the sandbox's own RSA key
/// (`sandbox_paypal_key_file`), verified at the sandbox's callback with its public half.
pub struct PayPalDialect;

impl SandboxDialect for PayPalDialect {
    fn required_settings(&self) -> &'static [&'static str] {
        &["paypal_webhook_id", "sandbox_paypal_key_file"]
    }

    fn voice(&self, s: &Settings, _secret: String, _key: &[u8]) -> anyhow::Result<Box<dyn Speaker>> {
        let webhook_id = required(&s.gateways.paypal.paypal_webhook_id, "paypal_webhook_id")?;
        Ok(Box::new(PayPalVoice { webhook_id, key: Box::new(paypal_key(s)?) }))
    }

    fn adapter(&self, s: &Settings, _secrets: Vec<String>) -> anyhow::Result<Option<Arc<dyn Gateway>>> {
        let public = paypal_key(s)?.to_public_key().to_public_key_pem(LineEnding::LF)?;
        let webhook_id = required(&s.gateways.paypal.paypal_webhook_id, "paypal_webhook_id")?;
        Ok(Some(Arc::new(PayPal { webhook_id, certificates: vec![public.into_bytes()] })))
    }

    /// An RSA key written into `dir`: the sandbox's own, its public half verifies at the
    /// sandbox's callback only.
    fn demo_settings(&self, dir: &Path) -> anyhow::Result<Vec<(&'static str, String)>> {
        use rsa::pkcs8::EncodePrivateKey;
        let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)?;
        let key_file = dir.join("sandbox-paypal-key.pem");
        std::fs::write(&key_file, key.to_pkcs8_pem(LineEnding::LF)?.as_bytes())?;
        Ok(vec![
            ("paypal_webhook_id", format!("WH-DEMO-{}", &crate::sandbox::dialects::throwaway()[..16])),
            ("sandbox_paypal_key_file", key_file.to_string_lossy().into_owned()),
        ])
    }

    fn demo_step(&self, _id: crate::payments::gateways::GatewayId) -> String {
        "generate throwaway paypal settings and an RSA-2048 signing key".into()
    }
}
