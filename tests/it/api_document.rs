//! The API document tells the truth: what an operation answers is what the document lists
//! (schemathesis checks the same against a running server in CI, tests/interop/schemathesis).

use std::collections::BTreeSet;

use serde_json::Value;

use crate::harness::*;

async fn document(app: &TestApp) -> Value {
    json_status(app.get("/api/v1/openapi.json").await, 200).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_method_gets_405_with_the_paths_methods_in_allow() {
    let app = TestApp::builder().start().await;
    let doc = document(&app).await;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        let mut expected: BTreeSet<String> = ops.as_object().unwrap().keys().map(|m| m.to_uppercase()).collect();
        if expected.contains("GET") {
            expected.insert("HEAD".into());
        }
        let concrete = path.replace("{login}", "kt-x").replace('{', "x").replace('}', "");
        let resp =
            app.client.request(reqwest::Method::TRACE, app.url(&format!("/api/v1{concrete}"))).send().await.unwrap();
        assert_eq!(resp.status(), 405, "TRACE {path}");
        let allow = resp.headers().get("allow").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        let got: BTreeSet<String> = allow.split(',').map(|m| m.trim().to_string()).collect();
        assert_eq!(got, expected, "Allow of {path}");
        assert_error(resp, 405, "method_not_allowed").await;
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn framework_answers_are_documented_on_every_json_write() {
    let app = TestApp::builder().start().await;
    let doc = document(&app).await;
    // What the old document lacked: a JSON write without a JSON body answers 415.
    let resp = app.client.post(app.url("/api/v1/orders")).body("service=demo").send().await.unwrap();
    assert_error(resp, 415, "unsupported_media_type").await;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let listed: BTreeSet<&str> = op["responses"].as_object().unwrap().keys().map(String::as_str).collect();
            let mut shared = vec!["500", "503"];
            if op.get("requestBody").is_some() {
                shared.extend(["400", "408", "413", "415"]);
            }
            for status in shared {
                assert!(listed.contains(status), "{method} {path} does not document {status}: {listed:?}");
            }
            if path.starts_with("/admin/") && path != "/admin/session" {
                assert!(listed.contains("401"), "{method} {path} does not document 401");
            }
        }
    }
    // Request objects refuse unknown fields, and the document says so.
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["CreateOrder"]["additionalProperties"], false);
    let body = serde_json::json!({"service": "demo", "name": "A", "email": "a@example.test", "extra": 1});
    assert_error(app.post_json("/api/v1/orders", &body).await, 400, "invalid_body").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_listings_match_their_schemas() {
    let app = TestApp::builder().start().await;
    let doc = document(&app).await;
    let owner = app.admin("owner").await;
    // An empty last page has no cursor: `null`, which the schema now allows.
    let page = json_status(owner.get("/invoices").await, 200).await;
    assert!(page["next_cursor"].is_null(), "{page}");
    assert_eq!(doc["components"]["schemas"]["InvoicePage"]["properties"]["next_cursor"]["nullable"], true);
    // The listing's limits are in the document, and a limit outside them keeps its code.
    let limit = doc["paths"]["/admin/orders"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit")
        .cloned()
        .unwrap();
    assert_eq!((limit["schema"]["minimum"].as_f64(), limit["schema"]["maximum"].as_f64()), (Some(1.0), Some(200.0)));
    assert_error(owner.get("/orders?limit=-9223372036854775808").await, 400, "invalid_query").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statuses_are_listed_as_enums_with_their_stored_strings() {
    let app = TestApp::builder().start().await;
    let doc = document(&app).await;
    let schemas = &doc["components"]["schemas"];
    let values = |name: &str| -> Vec<String> {
        let list = schemas[name]["enum"].as_array().unwrap_or_else(|| panic!("{name} is no enum: {}", schemas[name]));
        list.iter().map(|v| v.as_str().unwrap().to_string()).collect()
    };
    assert_eq!(
        values("OrderState"),
        ["pending_payment", "paid", "provisioned", "failed", "expired", "cancelled", "refunded"]
    );
    assert_eq!(values("AccountStatus"), ["pending_verification", "active", "suspended", "revoked"]);
    assert!(values("GatewayId").contains(&"twocheckout".to_string()));
    // The order answer's `status` refers to that list.
    let order = schemas["OrderStatus"]["properties"]["status"].to_string();
    assert!(order.contains("#/components/schemas/OrderState"), "{order}");
    app.stop().await;
}
