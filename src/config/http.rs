//! The HTTP edge's settings: how long a connection may wait for a request, how many may be
//! open at once, how many gateway callbacks are taken per minute, and where HTTPS gets its
//! certificate (files, or ACME).

use std::path::PathBuf;
use std::time::Duration;

use super::declare::{one_of, settings_group, SettingValue};
use super::{invalid, ConfigError};

/// How an ACME server checks that we control a domain (RFC 8555 §8.3, RFC 8737).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcmeChallenge {
    /// A TLS handshake with the `acme-tls/1` protocol on `listen` (which must be reachable on port 443).
    TlsAlpn01,
    /// `GET /.well-known/acme-challenge/<token>` on `http_listen` (reachable on port 80).
    Http01,
}

impl SettingValue for AcmeChallenge {
    fn read(key: &str, v: &str) -> Result<Self, ConfigError> {
        one_of(key, v, &[("tls-alpn-01", AcmeChallenge::TlsAlpn01), ("http-01", AcmeChallenge::Http01)])
    }
}

settings_group! {
    /// HTTP edge settings (all with defaults).
    pub struct HttpSettings, docs HTTP_SETTINGS, apply apply;
    http_header_timeout_secs: u64 = 10,
        "10",
        "A connection must deliver a complete request head this many seconds after it opened (or after its next request began); otherwise it is closed.";
    http_keepalive_timeout_secs: u64 = 60,
        "60",
        "An idle kept-alive connection is closed after this many seconds without a new request.";
    http_max_connections: usize = 512,
        "512",
        "Open connections at most; at the cap the longest-idle connection is closed to make room (busy ones are never cut). Keep it below the descriptor limit (LimitNOFILE) minus about 100.";
    tls_cert_file: Option<PathBuf> = None,
        "(none: plain HTTP, e.g. behind a reverse proxy)",
        "PEM certificate chain (leaf first) for HTTPS on listen; re-read when the file changes (no restart). Set together with tls_key_file.";
    tls_key_file: Option<PathBuf> = None,
        "(none)",
        "PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC) of tls_cert_file.";
    http_listen: Option<String> = None,
        "(none)",
        "With HTTPS on: a plain-HTTP address (e.g. 0.0.0.0:80) that answers every request with a permanent redirect to the https public URL (and, with ACME, the HTTP-01 challenge).";
    acme_domains: Vec<String> = Vec::new(),
        "(none: no ACME)",
        "Comma-separated domains to get one certificate for through ACME (instead of tls_cert_file); it is cached, loaded at start and renewed in the background.";
    acme_email: Option<String> = None,
        "(none)",
        "Contact address given to the ACME server (expiry and policy notices).";
    acme_directory: String = instant_acme::LetsEncrypt::Production.url().into(),
        "https://acme-v02.api.letsencrypt.org/directory",
        "ACME directory URL (Let's Encrypt staging: https://acme-staging-v02.api.letsencrypt.org/directory).";
    acme_ca_file: Option<PathBuf> = None,
        "(system roots)",
        "PEM root certificate to trust for the ACME server's own HTTPS (a private ACME server: step-ca, Pebble).";
    acme_challenge: AcmeChallenge = AcmeChallenge::TlsAlpn01,
        "tls-alpn-01",
        "tls-alpn-01 (answered on listen, port 443 from outside) or http-01 (answered on http_listen, port 80 from outside).";
    acme_cache_dir: Option<PathBuf> = None,
        "<data_dir>/acme",
        "Where the ACME certificate, its key (mode 0600) and the ACME account are kept between restarts.";
    metrics_listen: Option<String> = None,
        "(none: no metrics)",
        "An address (e.g. 127.0.0.1:9464) serving GET /metrics: Prometheus/OpenMetrics text with requests by route and status, latency histograms, callbacks by gateway and outcome, logins by outcome, the hashing queue, email and webhook queues and dead letters. Plain HTTP without authentication: bind it to a private address.";
    callback_rate_limit_per_minute: u32 = 1200,
        "1200",
        "Callbacks accepted per gateway per minute before 429 with Retry-After (gateways retry later).";
}

impl HttpSettings {
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (k, v) in [
            ("http_header_timeout_secs", self.http_header_timeout_secs),
            ("http_keepalive_timeout_secs", self.http_keepalive_timeout_secs),
            ("http_max_connections", self.http_max_connections as u64),
            ("callback_rate_limit_per_minute", u64::from(self.callback_rate_limit_per_minute)),
        ] {
            if v == 0 {
                return Err(invalid(k, "must be at least 1"));
            }
        }
        self.validate_acme()?;
        match (&self.tls_cert_file, &self.tls_key_file) {
            (Some(_), None) => return Err(invalid("tls_key_file", "tls_cert_file is set: set its key too")),
            (None, Some(_)) => return Err(invalid("tls_cert_file", "tls_key_file is set: set the certificate too")),
            (Some(cert), Some(key)) => {
                crate::http::tls::read_pair(cert, key).map_err(|e| invalid("tls_cert_file", e))?;
            }
            (None, None) => {}
        }
        if self.http_listen.is_some() && !self.tls_enabled() {
            return Err(invalid(
                "http_listen",
                "redirects to HTTPS: set tls_cert_file and tls_key_file (or acme_domains) first",
            ));
        }
        Ok(())
    }

    fn validate_acme(&self) -> Result<(), ConfigError> {
        if !self.acme_enabled() {
            return Ok(());
        }
        if self.tls_cert_file.is_some() || self.tls_key_file.is_some() {
            return Err(invalid("acme_domains", "either ACME or tls_cert_file/tls_key_file, not both"));
        }
        for d in &self.acme_domains {
            let plain = d
                .split('.')
                .all(|label| !label.is_empty() && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
            if !plain || d.parse::<std::net::IpAddr>().is_ok() {
                return Err(invalid(
                    "acme_domains",
                    format!("`{d}` is not a domain name (no wildcards, no IP addresses)"),
                ));
            }
        }
        if !self.acme_directory.starts_with("https://") {
            return Err(invalid("acme_directory", "must be an https:// URL"));
        }
        if let Some(ca) = &self.acme_ca_file {
            let pem = std::fs::read(ca).map_err(|e| invalid("acme_ca_file", format!("{}: {e}", ca.display())))?;
            if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
                return Err(invalid("acme_ca_file", format!("{}: no PEM certificate in the file", ca.display())));
            }
        }
        if self.acme_email.as_deref().is_some_and(|e| !e.contains('@')) {
            return Err(invalid("acme_email", "not an email address"));
        }
        if self.acme_challenge == AcmeChallenge::Http01 && self.http_listen.is_none() {
            return Err(invalid("acme_challenge", "http-01 is answered on http_listen: set it (e.g. 0.0.0.0:80)"));
        }
        Ok(())
    }

    /// Whether `listen` serves HTTPS itself (from files or from ACME).
    pub fn tls_enabled(&self) -> bool {
        (self.tls_cert_file.is_some() && self.tls_key_file.is_some()) || self.acme_enabled()
    }

    /// Whether the certificate comes from an ACME server.
    pub fn acme_enabled(&self) -> bool {
        !self.acme_domains.is_empty()
    }

    pub fn header_timeout(&self) -> Duration {
        Duration::from_secs(self.http_header_timeout_secs)
    }

    pub fn keepalive_timeout(&self) -> Duration {
        Duration::from_secs(self.http_keepalive_timeout_secs)
    }
}
