//! Starting payments at real gateways: `/pay/{order}/{gateway}` calls the gateway's API (a
//! local fake that checks our requests and their signatures) or signs a redirect, and sends
//! the customer to the gateway's hosted page. Nothing here changes the order.

use std::sync::{Arc, Mutex};

use base64::Engine;
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use poem::http::StatusCode;
use poem::web::Data;
use poem::{handler, EndpointExt, Request, Response, Route};
use serde_json::{json, Value};
use sha2::{Sha256, Sha512};

use crate::harness::fake_gateway::{form, fp_sig, get, AS_SECRET, FP_SECRET, PAYPAL_PUBLIC_KEY};
use crate::harness::*;

/// What the fake gateway API saw, per path.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<(String, String)>>>);

impl Seen {
    fn note(&self, path: &str, problem: &str) {
        self.0.lock().unwrap().push((path.to_string(), problem.to_string()));
    }
    fn all(&self) -> Vec<(String, String)> {
        self.0.lock().unwrap().clone()
    }
}

#[handler]
async fn fake_api(req: &Request, body: Vec<u8>, seen: Data<&Seen>) -> Response {
    let path = req.uri().path().to_string();
    let auth = req.header("authorization").unwrap_or_default().to_string();
    let ok = |v: Value| Response::builder().content_type("application/json").body(v.to_string());
    match path.as_str() {
        "/v1/checkout/sessions" => {
            let f = form(&body);
            if auth != "Bearer sk_test_123" || req.header("idempotency-key").is_none() {
                seen.note(&path, "bad auth or no idempotency key");
            }
            if get(&f, "metadata[order_id]").is_empty() || get(&f, "line_items[0][price_data][unit_amount]") != "1990" {
                seen.note(&path, "order id or amount missing");
            }
            ok(json!({"id": "cs_test_1", "url": "https://checkout.stripe.test/c/cs_test_1"}))
        }
        "/v2/online-checkout/payment-links" => {
            let v: Value = serde_json::from_slice(&body).unwrap_or_default();
            if auth != "Bearer sq-token" || v["order"]["reference_id"].as_str().is_none_or(|r| !r.starts_with("ord_")) {
                seen.note(&path, "bad auth or no reference_id");
            }
            ok(json!({"payment_link": {"id": "pl1", "url": "https://square.test/pay/pl1"}}))
        }
        "/init_payment.php" => {
            let f = form(&body);
            if fp_sig("init_payment.php", &f) != get(&f, "pg_sig") || get(&f, "pg_amount") != "19.90" {
                seen.note(&path, "bad pg_sig or amount");
            }
            let mut answer = vec![
                ("pg_status".to_string(), "ok".to_string()),
                ("pg_payment_id".into(), "777".into()),
                ("pg_redirect_url".into(), "https://freedompay.test/pay?id=777&amp;x=1".replace("&amp;", "&")),
                ("pg_salt".into(), "salty".into()),
            ];
            let sig = fp_sig("init_payment.php", &answer);
            answer.push(("pg_sig".into(), sig));
            let xml: String = answer.iter().map(|(k, v)| format!("<{k}>{}</{k}>", v.replace('&', "&amp;"))).collect();
            Response::builder()
                .content_type("text/xml")
                .body(format!("<?xml version=\"1.0\" encoding=\"utf-8\"?><response>{xml}</response>"))
        }
        p if p.starts_with("/api/v3/transaction/") => {
            let ct = req.header("content-type").unwrap_or_default();
            let date = req.header("date").unwrap_or_default();
            let mut mac = Hmac::<Sha512>::new_from_slice(AS_SECRET.as_bytes()).unwrap();
            mac.update(format!("POST\n{}\n{ct}\n{date}\n{p}", hex::encode(Md5::digest(&body))).as_bytes());
            let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
            let basic = base64::engine::general_purpose::STANDARD.encode("as-user:as-pass");
            if req.header("x-signature") != Some(expected.as_str()) || auth != format!("Basic {basic}") {
                seen.note(p, "bad X-Signature or basic auth");
            }
            ok(
                json!({"success": true, "uuid": "u1", "returnType": "REDIRECT", "redirectUrl": "https://allsecure.test/r/u1"}),
            )
        }
        "/v1/oauth2/token" => ok(json!({"access_token": "pp-access", "token_type": "Bearer"})),
        "/v2/checkout/orders" => {
            let v: Value = serde_json::from_slice(&body).unwrap_or_default();
            if auth != "Bearer pp-access" || v["purchase_units"][0]["custom_id"].as_str().is_none() {
                seen.note(&path, "bad auth or no custom_id");
            }
            ok(json!({"id": "PP1", "links": [{"rel": "payer-action", "href": "https://paypal.test/approve/PP1"}]}))
        }
        "/v2/checkout/orders/PP1/capture" => {
            seen.note(&path, "captured");
            Response::builder().status(StatusCode::CREATED).content_type("application/json").body("{}")
        }
        _ => {
            seen.note(&path, "unexpected path");
            Response::builder().status(StatusCode::NOT_FOUND).finish()
        }
    }
}

async fn fake_gateway(seen: Seen) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = poem::listener::TcpAcceptor::from_tokio(listener).unwrap();
    let app = Route::new().at("/*path", fake_api).data(seen);
    tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(app));
    format!("http://{addr}")
}

async fn app_with_gateways(api: &str, dir: &std::path::Path) -> TestApp {
    let pem = dir.join("paypal.pem");
    std::fs::write(&pem, PAYPAL_PUBLIC_KEY).unwrap();
    TestApp::builder()
        .set("stripe_webhook_secret", "whsec_test_start")
        .set("stripe_api_key", "sk_test_123")
        .set("stripe_api_base", api)
        .set("square_signature_key", "sq-sig")
        .set("square_notification_url", "https://shop.test/api/v1/payments/square/callback")
        .set("square_access_token", "sq-token")
        .set("square_location_id", "L1")
        .set("square_api_base", api)
        .set("freedompay_merchant_id", "555")
        .set("freedompay_secret_key", FP_SECRET)
        .set("freedompay_api_base", api)
        .set("allsecure_api_key", "as-key")
        .set("allsecure_shared_secret", AS_SECRET)
        .set("allsecure_username", "as-user")
        .set("allsecure_password", "as-pass")
        .set("allsecure_api_base", api)
        .set("paypal_webhook_id", "WH-1")
        .set("paypal_cert_file", pem.to_str().unwrap())
        .set("paypal_client_id", "pp-client")
        .set("paypal_client_secret", "pp-secret")
        .set("paypal_api_base", api)
        .set("twocheckout_merchant_code", "M123")
        .set("twocheckout_secret_key", "2co-secret")
        .set("dotpay_shop_id", "123456")
        .set("dotpay_pin", "dotpay-pin")
        .start()
        .await
}

fn location(resp: &reqwest::Response) -> String {
    resp.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_gateway_hands_the_customer_over_with_a_signed_request() {
    let seen = Seen::default();
    let api = fake_gateway(seen.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let app = app_with_gateways(&api, dir.path()).await;
    let order_id = app.order(&unique_email()).await;

    let page = app.get(&format!("/pay/{order_id}")).await.text().await.unwrap();
    for gw in ["stripe", "square", "freedompay", "allsecure", "paypal", "twocheckout", "dotpay"] {
        assert!(page.contains(&format!("/pay/{order_id}/{gw}")), "pay page offers {gw}");
    }

    let expect = [
        ("stripe", "https://checkout.stripe.test/c/cs_test_1"),
        ("square", "https://square.test/pay/pl1"),
        ("freedompay", "https://freedompay.test/pay?id=777&x=1"),
        ("allsecure", "https://allsecure.test/r/u1"),
        ("paypal", "https://paypal.test/approve/PP1"),
    ];
    for (gw, url) in expect {
        let resp = app.get(&format!("/pay/{order_id}/{gw}")).await;
        assert_eq!(resp.status(), 303, "{gw}");
        assert_eq!(location(&resp), url, "{gw} redirect");
    }

    // Signed redirects: 2Checkout buy link and Dotpay, checked independently here.
    let resp = app.get(&format!("/pay/{order_id}/twocheckout")).await;
    let link = url::Url::parse(&location(&resp)).unwrap();
    assert!(link.as_str().starts_with("https://secure.2checkout.com/checkout/buy?"));
    let q: Vec<(String, String)> = link.query_pairs().into_owned().collect();
    assert_eq!(get(&q, "order-ext-ref"), order_id);
    let mut signed: Vec<&(String, String)> =
        q.iter().filter(|(k, _)| !matches!(k.as_str(), "signature" | "merchant" | "dynamic")).collect();
    signed.sort_by(|a, b| a.0.cmp(&b.0));
    let mut mac = Hmac::<Sha256>::new_from_slice(b"2co-secret").unwrap();
    for (_, v) in signed {
        mac.update(format!("{}{v}", v.len()).as_bytes());
    }
    assert_eq!(get(&q, "signature"), hex::encode(mac.finalize().into_bytes()));

    let resp = app.get(&format!("/pay/{order_id}/dotpay")).await;
    let link = url::Url::parse(&location(&resp)).unwrap();
    let q: Vec<(String, String)> = link.query_pairs().into_owned().collect();
    assert_eq!(get(&q, "control"), order_id);
    assert_eq!(get(&q, "amount"), "19.90");
    assert!(get(&q, "urlc").ends_with("/api/v1/payments/dotpay/callback"));
    let chk_source: String = std::iter::once("dotpay-pin".to_string())
        .chain(
            [
                "api_version",
                "lang",
                "id",
                "amount",
                "currency",
                "description",
                "control",
                "url",
                "type",
                "urlc",
                "email",
            ]
            .iter()
            .map(|k| get(&q, k).to_string()),
        )
        .collect();
    assert_eq!(get(&q, "chk"), hex::encode(Sha256::digest(chk_source.as_bytes())));

    // PayPal's return captures server-side and shows the status page; the order is unchanged.
    let resp = app.get(&format!("/pay/{order_id}/paypal/return?token=PP1&PayerID=X")).await;
    assert_eq!(resp.status(), 303);
    assert!(location(&resp).ends_with(&format!("/orders/{order_id}/return")));
    assert_eq!(app.order_status(&order_id).await, "pending_payment", "only a callback pays an order");

    let problems: Vec<_> = seen.all().into_iter().filter(|(_, p)| p != "captured").collect();
    assert!(problems.is_empty(), "the fake gateway saw bad requests: {problems:?}");
    assert!(seen.all().iter().any(|(p, what)| p.ends_with("/capture") && what == "captured"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_that_fails_gets_the_customer_a_clear_page_not_a_500() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on this port: every API call fails.
    let closed = format!(
        "http://127.0.0.1:{}",
        std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
    );
    let app = app_with_gateways(&closed, dir.path()).await;
    let order_id = app.order(&unique_email()).await;
    let resp = app.get(&format!("/pay/{order_id}/stripe")).await;
    assert_eq!(resp.status(), 502);
    assert!(resp.text().await.unwrap().contains("did not answer"));
    assert_eq!(app.get(&format!("/pay/{order_id}/nosuchgateway")).await.status(), 404);
    assert_eq!(app.get("/pay/ord_nope/stripe").await.status(), 404);
    app.stop().await;
}
