//! Where emails go: a real SMTP server through lettre (implicit TLS, STARTTLS, or plain for
//! local relays; optional auth; optional private CA), or `.eml` files in a directory. Every
//! message is DKIM-signed when a key is configured.

use std::sync::Arc;
use std::time::Duration;

use lettre::address::{Address, Envelope};
use lettre::message::dkim::DkimConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::Settings;

/// TLS mode of an SMTP URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// `smtps://`: TLS from the first byte.
    Implicit,
    /// `?tls=starttls` (or `required`): upgrade with STARTTLS, refuse if unavailable.
    StartTls,
    /// `?tls=opportunistic`: STARTTLS when offered.
    Opportunistic,
    /// `smtp://` without `tls`: plaintext, for a relay on localhost.
    None,
}

/// A parsed `smtp_url`.
#[derive(Debug, Clone)]
pub struct SmtpTarget {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub user: Option<String>,
    pub password: Option<String>,
}

impl SmtpTarget {
    /// Parses `smtps://user:pass@host:465` or `smtp://host:587?tls=starttls`.
    pub fn parse(raw: &str) -> Result<SmtpTarget, String> {
        let url = url::Url::parse(raw).map_err(|e| e.to_string())?;
        let host = url.host_str().ok_or("no host")?.to_string();
        let tls_param = url.query_pairs().find(|(k, _)| k == "tls").map(|(_, v)| v.to_string());
        let tls = match (url.scheme(), tls_param.as_deref()) {
            ("smtps", _) => SmtpTls::Implicit,
            ("smtp", Some("starttls" | "required")) => SmtpTls::StartTls,
            ("smtp", Some("opportunistic")) => SmtpTls::Opportunistic,
            ("smtp", None | Some("none")) => SmtpTls::None,
            ("smtp", Some(other)) => return Err(format!("unknown tls mode `{other}`")),
            (other, _) => return Err(format!("scheme must be smtp or smtps, not `{other}`")),
        };
        let port = url.port().unwrap_or(match tls {
            SmtpTls::Implicit => 465,
            SmtpTls::StartTls | SmtpTls::Opportunistic => 587,
            SmtpTls::None => 25,
        });
        let decode = |s: &str| percent_decode(s);
        let user = (!url.username().is_empty()).then(|| decode(url.username()));
        let password = url.password().map(decode);
        Ok(SmtpTarget { host, port, tls, user, password })
    }
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Why a delivery failed.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Worth retrying later (connection refused, 4xx, timeouts, TLS hiccups).
    #[error("transient: {0}")]
    Transient(String),
    /// Given up for good (a bad template or address): dead-letter at once.
    #[error("permanent: {0}")]
    Permanent(String),
    /// The SMTP server answered with a refusal (4xx, or 5xx when `permanent`): it did not
    /// take this message, so nothing of this attempt reached anyone. Every error without such
    /// an answer (a timeout, a dropped connection) leaves open whether the message arrived.
    #[error("refused: {reason}")]
    Refused { permanent: bool, reason: String },
    /// Not handed over: another worker took the job over (this one's lease ran out). Nothing
    /// to record; the job is that worker's now.
    #[error("the job was taken over by another worker")]
    ClaimLost,
}

/// Where messages go.
#[derive(Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Directory(AsyncFileTransport<Tokio1Executor>),
}

/// The configured transport, with the DKIM signature and envelope sender every message gets.
#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    dkim: Option<Arc<DkimConfig>>,
    envelope_from: Option<Address>,
}

impl Mailer {
    /// Builds the transport from settings.
    pub fn from_settings(s: &Settings) -> anyhow::Result<Mailer> {
        let transport = transport(s)?;
        let dkim = match (&s.mail.dkim_selector, &s.mail.dkim_key) {
            (Some(selector), Some(pem)) => {
                let key = crate::mail::dkim::read_key(pem).map_err(|e| anyhow::anyhow!("dkim_key: {e}"))?;
                let domain = s.dkim_domain();
                Some(Arc::new(key.config(selector, &domain).map_err(|e| anyhow::anyhow!("dkim_key: {e}"))?))
            }
            _ => None,
        };
        let envelope_from = match &s.mail.mail_envelope_from {
            Some(a) => Some(a.parse().map_err(|e| anyhow::anyhow!("mail_envelope_from: {e}"))?),
            None => None,
        };
        Ok(Mailer { transport, dkim, envelope_from })
    }

    /// Short description for the start-up log (no credentials).
    pub fn describe(&self, s: &Settings) -> String {
        let mut d = match self.transport {
            Transport::Smtp(_) => {
                let t = s.smtp_url.as_deref().and_then(|u| SmtpTarget::parse(u).ok());
                t.map(|t| format!("smtp {}:{} ({:?})", t.host, t.port, t.tls)).unwrap_or_default()
            }
            Transport::Directory(_) => format!("directory {}", s.mail_dir().display()),
        };
        if let (Some(_), Some(selector)) = (&self.dkim, &s.mail.dkim_selector) {
            d.push_str(&format!(", DKIM {selector}._domainkey.{}", s.dkim_domain()));
        }
        d
    }

    /// Signs (when DKIM is set) and delivers one message, from the envelope sender when one is set.
    pub async fn send(&self, mut message: Message) -> Result<(), SendError> {
        if let Some(cfg) = &self.dkim {
            message.sign(cfg);
        }
        let envelope = match &self.envelope_from {
            Some(from) => Envelope::new(Some(from.clone()), message.envelope().to().to_vec())
                .map_err(|e| SendError::Permanent(format!("envelope: {e}")))?,
            None => message.envelope().clone(),
        };
        let raw = message.formatted();
        match &self.transport {
            Transport::Smtp(t) => t.send_raw(&envelope, &raw).await.map(|_| ()).map_err(|e| {
                let text = crate::crypto::mask_emails_in(&e.to_string());
                if e.status().is_some() {
                    SendError::Refused { permanent: e.is_permanent(), reason: text }
                } else {
                    SendError::Transient(text)
                }
            }),
            Transport::Directory(t) => {
                t.send_raw(&envelope, &raw).await.map(|_| ()).map_err(|e| SendError::Transient(e.to_string()))
            }
        }
    }
}

fn transport(s: &Settings) -> anyhow::Result<Transport> {
    let Some(raw) = &s.smtp_url else {
        let dir = s.mail_dir();
        std::fs::create_dir_all(&dir)?;
        return Ok(Transport::Directory(AsyncFileTransport::new(dir)));
    };
    let target = SmtpTarget::parse(raw).map_err(|e| anyhow::anyhow!("smtp_url: {e}"))?;
    let tls_params = || -> anyhow::Result<TlsParameters> {
        let mut b = TlsParameters::builder(target.host.clone());
        if let Some(ca) = &s.smtp_ca_file {
            let pem = std::fs::read(ca)?;
            b = b.add_root_certificate(Certificate::from_pem(&pem)?);
        }
        Ok(b.build_rustls()?)
    };
    let tls = match target.tls {
        SmtpTls::Implicit => Tls::Wrapper(tls_params()?),
        SmtpTls::StartTls => Tls::Required(tls_params()?),
        SmtpTls::Opportunistic => Tls::Opportunistic(tls_params()?),
        SmtpTls::None => Tls::None,
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(target.host.clone())
        .port(target.port)
        .tls(tls)
        .timeout(Some(Duration::from_secs(s.smtp_timeout_secs)));
    if let (Some(u), Some(p)) = (&target.user, &target.password) {
        builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
    }
    Ok(Transport::Smtp(builder.build()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_parse_with_tls_modes_and_credentials() {
        let t = SmtpTarget::parse("smtps://user%40x:p%2Fw@mail.example:2465").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.tls), ("mail.example", 2465, SmtpTls::Implicit));
        assert_eq!(t.user.as_deref(), Some("user@x"));
        assert_eq!(t.password.as_deref(), Some("p/w"));
        let t = SmtpTarget::parse("smtp://mail.example?tls=starttls").unwrap();
        assert_eq!((t.port, t.tls), (587, SmtpTls::StartTls));
        assert!(SmtpTarget::parse("http://x").is_err());
        assert!(SmtpTarget::parse("smtp://x?tls=maybe").is_err());
    }
}
