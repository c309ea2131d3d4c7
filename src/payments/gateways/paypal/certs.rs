//! Gateway signing certificates fetched at callback time (PayPal's `PAYPAL-CERT-URL`): only
//! from allowed origins (PayPal's own by default), TLS-verified, size-capped, parsed before
//! use, and cached so a burst of callbacks costs one fetch. The URL comes from a callback not
//! yet verified, so outbound work stays bounded whatever callers send: one fetch at a time per
//! URL, a short timeout, failures remembered for a while, and a global budget of fetches per
//! minute (beyond it the callback is asked to come back later).

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
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
const MAX_FAILURES: usize = 256;
/// Certificate fetches allowed per minute, all URLs together.
pub const FETCHES_PER_MINUTE: u32 = 10;
/// How long a failed fetch is remembered (the same URL is not tried again meanwhile).
pub const FAILURE_TTL: Duration = Duration::from_secs(600);
/// Timeout of one certificate fetch.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Why no certificate is available for a callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertError {
    /// Not allowed, not reachable or not a usable certificate (also remembered failures).
    Refused(String),
    /// The fetch budget is spent: try again after this many seconds.
    Busy(u64),
}

impl std::fmt::Display for CertError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CertError::Refused(why) => f.write_str(why),
            CertError::Busy(s) => write!(f, "certificate fetch budget spent; retry in {s} s"),
        }
    }
}

/// The cache of fetched certificates.
pub struct CertCache {
    origins: Vec<String>,
    cache: Mutex<HashMap<String, Arc<Vec<u8>>>>,
    failures: Mutex<HashMap<String, (Instant, String)>>,
    in_flight: Mutex<HashMap<String, Arc<Mutex<()>>>>,
    budget: DefaultDirectRateLimiter,
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
        let per_minute = NonZeroU32::new(FETCHES_PER_MINUTE).unwrap_or(NonZeroU32::MIN);
        CertCache {
            origins,
            cache: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
            in_flight: Mutex::new(HashMap::new()),
            budget: RateLimiter::direct(Quota::per_minute(per_minute)),
        }
    }

    /// The certificate at `url`, fetched once; a failure is remembered for [`FAILURE_TTL`].
    pub async fn get(&self, http: &reqwest::Client, url: &str) -> Result<Arc<Vec<u8>>, CertError> {
        if !origin_allowed(url, &self.origins) || !cert_path(url) {
            return Err(CertError::Refused("certificate URL is not on an allowed origin and path".into()));
        }
        if let Some(known) = self.known(url).await {
            return known;
        }
        // One fetch per URL at a time: concurrent callbacks naming it wait for its outcome.
        let gate = self.in_flight.lock().await.entry(url.to_string()).or_default().clone();
        let result = {
            let _held = gate.lock().await;
            match self.known(url).await {
                Some(known) => known,
                None => self.fetch_and_remember(http, url).await,
            }
        };
        let mut in_flight = self.in_flight.lock().await;
        if Arc::strong_count(&gate) <= 2 {
            in_flight.remove(url);
        }
        result
    }

    /// What is already known about `url`: its certificate, or a recent failure.
    async fn known(&self, url: &str) -> Option<Result<Arc<Vec<u8>>, CertError>> {
        if let Some(pem) = self.cache.lock().await.get(url) {
            return Some(Ok(pem.clone()));
        }
        let failures = self.failures.lock().await;
        let (at, why) = failures.get(url)?;
        (at.elapsed() < FAILURE_TTL).then(|| Err(CertError::Refused(format!("{why} (remembered)"))))
    }

    async fn fetch_and_remember(&self, http: &reqwest::Client, url: &str) -> Result<Arc<Vec<u8>>, CertError> {
        if let Err(not_until) = self.budget.check() {
            let wait = not_until.wait_time_from(governor::clock::Clock::now(&governor::clock::DefaultClock::default()));
            return Err(CertError::Busy(wait.as_secs().max(1)));
        }
        match fetch(http, url).await {
            Ok(pem) => {
                let pem = Arc::new(pem);
                let mut cache = self.cache.lock().await;
                if cache.len() >= MAX_ENTRIES {
                    cache.clear();
                }
                cache.insert(url.to_string(), pem.clone());
                Ok(pem)
            }
            Err(why) => {
                let mut failures = self.failures.lock().await;
                if failures.len() >= MAX_FAILURES {
                    failures.retain(|_, (at, _)| at.elapsed() < FAILURE_TTL);
                    if failures.len() >= MAX_FAILURES {
                        failures.clear();
                    }
                }
                failures.insert(url.to_string(), (Instant::now(), why.clone()));
                Err(CertError::Refused(why))
            }
        }
    }
}

/// One fetch: short timeout, size cap, and the body must hold a usable key.
async fn fetch(http: &reqwest::Client, url: &str) -> Result<Vec<u8>, String> {
    let resp = http
        .get(url)
        .timeout(FETCH_TIMEOUT)
        .send()
        .await
        .map_err(|e| format!("fetching the certificate: {}", e.without_url()))?;
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
    super::public_key(&body)?;
    Ok(body.to_vec())
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
