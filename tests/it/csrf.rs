//! CSRF (requirement 30): every state change the OpenAPI document lists refuses a request from
//! another site that carries valid customer and admin session cookies, unless it is one of the
//! few public writes that no cookie authorises. The walk comes from the document itself, so a
//! new write cannot be missed.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{json, Map, Value};

use crate::harness::*;

/// Writes that no session cookie authorises (sent without cookies they do not answer
/// 401 `unauthenticated`); `access/check` is authorised by an API key header, which no other
/// site can make a browser send.
const PUBLIC_WRITES: [&str; 7] = [
    "POST /access/check",
    "POST /orders",
    "POST /password-reset",
    "POST /password-reset/confirm",
    "POST /session",
    "POST /verify-email",
    "POST /verify-email/resend",
];

/// Follows a `$ref` into `components`.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap();
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// A minimal value that passes the schema's own checks (so the request reaches its handler).
fn example(doc: &Value, schema: &Value) -> Value {
    let schema = resolve(doc, schema);
    if let Some(first) = schema["allOf"].as_array().and_then(|a| a.first()) {
        return example(doc, first);
    }
    if let Some(first) = schema["enum"].as_array().and_then(|a| a.first()) {
        return first.clone();
    }
    match schema["type"].as_str().unwrap_or("object") {
        "string" => {
            let min = schema["minLength"].as_u64().unwrap_or(1).max(1) as usize;
            match schema["format"].as_str() {
                Some("email") => json!("x@example.test"),
                _ => json!("x".repeat(min)),
            }
        }
        "integer" | "number" => json!(schema["minimum"].as_i64().unwrap_or(1).max(1)),
        "boolean" => json!(false),
        "array" => json!([]),
        _ => {
            let mut obj = Map::new();
            for name in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                obj.insert(name.to_string(), example(doc, &schema["properties"][name]));
            }
            Value::Object(obj)
        }
    }
}

/// Every documented write: (label, method, concrete path, JSON body).
fn writes(doc: &Value) -> Vec<(String, Method, String, Option<Value>)> {
    let mut out = vec![];
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let method: Method = method.to_uppercase().parse().unwrap();
            if matches!(method, Method::GET | Method::HEAD | Method::OPTIONS) {
                continue;
            }
            let concrete = path.split('/').map(|s| if s.starts_with('{') { "nosuch" } else { s }).collect::<Vec<_>>();
            let content = op["requestBody"]["content"].as_object().cloned().unwrap_or_default();
            let json = content.iter().find(|(media, _)| media.starts_with("application/json"));
            assert!(content.is_empty() || json.is_some(), "{method} {path}: a body that is not JSON");
            let body = json.map(|(_, c)| example(doc, &c["schema"]));
            out.push((format!("{method} {path}"), method, concrete.join("/"), body));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_cookie_authenticated_write_refuses_another_origin() {
    let app = TestApp::builder().start().await;
    let doc = json_status(app.get("/api/v1/openapi.json").await, 200).await;
    let customer = app.active().await;
    let admin = app.new_admin("owner").await;
    let login = app
        .client
        .post(app.url("/api/v1/admin/session"))
        .json(&json!({"username": admin.username, "password": admin.password}))
        .send()
        .await
        .unwrap();
    let admin_cookie = login.cookies().find(|c| c.name().ends_with("keyturn_admin")).expect("admin cookie");
    let cookies = format!(
        "{}; {}={}",
        customer.customer.cookie_header().expect("customer cookie"),
        admin_cookie.name(),
        admin_cookie.value()
    );
    let send = |method: &Method, path: &str, body: &Option<Value>, origin: Option<&str>, cookies: Option<&str>| {
        let mut req = app.client.request(method.clone(), app.url(&format!("/api/v1{path}")));
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        if let Some(c) = cookies {
            req = req.header("cookie", c);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        req.send()
    };

    let all = writes(&doc);
    assert!(all.len() >= 25, "the document lists only {} writes", all.len());
    let mut not_refused = BTreeSet::new();
    let mut answers = vec![];
    for (label, method, path, body) in &all {
        let resp = send(method, path, body, Some("https://evil.example"), Some(&cookies)).await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        if !(status == 403 && text.contains("\"csrf_rejected\"")) {
            assert!(status < 500, "{label}: {status} {text}");
            not_refused.insert(label.clone());
            answers.push(format!("{label} {body:?}: {status} {text}"));
        }
    }
    let public: BTreeSet<String> = PUBLIC_WRITES.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        not_refused,
        public,
        "writes that do not refuse another origin (left) vs the public ones (right):\n{}",
        answers.join("\n")
    );

    // The public ones really are public: no cookie is asked for.
    for (label, method, path, body) in all.iter().filter(|(l, ..)| public.contains(l)) {
        let resp = send(method, path, body, None, None).await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        assert!(!(status == 401 && text.contains("\"unauthenticated\"")), "{label} wants a session: {text}");
    }
    // And the refusal changed nothing: both sessions still work from our own origin.
    json_status(customer.customer.me().await, 200).await;
    let me = send(&Method::GET, "/admin/me", &None, None, Some(&cookies)).await.unwrap();
    json_status(me, 200).await;
    app.stop().await;
}
