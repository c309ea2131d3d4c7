//! Building the state and running the service: HTTP server, mail worker and sweeps, with a
//! graceful stop that lets the worker finish the job in hand.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use rand::RngCore;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::config::Settings;
use crate::crypto::PasswordHasherPool;
use crate::db::Db;
use crate::http::captcha::{CaptchaVerifier, HCaptcha};
use crate::http::limits::Limiters;
use crate::mail::templates::LiveTemplates;
use crate::mail::transport::Mailer;
use crate::payments::gateways::standard_webhooks;
use crate::state::AppState;

/// Builds the application state (opens and migrates the database).
pub async fn build_state(settings: Settings, clock: Clock, public_url: String) -> anyhow::Result<AppState> {
    let url = settings.database_url();
    let pool_size = settings.database_pool_size;
    let db = tokio::task::spawn_blocking(move || Db::connect(&url, pool_size)).await??;
    let mailer = Mailer::from_settings(&settings)?;
    let catalog = Arc::new(crate::i18n::Catalog::load()?);
    let templates = LiveTemplates::load(settings.templates_dir.as_deref(), catalog.clone())?;
    let captcha: Option<Arc<dyn CaptchaVerifier>> = match &settings.hcaptcha_secret {
        Some(secret) => Some(Arc::new(HCaptcha::new(
            secret.clone(),
            settings.hcaptcha_sitekey.clone(),
            &settings.hcaptcha_verify_url,
        )?)),
        None => None,
    };
    let mut keys = settings
        .sandbox_secret
        .iter()
        .map(|s| standard_webhooks::decode_secret(s).map_err(|e| anyhow::anyhow!("sandbox_secret: {e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if keys.is_empty() {
        let mut key = vec![0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        keys.push(key);
    }
    let sandbox_keys = Arc::new(keys);
    let gateways = crate::payments::gateways::registry::from_settings(&settings, sandbox_keys.clone())?;
    let state = AppState {
        public_url: public_url.trim_end_matches('/').into(),
        hasher: PasswordHasherPool::new(settings.hash_workers, settings.hash_queue),
        limiters: Arc::new(Limiters::new(&settings)),
        http: reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?,
        worker_wake: Arc::new(Notify::new()),
        metrics: Arc::new(crate::metrics::Metrics::new()),
        gateway_certs: Arc::new(crate::payments::gateways::paypal::certs::CertCache::new(
            &settings.gateways.paypal.paypal_cert_origins,
        )),
        settings: Arc::new(settings),
        db,
        clock,
        mailer,
        templates: Arc::new(templates),
        catalog,
        captcha,
        sandbox_keys,
        gateways,
    };
    // Only the embedded default gets a demo service to try the flow with: a PostgreSQL
    // install is a real one (`keyturn demo` and the tests seed it there themselves).
    if state.db.backend() == crate::db::Backend::Sqlite {
        crate::catalog::service::ensure_demo_service(&state.db, state.clock.now()).await?;
    }
    Ok(state)
}

/// A running instance.
pub struct RunningApp {
    /// The address actually bound.
    pub addr: SocketAddr,
    /// The plain-HTTP redirecting listener's address (`http_listen`), when there is one.
    pub http_addr: Option<SocketAddr>,
    /// The metrics listener's address (`metrics_listen`), when there is one.
    pub metrics_addr: Option<SocketAddr>,
    pub state: AppState,
    /// The certificate files served (`tls_cert_file`/`tls_key_file`), re-read on SIGHUP.
    cert_files: Option<Arc<crate::http::tls::CertFiles>>,
    shutdown: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    redirect: Option<JoinHandle<std::io::Result<()>>>,
    metrics: Option<JoinHandle<std::io::Result<()>>>,
    background: Vec<JoinHandle<()>>,
}

impl RunningApp {
    /// The base URL links are built from.
    pub fn public_url(&self) -> String {
        self.state.public_url.to_string()
    }

    /// Loads the email templates and the certificate files again (SIGHUP); what does not load
    /// is logged with its reason and what is in use stays. (Certificate files are also re-read
    /// by themselves when they change; ACME certificates renew themselves.)
    pub fn reload(&self) {
        if let Some(files) = &self.cert_files {
            match files.reload() {
                Ok(()) => tracing::info!(event = "tls_certificate_reloaded", "certificate files loaded again"),
                Err(e) => tracing::error!(
                    event = "tls_certificate_reload_failed",
                    error = %e,
                    "the certificate files do not load; the certificate served so far stays"
                ),
            }
        }
        match self.state.templates.reload() {
            Ok(()) => tracing::info!(event = "templates_reloaded", "email templates loaded again"),
            Err(e) => tracing::error!(
                event = "templates_reload_failed",
                error = %format!("{e:#}"),
                "the new email templates do not load; the previous ones stay in use"
            ),
        }
    }

    /// Stops accepting requests, lets in-flight ones and the worker's current job finish.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = self.server.await;
        for r in [self.redirect, self.metrics].into_iter().flatten() {
            let _ = r.await;
        }
        for h in self.background {
            let _ = h.await;
        }
    }
}

/// Binds `settings.listen`, then runs the HTTP server, the mail worker and the sweeps.
pub async fn start(settings: Settings, clock: Clock) -> anyhow::Result<RunningApp> {
    let listener = tokio::net::TcpListener::bind(&settings.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.listen))?;
    let addr = listener.local_addr()?;
    let acme = settings.http.acme_enabled().then(|| crate::http::acme::Acme::new(&settings));
    let mut cert_files = None;
    let tls = match (&settings.http.tls_cert_file, &settings.http.tls_key_file, &acme) {
        (Some(cert), Some(key), _) => {
            let files = crate::http::tls::CertFiles::load(cert, key)?;
            cert_files = Some(files.clone());
            Some(crate::http::tls::acceptor(files, false)?)
        }
        (_, _, Some(acme)) => Some(crate::http::tls::acceptor(acme.resolver(), acme.tls_alpn())?),
        _ => None,
    };
    let (redirect_listener, http_addr) = bind_extra(settings.http.http_listen.as_deref(), "http_listen").await?;
    let (metrics_listener, metrics_addr) =
        bind_extra(settings.http.metrics_listen.as_deref(), "metrics_listen").await?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let public_url = settings.public_url.clone().unwrap_or_else(|| match settings.http.acme_domains.first() {
        // The certificate is for the domain, not for the address.
        Some(domain) if addr.port() == 443 => format!("https://{domain}"),
        Some(domain) => format!("https://{domain}:{}", addr.port()),
        None => format!("{scheme}://{addr}"),
    });
    let state = build_state(settings, clock, public_url).await?;
    announce(&state, addr);
    let (tx, rx) = watch::channel(false);
    let endpoint = crate::http::routes(state.clone());
    let http = &state.settings.http;
    let limits = crate::http::server::Limits {
        header_timeout: http.header_timeout(),
        keepalive_timeout: http.keepalive_timeout(),
        max_connections: http.http_max_connections,
        stop_grace: Duration::from_secs(10),
    };
    let server = tokio::spawn(crate::http::server::serve(listener, endpoint, limits, rx.clone(), tls));
    let redirect = redirect_listener.map(|l| {
        let to = crate::http::https_redirect(state.public_url.clone());
        let to = crate::http::acme::PlainHttp::new(to, acme.as_ref().and_then(|a| a.http01()));
        tokio::spawn(crate::http::server::serve(l, to, limits, rx.clone(), None))
    });
    let metrics = metrics_listener.map(|l| {
        tokio::spawn(crate::http::server::serve(l, crate::http::metrics(state.clone()), limits, rx.clone(), None))
    });
    let mut background = vec![
        tokio::spawn(crate::jobs::worker::run(state.clone(), rx.clone())),
        tokio::spawn(crate::jobs::webhook_worker::run(state.clone(), rx.clone())),
        tokio::spawn(crate::jobs::sweeps::run(state.clone(), rx.clone())),
    ];
    if let Some(acme) = acme {
        background.push(tokio::spawn(acme.run(rx.clone())));
    }
    background.push(tokio::spawn(crate::jobs::backups::run(state.clone(), rx)));
    Ok(RunningApp {
        addr,
        http_addr,
        metrics_addr,
        state,
        cert_files,
        shutdown: tx,
        server,
        redirect,
        metrics,
        background,
    })
}

/// Binds an optional second listener (`setting` names it in the error), with its address.
async fn bind_extra(
    addr: Option<&str>,
    setting: &str,
) -> anyhow::Result<(Option<tokio::net::TcpListener>, Option<SocketAddr>)> {
    let Some(a) = addr else { return Ok((None, None)) };
    let listener =
        tokio::net::TcpListener::bind(a).await.map_err(|e| anyhow::anyhow!("cannot listen on {a} ({setting}): {e}"))?;
    let bound = listener.local_addr()?;
    Ok((Some(listener), Some(bound)))
}

fn announce(state: &AppState, addr: SocketAddr) {
    let s = &state.settings;
    tracing::info!(
        event = "started",
        listen = %addr,
        public_url = %state.public_url,
        database = ?state.db.backend(),
        mail = %state.mailer.describe(s),
        gateways = ?state.gateways.names(),
        "keyturn is up"
    );
    if state.captcha.is_none() {
        tracing::warn!(
            event = "captcha_off",
            "hCaptcha is OFF (no hcaptcha_secret): order and resend forms are protected by rate limits only"
        );
    }
    if s.webhooks.webhook_allow_private {
        tracing::warn!(
            event = "webhook_private_targets_on",
            "webhooks may go to private and loopback addresses (KEYTURN_WEBHOOK_ALLOW_PRIVATE=true): an owner can point one at this network"
        );
    }
    if s.sandbox_enabled {
        tracing::warn!(
            event = "sandbox_on",
            "the sandbox gateway is ON: test cards are accepted; set KEYTURN_SANDBOX_ENABLED=false in production"
        );
        if s.sandbox_secret.is_empty() {
            tracing::info!(
                event = "sandbox_secret_random",
                "sandbox secret generated for this process; set KEYTURN_SANDBOX_SECRET when running several instances"
            );
        }
    }
}

/// A fresh random `whsec_` secret (for `check-config` hints and the demo).
pub fn new_webhook_secret() -> String {
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(key))
}
