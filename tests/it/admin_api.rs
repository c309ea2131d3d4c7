//! The admin API: the role × endpoint permission matrix, support's work on customer
//! accounts (suspend, reinstate, revoke, resend, extend), orders and their callback
//! history, the catalog, and the audit trail of each.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{json, Value};

use crate::harness::*;

const ROLES: [&str; 5] = ["owner", "operator", "support", "catalog", "viewer"];

/// One admin endpoint as the OpenAPI document names it, a concrete request, and who may call it.
struct Endpoint {
    method: Method,
    template: &'static str,
    path: String,
    body: Option<Value>,
    allowed: &'static [&'static str],
}

fn endpoints() -> Vec<Endpoint> {
    let all: &'static [&'static str] = &ROLES;
    let e = |method: Method, template: &'static str, path: &str, body: Option<Value>, allowed| Endpoint {
        method,
        template,
        path: path.to_string(),
        body,
        allowed,
    };
    let unique = || hex::encode(rand::random::<[u8; 4]>());
    vec![
        e(Method::GET, "/admin/me", "/me", None, all),
        e(Method::POST, "/admin/me/totp", "/me/totp", Some(json!({})), all),
        e(Method::POST, "/admin/me/totp/confirm", "/me/totp/confirm", Some(json!({"code": "000000"})), all),
        e(
            Method::PUT,
            "/admin/settings/require-totp",
            "/settings/require-totp",
            Some(json!({"required": false})),
            &["owner"],
        ),
        e(
            Method::POST,
            "/admin/admins",
            "/admins",
            Some(json!({"username": format!("new-{}", unique()), "role": "viewer", "password": strong_password()})),
            &["owner"],
        ),
        e(Method::GET, "/admin/orders", "/orders", None, &["owner", "operator", "viewer"]),
        e(Method::GET, "/admin/orders/{order_id}", "/orders/ord_nosuch", None, &["owner", "operator", "viewer"]),
        e(
            Method::GET,
            "/admin/payment-events/unmatched",
            "/payment-events/unmatched",
            None,
            &["owner", "operator", "viewer"],
        ),
        e(Method::GET, "/admin/accounts", "/accounts?q=kt-", None, &["owner", "support", "viewer"]),
        e(Method::GET, "/admin/accesses", "/accesses?state=grace", None, &["owner", "support", "viewer"]),
        e(Method::POST, "/admin/accounts/{login}/suspend", "/accounts/kt-nosuch/suspend", None, &["owner", "support"]),
        e(
            Method::POST,
            "/admin/accounts/{login}/reinstate",
            "/accounts/kt-nosuch/reinstate",
            None,
            &["owner", "support"],
        ),
        e(Method::POST, "/admin/accounts/{login}/revoke", "/accounts/kt-nosuch/revoke", None, &["owner", "support"]),
        e(
            Method::POST,
            "/admin/accounts/{login}/resend-credentials",
            "/accounts/kt-nosuch/resend-credentials",
            None,
            &["owner", "support"],
        ),
        e(
            Method::POST,
            "/admin/accounts/{login}/extend",
            "/accounts/kt-nosuch/extend",
            Some(json!({"service": "demo", "days": 1})),
            &["owner", "support"],
        ),
        e(Method::GET, "/admin/services", "/services", None, &["owner", "operator", "catalog", "viewer"]),
        e(
            Method::POST,
            "/admin/services",
            "/services",
            Some(
                json!({"slug": format!("s-{}", unique()), "name": "Matrix", "price_minor": 100, "currency": "EUR", "period_days": 7}),
            ),
            &["owner", "catalog"],
        ),
        e(Method::PATCH, "/admin/services/{slug}", "/services/demo", Some(json!({})), &["owner", "catalog"]),
        e(
            Method::POST,
            "/admin/services/{slug}/rename",
            "/services/nosuch/rename",
            Some(json!({"new_slug": "renamed"})),
            &["owner", "catalog"],
        ),
        e(Method::POST, "/admin/invoices/{invoice_id}/send", "/invoices/inv_nosuch/send", None, &["owner", "operator"]),
        e(Method::GET, "/admin/audit", "/audit", None, &["owner", "viewer"]),
        e(Method::GET, "/admin/invoices", "/invoices", None, &["owner", "operator", "viewer"]),
        e(
            Method::POST,
            "/admin/invoices",
            "/invoices",
            Some(json!({"name": "Matrix", "email": unique_email(), "service": "demo"})),
            &["owner", "operator"],
        ),
        e(Method::GET, "/admin/admins", "/admins", None, &["owner"]),
        e(
            Method::POST,
            "/admin/api-keys",
            "/api-keys",
            Some(json!({"name": "matrix", "scopes": ["access:read"]})),
            &["owner"],
        ),
        e(Method::GET, "/admin/api-keys", "/api-keys", None, &["owner"]),
        e(Method::DELETE, "/admin/api-keys/{key_id}", "/api-keys/key_nosuch", None, &["owner"]),
        e(
            Method::POST,
            "/admin/oidc-clients",
            "/oidc-clients",
            Some(json!({"name": "matrix", "redirect_uris": ["https://app.example/cb"]})),
            &["owner"],
        ),
        e(Method::GET, "/admin/oidc-clients", "/oidc-clients", None, &["owner"]),
        e(Method::DELETE, "/admin/oidc-clients/{client_id}", "/oidc-clients/ktc_nosuch", None, &["owner"]),
        e(Method::GET, "/admin/accounts/{login}/export", "/accounts/kt-nosuch/export", None, &["owner", "support"]),
        e(Method::POST, "/admin/accounts/{login}/erase", "/accounts/kt-nosuch/erase", None, &["owner", "support"]),
        e(Method::GET, "/admin/emails", "/emails", None, &["owner", "support", "viewer"]),
        e(Method::POST, "/admin/emails/{email_id}/retry", "/emails/job_nosuch/retry", None, &["owner", "support"]),
        e(Method::POST, "/admin/admins/{username}/disable", "/admins/nosuch/disable", None, &["owner"]),
        e(Method::POST, "/admin/admins/{username}/enable", "/admins/nosuch/enable", None, &["owner"]),
        // A wrong password: refused as a credential (403 invalid_credentials), never as a role.
        e(Method::POST, "/admin/session/reauth", "/session/reauth", Some(json!({"password": "wrong"})), all),
        e(
            Method::POST,
            "/admin/payments/{payment_id}/capture",
            "/payments/pay_nosuch/capture",
            None,
            &["owner", "operator"],
        ),
        e(
            Method::POST,
            "/admin/payments/{payment_id}/cancel",
            "/payments/pay_nosuch/cancel",
            None,
            &["owner", "operator"],
        ),
        e(
            Method::POST,
            "/admin/payments/{payment_id}/refund",
            "/payments/pay_nosuch/refund",
            Some(json!({"amount_minor": 1})),
            &["owner", "operator"],
        ),
        // Webhooks are the owner's: a loopback target is refused (422), never a 500.
        e(Method::POST, "/admin/webhooks", "/webhooks", Some(json!({"url": "http://127.0.0.1:9/hook"})), &["owner"]),
        e(Method::GET, "/admin/webhooks", "/webhooks", None, &["owner"]),
        e(Method::DELETE, "/admin/webhooks/{endpoint_id}", "/webhooks/whe_nosuch", None, &["owner"]),
        e(Method::POST, "/admin/webhooks/{endpoint_id}/enable", "/webhooks/whe_nosuch/enable", None, &["owner"]),
        e(
            Method::POST,
            "/admin/webhooks/{endpoint_id}/rotate-secret",
            "/webhooks/whe_nosuch/rotate-secret",
            None,
            &["owner"],
        ),
        e(Method::GET, "/admin/webhooks/{endpoint_id}/deliveries", "/webhooks/whe_nosuch/deliveries", None, &["owner"]),
        e(
            Method::POST,
            "/admin/webhooks/{endpoint_id}/deliveries/{delivery_id}/retry",
            "/webhooks/whe_nosuch/deliveries/whd_nosuch/retry",
            None,
            &["owner"],
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_meets_every_admin_endpoint() {
    let app = TestApp::builder().start().await;
    // The matrix covers every admin operation the API documents (login/logout aside).
    let doc = json_status(app.get("/api/v1/openapi.json").await, 200).await;
    let documented: BTreeSet<String> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(p, _)| p.starts_with("/admin/") && p.as_str() != "/admin/session")
        .flat_map(|(p, ops)| ops.as_object().unwrap().keys().map(move |m| format!("{} {p}", m.to_uppercase())))
        .collect();
    let walked: BTreeSet<String> = endpoints().iter().map(|e| format!("{} {}", e.method, e.template)).collect();
    assert_eq!(documented, walked, "the matrix must walk every admin endpoint");

    let nobody = AdminActor::new(&app.base, "nobody", "x", "none");
    let mut admins = vec![];
    for role in ROLES {
        admins.push(app.admin(role).await);
    }
    for ep in endpoints() {
        let resp = nobody.request(ep.method.clone(), &ep.path, ep.body.as_ref()).await;
        assert_error(resp, 401, "unauthenticated").await;
    }
    for a in &admins {
        for ep in endpoints() {
            let resp = a.request(ep.method.clone(), &ep.path, ep.body.as_ref()).await;
            let status = resp.status().as_u16();
            let body = resp.text().await.unwrap();
            let what = format!("{} {} {}: {status} {body}", a.role, ep.method, ep.path);
            if ep.allowed.contains(&a.role.as_str()) {
                let refused_for_role = status == 403 && body.contains("\"forbidden\"");
                assert!(status != 401 && !refused_for_role && status < 500, "allowed but refused: {what}");
            } else {
                assert_eq!(status, 403, "{what}");
                assert!(body.contains("\"forbidden\""), "{what}");
            }
        }
    }
    // Logout without a session is harmless.
    assert_eq!(nobody.logout().await.status(), 204);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspension_ends_live_sessions_and_revocation_is_final() {
    let app = TestApp::builder().start().await;
    let support = app.admin("support").await;
    let viewer = app.admin("viewer").await;
    let c = app.active().await;
    json_status(c.customer.me().await, 200).await;

    let suspend = format!("/accounts/{}/suspend", c.login);
    assert_eq!(support.post(&suspend, &json!({})).await.status(), 204);
    let me = c.customer.me().await.status().as_u16();
    assert!(me == 401 || me == 403, "suspended customer still in: {me}");
    assert_error(app.customer().login(&c.login, &c.password).await, 403, "account_suspended").await;
    assert_error(support.post(&suspend, &json!({})).await, 409, "invalid_state").await;
    let found = json_status(viewer.get(&format!("/accounts?q={}", c.login)).await, 200).await;
    assert_eq!(found[0]["status"], "suspended");

    let reinstate = format!("/accounts/{}/reinstate", c.login);
    assert_eq!(support.post(&reinstate, &json!({})).await.status(), 204);
    let back = app.customer();
    json_status(back.login(&c.login, &c.password).await, 200).await;
    json_status(back.me().await, 200).await;

    let revoke = format!("/accounts/{}/revoke", c.login);
    assert_eq!(support.post(&revoke, &json!({})).await.status(), 204);
    assert!(matches!(back.me().await.status().as_u16(), 401 | 403), "revoked customer still in");
    assert_error(app.customer().login(&c.login, &c.password).await, 401, "invalid_credentials").await;
    assert_error(support.post(&reinstate, &json!({})).await, 409, "invalid_state").await;
    assert_error(support.post(&suspend, &json!({})).await, 409, "invalid_state").await;
    let resend = format!("/accounts/{}/resend-credentials", c.login);
    assert_error(support.post(&resend, &json!({})).await, 409, "invalid_state").await;
    assert_error(support.post("/accounts/kt-nosuch/revoke", &json!({})).await, 404, "not_found").await;

    let trail: Vec<Value> = viewer
        .audit(&format!("actor={}", support.username))
        .await
        .into_iter()
        .filter(|e| e["target"] == c.login.as_str())
        .collect();
    let actions: Vec<&str> = trail.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["account.revoke", "account.reinstate", "account.suspend"], "{trail:?}");
    assert_eq!(trail[2]["before"]["status"], "active");
    assert_eq!(trail[2]["after"]["status"], "suspended");
    assert_eq!(trail[2]["after"]["sessions_ended"], 1);
    assert_eq!(trail[0]["after"]["status"], "revoked");
    app.stop().await;
}

/// Reads `Login:` and `Password:` from a reset email.
fn reset_credentials(mail: &Mail) -> (String, String) {
    let line = |p: &str| mail.text.lines().find_map(|l| l.trim().strip_prefix(p).map(|v| v.trim().to_string()));
    (line("Login:").expect("login line"), line("Password:").expect("password line"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resent_credentials_replace_the_forgotten_password() {
    let app = TestApp::builder().start().await;
    let support = app.admin("support").await;
    let c = app.active().await;
    let resp = support.post(&format!("/accounts/{}/resend-credentials", c.login), &json!({})).await;
    assert_eq!(resp.status(), 202);
    let mail = app.mail.wait_for(&c.email, Kind::Other, 1, MAIL_TIMEOUT).await;
    assert!(mail.subject.contains("temporary password"), "{}", mail.subject);
    let (login, password) = reset_credentials(&mail);
    assert_eq!(login, c.login);
    assert_ne!(password, c.password);
    // The old password is dead, and so is the session that used it.
    assert_error(app.customer().login(&c.login, &c.password).await, 401, "invalid_credentials").await;
    assert!(matches!(c.customer.me().await.status().as_u16(), 401 | 403));
    let fresh = app.customer();
    let v = json_status(fresh.login(&c.login, &password).await, 200).await;
    assert_eq!(v["must_change_password"], true);
    let mine = strong_password();
    assert_eq!(fresh.change_password(&password, &mine).await.status(), 204);
    json_status(app.customer().login(&c.login, &mine).await, 200).await;

    // An account still waiting for verification gets the usual credentials email again.
    let (email, _, first) = app.provisioned().await;
    let resp = support.post(&format!("/accounts/{}/resend-credentials", first.login), &json!({})).await;
    assert_eq!(resp.status(), 202);
    let second = app.mail.credentials(&email, 2).await;
    assert_ne!(second.password, first.password);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn support_extends_access_and_finds_accounts() {
    let app = TestApp::builder().start().await;
    let support = app.admin("support").await;
    let owner = app.admin("owner").await;
    let c = app.active().await;
    let domain_part = c.email.split('@').next().unwrap().to_string();
    let found = json_status(support.get(&format!("/accounts?q={domain_part}")).await, 200).await;
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found[0]["login"], c.login.as_str());
    let before = found[0]["services"][0]["active_until"].as_str().unwrap().to_string();
    assert_eq!(found[0]["services"][0]["slug"], "demo");
    // LIKE metacharacters are searched for literally.
    let none = json_status(support.get("/accounts?q=%25").await, 200).await;
    assert!(none.as_array().unwrap().is_empty(), "{none}");

    let extend = format!("/accounts/{}/extend", c.login);
    assert_eq!(support.post(&extend, &json!({"service": "demo", "days": 10})).await.status(), 204);
    assert_error(support.post(&extend, &json!({"service": "nope", "days": 10})).await, 422, "unknown_service").await;
    assert_error(support.post(&extend, &json!({"service": "demo", "days": 0})).await, 422, "validation_failed").await;
    let after = json_status(support.get(&format!("/accounts?q={}", c.login)).await, 200).await;
    let after = after[0]["services"][0]["active_until"].as_str().unwrap().to_string();
    let days = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp();
    assert_eq!(days(&after) - days(&before), 10 * 86_400);
    let me = json_status(c.customer.me().await, 200).await;
    assert_eq!(me["services"][0]["active_until"], after.as_str());
    let entry = &owner.audit("action=account.extend").await[0];
    assert_eq!(entry["target"], c.login.as_str());
    assert_eq!(entry["after"]["days"], 10);
    assert_eq!(entry["actor"], support.username.as_str());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_list_with_filters_pages_and_callback_history() {
    let app = TestApp::builder().start().await;
    let operator = app.admin("operator").await;
    let (email, paid, _) = app.provisioned().await;
    // Orders of the same second list in id order; one second later is unambiguously newer.
    app.clock.advance(1);
    let unpaid = app.order(&email).await;
    let demo = app.demo().await;
    // A callback with the wrong amount is refused but kept in the history.
    let body = Event {
        kind: "payment.succeeded",
        order_id: &unpaid,
        payment_id: &random_id("pay"),
        amount_minor: demo.price_minor + 1,
        currency: &demo.currency,
        three_ds: "authenticated",
    }
    .body();
    app.signed_callback(&random_id("evt"), app.clock.now(), &body).await;

    let page = json_status(operator.get(&format!("/orders?email={email}")).await, 200).await;
    let orders = page["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 2, "{page}");
    assert_eq!(orders[0]["order_id"], unpaid.as_str(), "newest first");
    assert_eq!(orders[1]["order_id"], paid.as_str());
    assert_eq!(orders[1]["gateway"], "sandbox");
    assert_eq!(orders[1]["amount_minor"], demo.price_minor);
    assert_eq!(orders[1]["service"], "demo");
    assert_eq!(orders[1]["email"], email.as_str());
    assert!(orders[0]["gateway"].is_null());

    let first = json_status(operator.get(&format!("/orders?email={email}&limit=1")).await, 200).await;
    assert_eq!(first["orders"][0]["order_id"], unpaid.as_str());
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let second = json_status(operator.get(&format!("/orders?email={email}&limit=1&cursor={cursor}")).await, 200).await;
    assert_eq!(second["orders"][0]["order_id"], paid.as_str());
    let by_status =
        json_status(operator.get(&format!("/orders?email={email}&status=pending_payment")).await, 200).await;
    assert_eq!(by_status["orders"].as_array().unwrap().len(), 1);
    assert_eq!(by_status["orders"][0]["order_id"], unpaid.as_str());
    let future = app.clock.now() + 3600;
    let none = json_status(operator.get(&format!("/orders?email={email}&from={future}")).await, 200).await;
    assert!(none["orders"].as_array().unwrap().is_empty());
    let rfc = keyturn::clock::rfc3339(future);
    let all = json_status(operator.get(&format!("/orders?email={email}&to={rfc}")).await, 200).await;
    assert_eq!(all["orders"].as_array().unwrap().len(), 2);
    assert_error(operator.get("/orders?limit=500").await, 400, "invalid_query").await;
    assert_error(operator.get("/orders?from=yesterday").await, 400, "invalid_query").await;

    let detail = json_status(operator.get(&format!("/orders/{paid}")).await, 200).await;
    assert_eq!(detail["payments"][0]["gateway"], "sandbox");
    assert_eq!(detail["payments"][0]["status"], "succeeded");
    assert_eq!(detail["events"].as_array().unwrap().len(), 1);
    let refused = json_status(operator.get(&format!("/orders/{unpaid}")).await, 200).await;
    assert_eq!(refused["events"][0]["outcome"], "mismatch", "{refused}");
    assert!(refused["payments"].as_array().unwrap().is_empty());
    assert_error(operator.get("/orders/ord_nosuch").await, 404, "not_found").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_creates_changes_and_withdraws_services() {
    let app = TestApp::builder().start().await;
    let catalog = app.admin("catalog").await;
    let owner = app.admin("owner").await;
    let new =
        json!({"slug": "pro-plan", "name": "Pro plan", "price_minor": 4990, "currency": "eur", "period_days": 90});
    let v = json_status(catalog.post("/services", &new).await, 201).await;
    assert_eq!(v["currency"], "EUR");
    assert_eq!(v["active"], true);
    assert_error(catalog.post("/services", &new).await, 409, "service_exists").await;
    for (field, value) in [
        ("slug", json!("Pro Plan")),
        ("slug", json!("x".repeat(65))),
        ("price_minor", json!(-1)),
        ("currency", json!("EURO")),
        ("period_days", json!(0)),
        ("name", json!("")),
    ] {
        let mut bad = new.clone();
        bad[field] = value;
        bad["slug"] = if field == "slug" { bad["slug"].clone() } else { json!("other-plan") };
        assert_error(catalog.post("/services", &bad).await, 422, "validation_failed").await;
    }
    let mut typed = new.clone();
    typed["name"] = json!(42);
    assert_eq!(catalog.post("/services", &typed).await.status(), 400, "a number is no name");
    let mut extra = new.clone();
    extra["created_at"] = json!(0);
    assert_eq!(catalog.post("/services", &extra).await.status(), 400, "unknown fields are refused");

    let public: Vec<Service> = json_ok(app.get("/api/v1/services").await).await;
    assert!(public.iter().any(|s| s.slug == "pro-plan" && s.price_minor == 4990 && s.period_days == 90));

    let patch = |body: Value| catalog.patch("/services/pro-plan", body);
    let v = json_status(patch(json!({"price_minor": 5990})).await, 200).await;
    assert_eq!(v["price_minor"], 5990);
    assert_eq!(v["name"], "Pro plan");
    assert_error(patch(json!({"currency": "E1R"})).await, 422, "validation_failed").await;
    let v = json_status(patch(json!({"active": false})).await, 200).await;
    assert_eq!(v["active"], false);
    let public: Vec<Service> = json_ok(app.get("/api/v1/services").await).await;
    assert!(!public.iter().any(|s| s.slug == "pro-plan"), "withdrawn service still on sale");
    let resp = catalog.request(Method::PATCH, "/services/no-such", Some(&json!({"active": false}))).await;
    assert_error(resp, 404, "not_found").await;
    let listed = json_status(catalog.get("/services").await, 200).await;
    assert!(listed.as_array().unwrap().iter().any(|s| s["slug"] == "pro-plan" && s["active"] == false));

    let trail = owner.audit(&format!("actor={}", catalog.username)).await;
    let actions: Vec<&str> = trail.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["service.update", "service.update", "service.create", "admin.login"], "{trail:?}");
    assert_eq!(trail[0]["before"]["active"], true);
    assert_eq!(trail[0]["after"]["active"], false);
    assert_eq!(trail[1]["before"]["price_minor"], 4990);
    assert_eq!(trail[1]["after"]["price_minor"], 5990);
    assert_eq!(trail[2]["after"]["slug"], "pro-plan");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owners_create_admins_without_escalation_by_others() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    let body = json!({"username": "new-support", "role": "support", "password": strong_password()});
    let v = json_status(owner.post("/admins", &body).await, 201).await;
    assert_eq!(v["role"], "support");
    assert_error(owner.post("/admins", &body).await, 409, "username_taken").await;
    let weak = json!({"username": "weak-admin", "role": "viewer", "password": "password1234"});
    assert_error(owner.post("/admins", &weak).await, 422, "weak_password").await;
    let role = json!({"username": "root-admin", "role": "root", "password": strong_password()});
    assert_error(owner.post("/admins", &role).await, 422, "validation_failed").await;
    let name = json!({"username": "x", "role": "viewer", "password": strong_password()});
    assert_error(owner.post("/admins", &name).await, 422, "validation_failed").await;
    // A support admin cannot make itself (or anyone) an owner.
    let support = AdminActor::new(&app.base, "new-support", body["password"].as_str().unwrap(), "support");
    json_status(support.login(None).await, 200).await;
    let up = json!({"username": "sneaky-owner", "role": "owner", "password": strong_password()});
    assert_error(support.post("/admins", &up).await, 403, "forbidden").await;
    let entry = &owner.audit("action=admin.create").await[0];
    assert_eq!(entry["actor"], owner.username.as_str());
    assert_eq!(entry["target"], "new-support");
    assert!(!entry.to_string().contains(body["password"].as_str().unwrap()));
    app.stop().await;
}
