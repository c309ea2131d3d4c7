//! Administrators: the first owner from the command line, login, cookies, timeouts,
//! lockout, TOTP enrolment and login, replay, and the owner's require-TOTP switch.

use std::io::Write;
use std::process::{Command, Stdio};

use keyturn::admin::access::totp::code_at;
use serde_json::json;

use crate::harness::admin::ADMIN_COOKIE;
use crate::harness::*;

/// `keyturn admin create` against this app's database; returns (success, stderr).
fn cli_create(app: &TestApp, username: &str, role: &str, password: &str) -> (bool, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keyturn"));
    cmd.args(["admin", "create", "--username", username, "--role", role, "--password-stdin"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("KEYTURN_DATA_DIR", app.data_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(url) = app.pg_url() {
        cmd.env("KEYTURN_DATABASE_URL", url);
    }
    let mut child = cmd.spawn().expect("spawn keyturn admin create");
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_owner_comes_from_the_command_line() {
    let app = TestApp::builder().start().await;
    let password = strong_password();
    let (ok, err) = cli_create(&app, "first-owner", "owner", &password);
    assert!(ok, "admin create failed: {err}");
    let (ok, err) = cli_create(&app, "first-owner", "viewer", &strong_password());
    assert!(!ok && err.contains("exists"), "existing username accepted: {err}");
    let (ok, err) = cli_create(&app, "weak-one", "viewer", "password1234");
    assert!(!ok && err.contains("guess"), "weak password accepted: {err}");
    let (ok, err) = cli_create(&app, "no-such-role", "root", &strong_password());
    assert!(!ok && err.contains("role"), "unknown role accepted: {err}");

    let owner = AdminActor::new(&app.base, "first-owner", &password, "owner");
    let v = json_status(owner.login(None).await, 200).await;
    assert_eq!(v["role"], "owner");
    assert_eq!(v["totp_enabled"], false);
    let created = owner.audit("action=admin.create").await;
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(created[0]["actor"], "cli");
    assert_eq!(created[0]["target"], "first-owner");
    assert_eq!(created[0]["after"]["role"], "owner");
    assert!(!created[0].to_string().contains(&password));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_sets_a_strict_cookie_and_logout_ends_the_session() {
    let app = TestApp::builder().start().await;
    let a = app.new_admin("viewer").await;
    let resp = a.login(None).await;
    let cookie = resp.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
    assert!(cookie.starts_with(&format!("{ADMIN_COOKIE}=")), "{cookie}");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=28800"] {
        assert!(cookie.contains(attr), "cookie lacks {attr}: {cookie}");
    }
    let token = cookie.split(';').next().unwrap().to_string();
    let me = json_status(a.get("/me").await, 200).await;
    assert_eq!(me["username"], a.username.as_str());
    assert_eq!(me["role"], "viewer");

    assert_eq!(a.logout().await.status(), 204);
    assert_error(a.get("/me").await, 401, "unauthenticated").await;
    // The old token is dead server-side, not just forgotten by the browser.
    let replay = app.client.get(app.url("/api/v1/admin/me")).header("cookie", &token).send().await.unwrap();
    assert_error(replay, 401, "unauthenticated").await;
    // A customer session cookie is no admin session.
    let customer = app.active().await;
    let cookie = customer.customer.cookie_header().unwrap();
    let resp = app.client.get(app.url("/api/v1/admin/orders")).header("cookie", cookie).send().await.unwrap();
    assert_error(resp, 401, "unauthenticated").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_look_alike_and_every_attempt_is_audited() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    let a = app.new_admin("support").await;
    let unknown = AdminActor::new(&app.base, "nobody-here", "Some-password-123", "viewer");
    let r1 = unknown.login(None).await;
    let r2 = a.login_with("Wrong-password-123", None).await;
    let (s1, b1) = (r1.status(), r1.text().await.unwrap());
    let (s2, b2) = (r2.status(), r2.text().await.unwrap());
    assert_eq!(s1, 401);
    assert_eq!((s1, &b1), (s2, &b2), "unknown username vs wrong password differ");
    assert!(b1.contains("invalid_credentials"));
    json_status(a.login(None).await, 200).await;

    let logins = owner.audit("action=admin.login").await;
    let of = |who: &str| logins.iter().filter(|e| e["actor"] == who).cloned().collect::<Vec<_>>();
    assert_eq!(of("nobody-here").len(), 1);
    assert_eq!(of("nobody-here")[0]["outcome"], "invalid_credentials");
    let mine = of(&a.username);
    assert_eq!(mine.len(), 2, "{mine:?}");
    assert_eq!(mine[0]["outcome"], "success", "newest first");
    assert_eq!(mine[1]["outcome"], "invalid_credentials");
    assert_eq!(mine[0]["ip"], "127.0.0.1");
    let all = serde_json::to_string(&logins).unwrap();
    assert!(!all.contains("Wrong-password-123") && !all.contains(&a.password), "a password reached the audit log");
    // Filters: by actor, and by time.
    assert_eq!(owner.audit(&format!("actor={}", a.username)).await.len(), 2);
    let later = app.clock.now() + 3600;
    assert!(owner.audit(&format!("from={later}")).await.is_empty());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_time_out_after_15_idle_minutes_and_8_hours() {
    let app = TestApp::builder().start().await;
    let a = app.admin("viewer").await;
    app.clock.advance(14 * 60);
    json_status(a.get("/me").await, 200).await;
    app.clock.advance(14 * 60);
    json_status(a.get("/me").await, 200).await;
    app.clock.advance(15 * 60 + 1);
    assert_error(a.get("/me").await, 401, "unauthenticated").await;

    // Kept busy, a session still ends 8 hours after login.
    json_status(a.login(None).await, 200).await;
    for _ in 0..(8 * 60 / 10 - 1) {
        app.clock.advance(10 * 60);
        json_status(a.get("/me").await, 200).await;
    }
    app.clock.advance(10 * 60);
    assert_error(a.get("/me").await, 401, "unauthenticated").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_failed_logins_lock_an_admin_for_the_hour() {
    let app = TestApp::builder().start().await;
    let victim = app.new_admin("owner").await;
    let bystander = app.new_admin("viewer").await;
    for i in 0..100 {
        assert_error(victim.login_with(&format!("Guess-{i}-xyzzy"), None).await, 401, "invalid_credentials").await;
    }
    assert_error(victim.login(None).await, 429, "too_many_attempts").await;
    json_status(bystander.login(None).await, 200).await;
    app.clock.advance(3600 + 60);
    json_status(victim.login(None).await, 200).await;
    let locked = victim.audit("action=admin.login").await;
    assert!(locked.iter().any(|e| e["outcome"] == "too_many_attempts"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn totp_enrolment_then_login_with_a_code_used_once() {
    let app = TestApp::builder().start().await;
    let a = app.admin("operator").await;
    // Confirmation needs a pending enrolment and a right code.
    assert_error(a.post("/me/totp/confirm", &json!({"code": "123456"})).await, 409, "totp_not_started").await;
    let v = json_status(a.post("/me/totp", &json!({})).await, 200).await;
    let secret = v["secret"].as_str().unwrap().to_string();
    let uri = v["otpauth_uri"].as_str().unwrap();
    assert!(
        uri.starts_with(&format!("otpauth://totp/keyturn:{}?secret={secret}", a.username))
            && uri.contains("issuer=keyturn"),
        "{uri}"
    );
    let wrong = if code_at(&secret, app.clock.now()).unwrap() == "000000" { "111111" } else { "000000" };
    assert_error(a.post("/me/totp/confirm", &json!({"code": wrong})).await, 422, "invalid_totp").await;
    let code = code_at(&secret, app.clock.now()).unwrap();
    let resp = a.post("/me/totp/confirm", &json!({"code": code})).await;
    assert_eq!(resp.status(), 204);
    assert!(resp.headers().get("set-cookie").is_some(), "session not renewed on privilege change");
    assert_eq!(json_status(a.get("/me").await, 200).await["totp_enabled"], true);
    assert_error(a.post("/me/totp", &json!({})).await, 409, "totp_already_enabled").await;

    let fresh = a.fresh();
    assert_error(fresh.login(None).await, 401, "totp_required").await;
    assert_error(fresh.login(Some(wrong)).await, 401, "invalid_credentials").await;
    // The confirmation code's step is used up.
    assert_error(fresh.login(Some(&code)).await, 401, "invalid_credentials").await;
    app.clock.advance(30);
    let code = code_at(&secret, app.clock.now()).unwrap();
    let v = json_status(fresh.login(Some(&code)).await, 200).await;
    assert_eq!(v["totp_enabled"], true);
    json_status(fresh.get("/orders").await, 200).await;
    // Replay of the same code is refused, even with the right password.
    assert_error(a.fresh().login(Some(&code)).await, 401, "invalid_credentials").await;
    // A code from up to a step ago still works (clock drift) if it is newer than the last used.
    app.clock.advance(60);
    let previous = code_at(&secret, app.clock.now() - 20).unwrap();
    json_status(a.fresh().login(Some(&previous)).await, 200).await;
    let owner = app.admin("owner").await;
    let outcomes: Vec<String> = owner
        .audit(&format!("actor={}&action=admin.login", a.username))
        .await
        .into_iter()
        .map(|e| e["outcome"].as_str().unwrap().to_string())
        .collect();
    for o in ["totp_required", "invalid_totp", "totp_replayed", "success"] {
        assert!(outcomes.iter().any(|x| x == o), "no {o} login in the audit log: {outcomes:?}");
    }
    let all = serde_json::to_string(&owner.audit("").await).unwrap();
    assert!(!all.contains(&secret), "the TOTP secret reached the audit log");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_can_require_totp_of_everyone() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    let viewer = app.admin("viewer").await;
    assert_error(
        viewer.request(reqwest::Method::PUT, "/settings/require-totp", Some(&json!({"required": true}))).await,
        403,
        "forbidden",
    )
    .await;
    let body = json!({"required": true});
    assert_error(
        owner.request(reqwest::Method::PUT, "/settings/require-totp", Some(&body)).await,
        409,
        "totp_not_enabled",
    )
    .await;
    owner.enrol_totp(app.clock.now()).await;
    let resp = owner.request(reqwest::Method::PUT, "/settings/require-totp", Some(&body)).await;
    assert_eq!(resp.status(), 204);
    json_status(owner.get("/orders").await, 200).await;

    // An admin without TOTP: the live session and a new login may only enrol.
    assert_error(viewer.get("/orders").await, 403, "totp_enrolment_required").await;
    let v = json_status(viewer.login(None).await, 200).await;
    assert_eq!(v["totp_enrolment_required"], true);
    assert_error(viewer.get("/orders").await, 403, "totp_enrolment_required").await;
    assert_eq!(json_status(viewer.get("/me").await, 200).await["totp_enrolment_required"], true);
    app.clock.advance(30);
    viewer.enrol_totp(app.clock.now()).await;
    json_status(viewer.get("/orders").await, 200).await;

    let settings = owner.audit("action=settings.require_totp").await;
    assert_eq!(settings.len(), 1);
    assert_eq!(settings[0]["before"]["required"], false);
    assert_eq!(settings[0]["after"]["required"], true);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_writes_from_another_origin_are_refused() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    let resp = owner
        .client
        .post(app.url("/api/v1/admin/services"))
        .header("origin", "https://evil.example")
        .json(&json!({"slug": "evil", "name": "Evil", "price_minor": 0, "currency": "EUR", "period_days": 1}))
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "csrf_rejected").await;
    let same = owner
        .client
        .post(app.url("/api/v1/admin/services"))
        .header("origin", app.public_url.as_str())
        .json(&json!({"slug": "fine", "name": "Fine", "price_minor": 0, "currency": "EUR", "period_days": 1}))
        .send()
        .await
        .unwrap();
    json_status(same, 201).await;
    app.stop().await;
}
