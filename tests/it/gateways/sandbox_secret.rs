//! The sandbox speaking a gateway's dialect never signs with that gateway's live secret, and
//! the gateway's live callback refuses whatever the sandbox signs.

use super::*;

/// Posts a callback exactly as the sandbox sent it (same headers and body) to `path`.
async fn replay(app: &TestApp, path: &str, seen: &Seen) -> reqwest::Response {
    let mut req = app.client.post(app.url(path)).body(seen.body.clone());
    for (k, v) in &seen.headers {
        req = req.header(k, v);
    }
    req.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_in_stripe_dialect_never_signs_with_the_live_secret() {
    // A live Stripe endpoint secret (and an older one) is configured; the sandbox speaks Stripe.
    let acct = Account::new(Gw::Stripe);
    let live: Vec<String> = acct.settings[0].1.split(',').map(str::to_string).collect();
    let tap = Tap::start().await;
    let app = acct.start(&tap).await;
    let (email, order) = new_order(&app).await;
    app.pay_with_card(&order, "4242424242424242", "").await;
    // The sandbox's own callback took it: the test-card payment provisioned as usual.
    app.mail.wait_for(&email, Kind::Credentials, 1, MAIL_TIMEOUT).await;
    tap.wait_for(1).await;

    let seen: Vec<Seen> = std::mem::take(&mut *tap.seen.lock().unwrap());
    assert!(!seen.is_empty());
    for s in &seen {
        assert_eq!(s.path, Gw::Stripe.sandbox_path());
        let header = s.headers.iter().find(|(k, _)| k == "stripe-signature").map(|(_, v)| v.clone());
        let header = header.expect("a Stripe-Signature header");
        // Not signed with any live secret.
        let t: i64 = header.split(',').find_map(|p| p.strip_prefix("t=")).and_then(|t| t.parse().ok()).unwrap();
        for secret in &live {
            let genuine = stripe::signature_header(secret, t, s.body.as_bytes());
            assert_ne!(header, genuine, "the sandbox signed with the live Stripe secret");
            assert!(!header.contains(genuine.split("v1=").nth(1).unwrap()), "live signature among {header}");
        }
        // The live Stripe route refuses it as it stands.
        assert_error(replay(&app, &Gw::Stripe.path(), s).await, 400, "invalid_signature").await;
    }

    // The other way round: a callback signed with the live secret is no sandbox callback.
    let (_, other) = new_order(&app).await;
    let demo = app.demo().await;
    let call = paid(Gw::Stripe, &acct.secret, &other, demo.price_minor, &demo.currency, app.clock.now());
    let mut req = app.client.post(app.url(&Gw::Stripe.sandbox_path())).header("content-type", call.content_type);
    for (k, v) in &call.headers {
        req = req.header(*k, v);
    }
    assert_error(req.body(call.body.clone()).send().await.unwrap(), 400, "invalid_signature").await;
    assert_eq!(app.order_status(&other).await, "pending_payment");
    // …while the live route still takes it.
    assert_eq!(send(&app, Gw::Stripe, &call).await.status(), 200);
    app.wait_for_status(&other, "provisioned").await;
    app.stop().await;
}

/// Without the sandbox speaking a gateway, its sandbox callback does not exist.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_dialect_callback_exists_only_for_the_spoken_dialect() {
    let acct = Account::new(Gw::Stripe);
    let mut builder = TestApp::builder();
    for (k, v) in &acct.settings {
        builder = builder.set(k, v);
    }
    let app = builder.start().await;
    let body = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#.to_vec();
    let resp = app
        .client
        .post(app.url(&Gw::Stripe.sandbox_path()))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_error(resp, 404, "unknown_gateway").await;
    app.stop().await;
}

/// A sandbox PayPal key that is the key of the live `paypal_cert_file` is refused at start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_paypal_key_shared_with_the_live_certificate_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let (key, cert) = (dir.path().join("key.pem"), dir.path().join("cert.pem"));
    std::fs::write(&key, paypal_key().to_pkcs8_pem(LineEnding::LF).unwrap().as_bytes()).unwrap();
    std::fs::write(&cert, paypal_key().to_public_key().to_public_key_pem(LineEnding::LF).unwrap()).unwrap();
    let pairs = vec![
        ("data_dir", dir.path().to_string_lossy().into_owned()),
        ("listen", "127.0.0.1:0".to_string()),
        ("sandbox_enabled", "true".to_string()),
        ("sandbox_dialect", "paypal".to_string()),
        ("paypal_webhook_id", "WH-1".to_string()),
        ("paypal_cert_file", cert.to_string_lossy().into_owned()),
        ("sandbox_paypal_key_file", key.to_string_lossy().into_owned()),
    ];
    let settings = keyturn::config::Settings::from_pairs(pairs).unwrap();
    let err = match keyturn::app::start(settings, keyturn::clock::Clock::system()).await {
        Ok(_) => panic!("started with the sandbox signing with the live PayPal key"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("sandbox_paypal_key_file") && err.contains("paypal_cert_file"), "{err}");
}
