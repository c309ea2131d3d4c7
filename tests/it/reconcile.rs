//! Reconciliation: a payment started at a gateway whose callback never arrives is repaired by
//! the sweep asking the gateway's status API — the same transaction, dedupe, amount check and
//! exactly-once provisioning as a callback. A wrong amount provisions nothing; a status API
//! that is down or garbled leaves the order pending until its TTL expires it. Never a crash.

use crate::harness::fake_gateway::{FakeGateway, Mode, API_GATEWAYS};
use crate::harness::*;

/// `reconcile_after_minutes` is 15 by default.
const AFTER_SECS: i64 = 15 * 60;

struct Started {
    gateway: &'static str,
    email: String,
    order_id: String,
}

async fn app_with(fake: &FakeGateway, dir: &std::path::Path) -> TestApp {
    fake.configure(TestApp::builder(), dir).start().await
}

/// One order per API gateway, each handed over to its gateway (a start is recorded); the
/// customers pay there and the callbacks are lost: nothing more happens on our side.
async fn start_at_every_gateway(app: &TestApp) -> Vec<Started> {
    let mut out = vec![];
    for gateway in API_GATEWAYS {
        let email = unique_email();
        let order_id = app.order(&email).await;
        let resp = app.get(&format!("/pay/{order_id}/{gateway}")).await;
        assert_eq!(resp.status(), 303, "{gateway} start");
        out.push(Started { gateway, email, order_id });
    }
    out
}

async fn assert_all(app: &TestApp, orders: &[Started], status: &str) {
    for o in orders {
        assert_eq!(app.order_status(&o.order_id).await, status, "{} order", o.gateway);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_callbacks_are_repaired_by_asking_each_gateway_once() {
    let fake = FakeGateway::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = app_with(&fake, dir.path()).await;
    let orders = start_at_every_gateway(&app).await;

    // Too early: a callback may still come; nobody is asked.
    app.clock.advance(AFTER_SECS - 60);
    app.sweep().await;
    assert!(fake.status_calls().is_empty(), "asked too early: {:?}", fake.status_calls());
    assert_all(&app, &orders, "pending_payment").await;

    app.clock.advance(120);
    app.sweep().await;
    for o in &orders {
        app.mail.wait_for(&o.email, Kind::Credentials, 1, MAIL_TIMEOUT).await;
        app.wait_for_status(&o.order_id, "provisioned").await;
        let events = app.payment_events(&o.order_id).await;
        assert_eq!(events, vec![("succeeded".to_string(), "provisioned".to_string())], "{}", o.gateway);
    }
    let asked: Vec<String> = fake.status_calls().into_iter().map(|(gw, _)| gw).collect();
    assert_eq!(asked.len(), API_GATEWAYS.len(), "one question per gateway: {asked:?}");
    for gw in API_GATEWAYS {
        assert!(asked.iter().any(|a| a == gw), "{gw} was asked");
    }

    // Later sweeps do nothing more: the orders are paid, and one email each is all there is.
    app.clock.advance(AFTER_SECS + 60);
    app.sweep().await;
    app.clock.advance(25 * 3600);
    app.sweep().await;
    assert_eq!(fake.status_calls().len(), API_GATEWAYS.len(), "paid orders are not asked about again");
    // The sweeps ran to their end: anything they queued is in the outbox and is run now.
    app.run_pending_jobs().await;
    app.assert_no_pending_jobs().await;
    for o in &orders {
        assert_eq!(app.mail.count(&o.email, Kind::Credentials), 1, "{}: one credentials email", o.gateway);
        app.assert_provisioned_once(&o.email, &o.order_id).await;
    }
    assert_all(&app, &orders, "provisioned").await;
    assert!(fake.problems().is_empty(), "the fake gateway saw bad requests: {:?}", fake.problems());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_answer_with_the_wrong_amount_provisions_nothing_and_the_order_expires() {
    let fake = FakeGateway::start().await;
    fake.set_mode(Mode::WrongAmount);
    let dir = tempfile::tempdir().unwrap();
    let app = app_with(&fake, dir.path()).await;
    let orders = start_at_every_gateway(&app).await;

    app.clock.advance(AFTER_SECS + 60);
    app.sweep().await;
    assert_eq!(fake.status_calls().len(), API_GATEWAYS.len());
    assert_all(&app, &orders, "pending_payment").await;
    for o in &orders {
        let events = app.payment_events(&o.order_id).await;
        assert_eq!(events, vec![("succeeded".to_string(), "mismatch".to_string())], "{}", o.gateway);
    }

    // Asked again before expiry: the same answer is a duplicate, still nothing; then expired.
    app.clock.advance(24 * 3600);
    app.sweep().await;
    assert_all(&app, &orders, "expired").await;
    app.run_pending_jobs().await;
    for o in &orders {
        assert_eq!(app.payment_events(&o.order_id).await.len(), 1, "{}: recorded once", o.gateway);
        assert_eq!(app.mail.count(&o.email, Kind::Credentials), 0, "{}: no account", o.gateway);
    }
    assert!(fake.problems().is_empty(), "the fake gateway saw bad requests: {:?}", fake.problems());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_api_that_is_down_or_garbled_leaves_orders_pending_until_they_expire() {
    let fake = FakeGateway::start().await;
    fake.set_mode(Mode::Down);
    let dir = tempfile::tempdir().unwrap();
    let app = app_with(&fake, dir.path()).await;
    let orders = start_at_every_gateway(&app).await;
    let n = API_GATEWAYS.len();

    app.clock.advance(AFTER_SECS + 60);
    app.sweep().await;
    assert_eq!(fake.status_calls().len(), n);
    assert_all(&app, &orders, "pending_payment").await;

    // A failed question is asked again on the next sweep.
    fake.set_mode(Mode::Garbage);
    app.clock.advance(60);
    app.sweep().await;
    assert_eq!(fake.status_calls().len(), 2 * n, "retried after a failure");
    assert_all(&app, &orders, "pending_payment").await;

    // Paid, but naming the payment with a space at its end: not believed, asked again.
    fake.set_mode(Mode::PaddedIds);
    app.clock.advance(60);
    app.sweep().await;
    assert_eq!(fake.status_calls().len(), 3 * n, "retried after a malformed answer");
    assert_all(&app, &orders, "pending_payment").await;

    // An unpaid answer is an answer: not asked again until `reconcile_after_minutes` later.
    fake.set_mode(Mode::Unpaid);
    app.clock.advance(60);
    app.sweep().await;
    app.clock.advance(60);
    app.sweep().await;
    assert_eq!(fake.status_calls().len(), 4 * n, "an answered question waits");
    assert_all(&app, &orders, "pending_payment").await;

    // Past the TTL, down again: asked a last time, then expired all the same.
    fake.set_mode(Mode::Down);
    app.clock.advance(24 * 3600);
    app.sweep().await;
    assert_eq!(fake.status_calls().len(), 5 * n, "a last question before expiry");
    assert_all(&app, &orders, "expired").await;
    app.run_pending_jobs().await;
    for o in &orders {
        assert!(app.payment_events(&o.order_id).await.is_empty(), "{}: nothing recorded", o.gateway);
        assert_eq!(app.mail.count(&o.email, Kind::Credentials), 0);
    }
    // The customer's status page says so.
    let page = app.get(&format!("/orders/{}/return", orders[0].order_id)).await.text().await.unwrap();
    assert!(page.contains("expired"));
    assert!(fake.problems().is_empty(), "the fake gateway saw bad requests: {:?}", fake.problems());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sweeps_ask_about_each_payment_once_and_provision_once() {
    let fake = FakeGateway::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = app_with(&fake, dir.path()).await;
    let orders = start_at_every_gateway(&app).await;

    app.clock.advance(AFTER_SECS + 60);
    tokio::join!(app.sweep(), app.sweep(), app.sweep());
    for o in &orders {
        app.mail.wait_for(&o.email, Kind::Credentials, 1, MAIL_TIMEOUT).await;
        app.wait_for_status(&o.order_id, "provisioned").await;
    }
    assert_eq!(fake.status_calls().len(), API_GATEWAYS.len(), "each start claimed by one sweep");
    app.run_pending_jobs().await;
    app.assert_no_pending_jobs().await;
    for o in &orders {
        assert_eq!(app.mail.count(&o.email, Kind::Credentials), 1, "{}", o.gateway);
        app.assert_provisioned_once(&o.email, &o.order_id).await;
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_start_of_an_order_is_asked_about_up_to_a_cap() {
    let fake = FakeGateway::start().await;
    fake.set_mode(Mode::Unpaid);
    let dir = tempfile::tempdir().unwrap();
    let app = app_with(&fake, dir.path()).await;
    let order_id = app.order(&unique_email()).await;
    // Each reload creates a new FreedomPay payment; only the first ten are remembered.
    for _ in 0..12 {
        assert_eq!(app.get(&format!("/pay/{order_id}/freedompay")).await.status(), 303);
    }
    app.clock.advance(AFTER_SECS + 60);
    app.sweep().await;
    let asked: std::collections::BTreeSet<String> = fake.status_calls().into_iter().map(|(_, r)| r).collect();
    assert_eq!(asked.len(), 10, "{asked:?}");
    assert_eq!(app.order_status(&order_id).await, "pending_payment");
    assert!(fake.problems().is_empty(), "the fake gateway saw bad requests: {:?}", fake.problems());
    app.stop().await;
}

/// References of 249 characters (ids derived from them up to 259) are asked about, matched and
/// recorded whole on every backend, and a later sweep does not ask again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_gateway_references_are_reconciled_and_recorded_whole() {
    let fake = FakeGateway::start().await;
    fake.long_references();
    let dir = tempfile::tempdir().unwrap();
    let app = app_with(&fake, dir.path()).await;
    let mut orders = vec![];
    for gateway in ["stripe", "square", "paypal"] {
        let email = unique_email();
        let order_id = app.order(&email).await;
        assert_eq!(app.get(&format!("/pay/{order_id}/{gateway}")).await.status(), 303, "{gateway} start");
        orders.push(Started { gateway, email, order_id });
    }
    app.clock.advance(AFTER_SECS + 60);
    app.sweep().await;
    let asked = fake.status_calls();
    assert_eq!(asked.len(), 3, "{asked:?}");
    let owner = app.admin("owner").await;
    for o in &orders {
        app.mail.wait_for(&o.email, Kind::Credentials, 1, MAIL_TIMEOUT).await;
        app.assert_provisioned_once(&o.email, &o.order_id).await;
        let (_, reference) = asked.iter().find(|(gw, _)| gw == o.gateway).unwrap();
        assert_eq!(reference.len(), 249, "{}", o.gateway);
        let detail = json_status(owner.get(&format!("/orders/{}", o.order_id)).await, 200).await;
        assert_eq!(detail["events"][0]["event_id"], format!("reconcile:{reference}").as_str(), "{detail}");
        let paid_id = detail["payments"][0]["gateway_payment_id"].as_str().unwrap_or_default();
        assert!(paid_id.len() >= 249 && paid_id.ends_with(reference.as_str()), "{}: {paid_id}", o.gateway);
    }
    app.clock.advance(AFTER_SECS + 60);
    app.sweep().await;
    assert_eq!(fake.status_calls().len(), 3, "paid orders are not asked about again");
    assert!(fake.problems().is_empty(), "the fake gateway saw bad requests: {:?}", fake.problems());
    app.stop().await;
}
