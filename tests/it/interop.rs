//! keyturn against the gateways' own libraries (pinned in tests/interop): Stripe's Node
//! library signs webhooks (a payment, a subscription's invoice) that our Stripe adapter must accept; the Standard Webhooks
//! reference library (PyPI) signs a sandbox callback; Square's own WebhooksHelper must accept
//! what our sandbox signs in Square's dialect. `.ci/run` installs them and sets KEYTURN_INTEROP=1, which
//! turns a missing library into a failure; a plain `cargo test` without them skips and says so.

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use serde_json::json;

use crate::harness::*;

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

/// Runs a helper script; `None` when the libraries are not installed (skip unless required).
fn run(program: &str, args: &[&str]) -> Option<String> {
    let ready = interop_dir().join("node_modules/stripe").exists()
        && Command::new("python3").args(["-c", "import standardwebhooks"]).status().is_ok_and(|s| s.success());
    if !ready {
        assert!(
            std::env::var("KEYTURN_INTEROP").is_err(),
            "KEYTURN_INTEROP is set but tests/interop is not installed (npm ci; pip install -r requirements.txt)"
        );
        eprintln!("interop test skipped: run `npm ci` and `pip install -r requirements.txt` in tests/interop");
        return None;
    }
    let out = Command::new(program).args(args).current_dir(interop_dir()).output().expect("run interop helper");
    assert!(out.status.success(), "{program} {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    Some(String::from_utf8(out.stdout).expect("utf-8"))
}

fn write_temp(dir: &Path, name: &str, body: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path.to_string_lossy().into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_s_own_library_signs_a_webhook_that_provisions() {
    let app = TestApp::builder().set("stripe_webhook_secret", "whsec_interop_test_secret").start().await;
    let email = unique_email();
    let order_id = app.order(&email).await;
    let payload = json!({
        "id": format!("evt_{}", hex::encode(rand::random::<[u8; 8]>())),
        "object": "event",
        "type": "payment_intent.succeeded",
        "data": {"object": {"id": "pi_interop", "object": "payment_intent", "status": "succeeded",
                 "amount": 1990, "currency": "eur", "metadata": {"order_id": order_id}}}
    })
    .to_string();
    let dir = tempfile::tempdir().unwrap();
    let file = write_temp(dir.path(), "payload.json", payload.as_bytes());
    let now = app.clock.now().to_string();
    let Some(header) = run("node", &["stripe_sign.js", "whsec_interop_test_secret", &now, &file]) else { return };
    let send = |header: String, body: String| {
        app.client
            .post(app.url("/api/v1/payments/stripe/callback"))
            .header("content-type", "application/json")
            .header("stripe-signature", header)
            .body(body)
            .send()
    };
    assert_eq!(send(header.clone(), payload.replace("1990", "1991")).await.unwrap().status(), 400, "tampered body");
    assert_eq!(send(header, payload).await.unwrap().status(), 200);
    app.mail.wait_for(&email, Kind::Credentials, 1, MAIL_TIMEOUT).await;
    app.stop().await;
}

/// A subscription's first invoice (`invoice.paid`, the subscription and our order id under
/// `parent.subscription_details` as API versions since 2025-03-31.basil send them), signed by
/// Stripe's library, pays the order like any payment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_s_own_library_signs_a_subscription_invoice_that_provisions() {
    let app = TestApp::builder().set("stripe_webhook_secret", "whsec_interop_test_secret").start().await;
    let email = unique_email();
    let order_id = app.order(&email).await;
    let demo = app.demo().await;
    let payload = json!({
        "id": format!("evt_{}", hex::encode(rand::random::<[u8; 8]>())),
        "object": "event",
        "api_version": "2025-03-31.basil",
        "type": "invoice.paid",
        "data": {"object": {"id": "in_interop", "object": "invoice", "billing_reason": "subscription_create",
                 "status": "paid", "amount_paid": demo.price_minor, "currency": demo.currency.to_lowercase(),
                 "parent": {"type": "subscription_details", "subscription_details":
                     {"subscription": "sub_interop", "metadata": {"order_id": order_id}}}}}
    })
    .to_string();
    let dir = tempfile::tempdir().unwrap();
    let file = write_temp(dir.path(), "invoice.json", payload.as_bytes());
    let now = app.clock.now().to_string();
    let Some(header) = run("node", &["stripe_sign.js", "whsec_interop_test_secret", &now, &file]) else { return };
    let resp = app
        .client
        .post(app.url("/api/v1/payments/stripe/callback"))
        .header("content-type", "application/json")
        .header("stripe-signature", header)
        .body(payload)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    app.mail.wait_for(&email, Kind::Credentials, 1, MAIL_TIMEOUT).await;
    app.wait_for_status(&order_id, "provisioned").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standard_webhooks_reference_library_signs_a_sandbox_callback() {
    let secret = format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 32]>()));
    let app = TestApp::builder().set("sandbox_secret", &secret).start().await;
    let email = unique_email();
    let order_id = app.order(&email).await;
    let body = app.success_body(&order_id, "sbp_interop", "authenticated").await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_temp(dir.path(), "body.json", &body);
    let ts = app.clock.now().to_string();
    let Some(signature) = run("python3", &["sw_sign.py", &secret, "msg_interop_1", &ts, &file]) else { return };
    let headers =
        [("webhook-id", "msg_interop_1".to_string()), ("webhook-timestamp", ts), ("webhook-signature", signature)];
    let resp = app.callback_raw(&headers, Some("application/json"), body).await;
    assert_eq!(resp.status(), 200);
    app.mail.wait_for(&email, Kind::Credentials, 1, MAIL_TIMEOUT).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn square_s_own_helper_accepts_what_the_sandbox_signs() {
    use keyturn::payments::gateways::{square::dialect::SquareVoice, GatewayId};
    use keyturn::sandbox::dialects::{Event, Voice};
    let key = "sq-interop-signature-key";
    let url = "https://shop.example/api/v1/payments/square/callback";
    // The sandbox speaking Square: exactly the callback it would deliver.
    let voice = Voice::new(GatewayId::Square, Box::new(SquareVoice { key: key.into(), notification_url: url.into() }));
    let payment = keyturn::sandbox::model::SandboxPayment {
        id: "sbp_interop".into(),
        order_id: "ord_interop".into(),
        amount_minor: 1990,
        currency: "EUR".into(),
        card_last4: "4242".into(),
        status: keyturn::payments::model::PaymentStatus::Succeeded,
        three_ds: Some("authenticated".into()),
        created_at: 0,
        refunded_minor: 0,
    };
    let event = Event { kind: "payment.succeeded", payment: &payment, three_ds: Some("authenticated") };
    let now = chrono::Utc::now().timestamp();
    let callback = voice.render(&event, "/api/v1/payments/square/callback", now).expect("square renders a success");
    let signature = voice
        .headers(&callback, now)
        .into_iter()
        .find(|(k, _)| *k == "x-square-hmacsha256-signature")
        .map(|(_, v)| v)
        .expect("signed");
    let dir = tempfile::tempdir().unwrap();
    let file = write_temp(dir.path(), "body.json", &callback.body);
    let Some(ok) = run("node", &["square_verify.js", key, url, &signature, &file]) else { return };
    assert_eq!(ok, "true", "Square's helper rejects what the sandbox signs");
    let mut tampered_body = callback.body.clone();
    let last = tampered_body.len() - 2;
    tampered_body[last] ^= 1;
    let tampered = write_temp(dir.path(), "tampered.json", &tampered_body);
    assert_eq!(run("node", &["square_verify.js", key, url, &signature, &tampered]).unwrap(), "false");
}
