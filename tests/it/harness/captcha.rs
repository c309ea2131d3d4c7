//! A fake hCaptcha `siteverify` endpoint: a real HTTP server on 127.0.0.1.
//!
//! It answers success only for the hCaptcha test token, and only the first
//! time it sees it (a replay gets `invalid-or-already-seen-response`).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use poem::listener::{Acceptor, TcpAcceptor};
use poem::web::{Data, Form, Json};
use poem::{handler, post, EndpointExt, Route, Server};
use serde_json::{json, Value};

/// The token hCaptcha's test keys accept.
pub const GOOD_TOKEN: &str = "10000000-aaaa-bbbb-cccc-000000000001";
pub const SECRET: &str = "0x0000000000000000000000000000000000000000";
pub const SITEKEY: &str = "10000000-ffff-ffff-ffff-000000000001";

#[derive(Default)]
struct State {
    seen: Mutex<HashSet<String>>,
    requests: Mutex<Vec<HashMap<String, String>>>,
}

pub struct FakeCaptcha {
    /// Full siteverify URL to configure as `hcaptcha_verify_url`.
    pub url: String,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

#[handler]
fn siteverify(Data(state): Data<&Arc<State>>, Form(form): Form<HashMap<String, String>>) -> Json<Value> {
    state.requests.lock().unwrap().push(form.clone());
    let response = form.get("response").cloned().unwrap_or_default();
    if form.get("secret").map(String::as_str) != Some(SECRET) {
        return Json(json!({"success": false, "error-codes": ["invalid-input-secret"]}));
    }
    if response != GOOD_TOKEN {
        return Json(json!({"success": false, "error-codes": ["invalid-input-response"]}));
    }
    if !state.seen.lock().unwrap().insert(response) {
        return Json(json!({"success": false, "error-codes": ["invalid-or-already-seen-response"]}));
    }
    Json(json!({
        "success": true,
        "challenge_ts": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "hostname": "127.0.0.1",
        "credit": false
    }))
}

impl FakeCaptcha {
    pub async fn start() -> FakeCaptcha {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let acceptor = TcpAcceptor::from_tokio(listener).unwrap();
        assert!(!acceptor.local_addr().is_empty());
        let state = Arc::new(State::default());
        let app = Route::new().at("/siteverify", post(siteverify)).data(state.clone());
        let task = tokio::spawn(async move {
            let _ = Server::new_with_acceptor(acceptor).run(app).await;
        });
        FakeCaptcha { url: format!("http://{addr}/siteverify"), state, task }
    }

    /// Every form the verifier received, oldest first.
    pub fn requests(&self) -> Vec<HashMap<String, String>> {
        self.state.requests.lock().unwrap().clone()
    }
}

impl Drop for FakeCaptcha {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A URL on 127.0.0.1 where nothing listens (the "verifier down" case).
pub fn closed_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    format!("http://127.0.0.1:{port}/siteverify")
}
