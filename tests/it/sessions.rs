//! Logging in, sessions, the temporary password and password changes.

use futures_util::future::join_all;

use crate::harness::customer::{session_cookie_value, SESSION_COOKIE};
use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_does_not_reveal_whether_a_login_exists() {
    let app = TestApp::builder().start().await;
    let active = app.active().await;
    let (_, unverified) = {
        let (email, _, creds) = app.provisioned().await;
        (email, creds)
    };
    let c = app.customer();
    let mut answers = vec![];
    for (login, password) in [
        ("kt-no-such-login".to_string(), "Some-password-123".to_string()),
        (active.login.clone(), "Wrong-password-123".to_string()),
        (unverified.login.clone(), "Wrong-password-123".to_string()),
    ] {
        let resp = c.login(&login, &password).await;
        answers.push((resp.status().as_u16(), resp.text().await.unwrap()));
    }
    assert_eq!(answers[0].0, 401);
    let v: serde_json::Value = serde_json::from_str(&answers[0].1).unwrap();
    assert_eq!(v["error"], "invalid_credentials");
    assert_eq!(answers[1], answers[0], "unknown login vs wrong password differ");
    assert_eq!(answers[2], answers[0], "unknown login vs unverified account differ");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn temporary_password_expires_after_72_hours() {
    let app = TestApp::builder().start().await;
    let (_, creds) = app.verified().await;
    app.clock.advance(71 * 3600);
    json_status(app.customer().login(&creds.login, &creds.password).await, 200).await;
    app.clock.advance(2 * 3600);
    assert_error(app.customer().login(&creds.login, &creds.password).await, 401, "temporary_password_expired").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_failed_logins_lock_the_account_for_the_hour() {
    let app = TestApp::builder().set("login_delay_ms", "0").start().await;
    let victim = app.active().await;
    let bystander = app.active().await;
    let attacker = app.customer();
    for i in 0..100 {
        assert_error(attacker.login(&victim.login, &format!("Guess-{i}-xyzzy")).await, 401, "invalid_credentials")
            .await;
    }
    // The 101st attempt is refused even with the right password.
    assert_error(app.customer().login(&victim.login, &victim.password).await, 429, "too_many_attempts").await;
    // Other accounts are not affected.
    json_status(app.customer().login(&bystander.login, &bystander.password).await, 200).await;
    // An hour later the account opens again.
    app.clock.advance(3600 + 60);
    let back = json_status(app.customer().login(&victim.login, &victim.password).await, 200).await;
    assert_eq!(back["must_change_password"], false);
    app.stop().await;
}

/// Credential stuffing sends guesses in parallel: every failure must still count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_failed_logins_all_count_towards_the_lock() {
    let app = TestApp::builder().set("login_delay_ms", "0").start().await;
    let victim = app.active().await;
    let attacker = app.customer();
    for round in 0..10 {
        let guesses: Vec<String> = (0..10).map(|i| format!("Guess-{round}-{i}-xyzzy")).collect();
        let tries = join_all(guesses.iter().map(|g| attacker.login(&victim.login, g))).await;
        for resp in tries {
            assert_error(resp, 401, "invalid_credentials").await;
        }
    }
    assert_error(app.customer().login(&victim.login, &victim.password).await, 429, "too_many_attempts").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_cookie_is_fresh_http_only_and_same_site() {
    let app = TestApp::builder().start().await;
    let active = app.active().await;
    // An attacker-chosen session id planted before login is not adopted.
    let planted = format!("{SESSION_COOKIE}=attacker-chosen-session-id-0000000000");
    let body = serde_json::json!({"login": active.login, "password": active.password});
    let resp = app.client.post(app.url("/api/v1/session")).header("cookie", &planted).json(&body).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let cookie = resp.cookies().find(|c| c.name() == SESSION_COOKIE).expect("keyturn_session cookie");
    assert!(cookie.http_only(), "not HttpOnly");
    assert!(cookie.same_site_lax() || cookie.same_site_strict(), "SameSite missing");
    assert_ne!(cookie.value(), "attacker-chosen-session-id-0000000000");
    assert!(cookie.value().len() >= 22, "session id too short for 128 bits: {}", cookie.value());
    let fresh = format!("{SESSION_COOKIE}={}", cookie.value());
    drop(resp);

    let me = |c: String| app.client.get(app.url("/api/v1/me")).header("cookie", c).send();
    assert_error(me(planted).await.unwrap(), 401, "unauthenticated").await;
    json_status(me(fresh).await.unwrap(), 200).await;
    assert_error(app.get("/api/v1/me").await, 401, "unauthenticated").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_change_ends_other_sessions_and_rotates_the_cookie() {
    let app = TestApp::builder().start().await;
    let (_, creds) = app.verified().await;
    let laptop = app.customer();
    let phone = app.customer();
    json_status(laptop.login(&creds.login, &creds.password).await, 200).await;
    json_status(phone.login(&creds.login, &creds.password).await, 200).await;
    let before = laptop.cookie_header().unwrap();

    let new_password = strong_password();
    let resp = laptop.change_password(&creds.password, &new_password).await;
    assert_eq!(resp.status(), 204);
    let rotated = session_cookie_value(&resp).expect("a new session cookie after the change");
    assert!(!before.contains(&rotated), "session id not rotated");

    json_status(laptop.me().await, 200).await;
    assert_error(phone.me().await, 401, "unauthenticated").await;
    let replay = app.client.get(app.url("/api/v1/me")).header("cookie", before).send().await.unwrap();
    assert_error(replay, 401, "unauthenticated").await;
    json_status(app.customer().login(&creds.login, &new_password).await, 200).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_password_rules() {
    let app = TestApp::builder().start().await;
    let a = app.active().await;
    let c = &a.customer;
    assert_error(
        c.change_password("not-my-password-at-all", &strong_password()).await,
        403,
        "invalid_current_password",
    )
    .await;
    for weak in ["Sh0rt-pw", "password1234", "qwertyuiop123"] {
        assert_error(c.change_password(&a.password, weak).await, 422, "weak_password").await;
    }
    let huge = "Zebra-".repeat(200);
    assert_error(c.change_password(&a.password, &huge).await, 422, "password_too_long").await;

    // 128 characters are fine and nothing is truncated.
    let long = format!("{}{}", strong_password(), "-mountain-river-tiger".repeat(6))[..128].to_string();
    assert_eq!(c.change_password(&a.password, &long).await.status(), 204);
    json_status(app.customer().login(&a.login, &long).await, 200).await;
    assert_error(app.customer().login(&a.login, &long[..72]).await, 401, "invalid_credentials").await;
    assert_error(app.customer().login(&a.login, &a.password).await, 401, "invalid_credentials").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_public_url_gives_a_host_prefixed_secure_cookie_and_links() {
    let public = "https://shop.example.test";
    let app = TestApp::builder().set("public_url", public).start().await;
    assert_eq!(app.public_url, public);
    let email = unique_email();
    // A spoofed Host header does not leak into links.
    let body = serde_json::json!({"service": "demo", "name": "Host Test", "email": email});
    let resp =
        app.client.post(app.url("/api/v1/orders")).header("host", "evil.example").json(&body).send().await.unwrap();
    let order = json_status(resp, 201).await;
    let order_id = order["order_id"].as_str().unwrap();
    assert_eq!(order["payment_url"], format!("{public}/pay/{order_id}").as_str());

    app.pay_by_callback(order_id, "authenticated").await;
    let creds = app.mail.credentials(&email, 1).await;
    assert!(creds.link.starts_with(&format!("{public}/verify-email?token=")), "{}", creds.link);
    json_status(app.verify(&creds.token).await, 200).await;
    let body = serde_json::json!({"login": creds.login, "password": creds.password});
    let resp = app.client.post(app.url("/api/v1/session")).json(&body).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().contains_key("strict-transport-security"), "no HSTS with an https public URL");
    let set: Vec<String> =
        resp.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect();
    let cookie =
        set.iter().find(|c| c.starts_with(&format!("__Host-{SESSION_COOKIE}="))).unwrap_or_else(|| panic!("{set:?}"));
    let attrs = cookie.to_ascii_lowercase();
    for attr in ["; secure", "; httponly", "; path=/"] {
        assert!(attrs.contains(attr), "cookie lacks {attr}: {cookie}");
    }
    assert!(!attrs.contains("domain="), "__Host- cookie with Domain: {cookie}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_after_30_idle_minutes_and_after_12_hours() {
    let app = TestApp::builder().start().await;
    let a = app.active().await;
    // Idle: 29 minutes is fine, then 31 minutes of silence ends the session.
    app.clock.advance(29 * 60);
    json_status(a.customer.me().await, 200).await;
    app.clock.advance(31 * 60);
    assert_error(a.customer.me().await, 401, "unauthenticated").await;

    // Absolute: a session kept busy still ends 12 hours after login.
    let busy = app.customer();
    json_status(busy.login(&a.login, &a.password).await, 200).await;
    for _ in 0..(12 * 60 / 25) {
        app.clock.advance(25 * 60);
        json_status(busy.me().await, 200).await;
    }
    app.clock.advance(25 * 60);
    assert_error(busy.me().await, 401, "unauthenticated").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_site_state_changes_are_refused() {
    let app = TestApp::builder().start().await;
    let a = app.active().await;
    let c = &a.customer;
    let evil = "https://evil.example";
    let body = serde_json::json!({"current_password": a.password, "new_password": strong_password()});
    let url = app.url("/api/v1/me/password");

    let resp = c.client.post(&url).header("origin", evil).json(&body).send().await.unwrap();
    assert_error(resp, 403, "csrf_rejected").await;
    let resp = c.client.delete(app.url("/api/v1/session")).header("origin", evil).send().await.unwrap();
    assert_error(resp, 403, "csrf_rejected").await;
    // A classic cross-site form post (no JSON) does not get through either.
    let form = [("current_password", a.password.as_str()), ("new_password", "Another-strong-pass-42")];
    let resp = c.client.post(&url).form(&form).send().await.unwrap();
    assert_error(resp, 415, "unsupported_media_type").await;

    // Still logged in with the same password; our own origin is accepted.
    json_status(c.me().await, 200).await;
    let resp = c.client.post(&url).header("origin", app.public_url.as_str()).json(&body).send().await.unwrap();
    assert_eq!(resp.status(), 204);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cabinet_requests_do_not_queue_behind_a_database_write() {
    let app = TestApp::builder().start().await;
    let a = app.active().await;
    // A long write is in progress (on SQLite it holds the only write turn); a session whose
    // idle clock is fresh only needs reading, so the cabinet still answers.
    let writing = app.hold_write().await;
    let me = tokio::time::timeout(std::time::Duration::from_secs(5), a.customer.me())
        .await
        .expect("the cabinet waited for an unrelated write");
    let v = json_status(me, 200).await;
    assert_eq!(v["login"], a.login.as_str());
    writing.release().await;
    // The idle clock is still refreshed when due: a session used every 25 minutes lives on.
    for _ in 0..3 {
        app.clock.advance(25 * 60);
        json_status(a.customer.me().await, 200).await;
    }
    app.stop().await;
}

/// A login that read the old password's hash while the password was being changed must not
/// get in with the old password. One hashing thread orders the work: the change's check of
/// the current password, three other logins, the change's new hash (then it commits), and
/// only then the racing login's check of the old password against the hash it read before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_racing_a_password_change_does_not_get_in_with_the_old_password() {
    let app = TestApp::builder()
        .set("hash_workers", "1")
        .set("hash_queue", "16")
        .set("rate_limit_login_per_minute", "100")
        .start()
        .await;
    let a = app.active().await;
    let nobody = || async { app.customer().login("kt-nobody-here", "Some-password-123").await };
    let started = std::time::Instant::now();
    assert_error(nobody().await, 401, "invalid_credentials").await;
    let one_hash = started.elapsed();

    let racer = app.customer();
    let changed_to = strong_password();
    let change = a.customer.change_password(&a.password, &changed_to);
    let others = async {
        tokio::time::sleep(one_hash / 4).await;
        join_all((0..3).map(|_| nobody())).await
    };
    let login = async {
        tokio::time::sleep(one_hash * 3 / 2).await;
        racer.login(&a.login, &a.password).await
    };
    let (changed, _, raced) = tokio::join!(change, others, login);
    assert_eq!(changed.status(), 204);
    let raced = raced.status().as_u16();
    // Whatever the interleaving: no session made with the old password outlives the change.
    assert_error(racer.me().await, 401, "unauthenticated").await;
    assert!(raced == 401 || raced == 200, "{raced}");
    assert_error(app.customer().login(&a.login, &a.password).await, 401, "invalid_credentials").await;
    json_status(app.customer().login(&a.login, &changed_to).await, 200).await;
    json_status(a.customer.me().await, 200).await;
    app.stop().await;
}
