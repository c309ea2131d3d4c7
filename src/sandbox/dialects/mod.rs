//! The sandbox speaks every dialect: one sandbox event (`payment.succeeded`, `payment.failed`,
//! `payment.requires_action`, `refund.succeeded`) rendered as the callback a real gateway would
//! send — its headers, content type, body and signature (made with the adapters' own signing
//! helpers) — so the whole flow runs through each adapter on one machine. An event a gateway
//! has no way to express renders as `None`.
//!
//! The sandbox never holds a live gateway's secret: it signs with a sandbox-only secret derived
//! from its own key (`sandbox_secret`), and posts to its own callback,
//! `/api/v1/payments/sandbox/{gateway}/callback`, where [`sandbox_adapter`] — the gateway's
//! adapter holding those sandbox-only secrets — verifies it. The gateway's live callback never
//! accepts what the sandbox signs.

#[cfg(test)]
mod tests;

use std::sync::Arc;

use anyhow::{anyhow, bail, Context};
use hmac::{Hmac, Mac};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};
use rsa::RsaPrivateKey;
use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::payments::gateways::allsecure::dialect as allsecure;
use crate::payments::gateways::dotpay::dialect as dotpay;
use crate::payments::gateways::freedompay::dialect as freedompay;
use crate::payments::gateways::paypal::dialect as paypal;
use crate::payments::gateways::square::dialect as square;
use crate::payments::gateways::stripe::dialect as stripe;
use crate::payments::gateways::twocheckout::dialect as twocheckout;
use crate::payments::gateways::{self as gw, standard_webhooks, Gateway, GatewayId};
use crate::sandbox::model::SandboxPayment;

/// Whose callback format the sandbox speaks (setting `sandbox_dialect`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Standard Webhooks to `/api/v1/payments/sandbox/callback` (the default).
    Sandbox,
    Stripe,
    FreedomPay,
    TwoCheckout,
    AllSecure,
    PayPal,
    Dotpay,
    Square,
}

impl Dialect {
    pub const ALL: [Dialect; 8] = [
        Dialect::Sandbox,
        Dialect::Stripe,
        Dialect::FreedomPay,
        Dialect::TwoCheckout,
        Dialect::AllSecure,
        Dialect::PayPal,
        Dialect::Dotpay,
        Dialect::Square,
    ];

    /// The gateway whose callbacks this dialect imitates.
    pub fn id(self) -> GatewayId {
        match self {
            Dialect::Sandbox => GatewayId::Sandbox,
            Dialect::Stripe => GatewayId::Stripe,
            Dialect::FreedomPay => GatewayId::FreedomPay,
            Dialect::TwoCheckout => GatewayId::TwoCheckout,
            Dialect::AllSecure => GatewayId::AllSecure,
            Dialect::PayPal => GatewayId::PayPal,
            Dialect::Dotpay => GatewayId::Dotpay,
            Dialect::Square => GatewayId::Square,
        }
    }

    /// The gateway's name, as in `/api/v1/payments/{gateway}/callback`.
    pub fn name(self) -> &'static str {
        self.id().as_str()
    }

    pub fn parse(s: &str) -> Option<Dialect> {
        Dialect::ALL.into_iter().find(|d| d.name() == s)
    }

    /// `sandbox, stripe, …` for messages.
    pub fn names() -> String {
        Dialect::ALL.map(Dialect::name).join(", ")
    }

    /// Where the sandbox posts its callbacks in this dialect: its own callback, never the
    /// gateway's live one.
    pub fn callback_path(self) -> String {
        match self {
            Dialect::Sandbox => "/api/v1/payments/sandbox/callback".into(),
            d => format!("/api/v1/payments/sandbox/{}/callback", d.name()),
        }
    }

    /// The settings that enable this gateway and name the sandbox's account with it (merchant
    /// ids, PayPal's webhook id and the sandbox's own PayPal key).
    pub fn required_settings(self) -> &'static [&'static str] {
        match self {
            Dialect::Sandbox => &[],
            Dialect::Stripe => &["stripe_webhook_secret"],
            Dialect::FreedomPay => &["freedompay_merchant_id", "freedompay_secret_key"],
            Dialect::TwoCheckout => &["twocheckout_merchant_code", "twocheckout_secret_key"],
            Dialect::AllSecure => &["allsecure_api_key", "allsecure_shared_secret"],
            Dialect::PayPal => &["paypal_webhook_id", "sandbox_paypal_key_file"],
            Dialect::Dotpay => &["dotpay_shop_id", "dotpay_pin"],
            Dialect::Square => &["square_signature_key", "square_notification_url"],
        }
    }

    /// Whether a 2xx reply body is this gateway's acknowledgement (otherwise it retries).
    pub fn acknowledged(self, body: &str) -> bool {
        match self {
            Dialect::FreedomPay => {
                body.contains("<pg_status>ok</pg_status>") || body.contains("<pg_status>rejected</pg_status>")
            }
            Dialect::TwoCheckout => body.contains("<sig algo=") || body.contains("<EPAYMENT>"),
            Dialect::AllSecure | Dialect::Dotpay => body.trim() == "OK",
            _ => true,
        }
    }
}

/// One sandbox event about one sandbox payment.
pub struct Event<'a> {
    /// `payment.succeeded`, `payment.failed`, `payment.requires_action` or `refund.succeeded`.
    pub kind: &'a str,
    pub payment: &'a SandboxPayment,
    /// `authenticated`, `attempted`, `exempted`, `not_performed` or `failed`.
    pub three_ds: Option<&'a str>,
}

/// A rendered callback: the body (and its identity) is fixed for every attempt of one
/// delivery; the headers are signed afresh per attempt ([`Voice::headers`]).
#[derive(Debug, Clone)]
pub struct Callback {
    /// The path and query it is posted to (signed by some gateways).
    pub uri: String,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    /// The gateway's identity of this event (for logs).
    pub event_id: String,
}

/// The sandbox speaking one dialect, with the secret it signs with.
pub enum Voice {
    Sandbox { key: Vec<u8> },
    Stripe { secret: String },
    FreedomPay { merchant_id: String, secret: String },
    TwoCheckout { secret: String },
    AllSecure { secret: String },
    PayPal { webhook_id: String, key: Box<RsaPrivateKey> },
    Dotpay { shop_id: String, pin: String },
    Square { key: String, notification_url: String },
}

/// The secret the sandbox signs `dialect`'s callbacks with: derived from one of the sandbox's
/// own keys, so it is never a live gateway's secret and rotates with `sandbox_secret`.
pub fn sandbox_only_secret(sandbox_key: &[u8], dialect: Dialect) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(sandbox_key).expect("HMAC takes any key length");
    mac.update(b"keyturn sandbox dialect ");
    mac.update(dialect.name().as_bytes());
    let secret = hex::encode(mac.finalize().into_bytes());
    match dialect {
        Dialect::Stripe => format!("whsec_{secret}"),
        _ => secret,
    }
}

fn required(value: &Option<String>, name: &str) -> anyhow::Result<String> {
    value.clone().ok_or_else(|| anyhow!("KEYTURN_{} is not set", name.to_uppercase()))
}

/// The `KEYTURN_` names of the settings `dialect` needs that are not set.
pub fn missing_settings(s: &Settings, dialect: Dialect) -> Vec<String> {
    let g = &s.gateways;
    let is_set = |name: &str| match name {
        "stripe_webhook_secret" => !g.stripe_webhook_secret.is_empty(),
        "freedompay_merchant_id" => g.freedompay_merchant_id.is_some(),
        "freedompay_secret_key" => !g.freedompay_secret_key.is_empty(),
        "twocheckout_merchant_code" => g.twocheckout_merchant_code.is_some(),
        "twocheckout_secret_key" => !g.twocheckout_secret_key.is_empty(),
        "allsecure_api_key" => g.allsecure_api_key.is_some(),
        "allsecure_shared_secret" => !g.allsecure_shared_secret.is_empty(),
        "paypal_webhook_id" => g.paypal_webhook_id.is_some(),
        "paypal_cert_file" => g.paypal_cert_file.is_some(),
        "sandbox_paypal_key_file" => s.sandbox_paypal_key_file.is_some(),
        "dotpay_shop_id" => g.dotpay_shop_id.is_some(),
        "dotpay_pin" => !g.dotpay_pin.is_empty(),
        "square_signature_key" => !g.square_signature_key.is_empty(),
        "square_notification_url" => g.square_notification_url.is_some(),
        _ => true,
    };
    dialect.required_settings().iter().filter(|n| !is_set(n)).map(|n| format!("KEYTURN_{}", n.to_uppercase())).collect()
}

/// Reads the sandbox's PayPal signing key; refuses the key `paypal_cert_file` verifies live
/// callbacks with (the live PayPal callback would then accept what the sandbox signs).
fn paypal_key(s: &Settings) -> anyhow::Result<RsaPrivateKey> {
    let path = s.sandbox_paypal_key_file.as_ref().context("KEYTURN_SANDBOX_PAYPAL_KEY_FILE is not set")?;
    let pem = std::fs::read_to_string(path).with_context(|| format!("sandbox_paypal_key_file {}", path.display()))?;
    let key = RsaPrivateKey::from_pkcs8_pem(&pem)
        .or_else(|_| RsaPrivateKey::from_pkcs1_pem(&pem))
        .map_err(|e| anyhow!("sandbox_paypal_key_file {}: not a PKCS#8 PEM RSA private key ({e})", path.display()))?;
    if let Some(cert_path) = &s.gateways.paypal_cert_file {
        let cert = std::fs::read(cert_path).with_context(|| format!("paypal_cert_file {}", cert_path.display()))?;
        let live =
            gw::paypal::public_key(&cert).map_err(|e| anyhow!("paypal_cert_file {}: {e}", cert_path.display()))?;
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

/// The adapter that verifies what the sandbox signs in its dialect, mounted at the sandbox's
/// own callback: the dialect's gateway holding the sandbox-only secrets (one per
/// `sandbox_secret`, for rotation) and the configured identifiers. `None` when the sandbox is
/// off or speaks its own dialect.
pub fn sandbox_adapter(s: &Settings, sandbox_keys: &[Vec<u8>]) -> anyhow::Result<Option<Arc<dyn Gateway>>> {
    let dialect = s.sandbox_dialect;
    if !s.sandbox_enabled {
        return Ok(None);
    }
    let secrets: Vec<String> = sandbox_keys.iter().map(|k| sandbox_only_secret(k, dialect)).collect();
    let g = &s.gateways;
    let adapter: Arc<dyn Gateway> = match dialect {
        Dialect::Sandbox => return Ok(None),
        Dialect::Stripe => Arc::new(gw::stripe::Stripe { secrets }),
        Dialect::FreedomPay => Arc::new(gw::freedompay::FreedomPay {
            merchant_id: required(&g.freedompay_merchant_id, "freedompay_merchant_id")?,
            secret_keys: secrets,
        }),
        Dialect::TwoCheckout => Arc::new(gw::twocheckout::TwoCheckout {
            merchant_code: required(&g.twocheckout_merchant_code, "twocheckout_merchant_code")?,
            secret_keys: secrets,
        }),
        Dialect::AllSecure => Arc::new(gw::allsecure::AllSecure {
            api_key: required(&g.allsecure_api_key, "allsecure_api_key")?,
            shared_secrets: secrets,
        }),
        Dialect::PayPal => {
            let public = paypal_key(s)?.to_public_key().to_public_key_pem(LineEnding::LF)?;
            Arc::new(gw::paypal::PayPal {
                webhook_id: required(&g.paypal_webhook_id, "paypal_webhook_id")?,
                certificates: vec![public.into_bytes()],
            })
        }
        Dialect::Dotpay => {
            Arc::new(gw::dotpay::Dotpay { shop_id: required(&g.dotpay_shop_id, "dotpay_shop_id")?, pins: secrets })
        }
        Dialect::Square => Arc::new(gw::square::Square {
            signature_keys: secrets,
            notification_url: required(&g.square_notification_url, "square_notification_url")?,
        }),
    };
    Ok(Some(adapter))
}

impl Voice {
    /// The voice `sandbox_dialect` asks for; fails with the missing `KEYTURN_` settings named.
    pub fn from_settings(s: &Settings, sandbox_keys: &[Vec<u8>]) -> anyhow::Result<Voice> {
        let dialect = s.sandbox_dialect;
        let missing = missing_settings(s, dialect);
        if !missing.is_empty() {
            bail!(
                "sandbox_dialect={} needs the {} gateway configured: set {}",
                dialect.name(),
                dialect.name(),
                missing.join(", ")
            );
        }
        let g = &s.gateways;
        let key = sandbox_keys.first().context("no sandbox key")?;
        let secret = sandbox_only_secret(key, dialect);
        Ok(match dialect {
            Dialect::Sandbox => Voice::Sandbox { key: key.clone() },
            Dialect::Stripe => Voice::Stripe { secret },
            Dialect::FreedomPay => Voice::FreedomPay {
                merchant_id: required(&g.freedompay_merchant_id, "freedompay_merchant_id")?,
                secret,
            },
            Dialect::TwoCheckout => Voice::TwoCheckout { secret },
            Dialect::AllSecure => Voice::AllSecure { secret },
            Dialect::PayPal => Voice::PayPal {
                webhook_id: required(&g.paypal_webhook_id, "paypal_webhook_id")?,
                key: Box::new(paypal_key(s)?),
            },
            Dialect::Dotpay => Voice::Dotpay { shop_id: required(&g.dotpay_shop_id, "dotpay_shop_id")?, pin: secret },
            Dialect::Square => Voice::Square {
                key: secret,
                notification_url: required(&g.square_notification_url, "square_notification_url")?,
            },
        })
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Voice::Sandbox { .. } => Dialect::Sandbox,
            Voice::Stripe { .. } => Dialect::Stripe,
            Voice::FreedomPay { .. } => Dialect::FreedomPay,
            Voice::TwoCheckout { .. } => Dialect::TwoCheckout,
            Voice::AllSecure { .. } => Dialect::AllSecure,
            Voice::PayPal { .. } => Dialect::PayPal,
            Voice::Dotpay { .. } => Dialect::Dotpay,
            Voice::Square { .. } => Dialect::Square,
        }
    }

    /// Renders `ev` as this gateway's callback posted to `uri` (path and query) at `now`;
    /// `None` when the gateway has no way to express the event. Every call is a new event
    /// (fresh event/transaction identity); retries resend the returned callback.
    pub fn render(&self, ev: &Event<'_>, uri: &str, now: i64) -> Option<Callback> {
        let (content_type, body, event_id) = match self {
            Voice::Sandbox { .. } => {
                let known = [
                    "payment.succeeded",
                    "payment.authorized",
                    "payment.cancelled",
                    "payment.failed",
                    "payment.requires_action",
                    "refund.succeeded",
                ];
                if !known.contains(&ev.kind) {
                    return None;
                }
                ("application/json", sandbox_body(ev), crate::crypto::random_id("evt"))
            }
            Voice::Stripe { .. } => stripe::render(ev, now)?,
            Voice::FreedomPay { merchant_id, secret } => freedompay::render(ev, merchant_id, secret, uri, now)?,
            Voice::TwoCheckout { secret } => twocheckout::render(ev, secret, now)?,
            Voice::AllSecure { .. } => allsecure::render(ev)?,
            Voice::PayPal { .. } => paypal::render(ev, now)?,
            Voice::Dotpay { shop_id, pin } => dotpay::render(ev, shop_id, pin, now)?,
            Voice::Square { .. } => square::render(ev, now)?,
        };
        Some(Callback { uri: uri.to_string(), content_type, body, event_id })
    }

    /// The headers of one delivery attempt at `now` (content type included), signed afresh
    /// where the gateway signs a time.
    pub fn headers(&self, cb: &Callback, now: i64) -> Vec<(&'static str, String)> {
        let mut h = vec![("content-type", cb.content_type.to_string())];
        match self {
            Voice::Sandbox { key } => {
                h.push(("webhook-id", cb.event_id.clone()));
                h.push(("webhook-timestamp", now.to_string()));
                h.push(("webhook-signature", standard_webhooks::sign(key, &cb.event_id, now, &cb.body)));
            }
            Voice::Stripe { secret } => h.extend(stripe::headers(secret, cb, now)),
            Voice::AllSecure { secret } => h.extend(allsecure::headers(secret, cb, now)),
            Voice::PayPal { webhook_id, key } => h.extend(paypal::headers(webhook_id, key, cb, now)),
            Voice::Square { key, notification_url } => h.extend(square::headers(key, notification_url, cb)),
            // Form posts carry their signature in the body.
            Voice::FreedomPay { .. } | Voice::TwoCheckout { .. } | Voice::Dotpay { .. } => {}
        }
        h
    }
}

/// The sandbox's own Standard Webhooks body.
pub fn sandbox_body(ev: &Event<'_>) -> Vec<u8> {
    let p = ev.payment;
    serde_json::to_vec(&serde_json::json!({
        "type": ev.kind,
        "data": {
            "payment_id": p.id,
            "order_id": p.order_id,
            "amount_minor": p.amount_minor,
            "currency": p.currency,
            "three_ds": ev.three_ds,
        }
    }))
    .expect("json")
}

// ---- Helpers shared by the dialects. ----

/// A stable number of `digits` decimal digits derived from a sandbox id (the gateway's own
/// numbering of the same payment, identical for every event about it).
pub(crate) fn number(id: &str, digits: u32) -> String {
    let h = Sha256::digest(id.as_bytes());
    let n = u64::from_be_bytes(h[..8].try_into().expect("8 bytes")) % 10u64.pow(digits);
    format!("{n:0width$}", width = digits as usize)
}

/// A stable hex id of `len` characters derived from a sandbox id.
pub(crate) fn stable_hex(id: &str, salt: &str, len: usize) -> String {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update(id.as_bytes());
    hex::encode(h.finalize())[..len].to_string()
}

/// A fresh random hex string of `len` characters.
pub(crate) fn fresh_hex(len: usize) -> String {
    let bytes: [u8; 32] = rand::random();
    hex::encode(bytes)[..len].to_string()
}

/// A fresh UUID v4 in its usual text form.
pub(crate) fn uuid4() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

/// Unix seconds as UTC with a chrono format string.
pub(crate) fn utc(now: i64, format: &str) -> String {
    chrono::DateTime::from_timestamp(now, 0).unwrap_or_default().format(format).to_string()
}

/// Unix seconds as RFC 3339 UTC (`2024-01-01T12:00:00Z`).
pub(crate) fn rfc3339(now: i64) -> String {
    utc(now, "%Y-%m-%dT%H:%M:%SZ")
}

/// A url-encoded form body from fields in order.
pub(crate) fn form(fields: &[(String, String)]) -> Vec<u8> {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        s.append_pair(k, v);
    }
    s.finish().into_bytes()
}

/// The amount as the gateway writes it (`19.90`).
pub(crate) fn decimal(p: &SandboxPayment) -> String {
    crate::money::format_minor(p.amount_minor, &p.currency)
}

/// The payment's description as the shop set it: naming our order.
pub(crate) fn description(p: &SandboxPayment) -> String {
    format!("Order {}", p.order_id)
}
