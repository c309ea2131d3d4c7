//! Every real gateway, end to end on one machine: the sandbox speaks the gateway's dialect
//! (`sandbox_dialect`, signed with sandbox-only secrets, to the sandbox's own callback), so an
//! order paid on the sandbox's card page reaches that gateway's adapter and ends in a
//! credentials email. Callbacks built here, independently of the
//! sandbox, check the gateway's contract: a genuine one provisions exactly once however often
//! it comes and gets the reply that gateway expects; a forged one is refused and changes
//! nothing; a wrong amount is acknowledged and provisions nothing.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use futures_util::future::join_all;
use keyturn::money::format_minor;
use keyturn::payments::gateways::{allsecure, dotpay, freedompay, paypal, square, stripe, twocheckout};
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::signature::{SignatureEncoding, Signer};
use rsa::RsaPrivateKey;
use serde_json::json;

use crate::harness::*;

mod calls;
mod long_ids;
mod sandbox_secret;
mod subscriptions;
mod twocheckout_refunds;

use calls::{paid, tampered, Call};

const SQUARE_URL: &str = "https://shop.example.test/api/v1/payments/square/callback";
/// FreedomPay merchant id and Dotpay shop id.
const MERCHANT: &str = "555001";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Gw {
    Stripe,
    FreedomPay,
    TwoCheckout,
    AllSecure,
    PayPal,
    Dotpay,
    Square,
}

impl Gw {
    fn name(self) -> &'static str {
        match self {
            Gw::Stripe => "stripe",
            Gw::FreedomPay => "freedompay",
            Gw::TwoCheckout => "twocheckout",
            Gw::AllSecure => "allsecure",
            Gw::PayPal => "paypal",
            Gw::Dotpay => "dotpay",
            Gw::Square => "square",
        }
    }

    fn path(self) -> String {
        format!("/api/v1/payments/{}/callback", self.name())
    }

    /// The sandbox's own callback in this gateway's dialect.
    fn sandbox_path(self) -> String {
        format!("/api/v1/payments/sandbox/{}/callback", self.name())
    }
}

/// The PayPal signing key: generated once (1024 bits keeps debug builds fast; size is not
/// what is tested). Its public half is configured as `paypal_cert_file`.
fn paypal_key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| RsaPrivateKey::new(&mut rand::thread_rng(), 1024).unwrap())
}

/// The sandbox's own PayPal signing key (`sandbox_paypal_key_file`): never the live one.
fn sandbox_paypal_key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| RsaPrivateKey::new(&mut rand::thread_rng(), 1024).unwrap())
}

/// One gateway account: its secret (PayPal: the webhook id, the key being [`paypal_key`]),
/// a secret that is not ours, and its settings.
struct Account {
    gw: Gw,
    secret: String,
    wrong: String,
    settings: Vec<(&'static str, String)>,
    _dir: tempfile::TempDir,
}

impl Account {
    fn new(gw: Gw) -> Account {
        let dir = tempfile::tempdir().unwrap();
        let secret = |prefix: &str| format!("{prefix}{}", hex::encode(rand::random::<[u8; 16]>()));
        let (first, wrong) = match gw {
            Gw::Stripe => (secret("whsec_"), secret("whsec_")),
            Gw::PayPal => (secret("WH-"), secret("WH-")),
            _ => (secret(""), secret("")),
        };
        // A second (older) secret is configured too: the first one signs.
        let both = |older: String| format!("{first},{older}");
        let settings: Vec<(&'static str, String)> = match gw {
            Gw::Stripe => vec![("stripe_webhook_secret", both(secret("whsec_")))],
            Gw::FreedomPay => {
                vec![("freedompay_merchant_id", MERCHANT.into()), ("freedompay_secret_key", both(secret("")))]
            }
            Gw::TwoCheckout => {
                vec![("twocheckout_merchant_code", "KT1234".into()), ("twocheckout_secret_key", both(secret("")))]
            }
            Gw::AllSecure => {
                vec![("allsecure_api_key", "kt-api-key".into()), ("allsecure_shared_secret", both(secret("")))]
            }
            Gw::PayPal => {
                let key = dir.path().join("sandbox-key.pem");
                let cert = dir.path().join("paypal-cert.pem");
                std::fs::write(&key, sandbox_paypal_key().to_pkcs8_pem(LineEnding::LF).unwrap().as_bytes()).unwrap();
                std::fs::write(&cert, paypal_key().to_public_key().to_public_key_pem(LineEnding::LF).unwrap()).unwrap();
                vec![
                    ("paypal_webhook_id", first.clone()),
                    ("paypal_cert_file", cert.to_string_lossy().into_owned()),
                    ("sandbox_paypal_key_file", key.to_string_lossy().into_owned()),
                ]
            }
            Gw::Dotpay => vec![("dotpay_shop_id", MERCHANT.into()), ("dotpay_pin", both(secret("")))],
            Gw::Square => {
                vec![("square_signature_key", both(secret(""))), ("square_notification_url", SQUARE_URL.into())]
            }
        };
        Account { gw, secret: first, wrong, settings, _dir: dir }
    }

    /// The app with this gateway configured (the sandbox speaks its own dialect): for
    /// callbacks built by the test.
    async fn start_direct(&self) -> TestApp {
        let mut builder = TestApp::builder();
        for (k, v) in &self.settings {
            builder = builder.set(k, v);
        }
        builder.start().await
    }

    /// The app, with the sandbox speaking this gateway and calling back through `tap`.
    async fn start(&self, tap: &Tap) -> TestApp {
        let mut builder = TestApp::builder()
            .set("sandbox_dialect", self.gw.name())
            .set("sandbox_callback_url", &format!("{}{}", tap.url, self.gw.sandbox_path()));
        for (k, v) in &self.settings {
            builder = builder.set(k, v);
        }
        let app = builder.start().await;
        tap.target.set(app.base.clone()).unwrap();
        app
    }
}

/// A callback the sandbox sent, as seen on the wire, and keyturn's answer.
struct Seen {
    path: String,
    headers: Vec<(String, String)>,
    status: u16,
    reply: String,
    /// The body (for failure messages).
    body: String,
}

/// Stands between the sandbox and keyturn: records each callback the sandbox sends and passes
/// it on unchanged (same path, headers and body), answering with keyturn's reply.
struct Tap {
    url: String,
    target: Arc<OnceLock<String>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Tap {
    async fn start() -> Tap {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let target: Arc<OnceLock<String>> = Arc::default();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let (to, log, client) = (target.clone(), seen.clone(), reqwest::Client::new());
        let endpoint = poem::endpoint::make(move |mut req: poem::Request| {
            let (to, log, client) = (to.clone(), log.clone(), client.clone());
            async move {
                let path = req.uri().path().to_string();
                let headers: Vec<(String, String)> = req
                    .headers()
                    .iter()
                    .filter(|(k, _)| !matches!(k.as_str(), "host" | "content-length"))
                    .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
                    .collect();
                let body = req.take_body().into_vec().await.unwrap();
                let text = String::from_utf8_lossy(&body).into_owned();
                let mut pass = client.post(format!("{}{path}", to.get().unwrap())).body(body);
                for (k, v) in &headers {
                    pass = pass.header(k, v);
                }
                let resp = pass.send().await.unwrap();
                let status = resp.status().as_u16();
                let reply = resp.text().await.unwrap();
                log.lock().unwrap().push(Seen { path, headers, status, reply: reply.clone(), body: text });
                poem::Response::builder().status(poem::http::StatusCode::from_u16(status).unwrap()).body(reply)
            }
        });
        let acceptor = poem::listener::TcpAcceptor::from_tokio(listener).unwrap();
        tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(endpoint));
        Tap { url, target, seen }
    }

    /// Waits until `n` callbacks were answered 200.
    async fn wait_for(&self, n: usize) {
        let deadline = Instant::now() + MAIL_TIMEOUT;
        while self.seen.lock().unwrap().iter().filter(|s| s.status == 200).count() < n {
            assert!(
                Instant::now() < deadline,
                "{} callbacks from the sandbox so far, {n} acknowledged ones expected",
                self.seen.lock().unwrap().len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn send(app: &TestApp, gw: Gw, call: &Call) -> reqwest::Response {
    let mut req =
        app.client.post(app.url(&gw.path())).header("content-type", call.content_type).body(call.body.clone());
    for (k, v) in &call.headers {
        req = req.header(*k, v);
    }
    req.send().await.unwrap()
}

/// The text between `<name>` and `</name>`.
fn tag<'a>(xml: &'a str, name: &str) -> &'a str {
    let open = format!("<{name}>");
    let start = xml.find(&open).unwrap_or_else(|| panic!("no <{name}> in {xml}")) + open.len();
    &xml[start..start + xml[start..].find("</").unwrap()]
}

/// Asserts the reply the gateway expects for `call` (`refused`: we refused the money).
async fn check_reply(acct: &Account, call: &Call, resp: reqwest::Response, refused: bool) {
    let status = resp.status().as_u16();
    let body = resp.text().await.unwrap();
    assert_eq!(status, 200, "{:?}: {body}", acct.gw);
    match acct.gw {
        Gw::FreedomPay => {
            // Signed XML; `rejected` (the gateway reverses the payment) since pg_can_reject=1.
            assert_eq!(tag(&body, "pg_status"), if refused { "rejected" } else { "ok" }, "{body}");
            let fields = [
                ("pg_status", tag(&body, "pg_status")),
                ("pg_description", tag(&body, "pg_description")),
                ("pg_salt", tag(&body, "pg_salt")),
            ];
            assert_eq!(tag(&body, "pg_sig"), freedompay::sign("callback", &fields, &acct.secret), "{body}");
        }
        Gw::TwoCheckout => {
            // <sig algo="sha256" date="YmdHis">HMAC of IPN_PID[0], IPN_PNAME[0], IPN_DATE, DATE</sig>
            let fields: Vec<(String, String)> =
                url::form_urlencoded::parse(&call.body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
            let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap();
            let date = body.split("date=\"").nth(1).and_then(|r| r.split('"').next()).expect("date");
            assert_eq!(date.len(), 14, "{body}");
            let hash = twocheckout::hmac_sha256_hex(
                &acct.secret,
                &[get("IPN_PID[]"), get("IPN_PNAME[]"), get("IPN_DATE"), date.into()],
            );
            assert!(body.contains(&format!(r#"<sig algo="sha256" date="{date}">{hash}</sig>"#)), "{body}");
        }
        Gw::AllSecure | Gw::Dotpay => assert_eq!(body, "OK"),
        Gw::Stripe | Gw::PayPal | Gw::Square => {}
    }
}

async fn new_order(app: &TestApp) -> (String, String) {
    let email = unique_email();
    let order = app.order(&email).await;
    (email, order)
}

async fn gateway_end_to_end(gw: Gw) {
    let acct = Account::new(gw);
    let tap = Tap::start().await;
    let app = acct.start(&tap).await;
    let demo = app.demo().await;
    let (price, currency) = (demo.price_minor, demo.currency.as_str());

    // (a) Customers pay on the sandbox's card page (one frictionless, one through a 3-D Secure
    // challenge); the sandbox calls back in the gateway's own format and signature.
    let card = new_order(&app).await;
    let challenge = new_order(&app).await;
    app.pay_with_card(&card.1, "4242424242424242", "").await;
    app.pay_with_card(&challenge.1, "4000000000003220", "1234").await;

    // (b) A genuine callback built here: twice in a row, then four at once.
    let genuine = new_order(&app).await;
    let call = paid(gw, &acct.secret, &genuine.1, price, currency, app.clock.now());
    for _ in 0..2 {
        check_reply(&acct, &call, send(&app, gw, &call).await, false).await;
    }
    for resp in join_all((0..4).map(|_| send(&app, gw, &call))).await {
        check_reply(&acct, &call, resp, false).await;
    }

    // (c) Forged: another secret, or one byte changed after signing.
    let forged = new_order(&app).await;
    let now = app.clock.now();
    for call in [
        paid(gw, &acct.wrong, &forged.1, price, currency, now),
        tampered(gw, &acct.secret, &forged.1, price, currency, now),
    ] {
        assert_error(send(&app, gw, &call).await, 400, "invalid_signature").await;
    }

    // (d) Genuine, but for the wrong amount: acknowledged (so the gateway stops retrying), refused.
    let short = new_order(&app).await;
    let call = paid(gw, &acct.secret, &short.1, price - 100, currency, app.clock.now());
    check_reply(&acct, &call, send(&app, gw, &call).await, true).await;

    for (email, order) in [&card, &challenge, &genuine] {
        app.mail.wait_for(email, Kind::Credentials, 1, MAIL_TIMEOUT).await;
        app.wait_for_status(order, "provisioned").await;
    }
    // The sandbox spoke the gateway's dialect: to its callback, with its signature, and each
    // event was acknowledged once in the gateway's own format. (The challenge's pending state is
    // sent only by gateways that report one.) Two first events of one payment racing to
    // create its row are both acknowledged at once (the loser's transaction is re-run).
    let pending_reported = matches!(gw, Gw::Stripe | Gw::TwoCheckout | Gw::AllSecure | Gw::Dotpay);
    let expected = if pending_reported { 3 } else { 2 };
    tap.wait_for(expected).await;
    // Every callback was answered, so whatever it caused is queued: run it all now.
    app.run_pending_jobs().await;
    app.assert_no_pending_jobs().await;
    {
        let seen = tap.seen.lock().unwrap();
        let summary: Vec<String> = seen.iter().map(|s| format!("{} {} {}", s.status, s.reply, s.body)).collect();
        let mut events: Vec<&str> = seen.iter().map(|s| s.body.as_str()).collect();
        events.sort();
        events.dedup();
        assert_eq!(events.len(), expected, "{gw:?}: events sent by the sandbox: {summary:#?}");
        let acked = seen.iter().filter(|s| s.status == 200).count();
        assert_eq!(acked, expected, "{gw:?}: each event acknowledged once: {summary:#?}");
        let signature_header = match gw {
            Gw::Stripe => Some("stripe-signature"),
            Gw::AllSecure => Some("x-signature"),
            Gw::PayPal => Some("paypal-transmission-sig"),
            Gw::Square => Some("x-square-hmacsha256-signature"),
            Gw::FreedomPay | Gw::TwoCheckout | Gw::Dotpay => None,
        };
        for s in seen.iter() {
            assert_eq!(s.path, gw.sandbox_path(), "the sandbox posts to its own callback");
            let header = |name: &str| s.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
            assert!(header("webhook-signature").is_none(), "{gw:?}: a Standard Webhooks callback");
            match signature_header {
                Some(name) => assert!(header(name).is_some(), "{gw:?}: no {name}"),
                None => assert_eq!(header("content-type"), Some("application/x-www-form-urlencoded")),
            }
            assert_eq!(s.status, 200, "{gw:?}: acknowledged on the first try: {}", s.reply);
            let acknowledged = match gw {
                Gw::FreedomPay => s.reply.contains("<pg_status>ok</pg_status>"),
                Gw::TwoCheckout => s.reply.contains(r#"<sig algo="sha3-256" date=""#),
                Gw::AllSecure | Gw::Dotpay => s.reply == "OK",
                Gw::Stripe | Gw::PayPal | Gw::Square => true,
            };
            assert!(acknowledged, "{gw:?}: {}", s.reply);
        }
    }
    for (email, order) in [&card, &challenge, &genuine] {
        assert_eq!(app.mail.count(email, Kind::Credentials), 1, "{gw:?}: one account, one credentials email");
        app.assert_provisioned_once(email, order).await;
    }
    for (case, (email, order)) in [("forged", &forged), ("wrong amount", &short)] {
        assert_eq!(app.order_status(order).await, "pending_payment", "{gw:?} {case}");
        assert_eq!(app.mail.count(email, Kind::Any), 0, "{gw:?} {case} sent email");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_end_to_end() {
    gateway_end_to_end(Gw::Stripe).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freedompay_end_to_end() {
    gateway_end_to_end(Gw::FreedomPay).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twocheckout_end_to_end() {
    gateway_end_to_end(Gw::TwoCheckout).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allsecure_end_to_end() {
    gateway_end_to_end(Gw::AllSecure).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paypal_end_to_end() {
    gateway_end_to_end(Gw::PayPal).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dotpay_end_to_end() {
    gateway_end_to_end(Gw::Dotpay).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn square_end_to_end() {
    gateway_end_to_end(Gw::Square).await;
}

/// FreedomPay lets us refuse a payment (`pg_can_reject=1`): one for the address of a revoked
/// account is answered `rejected` (the gateway gives the money back), held and never provisioned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freedompay_is_told_to_reject_a_payment_for_a_revoked_account() {
    let acct = Account::new(Gw::FreedomPay);
    let app = acct.start_direct().await;
    let owner = app.admin("owner").await;
    let c = app.active().await;
    assert_eq!(owner.post(&format!("/accounts/{}/revoke", c.login), &json!({})).await.status(), 204);
    let order = app.order(&c.email).await;
    let demo = app.demo().await;
    let call = paid(Gw::FreedomPay, &acct.secret, &order, demo.price_minor, &demo.currency, app.clock.now());
    check_reply(&acct, &call, send(&app, Gw::FreedomPay, &call).await, true).await;
    // A retry (our `rejected` did not reach FreedomPay) is told `rejected` again, never `ok`.
    check_reply(&acct, &call, send(&app, Gw::FreedomPay, &call).await, true).await;
    // FreedomPay reverses it: recorded as money not taken, the reason kept for admins.
    let refused = json_status(owner.get(&format!("/orders/{order}")).await, 200).await;
    assert_eq!(refused["hold_reason"], "account_revoked", "{refused}");
    assert_eq!(refused["status"], "pending_payment", "the order is not paid: {refused}");
    assert_eq!(refused["payments"][0]["status"], "failed", "{refused}");
    assert_eq!(refused["events"][0]["outcome"], "refused_account", "{refused}");
    let listed = json_status(owner.get(&format!("/orders?email={}", c.email)).await, 200).await;
    let row = listed["orders"].as_array().unwrap().iter().find(|o| o["order_id"] == order.as_str()).unwrap();
    assert_eq!(
        (row["status"].as_str(), row["hold_reason"].as_str()),
        (Some("pending_payment"), Some("account_revoked"))
    );
    let page = app.get(&format!("/orders/{order}/return")).await.text().await.unwrap();
    assert!(page.contains("declined") && page.contains("returned"), "{page}");
    assert!(!page.contains("revoked") && !page.contains("suspended") && !page.contains("held"), "{page}");
    app.assert_mail_count(&c.email, Kind::Confirmation, 1).await;

    // A callback that does not allow a rejection is answered `ok`: the money is kept, held.
    let other = app.order(&c.email).await;
    let call = paid(Gw::FreedomPay, &acct.secret, &other, demo.price_minor, &demo.currency, app.clock.now());
    let mut fields: Vec<(String, String)> = url::form_urlencoded::parse(&call.body)
        .filter(|(k, _)| k != "pg_sig")
        .map(|(k, v)| {
            let v = if k == "pg_can_reject" { "0".into() } else { v.into_owned() };
            (k.into_owned(), v)
        })
        .collect();
    fields.push(("pg_sig".into(), freedompay::sign("callback", &fields, &acct.secret)));
    let refs: Vec<(&str, String)> = fields.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    let call = Call { body: calls::form(&refs), ..call };
    check_reply(&acct, &call, send(&app, Gw::FreedomPay, &call).await, false).await;
    let held = json_status(owner.get(&format!("/orders/{other}")).await, 200).await;
    assert_eq!((held["status"].as_str(), held["hold_reason"].as_str()), (Some("paid"), Some("account_revoked")));
    assert_eq!(held["payments"][0]["status"], "succeeded", "{held}");
    assert_eq!(held["events"][0]["outcome"], "held_account", "{held}");
    app.stop().await;
}

/// A dialect whose gateway is not configured is refused at start, naming what to set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dialect_without_its_gateway_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    for (dialect, extra, expected) in [
        ("stripe", vec![], vec!["KEYTURN_STRIPE_WEBHOOK_SECRET"]),
        ("freedompay", vec![], vec!["KEYTURN_FREEDOMPAY_MERCHANT_ID", "KEYTURN_FREEDOMPAY_SECRET_KEY"]),
        ("paypal", vec![("paypal_webhook_id", "WH-1")], vec!["KEYTURN_SANDBOX_PAYPAL_KEY_FILE"]),
    ] {
        let mut pairs = vec![
            ("data_dir", dir.path().to_string_lossy().into_owned()),
            ("listen", "127.0.0.1:0".to_string()),
            ("sandbox_dialect", dialect.to_string()),
            ("sandbox_enabled", "true".to_string()),
        ];
        pairs.extend(extra.into_iter().map(|(k, v)| (k, v.to_string())));
        let settings = keyturn::config::Settings::from_pairs(pairs).unwrap();
        let err = match keyturn::app::start(settings, keyturn::clock::Clock::system()).await {
            Ok(_) => panic!("{dialect}: started without its gateway"),
            Err(e) => format!("{e:#}"),
        };
        for name in expected {
            assert!(err.contains(name), "{dialect}: {err}");
        }
    }
    let err = keyturn::config::Settings::from_pairs([("sandbox_dialect", "paybox")]).unwrap_err().to_string();
    assert!(err.contains("sandbox_dialect") && err.contains("freedompay"), "{err}");
}
