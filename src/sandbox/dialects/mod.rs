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

use std::path::Path;
use std::sync::Arc;

use anyhow::{anyhow, bail, Context};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::payments::gateways::{Gateway, GatewayId};
use crate::sandbox::model::SandboxPayment;

/// How the sandbox imitates one gateway's callbacks. Each gateway implements it in its folder's
/// `dialect.rs`; the registry reaches it by [`GatewayId::dialect`] (setting `sandbox_dialect`).
pub trait SandboxDialect: Sync {
    /// The settings that enable this gateway and name the sandbox's account with it (merchant
    /// ids, PayPal's webhook id and the sandbox's own PayPal key).
    fn required_settings(&self) -> &'static [&'static str];
    /// Whether a 2xx reply body is this gateway's acknowledgement (otherwise it retries).
    fn acknowledged(&self, _body: &str) -> bool {
        true
    }
    /// A sandbox-only secret (hex, derived from the sandbox's key) in the form this gateway's
    /// secrets take.
    fn secret(&self, derived: String) -> String {
        derived
    }
    /// The sandbox speaking this dialect, signing with `secret` (`key`: the sandbox's own key).
    fn voice(&self, s: &Settings, secret: String, key: &[u8]) -> anyhow::Result<Box<dyn Speaker>>;
    /// This gateway's adapter holding the sandbox-only `secrets` and the configured identifiers,
    /// to verify what the sandbox signs; `None` for the sandbox's own dialect.
    fn adapter(&self, s: &Settings, secrets: Vec<String>) -> anyhow::Result<Option<Arc<dyn Gateway>>>;
    /// Settings that enable this gateway with throwaway secrets, for `keyturn demo` (files it
    /// needs are written into `dir`).
    fn demo_settings(&self, dir: &Path) -> anyhow::Result<Vec<(&'static str, String)>>;
    /// What the demo says it generated with [`SandboxDialect::demo_settings`].
    fn demo_step(&self, id: GatewayId) -> String {
        format!("generate throwaway {id} secrets")
    }
}

/// The sandbox speaking one dialect, holding what it signs with.
pub trait Speaker: Send + Sync {
    /// (content type, body, event id) of `ev` posted to `uri` at `now`; `None` when the gateway
    /// has no way to express the event.
    fn render(&self, ev: &Event<'_>, uri: &str, now: i64) -> Option<(&'static str, Vec<u8>, String)>;
    /// The headers of one attempt besides the content type (form posts sign in the body: none).
    fn headers(&self, _cb: &Callback, _now: i64) -> Vec<(&'static str, String)> {
        Vec::new()
    }
}

/// Where the sandbox posts its callbacks in `dialect`: its own callback, never the gateway's
/// live one.
pub fn callback_path(dialect: GatewayId) -> String {
    match dialect {
        GatewayId::Sandbox => "/api/v1/payments/sandbox/callback".into(),
        d => format!("/api/v1/payments/sandbox/{d}/callback"),
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

/// The sandbox speaking one gateway's dialect, with the secret it signs with.
pub struct Voice {
    dialect: GatewayId,
    speaker: Box<dyn Speaker>,
}

/// The secret the sandbox signs `dialect`'s callbacks with: derived from one of the sandbox's
/// own keys, so it is never a live gateway's secret and rotates with `sandbox_secret`.
pub fn sandbox_only_secret(sandbox_key: &[u8], dialect: GatewayId) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(sandbox_key).expect("HMAC takes any key length");
    mac.update(b"keyturn sandbox dialect ");
    mac.update(dialect.as_str().as_bytes());
    dialect.dialect().secret(hex::encode(mac.finalize().into_bytes()))
}

/// A setting a dialect needs, or which `KEYTURN_` variable to set.
pub(crate) fn required(value: &Option<String>, name: &str) -> anyhow::Result<String> {
    value.clone().ok_or_else(|| anyhow!("KEYTURN_{} is not set", name.to_uppercase()))
}

/// The `KEYTURN_` names of the settings `dialect` needs that are not set.
pub fn missing_settings(s: &Settings, dialect: GatewayId) -> Vec<String> {
    let required = dialect.dialect().required_settings();
    required.iter().filter(|n| !s.has(n)).map(|n| format!("KEYTURN_{}", n.to_uppercase())).collect()
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
    dialect.dialect().adapter(s, secrets)
}

impl Voice {
    /// The sandbox speaking `dialect` through `speaker`.
    pub fn new(dialect: GatewayId, speaker: Box<dyn Speaker>) -> Voice {
        Voice { dialect, speaker }
    }

    /// The voice `sandbox_dialect` asks for; fails with the missing `KEYTURN_` settings named.
    pub fn from_settings(s: &Settings, sandbox_keys: &[Vec<u8>]) -> anyhow::Result<Voice> {
        let dialect = s.sandbox_dialect;
        let missing = missing_settings(s, dialect);
        if !missing.is_empty() {
            bail!("sandbox_dialect={dialect} needs the {dialect} gateway configured: set {}", missing.join(", "));
        }
        let key = sandbox_keys.first().context("no sandbox key")?;
        let secret = sandbox_only_secret(key, dialect);
        Ok(Voice::new(dialect, dialect.dialect().voice(s, secret, key)?))
    }

    /// The gateway whose callbacks this voice imitates.
    pub fn dialect(&self) -> GatewayId {
        self.dialect
    }

    /// Renders `ev` as this gateway's callback posted to `uri` (path and query) at `now`;
    /// `None` when the gateway has no way to express the event. Every call is a new event
    /// (fresh event/transaction identity); retries resend the returned callback.
    pub fn render(&self, ev: &Event<'_>, uri: &str, now: i64) -> Option<Callback> {
        let (content_type, body, event_id) = self.speaker.render(ev, uri, now)?;
        Some(Callback { uri: uri.to_string(), content_type, body, event_id })
    }

    /// The headers of one delivery attempt at `now` (content type included), signed afresh
    /// where the gateway signs a time.
    pub fn headers(&self, cb: &Callback, now: i64) -> Vec<(&'static str, String)> {
        let mut h = vec![("content-type", cb.content_type.to_string())];
        h.extend(self.speaker.headers(cb, now));
        h
    }
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

/// A throwaway secret for the demo: 48 hex characters.
pub(crate) fn throwaway() -> String {
    hex::encode(rand::random::<[u8; 24]>())
}
