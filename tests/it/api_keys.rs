//! Server API keys and the two calls they authorise: an owner creates a key (shown once),
//! lists and revokes it; `GET /access` reads a customer's access; `POST /access/check` checks
//! a login and password with the cabinet login's own rules (lockout, no enumeration).

use reqwest::Method;
use serde_json::{json, Value};

use crate::harness::*;

/// A new key with these scopes, created by `owner`; returns `(key_id, key)`.
async fn new_key(owner: &AdminActor, scopes: &[&str]) -> (String, String) {
    let v = json_status(owner.post("/api-keys", &json!({"name": "vpn-gateway", "scopes": scopes})).await, 201).await;
    (v["key_id"].as_str().unwrap().to_string(), v["key"].as_str().unwrap().to_string())
}

async fn read_access(app: &TestApp, key: Option<&str>, query: &str) -> reqwest::Response {
    let mut req = app.client.get(app.url(&format!("/api/v1/access?{query}")));
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    req.send().await.unwrap()
}

async fn check(app: &TestApp, key: &str, body: Value) -> reqwest::Response {
    app.client.post(app.url("/api/v1/access/check")).bearer_auth(key).json(&body).send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_is_shown_once_holds_its_scopes_and_stops_when_revoked() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    let c = app.active().await;
    let (key_id, key) = new_key(&owner, &["access:read"]).await;
    assert!(key.starts_with("kt_") && key.len() >= 46, "a 256-bit key: {key}");

    // Listed without the key itself.
    let list = owner.get("/api-keys").await;
    let text = list.text().await.unwrap();
    assert!(text.contains(&key_id) && !text.contains(&key), "the key is shown once: {text}");
    let listed: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(listed[0]["scopes"], json!(["access:read"]));
    assert_eq!(listed[0]["prefix"], key[..7]);

    // What a server sees about a paying customer, by login and by email.
    let v = json_status(read_access(&app, Some(&key), &format!("login={}", c.login)).await, 200).await;
    assert_eq!(v["login"], c.login);
    assert_eq!(v["status"], "active");
    assert_eq!(v["services"][0]["slug"], "demo");
    assert_eq!(v["services"][0]["active"], true);
    let by_email = json_status(read_access(&app, Some(&key), &format!("email={}", c.email)).await, 200).await;
    assert_eq!(by_email["login"], c.login);
    assert_error(read_access(&app, Some(&key), "login=kt-nosuch").await, 404, "unknown_customer").await;
    // Still on the temporary password: the doors refuse it, so the access is not `active`.
    let (_, temporary) = app.verified().await;
    let t = json_status(read_access(&app, Some(&key), &format!("login={}", temporary.login)).await, 200).await;
    assert_eq!((t["status"].as_str(), t["services"][0]["state"].as_str()), (Some("active"), Some("active")));
    assert_eq!(t["services"][0]["active"], false, "password_change_required at the doors: {t}");
    assert_error(read_access(&app, Some(&key), "").await, 400, "invalid_query").await;

    // Scopes, missing and unknown keys.
    let body = json!({"login": c.login, "password": c.password});
    assert_error(check(&app, &key, body.clone()).await, 403, "insufficient_scope").await;
    assert_error(read_access(&app, None, &format!("login={}", c.login)).await, 401, "invalid_api_key").await;
    let forged = format!("kt_{}", "A".repeat(43));
    assert_error(read_access(&app, Some(&forged), &format!("login={}", c.login)).await, 401, "invalid_api_key").await;
    let session_only =
        c.customer.client.get(app.url(&format!("/api/v1/access?login={}", c.login))).send().await.unwrap();
    assert_error(session_only, 401, "invalid_api_key").await;

    // Revoked: refused at once; revoking again changes nothing; an unknown id is 404.
    assert_eq!(owner.request(Method::DELETE, &format!("/api-keys/{key_id}"), None).await.status(), 204);
    assert_error(read_access(&app, Some(&key), &format!("login={}", c.login)).await, 401, "invalid_api_key").await;
    assert_eq!(owner.request(Method::DELETE, &format!("/api-keys/{key_id}"), None).await.status(), 204);
    assert_error(owner.request(Method::DELETE, "/api-keys/key_nosuch", None).await, 404, "not_found").await;
    let listed = json_status(owner.get("/api-keys").await, 200).await;
    assert!(listed[0]["revoked_at"].is_string(), "{listed}");

    // Audited, without the key.
    let audit = owner.audit("action=api_key.create").await;
    assert!(audit.iter().any(|e| e["target"] == key_id), "creation audited");
    assert!(!serde_json::to_string(&audit).unwrap().contains(&key), "the audit log never holds the key");
    assert_eq!(owner.audit("action=api_key.revoke").await.len(), 1, "one revocation, audited once");

    // Bad requests, and only owners.
    assert_error(owner.post("/api-keys", &json!({"name": "x", "scopes": ["admin"]})).await, 422, "validation_failed")
        .await;
    assert_error(owner.post("/api-keys", &json!({"name": "x", "scopes": []})).await, 422, "validation_failed").await;
    let support = app.admin("support").await;
    assert_error(support.post("/api-keys", &json!({"name": "x", "scopes": ["access:read"]})).await, 403, "forbidden")
        .await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_of_a_disabled_admin_stops_working() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    let creator = app.new_admin("owner").await;
    json_status(creator.login(None).await, 200).await;
    let c = app.active().await;
    let (_, key) = new_key(&creator, &["access:read"]).await;
    json_status(read_access(&app, Some(&key), &format!("login={}", c.login)).await, 200).await;
    let resp = owner.post(&format!("/admins/{}/disable", creator.username), &json!({})).await;
    assert_eq!(resp.status(), 204);
    assert_error(read_access(&app, Some(&key), &format!("login={}", c.login)).await, 401, "invalid_api_key").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_of_a_demoted_admin_stops_working() {
    let app = TestApp::builder().start().await;
    let creator = app.admin("owner").await;
    let c = app.active().await;
    let (_, key) = new_key(&creator, &["access:read"]).await;
    json_status(read_access(&app, Some(&key), &format!("login={}", c.login)).await, 200).await;
    app.set_admin_role(&creator.username, "support").await;
    assert_error(read_access(&app, Some(&key), &format!("login={}", c.login)).await, 401, "invalid_api_key").await;
    app.set_admin_role(&creator.username, "owner").await;
    json_status(read_access(&app, Some(&key), &format!("login={}", c.login)).await, 200).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_check_answers_like_the_cabinet_login() {
    let app = TestApp::builder().set("login_failures_per_hour", "4").start().await;
    let owner = app.admin("owner").await;
    let (_, key) = new_key(&owner, &["access:check"]).await;
    let c = app.active().await;

    let ok =
        json_status(check(&app, &key, json!({"login": c.login, "password": c.password, "service": "demo"})).await, 200)
            .await;
    assert_eq!(ok["login"], c.login);
    assert_eq!(ok["email"], c.email);
    assert_eq!(ok["services"][0]["slug"], "demo");
    // The email address works as the login, as in the cabinet.
    json_status(check(&app, &key, json!({"login": c.email, "password": c.password})).await, 200).await;
    let body = json!({"login": c.login, "password": c.password, "service": "other-service"});
    assert_error(check(&app, &key, body).await, 403, "no_access").await;
    assert_error(read_access(&app, Some(&key), &format!("login={}", c.login)).await, 403, "insufficient_scope").await;

    // A wrong password and an unknown login get the same answer...
    let wrong = assert_error(
        check(&app, &key, json!({"login": c.login, "password": "wrong password!"})).await,
        401,
        "invalid_credentials",
    )
    .await;
    let unknown = assert_error(
        check(&app, &key, json!({"login": "kt-nosuch1", "password": "wrong password!"})).await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(wrong, unknown, "no enumeration by body");
    // ...and the same lockout: 4 failures an hour, then even the right password is refused.
    for _ in 0..3 {
        assert_error(
            check(&app, &key, json!({"login": c.login, "password": "wrong password!"})).await,
            401,
            "invalid_credentials",
        )
        .await;
        assert_error(
            check(&app, &key, json!({"login": "kt-nosuch1", "password": "wrong password!"})).await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    let locked = check(&app, &key, json!({"login": c.login, "password": c.password})).await;
    assert_error(locked, 429, "too_many_attempts").await;
    let locked_unknown = check(&app, &key, json!({"login": "kt-nosuch1", "password": "wrong password!"})).await;
    assert_error(locked_unknown, 429, "too_many_attempts").await;
    // The cabinet login shares the counter.
    assert_error(app.customer().login(&c.login, &c.password).await, 429, "too_many_attempts").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_check_tells_the_account_state_only_after_the_right_password() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    let (_, key) = new_key(&owner, &["access:check", "access:read"]).await;

    let (_, _, unverified) = app.provisioned().await;
    let body = json!({"login": unverified.login, "password": unverified.password});
    assert_error(check(&app, &key, body).await, 403, "email_not_verified").await;
    let body = json!({"login": unverified.login, "password": "wrong password!"});
    assert_error(check(&app, &key, body).await, 401, "invalid_credentials").await;

    let (_, temporary) = app.verified().await;
    let body = json!({"login": temporary.login, "password": temporary.password});
    assert_error(check(&app, &key, body).await, 403, "password_change_required").await;

    let c = app.active().await;
    let support = app.admin("support").await;
    assert_eq!(support.post(&format!("/accounts/{}/suspend", c.login), &json!({})).await.status(), 204);
    let body = json!({"login": c.login, "password": c.password});
    assert_error(check(&app, &key, body).await, 403, "account_suspended").await;
    let body = json!({"login": c.login, "password": "wrong password!"});
    assert_error(check(&app, &key, body).await, 401, "invalid_credentials").await;
    let v = json_status(read_access(&app, Some(&key), &format!("login={}", c.login)).await, 200).await;
    assert_eq!(v["status"], "suspended");
    assert_eq!(v["services"][0]["active"], false, "a suspended account opens nothing: {v}");
    app.stop().await;
}

/// Runs contrib/openvpn/keyturn-auth.sh as OpenVPN would (`via-file`); true when it lets in.
/// `http`: opt in to the test server's plain http.
fn openvpn_script(app: &TestApp, key_file: &std::path::Path, login: &str, password: &str, http: bool) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let creds = dir.path().join("creds");
    std::fs::write(&creds, format!("{login}\n{password}\n")).unwrap();
    std::process::Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/contrib/openvpn/keyturn-auth.sh"))
        .arg(&creds)
        .env("KEYTURN_URL", &app.base)
        .env("KEYTURN_SERVICE", "demo")
        .env("KEYTURN_API_KEY_FILE", key_file)
        .env("KEYTURN_ALLOW_HTTP", if http { "1" } else { "" })
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap()
        .success()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openvpn_script_lets_in_only_the_right_password() {
    let have = |bin: &str| std::process::Command::new(bin).arg("--version").output().is_ok();
    if !have("jq") || !have("curl") {
        let required = ["KEYTURN_REQUIRE_TOOLS", "KEYTURN_REQUIRE_NGINX"].iter().any(|v| std::env::var_os(v).is_some());
        assert!(!required, "KEYTURN_REQUIRE_TOOLS or KEYTURN_REQUIRE_NGINX is set but jq or curl is missing");
        eprintln!("OpenVPN script test skipped: it needs jq and curl");
        return;
    }
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    let (_, key) = new_key(&owner, &["access:check"]).await;
    let key_file = app.data_dir().join("keyturn.key");
    std::fs::write(&key_file, &key).unwrap();
    let c = app.active().await;
    let (app_ref, file, login, password) = (&app, key_file.clone(), c.login.clone(), c.password.clone());
    let ok = tokio::task::block_in_place(|| openvpn_script(app_ref, &file, &login, &password, true));
    assert!(ok, "the right password lets in");
    let plain = tokio::task::block_in_place(|| openvpn_script(app_ref, &file, &login, &password, false));
    assert!(!plain, "without the opt-in the password never travels over plain http");
    let wrong = tokio::task::block_in_place(|| openvpn_script(app_ref, &file, &login, "wrong password!", true));
    assert!(!wrong, "a wrong password is refused");
    app.stop().await;
}
