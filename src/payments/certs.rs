//! Gateway signing certificates fetched at callback time (PayPal's `PAYPAL-CERT-URL`): only
//! from allowed origins (PayPal's own by default), TLS-verified, size-capped, parsed before
//! use, and cached so a burst of callbacks costs one fetch.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::Mutex;

/// PayPal's API origins, the only default sources of its certificates.
pub const PAYPAL_ORIGINS: [&str; 4] = [
    "https://api.paypal.com",
    "https://api-m.paypal.com",
    "https://api.sandbox.paypal.com",
    "https://api-m.sandbox.paypal.com",
];

const MAX_PEM_BYTES: usize = 64 * 1024;
const MAX_ENTRIES: usize = 32;

/// The cache of fetched certificates.
pub struct CertCache {
    origins: Vec<String>,
    cache: Mutex<HashMap<String, Arc<Vec<u8>>>>,
}

/// PayPal serves its signing certificates under this path.
pub const CERT_PATH_PREFIX: &str = "/v1/notifications/certs/";

fn cert_path(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| u.path().starts_with(CERT_PATH_PREFIX) && u.query().is_none())
}

/// True when `url` is on one of `origins` exactly (scheme, host and port; no user info).
pub fn origin_allowed(url: &str, origins: &[String]) -> bool {
    let Ok(u) = url::Url::parse(url) else { return false };
    if !u.username().is_empty() || u.password().is_some() {
        return false;
    }
    let origin = u.origin().ascii_serialization();
    origins.iter().any(|o| o.trim_end_matches('/') == origin)
}

impl CertCache {
    /// `origins` empty → PayPal's own.
    pub fn new(origins: &[String]) -> CertCache {
        let origins =
            if origins.is_empty() { PAYPAL_ORIGINS.iter().map(|o| o.to_string()).collect() } else { origins.to_vec() };
        CertCache { origins, cache: Mutex::new(HashMap::new()) }
    }

    /// The certificate at `url`, fetched once.
    pub async fn get(&self, http: &reqwest::Client, url: &str) -> Result<Arc<Vec<u8>>, String> {
        if !origin_allowed(url, &self.origins) || !cert_path(url) {
            return Err("certificate URL is not on an allowed origin and path".into());
        }
        if let Some(pem) = self.cache.lock().await.get(url) {
            return Ok(pem.clone());
        }
        // Fetched without holding the lock, so one slow URL cannot stall every callback.
        let resp = http.get(url).send().await.map_err(|e| format!("fetching the certificate: {}", e.without_url()))?;
        if !resp.status().is_success() {
            return Err(format!("certificate URL answered {}", resp.status()));
        }
        if resp.content_length().is_some_and(|n| n > MAX_PEM_BYTES as u64) {
            return Err("certificate too large".into());
        }
        let body = resp.bytes().await.map_err(|e| format!("reading the certificate: {}", e.without_url()))?;
        if body.len() > MAX_PEM_BYTES {
            return Err("certificate too large".into());
        }
        crate::payments::gateways::paypal::public_key(&body)?;
        let mut cache = self.cache.lock().await;
        if cache.len() >= MAX_ENTRIES {
            cache.clear();
        }
        let pem = Arc::new(body.to_vec());
        cache.insert(url.to_string(), pem.clone());
        Ok(pem)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_exact_allowed_origins() {
        let paypal: Vec<String> = PAYPAL_ORIGINS.iter().map(|o| o.to_string()).collect();
        assert!(origin_allowed("https://api.paypal.com/v1/notifications/certs/CERT-360caa42", &paypal));
        assert!(origin_allowed("https://api-m.sandbox.paypal.com/certs/x.pem", &paypal));
        assert!(!origin_allowed("http://api.paypal.com/certs/x.pem", &paypal), "plain http");
        assert!(!origin_allowed("https://api.paypal.com.evil.example/x.pem", &paypal));
        assert!(!origin_allowed("https://evil.example/api.paypal.com/x.pem", &paypal));
        assert!(!origin_allowed("https://api.paypal.com:8443/x.pem", &paypal), "other port");
        assert!(!origin_allowed("https://user@api.paypal.com/x.pem", &paypal), "user info");
        assert!(!origin_allowed("not a url", &paypal));
    }
}
