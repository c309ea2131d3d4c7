//! A payment for an address whose account cannot use what it buys (revoked, erased or
//! suspended) is never provisioned: the order and the payment are recorded, the order shows
//! why it is held, no "access extended" email goes out, and an admin can refund it.

use serde_json::{json, Value};

use crate::harness::sandbox::path_of;
use crate::harness::*;

/// The customer's account as support sees it (exactly one for the address).
async fn account_of(admin: &AdminActor, email: &str) -> Value {
    let found = json_status(admin.get(&format!("/accounts?q={email}")).await, 200).await;
    let list = found.as_array().unwrap();
    assert_eq!(list.len(), 1, "one account for {email}: {found}");
    list[0].clone()
}

/// The order as admins see it once its payment was applied.
async fn held_order(admin: &AdminActor, order_id: &str) -> Value {
    admin.payment_reaching(order_id, "succeeded").await;
    json_status(admin.get(&format!("/orders/{order_id}")).await, 200).await
}

/// Emails queued for `order_id` (any kind).
async fn emails_for(admin: &AdminActor, order_id: &str) -> Vec<Value> {
    let all = json_status(admin.get("/emails?limit=200").await, 200).await;
    all.as_array().unwrap().iter().filter(|e| e["order_id"] == order_id).cloned().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_for_a_revoked_account_is_held_never_provisioned_and_can_be_refunded() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    let c = app.active().await;
    let before = account_of(&owner, &c.email).await["services"].clone();
    assert_eq!(owner.post(&format!("/accounts/{}/revoke", c.login), &json!({})).await.status(), 204);

    // The revoked customer orders and pays again (on the sandbox's card page).
    let order_id = app.order(&c.email).await;
    app.pay_with_card(&order_id, "4242424242424242", "").await;
    let order = held_order(&owner, &order_id).await;
    assert_eq!(order["hold_reason"], "account_revoked", "{order}");
    assert_eq!(order["status"], "paid", "{order}");
    assert_eq!(order["account_id"], Value::Null, "the order is given to no account: {order}");
    assert_eq!(order["payments"].as_array().unwrap().len(), 1, "{order}");
    assert_eq!(order["events"][0]["outcome"], "held_account", "{order}");
    assert_eq!(app.order_status(&order_id).await, "paid");
    // The admin list shows the reason too.
    let listed = json_status(owner.get(&format!("/orders?email={}", c.email)).await, 200).await;
    let row = listed["orders"].as_array().unwrap().iter().find(|o| o["order_id"] == order_id.as_str()).unwrap();
    assert_eq!(row["hold_reason"], "account_revoked");
    // Nothing was granted or sent.
    assert_eq!(account_of(&owner, &c.email).await["services"], before, "access unchanged");
    assert_eq!(emails_for(&owner, &order_id).await, Vec::<Value>::new(), "no email for a held order");
    app.assert_mail_count(&c.email, Kind::Confirmation, 1).await;

    // The admin gives the money back with the usual refund.
    let pay_id = order["payments"][0]["payment_id"].as_str().unwrap().to_string();
    let done = json_status(owner.operate(&pay_id, "refund", json!({}), None).await, 200).await;
    assert_eq!(done["payment_status"], "refunded");
    assert_eq!(app.order_status(&order_id).await, "refunded");
    let order = json_status(owner.get(&format!("/orders/{order_id}")).await, 200).await;
    assert_eq!(order["hold_reason"], "account_revoked", "the reason stays on record");
    assert_eq!(account_of(&owner, &c.email).await["services"], before, "nothing taken back that was not given");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_payment_for_an_order_of_an_erased_customer_is_held() {
    let app = TestApp::builder().start().await;
    let c = app.active().await;
    // An order under the address expires unpaid, then the customer's data is erased.
    let late = app.order(&c.email).await;
    app.clock.advance(25 * 3600);
    app.sweep().await;
    assert_eq!(app.order_status(&late).await, "expired");
    let owner = app.admin("owner").await;
    assert_eq!(owner.post(&format!("/accounts/{}/erase", c.login), &json!({})).await.status(), 204);

    // The gateway confirms the expired order's payment after all: held, not given to the erased account.
    app.pay_by_callback(&late, "authenticated").await;
    let order = held_order(&owner, &late).await;
    assert_eq!((order["status"].as_str(), order["hold_reason"].as_str()), (Some("paid"), Some("account_revoked")));
    assert_eq!(emails_for(&owner, &late).await, Vec::<Value>::new());

    // The same address may start afresh: a new order makes a new account.
    let order_id = app.order(&c.email).await;
    app.pay_by_callback(&order_id, "authenticated").await;
    let creds = app.mail.credentials(&c.email, 2).await;
    assert_ne!(creds.login, c.login);
    app.wait_for_status(&order_id, "provisioned").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_for_a_suspended_account_is_held_until_an_admin_decides() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    let c = app.active().await;
    let before = account_of(&owner, &c.email).await["services"].clone();
    assert_eq!(owner.post(&format!("/accounts/{}/suspend", c.login), &json!({})).await.status(), 204);

    let order_id = app.order(&c.email).await;
    app.pay_by_callback(&order_id, "authenticated").await;
    let order = held_order(&owner, &order_id).await;
    assert_eq!((order["status"].as_str(), order["hold_reason"].as_str()), (Some("paid"), Some("account_suspended")));
    assert_eq!(account_of(&owner, &c.email).await["services"], before, "access unchanged while suspended");
    assert_eq!(emails_for(&owner, &order_id).await, Vec::<Value>::new());
    // The customer's status page does not promise what was not done.
    let page = app.get(&format!("/orders/{order_id}/return")).await.text().await.unwrap();
    assert!(page.contains("being reviewed") && !page.contains("We are sending your login"), "{page}");
    app.stop().await;
}

/// Whoever pays an order may not own its address: the pages of a held order (status page and
/// invoice link) say the payment is being reviewed, never what is wrong with the account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_of_a_held_order_do_not_tell_the_account_state() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    let c = app.active().await;
    assert_eq!(owner.post(&format!("/accounts/{}/suspend", c.login), &json!({})).await.status(), 204);
    let body = json!({"name": "Grace Hopper", "email": c.email, "service": "demo"});
    let created = json_status(owner.post("/invoices", &body).await, 201).await;
    let order_id = created["order_id"].as_str().unwrap().to_string();
    let link = path_of(created["link"].as_str().unwrap());
    app.pay_by_callback(&order_id, "authenticated").await;
    let order = held_order(&owner, &order_id).await;
    assert_eq!(order["hold_reason"], "account_suspended", "{order}");
    for path in [format!("/orders/{order_id}/return"), link] {
        let resp = app.get(&path).await;
        assert_eq!(resp.status(), 200, "{path}");
        let page = resp.text().await.unwrap();
        assert!(page.contains("being reviewed by the shop"), "{path}: {page}");
        for told in ["suspended", "revoked", "cannot be given access", "confirmation went to", "/cabinet"] {
            assert!(!page.to_lowercase().contains(told), "{path} tells {told:?}: {page}");
        }
    }
    app.stop().await;
}
