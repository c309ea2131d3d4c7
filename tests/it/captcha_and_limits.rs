//! hCaptcha on order intake and resend (fail closed), and per-IP rate limits.

use serde_json::{json, Value};

use crate::harness::captcha::{GOOD_TOKEN, SECRET, SITEKEY};
use crate::harness::*;

fn order_with(email: &str, token: Option<&str>) -> Value {
    let mut body = json!({"service": "demo", "name": "Captcha Tester", "email": email});
    if let Some(t) = token {
        body["captcha_token"] = json!(t);
    }
    body
}

async fn place(app: &TestApp, email: &str, token: Option<&str>) -> reqwest::Response {
    app.post_json("/api/v1/orders", &order_with(email, token)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_need_a_valid_unused_captcha() {
    let app = TestApp::builder().captcha().start().await;
    let email = unique_email();

    assert_error(place(&app, &email, None).await, 400, "captcha_required").await;
    assert_error(place(&app, &email, Some("")).await, 400, "captcha_required").await;
    assert_error(place(&app, &email, Some("20000000-aaaa-bbbb-cccc-000000000002")).await, 403, "captcha_failed").await;
    let order = json_status(place(&app, &email, Some(GOOD_TOKEN)).await, 201).await;
    assert_eq!(order["status"], "pending_payment");
    // The same solved captcha cannot be used twice.
    assert_error(place(&app, &email, Some(GOOD_TOKEN)).await, 403, "captcha_failed").await;

    // The check ran server-side with our secret and site key.
    let seen = app.captcha.as_ref().unwrap().requests();
    let good: Vec<_> = seen.iter().filter(|r| r.get("response").map(String::as_str) == Some(GOOD_TOKEN)).collect();
    assert_eq!(good.len(), 2, "{seen:?}");
    assert!(good.iter().all(|r| r.get("secret").map(String::as_str) == Some(SECRET)), "{seen:?}");
    assert!(good.iter().all(|r| r.get("sitekey").is_none_or(|s| s == SITEKEY)), "{seen:?}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn site_builder_form_passes_its_captcha_field() {
    let app = TestApp::builder().captcha().start().await;
    let email = unique_email();
    let missing = [("service", "demo"), ("name", "Form Tester"), ("email", email.as_str())];
    let resp = app.client.post(app.url("/forms/order")).form(&missing).send().await.unwrap();
    assert_eq!(resp.status(), 400, "form without captcha");

    let mut with = missing.to_vec();
    with.push(("h-captcha-response", GOOD_TOKEN));
    let resp = app.client.post(app.url("/forms/order")).form(&with).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    let loc = resp.headers()["location"].to_str().unwrap();
    assert!(loc.starts_with(&format!("{}/pay/", app.public_url)), "{loc}");

    let resp = app.client.post(app.url("/forms/order")).form(&with).send().await.unwrap();
    assert_eq!(resp.status(), 403, "replayed captcha on the form");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_captcha_verifier_fails_closed() {
    let app = TestApp::builder().captcha_down().start().await;
    let resp = app.post_json("/api/v1/orders", &order_with(&unique_email(), Some(GOOD_TOKEN))).await;
    assert_error(resp, 503, "captcha_unavailable").await;
    let resend = json!({"email": unique_email(), "captcha_token": GOOD_TOKEN});
    assert_error(app.post_json("/api/v1/verify-email/resend", &resend).await, 503, "captcha_unavailable").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resend_needs_a_captcha_when_configured() {
    let app = TestApp::builder().captcha().start().await;
    let email = unique_email();
    assert_error(app.resend(&email).await, 400, "captcha_required").await;
    let bad = json!({"email": email, "captcha_token": "20000000-aaaa-bbbb-cccc-000000000002"});
    assert_error(app.post_json("/api/v1/verify-email/resend", &bad).await, 403, "captcha_failed").await;
    let good = json!({"email": email, "captcha_token": GOOD_TOKEN});
    assert_eq!(app.post_json("/api/v1/verify-email/resend", &good).await.status(), 202);
    app.stop().await;
}

async fn assert_rate_limited(resp: reqwest::Response, what: &str) {
    let retry = resp.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    let v = json_status(resp, 429).await;
    assert_eq!(v["error"], "rate_limited", "{what}: {v}");
    let secs: u64 =
        retry.unwrap_or_else(|| panic!("{what}: 429 without Retry-After")).parse().expect("Retry-After seconds");
    assert!((1..=60).contains(&secs), "{what}: Retry-After {secs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn floods_from_one_ip_are_rate_limited() {
    let app = TestApp::builder()
        .set("rate_limit_orders_per_minute", "3")
        .set("rate_limit_login_per_minute", "4")
        .set("rate_limit_resend_per_minute", "2")
        .start()
        .await;
    let mut orders = vec![];
    for _ in 0..8 {
        orders.push(app.post_json("/api/v1/orders", &order_with(&unique_email(), None)).await);
    }
    for (i, resp) in orders.into_iter().enumerate() {
        if i < 3 {
            assert_eq!(resp.status(), 201, "order #{i}");
        } else {
            assert_rate_limited(resp, &format!("order #{i}")).await;
        }
    }

    let c = app.customer();
    for _ in 0..4 {
        assert_error(c.login("kt-nobody", "Wrong-password-1").await, 401, "invalid_credentials").await;
    }
    assert_rate_limited(c.login("kt-nobody", "Wrong-password-1").await, "login").await;

    for _ in 0..2 {
        assert_eq!(app.resend(&unique_email()).await.status(), 202);
    }
    assert_rate_limited(app.resend(&unique_email()).await, "resend").await;

    // A spoofed X-Forwarded-For from an untrusted peer does not buy a new quota.
    let body = order_with(&unique_email(), None);
    let resp = app
        .client
        .post(app.url("/api/v1/orders"))
        .header("x-forwarded-for", "203.0.113.7")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_rate_limited(resp, "order with spoofed X-Forwarded-For").await;
    app.stop().await;
}
