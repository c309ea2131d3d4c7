//! The whole customer journey, end to end.

use serde_json::json;

use crate::harness::sandbox::{location, path_of};
use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_flow_through_sandbox_pages_with_3ds_challenge() {
    let app = TestApp::builder().start().await;
    let demo = app.demo().await;
    let email = unique_email();
    let browser = app.customer();

    // The customer orders through the JSON API.
    let body =
        json!({"service": "demo", "name": "Ada Lovelace", "email": email, "phone": "+44 20 7946 0000", "locale": "en"});
    let order = json_status(app.post_json("/api/v1/orders", &body).await, 201).await;
    let order_id = order["order_id"].as_str().unwrap().to_string();
    assert_eq!(order["status"], "pending_payment");
    let payment_url = order["payment_url"].as_str().unwrap().to_string();
    assert_eq!(payment_url, format!("{}/pay/{order_id}", app.public_url));

    // keyturn's payment page hands the customer to the sandbox checkout.
    let page = browser.client.get(&payment_url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains(&format!("/sandbox/checkout/{order_id}")));

    // Card that needs a 3-D Secure challenge.
    let card = [("card_number", "4000000000003220"), ("exp", "12/30"), ("cvc", "123")];
    let resp = browser.client.post(app.url(&format!("/sandbox/checkout/{order_id}"))).form(&card).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    let challenge = location(&app, &resp);
    assert!(path_of(&challenge).starts_with("/sandbox/3ds/"), "challenge at {challenge}");
    assert_eq!(browser.client.get(&challenge).send().await.unwrap().status(), 200);
    assert_eq!(app.order_status(&order_id).await, "pending_payment", "nothing paid before 3DS");

    let resp = browser.client.post(&challenge).form(&[("code", "1234")]).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    let return_url = location(&app, &resp);
    assert_eq!(path_of(&return_url), format!("/orders/{order_id}/return"));
    assert_eq!(browser.client.get(&return_url).send().await.unwrap().status(), 200);

    // The sandbox calls back by itself: payment confirmation, then credentials.
    app.mail.wait_for(&email, Kind::Confirmation, 1, MAIL_TIMEOUT).await;
    let mail = app.mail.wait_for(&email, Kind::Credentials, 1, MAIL_TIMEOUT).await;
    let creds = mail.credentials().unwrap();
    assert_eq!(mail.to, vec![email.clone()], "envelope recipients");
    assert!(mail.header("to").unwrap().contains(&email));
    assert!(mail.html.as_deref().is_some_and(|h| h.contains(&creds.login)), "no HTML part with the login");
    assert!(String::from_utf8_lossy(&mail.raw).to_ascii_lowercase().contains("multipart/alternative"));
    let kinds: Vec<Kind> = app.mail.to(&email).iter().map(|m| m.kind()).collect();
    assert_eq!(kinds, vec![Kind::Confirmation, Kind::Credentials], "emails in order");
    app.wait_for_status(&order_id, "provisioned").await;
    assert_eq!(creds.link, format!("{}/verify-email?token={}", app.public_url, creds.token));
    // That logins are random (not derived, not sequential): logins_are_random_not_derived_nor_sequential.

    // Opening the link shows a confirm page; it does not use the token up.
    let page = browser.client.get(&creds.link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(page.text().await.unwrap().to_lowercase().contains("<form"));

    // Not verified yet: the right password is still refused.
    assert_error(browser.login(&creds.login, &creds.password).await, 403, "email_not_verified").await;

    let v = json_status(app.verify(&creds.token).await, 200).await;
    assert_eq!(v, json!({"status": "active"}));

    // First login: only a password change is allowed.
    let login = browser.login(&creds.login, &creds.password).await;
    assert_eq!(json_status(login, 200).await, json!({"must_change_password": true}));
    assert_error(browser.me().await, 403, "password_change_required").await;
    assert_error(browser.change_password(&creds.password, "password1234").await, 422, "weak_password").await;
    let new_password = strong_password();
    let resp = browser.change_password(&creds.password, &new_password).await;
    assert_eq!(resp.status(), 204);

    // The temporary password is gone for good.
    let other = app.customer();
    assert_error(other.login(&creds.login, &creds.password).await, 401, "invalid_credentials").await;

    // The cabinet shows the paid service for about period_days.
    let me = json_status(browser.me().await, 200).await;
    assert_eq!(me["login"], creds.login.as_str());
    assert_eq!(me["email"], email.as_str());
    assert_eq!(me["status"], "active");
    let services = me["services"].as_array().unwrap();
    assert_eq!(services.len(), 1, "{me}");
    assert_eq!(services[0]["slug"], "demo");
    assert_eq!(services[0]["name"], demo.name.as_str());
    let until = chrono::DateTime::parse_from_rfc3339(services[0]["active_until"].as_str().unwrap()).unwrap();
    let expected = app.clock.now() + demo.period_days * 86_400;
    assert!((until.timestamp() - expected).abs() < 600, "active_until {until} vs now + {} days", demo.period_days);

    // Logout ends the session on the server: the old cookie no longer works.
    let cookie = browser.cookie_header().expect("session cookie");
    assert_eq!(browser.logout().await.status(), 204);
    let replay = app.client.get(app.url("/api/v1/me")).header("cookie", cookie).send().await.unwrap();
    assert_error(replay, 401, "unauthenticated").await;

    // And the customer was told the account is active.
    app.mail.wait_for(&email, Kind::Activation, 1, MAIL_TIMEOUT).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn site_builder_form_with_tilda_field_names_then_signed_callback() {
    let app = TestApp::builder().start().await;
    let email = unique_email();
    let form = [("service", "demo"), ("Name", "Grace Hopper"), ("Email", email.as_str()), ("Phone", "+1 555 0100")];
    let resp = app.client.post(app.url("/forms/order")).form(&form).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    let loc = resp.headers()["location"].to_str().unwrap().to_string();
    let prefix = format!("{}/pay/", app.public_url);
    assert!(loc.starts_with(&prefix), "Location {loc}");
    let order_id = loc[prefix.len()..].to_string();
    assert_eq!(app.order_status(&order_id).await, "pending_payment");

    app.pay_by_callback(&order_id, "authenticated").await;
    let creds = app.mail.credentials(&email, 1).await;
    app.wait_for_status(&order_id, "provisioned").await;
    json_status(app.verify(&creds.token).await, 200).await;
    let customer = app.customer();
    let login = json_status(customer.login(&creds.login, &creds.password).await, 200).await;
    assert_eq!(login["must_change_password"], true);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn return_page_never_changes_an_order() {
    let app = TestApp::builder().start().await;
    let email = unique_email();
    let order_id = app.order(&email).await;
    // A forced visit to the success/return URL before paying.
    let page = app.get(&format!("/orders/{order_id}/return")).await;
    assert_eq!(page.status(), 200);
    let pay = app.get(&format!("/pay/{order_id}")).await;
    assert_eq!(pay.status(), 200);
    // Whatever those visits could have queued is run now: nothing was, and nothing changed.
    app.run_pending_jobs().await;
    app.assert_no_pending_jobs().await;
    assert_eq!(app.order_status(&order_id).await, "pending_payment");
    assert_eq!(app.mail.count(&email, Kind::Any), 0);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_cards_frictionless_success_and_declines() {
    let app = TestApp::builder().start().await;
    let ok = unique_email();
    let ok_order = app.order(&ok).await;
    let mut declined = vec![];
    for (card, code) in [("4000000000000002", "1234"), ("4000008400001629", "1234"), ("4000000000003220", "0000")] {
        let email = unique_email();
        let order_id = app.order(&email).await;
        app.pay_with_card(&order_id, card, code).await;
        declined.push((card, email, order_id));
    }
    app.pay_with_card(&ok_order, "4242424242424242", "").await;
    app.mail.credentials(&ok, 1).await;
    app.wait_for_status(&ok_order, "provisioned").await;

    // Each decline reached keyturn as the sandbox's callback and was recorded as a failed
    // payment; whatever it queued is run now.
    let admin = app.admin("viewer").await;
    for (_, _, order_id) in &declined {
        admin.payment_reaching(order_id, "failed").await;
    }
    app.run_pending_jobs().await;
    for (card, email, order_id) in declined {
        let status = app.order_status(&order_id).await;
        assert!(!["paid", "provisioned"].contains(&status.as_str()), "card {card}: order {status}");
        assert_eq!(app.mail.count(&email, Kind::Any), 0, "card {card} sent email");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_docs_and_openapi_are_served() {
    let app = TestApp::builder().start().await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    assert_eq!(app.get("/readyz").await.status(), 200);
    assert_eq!(app.get("/docs").await.status(), 200);
    let doc = json_status(app.get("/api/v1/openapi.json").await, 200).await;
    assert!(doc["openapi"].is_string(), "no openapi key");
    // Paths may be written in full or relative to a server URL ending in /api/v1.
    let server_path = doc["servers"][0]["url"]
        .as_str()
        .map(|u| url::Url::parse(u).map(|u| u.path().to_string()).unwrap_or_else(|_| u.to_string()));
    let prefix = server_path.unwrap_or_default().trim_end_matches('/').to_string();
    let paths = doc["paths"].as_object().expect("paths");
    let full: Vec<String> = paths.keys().map(|k| format!("{prefix}{k}")).collect();
    for p in ["/api/v1/orders", "/api/v1/session", "/api/v1/me", "/api/v1/verify-email"] {
        assert!(full.iter().any(|k| k == p), "openapi lacks {p}: {full:?}");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_pages_and_private_answers_carry_security_headers() {
    let app = TestApp::builder().start().await;
    let (_, creds) = app.verified().await;
    let header = |resp: &reqwest::Response, name: &str| {
        resp.headers().get(name).map(|v| v.to_str().unwrap().to_ascii_lowercase()).unwrap_or_default()
    };

    let page = app.client.get(&creds.link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(header(&page, "referrer-policy"), "no-referrer", "token page leaks the token via Referer");
    assert_eq!(header(&page, "x-content-type-options"), "nosniff");
    assert!(header(&page, "cache-control").contains("no-store"));
    assert!(!header(&page, "content-security-policy").is_empty(), "no CSP on the token page");
    assert!(header(&page, "strict-transport-security").is_empty(), "HSTS over plain http");

    let c = app.customer();
    let login = c.login(&creds.login, &creds.password).await;
    assert!(header(&login, "cache-control").contains("no-store"));
    let me = c.me().await;
    assert!(header(&me, "cache-control").contains("no-store"), "private answer cacheable");
    assert_eq!(header(&me, "x-content-type-options"), "nosniff");
    app.stop().await;
}

/// The longest run of equal characters at the start of both strings.
fn common_prefix(a: &str, b: &str) -> usize {
    a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_are_random_not_derived_nor_sequential() {
    let app = TestApp::builder().start().await;
    let mut logins = vec![];
    for i in 0..6 {
        // Addresses and names a derived login would show: the same person, numbered.
        let email = format!("ada.lovelace.{i}.{}@example.test", hex::encode(rand::random::<[u8; 3]>()));
        let body = json!({"service": "demo", "name": format!("Ada Lovelace {i}"), "email": email});
        let order = json_status(app.post_json("/api/v1/orders", &body).await, 201).await;
        app.pay_by_callback(order["order_id"].as_str().unwrap(), "authenticated").await;
        let login = app.mail.credentials(&email, 1).await.login;
        let local = email.split('@').next().unwrap().to_lowercase();
        // No five characters in a row from the address or the name.
        let lower = login.to_lowercase();
        for source in [local.as_str(), "adalovelace", "ada-lovelace", "ada_lovelace"] {
            let chars: Vec<char> = source.chars().collect();
            for w in chars.windows(5) {
                let w: String = w.iter().collect();
                assert!(!lower.contains(&w), "login {login} contains {w:?} from {source}");
            }
        }
        logins.push(login);
    }
    // The part after the common `kt-` prefix differs everywhere: a counter or a timestamp would
    // share a long prefix or suffix between accounts made one after another, or differ in a
    // character or two (pairs of random 10-letter logins differ in about 10).
    let tails: Vec<String> = logins.iter().map(|l| l.trim_start_matches("kt-").to_string()).collect();
    for (i, a) in tails.iter().enumerate() {
        assert!(a.len() >= 8, "login {} is too short to be random", logins[i]);
        for b in &tails[i + 1..] {
            assert_ne!(a, b, "the same login twice: {logins:?}");
            let rev = |s: &str| s.chars().rev().collect::<String>();
            assert!(common_prefix(a, b) < 5, "common prefix: {logins:?}");
            assert!(common_prefix(&rev(a), &rev(b)) < 5, "common suffix: {logins:?}");
            let differing = a.chars().zip(b.chars()).filter(|(x, y)| x != y).count();
            assert!(differing >= 5, "{a} and {b} differ in {differing} places only: {logins:?}");
        }
    }
    app.stop().await;
}
