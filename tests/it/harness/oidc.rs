//! Sign in with keyturn, as a relying party would drive it: clients registered by an owner,
//! PKCE pairs, the authorize redirect, the token endpoint, and ID tokens checked against the
//! JWKS with `jsonwebtoken` (RS256 only, by `kid`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::Response;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{json_status, AdminActor, Customer, TestApp};

/// A registered client as the test knows it.
#[derive(Clone, Debug)]
pub struct RpClient {
    pub id: String,
    pub secret: Option<String>,
    pub redirect: String,
}

/// A PKCE verifier and its S256 challenge.
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

impl Pkce {
    pub fn new() -> Pkce {
        let verifier = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        Pkce { verifier, challenge }
    }
}

/// A query parameter of a URL (e.g. a redirect's `Location`).
pub fn param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url).ok()?.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// The `Location` of a redirect.
pub fn location(resp: &Response) -> Option<String> {
    resp.headers().get("location").map(|v| v.to_str().unwrap().to_string())
}

impl TestApp {
    /// Registers a client (as `owner`) with these extra fields (`service`, `public`, …).
    pub async fn oidc_client(&self, owner: &AdminActor, extra: Value) -> RpClient {
        let redirect = format!("https://app-{}.example/callback", hex::encode(rand::random::<[u8; 3]>()));
        let mut body = json!({"name": "Test app", "redirect_uris": [redirect],
            "post_logout_redirect_uris": [format!("{redirect}/bye")]});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let v = json_status(owner.post("/oidc-clients", &body).await, 201).await;
        RpClient {
            id: v["client_id"].as_str().unwrap().to_string(),
            secret: v["client_secret"].as_str().map(String::from),
            redirect: body["redirect_uris"][0].as_str().unwrap().to_string(),
        }
    }

    /// Rotates the signing keys, like `keyturn oidc rotate-keys`.
    pub async fn rotate_oidc_keys(&self) -> String {
        let state = &self.app.as_ref().expect("app running").state;
        keyturn::oidc::keys::rotate(&state.db, state.clock.now()).await.expect("rotate")
    }

    /// The authorization URL for `client` with these parameters on top of a correct request.
    pub fn authorize_url(&self, client: &RpClient, pkce: &Pkce, overrides: &[(&str, Option<&str>)]) -> String {
        let mut params: Vec<(String, String)> = vec![
            ("client_id".into(), client.id.clone()),
            ("redirect_uri".into(), client.redirect.clone()),
            ("response_type".into(), "code".into()),
            ("scope".into(), "openid email profile entitlements".into()),
            ("state".into(), "st-123".into()),
            ("nonce".into(), "n-456".into()),
            ("code_challenge".into(), pkce.challenge.clone()),
            ("code_challenge_method".into(), "S256".into()),
        ];
        for (k, v) in overrides {
            params.retain(|(n, _)| n != k);
            if let Some(v) = v {
                params.push((k.to_string(), v.to_string()));
            }
        }
        format!("{}?{}", self.url("/oauth2/authorize"), serde_urlencoded::to_string(&params).unwrap())
    }

    /// Runs the browser leg for a logged-in customer; returns the code from the redirect.
    pub async fn code_for(&self, customer: &Customer, client: &RpClient, pkce: &Pkce) -> String {
        let resp = customer.client.get(self.authorize_url(client, pkce, &[])).send().await.unwrap();
        assert_eq!(resp.status(), 303, "authorize: {}", resp.text().await.unwrap());
        let to = location(&resp).unwrap();
        assert!(to.starts_with(&format!("{}?", client.redirect)), "back to the client: {to}");
        assert_eq!(param(&to, "state").as_deref(), Some("st-123"));
        param(&to, "code").expect("a code")
    }

    /// Posts to the token endpoint, authenticating as `client` (basic when it has a secret).
    pub async fn token(&self, client: &RpClient, form: &[(&str, &str)]) -> Response {
        let mut req = self.client.post(self.url("/oauth2/token")).form(form);
        match &client.secret {
            Some(s) => req = req.basic_auth(&client.id, Some(s)),
            None => {
                let mut with_id = form.to_vec();
                with_id.push(("client_id", &client.id));
                req = self.client.post(self.url("/oauth2/token")).form(&with_id);
            }
        }
        req.send().await.unwrap()
    }

    /// Exchanges a code; the raw response.
    pub async fn exchange(&self, client: &RpClient, code: &str, verifier: &str) -> Response {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", client.redirect.as_str()),
            ("code_verifier", verifier),
        ];
        self.token(client, &form).await
    }

    /// Code + exchange for a logged-in customer: the token response.
    pub async fn sign_in(&self, customer: &Customer, client: &RpClient) -> Value {
        let pkce = Pkce::new();
        let code = self.code_for(customer, client, &pkce).await;
        json_status(self.exchange(client, &code, &pkce.verifier).await, 200).await
    }

    /// `userinfo` with a bearer token.
    pub async fn userinfo(&self, token: &str) -> Response {
        self.client.get(self.url("/oauth2/userinfo")).bearer_auth(token).send().await.unwrap()
    }

    /// Verifies an ID token against the JWKS as a relying party would: RS256 only, by `kid`,
    /// issuer and audience checked. `Err` says why it was refused.
    pub async fn verify_id_token(&self, token: &str, audience: &str) -> Result<Value, String> {
        use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
        let jwks: Value = self.get("/oauth2/jwks").await.json().await.unwrap();
        let header = decode_header(token).map_err(|e| e.to_string())?;
        let kid = header.kid.ok_or("no kid")?;
        let key =
            jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str()).ok_or("kid not published")?;
        let decoding = DecodingKey::from_rsa_components(key["n"].as_str().unwrap(), key["e"].as_str().unwrap())
            .map_err(|e| e.to_string())?;
        let mut v = Validation::new(Algorithm::RS256);
        v.set_issuer(&[self.public_url.trim_end_matches('/')]);
        v.set_audience(&[audience]);
        decode::<Value>(token, &decoding, &v).map(|d| d.claims).map_err(|e| e.to_string())
    }
}

impl TestApp {
    /// How many authorization codes and tokens are stored (the sweep purges the spent ones).
    pub async fn oidc_rows(&self) -> (i64, i64) {
        use diesel::prelude::*;
        use keyturn::db::schema::{oidc_codes, oidc_tokens};
        self.app_state()
            .db
            .read(|c| Ok((oidc_codes::table.count().get_result(c)?, oidc_tokens::table.count().get_result(c)?)))
            .await
            .expect("database reachable")
    }
}
