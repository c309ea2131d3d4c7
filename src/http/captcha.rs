//! hCaptcha, checked server-side behind a small trait; fails closed when the verifier is
//! unreachable. Off (with a loud warning at start) when no secret is configured. Also the one
//! widget (element, script, CSP) that every page with a captcha-checked form shows.

use std::net::IpAddr;
use std::time::Duration;

use futures_util::future::BoxFuture;
use poem::http::HeaderValue;
use poem::Response;

use crate::state::AppState;

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

/// The CSP of a page that shows hCaptcha's widget: the sources hCaptcha documents, on those
/// pages only; still no inline script and no framing of ours.
pub const WIDGET_CSP: &str = "default-src 'none'; script-src https://hcaptcha.com https://*.hcaptcha.com; \
     frame-src https://hcaptcha.com https://*.hcaptcha.com; style-src 'unsafe-inline' https://hcaptcha.com https://*.hcaptcha.com; \
     connect-src https://hcaptcha.com https://*.hcaptcha.com; img-src 'self'; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

/// The site key a page's form shows, when a captcha is checked and a site key is configured.
fn sitekey(state: &AppState) -> Option<&str> {
    state.settings.hcaptcha_sitekey.as_deref().filter(|_| state.captcha.is_some())
}

/// hCaptcha's widget (its element and its script) for a form of one of our pages; nothing when
/// no captcha is checked. The form posts its answer as `h-captcha-response`. Pair the page with
/// [`allow_widget`], which lets the browser load it.
pub fn widget(state: &AppState) -> String {
    sitekey(state)
        .map(|k| {
            format!(
                "<div class=\"h-captcha\" data-sitekey=\"{}\"></div>\
                 <script src=\"https://js.hcaptcha.com/1/api.js\" async defer></script>",
                crate::http::pages::esc(k)
            )
        })
        .unwrap_or_default()
}

/// `resp` (a page whose form shows [`widget`]) with [`WIDGET_CSP`] when there is a widget.
pub fn allow_widget(state: &AppState, mut resp: Response) -> Response {
    if sitekey(state).is_some() {
        resp.headers_mut().insert("Content-Security-Policy", HeaderValue::from_static(WIDGET_CSP));
    }
    resp
}
