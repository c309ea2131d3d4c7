//! HTTPS certificates from an ACME server (DESIGN §9), `acme_domains`: one certificate for the
//! domains is ordered with instant-acme ([`order`]) and served by our own TLS listener through
//! [`Challenges`] (which also answers TLS-ALPN-01 handshakes, ALPN `acme-tls/1`); HTTP-01 tokens
//! are answered on `http_listen` ([`PlainHttp`]). The certificate and its key are cached in
//! `acme_cache_dir` (key mode 0600), served at start while they still cover the domains and have
//! not expired, and renewed in the background once less than a third of the lifetime (at most
//! 30 days) is left; a failed attempt is retried with a growing delay, the old certificate served
//! meanwhile.

mod order;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use poem::{Endpoint, IntoResponse, Request, Response};
use rustls::sign::CertifiedKey;
use tokio::sync::watch;
use x509_cert::der::Decode;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::SubjectAltName;

pub use order::Challenges;
use order::Orderer;

use crate::config::http::AcmeChallenge;
use crate::config::Settings;

/// Renewal starts when at most this much of the lifetime is left (or a third of it, if less).
const RENEW_BEFORE_AT_MOST: Duration = Duration::from_secs(30 * 24 * 3600);
/// The first retry after a failed attempt; each next one waits twice as long, up to `RETRY_AT_MOST`.
const RETRY_FIRST: Duration = Duration::from_secs(60);
const RETRY_AT_MOST: Duration = Duration::from_secs(3600);
/// A long wait is cut into pieces, so that a wall clock jump (suspend, NTP) is noticed.
const WAKE_AT_LEAST_EVERY: Duration = Duration::from_secs(3600);

/// The ACME side of HTTPS: the served certificate, the challenge answers and the renewal job.
pub struct Acme {
    answers: Arc<Challenges>,
    orderer: Orderer,
}

impl Acme {
    /// Serves the cached certificate at once when it still covers the domains and has not
    /// expired; otherwise handshakes fail until [`Acme::run`] has one issued.
    pub fn new(settings: &Settings) -> Arc<Acme> {
        let http = &settings.http;
        let acme = Acme {
            answers: Arc::new(Challenges::default()),
            orderer: Orderer {
                directory: http.acme_directory.clone(),
                contacts: http.acme_email.iter().map(|e| format!("mailto:{e}")).collect(),
                ca_file: http.acme_ca_file.clone(),
                cache: settings.acme_cache_dir(),
                challenge: http.acme_challenge,
                domains: http.acme_domains.iter().map(|d| d.to_ascii_lowercase()).collect(),
            },
        };
        acme.load_cache();
        Arc::new(acme)
    }

    /// What rustls asks for a certificate: the issued one, or a TLS-ALPN-01 challenge's.
    pub fn resolver(&self) -> Arc<Challenges> {
        self.answers.clone()
    }

    /// Whether `listen` must offer the `acme-tls/1` protocol.
    pub fn tls_alpn(&self) -> bool {
        self.orderer.challenge == AcmeChallenge::TlsAlpn01
    }

    /// The HTTP-01 answers for `http_listen` (with the http-01 challenge only).
    pub fn http01(&self) -> Option<Arc<Challenges>> {
        (self.orderer.challenge == AcmeChallenge::Http01).then(|| self.answers.clone())
    }

    fn files(&self) -> (PathBuf, PathBuf) {
        (self.orderer.cache.join("cert.pem"), self.orderer.cache.join("key.pem"))
    }

    fn load_cache(&self) {
        let (cert, key) = self.files();
        if !cert.exists() {
            return;
        }
        let loaded = crate::http::tls::read_pair(&cert, &key).and_then(|pair| {
            let info = CertInfo::of(&pair)?;
            if let Some(d) = self.orderer.domains.iter().find(|d| !info.names.contains(d)) {
                return Err(format!("it does not cover {d}"));
            }
            if info.not_after <= SystemTime::now() {
                return Err("it has expired".into());
            }
            Ok((pair, info))
        });
        match loaded {
            Ok((pair, info)) => {
                tracing::info!(
                    event = "acme_certificate_loaded",
                    cert = %cert.display(),
                    not_after = %utc(info.not_after),
                    renew_at = %utc(info.renew_at()),
                    "serving the cached ACME certificate"
                );
                self.answers.serve(pair);
            }
            Err(e) => tracing::warn!(
                event = "acme_cache_unusable",
                cert = %cert.display(),
                error = %e,
                "the cached certificate is not used; a new one is ordered"
            ),
        }
    }

    /// When the served certificate is due for renewal (now, when there is none).
    fn renew_at(&self) -> SystemTime {
        match self.answers.served().map(|c| CertInfo::of(&c)) {
            Some(Ok(info)) => info.renew_at(),
            _ => SystemTime::now(),
        }
    }

    /// Orders (and renews) the certificate until `stop` turns true.
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let mut account = None;
        let mut failures = 0u32;
        loop {
            let wait = match failures {
                0 => self.renew_at().duration_since(SystemTime::now()).unwrap_or_default(),
                n => retry_delay(n),
            };
            tokio::select! {
                _ = stop.changed() => return,
                _ = tokio::time::sleep(wait.min(WAKE_AT_LEAST_EVERY)) => {}
            }
            if failures == 0 && self.renew_at() > SystemTime::now() {
                continue;
            }
            tracing::info!(
                event = "acme_ordering",
                domains = ?self.orderer.domains,
                directory = %self.orderer.directory,
                "ordering a certificate from the ACME server"
            );
            let result = tokio::select! {
                _ = stop.changed() => return,
                r = self.renew(&mut account) => r,
            };
            match result {
                Ok(info) => {
                    failures = 0;
                    tracing::info!(
                        event = "acme_certificate_issued",
                        domains = ?self.orderer.domains,
                        not_after = %utc(info.not_after),
                        renew_at = %utc(info.renew_at()),
                        "serving the new ACME certificate"
                    );
                }
                Err(e) => {
                    // The next attempt starts over (directory, nonce, account).
                    account = None;
                    failures += 1;
                    tracing::warn!(
                        event = "acme_order_failed",
                        error = %e,
                        attempt = failures,
                        retry_in_secs = retry_delay(failures).as_secs(),
                        "no certificate from the ACME server; the one served so far (if any) stays"
                    );
                }
            }
        }
    }

    async fn renew(&self, account: &mut Option<instant_acme::Account>) -> Result<CertInfo, String> {
        let account = match account {
            Some(a) => a,
            None => account.insert(self.orderer.account().await?),
        };
        let issued = self.orderer.order(account, &self.answers).await?;
        let pair = crate::http::tls::pair_from_pem(issued.chain_pem.as_bytes(), issued.key_pem.as_bytes())
            .map_err(|e| format!("issued certificate: {e}"))?;
        let info = CertInfo::of(&pair)?;
        let (cert, key) = self.files();
        let kept = write_private(&key, issued.key_pem.as_bytes())
            .and_then(|()| write_private(&cert, issued.chain_pem.as_bytes()));
        if let Err(e) = kept {
            tracing::error!(
                event = "acme_cache_write_failed",
                dir = %self.orderer.cache.display(),
                error = %e,
                "the new certificate is served but not kept for the next start"
            );
        }
        self.answers.serve(pair);
        Ok(info)
    }
}

fn utc(t: SystemTime) -> chrono::DateTime<chrono::Utc> {
    t.into()
}

/// How long to wait after the `n`th failed attempt in a row (n ≥ 1).
fn retry_delay(n: u32) -> Duration {
    RETRY_FIRST.saturating_mul(1 << n.saturating_sub(1).min(10)).min(RETRY_AT_MOST)
}

/// What renewal needs to know about a certificate.
struct CertInfo {
    not_before: SystemTime,
    not_after: SystemTime,
    names: Vec<String>,
}

impl CertInfo {
    fn of(key: &CertifiedKey) -> Result<CertInfo, String> {
        let leaf = key.cert.first().ok_or("no certificate")?;
        let cert =
            x509_cert::Certificate::from_der(leaf.as_ref()).map_err(|e| format!("unreadable certificate: {e}"))?;
        let tbs = &cert.tbs_certificate;
        let names = match tbs.get::<SubjectAltName>() {
            Ok(Some((_, san))) => san
                .0
                .iter()
                .filter_map(|n| match n {
                    GeneralName::DnsName(d) => Some(d.to_string().to_ascii_lowercase()),
                    _ => None,
                })
                .collect(),
            _ => vec![],
        };
        Ok(CertInfo {
            not_before: tbs.validity.not_before.to_system_time(),
            not_after: tbs.validity.not_after.to_system_time(),
            names,
        })
    }

    /// A third of the lifetime (at most 30 days) before it ends.
    fn renew_at(&self) -> SystemTime {
        let lifetime = self.not_after.duration_since(self.not_before).unwrap_or_default();
        self.not_after - (lifetime / 3).min(RENEW_BEFORE_AT_MOST)
    }
}

/// Writes `data` next to `path` (readable by us only, in a folder only we may enter), then
/// renames it into place, so that a crash never leaves a half-written file.
fn write_private(path: &Path, data: &[u8]) -> io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    }
    let tmp = path.with_extension("tmp");
    // A leftover of a crash may carry other permissions: the mode is only set on creation.
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
    f.write_all(data)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// The plain-HTTP listener next to ACME: HTTP-01 challenge answers (with http-01), and the
/// redirect to https for everything else.
pub struct PlainHttp<E> {
    answers: Option<Arc<Challenges>>,
    redirect: E,
}

impl<E: Endpoint> PlainHttp<E> {
    pub fn new(redirect: E, answers: Option<Arc<Challenges>>) -> Self {
        PlainHttp { answers, redirect }
    }
}

impl<E: Endpoint> Endpoint for PlainHttp<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let token = req.uri().path().strip_prefix("/.well-known/acme-challenge/");
        match (&self.answers, token) {
            (Some(answers), Some(token)) => Ok(match answers.http01(token) {
                Some(key_auth) => Response::builder().content_type("application/octet-stream").body(key_auth),
                None => Response::builder().status(poem::http::StatusCode::NOT_FOUND).finish(),
            }),
            _ => self.redirect.call(req).await.map(IntoResponse::into_response),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renewal_is_due_when_a_third_of_the_lifetime_or_30_days_are_left() {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let info = |days: u64| CertInfo {
            not_before: start,
            not_after: start + Duration::from_secs(days * 86400),
            names: vec![],
        };
        assert_eq!(info(90).renew_at(), start + Duration::from_secs(60 * 86400));
        assert_eq!(info(6).renew_at(), start + Duration::from_secs(4 * 86400));
        assert_eq!(info(365).renew_at(), start + Duration::from_secs(335 * 86400));
    }

    #[test]
    fn retries_wait_longer_each_time_up_to_an_hour() {
        assert_eq!(retry_delay(1), Duration::from_secs(60));
        assert_eq!(retry_delay(2), Duration::from_secs(120));
        assert_eq!(retry_delay(7), Duration::from_secs(3600));
        assert_eq!(retry_delay(40), Duration::from_secs(3600));
    }
}
