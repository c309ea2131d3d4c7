//! Small assertion helpers and test data.

use reqwest::Response;
use serde_json::Value;

pub fn unique_email() -> String {
    format!("kt-{}@example.test", hex::encode(rand::random::<[u8; 6]>()))
}

pub fn strong_password() -> String {
    format!("Quartz-{}-lantern-Fjord", hex::encode(rand::random::<[u8; 6]>()))
}

/// Asserts the status and returns the JSON body.
pub async fn json_status(resp: Response, status: u16) -> Value {
    let got = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    assert_eq!(got, status, "unexpected status; body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Asserts the status; the body may be empty or JSON.
pub async fn json_or_empty(resp: Response, status: u16) -> Option<Value> {
    let got = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    assert_eq!(got, status, "unexpected status; body: {text}");
    serde_json::from_str(&text).ok()
}

pub async fn json_ok<T: serde::de::DeserializeOwned>(resp: Response) -> T {
    serde_json::from_value(json_status(resp, 200).await).unwrap()
}

/// Asserts a JSON error `{"error": code, "message": ...}` with this status.
pub async fn assert_error(resp: Response, status: u16, code: &str) -> Value {
    let v = json_status(resp, status).await;
    assert_eq!(v["error"], code, "error body: {v}");
    assert!(v["message"].is_string(), "error without message: {v}");
    v
}

/// Polls `probe` until it yields a value, for at most [`super::MAIL_TIMEOUT`]: how a test waits
/// for an outcome it can observe, instead of sleeping a fixed time.
pub async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + super::MAIL_TIMEOUT;
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(std::time::Instant::now() < deadline, "never happened within {:?}: {what}", super::MAIL_TIMEOUT);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The sources of one directive of a Content-Security-Policy header (`script-src` →
/// `'self'`), as sent; `None` when the policy lacks it.
pub fn csp_directive(csp: &str, name: &str) -> Option<String> {
    csp.split(';').map(str::trim).find_map(|d| d.strip_prefix(name)?.strip_prefix(' ').map(|v| v.trim().to_string()))
}

/// How many `<script>` elements of `page` carry code of their own (no `src`), plus inline
/// event handlers: what a CSP without `'unsafe-inline'` blocks.
pub fn inline_scripts(page: &str) -> usize {
    let lower = page.to_ascii_lowercase();
    let scripts =
        lower.split("<script").skip(1).filter(|tag| !tag.split('>').next().unwrap_or("").contains("src=")).count();
    let handlers =
        ["onclick=", "onload=", "onsubmit=", "onerror="].iter().map(|h| lower.matches(h).count()).sum::<usize>();
    scripts + handlers
}
