//! Refunds and chargebacks: a full refund moves the order to `refunded` and takes back the
//! access it bought; a partial refund, or refunding a duplicate second payment, changes
//! neither.

use serde_json::{json, Value};

use crate::harness::*;

/// An active customer whose demo order was paid by `payment_id`; returns the order id.
pub(crate) async fn paid_customer(app: &TestApp, payment_id: &str) -> (String, Customer) {
    let email = unique_email();
    let order_id = app.order(&email).await;
    let body = app.success_body(&order_id, payment_id, "authenticated").await;
    json_or_empty(app.signed_callback(&random_id("evt"), app.clock.now(), &body).await, 200).await;
    let creds = app.mail.credentials(&email, 1).await;
    json_status(app.verify(&creds.token).await, 200).await;
    let customer = app.customer();
    json_status(customer.login(&creds.login, &creds.password).await, 200).await;
    assert_eq!(customer.change_password(&creds.password, &strong_password()).await.status(), 204);
    app.wait_for_status(&order_id, "provisioned").await;
    (order_id, customer)
}

pub(crate) async fn refund(app: &TestApp, order_id: &str, payment_id: &str, amount_minor: i64) {
    let demo = app.demo().await;
    let body = json!({"type": "refund.succeeded", "data": {"payment_id": payment_id, "order_id": order_id,
        "amount_minor": amount_minor, "currency": demo.currency}});
    let resp = app.signed_callback(&random_id("evt"), app.clock.now(), body.to_string().as_bytes()).await;
    assert_eq!(resp.status(), 200, "refund acknowledged");
}

async fn active_until(customer: &Customer) -> i64 {
    let me: Value = json_status(customer.me().await, 200).await;
    let until = me["services"][0]["active_until"].as_str().expect("a service").to_string();
    chrono::DateTime::parse_from_rfc3339(&until).unwrap().timestamp()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_refund_ends_the_access_it_bought_and_a_partial_one_does_not() {
    let app = TestApp::builder().start().await;
    let demo = app.demo().await;

    let (order_id, customer) = paid_customer(&app, "pay_refund_full").await;
    assert!(active_until(&customer).await > app.clock.now() + 29 * 86_400);
    refund(&app, &order_id, "pay_refund_full", demo.price_minor).await;
    assert_eq!(app.order_status(&order_id).await, "refunded");
    assert!(active_until(&customer).await <= app.clock.now(), "the refunded period is taken back");

    let (order_id, customer) = paid_customer(&app, "pay_refund_partial").await;
    let before = active_until(&customer).await;
    refund(&app, &order_id, "pay_refund_partial", demo.price_minor / 2).await;
    assert_eq!(app.order_status(&order_id).await, "provisioned", "a partial refund keeps the order");
    assert_eq!(active_until(&customer).await, before);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refunding_a_duplicate_second_payment_keeps_the_first() {
    let app = TestApp::builder().start().await;
    let demo = app.demo().await;
    let (order_id, customer) = paid_customer(&app, "pay_first").await;
    // The customer paid twice (a second payment for the already paid order)...
    let second = app.success_body(&order_id, "pay_second", "authenticated").await;
    json_or_empty(app.signed_callback(&random_id("evt"), app.clock.now(), &second).await, 200).await;
    let before = active_until(&customer).await;
    // ...and the merchant refunds the second one.
    refund(&app, &order_id, "pay_second", demo.price_minor).await;
    assert_eq!(app.order_status(&order_id).await, "provisioned");
    assert_eq!(active_until(&customer).await, before, "access paid by the first payment stays");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_refund_ends_access_off_the_order_is_refunded_but_access_stays() {
    let app = TestApp::builder().set("refund_ends_access", "false").start().await;
    let demo = app.demo().await;
    let (order_id, customer) = paid_customer(&app, "pay_keep").await;
    let before = active_until(&customer).await;
    refund(&app, &order_id, "pay_keep", demo.price_minor).await;
    assert_eq!(app.order_status(&order_id).await, "refunded");
    assert_eq!(active_until(&customer).await, before);
    app.stop().await;
}

/// A gateway event that names only the gateway's payment (as refunds and captures often do).
fn payment_only(kind: &str, payment_id: &str, amount_minor: i64, currency: &str) -> Vec<u8> {
    json!({"type": kind, "data": {"payment_id": payment_id, "amount_minor": amount_minor, "currency": currency,
        "three_ds": "authenticated"}})
    .to_string()
    .into_bytes()
}

/// A capture and a full refund of one authorisation, both naming only the gateway's payment and
/// applied at the same moment, end `refunded` whichever commits first: a payment's status never
/// moves back. (The race is PostgreSQL's — SQLite serialises writers — but the test runs on both.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refund_and_a_capture_applied_together_never_end_succeeded() {
    let app = TestApp::builder().start().await;
    let operator = app.admin("operator").await;
    let demo = app.demo().await;
    let mut cases = vec![];
    for _ in 0..16 {
        let order_id = app.order(&unique_email()).await;
        let pay = random_id("pay");
        let auth = json!({"type": "payment.authorized", "data": {"payment_id": pay, "order_id": order_id,
            "amount_minor": demo.price_minor, "currency": demo.currency, "three_ds": "authenticated"}});
        json_or_empty(app.signed_callback(&random_id("evt"), app.clock.now(), auth.to_string().as_bytes()).await, 200)
            .await;
        operator.payment_reaching(&order_id, "authorized").await;
        cases.push((order_id, pay));
    }
    let now = app.clock.now();
    let bodies: Vec<(String, Vec<u8>)> = cases
        .iter()
        .flat_map(|(_, pay)| {
            [
                (random_id("evt"), payment_only("payment.succeeded", pay, demo.price_minor, &demo.currency)),
                (random_id("evt"), payment_only("refund.succeeded", pay, demo.price_minor, &demo.currency)),
            ]
        })
        .collect();
    let calls = bodies.iter().map(|(id, body)| app.signed_callback(id, now, body));
    for resp in futures_util::future::join_all(calls).await {
        assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    }
    for (order_id, _) in &cases {
        let order = json_status(operator.get(&format!("/orders/{order_id}")).await, 200).await;
        assert_eq!(order["payments"][0]["status"], "refunded", "{order}");
        assert_ne!(order["status"], "provisioned", "a refunded order keeps no access: {order}");
    }
    app.stop().await;
}
