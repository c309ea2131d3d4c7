//! hCaptcha, checked server-side behind a small trait; fails closed when the verifier is
//! unreachable. Off (with a loud warning at start) when no secret is configured.

use std::net::IpAddr;
use std::time::Duration;

use futures_util::future::BoxFuture;

/// What the verifier said about a captcha response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptchaOutcome {
    Passed,
    /// Missing, wrong, expired or replayed.
    Failed,
    /// The verifier could not be asked: refuse (fail closed).
    Unavailable,
}

/// Checks a captcha response token.
pub trait CaptchaVerifier: Send + Sync {
    fn verify<'a>(&'a self, token: &'a str, ip: IpAddr) -> BoxFuture<'a, CaptchaOutcome>;
}

/// hCaptcha's siteverify through the `hcaptcha` crate.
pub struct HCaptcha {
    secret: String,
    sitekey: Option<String>,
    client: hcaptcha::Client,
}

impl HCaptcha {
    pub fn new(secret: String, sitekey: Option<String>, verify_url: &str) -> anyhow::Result<Self> {
        let client = hcaptcha::Client::new_with(verify_url).map_err(|e| anyhow::anyhow!("hcaptcha_verify_url: {e}"))?;
        Ok(HCaptcha { secret, sitekey, client })
    }
}

impl CaptchaVerifier for HCaptcha {
    fn verify<'a>(&'a self, token: &'a str, ip: IpAddr) -> BoxFuture<'a, CaptchaOutcome> {
        Box::pin(async move {
            let request = match hcaptcha::Request::new_from_response(&self.secret, token)
                .and_then(|r| r.set_remoteip(&ip.to_string()))
                .and_then(|r| match &self.sitekey {
                    Some(k) => r.set_sitekey(k),
                    None => Ok(r),
                }) {
                Ok(r) => r,
                Err(_) => return CaptchaOutcome::Failed,
            };
            match tokio::time::timeout(Duration::from_secs(10), self.client.verify_request(request)).await {
                Ok(Ok(resp)) if resp.success() => CaptchaOutcome::Passed,
                Ok(Err(hcaptcha::Error::Codes(codes))) => {
                    tracing::info!(event = "captcha_failed", codes = ?codes, "captcha rejected");
                    CaptchaOutcome::Failed
                }
                Ok(Ok(_)) => CaptchaOutcome::Failed,
                Ok(Err(e)) => {
                    tracing::warn!(event = "captcha_unavailable", error = %e, "captcha verifier unreachable");
                    CaptchaOutcome::Unavailable
                }
                Err(_) => {
                    tracing::warn!(event = "captcha_unavailable", "captcha verifier timed out");
                    CaptchaOutcome::Unavailable
                }
            }
        })
    }
}
