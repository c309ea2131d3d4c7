//! A webhook receiver for the tests: a local HTTP server that records every request (headers
//! and raw body) and answers with the statuses the test scripts (204 once the script runs out).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use poem::http::StatusCode;
use poem::web::Data;
use poem::{handler, EndpointExt, Request, Response, Route};
use serde_json::Value;

/// One request as received.
#[derive(Clone, Debug)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }

    pub fn kind(&self) -> String {
        self.json()["type"].as_str().unwrap_or_default().to_string()
    }
}

#[derive(Default)]
struct Inner {
    script: VecDeque<u16>,
    received: Vec<Received>,
}

/// The running receiver; cheap to clone.
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

#[handler]
async fn receive(req: &Request, body: Vec<u8>, Data(r): Data<&Receiver>) -> Response {
    let header = |name: &str| req.header(name).unwrap_or_default().to_string();
    let mut inner = r.inner.lock().unwrap();
    inner.received.push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body: String::from_utf8(body).expect("UTF-8 body"),
    });
    let status = inner.script.pop_front().unwrap_or(204);
    Response::builder().status(StatusCode::from_u16(status).unwrap()).body("receiver says hello")
}

impl Receiver {
    pub async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let acceptor = poem::listener::TcpAcceptor::from_tokio(listener).unwrap();
        let r = Receiver { url: format!("http://{addr}/hooks"), inner: Arc::default() };
        let app = Route::new().at("/*path", receive).data(r.clone());
        tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(app));
        r
    }

    /// The next requests are answered with these statuses, in order.
    pub fn answer(&self, statuses: &[u16]) {
        self.inner.lock().unwrap().script.extend(statuses);
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }

    /// Everything received of one event type.
    pub fn of_type(&self, kind: &str) -> Vec<Received> {
        self.received().into_iter().filter(|r| r.kind() == kind).collect()
    }
}
