//! A customer's data on request: support exports everything keyturn holds about them, and
//! erases it — personal data gone, sessions and access ended, accounting records kept.

use serde_json::json;

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn support_exports_then_erases_a_customers_data_and_the_accounting_stays() {
    let app = TestApp::builder().start().await;
    let support = app.admin("support").await;
    let operator = app.admin("operator").await;
    let c = app.active().await;
    let demo = app.demo().await;

    let export = json_status(support.get(&format!("/accounts/{}/export", c.login)).await, 200).await;
    assert_eq!(export["account"]["email"], c.email.as_str());
    assert_eq!(export["orders"][0]["amount_minor"], demo.price_minor);
    assert_eq!(export["payments"][0]["status"], "succeeded");
    assert_eq!(export["services"][0]["slug"], "demo");
    assert!(export["emails"].as_array().unwrap().iter().any(|e| e["kind"] == "credentials"), "{export}");
    let order_id = export["orders"][0]["order_id"].as_str().unwrap().to_string();

    // The customer gets the same from their cabinet.
    let own = c.customer.client.get(app.url("/api/v1/me/export")).send().await.unwrap();
    let own = json_status(own, 200).await;
    assert_eq!(
        (own["account"]["login"].as_str(), own["orders"][0]["order_id"].as_str()),
        (Some(c.login.as_str()), Some(order_id.as_str()))
    );
    assert_eq!(app.get("/api/v1/me/export").await.status(), 401, "only with a session");

    // An unpaid order under the same address, still open at the erasure.
    let unpaid = app.order(&c.email).await;

    // Erasing is destructive: it needs a fresh password proof.
    app.clock.advance(6 * 60);
    let erase = format!("/accounts/{}/erase", c.login);
    assert_error(support.post(&erase, &json!({})).await, 403, "reauthentication_required").await;
    assert_eq!(support.post("/session/reauth", &json!({"password": support.password})).await.status(), 204);
    assert_eq!(support.post(&erase, &json!({})).await.status(), 204);
    assert_error(support.post(&erase, &json!({})).await, 409, "already_erased").await;

    // The customer is gone: session ended, login refused, nothing personal left.
    assert_eq!(c.customer.me().await.status(), 401);
    assert_eq!(app.customer().login(&c.login, &c.password).await.status(), 401);
    let after = json_status(support.get(&format!("/accounts/{}/export", c.login)).await, 200).await;
    let text = after.to_string();
    assert!(!text.contains(&c.email) && !text.contains("Test Customer"), "{text}");
    assert_eq!(after["account"]["status"], "revoked");
    assert_eq!(after["services"], json!([]));
    let found = json_status(operator.get(&format!("/orders?email={}", c.email)).await, 200).await;
    assert_eq!(found["orders"], json!([]), "no order is found by the erased address");
    // The accounting record stays: amount, status, payment.
    let order = json_status(operator.get(&format!("/orders/{order_id}")).await, 200).await;
    assert_eq!(
        (order["amount_minor"].as_i64(), order["customer_name"].as_str()),
        (Some(demo.price_minor), Some("(erased)"))
    );
    assert_eq!(order["payments"][0]["status"], "succeeded");

    // The unpaid order ended with the erasure: paying it later is refused, never provisioned.
    assert_eq!(app.order_status(&unpaid).await, "cancelled");
    app.pay_by_callback(&unpaid, "authenticated").await;
    assert_eq!(app.order_status(&unpaid).await, "cancelled");
    let refused = json_status(operator.get(&format!("/orders/{unpaid}")).await, 200).await;
    assert_eq!(refused["events"][0]["outcome"], "already_paid", "{refused}");

    let owner = app.admin("owner").await;
    let entry = &owner.audit("action=account.erase").await[0];
    assert_eq!(
        (entry["actor"].as_str(), entry["target"].as_str()),
        (Some(support.username.as_str()), Some(c.login.as_str()))
    );
    assert!(!entry.to_string().contains(&c.email), "the audit log keeps no address");
    assert_error(support.get("/accounts/kt-nosuch/export").await, 404, "not_found").await;
    app.stop().await;
}
