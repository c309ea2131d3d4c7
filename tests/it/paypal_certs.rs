//! PayPal without a certificate file: each callback's PAYPAL-CERT-URL is fetched — from
//! allowed origins only — cached, and used to verify the RSA signature.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use base64::Engine;
use poem::web::Data;
use poem::{handler, EndpointExt, Route};
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use serde_json::json;

use crate::harness::*;

/// A throwaway key pair for this test only (PKCS#8 private, SPKI public).
const PRIVATE_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCi3rzslQiMNsQn
gU8mBZiF+piFWKilKD7D26PZd2twulvJMW2IXNJ0BN2HIlPxjTz1M6uJFlaXFCSP
QxD959Ewp55w7+lhbPypvZUbCD5qpp9ppuzDUyWjwPX/ChLs8Wa7jazLOdz1PFzh
TUw4eyDZLabBbHN/HNc5GuO4LTD5uD7c7GBINyKiESVVq6+njlJG6k5xJhOoPaU1
YzWBrEFwQ5uVIjo5sbKS7Tvu06UUoVs3lnLCO7DZumc0mV6HWgGi8Ivsc24ImoIi
J1N43t7ZlTWWGvbWQcq0CE0lZhEq/W8zChFgAkja6DPJerP/wQr09RX4IjaZA+Xc
Ja5aWAnpAgMBAAECggEAFmwgyVdZNmiBx8iLG3pwvZ066zzB9v7b6T3vSEyjC4F0
inXWFQxmYteaofSNZvdhWYaUCor7P9Bjmh+LEtGb4J1q+DRnRmTpQfsaMH8JjMhE
sRhshxWG3Iz/sO1znpA7av29uLrOGysExHXOVQZKhuu8heuG2Qyg6rkzeZMrJ23I
KTfh5GDB/xS5V4u/4YGjJWJeAHJsyfiKUMqC6aPhRM9ZrI6FJVa/mdEHNa8bEpDV
+7KGnDbcNnCIMhCVl8zhNGyBmg8q9IQ7jE8u4vzRR7gs0HLNektN1fysYE7a01RF
pAq8+BAqAtoAjF4Uicp+iXQf1+5zIHNq8BrI76/+gwKBgQDg7J9QbWBSJs+psM9v
SkCjWei4FfwPIuatrTsFSLoTo95rrnxO0+R2J27QfDcYPkzWZEK+Bf7RqP612GA7
FOLfUxwLsFNRSP5QBZeGDdwJm8nkCPZuhTNbqHbGgXRYTd9MpP24DcAgp23KxNX7
miiI/stcxISZi/KmBLstblJTrwKBgQC5X0+nrJJlLWvGoKTweLnWu7T0JmfZ3T7l
5wr8eqL2b7IUbIJDMHZmjX7uAJyrqQGNphIrLHhUok4ucS7rZgY8Vf7OGqa3QE6b
Rtwtp/c8G8aQpoifRJ7sFDjc01JJnsOf1EavPfBwcImfC4U21TdY8vsGwk/arl6Z
Ri4NfDCp5wKBgHZMXZpqfH+YxB3mzaMl9Ys0zY6MmY7Id3UfKGymDKApzuDp252G
GqH+KW1j94I7uiQEhYn2E0joTlcMH8jTOmPlDVokeh3Fe2RRHJm4DmPLWUsjX6FP
U2zA1P+gtLWA95ITMRKtwMAr7zX3guga83jiMclv3qH3lj61PFEvtgMnAoGAAt+v
ZHIQcvEZUqL6659zghi23XIa+g2sA/Ro/zEHhbqFkDt+aXw+2agn55iq1R5xn7iL
X4/47Zb2j1HB4HRcdGMA6EERhJXCojWfBDYuZwgnM+bhB1cQ/6fwmbvM8sc7UScB
UYYsTBHykDylfAwiJ4bczWYFxuYdIVMtM5hRSNECgYEAy6EBtsfhiWHIO/But/lY
xtn+o0Dp3a6lhc4pC8xg7nDLO6IgcjkM+YOiKQVA5KTKJfMA7wY/pBCDsBYwiQps
VFOZG/AuVeluH4aG6j7+zcRuXwfaPhBChyFQIu5P5VeQzVSKYivJhSadchbnx1w8
rPtWBl+yvu7pAQW7YQbd5lg=
-----END PRIVATE KEY-----
";
const PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAot687JUIjDbEJ4FPJgWY
hfqYhViopSg+w9uj2XdrcLpbyTFtiFzSdATdhyJT8Y089TOriRZWlxQkj0MQ/efR
MKeecO/pYWz8qb2VGwg+aqafaabsw1Mlo8D1/woS7PFmu42syznc9Txc4U1MOHsg
2S2mwWxzfxzXORrjuC0w+bg+3OxgSDciohElVauvp45SRupOcSYTqD2lNWM1gaxB
cEOblSI6ObGyku077tOlFKFbN5Zywjuw2bpnNJleh1oBovCL7HNuCJqCIidTeN7e
2ZU1lhr21kHKtAhNJWYRKv1vMwoRYAJI2ugzyXqz/8EK9PUV+CI2mQPl3CWuWlgJ
6QIDAQAB
-----END PUBLIC KEY-----
";

#[handler]
fn serve_cert(hits: Data<&Arc<AtomicUsize>>) -> &'static str {
    hits.fetch_add(1, Ordering::SeqCst);
    PUBLIC_KEY
}

/// A certificate origin answering with `handler`, which counts its requests.
async fn origin_with<H: poem::Endpoint + 'static>(handler: H) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = poem::listener::TcpAcceptor::from_tokio(listener).unwrap();
    let app = Route::new().at("/v1/notifications/certs/:id", handler).data(hits.clone());
    tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(app));
    (format!("http://{addr}"), hits)
}

async fn cert_server() -> (String, Arc<AtomicUsize>) {
    origin_with(serve_cert).await
}

fn sign(message: &str) -> String {
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(PRIVATE_KEY).unwrap();
    let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key);
    base64::engine::general_purpose::STANDARD.encode(signer.sign(message.as_bytes()).to_bytes())
}

async fn paypal_callback(
    app: &TestApp,
    body: &str,
    cert_url: &str,
    transmission: &str,
    forge: bool,
) -> reqwest::Response {
    let time = chrono::DateTime::from_timestamp(app.clock.now(), 0).unwrap().to_rfc3339();
    let message = format!("{transmission}|{time}|WH-FETCH|{}", crc32fast::hash(body.as_bytes()));
    let signature = if forge { sign(&format!("{message}x")) } else { sign(&message) };
    app.client
        .post(app.url("/api/v1/payments/paypal/callback"))
        .header("content-type", "application/json")
        .header("paypal-transmission-id", transmission)
        .header("paypal-transmission-time", time)
        .header("paypal-transmission-sig", signature)
        .header("paypal-auth-algo", "SHA256withRSA")
        .header("paypal-cert-url", cert_url)
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paypal_certificates_are_fetched_from_allowed_origins_only_and_cached() {
    let (origin, hits) = cert_server().await;
    let (other_origin, other_hits) = cert_server().await;
    let app = TestApp::builder().set("paypal_webhook_id", "WH-FETCH").set("paypal_cert_origins", &origin).start().await;
    let email = unique_email();
    let order_id = app.order(&email).await;
    let body = json!({"id": "WH-EVT-1", "event_type": "PAYMENT.CAPTURE.COMPLETED",
        "resource": {"id": "CAP-1", "status": "COMPLETED", "custom_id": order_id,
                     "amount": {"value": "19.90", "currency_code": "EUR"}}})
    .to_string();
    let cert_url = format!("{origin}/v1/notifications/certs/CERT-1");

    // A certificate URL on any other origin is never fetched.
    let evil = format!("{other_origin}/v1/notifications/certs/CERT-1");
    assert_eq!(paypal_callback(&app, &body, &evil, "T-0", false).await.status(), 400);
    assert_eq!(other_hits.load(Ordering::SeqCst), 0, "a disallowed origin was contacted");

    // A forged signature fails even with the genuine certificate.
    assert_eq!(paypal_callback(&app, &body, &cert_url, "T-1", true).await.status(), 400);

    // Genuine: verified with the fetched certificate, provisioned once; the certificate is cached.
    assert_eq!(paypal_callback(&app, &body, &cert_url, "T-2", false).await.status(), 200);
    assert_eq!(paypal_callback(&app, &body, &cert_url, "T-3", false).await.status(), 200, "duplicate acknowledged");
    app.mail.wait_for(&email, Kind::Credentials, 1, MAIL_TIMEOUT).await;
    app.assert_mail_count(&email, Kind::Credentials, 1).await;
    assert_eq!(hits.load(Ordering::SeqCst), 1, "the certificate is fetched once, then cached");
    app.stop().await;
}

/// A certificate origin that answers 404 to everything, counting requests.
async fn missing_cert_server() -> (String, Arc<AtomicUsize>) {
    #[handler]
    fn missing(hits: Data<&Arc<AtomicUsize>>) -> poem::http::StatusCode {
        hits.fetch_add(1, Ordering::SeqCst);
        poem::http::StatusCode::NOT_FOUND
    }
    origin_with(missing).await
}

/// A certificate origin that accepts connections and never answers, counting connections.
async fn hanging_cert_server() -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let counter = hits.clone();
    tokio::spawn(async move {
        let mut held = vec![];
        while let Ok((s, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            held.push(s);
        }
    });
    (format!("http://{addr}"), hits)
}

fn forged_body() -> String {
    json!({"id": "WH-FORGED", "event_type": "PAYMENT.CAPTURE.COMPLETED", "resource": {"id": "CAP-F"}}).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_callbacks_cannot_drive_unbounded_certificate_fetches() {
    let (origin, hits) = missing_cert_server().await;
    let app = TestApp::builder().set("paypal_webhook_id", "WH-FETCH").set("paypal_cert_origins", &origin).start().await;
    let body = forged_body();
    let budget = keyturn::payments::gateways::paypal::certs::FETCHES_PER_MINUTE as usize;
    let mut answers = vec![];
    for i in 0..budget + 5 {
        // Each forged callback names a fresh certificate path.
        let url = format!("{origin}/v1/notifications/certs/FRESH-{i}");
        let resp = paypal_callback(&app, &body, &url, &format!("T-{i}"), true).await;
        let retry = resp.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
        let status = resp.status().as_u16();
        let v: serde_json::Value = resp.json().await.unwrap();
        answers.push((status, v["error"].as_str().unwrap_or("").to_string(), retry));
    }
    assert_eq!(hits.load(Ordering::SeqCst), budget, "outbound fetches beyond the budget");
    for (status, code, _) in &answers[..budget] {
        assert_eq!((*status, code.as_str()), (400, "invalid_signature"));
    }
    for (status, code, retry) in &answers[budget..] {
        assert_eq!((*status, code.as_str()), (429, "rate_limited"));
        assert!(retry.is_some(), "429 without Retry-After");
    }
    // A URL that failed is not fetched again for a while.
    let failed = format!("{origin}/v1/notifications/certs/FRESH-0");
    assert_eq!(paypal_callback(&app, &body, &failed, "T-again", true).await.status(), 400);
    assert_eq!(hits.load(Ordering::SeqCst), budget, "a remembered failure was fetched again");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_certificate_url_costs_one_short_fetch() {
    let (origin, connections) = hanging_cert_server().await;
    let app = TestApp::builder().set("paypal_webhook_id", "WH-FETCH").set("paypal_cert_origins", &origin).start().await;
    let body = forged_body();
    let url = format!("{origin}/v1/notifications/certs/SLOW");
    let start = std::time::Instant::now();
    // Five callbacks naming the same URL at once share one fetch.
    let ids: Vec<String> = (0..5).map(|i| format!("S-{i}")).collect();
    let answers =
        futures_util::future::join_all(ids.iter().map(|id| paypal_callback(&app, &body, &url, id, true))).await;
    let took = start.elapsed();
    for resp in answers {
        assert_eq!(resp.status(), 400);
    }
    let limit = keyturn::payments::gateways::paypal::certs::FETCH_TIMEOUT + std::time::Duration::from_secs(3);
    assert!(took < limit, "the callbacks waited {took:?} for a hanging certificate URL");
    assert_eq!(connections.load(Ordering::SeqCst), 1, "one fetch per URL at a time");
    // The failure is remembered: answered at once, nothing fetched.
    let start = std::time::Instant::now();
    assert_eq!(paypal_callback(&app, &body, &url, "S-9", true).await.status(), 400);
    assert!(start.elapsed() < std::time::Duration::from_secs(2));
    assert_eq!(connections.load(Ordering::SeqCst), 1);
    app.stop().await;
}
