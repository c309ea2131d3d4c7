//! A customer with a browser-like cookie jar.

use std::sync::Arc;

use reqwest::cookie::{CookieStore, Jar};
use reqwest::{Client, Response};
use serde_json::json;

pub const SESSION_COOKIE: &str = "keyturn_session";

pub struct Customer {
    pub client: Client,
    jar: Arc<Jar>,
    base: String,
}

impl Customer {
    pub fn new(base: &str) -> Customer {
        let jar = Arc::new(Jar::default());
        let client =
            Client::builder().cookie_provider(jar.clone()).redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Customer { client, jar, base: base.to_string() }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn login(&self, login: &str, password: &str) -> Response {
        let body = json!({"login": login, "password": password});
        self.client.post(self.url("/api/v1/session")).json(&body).send().await.unwrap()
    }

    pub async fn me(&self) -> Response {
        self.client.get(self.url("/api/v1/me")).send().await.unwrap()
    }

    pub async fn change_password(&self, current: &str, new: &str) -> Response {
        let body = json!({"current_password": current, "new_password": new});
        self.client.post(self.url("/api/v1/me/password")).json(&body).send().await.unwrap()
    }

    pub async fn logout(&self) -> Response {
        self.client.delete(self.url("/api/v1/session")).send().await.unwrap()
    }

    /// The `Cookie:` header this customer's browser would send now.
    pub fn cookie_header(&self) -> Option<String> {
        let url = url::Url::parse(&self.base).unwrap();
        self.jar.cookies(&url).map(|v| v.to_str().unwrap().to_string())
    }
}

/// The session cookie value set by a response, if any.
pub fn session_cookie_value(resp: &Response) -> Option<String> {
    resp.cookies().find(|c| c.name().ends_with(SESSION_COOKIE)).map(|c| c.value().to_string())
}
