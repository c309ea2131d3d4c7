//! Test harness: runs keyturn in-process with its own data dir, clock, SMTP
//! sink, optional fake hCaptcha and optional throw-away PostgreSQL database.

pub mod captcha;
pub mod customer;
pub mod db;
pub mod mail;
pub mod sandbox;
pub mod smtp;
pub mod util;
pub mod webhook;

use std::path::Path;
use std::time::{Duration, Instant};

use keyturn::app::RunningApp;
use keyturn::clock::Clock;
use keyturn::config::Settings;
use reqwest::{Client, Response};
use serde::Deserialize;
use serde_json::{json, Value};

pub use customer::Customer;
pub use mail::{Credentials, Kind, Mail, MailBox};
pub use util::*;
pub use webhook::{random_id, Event};

/// How long an expected email may take.
pub const MAIL_TIMEOUT: Duration = Duration::from_secs(15);
/// How long to wait before concluding that an email or a state change will not come.
pub const QUIET: Duration = Duration::from_millis(1500);

#[derive(Clone, Copy, PartialEq)]
enum CaptchaMode {
    Off,
    On,
    Down,
}

#[derive(Clone, Copy, PartialEq)]
enum MailMode {
    Shared,
    StartTls { trust: bool },
    Files,
}

pub struct TestAppBuilder {
    captcha: CaptchaMode,
    mail: MailMode,
    secrets: usize,
    force_sqlite: bool,
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
        TestAppBuilder {
            captcha: CaptchaMode::Off,
            mail: MailMode::Shared,
            secrets: 1,
            force_sqlite: false,
            pairs: vec![],
        }
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
        self.mail = MailMode::StartTls { trust };
        self
    }
    /// No SMTP: emails are written as .eml files under `<data_dir>/outbox`.
    pub fn file_mail(mut self) -> Self {
        self.mail = MailMode::Files;
        self
    }
    /// Configure `n` sandbox secrets (rotation); callbacks are signed with the first.
    pub fn sandbox_secrets(mut self, n: usize) -> Self {
        self.secrets = n;
        self
    }
    /// SQLite even when the run asks for PostgreSQL (tests that read the DB file).
    pub fn sqlite(mut self) -> Self {
        self.force_sqlite = true;
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
            MailMode::StartTls { trust } => {
                let t = smtp::start_tls();
                put("smtp_url", format!("smtp://localhost:{}?tls=starttls", t.server.addr.port()));
                if trust {
                    put("smtp_ca_file", t.cert_path.to_string_lossy().into_owned());
                }
                (t.server.store.clone(), Some(t))
            }
            MailMode::Files => (smtp::Store::default(), None),
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
            Some(base) if !self.force_sqlite => {
                Some(tokio::task::spawn_blocking(move || db::PgDb::create(&base)).await.unwrap())
            }
            _ => None,
        };
        if let Some(pg) = &pg {
            put("database_url", pg.url.clone());
        }

        for (k, v) in self.pairs {
            pairs.retain(|(key, _)| *key != k);
            pairs.push((k, v));
        }
        let settings = Settings::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .unwrap_or_else(|e| panic!("settings {pairs:?} rejected: {e:?}"));
        let clock = Clock::system();
        let app = keyturn::app::start(settings, clock.clone()).await.expect("keyturn starts");
        let client = Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        TestApp {
            base: format!("http://{}", app.addr),
            public_url: app.public_url(),
            app: Some(app),
            clock,
            client,
            mail: MailBox::new(store),
            captcha: fake,
            keys,
            _tls_smtp: tls_smtp,
            _db: pg,
            data_dir,
        }
    }
}

impl TestApp {
    /// A handle on a keyturn that runs elsewhere (e.g. the real binary), for driving it.
    pub fn attach(base: &str, mail: smtp::Store) -> TestApp {
        TestApp {
            app: None,
            clock: Clock::system(),
            client: Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
            base: base.to_string(),
            public_url: base.to_string(),
            mail: MailBox::new(mail),
            captcha: None,
            keys: vec![],
            _tls_smtp: None,
            _db: None,
            data_dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
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

    pub async fn demo(&self) -> Service {
        let services: Vec<Service> = json_ok(self.get("/api/v1/services").await).await;
        services.into_iter().find(|s| s.slug == "demo").expect("demo service in the catalog")
    }

    /// Orders the demo service for `email`; returns the order id.
    pub async fn order(&self, email: &str) -> String {
        let body = json!({"service": "demo", "name": "Test Customer", "email": email});
        let resp = self.post_json("/api/v1/orders", &body).await;
        let v = json_status(resp, 201).await;
        v["order_id"].as_str().expect("order_id").to_string()
    }

    pub async fn order_status(&self, order_id: &str) -> String {
        let v = json_status(self.get(&format!("/api/v1/orders/{order_id}")).await, 200).await;
        v["status"].as_str().expect("status").to_string()
    }

    pub async fn wait_for_status(&self, order_id: &str, status: &str) {
        let deadline = Instant::now() + MAIL_TIMEOUT;
        loop {
            let now = self.order_status(order_id).await;
            if now == status {
                return;
            }
            assert!(Instant::now() < deadline, "order {order_id} stayed {now}, expected {status}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A callback signed with the first configured secret.
    pub async fn signed_callback(&self, event_id: &str, ts: i64, body: &[u8]) -> Response {
        self.signed_callback_with(&self.keys[0].clone(), event_id, ts, body).await
    }

    pub fn key(&self, i: usize) -> Vec<u8> {
        self.keys[i].clone()
    }

    pub async fn signed_callback_with(&self, key: &[u8], id: &str, ts: i64, body: &[u8]) -> Response {
        let sig = webhook::sign(key, id, ts, body);
        let headers =
            [("webhook-id", id.to_string()), ("webhook-timestamp", ts.to_string()), ("webhook-signature", sig)];
        self.callback_raw(&headers, Some("application/json"), body.to_vec()).await
    }

    pub async fn callback_raw(
        &self,
        headers: &[(&str, String)],
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Response {
        let mut req = self.client.post(self.url("/api/v1/payments/sandbox/callback")).body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        for (k, v) in headers {
            req = req.header(*k, v.as_str());
        }
        req.send().await.unwrap()
    }

    /// A `payment.succeeded` event for the demo price of `order_id`.
    pub async fn success_body(&self, order_id: &str, payment_id: &str, three_ds: &str) -> Vec<u8> {
        let demo = self.demo().await;
        Event {
            kind: "payment.succeeded",
            order_id,
            payment_id,
            amount_minor: demo.price_minor,
            currency: &demo.currency,
            three_ds,
        }
        .body()
    }

    /// The gateway reports a successful payment with this 3DS outcome; expects 200.
    pub async fn pay_by_callback(&self, order_id: &str, three_ds: &str) {
        let body = self.success_body(order_id, &random_id("pay"), three_ds).await;
        let resp = self.signed_callback(&random_id("evt"), self.clock.now(), &body).await;
        json_or_empty(resp, 200).await;
    }

    /// Order + successful callback; returns (email, order id, credentials).
    pub async fn provisioned(&self) -> (String, String, Credentials) {
        let email = unique_email();
        let order_id = self.order(&email).await;
        self.pay_by_callback(&order_id, "authenticated").await;
        let creds = self.mail.credentials(&email, 1).await;
        (email, order_id, creds)
    }

    pub async fn verify(&self, token: &str) -> Response {
        self.post_json("/api/v1/verify-email", &json!({"token": token})).await
    }

    pub async fn resend(&self, email: &str) -> Response {
        self.post_json("/api/v1/verify-email/resend", &json!({"email": email})).await
    }

    /// A provisioned and verified account, still on its temporary password.
    pub async fn verified(&self) -> (String, Credentials) {
        let (email, _, creds) = self.provisioned().await;
        let v = json_status(self.verify(&creds.token).await, 200).await;
        assert_eq!(v["status"], "active");
        (email, creds)
    }

    /// A verified account that has replaced its temporary password; logged in.
    pub async fn active(&self) -> Active {
        let (email, creds) = self.verified().await;
        let customer = self.customer();
        json_status(customer.login(&creds.login, &creds.password).await, 200).await;
        let password = strong_password();
        let resp = customer.change_password(&creds.password, &password).await;
        assert_eq!(resp.status(), 204, "password change: {}", resp.text().await.unwrap());
        Active { email, login: creds.login, password, customer }
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
