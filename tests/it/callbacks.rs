//! The gateway callback: only a genuine, matching, fresh, first event provisions.

use futures_util::future::join_all;

use crate::harness::*;
use crate::harness::{db, webhook};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_duplicate_callbacks_provision_once() {
    let app = TestApp::builder().start().await;
    let email = unique_email();
    let order_id = app.order(&email).await;
    let payment_id = random_id("pay");
    let body = app.success_body(&order_id, &payment_id, "authenticated").await;
    let event_id = random_id("evt");
    let ts = app.clock.now();

    let answers = join_all((0..50).map(|_| app.signed_callback(&event_id, ts, &body))).await;
    for resp in answers {
        assert_eq!(resp.status(), 200, "duplicate answered {}", resp.text().await.unwrap());
    }
    app.mail.credentials(&email, 1).await;
    app.wait_for_status(&order_id, "provisioned").await;

    // A replay later, and a second event id for the same payment: acknowledged, no effect.
    assert_eq!(app.signed_callback(&event_id, app.clock.now(), &body).await.status(), 200);
    let again = app.signed_callback(&random_id("evt"), app.clock.now(), &body).await;
    assert_eq!(again.status(), 200);

    app.assert_mail_count(&email, Kind::Credentials, 1).await;
    assert_eq!(app.mail.count(&email, Kind::Confirmation), 1);
    assert_eq!(app.mail.count(&email, Kind::Any), 2);
    assert_eq!(app.order_status(&order_id).await, "provisioned");
    app.assert_provisioned_once(&email, &order_id).await;
    app.assert_no_pending_jobs().await;
    app.stop().await;
}

/// Several instances share one PostgreSQL: duplicates spread over both still
/// provision once, and the two mail workers send each email once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_across_two_instances_provision_once() {
    if db::base_url().is_none() {
        eprintln!("skipped: needs {} (SQLite mode is single-instance)", db::ENV);
        return;
    }
    let a = TestApp::builder().start().await;
    let b = a.second_instance().await;
    let email = unique_email();
    let order_id = a.order(&email).await;
    let body = a.success_body(&order_id, &random_id("pay"), "authenticated").await;
    let event_id = random_id("evt");
    let ts = a.clock.now();
    let calls = (0..50).map(|i| if i % 2 == 0 { &a } else { &b }).map(|app| app.signed_callback(&event_id, ts, &body));
    for resp in join_all(calls).await {
        assert_eq!(resp.status(), 200, "duplicate answered {}", resp.text().await.unwrap());
    }
    // A second event id for the same payment, at the other instance.
    assert_eq!(b.signed_callback(&random_id("evt"), b.clock.now(), &body).await.status(), 200);
    a.mail.credentials(&email, 1).await;
    b.wait_for_status(&order_id, "provisioned").await;
    b.run_pending_jobs().await;
    a.assert_mail_count(&email, Kind::Credentials, 1).await;
    assert_eq!(a.mail.count(&email, Kind::Any), 2);
    b.assert_provisioned_once(&email, &order_id).await;
    b.stop().await;
    a.stop().await;
}

/// A fresh order and a correct success event for it: (email, order, body, event id, ts).
async fn new_case(app: &TestApp) -> (String, String, Vec<u8>, String, i64) {
    let email = unique_email();
    let order = app.order(&email).await;
    let body = app.success_body(&order, &random_id("pay"), "authenticated").await;
    (email, order, body, random_id("evt"), app.clock.now())
}

/// Signature/timestamp defects: each refused with 400 and the named code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callbacks_failing_verification_are_refused_and_provision_nothing() {
    let app = TestApp::builder().start().await;
    let key = app.key(0);
    let (_, other_key) = webhook::new_secret();
    let mut cases: Vec<(&str, String, String)> = vec![]; // (case, email, order)
    let mut expect = |case: &'static str, email: String, order: String| cases.push((case, email, order));

    let headers = |id: &str, ts: i64, sig: String| {
        vec![("webhook-id", id.to_string()), ("webhook-timestamp", ts.to_string()), ("webhook-signature", sig)]
    };
    let json = Some("application/json");

    // Signed with a key we never configured.
    let (email, order, body, id, ts) = new_case(&app).await;
    let resp = app.signed_callback_with(&other_key, &id, ts, &body).await;
    assert_error(resp, 400, "invalid_signature").await;
    expect("forged signature", email, order);

    // Body changed by one byte after signing.
    let (tampered_email, tampered_order, body, tampered_id, ts) = new_case(&app).await;
    let sig = webhook::sign(&key, &tampered_id, ts, &body);
    let mut changed = body.clone();
    let pos = changed.len() - 3;
    changed[pos] ^= 0x01;
    let resp = app.callback_raw(&headers(&tampered_id, ts, sig), json, changed).await;
    assert_error(resp, 400, "invalid_signature").await;
    let original_body = body;

    // Signature header missing, garbled, oversized, or with an unknown version.
    for case in ["missing signature", "garbled signature", "oversized signature", "unknown version"] {
        let (email, order, body, id, ts) = new_case(&app).await;
        let valid = webhook::sign(&key, &id, ts, &body);
        let mut h = headers(&id, ts, valid.clone());
        match case {
            "missing signature" => drop(h.pop()),
            "garbled signature" => h[2].1 = "v1,***not-base64***".into(),
            "oversized signature" => h[2].1 = format!("v1,{}", "A".repeat(4096)),
            _ => h[2].1 = valid.replacen("v1,", "v2,", 1),
        }
        assert_error(app.callback_raw(&h, json, body).await, 400, "invalid_signature").await;
        expect(case, email, order);
    }

    // webhook-id or webhook-timestamp missing: the signature cannot be checked.
    for missing in ["webhook-id", "webhook-timestamp"] {
        let (email, order, body, id, ts) = new_case(&app).await;
        let mut h = headers(&id, ts, webhook::sign(&key, &id, ts, &body));
        h.retain(|(k, _)| *k != missing);
        let v = json_status(app.callback_raw(&h, json, body).await, 400).await;
        assert!(["invalid_signature", "stale_timestamp"].contains(&v["error"].as_str().unwrap()), "{missing}: {v}");
        expect("missing header", email, order);
    }

    // Correctly signed, but 301 s in the past or in the future.
    for (case, offset) in [("stale timestamp", -301), ("future timestamp", 301)] {
        let (email, order, body, id, _) = new_case(&app).await;
        let resp = app.signed_callback(&id, app.clock.now() + offset, &body).await;
        assert_error(resp, 400, "stale_timestamp").await;
        expect(case, email, order);
    }

    // Not JSON content type.
    let (email, order, body, id, ts) = new_case(&app).await;
    let resp = app.callback_raw(&headers(&id, ts, webhook::sign(&key, &id, ts, &body)), Some("text/plain"), body).await;
    assert_error(resp, 415, "unsupported_media_type").await;
    expect("text/plain", email, order);

    app.run_pending_jobs().await;
    for (case, email, order) in &cases {
        assert_eq!(app.order_status(order).await, "pending_payment", "{case}");
        assert_eq!(app.mail.count(email, Kind::Any), 0, "{case} sent email");
    }

    // The untampered event, sent as signed, still goes through: the rejection
    // was about the byte, and it did not burn the event id.
    let resp = app.signed_callback(&tampered_id, app.clock.now(), &original_body).await;
    assert_eq!(resp.status(), 200);
    app.mail.credentials(&tampered_email, 1).await;
    app.wait_for_status(&tampered_order, "provisioned").await;
    app.stop().await;
}

/// Genuine callbacks that must not provision: acknowledged with 200, no effect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unpayable_callbacks_are_acknowledged_but_provision_nothing() {
    let app = TestApp::builder().start().await;
    let demo = app.demo().await;
    let other_currency = if demo.currency == "EUR" { "USD" } else { "EUR" };
    let cases: [(&str, &str, i64, &str, &str); 7] = [
        ("amount too low", "payment.succeeded", demo.price_minor - 1, demo.currency.as_str(), "authenticated"),
        ("amount too high", "payment.succeeded", demo.price_minor + 100, demo.currency.as_str(), "authenticated"),
        ("wrong currency", "payment.succeeded", demo.price_minor, other_currency, "authenticated"),
        ("3DS failed", "payment.succeeded", demo.price_minor, demo.currency.as_str(), "failed"),
        ("3DS not performed", "payment.succeeded", demo.price_minor, demo.currency.as_str(), "not_performed"),
        ("requires action", "payment.requires_action", demo.price_minor, demo.currency.as_str(), "not_performed"),
        ("payment failed", "payment.failed", demo.price_minor, demo.currency.as_str(), "failed"),
    ];
    let mut placed = vec![];
    for (case, kind, amount, currency, three_ds) in cases {
        let email = unique_email();
        let order_id = app.order(&email).await;
        let pay = random_id("pay");
        let event = Event { kind, order_id: &order_id, payment_id: &pay, amount_minor: amount, currency, three_ds };
        let resp = app.signed_callback(&random_id("evt"), app.clock.now(), &event.body()).await;
        assert_eq!(resp.status(), 200, "{case}: {}", resp.text().await.unwrap());
        placed.push((case, email, order_id));
    }
    // A callback naming an order we never had.
    let unknown = "ord_does_not_exist_4f1c2a";
    let body = app.success_body(unknown, &random_id("pay"), "authenticated").await;
    assert_eq!(app.signed_callback(&random_id("evt"), app.clock.now(), &body).await.status(), 200);

    app.run_pending_jobs().await;
    for (case, email, order_id) in placed {
        let status = app.order_status(&order_id).await;
        if case == "payment failed" {
            assert!(["pending_payment", "failed"].contains(&status.as_str()), "{case}: {status}");
        } else {
            assert_eq!(status, "pending_payment", "{case}");
        }
        assert_eq!(app.mail.count(&email, Kind::Any), 0, "{case} sent email");
    }
    assert_error(app.get(&format!("/api/v1/orders/{unknown}")).await, 404, "not_found").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refund_arriving_before_success_blocks_provisioning() {
    let app = TestApp::builder().start().await;
    let demo = app.demo().await;
    let email = unique_email();
    let order_id = app.order(&email).await;
    let pay = random_id("pay");
    let refund = Event {
        kind: "refund.succeeded",
        order_id: &order_id,
        payment_id: &pay,
        amount_minor: demo.price_minor,
        currency: &demo.currency,
        three_ds: "authenticated",
    };
    assert_eq!(app.signed_callback(&random_id("evt"), app.clock.now(), &refund.body()).await.status(), 200);
    let success = app.success_body(&order_id, &pay, "authenticated").await;
    assert_eq!(app.signed_callback(&random_id("evt"), app.clock.now(), &success).await.status(), 200);

    app.run_pending_jobs().await;
    let status = app.order_status(&order_id).await;
    assert!(!["paid", "provisioned"].contains(&status.as_str()), "refunded payment provisioned: {status}");
    assert_eq!(app.mail.count(&email, Kind::Credentials), 0);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callback_signed_with_the_second_of_two_rotated_secrets_is_accepted() {
    let app = TestApp::builder().sandbox_secrets(2).start().await;
    let email = unique_email();
    let order_id = app.order(&email).await;
    let body = app.success_body(&order_id, &random_id("pay"), "authenticated").await;
    let resp = app.signed_callback_with(&app.key(1), &random_id("evt"), app.clock.now(), &body).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    app.mail.credentials(&email, 1).await;
    app.wait_for_status(&order_id, "provisioned").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_performed_3ds_provisions_when_the_policy_accepts_it() {
    let app = TestApp::builder().set("three_ds_not_performed", "accept").start().await;
    let email = unique_email();
    let order_id = app.order(&email).await;
    app.pay_by_callback(&order_id, "not_performed").await;
    app.mail.credentials(&email, 1).await;
    app.wait_for_status(&order_id, "provisioned").await;

    // A failed 3DS is never accepted, whatever the policy.
    let email = unique_email();
    let order_id = app.order(&email).await;
    app.pay_by_callback(&order_id, "failed").await;
    app.assert_mail_count(&email, Kind::Any, 0).await;
    assert_eq!(app.order_status(&order_id).await, "pending_payment");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_sandbox_disabled_sandbox_payments_do_nothing() {
    let app = TestApp::builder().set("sandbox_enabled", "false").start().await;
    let email = unique_email();
    let order_id = app.order(&email).await;
    let card = [("card_number", "4242424242424242"), ("exp", "12/30"), ("cvc", "123")];
    let resp = app.client.post(app.url(&format!("/sandbox/checkout/{order_id}"))).form(&card).send().await.unwrap();
    assert!(resp.status().is_client_error(), "sandbox checkout while disabled: {}", resp.status());
    let body = app.success_body(&order_id, &random_id("pay"), "authenticated").await;
    let resp = app.signed_callback(&random_id("evt"), app.clock.now(), &body).await;
    assert!(resp.status().is_client_error(), "sandbox callback while disabled: {}", resp.status());

    app.assert_mail_count(&email, Kind::Any, 0).await;
    assert_eq!(app.order_status(&order_id).await, "pending_payment");
    app.stop().await;
}
