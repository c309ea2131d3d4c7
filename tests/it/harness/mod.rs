//! Test harness: runs keyturn in-process with its own data dir, clock, SMTP
//! sink, optional fake hCaptcha and optional throw-away PostgreSQL database.

pub mod actions;
pub mod admin;
pub mod browser;
pub mod captcha;
pub mod customer;
pub mod db;
pub mod fake_gateway;
pub mod hold;
pub mod jobs;
pub mod ledger;
pub mod mail;
pub mod nginx;
pub mod oidc;
pub mod pebble;
pub mod process;
pub mod raw;
pub mod receiver;
pub mod renewals;
pub mod sandbox;
pub mod smtp;
pub mod stored;
pub mod util;
pub mod webhook;

use std::path::Path;
use std::time::Duration;

use keyturn::app::RunningApp;
use keyturn::clock::Clock;
use keyturn::config::Settings;
use reqwest::{Client, Response};
use serde::Deserialize;
use serde_json::Value;

pub use admin::AdminActor;
pub use customer::Customer;
pub use mail::{Credentials, Kind, Mail, MailBox};
pub use oidc::{location, param, Pkce, RpClient};
pub use util::*;
pub use webhook::{random_id, Event};

/// How long an expected email may take.
pub const MAIL_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Clone, Copy, PartialEq)]
enum CaptchaMode {
    Off,
    On,
    Down,
}

#[derive(Clone, Copy, PartialEq)]
enum MailMode {
    Shared,
    StartTls {
        trust: bool,
        /// The app asks for STARTTLS (`?tls=starttls`); false = plain SMTP to the same server.
        upgrade: bool,
    },
    Files,
    /// SMTP on this port (maybe nobody listens yet), messages read from this store.
    At(u16),
}

pub struct TestAppBuilder {
    store: Option<smtp::Store>,
    captcha: CaptchaMode,
    mail: MailMode,
    secrets: usize,
    pairs: Vec<(String, String)>,
}

#[derive(Deserialize, Debug, Clone)]
pub struct Service {
    pub slug: String,
    pub name: String,
    pub price_minor: i64,
    pub currency: String,
    pub period_days: i64,
}

pub struct TestApp {
    app: Option<RunningApp>,
    pub clock: Clock,
    /// Plain client: no cookies, no redirects followed.
    pub client: Client,
    /// Where the app really listens (`http://127.0.0.1:PORT`).
    pub base: String,
    /// What the app believes its public URL is (links are built from it).
    pub public_url: String,
    pub mail: MailBox,
    pub captcha: Option<captcha::FakeCaptcha>,
    keys: Vec<Vec<u8>>,
    pairs: Vec<(String, String)>,
    _tls_smtp: Option<smtp::TlsSmtp>,
    _db: Option<db::PgDb>,
    data_dir: tempfile::TempDir,
}

/// An account that went through the whole flow and holds a long-term password.
pub struct Active {
    pub email: String,
    pub login: String,
    pub password: String,
    pub customer: Customer,
}

impl TestApp {
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder { store: None, captcha: CaptchaMode::Off, mail: MailMode::Shared, secrets: 1, pairs: vec![] }
    }
}

impl TestAppBuilder {
    /// hCaptcha on, verified by the fake siteverify server.
    pub fn captcha(mut self) -> Self {
        self.captcha = CaptchaMode::On;
        self
    }
    /// hCaptcha on, but the verifier is unreachable.
    pub fn captcha_down(mut self) -> Self {
        self.captcha = CaptchaMode::Down;
        self
    }
    /// Send mail through a one-off STARTTLS server; `trust` = configure its cert as CA.
    pub fn starttls(mut self, trust: bool) -> Self {
        self.mail = MailMode::StartTls { trust, upgrade: true };
        self
    }
    /// The STARTTLS server, but the app is told to speak plain SMTP to it (the TLS check's control).
    pub fn plain_to_starttls_server(mut self) -> Self {
        self.mail = MailMode::StartTls { trust: true, upgrade: false };
        self
    }
    /// No SMTP: emails are written as .eml files under `<data_dir>/outbox`.
    pub fn file_mail(mut self) -> Self {
        self.mail = MailMode::Files;
        self
    }
    /// Plain SMTP at 127.0.0.1:`port`, whose server (if any) collects into `store`.
    pub fn smtp_at(mut self, port: u16, store: smtp::Store) -> Self {
        self.mail = MailMode::At(port);
        self.store = Some(store);
        self
    }
    /// Configure `n` sandbox secrets (rotation); callbacks are signed with the first.
    pub fn sandbox_secrets(mut self, n: usize) -> Self {
        self.secrets = n;
        self
    }
    pub fn set(mut self, key: &str, value: &str) -> Self {
        self.pairs.push((key.into(), value.into()));
        self
    }

    pub async fn start(self) -> TestApp {
        let data_dir = tempfile::tempdir().unwrap();
        let mut pairs: Vec<(String, String)> = vec![];
        let mut put = |k: &str, v: String| pairs.push((k.to_string(), v));
        put("data_dir", data_dir.path().to_string_lossy().into_owned());
        put("listen", "127.0.0.1:0".into());
        put("login_delay_ms", "0".into());
        put("worker_poll_ms", "100".into());
        put("sandbox_enabled", "true".into());
        for k in ["orders", "login", "resend"] {
            put(&format!("rate_limit_{k}_per_minute"), "10000".into());
        }
        let (secrets, keys): (Vec<String>, Vec<Vec<u8>>) = (0..self.secrets).map(|_| webhook::new_secret()).unzip();
        put("sandbox_secret", secrets.join(","));

        let (store, tls_smtp) = match self.mail {
            MailMode::Shared => {
                let s = smtp::shared();
                put("smtp_url", format!("smtp://127.0.0.1:{}", s.addr.port()));
                (s.store.clone(), None)
            }
            MailMode::StartTls { trust, upgrade } => {
                let t = smtp::start_tls();
                let query = if upgrade { "?tls=starttls" } else { "" };
                put("smtp_url", format!("smtp://localhost:{}{query}", t.server.addr.port()));
                if trust {
                    put("smtp_ca_file", t.cert_path.to_string_lossy().into_owned());
                }
                (t.server.store.clone(), Some(t))
            }
            MailMode::Files => (smtp::Store::default(), None),
            MailMode::At(port) => {
                put("smtp_url", format!("smtp://127.0.0.1:{port}"));
                (self.store.clone().unwrap_or_default(), None)
            }
        };

        let fake = match self.captcha {
            CaptchaMode::Off => None,
            CaptchaMode::On => Some(captcha::FakeCaptcha::start().await),
            CaptchaMode::Down => None,
        };
        if self.captcha != CaptchaMode::Off {
            put("hcaptcha_secret", captcha::SECRET.into());
            put("hcaptcha_sitekey", captcha::SITEKEY.into());
            let url = fake.as_ref().map(|f| f.url.clone()).unwrap_or_else(captcha::closed_url);
            put("hcaptcha_verify_url", url);
        }

        let pg = match db::base_url() {
            Some(base) => Some(tokio::task::spawn_blocking(move || db::PgDb::create(&base)).await.unwrap()),
            _ => None,
        };
        if let Some(pg) = &pg {
            put("database_url", pg.url.clone());
        }

        for (k, v) in self.pairs {
            pairs.retain(|(key, _)| *key != k);
            pairs.push((k, v));
        }
        let mut t = launch(pairs, data_dir, MailBox::new(store), keys).await;
        t.captcha = fake;
        t._tls_smtp = tls_smtp;
        t._db = pg;
        t
    }
}

async fn launch(
    pairs: Vec<(String, String)>,
    data_dir: tempfile::TempDir,
    mail: MailBox,
    keys: Vec<Vec<u8>>,
) -> TestApp {
    let clock = Clock::system();
    let app = start_app(&pairs, &clock).await;
    let client = Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    TestApp {
        base: format!("http://{}", app.addr),
        public_url: app.public_url(),
        app: Some(app),
        clock,
        client,
        mail,
        captcha: None,
        keys,
        pairs,
        _tls_smtp: None,
        _db: None,
        data_dir,
    }
}

async fn start_app(pairs: &[(String, String)], clock: &Clock) -> RunningApp {
    let settings = Settings::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .unwrap_or_else(|e| panic!("settings {pairs:?} rejected: {e:?}"));
    let app = keyturn::app::start(settings, clock.clone()).await.expect("keyturn starts");
    // Only the embedded SQLite default seeds the demo service; the tests sell it on PostgreSQL too.
    keyturn::catalog::service::ensure_demo_service(&app.state.db, clock.now()).await.expect("demo service");
    app
}

impl TestApp {
    /// Stops the app and starts it again on the same data dir, database, settings and clock
    /// (a restart; it listens on a new port, so actors made before it are stale).
    pub async fn restart(&mut self) {
        self.shutdown().await;
        let app = start_app(&self.pairs, &self.clock).await;
        self.base = format!("http://{}", app.addr);
        self.public_url = app.public_url();
        self.app = Some(app);
    }

    /// Another instance on the same database, secrets and mail server (scale-out).
    /// Stop it before the first one: the first owns the test database.
    pub async fn second_instance(&self) -> TestApp {
        let data_dir = tempfile::tempdir().unwrap();
        let mut pairs = self.pairs.clone();
        for (k, v) in pairs.iter_mut() {
            if k == "data_dir" {
                *v = data_dir.path().to_string_lossy().into_owned();
            }
        }
        launch(pairs, data_dir, self.mail.clone(), self.keys.clone()).await
    }
}

impl TestApp {
    /// A handle on a keyturn that runs elsewhere (e.g. the real binary), for driving it.
    pub fn attach(base: &str, mail: smtp::Store, keys: Vec<Vec<u8>>) -> TestApp {
        TestApp {
            app: None,
            clock: Clock::system(),
            client: Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
            base: base.to_string(),
            public_url: base.to_string(),
            mail: MailBox::new(mail),
            captcha: None,
            keys,
            pairs: vec![],
            _tls_smtp: None,
            _db: None,
            data_dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// This app's own PostgreSQL database URL, when the run is on PostgreSQL.
    pub fn pg_url(&self) -> Option<String> {
        self._db.as_ref().map(|d| d.url.clone())
    }

    /// Runs the periodic sweeps once now (they run every minute of real time otherwise).
    pub async fn sweep(&self) {
        let state = &self.app.as_ref().expect("app running").state;
        keyturn::jobs::sweeps::sweep_once(state).await.expect("sweep");
    }

    /// The running app's database (a backup reads it while the app serves).
    pub fn db(&self) -> &keyturn::db::Db {
        &self.app.as_ref().expect("running").state.db
    }

    pub fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }

    pub fn customer(&self) -> Customer {
        Customer::new(&self.base)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client.post(self.url(path)).json(body).send().await.unwrap()
    }

    /// Graceful shutdown; the data dir stays until the TestApp is dropped.
    pub async fn shutdown(&mut self) {
        if let Some(app) = self.app.take() {
            let _ = app.stop().await;
        }
    }

    pub async fn stop(mut self) {
        self.shutdown().await;
    }
}
