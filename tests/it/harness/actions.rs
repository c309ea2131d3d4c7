//! What customers and the gateway do, as one-liners for the tests.

use std::time::{Duration, Instant};

use reqwest::Response;
use serde_json::json;

use super::{json_ok, json_or_empty, json_status, random_id, strong_password, unique_email, webhook};
use super::{Active, Credentials, Event, Service, TestApp, MAIL_TIMEOUT};

impl TestApp {
    pub async fn demo(&self) -> Service {
        let services: Vec<Service> = json_ok(self.get("/api/v1/services").await).await;
        services.into_iter().find(|s| s.slug == "demo").expect("demo service in the catalog")
    }

    /// Orders the demo service for `email`; returns the order id.
    pub async fn order(&self, email: &str) -> String {
        let body = json!({"service": "demo", "name": "Test Customer", "email": email});
        let resp = self.post_json("/api/v1/orders", &body).await;
        let v = json_status(resp, 201).await;
        v["order_id"].as_str().expect("order_id").to_string()
    }

    pub async fn order_status(&self, order_id: &str) -> String {
        let v = json_status(self.get(&format!("/api/v1/orders/{order_id}")).await, 200).await;
        v["status"].as_str().expect("status").to_string()
    }

    pub async fn wait_for_status(&self, order_id: &str, status: &str) {
        let deadline = Instant::now() + MAIL_TIMEOUT;
        loop {
            let now = self.order_status(order_id).await;
            if now == status {
                return;
            }
            assert!(Instant::now() < deadline, "order {order_id} stayed {now}, expected {status}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A callback signed with the first configured secret.
    pub async fn signed_callback(&self, event_id: &str, ts: i64, body: &[u8]) -> Response {
        self.signed_callback_with(&self.keys[0].clone(), event_id, ts, body).await
    }

    pub fn key(&self, i: usize) -> Vec<u8> {
        self.keys[i].clone()
    }

    pub async fn signed_callback_with(&self, key: &[u8], id: &str, ts: i64, body: &[u8]) -> Response {
        let sig = webhook::sign(key, id, ts, body);
        let headers =
            [("webhook-id", id.to_string()), ("webhook-timestamp", ts.to_string()), ("webhook-signature", sig)];
        self.callback_raw(&headers, Some("application/json"), body.to_vec()).await
    }

    pub async fn callback_raw(
        &self,
        headers: &[(&str, String)],
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Response {
        let mut req = self.client.post(self.url("/api/v1/payments/sandbox/callback")).body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        for (k, v) in headers {
            req = req.header(*k, v.as_str());
        }
        req.send().await.unwrap()
    }

    /// A `payment.succeeded` event for the demo price of `order_id`.
    pub async fn success_body(&self, order_id: &str, payment_id: &str, three_ds: &str) -> Vec<u8> {
        let demo = self.demo().await;
        Event {
            kind: "payment.succeeded",
            order_id,
            payment_id,
            amount_minor: demo.price_minor,
            currency: &demo.currency,
            three_ds,
        }
        .body()
    }

    /// The gateway reports a successful payment with this 3DS outcome; expects 200.
    pub async fn pay_by_callback(&self, order_id: &str, three_ds: &str) {
        let body = self.success_body(order_id, &random_id("pay"), three_ds).await;
        let resp = self.signed_callback(&random_id("evt"), self.clock.now(), &body).await;
        json_or_empty(resp, 200).await;
    }

    /// Order + successful callback; returns (email, order id, credentials).
    pub async fn provisioned(&self) -> (String, String, Credentials) {
        let email = unique_email();
        let order_id = self.order(&email).await;
        self.pay_by_callback(&order_id, "authenticated").await;
        let creds = self.mail.credentials(&email, 1).await;
        (email, order_id, creds)
    }

    pub async fn verify(&self, token: &str) -> Response {
        self.post_json("/api/v1/verify-email", &json!({"token": token})).await
    }

    pub async fn resend(&self, email: &str) -> Response {
        self.post_json("/api/v1/verify-email/resend", &json!({"email": email})).await
    }

    /// A provisioned and verified account, still on its temporary password.
    pub async fn verified(&self) -> (String, Credentials) {
        let (email, _, creds) = self.provisioned().await;
        let v = json_status(self.verify(&creds.token).await, 200).await;
        assert_eq!(v["status"], "active");
        (email, creds)
    }

    /// A verified account that has replaced its temporary password; logged in.
    pub async fn active(&self) -> Active {
        let (email, creds) = self.verified().await;
        let customer = self.customer();
        json_status(customer.login(&creds.login, &creds.password).await, 200).await;
        let password = strong_password();
        let resp = customer.change_password(&creds.password, &password).await;
        assert_eq!(resp.status(), 204, "password change: {}", resp.text().await.unwrap());
        Active { email, login: creds.login, password, customer }
    }
}
