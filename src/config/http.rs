//! The HTTP edge's settings: how long a connection may wait for a request, how many may be
//! open at once, and how many gateway callbacks are taken per minute.

use std::path::PathBuf;
use std::time::Duration;

use super::declare::settings_group;
use super::{invalid, ConfigError};

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
        "With HTTPS on: a plain-HTTP address (e.g. 0.0.0.0:80) that answers every request with a permanent redirect to the https public URL.";
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
        match (&self.tls_cert_file, &self.tls_key_file) {
            (Some(_), None) => return Err(invalid("tls_key_file", "tls_cert_file is set: set its key too")),
            (None, Some(_)) => return Err(invalid("tls_cert_file", "tls_key_file is set: set the certificate too")),
            (Some(cert), Some(key)) => {
                crate::http::tls::read_pair(cert, key).map_err(|e| invalid("tls_cert_file", e))?;
            }
            (None, None) => {}
        }
        if self.http_listen.is_some() && !self.tls_enabled() {
            return Err(invalid("http_listen", "redirects to HTTPS: set tls_cert_file and tls_key_file first"));
        }
        Ok(())
    }

    /// Whether `listen` serves HTTPS itself.
    pub fn tls_enabled(&self) -> bool {
        self.tls_cert_file.is_some() && self.tls_key_file.is_some()
    }

    pub fn header_timeout(&self) -> Duration {
        Duration::from_secs(self.http_header_timeout_secs)
    }

    pub fn keepalive_timeout(&self) -> Duration {
        Duration::from_secs(self.http_keepalive_timeout_secs)
    }
}
