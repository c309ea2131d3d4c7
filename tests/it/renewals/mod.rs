//! Renewing (issue 11, DESIGN §7): the renewal link (GET shows, POST makes one order for the
//! same account), paying it extends the same login from `max(now, active_until)` once, the
//! cabinet's states and Renew button (API and headless Chromium), the reminders switch, and the
//! admin list of accesses by state.

mod admin;
mod browser;
mod cabinet;
mod link;

use reqwest::Response;
use serde_json::{json, Value};

use crate::harness::*;

const DAY: i64 = 86_400;

fn unix(rfc3339: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339.as_str().expect("a time")).expect("RFC 3339").timestamp()
}

/// The customer's access to `slug` as `GET /api/v1/me` shows it.
async fn access(customer: &Customer, slug: &str) -> Value {
    let me = json_status(customer.me().await, 200).await;
    me["services"].as_array().unwrap().iter().find(|s| s["slug"] == slug).cloned().expect("the service in /me")
}

/// When the customer's access to `slug` runs until, as the cabinet shows it.
async fn until_of(customer: &Customer, slug: &str) -> i64 {
    unix(&access(customer, slug).await["active_until"])
}

/// Logs the customer in again (moving the clock by weeks ends every session).
async fn relogin(a: &Active) {
    json_status(a.customer.login(&a.login, &a.password).await, 200).await;
}

/// Presses the renewal page's button; returns the order id from the 303 to `/pay/{order_id}`.
async fn post_renew(app: &TestApp, link: &str) -> String {
    let resp = post_renew_raw(app, link).await;
    assert_eq!(resp.status(), 303, "renewal POST: {}", resp.text().await.unwrap());
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    let (_, order_id) = location.rsplit_once("/pay/").unwrap_or_else(|| panic!("not a pay page: {location}"));
    order_id.to_string()
}

async fn post_renew_raw(app: &TestApp, link: &str) -> Response {
    let form = [("ignored", "x")];
    app.client.post(app.url(link)).header("origin", &app.public_url).form(&form).send().await.unwrap()
}

/// The cabinet's Renew button over the API.
async fn renew_in_cabinet(app: &TestApp, customer: &Customer, slug: &str) -> Response {
    customer.client.post(app.url("/api/v1/me/renewals")).json(&json!({"service": slug})).send().await.unwrap()
}

/// Every order placed with `email`, as an admin lists them.
async fn orders_of(admin: &AdminActor, email: &str) -> Vec<Value> {
    let v = json_status(admin.get(&format!("/orders?email={email}")).await, 200).await;
    v["orders"].as_array().unwrap().clone()
}

/// The "is active until" emails (access_extended) sent to `to`.
fn extended_mails(app: &TestApp, to: &str) -> Vec<Mail> {
    app.mail.to(to).into_iter().filter(|m| m.subject.contains("is active until")).collect()
}

/// Pays `order_id` with one successful callback and waits until it is provisioned.
async fn pay(app: &TestApp, order_id: &str) {
    app.pay_by_callback(order_id, "authenticated").await;
    app.wait_for_status(order_id, "provisioned").await;
}
