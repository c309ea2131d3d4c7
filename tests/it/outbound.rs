//! Outbound calls and who the client is (requirements 10, 24, 25): a captcha verifier that
//! hangs costs a bounded wait and fails closed; one with an untrusted certificate is refused
//! at the handshake; X-Forwarded-For counts only from a configured proxy, right-most first.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::*;

use crate::harness::captcha::{GOOD_TOKEN as TOKEN, SECRET, SITEKEY};

fn order(token: &str) -> serde_json::Value {
    json!({"service": "demo", "name": "Out Bound", "email": unique_email(), "captcha_token": token})
}

fn captcha_at(url: &str) -> TestAppBuilder {
    TestApp::builder().set("hcaptcha_secret", SECRET).set("hcaptcha_sitekey", SITEKEY).set("hcaptcha_verify_url", url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_captcha_verifier_times_out_and_fails_closed() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = vec![];
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let app = captcha_at(&format!("http://{addr}/siteverify")).start().await;
    let start = Instant::now();
    let resp = app.post_json("/api/v1/orders", &order(TOKEN)).await;
    let took = start.elapsed();
    assert_error(resp, 503, "captcha_unavailable").await;
    assert!(took < Duration::from_secs(15), "the order waited {took:?} for a hanging verifier");
    app.stop().await;
}

/// An HTTPS server whose certificate nobody trusts; counts hellos and completed handshakes.
fn untrusted_tls_server() -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(ck.key_pair.serialize_der().into());
    let config = Arc::new(
        rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![ck.cert.der().clone()], key)
            .unwrap(),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (hellos, handshakes) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (h, d) = (hellos.clone(), handshakes.clone());
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
            let mut conn = rustls::ServerConnection::new(config.clone()).unwrap();
            let mut tcp = tcp;
            if conn.read_tls(&mut tcp).is_ok_and(|n| n > 0) {
                h.fetch_add(1, Ordering::SeqCst);
            }
            let _ = conn.process_new_packets();
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            let mut buf = [0u8; 1024];
            if tls.read(&mut buf).is_ok_and(|n| n > 0) {
                // Only a client that accepted our certificate gets this far.
                d.fetch_add(1, Ordering::SeqCst);
                let _ = tls.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"success\":true}");
            }
        }
    });
    (format!("https://127.0.0.1:{}/siteverify", addr.port()), hellos, handshakes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_captcha_verifier_with_an_untrusted_certificate_is_refused() {
    let (url, hellos, handshakes) = untrusted_tls_server();
    let app = captcha_at(&url).start().await;
    let resp = app.post_json("/api/v1/orders", &order(TOKEN)).await;
    assert_error(resp, 503, "captcha_unavailable").await;
    assert!(hellos.load(Ordering::SeqCst) >= 1, "the verifier was never contacted over TLS");
    assert_eq!(handshakes.load(Ordering::SeqCst), 0, "a self-signed certificate was accepted");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_addresses_count_only_from_a_trusted_proxy() {
    let app =
        TestApp::builder().set("trusted_proxies", "127.0.0.1").set("rate_limit_orders_per_minute", "2").start().await;
    let post = |xff: &'static str| {
        let body = json!({"service": "demo", "name": "Pro Xy", "email": unique_email()});
        app.client.post(app.url("/api/v1/orders")).header("x-forwarded-for", xff).json(&body).send()
    };
    for _ in 0..2 {
        assert_eq!(post("203.0.113.7").await.unwrap().status(), 201);
    }
    assert_error(post("203.0.113.7").await.unwrap(), 429, "rate_limited").await;
    // A spoofed entry to the left of the proxy's own does not make a new client.
    assert_error(post("198.51.100.1, 203.0.113.7").await.unwrap(), 429, "rate_limited").await;
    // Another client behind the same proxy has its own quota.
    assert_eq!(post("203.0.113.8").await.unwrap().status(), 201);
    // Without the header the proxy itself is the client, with its own quota.
    let body = json!({"service": "demo", "name": "Pro Xy", "email": unique_email()});
    assert_eq!(app.post_json("/api/v1/orders", &body).await.status(), 201);
    app.stop().await;
}
