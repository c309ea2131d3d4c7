//! Forward authentication: a real nginx protects a static site and an app with `auth_request`
//! to keyturn's `/auth/verify`. A paying customer's browser gets in and the app learns who they
//! are; no session, a suspended, revoked, expired or refunded customer is turned away; a
//! visitor without a session goes to the login page and comes back to the page they wanted
//! (only to an allowed host).

use reqwest::header::{HeaderMap, LOCATION};
use reqwest::Response;
use serde_json::json;

use crate::harness::nginx::{echo_upstream, Nginx, Protect};
use crate::harness::process::free_port;
use crate::harness::*;
use crate::refunds::{paid_customer, refund};

const DAY: i64 = 86_400;

/// keyturn allowing rd to nginx's host, and nginx in front of it (None: nginx missing).
async fn protected() -> Option<(TestApp, Nginx)> {
    let port = free_port();
    let app = TestApp::builder()
        .set("return_hosts", &format!("127.0.0.1:{port}"))
        .set("trusted_proxies", "127.0.0.1")
        .start()
        .await;
    let echo_port = echo_upstream().await;
    let nginx = Nginx::start(&Protect { keyturn: &app.base, port, service: "demo", echo_port }).await?;
    Some((app, nginx))
}

async fn get(c: &Customer, url: &str) -> Response {
    c.client.get(url).send().await.unwrap()
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).map(|v| v.to_str().unwrap()).unwrap_or_default()
}

/// `/auth/verify` asked directly, as a proxy would.
async fn verify(app: &TestApp, c: &Customer, query: &str) -> Response {
    get(c, &app.url(&format!("/auth/verify{query}"))).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_lets_paying_customers_in_and_tells_the_app_who_they_are() {
    let Some((app, nginx)) = protected().await else { return };
    let page = format!("{}/files/index.html", nginx.base);
    assert_eq!(get(&app.customer(), &page).await.status(), 401, "no session");

    let c = app.active().await;
    let resp = get(&c.customer, &page).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "members only: files/index.html\n");

    // The app behind nginx receives the login; headers the visitor sends are overwritten, and
    // the keyturn session cookie is not passed on.
    let mut forged = c.customer.client.get(format!("{}/app/hello", nginx.base));
    for h in ["Remote-User", "Remote-Email", "Remote-Name", "Remote-Groups", "X-Keyturn-Access-State"] {
        forged = forged.header(h, "evil");
    }
    let echoed = json_or_text(forged.send().await.unwrap(), 200).await.to_lowercase();
    assert!(echoed.contains(&format!("remote-user: {}", c.login)), "{echoed}");
    assert!(echoed.contains("remote-groups: demo"), "{echoed}");
    assert!(echoed.contains("x-keyturn-access-state: active"), "{echoed}");
    assert!(!echoed.contains("evil"), "{echoed}");
    assert!(!echoed.contains("keyturn_session"), "the session cookie stays with the proxy: {echoed}");

    // The answer itself, as Caddy and Traefik copy it.
    let resp = verify(&app, &c.customer, "?service=demo").await;
    assert_eq!(resp.status(), 200);
    let h = resp.headers();
    assert_eq!(header(h, "remote-user"), c.login);
    assert_eq!(header(h, "remote-email"), c.email);
    assert_eq!(header(h, "remote-groups"), "demo");
    assert_eq!(header(h, "cache-control"), "no-store");
    assert!(chrono::DateTime::parse_from_rfc3339(header(h, "x-keyturn-active-until")).is_ok());
    assert_eq!(verify(&app, &c.customer, "").await.status(), 200, "without a service any access will do");
    let other = verify(&app, &c.customer, "?service=other").await;
    assert_eq!((other.status().as_u16(), header(other.headers(), "x-keyturn-reason")), (403, "no_access"));

    // A customer still on the temporary password is told to change it first.
    let (_, temporary) = app.verified().await;
    let t = app.customer();
    json_status(t.login(&temporary.login, &temporary.password).await, 200).await;
    let r = verify(&app, &t, "?service=demo").await;
    assert_eq!((r.status().as_u16(), header(r.headers(), "x-keyturn-reason")), (403, "password_change_required"));
    assert_eq!(get(&t, &page).await.status(), 403);

    // Suspended and revoked customers are turned away at once: both end every session, so the
    // old cookie is no session at all (401).
    let support = app.admin("support").await;
    let (s, r, raced) = (app.active().await, app.active().await, app.active().await);
    assert_eq!(get(&s.customer, &page).await.status(), 200);
    assert_eq!(support.post(&format!("/accounts/{}/suspend", s.login), &json!({})).await.status(), 204);
    assert_eq!(get(&s.customer, &page).await.status(), 401, "suspended");
    assert_eq!(verify(&app, &s.customer, "?service=demo").await.status(), 401);
    assert_eq!(support.post(&format!("/accounts/{}/revoke", r.login), &json!({})).await.status(), 204);
    assert_eq!(get(&r.customer, &page).await.status(), 401, "revoked");
    // A session that outlived its account's suspension (a login racing it) is refused by name.
    let n = app.execute_sql(&format!("UPDATE accounts SET status = 'suspended' WHERE login = '{}'", raced.login)).await;
    assert_eq!(n, 1);
    let v = verify(&app, &raced.customer, "?service=demo").await;
    assert_eq!((v.status().as_u16(), header(v.headers(), "x-keyturn-reason")), (403, "suspended"));
    assert_eq!(get(&raced.customer, &page).await.status(), 403);

    // A full refund takes the period back at once: no grace days for it.
    let (order_id, refunded) = paid_customer(&app, "pay_forward_refund").await;
    assert_eq!(get(&refunded, &page).await.status(), 200);
    refund(&app, &order_id, "pay_forward_refund", app.demo().await.price_minor).await;
    assert_eq!(get(&refunded, &page).await.status(), 403, "refunded");
    let r = verify(&app, &refunded, "?service=demo").await;
    assert_eq!(header(r.headers(), "x-keyturn-reason"), "expired");
    app.stop().await;
}

/// Body text of a response with this status.
async fn json_or_text(resp: Response, status: u16) -> String {
    assert_eq!(resp.status(), status);
    resp.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_access_opens_through_its_grace_days_then_closes() {
    let Some((app, nginx)) = protected().await else { return };
    let page = format!("{}/files/index.html", nginx.base);
    let c = app.active().await;
    let period = app.demo().await.period_days * DAY;

    // The check never writes: it does not even move the session's idle clock.
    app.clock.advance(20 * 60);
    assert_eq!(get(&c.customer, &page).await.status(), 200);
    app.clock.advance(11 * 60);
    assert_eq!(get(&c.customer, &page).await.status(), 401, "idle for 31 minutes as far as the cabinet knows");

    // Past the paid period, within the grace: still open, and the cabinet warns.
    app.clock.advance(period + 3600 - 31 * 60);
    json_status(c.customer.login(&c.login, &c.password).await, 200).await;
    let r = verify(&app, &c.customer, "?service=demo").await;
    assert_eq!((r.status().as_u16(), header(r.headers(), "x-keyturn-access-state")), (200, "grace"));
    assert_eq!(get(&c.customer, &page).await.status(), 200);
    let me = json_status(c.customer.me().await, 200).await;
    assert_eq!(me["services"][0]["state"], "grace", "{me}");

    // After the grace: closed, and the reason says so.
    app.clock.advance(3 * DAY);
    json_status(c.customer.login(&c.login, &c.password).await, 200).await;
    assert_eq!(get(&c.customer, &page).await.status(), 403);
    let r = verify(&app, &c.customer, "?service=demo").await;
    assert_eq!((r.status().as_u16(), header(r.headers(), "x-keyturn-reason")), (403, "expired"));
    let me = json_status(c.customer.me().await, 200).await;
    assert_eq!(me["services"][0]["state"], "ended", "{me}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_logs_in_and_comes_back_to_the_page_only_on_an_allowed_host() {
    let Some((app, nginx)) = protected().await else { return };
    let c = app.active().await;
    let visitor = app.customer();

    // nginx sends the visitor to the login page, with the page they wanted as rd.
    let wanted = format!("{}/course/lesson.html", nginx.base);
    let resp = get(&visitor, &wanted).await;
    assert_eq!(resp.status(), 302);
    let login_page = header(resp.headers(), LOCATION.as_str()).to_string();
    let rd: String = url::form_urlencoded::Serializer::new(String::new()).append_pair("rd", &wanted).finish();
    assert_eq!(login_page, format!("{}/cabinet?{rd}", app.public_url));

    // The login page will send them back; once logged in, it does.
    let html = json_or_text(get(&visitor, &login_page).await, 200).await;
    assert!(html.contains(&format!("data-url=\"{wanted}\"")), "{html}");
    json_status(visitor.login(&c.login, &c.password).await, 200).await;
    let back = get(&visitor, &login_page).await;
    assert_eq!(back.status(), 303);
    assert_eq!(header(back.headers(), LOCATION.as_str()), wanted);
    assert_eq!(json_or_text(get(&visitor, &wanted).await, 200).await, "members only: course/lesson.html\n");

    // A forged X-Forwarded-Host is never a way out: the login page alone.
    let forged = app
        .client
        .get(app.url("/auth/verify?service=demo&redirect=true"))
        .header("X-Forwarded-Proto", "https")
        .header("X-Forwarded-Host", "evil.example")
        .header("X-Forwarded-Uri", "/steal")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 302);
    assert_eq!(header(forged.headers(), LOCATION.as_str()), format!("{}/cabinet", app.public_url));
    for rd in ["https://evil.example/", "//evil.example", "https:evil.example", "/\\evil.example"] {
        let q: String = url::form_urlencoded::Serializer::new(String::new()).append_pair("rd", rd).finish();
        let resp = get(&visitor, &app.url(&format!("/cabinet?{q}"))).await;
        let html = json_or_text(resp, 200).await;
        assert!(!html.contains("data-url"), "{rd} is not followed: {html}");
    }
    app.stop().await;
}

/// `/auth/verify` with a redirect, carrying the headers a proxy sends for an allowed page.
async fn forwarded_verify(app: &TestApp) -> String {
    let resp = app
        .client
        .get(app.url("/auth/verify?service=demo&redirect=true"))
        .header("X-Forwarded-Proto", "http")
        .header("X-Forwarded-Host", "127.0.0.1:9")
        .header("X-Forwarded-Uri", "/course/x")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    header(resp.headers(), LOCATION.as_str()).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_return_url_is_built_only_from_a_trusted_proxys_headers() {
    // An allowed host, but the sender is no trusted proxy: no rd.
    let app = TestApp::builder().set("return_hosts", "127.0.0.1").start().await;
    assert_eq!(forwarded_verify(&app).await, format!("{}/cabinet", app.public_url));
    app.stop().await;

    let app = TestApp::builder().set("return_hosts", "127.0.0.1").set("trusted_proxies", "127.0.0.1").start().await;
    let rd: String =
        url::form_urlencoded::Serializer::new(String::new()).append_pair("rd", "http://127.0.0.1:9/course/x").finish();
    assert_eq!(forwarded_verify(&app).await, format!("{}/cabinet?{rd}", app.public_url));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cabinet_sends_the_customer_back_after_login_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let Some(browser) = crate::harness::browser::browser_or_skip(&dir.path().join("chromium-profile")).await else {
        return;
    };
    let app = TestApp::builder().set("return_hosts", "127.0.0.1").start().await;
    let c = app.active().await;
    let wanted = app.url("/healthz");
    let q: String = url::form_urlencoded::Serializer::new(String::new()).append_pair("rd", &wanted).finish();
    browser.goto(&app.url(&format!("/cabinet?{q}"))).await;
    browser.wait_for_visible("#login-form", std::time::Duration::from_secs(10)).await;
    browser.type_into("#l", &c.login).await;
    browser.type_into("#p", &c.password).await;
    browser.click("#login-form button").await;
    let back = "return window.location.href === arguments[0];";
    browser.wait_until_with(back, json!([wanted]), std::time::Duration::from_secs(10)).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cookie_domain_shares_the_session_with_the_services_hosts() {
    let app = TestApp::builder()
        .set("public_url", "https://account.shop.example")
        .set("cookie_domain", ".shop.example")
        .start()
        .await;
    let (_, creds) = app.verified().await;
    let resp = app.post_json("/api/v1/session", &json!({"login": creds.login, "password": creds.password})).await;
    assert_eq!(resp.status(), 200);
    let set = header(resp.headers(), "set-cookie").to_string();
    assert!(set.starts_with("__Secure-keyturn_session="), "{set}");
    for attr in ["Domain=shop.example", "Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set.split("; ").any(|a| a == attr), "{attr} missing: {set}");
    }
    // The service's host presents it back; forward auth reads it.
    let cookie = set.split(';').next().unwrap().to_string();
    let r = app.client.get(app.url("/auth/verify")).header("cookie", cookie).send().await.unwrap();
    assert_eq!((r.status().as_u16(), header(r.headers(), "x-keyturn-reason")), (403, "password_change_required"));
    app.stop().await;
}
