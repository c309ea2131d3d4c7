//! What "exactly once" means, read through the admin API (what an admin would check): one
//! account for the address, one access row carrying exactly the order's period, one payment on
//! the order, and one outbox row per email kind.

use serde_json::Value;

use super::{json_status, AdminActor, TestApp};

fn unix(rfc3339: &Value) -> i64 {
    let s = rfc3339.as_str().unwrap_or_else(|| panic!("not a time: {rfc3339}"));
    chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp()
}

impl TestApp {
    /// Asserts that the demo order `order_id`, paid for `email`, was provisioned exactly once.
    pub async fn assert_provisioned_once(&self, email: &str, order_id: &str) {
        let owner = self.admin("owner").await;
        assert_provisioned_once(&owner, self, email, order_id).await;
    }
}

/// [`TestApp::assert_provisioned_once`] with a given owner (e.g. of another instance).
pub async fn assert_provisioned_once(owner: &AdminActor, app: &TestApp, email: &str, order_id: &str) {
    let order = json_status(owner.get(&format!("/orders/{order_id}")).await, 200).await;
    let payments = order["payments"].as_array().unwrap();
    assert_eq!(payments.len(), 1, "one payment on the order: {order}");
    assert_eq!(payments[0]["status"], "succeeded", "{order}");
    assert!(order["account_id"].is_string(), "the order names its account: {order}");

    let found = json_status(owner.get(&format!("/accounts?q={email}&limit=200")).await, 200).await;
    let accounts: Vec<&Value> = found.as_array().unwrap().iter().filter(|a| a["email"] == email).collect();
    assert_eq!(accounts.len(), 1, "one account for {email}: {found}");
    let services = accounts[0]["services"].as_array().unwrap();
    assert_eq!(services.len(), 1, "one access row: {found}");
    let period = app.demo().await.period_days * 86_400;
    assert_eq!(services[0]["slug"], "demo");
    assert_eq!(
        unix(&services[0]["active_until"]) - unix(&order["paid_at"]),
        period,
        "the access runs exactly one period from the payment: {found} {order}"
    );

    let emails = json_status(owner.get("/emails?limit=200").await, 200).await;
    let mine: Vec<&Value> = emails.as_array().unwrap().iter().filter(|e| e["to"] == email).collect();
    for kind in ["credentials", "payment_confirmation"] {
        let n = mine.iter().filter(|e| e["kind"] == kind && e["order_id"] == order_id).count();
        assert_eq!(n, 1, "one {kind} outbox row for the order: {mine:?}");
    }
    let credentials = mine.iter().filter(|e| e["kind"] == "credentials").count();
    assert_eq!(credentials, 1, "one credentials outbox row for the address: {mine:?}");
}
