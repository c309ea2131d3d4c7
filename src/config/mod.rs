//! Typed settings: defaults < `keyturn.toml` < `KEYTURN_*` environment, validated once at start.
//!
//! Every setting has one entry in [`SETTINGS`]; the TOML file, the environment and
//! [`Settings::from_pairs`] all go through the same `apply` so they cannot drift apart.

pub mod access;
pub mod declare;
pub mod golive;
pub mod http;
pub mod mail;
pub mod merchant;
pub mod storefront;
pub mod webhooks;

use crate::payments::gateways::{GatewayId, GatewaySettings};
use declare::{settings_group, Group};

use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// A setting that could not be read or is inconsistent.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("setting `{key}`: {message}")]
    Invalid { key: String, message: String },
    #[error("unknown setting `{0}` (see `keyturn check-config --list`)")]
    Unknown(String),
    #[error("cannot read {path}: {message}")]
    File { path: String, message: String },
}

pub(crate) fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { key: key.to_string(), message: message.into() }
}

/// `sandbox_callback_url` must be an http(s) URL that is not a live gateway's callback route
/// (`/api/v1/payments/{gateway}/callback`): the sandbox's own secrets never verify there.
fn sandbox_callback_checked(u: &str) -> Result<(), ConfigError> {
    const KEY: &str = "sandbox_callback_url";
    let parsed = url::Url::parse(u).map_err(|e| invalid(KEY, e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid(KEY, "must start with http:// or https://"));
    }
    let segments: Vec<&str> = parsed.path().trim_matches('/').split('/').collect();
    if let ["api", "v1", "payments", gateway, "callback"] = segments.as_slice() {
        if *gateway != "sandbox" {
            return Err(invalid(
                KEY,
                format!(
                    "points at the live {gateway} callback route; the sandbox delivers to \
                     /api/v1/payments/sandbox/{gateway}/callback (or leave it unset)"
                ),
            ));
        }
    }
    Ok(())
}

/// One documented setting: name (as in `KEYTURN_<NAME>`), default, meaning.
pub struct SettingDoc {
    pub name: &'static str,
    pub default: &'static str,
    pub doc: &'static str,
}

fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)
}

settings_group! {
    /// The validated settings of one keyturn process, in the order the README lists them.
    pub struct Settings, docs SETTINGS, apply apply_core;
    data_dir: PathBuf = PathBuf::from("./data"),
        "./data",
        "Folder for the SQLite database and the mail directory.";
    listen: String = "127.0.0.1:8080".into(),
        "127.0.0.1:8080",
        "Address and port the HTTP server binds.";
    public_url: Option<String> = None,
        "http://<listen> (https://<first acme_domains>[:port] with ACME)",
        "Base URL customers and gateways reach us at; every link is built from it, never from the Host header.";
    @secret database_url: Option<String> = None,
        "sqlite://<data_dir>/keyturn.db",
        "sqlite://PATH (embedded, single instance), postgres://USER@HOST/DB or, in a build with the mysql feature, mysql://USER:PASSWORD@HOST/DB (MariaDB 10.6+; production, scale-out).";
    database_pool_size: u32 = 8,
        "8",
        "Connections per instance.";
    @secret smtp_url: Option<String> = None,
        "(none: .eml files)",
        "smtps://user:pass@host:465, smtp://host:587?tls=starttls or smtp://host:25 (plain, local relays only).";
    smtp_ca_file: Option<PathBuf> = None,
        "(system roots)",
        "PEM certificate to trust for the SMTP server (private CA).";
    smtp_timeout_secs: u64 = 20,
        "20",
        "Timeout for one SMTP delivery.";
    mail_dir: Option<PathBuf> = None,
        "<data_dir>/outbox",
        "Where emails are written as .eml files when no smtp_url is set.";
    mail_from: String = "keyturn <no-reply@localhost>".into(),
        "keyturn <no-reply@localhost>",
        "From address of every email.";
    default_locale: crate::i18n::Locale = crate::i18n::Locale::En,
        "en",
        "en | ru | pl | sr: the language of a customer whose order, link or browser names none we speak.";
    backup_dir: Option<PathBuf> = None,
        "(off)",
        "Folder for scheduled backups (`keyturn-<time>.backup`, the format of `keyturn backup`); unset: none are made.";
    backup_every_hours: u64 = 24,
        "24",
        "Hours between scheduled backups (at least 1).";
    backup_keep: usize = 7,
        "7",
        "Scheduled backups kept in backup_dir; older ones are deleted (at least 1).";
    product_name: String = "keyturn".into(),
        "keyturn",
        "Name shown in emails and pages.";
    templates_dir: Option<PathBuf> = None,
        "(embedded)",
        "Folder with email templates overriding the embedded ones.";
    sandbox_enabled: bool = true,
        "true on SQLite with no real gateway, else false",
        "The built-in sandbox gateway (hosted page, 3-D Secure, test cards, signed callbacks). Left unset, it is off as soon as PostgreSQL or a real gateway is configured.";
    @secret sandbox_secret: Vec<String> = Vec::new(),
        "(random per process)",
        "Standard Webhooks secret(s) whsec_..., comma-separated during rotation; set it when running several instances.";
    sandbox_callback_url: Option<String> = None,
        "<public_url>/api/v1/payments/sandbox/callback (a dialect: /api/v1/payments/sandbox/{gateway}/callback)",
        "Where the sandbox delivers its callbacks; never a live gateway's route /api/v1/payments/{gateway}/callback (refused at start).";
    sandbox_dialect: GatewayId = GatewayId::Sandbox,
        "sandbox",
        "sandbox | stripe | freedompay | twocheckout | allsecure | paypal | dotpay | square: the sandbox delivers its callbacks in this gateway's format to /api/v1/payments/sandbox/{gateway}/callback, signed with secrets derived from sandbox_secret, never the gateway's live ones (that gateway must be configured: its merchant ids are used).";
    sandbox_paypal_key_file: Option<PathBuf> = None,
        "(none)",
        "PKCS#8 PEM RSA private key the sandbox signs with when sandbox_dialect=paypal (testing only); never the key paypal_cert_file holds.";
    @secret hcaptcha_secret: Option<String> = None,
        "(none: captcha off)",
        "hCaptcha secret; when set, order intake and resend require a captcha.";
    hcaptcha_sitekey: Option<String> = None,
        "(none)",
        "hCaptcha site key shown on forms.";
    hcaptcha_verify_url: String = "https://api.hcaptcha.com/siteverify".into(),
        "https://api.hcaptcha.com/siteverify",
        "hCaptcha siteverify endpoint.";
    trusted_proxies: Vec<IpAddr> = Vec::new(),
        "(none)",
        "Comma-separated proxy IPs whose X-Forwarded-For is believed.";
    refund_ends_access: bool = true,
        "true",
        "A full refund or chargeback moves the order to refunded and takes back the access it bought.";
    three_ds_not_performed: NotPerformedPolicy = NotPerformedPolicy::Reject,
        "reject",
        "reject | accept: what to do with a succeeded payment that reports no 3-D Secure.";
    temp_password_ttl_hours: i64 = 72,
        "72",
        "How long the emailed temporary password works.";
    verify_link_ttl_hours: i64 = 48,
        "48",
        "How long the email verification link works.";
    order_ttl_hours: i64 = 24,
        "24",
        "An unpaid order expires after this long.";
    reconcile_after_minutes: i64 = 15,
        "15",
        "A started payment with no callback after this long is checked with the gateway's status API (Stripe, PayPal, FreedomPay, AllSecure, Square), then again at most this often, and once more before its order expires.";
    session_idle_minutes: i64 = 30,
        "30",
        "Customer session idle timeout.";
    session_absolute_hours: i64 = 12,
        "12",
        "Customer session absolute timeout.";
    admin_session_idle_minutes: i64 = 15,
        "15",
        "Admin session idle timeout.";
    admin_session_absolute_hours: i64 = 8,
        "8",
        "Admin session absolute timeout.";
    login_delay_ms: u64 = 200,
        "200",
        "Growth of the delay added after each failed login beyond the fifth (capped at 3 s).";
    login_failures_per_hour: i64 = 100,
        "100",
        "Failed logins per account per hour before the account is locked for the rest of the hour.";
    rate_limit_orders_per_minute: u32 = 10,
        "10",
        "Orders per client IP per minute (burst).";
    rate_limit_login_per_minute: u32 = 20,
        "20",
        "Login attempts per client IP per minute.";
    rate_limit_resend_per_minute: u32 = 5,
        "5",
        "Resend requests per client IP per minute; forgot-password requests have a budget of the same size of their own.";
    resend_per_hour: i64 = 3,
        "3",
        "Credential resends per email address per hour; forgot-password requests have a budget of the same size of their own.";
    max_body_bytes: usize = 64 * 1024,
        "65536",
        "Largest request body accepted (413 beyond).";
    hash_workers: usize = cores(),
        "(cores)",
        "Threads that compute password hashes, each with its own reused 19 MiB argon2 memory.";
    hash_queue: usize = cores() * 4,
        "(4 x cores)",
        "Password hashes allowed to wait; beyond it login answers 503 at once.";
    outbox_max_attempts: i32 = 10,
        "10",
        "Delivery attempts before an email is dead-lettered.";
    worker_poll_ms: u64 = 1000,
        "1000",
        "How often the mail worker looks for due jobs.";
    outbox_lease_secs: i64 = 15,
        "15",
        "How long a claimed email stays the worker's without a heartbeat (renewed every third of it); a crashed worker's email is taken over after it.";
    log_format: String = "text".into(),
        "text",
        "text | json.";
    log_level: String = "info".into(),
        "info",
        "tracing filter, e.g. info,keyturn=debug.";
    [extra] {
        /// Whether `sandbox_enabled` was set explicitly (otherwise it follows the deployment).
        sandbox_explicit: bool = false,
        /// Payment gateways (`KEYTURN_<GATEWAY>_<NAME>`), one group per gateway folder.
        gateways: GatewaySettings = Default::default(),
        /// Invoices, capture and refunds.
        merchant: merchant::MerchantSettings = Default::default(),
        /// The envelope sender and DKIM.
        mail: mail::MailSettings = Default::default(),
        /// Connection timeouts and caps, callback rate limit.
        http: http::HttpSettings = Default::default(),
        /// Outgoing webhooks.
        webhooks: webhooks::WebhookSettings = Default::default(),
        /// Forward auth: session cookie domain and return hosts.
        access: access::AccessSettings = Default::default(),
        /// The hosted order page, the embed snippet and the Tilda webhook.
        storefront: storefront::StorefrontSettings = Default::default(),
    }
}

/// Every documented setting: the core ones, then each gateway's (registry order), the
/// merchant's and the HTTP ones.
pub fn all_settings() -> impl Iterator<Item = &'static SettingDoc> {
    SETTINGS
        .iter()
        .chain(GatewaySettings::docs())
        .chain(merchant::MERCHANT_SETTINGS.iter())
        .chain(mail::MAIL_SETTINGS.iter())
        .chain(http::HTTP_SETTINGS.iter())
        .chain(webhooks::WEBHOOK_SETTINGS.iter())
        .chain(access::ACCESS_SETTINGS.iter())
        .chain(storefront::STOREFRONT_SETTINGS.iter())
}

impl declare::SettingValue for GatewayId {
    fn read(key: &str, v: &str) -> Result<Self, ConfigError> {
        v.trim().parse().map_err(|_| invalid(key, format!("`{}` is not one of {}", v.trim(), GatewayId::names())))
    }
}

impl declare::SettingValue for NotPerformedPolicy {
    fn read(key: &str, v: &str) -> Result<Self, ConfigError> {
        declare::one_of(key, v, &[("reject", NotPerformedPolicy::Reject), ("accept", NotPerformedPolicy::Accept)])
    }
}

/// What to do with a succeeded payment whose gateway reports that no 3-D Secure ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotPerformedPolicy {
    Reject,
    Accept,
}

pub(crate) fn parse<T: std::str::FromStr>(key: &str, v: &str) -> Result<T, ConfigError> {
    v.trim().parse().map_err(|_| invalid(key, format!("`{v}` is not a valid value")))
}

pub(crate) fn parse_bool(key: &str, v: &str) -> Result<bool, ConfigError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(invalid(key, format!("`{v}` is not true/false"))),
    }
}

pub(crate) fn opt(v: &str) -> Option<String> {
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_string())
}

pub(crate) fn list(v: &str) -> Vec<String> {
    v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
}

impl Settings {
    /// Defaults overlaid with the given `(name, value)` pairs, then validated.
    pub fn from_pairs<K: AsRef<str>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Settings, ConfigError> {
        let mut s = Settings::default();
        for (k, v) in pairs {
            s.apply(k.as_ref(), v.as_ref())?;
        }
        s.resolve_defaults();
        s.validate()?;
        Ok(s)
    }

    /// Defaults < TOML file (`KEYTURN_CONFIG` or `./keyturn.toml` when present) < `KEYTURN_*` env.
    /// Returns the settings and warnings (unknown variables) to log once logging is up.
    pub fn load(config_file: Option<&Path>) -> Result<(Settings, Vec<String>), ConfigError> {
        let mut s = Settings::default();
        let mut warnings = Vec::new();
        let env_file = std::env::var_os("KEYTURN_CONFIG").map(PathBuf::from);
        let file = config_file.map(Path::to_path_buf).or(env_file);
        let default_file = PathBuf::from("keyturn.toml");
        let file = file.or_else(|| default_file.exists().then_some(default_file));
        if let Some(path) = file {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| ConfigError::File { path: path.display().to_string(), message: e.to_string() })?;
            let table: toml::Table = text.parse().map_err(|e: toml::de::Error| ConfigError::File {
                path: path.display().to_string(),
                message: e.to_string(),
            })?;
            for (k, v) in table {
                let value = match v {
                    toml::Value::String(s) => s,
                    toml::Value::Array(items) => items
                        .iter()
                        .map(|i| i.as_str().map(String::from).unwrap_or_else(|| i.to_string()))
                        .collect::<Vec<_>>()
                        .join(","),
                    other => other.to_string(),
                };
                s.apply(&k, &value)?;
            }
        }
        let mut vars: Vec<(String, String)> = std::env::vars().collect();
        vars.sort();
        for (name, value) in vars {
            let Some(key) = name.strip_prefix("KEYTURN_") else { continue };
            let key = key.to_ascii_lowercase();
            if matches!(
                key.as_str(),
                "config"
                    | "test_database_url"
                    | "test_other_database_url"
                    | "log"
                    | "require_browser"
                    | "require_nginx"
            ) {
                continue;
            }
            // `KEYTURN_X_FILE` reads the secret X from a file (container secrets).
            let (key, value) = match key.strip_suffix("_file") {
                Some(base) if all_settings().any(|d| d.name == base) => {
                    let v = std::fs::read_to_string(&value)
                        .map_err(|e| ConfigError::File { path: value.clone(), message: e.to_string() })?;
                    (base.to_string(), v.trim_end().to_string())
                }
                _ => (key, value),
            };
            match s.apply(&key, &value) {
                Err(ConfigError::Unknown(_)) => warnings.push(format!("ignoring unknown variable {name}")),
                other => other?,
            }
        }
        s.resolve_defaults();
        s.validate()?;
        Ok((s, warnings))
    }

    fn apply(&mut self, key: &str, v: &str) -> Result<(), ConfigError> {
        if self.apply_core(key, v)? {
            if key == "sandbox_enabled" {
                self.sandbox_explicit = true;
            }
        } else if !self.gateways.apply(key, v)?
            && !self.merchant.apply(key, v)?
            && !self.mail.apply(key, v)?
            && !self.http.apply(key, v)?
            && !self.webhooks.apply(key, v)?
            && !self.access.apply(key, v)?
            && !self.storefront.apply(key, v)?
        {
            return Err(ConfigError::Unknown(key.to_string()));
        }
        Ok(())
    }

    /// Defaults that depend on other settings: the sandbox (test cards that pay for real
    /// accounts) is only on by itself in the embedded set-up, never next to PostgreSQL or a
    /// real gateway unless asked for.
    fn resolve_defaults(&mut self) {
        if let Some(u) = &mut self.public_url {
            u.truncate(u.trim_end_matches('/').len());
        }
        if !self.sandbox_explicit {
            let production_db = self.database_url.as_deref().is_some_and(|u| !u.starts_with("sqlite:"));
            self.sandbox_enabled = !production_db && !self.gateways.any_enabled();
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if let Some(u) = &self.public_url {
            let parsed = url::Url::parse(u).map_err(|e| invalid("public_url", e.to_string()))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(invalid("public_url", "must start with http:// or https://"));
            }
        }
        if let Some(db) = &self.database_url {
            let mysql = db.starts_with("mysql://") || db.starts_with("mariadb://");
            if !(db.starts_with("sqlite:") || db.starts_with("postgres://") || db.starts_with("postgresql://") || mysql)
            {
                return Err(invalid("database_url", "must start with sqlite://, postgres:// or mysql://"));
            }
            if mysql && !cfg!(feature = "mysql") {
                return Err(invalid(
                    "database_url",
                    "this keyturn was built without MySQL/MariaDB support: build it with `cargo build --release --features mysql`",
                ));
            }
        }
        if let Some(smtp) = &self.smtp_url {
            crate::mail::transport::SmtpTarget::parse(smtp).map_err(|e| invalid("smtp_url", e))?;
        }
        if let Some(u) = &self.sandbox_callback_url {
            sandbox_callback_checked(u)?;
        }
        for s in &self.sandbox_secret {
            crate::payments::gateways::standard_webhooks::decode_secret(s).map_err(|e| invalid("sandbox_secret", e))?;
        }
        if self.log_format != "text" && self.log_format != "json" {
            return Err(invalid("log_format", "expected text or json"));
        }
        let positive = [
            ("temp_password_ttl_hours", self.temp_password_ttl_hours),
            ("verify_link_ttl_hours", self.verify_link_ttl_hours),
            ("order_ttl_hours", self.order_ttl_hours),
            ("reconcile_after_minutes", self.reconcile_after_minutes),
            ("session_idle_minutes", self.session_idle_minutes),
            ("session_absolute_hours", self.session_absolute_hours),
            ("admin_session_idle_minutes", self.admin_session_idle_minutes),
            ("admin_session_absolute_hours", self.admin_session_absolute_hours),
            ("login_failures_per_hour", self.login_failures_per_hour),
            ("resend_per_hour", self.resend_per_hour),
        ];
        for (k, v) in positive {
            if v <= 0 {
                return Err(invalid(k, "must be positive"));
            }
        }
        let nonzero = [
            ("rate_limit_orders_per_minute", self.rate_limit_orders_per_minute),
            ("rate_limit_login_per_minute", self.rate_limit_login_per_minute),
            ("rate_limit_resend_per_minute", self.rate_limit_resend_per_minute),
            ("database_pool_size", self.database_pool_size),
        ];
        for (k, v) in nonzero {
            if v == 0 {
                return Err(invalid(k, "must be at least 1"));
            }
        }
        if self.hash_workers == 0 {
            return Err(invalid("hash_workers", "must be at least 1"));
        }
        if self.outbox_lease_secs < 3 {
            return Err(invalid("outbox_lease_secs", "must be at least 3 (the heartbeat renews it every third)"));
        }
        if self.max_body_bytes < 1024 {
            return Err(invalid("max_body_bytes", "must be at least 1024"));
        }
        self.gateways.validate()?;
        self.merchant.validate()?;
        self.mail.validate()?;
        self.http.validate()?;
        self.webhooks.validate()?;
        self.storefront.validate()?;
        let public_host = self.public_url.as_deref().and_then(|u| url::Url::parse(u).ok());
        self.access.validate(public_host.as_ref().and_then(|u| u.host_str()))?;
        if mail_from_invalid(&self.mail_from) {
            return Err(invalid("mail_from", "not a valid mailbox, e.g. Shop <no-reply@shop.example>"));
        }
        Ok(())
    }

    /// Whether the setting `key` holds a value (an unset optional setting or an empty list
    /// does not; a setting with a default does).
    pub fn has(&self, key: &str) -> bool {
        Group::is_set(self, key)
            .or_else(|| self.gateways.is_set(key))
            .or_else(|| self.merchant.is_set(key))
            .or_else(|| self.mail.is_set(key))
            .or_else(|| self.http.is_set(key))
            .or_else(|| self.storefront.is_set(key))
            .unwrap_or(true)
    }

    /// The database URL in force (the embedded SQLite file when none is set).
    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("keyturn.db").display()))
    }

    /// Where the ACME certificate and key are kept (`acme_cache_dir`, else `<data_dir>/acme`).
    pub fn acme_cache_dir(&self) -> PathBuf {
        self.http.acme_cache_dir.clone().unwrap_or_else(|| self.data_dir.join("acme"))
    }

    /// Where `.eml` files go when no SMTP server is configured.
    pub fn mail_dir(&self) -> PathBuf {
        self.mail_dir.clone().unwrap_or_else(|| self.data_dir.join("outbox"))
    }

    /// True when the public URL is https (cookies get `Secure` and the `__Host-` prefix, HSTS is sent).
    pub fn is_https(&self) -> bool {
        match self.public_url.as_deref() {
            Some(u) => u.starts_with("https://"),
            None => self.http.tls_enabled(),
        }
    }

    /// The DKIM signing domain: `dkim_domain`, else the domain of `mail_from`.
    pub fn dkim_domain(&self) -> String {
        self.mail.dkim_domain.clone().unwrap_or_else(|| {
            let from = self.mail_from.parse::<lettre::message::Mailbox>().ok();
            from.map(|m| m.email.domain().to_string()).unwrap_or_default()
        })
    }

    /// The merchant's name on pay-by-link pages (the product name unless set).
    pub fn merchant_name(&self) -> &str {
        self.merchant.merchant_name.as_deref().unwrap_or(&self.product_name)
    }
}

fn mail_from_invalid(s: &str) -> bool {
    s.parse::<lettre::message::Mailbox>().is_err()
}

#[cfg(test)]
mod tests;
