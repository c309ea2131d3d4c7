//! A fake of five gateways' APIs (Stripe, Square, FreedomPay, AllSecure, PayPal) that answers
//! the calls that start a payment, the status calls the reconciliation sweep makes and (in
//! `ops`) the capture, void and refund calls of admin payment operations. It checks our
//! requests' credentials and signatures (written independently of keyturn's code), remembers
//! each started payment's order and amount, and answers status calls as the test's [`Mode`]
//! says.

mod ops;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine;
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use poem::http::StatusCode;
use poem::web::Data;
use poem::{handler, EndpointExt, Request, Response, Route};
use serde_json::{json, Value};
use sha2::Sha512;

use super::{eventually, TestApp, TestAppBuilder};

pub use ops::{OpCall, OpMode};

pub const FP_SECRET: &str = "fp-secret";
pub const AS_SECRET: &str = "as-shared-secret";
/// PayPal needs a certificate to be enabled; no callback is verified with it here.
pub const PAYPAL_PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtPLQU15ZL7heFVKsfTVh
ymZ8sv034h48RRpTdw9Tr9qVGvOlEeZoLKjVjDJl6zOB+bZf5nSodyPfbxjaTlKs
IdEjW5dHsFzpbyjc0Qdx8EpjqvxL91m0apd7/eOVPVYi1gDxC5p8Y01fxlCMZ+Fy
dextLFrxQBN7ZdfDAO7oGwEVEQTVSU65DGnM5sKPsAavMRM7r9nDDkiDxDfAdEcM
vj7QqS74F2eUVyNtNtUeuIKnQRzdYvdaZcOBCdgzDBOtiXxXHst+XMmnyel04vwl
f8f/ZOysveWsgNHpTBsVyCNBzjR20QSX1HjAdTWohenHcGvYDXpP9bwJuqWWZDON
YwIDAQAB
-----END PUBLIC KEY-----
";

/// The gateways whose payments are started through an API and can be asked about.
pub const API_GATEWAYS: [&str; 5] = ["stripe", "square", "freedompay", "allsecure", "paypal"];

/// How status calls are answered.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mode {
    /// Paid, with the amount the payment was started with.
    Paid,
    /// Paid, but for a different amount.
    WrongAmount,
    /// Not paid (yet).
    Unpaid,
    /// 503.
    Down,
    /// 200 with a body that is not what the API sends (not JSON, unsigned XML).
    Garbage,
    /// Paid, but the payment's id ends with a space (an id no callback could carry).
    PaddedIds,
}

/// A payment as the fake saw it started: our order id, amount as sent, currency as sent.
#[derive(Clone, Debug)]
struct Started {
    order_id: String,
    amount: Value,
    currency: String,
}

struct Inner {
    mode: Mode,
    next: u64,
    started: HashMap<String, Started>,
    status_calls: Vec<(String, String)>,
    problems: Vec<String>,
    /// (gateway, how it was asked to take the money) per start, and PayPal's return calls.
    takes: Vec<(String, String)>,
    op_mode: OpMode,
    op_calls: Vec<OpCall>,
    /// Stripe, Square and PayPal hand out 249-character references (see [`FakeGateway::long_references`]).
    long_references: bool,
}

/// The running fake; cheap to clone.
#[derive(Clone)]
pub struct FakeGateway {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

impl FakeGateway {
    pub async fn start() -> FakeGateway {
        let inner = Arc::new(Mutex::new(Inner {
            mode: Mode::Paid,
            next: 0,
            started: HashMap::new(),
            status_calls: vec![],
            problems: vec![],
            takes: vec![],
            op_mode: OpMode::Accept,
            op_calls: vec![],
            long_references: false,
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let acceptor = poem::listener::TcpAcceptor::from_tokio(listener).unwrap();
        let fake = FakeGateway { url: format!("http://{addr}"), inner };
        let app = Route::new().at("/*path", api).data(fake.clone());
        tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(app));
        fake
    }

    /// From now on Stripe, Square and PayPal name their payments with 249 characters, so
    /// the ids derived from them (`pi_…`, `sqpay-…`, `CAP…`, `reconcile:…`) are 252 to 259
    /// characters long: longer than a 191-character index column, within what we accept.
    pub fn long_references(&self) {
        self.inner.lock().unwrap().long_references = true;
    }

    pub fn set_mode(&self, mode: Mode) {
        self.inner.lock().unwrap().mode = mode;
    }

    /// (gateway, reference) of every status call so far.
    pub fn status_calls(&self) -> Vec<(String, String)> {
        self.inner.lock().unwrap().status_calls.clone()
    }

    /// How each start asked for the money: Stripe's `capture_method`, PayPal's `intent` (and
    /// `return:capture|authorize` for the call on the customer's return), IXOPAY's transaction
    /// type; oldest first.
    pub fn takes(&self) -> Vec<(String, String)> {
        self.inner.lock().unwrap().takes.clone()
    }

    fn take(&self, gateway: &str, how: &str) {
        self.inner.lock().unwrap().takes.push((gateway.into(), how.into()));
    }

    /// Requests that were not signed or authorised as the gateway requires.
    pub fn problems(&self) -> Vec<String> {
        self.inner.lock().unwrap().problems.clone()
    }

    /// An app with the five API gateways pointed at this fake (PayPal's certificate under `dir`).
    pub fn configure(&self, builder: TestAppBuilder, dir: &std::path::Path) -> TestAppBuilder {
        let pem = dir.join("paypal.pem");
        std::fs::write(&pem, PAYPAL_PUBLIC_KEY).unwrap();
        let base = self.url.as_str();
        builder
            .set("stripe_webhook_secret", "whsec_test_reconcile")
            .set("stripe_api_key", "sk_test_123")
            .set("stripe_api_base", base)
            .set("square_signature_key", "sq-sig")
            .set("square_notification_url", "https://shop.test/api/v1/payments/square/callback")
            .set("square_access_token", "sq-token")
            .set("square_location_id", "L1")
            .set("square_api_base", base)
            .set("freedompay_merchant_id", "555")
            .set("freedompay_secret_key", FP_SECRET)
            .set("freedompay_api_base", base)
            .set("allsecure_api_key", "as-key")
            .set("allsecure_shared_secret", AS_SECRET)
            .set("allsecure_username", "as-user")
            .set("allsecure_password", "as-pass")
            .set("allsecure_api_base", base)
            .set("paypal_webhook_id", "WH-1")
            .set("paypal_cert_file", pem.to_str().unwrap())
            .set("paypal_client_id", "pp-client")
            .set("paypal_client_secret", "pp-secret")
            .set("paypal_api_base", base)
    }

    fn start_payment(&self, prefix: &str, s: Started) -> String {
        let mut inner = self.inner.lock().unwrap();
        inner.next += 1;
        let mut reference = format!("{prefix}{}", inner.next);
        if inner.long_references && ["cs_test_", "SQORDER", "PPORDER"].contains(&prefix) {
            reference = format!("{reference}R{}", "7".repeat(248 - reference.len()));
        }
        inner.started.insert(reference.clone(), s);
        reference
    }

    /// Notes a status call; the mode to answer it in and the payment, if we started it.
    fn status_call(&self, gateway: &str, reference: &str) -> (Mode, Option<Started>) {
        let mut inner = self.inner.lock().unwrap();
        inner.status_calls.push((gateway.into(), reference.into()));
        (inner.mode, inner.started.get(reference).cloned())
    }

    fn problem(&self, what: String) {
        self.inner.lock().unwrap().problems.push(what);
    }
}

impl TestApp {
    /// (kind, outcome) of every recorded gateway event of an order, oldest first.
    pub async fn payment_events(&self, order_id: &str) -> Vec<(String, String)> {
        let state = &self.app.as_ref().expect("app running").state;
        let id = order_id.to_string();
        let events = state.db.read(move |c| Ok(keyturn::payments::model::events_for_order(c, &id)?)).await.unwrap();
        events.into_iter().map(|e| (e.kind, e.outcome)).collect()
    }

    /// Waits until `n` gateway events of `kind` (e.g. the sandbox's own echo of an admin's
    /// capture) were applied to the order; returns their outcomes. Whatever they caused is in
    /// the outbox by then, so [`TestApp::run_pending_jobs`] settles it.
    pub async fn callbacks_applied(&self, order_id: &str, kind: &str, n: usize) -> Vec<String> {
        eventually(&format!("{n} {kind} event(s) applied to order {order_id}"), || async {
            let got: Vec<String> =
                self.payment_events(order_id).await.into_iter().filter(|(k, _)| k == kind).map(|(_, o)| o).collect();
            (got.len() >= n).then_some(got)
        })
        .await
    }
}

pub fn form(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

pub fn get<'a>(f: &'a [(String, String)], k: &str) -> &'a str {
    f.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).unwrap_or("")
}

/// FreedomPay's pg_sig, written independently of keyturn's adapter.
pub fn fp_sig(script: &str, fields: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = fields.iter().filter(|(k, _)| k != "pg_sig").collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut parts = vec![script.to_string()];
    parts.extend(sorted.iter().map(|(_, v)| v.clone()));
    parts.push(FP_SECRET.to_string());
    hex::encode(Md5::digest(parts.join(";").as_bytes()))
}

fn fp_xml(script: &str, mut fields: Vec<(String, String)>) -> Response {
    fields.push(("pg_salt".into(), "salty".into()));
    let sig = fp_sig(script, &fields);
    fields.push(("pg_sig".into(), sig));
    let xml: String = fields.iter().map(|(k, v)| format!("<{k}>{}</{k}>", v.replace('&', "&amp;"))).collect();
    Response::builder().content_type("text/xml").body(format!("<?xml version=\"1.0\"?><response>{xml}</response>"))
}

/// IXOPAY's X-Signature, written independently of keyturn's adapter.
fn as_sig(method: &str, body: &[u8], req: &Request) -> String {
    let ct = req.header("content-type").unwrap_or_default();
    let date = req.header("date").unwrap_or_default();
    let mut mac = Hmac::<Sha512>::new_from_slice(AS_SECRET.as_bytes()).unwrap();
    let digest = hex::encode(Md5::digest(body));
    mac.update(format!("{method}\n{digest}\n{ct}\n{date}\n{}", req.uri().path()).as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn ok(v: Value) -> Response {
    Response::builder().content_type("application/json").body(v.to_string())
}

/// The amount to report: as started, or off by one unit in `WrongAmount` mode.
fn amount(mode: Mode, s: &Started) -> Value {
    match (mode, &s.amount) {
        (Mode::WrongAmount, Value::Number(n)) => json!(n.as_i64().unwrap() + 100),
        (Mode::WrongAmount, _) => json!("1.00"),
        (_, a) => a.clone(),
    }
}

#[handler]
async fn api(req: &Request, body: Vec<u8>, fake: Data<&FakeGateway>) -> Response {
    let path = req.uri().path().to_string();
    let auth = req.header("authorization").unwrap_or_default().to_string();
    let basic = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("as-user:as-pass"));
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let json_body: Value = serde_json::from_slice(&body).unwrap_or_default();
    let need = |cond: bool, what: &str| {
        if !cond {
            fake.problem(format!("{path}: {what}"));
        }
    };
    // Status calls: answered by mode.
    let status = match (req.method().as_str(), segments.as_slice()) {
        ("GET", ["v1", "checkout", "sessions", id]) => Some(("stripe", id.to_string())),
        ("GET", ["v2", "checkout", "orders", id]) => Some(("paypal", id.to_string())),
        ("GET", ["v2", "orders", id]) => Some(("square", id.to_string())),
        ("GET", ["api", "v3", "status", "as-key", "getByUuid", id]) => Some(("allsecure", id.to_string())),
        ("POST", ["get_status2.php"]) => Some(("freedompay", get(&form(&body), "pg_payment_id").to_string())),
        _ => None,
    };
    if let Some((gw, reference)) = status {
        match gw {
            "stripe" => need(auth == "Bearer sk_test_123", "stripe auth"),
            "paypal" => need(auth == "Bearer pp-access", "paypal auth"),
            "square" => need(auth == "Bearer sq-token", "square auth"),
            "allsecure" => need(
                auth == basic && req.header("x-signature") == Some(as_sig("GET", b"", req).as_str()),
                "allsecure basic auth or X-Signature",
            ),
            _ => {
                let f = form(&body);
                need(fp_sig("get_status2.php", &f) == get(&f, "pg_sig") && get(&f, "pg_merchant_id") == "555", "pg_sig")
            }
        }
        let (mode, started) = fake.status_call(gw, &reference);
        return status_answer(gw, &reference, mode, started);
    }
    if let Some(answer) = ops::handle(&fake, req, &body) {
        return answer;
    }
    // Starting payments: remember the order and amount, hand out a fresh reference.
    match path.as_str() {
        "/v1/checkout/sessions" => {
            let f = form(&body);
            let how = get(&f, "payment_intent_data[capture_method]");
            fake.take("stripe", if how.is_empty() { "automatic" } else { how });
            need(auth == "Bearer sk_test_123", "stripe auth");
            let amount = json!(get(&f, "line_items[0][price_data][unit_amount]").parse::<i64>().unwrap_or(-1));
            let s = Started {
                order_id: get(&f, "metadata[order_id]").into(),
                amount,
                currency: get(&f, "line_items[0][price_data][currency]").into(),
            };
            let id = fake.start_payment("cs_test_", s);
            ok(json!({"id": id, "url": format!("https://checkout.stripe.test/c/{id}")}))
        }
        "/v2/online-checkout/payment-links" => {
            need(auth == "Bearer sq-token", "square auth");
            let o = &json_body["order"];
            let money = &o["line_items"][0]["base_price_money"];
            let s = Started {
                order_id: o["reference_id"].as_str().unwrap_or_default().into(),
                amount: money["amount"].clone(),
                currency: money["currency"].as_str().unwrap_or_default().into(),
            };
            let order = fake.start_payment("SQORDER", s);
            ok(json!({"payment_link": {"id": "pl1", "url": "https://square.test/pay/pl1", "order_id": order}}))
        }
        "/init_payment.php" => {
            let f = form(&body);
            need(fp_sig("init_payment.php", &f) == get(&f, "pg_sig"), "init pg_sig");
            let s = Started {
                order_id: get(&f, "pg_order_id").into(),
                amount: json!(get(&f, "pg_amount")),
                currency: get(&f, "pg_currency").into(),
            };
            let id = fake.start_payment("77", s);
            let url = format!("https://freedompay.test/pay?id={id}");
            let fields = [("pg_status", "ok"), ("pg_payment_id", id.as_str()), ("pg_redirect_url", url.as_str())];
            fp_xml("init_payment.php", fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
        }
        "/api/v3/transaction/as-key/debit" | "/api/v3/transaction/as-key/preauthorize" => {
            fake.take("allsecure", path.rsplit('/').next().unwrap_or_default());
            need(auth == basic && req.header("x-signature") == Some(as_sig("POST", &body, req).as_str()), "debit sig");
            let s = Started {
                order_id: json_body["merchantTransactionId"].as_str().unwrap_or_default().into(),
                amount: json_body["amount"].clone(),
                currency: json_body["currency"].as_str().unwrap_or_default().into(),
            };
            let uuid = fake.start_payment("as-uuid-", s);
            let url = format!("https://allsecure.test/r/{uuid}");
            ok(json!({"success": true, "uuid": uuid, "returnType": "REDIRECT", "redirectUrl": url}))
        }
        "/v1/oauth2/token" => ok(json!({"access_token": "pp-access", "token_type": "Bearer"})),
        p if p.starts_with("/v2/checkout/orders/") && (p.ends_with("/capture") || p.ends_with("/authorize")) => {
            need(auth == "Bearer pp-access", "paypal auth");
            fake.take("paypal", &format!("return:{}", p.rsplit('/').next().unwrap_or_default()));
            Response::builder().status(StatusCode::CREATED).content_type("application/json").body("{}")
        }
        "/v2/checkout/orders" => {
            fake.take("paypal", json_body["intent"].as_str().unwrap_or_default());
            need(auth == "Bearer pp-access", "paypal auth");
            let unit = &json_body["purchase_units"][0];
            let s = Started {
                order_id: unit["custom_id"].as_str().unwrap_or_default().into(),
                amount: unit["amount"]["value"].clone(),
                currency: unit["amount"]["currency_code"].as_str().unwrap_or_default().into(),
            };
            let id = fake.start_payment("PPORDER", s);
            ok(
                json!({"id": id, "links": [{"rel": "payer-action", "href": format!("https://paypal.test/approve/{id}")}]}),
            )
        }
        _ => {
            fake.problem(format!("{path}: unexpected path"));
            Response::builder().status(StatusCode::NOT_FOUND).finish()
        }
    }
}

/// What each gateway's status API answers about `reference`.
fn status_answer(gw: &str, reference: &str, mode: Mode, started: Option<Started>) -> Response {
    let Some(s) = started else {
        return Response::builder().status(StatusCode::NOT_FOUND).finish();
    };
    match mode {
        Mode::Down => return Response::builder().status(StatusCode::SERVICE_UNAVAILABLE).body("maintenance"),
        Mode::Garbage if gw == "freedompay" => {
            return Response::builder().content_type("text/xml").body("<response><pg_status>ok</pg_status></response>")
        }
        Mode::Garbage => return Response::builder().content_type("application/json").body("<html>oops</html>"),
        _ => {}
    }
    let paid = mode != Mode::Unpaid;
    let amount = amount(mode, &s);
    let pad = |id: String| if mode == Mode::PaddedIds { format!("{id} ") } else { id };
    let reference_as_paid = pad(reference.to_string());
    match gw {
        "stripe" => ok(json!({
            "id": reference, "object": "checkout.session",
            "payment_status": if paid { "paid" } else { "unpaid" }, "status": if paid { "complete" } else { "open" },
            "amount_total": amount, "currency": s.currency, "client_reference_id": s.order_id,
            "metadata": {"order_id": s.order_id}, "payment_intent": if paid { json!(pad(format!("pi_{reference}"))) } else { Value::Null },
        })),
        "paypal" => {
            let payments = json!({"captures": [{"id": pad(format!("CAP{reference}")), "status": "COMPLETED",
                "amount": {"currency_code": s.currency, "value": amount}}]});
            ok(json!({
                "id": reference, "status": if paid { "COMPLETED" } else { "PAYER_ACTION_REQUIRED" },
                "purchase_units": [{"reference_id": s.order_id, "custom_id": s.order_id,
                    "payments": if paid { payments } else { json!({}) }}],
            }))
        }
        "square" => {
            let tenders = json!([{"id": "T1", "payment_id": pad(format!("sqpay-{reference}")), "card_details": {"status": "CAPTURED"}}]);
            ok(json!({"order": {
                "id": reference, "reference_id": s.order_id, "state": if paid { "COMPLETED" } else { "OPEN" },
                "total_money": {"amount": amount, "currency": s.currency},
                "tenders": if paid { tenders } else { json!([]) },
            }}))
        }
        "allsecure" => ok(json!({
            "success": true, "uuid": reference_as_paid, "merchantTransactionId": s.order_id, "transactionType": "DEBIT",
            "transactionStatus": if paid { "SUCCESS" } else { "PENDING" }, "amount": amount, "currency": s.currency,
        })),
        _ => {
            let amount = amount.as_str().unwrap_or_default().to_string();
            let fields = [
                ("pg_status", "ok"),
                ("pg_payment_id", reference_as_paid.as_str()),
                ("pg_order_id", &s.order_id),
                ("pg_payment_status", if paid { "success" } else { "pending" }),
                ("pg_amount", &amount),
                ("pg_currency", &s.currency),
            ];
            fp_xml("get_status2.php", fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
        }
    }
}
