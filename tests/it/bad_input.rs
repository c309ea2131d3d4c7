//! Hostile and broken input gets a precise 4xx, never a 500.

use serde_json::{json, Value};

use crate::harness::raw;
use crate::harness::*;

async fn raw_post(app: &TestApp, path: &str, content_type: &str, body: Vec<u8>) -> reqwest::Response {
    app.client.post(app.url(path)).header("content-type", content_type).body(body).send().await.unwrap()
}

fn order_json(name: &str, email: &str) -> Value {
    json!({"service": "demo", "name": name, "email": email})
}

fn assert_too_large(resp: &raw::RawResponse, what: &str) {
    let v = resp.json();
    assert_eq!((resp.status, v["error"].as_str().unwrap_or("")), (413, "payload_too_large"), "{what}: {v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_get_413() {
    let app = TestApp::builder().start().await;
    let three_mb =
        format!(r#"{{"service":"demo","name":"{}","email":"a@example.test"}}"#, "a".repeat(3 << 20)).into_bytes();
    for path in ["/api/v1/orders", "/api/v1/payments/sandbox/callback"] {
        for chunked in [false, true] {
            let resp = raw::post(&app.base, path, "application/json", three_mb.clone(), chunked).await;
            assert_too_large(&resp, &format!("3 MB to {path} (chunked: {chunked})"));
        }
    }
    // A flood of 1 MB passwords never reaches the hasher.
    let body = serde_json::to_vec(&json!({"login": "kt-x", "password": "p".repeat(1 << 20)})).unwrap();
    for _ in 0..5 {
        let resp = raw::post(&app.base, "/api/v1/session", "application/json", body.clone(), false).await;
        assert_too_large(&resp, "1 MB password");
    }
    // Just over the 64 KiB cap.
    let body = serde_json::to_vec(&order_json(&"b".repeat(64 * 1024), "a@example.test")).unwrap();
    assert_too_large(&raw::post(&app.base, "/api/v1/orders", "application/json", body, false).await, "64 KiB + 1");
    // The service is still fine.
    json_status(app.get("/api/v1/services").await, 200).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_json_is_400_invalid_body() {
    let app = TestApp::builder().start().await;
    let nested = format!(r#"{{"service":{}0{}}}"#, "[".repeat(20_000), "]".repeat(20_000));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", br#"{"service":"demo","name":"#.to_vec()),
        ("not json", b"service=demo&name=x".to_vec()),
        ("empty", vec![]),
        ("broken utf-8", b"{\"service\":\"demo\",\"name\":\"\xff\xfe\xfd\",\"email\":\"a@example.test\"}".to_vec()),
        ("deeply nested", nested.into_bytes()),
        ("wrong types", br#"{"service":"demo","name":42,"email":["a@example.test"]}"#.to_vec()),
        ("mass assignment", br#"{"service":"demo","name":"M","email":"m@example.test","status":"active"}"#.to_vec()),
        ("unknown field", br#"{"service":"demo","name":"M","email":"m@example.test","is_admin":true}"#.to_vec()),
    ];
    for (case, body) in cases {
        let resp = raw_post(&app, "/api/v1/orders", "application/json", body).await;
        let got = resp.status().as_u16();
        let v: Value = resp.json().await.unwrap_or_else(|e| panic!("{case}: non-JSON error body: {e}"));
        assert_eq!((got, v["error"].as_str().unwrap_or("")), (400, "invalid_body"), "{case}: {v}");
    }
    // Other JSON endpoints are just as strict.
    let login = br#"{"login":"kt-x","password":"Some-password-1","remember":true}"#.to_vec();
    assert_error(raw_post(&app, "/api/v1/session", "application/json", login).await, 400, "invalid_body").await;
    let token = br#"{"token":"abc","account_id":"x"}"#.to_vec();
    assert_error(raw_post(&app, "/api/v1/verify-email", "application/json", token).await, 400, "invalid_body").await;
    let resend = br#"{"email":"a@example.test","status":"active"}"#.to_vec();
    assert_error(raw_post(&app, "/api/v1/verify-email/resend", "application/json", resend).await, 400, "invalid_body")
        .await;
    app.stop().await;
}

/// Strict schemas: a number or a boolean where a string belongs is not coerced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_json_types_are_400_invalid_body() {
    let app = TestApp::builder().start().await;
    let cases: [(&str, &[u8]); 4] = [
        ("/api/v1/orders", br#"{"service":"demo","name":42,"email":"a@example.test"}"#),
        ("/api/v1/orders", br#"{"service":"demo","name":"A","email":"a@example.test","phone":5551234}"#),
        ("/api/v1/session", br#"{"login":123,"password":true}"#),
        ("/api/v1/verify-email", br#"{"token":12345}"#),
    ];
    for (path, body) in cases {
        let resp = raw_post(&app, path, "application/json", body.to_vec()).await;
        let got = resp.status().as_u16();
        let v: Value = resp.json().await.unwrap();
        let body = String::from_utf8_lossy(body);
        assert_eq!((got, v["error"].as_str().unwrap_or("")), (400, "invalid_body"), "{path} {body}: {v}");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_content_type_is_415() {
    let app = TestApp::builder().start().await;
    let body = serde_json::to_vec(&order_json("Ann", "ann@example.test")).unwrap();
    for ct in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
        let resp = raw_post(&app, "/api/v1/orders", ct, body.clone()).await;
        assert_error(resp, 415, "unsupported_media_type").await;
    }
    let resp = app.client.post(app.url("/api/v1/orders")).body(body).send().await.unwrap();
    assert_error(resp, 415, "unsupported_media_type").await;
    let login = br#"{"login":"kt-x","password":"Some-password-1"}"#.to_vec();
    assert_error(raw_post(&app, "/api/v1/session", "text/plain", login).await, 415, "unsupported_media_type").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_and_bad_fields_are_422() {
    let app = TestApp::builder().start().await;
    let email = unique_email();
    let mut cases: Vec<(&str, Value, &str)> = vec![
        ("CR/LF in name", order_json("Eve\r\nBcc: victim@example.test", &email), "validation_failed"),
        ("LF in name", order_json("Eve\nX-Header: 1", &email), "validation_failed"),
        ("NUL in name", order_json("Eve\u{0}", &email), "validation_failed"),
        ("empty name", order_json("", &email), "validation_failed"),
        ("blank name", order_json("   ", &email), "validation_failed"),
        ("CR/LF in email", order_json("Eve", &format!("{email}\r\nBcc: victim@example.test")), "validation_failed"),
        ("NUL in email", order_json("Eve", "eve\u{0}@example.test"), "validation_failed"),
        ("not an email", order_json("Eve", "not-an-email"), "validation_failed"),
        ("two addresses", order_json("Eve", "a@example.test, b@example.test"), "validation_failed"),
        ("unknown service", json!({"service": "gold", "name": "Eve", "email": email}), "unknown_service"),
        ("SQL in service", json!({"service": "demo' OR '1'='1", "name": "Eve", "email": email}), "unknown_service"),
        (
            "NUL in phone",
            json!({"service": "demo", "name": "Eve", "email": email, "phone": "+1\u{0}555"}),
            "validation_failed",
        ),
        (
            "SQL in phone",
            json!({"service": "demo", "name": "Eve", "email": email, "phone": "1'; DROP TABLE orders;--"}),
            "validation_failed",
        ),
        (
            "NUL in locale",
            json!({"service": "demo", "name": "Eve", "email": email, "locale": "en\u{0}"}),
            "validation_failed",
        ),
    ];
    cases.push(("NUL in service", json!({"service": "de\u{0}mo", "name": "Eve", "email": email}), "unknown_service"));
    for (case, body, code) in cases {
        let resp = app.post_json("/api/v1/orders", &body).await;
        let got = resp.status().as_u16();
        let v: Value = resp.json().await.unwrap();
        let allowed = if code == "unknown_service" { ["unknown_service", "validation_failed"] } else { [code, code] };
        assert!(got == 422 && allowed.contains(&v["error"].as_str().unwrap_or("")), "{case}: {got} {v}");
    }
    // Refused means nothing stored: no order exists that could ever be paid or mailed.
    let operator = app.admin("operator").await;
    let stored = json_status(operator.get("/orders").await, 200).await;
    assert_eq!(stored["orders"].as_array().map(Vec::len), Some(0), "a refused order was stored: {stored}");

    // The same address with a clean order is mailed, to that address alone; the address an
    // injected header named gets nothing, now that every email of the flow has gone out.
    let order = json_status(app.post_json("/api/v1/orders", &order_json("Eve", &email)).await, 201).await;
    app.pay_by_callback(order["order_id"].as_str().unwrap(), "authenticated").await;
    let mail = app.mail.wait_for(&email, Kind::Credentials, 1, MAIL_TIMEOUT).await;
    app.mail.wait_for(&email, Kind::Confirmation, 1, MAIL_TIMEOUT).await;
    assert_eq!(mail.to, vec![email.clone()], "envelope recipients");
    assert!(mail.header("bcc").is_none() && !String::from_utf8_lossy(&mail.raw).contains("victim@"));
    app.run_pending_jobs().await;
    app.assert_no_pending_jobs().await;
    assert_eq!(app.mail.count(&email, Kind::Any), 2);
    assert_eq!(app.mail.count("victim@example.test", Kind::Any), 0);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_metacharacters_are_just_text() {
    let app = TestApp::builder().start().await;
    let email = unique_email();
    let name = "Robert'); DROP TABLE orders;-- \" \\ % _ O'Brien";
    let order = json_status(app.post_json("/api/v1/orders", &order_json(name, &email)).await, 201).await;
    let order_id = order["order_id"].as_str().unwrap().to_string();
    assert_eq!(app.order_status(&order_id).await, "pending_payment");

    for id in ["' OR '1'='1", "1; DROP TABLE orders", "%", "ord_%25", "..%2F..%2Fetc%2Fpasswd"] {
        let path =
            format!("/api/v1/orders/{}", url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>());
        assert_error(app.get(&path).await, 404, "not_found").await;
    }
    let c = app.customer();
    assert_error(c.login("' OR '1'='1' --", "' OR '1'='1' --").await, 401, "invalid_credentials").await;
    assert_eq!(app.resend("x' OR 1=1 --@example.test").await.status(), 202);

    // The order and the database survived; the flow still works with that name.
    app.pay_by_callback(&order_id, "authenticated").await;
    let creds = app.mail.credentials(&email, 1).await;
    assert!(creds.login.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "login {}", creds.login);
    app.wait_for_status(&order_id, "provisioned").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_paths_and_methods_are_not_500() {
    let app = TestApp::builder().start().await;
    assert_eq!(app.get("/api/v1/no-such-thing").await.status(), 404);
    let resp = app.client.put(app.url("/api/v1/orders")).json(&json!({})).send().await.unwrap();
    assert!(resp.status().is_client_error(), "PUT /api/v1/orders: {}", resp.status());
    let resp = app.get("/verify-email").await;
    assert!(!resp.status().is_server_error(), "verify page without token: {}", resp.status());
    let resp = app.get("/verify-email?token=%00%ff").await;
    assert!(!resp.status().is_server_error(), "verify page with garbage token: {}", resp.status());
    let resp = app.get("/pay/does-not-exist").await;
    assert!(resp.status().is_client_error(), "pay page for unknown order: {}", resp.status());
    app.stop().await;
}
