//! Administrators for the tests: created through the same code path as
//! `keyturn admin create`, driven over HTTP with their own cookie jar.

use reqwest::{Client, Method, Response};
use serde_json::{json, Value};

use super::{eventually, json_status, strong_password, TestApp};

pub const ADMIN_COOKIE: &str = "keyturn_admin";

/// An administrator with a browser-like cookie jar.
pub struct AdminActor {
    pub client: Client,
    base: String,
    pub username: String,
    pub password: String,
    pub role: String,
}

impl TestApp {
    pub fn state(&self) -> &keyturn::state::AppState {
        &self.app.as_ref().expect("app running").state
    }

    /// `http://<metrics_listen>/metrics`, when the app was given a metrics listener.
    pub fn metrics_url(&self) -> String {
        let addr = self.app.as_ref().expect("app running").metrics_addr.expect("metrics_listen is bound");
        format!("http://{addr}/metrics")
    }

    /// Creates an administrator (not logged in yet).
    pub async fn new_admin(&self, role: &str) -> AdminActor {
        let username = format!("adm-{}", hex::encode(rand::random::<[u8; 4]>()));
        let password = strong_password();
        let state = self.state();
        let actor = keyturn::admin::access::service::Actor { name: "cli", ip: "local" };
        keyturn::admin::access::service::create_admin(
            &state.db,
            &state.hasher,
            state.clock.now(),
            actor,
            &username,
            role,
            &password,
        )
        .await
        .unwrap_or_else(|e| panic!("create admin: {:?}", e.parts().1));
        AdminActor::new(&self.base, &username, &password, role)
    }

    /// Runs one SQL statement on the app's database, for states no endpoint reaches (a demoted
    /// admin, a suspension racing a login); returns the rows changed.
    pub async fn execute_sql(&self, sql: &str) -> usize {
        use diesel::RunQueryDsl;
        let sql = sql.to_string();
        self.state().db.write(move |c| Ok(diesel::sql_query(sql).execute(c)?)).await.unwrap()
    }

    /// Changes an administrator's role in the database (no endpoint does it yet).
    pub async fn set_admin_role(&self, username: &str, role: &str) {
        let n = self.execute_sql(&format!("UPDATE admins SET role = '{role}' WHERE username = '{username}'")).await;
        assert_eq!(n, 1, "one admin changed");
    }

    /// Creates an administrator and logs it in.
    pub async fn admin(&self, role: &str) -> AdminActor {
        let a = self.new_admin(role).await;
        let v = json_status(a.login(None).await, 200).await;
        assert_eq!(v["role"], role);
        a
    }
}

impl AdminActor {
    pub fn new(base: &str, username: &str, password: &str, role: &str) -> AdminActor {
        let client = Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
        AdminActor {
            client,
            base: base.to_string(),
            username: username.into(),
            password: password.into(),
            role: role.into(),
        }
    }

    /// The same administrator in a fresh browser (no cookies).
    pub fn fresh(&self) -> AdminActor {
        AdminActor::new(&self.base, &self.username, &self.password, &self.role)
    }

    /// POST `/payments/{payment_id}/{kind}` (capture, cancel, refund) with an optional
    /// Idempotency-Key.
    pub async fn operate(&self, payment_id: &str, kind: &str, body: Value, key: Option<&str>) -> Response {
        let mut req = self.client.post(self.url(&format!("/payments/{payment_id}/{kind}"))).json(&body);
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        req.send().await.unwrap()
    }

    /// The order's only payment, as `GET /orders/{order_id}` shows it, once it has reached `status`.
    pub async fn payment_reaching(&self, order_id: &str, status: &str) -> Value {
        eventually(&format!("the payment of {order_id} becomes {status}"), || async {
            let v = json_status(self.get(&format!("/orders/{order_id}")).await, 200).await;
            v["payments"].as_array().and_then(|p| p.first()).filter(|p| p["status"] == status).cloned()
        })
        .await
    }

    /// The server's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Audit entries read by a fresh owner (for roles that may not read the audit log).
    pub async fn audit_as_owner(&self, app: &TestApp, query: &str) -> Vec<Value> {
        app.admin("owner").await.audit(query).await
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1/admin{}", self.base, path)
    }

    pub async fn login(&self, totp: Option<&str>) -> Response {
        let mut body = json!({"username": self.username, "password": self.password});
        if let Some(code) = totp {
            body["totp"] = code.into();
        }
        self.post("/session", &body).await
    }

    pub async fn login_with(&self, password: &str, totp: Option<&str>) -> Response {
        let body = json!({"username": self.username, "password": password, "totp": totp});
        self.post("/session", &body).await
    }

    pub async fn logout(&self) -> Response {
        self.request(Method::DELETE, "/session", None).await
    }

    /// `path` is relative to `/api/v1/admin`.
    pub async fn request(&self, method: Method, path: &str, body: Option<&Value>) -> Response {
        let mut req = self.client.request(method, self.url(path));
        if let Some(b) = body {
            req = req.json(b);
        }
        req.send().await.unwrap()
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.request(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Response {
        self.request(Method::PATCH, path, Some(&body)).await
    }

    /// Audit entries (as this admin), newest first, with an optional query string.
    pub async fn audit(&self, query: &str) -> Vec<Value> {
        let v = json_status(self.get(&format!("/audit?limit=200&{query}")).await, 200).await;
        v["entries"].as_array().unwrap().clone()
    }

    /// Enrols TOTP and confirms it with the code of `now`; returns the secret.
    pub async fn enrol_totp(&self, now: i64) -> String {
        let v = json_status(self.post("/me/totp", &json!({})).await, 200).await;
        let secret = v["secret"].as_str().unwrap().to_string();
        let code = keyturn::admin::access::totp::code_at(&secret, now).unwrap();
        let resp = self.post("/me/totp/confirm", &json!({"code": code})).await;
        assert_eq!(resp.status(), 204, "confirm: {}", resp.text().await.unwrap());
        secret
    }
}
