//! Forgot password (security requirements 19 and 49): a customer asks by email address or
//! login, gets a single-use link valid one hour, chooses a new password, and every session of
//! the account ends; the old password stops working and an email says the password changed.
//! Unknown addresses get the same answer in the same time; requests are throttled per address
//! (silently: still 202, no email) and per IP (429). Also: resend for active accounts, and
//! logging in with the email address.

use std::time::{Duration, Instant};

use reqwest::Response;
use serde_json::{json, Value};

use crate::harness::smtp::{self, Hold};
use crate::harness::*;

const LINK: &str = "/reset-password?token=";

pub async fn forgot(app: &TestApp, body: Value) -> Response {
    app.post_json("/api/v1/password-reset", &body).await
}

pub async fn confirm(app: &TestApp, token: &str, new_password: &str) -> Response {
    app.post_json("/api/v1/password-reset/confirm", &json!({"token": token, "new_password": new_password})).await
}

/// The link of the `nth` reset email to `to`, as written in it.
pub async fn reset_link(app: &TestApp, to: &str, nth: usize) -> String {
    let mail = app.mail.wait_for(to, Kind::PasswordReset, nth, MAIL_TIMEOUT).await;
    mail.link_to(LINK).unwrap_or_else(|| panic!("no reset link in: {}", mail.text))
}

pub fn token_of(link: &str) -> &str {
    link.split("token=").nth(1).unwrap()
}

/// Opens the link as a browser (or a mail scanner) would: `(status, page text)`.
async fn open(app: &TestApp, link: &str) -> (u16, String) {
    let path = link.strip_prefix(&app.public_url).unwrap_or_else(|| panic!("{link} is not under the public URL"));
    let resp = app.get(path).await;
    assert_eq!(header(&resp, "referrer-policy"), "no-referrer");
    (resp.status().as_u16(), resp.text().await.unwrap())
}

fn header(resp: &Response, name: &str) -> String {
    resp.headers().get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forgot_password_end_to_end_ends_every_session_and_the_old_password() {
    let app = TestApp::builder().start().await;
    let a = app.active().await;
    let phone = app.customer();
    json_status(phone.login(&a.email, &a.password).await, 200).await;

    let v = json_status(forgot(&app, json!({"email": a.email.to_uppercase()})).await, 202).await;
    assert_eq!(v, json!({"status": "accepted"}));
    let link = reset_link(&app, &a.email, 1).await;
    assert!(link.starts_with(&format!("{}{LINK}", app.public_url)), "{link}");

    // Opening the link (a mail scanner, then the customer) only shows the form.
    for _ in 0..2 {
        let (status, page) = open(&app, &link).await;
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("Choose a new password") && page.contains("new-password"), "{page}");
    }
    let laptop = app.customer();
    json_status(laptop.login(&a.login, &a.password).await, 200).await;

    let new_password = strong_password();
    assert_eq!(confirm(&app, token_of(&link), &new_password).await.status(), 204);
    // Every device is logged out: the first one, the phone and the laptop.
    for c in [&a.customer, &phone, &laptop] {
        assert_error(c.me().await, 401, "unauthenticated").await;
    }
    assert_error(app.customer().login(&a.login, &a.password).await, 401, "invalid_credentials").await;
    let fresh = app.customer();
    let v = json_status(fresh.login(&a.login, &new_password).await, 200).await;
    assert_eq!(v["must_change_password"], false);
    assert_eq!(json_status(fresh.me().await, 200).await["login"], a.login);

    // Single use: the API says so, and so does the page.
    assert_error(confirm(&app, token_of(&link), &strong_password()).await, 409, "token_used").await;
    let (status, page) = open(&app, &link).await;
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("already used") && page.contains("action=\"/forgot-password\""), "{page}");
    json_status(fresh.me().await, 200).await;

    let changed = app.mail.wait_for(&a.email, Kind::PasswordChanged, 1, MAIL_TIMEOUT).await;
    assert!(changed.text.contains(&a.login), "{}", changed.text);
    assert!(changed.text.contains(&format!("{}/forgot-password", app.public_url)), "{}", changed.text);
    app.assert_mail_count(&a.email, Kind::PasswordReset, 1).await;
    app.assert_mail_count(&a.email, Kind::PasswordChanged, 1).await;
    app.assert_no_pending_jobs().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_links_expire_after_an_hour_are_replaced_by_newer_ones_and_unknown_ones_are_refused() {
    let app = TestApp::builder().start().await;
    let a = app.active().await;
    json_status(forgot(&app, json!({"login": a.login})).await, 202).await;
    let old = reset_link(&app, &a.email, 1).await;
    app.clock.advance(3601);
    assert_error(confirm(&app, token_of(&old), &strong_password()).await, 410, "token_expired").await;
    assert_eq!(open(&app, &old).await.0, 410);

    // Two requests: only the newest link works.
    json_status(forgot(&app, json!({"email": a.email})).await, 202).await;
    let first = reset_link(&app, &a.email, 2).await;
    json_status(forgot(&app, json!({"email": a.email})).await, 202).await;
    let second = reset_link(&app, &a.email, 3).await;
    assert_error(confirm(&app, token_of(&first), &strong_password()).await, 410, "token_replaced").await;

    // Unknown and malformed tokens, and a verification link's token (another purpose).
    assert_error(confirm(&app, "nonsense", &strong_password()).await, 400, "invalid_token").await;
    assert_error(confirm(&app, "", &strong_password()).await, 400, "invalid_token").await;
    assert_error(confirm(&app, &"x".repeat(500), &strong_password()).await, 400, "invalid_token").await;
    let (_, _, pending) = app.provisioned().await;
    assert_error(confirm(&app, &pending.token, &strong_password()).await, 400, "invalid_token").await;
    assert_eq!(open(&app, &format!("{}{LINK}nonsense", app.public_url)).await.0, 400);

    // A weak password is refused without using the link up.
    assert_error(confirm(&app, token_of(&second), "short").await, 422, "weak_password").await;
    assert_error(confirm(&app, token_of(&second), "password1234").await, 422, "weak_password").await;
    assert_error(confirm(&app, token_of(&second), &"x".repeat(2000)).await, 422, "password_too_long").await;
    let password = strong_password();
    assert_eq!(confirm(&app, token_of(&second), &password).await.status(), 204);
    json_status(app.customer().login(&a.email, &password).await, 200).await;
    app.stop().await;
}

/// Same status, body and time for an address with an account and one without (measured like
/// the resend in `enumeration.rs`: pairs in alternating order, the median difference), while
/// the known address really gets its links.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_addresses_and_logins_get_the_same_answer_in_the_same_time_and_no_email() {
    const TRIES: usize = 11;
    let app = TestApp::builder().set("resend_per_hour", "100").start().await;
    let a = app.active().await;
    let unknown = unique_email();
    let timed = |body: Value| {
        let app = &app;
        async move {
            let start = Instant::now();
            let resp = forgot(app, body).await;
            let status = resp.status().as_u16();
            (start.elapsed(), status, resp.text().await.unwrap())
        }
    };
    let mut differences = vec![];
    for attempt in 0..TRIES {
        let (k, u) = (json!({"email": a.email}), json!({"email": unknown}));
        let ((tk, sk, bk), (tu, su, bu)) = if attempt % 2 == 0 {
            let known = timed(k).await;
            (known, timed(u).await)
        } else {
            let unknown = timed(u).await;
            (timed(k).await, unknown)
        };
        assert_eq!(sk, 202, "attempt {attempt}: {bk}");
        assert_eq!((su, &bu), (sk, &bk), "attempt {attempt}: the unknown address was answered differently");
        differences.push(tk.as_millis() as i64 - tu.as_millis() as i64);
    }
    differences.sort_unstable();
    let m = differences[TRIES / 2];
    assert!(m.abs() < 25, "known vs unknown address differ by {m} ms (median; all: {differences:?})");
    // By login too, and input that can name no account.
    for body in [json!({"login": "kt-nobody-here"}), json!({"email": "not an address"}), json!({})] {
        let resp = forgot(&app, body.clone()).await;
        assert_eq!(json_status(resp, 202).await, json!({"status": "accepted"}), "{body}");
    }
    app.assert_mail_count(&a.email, Kind::PasswordReset, TRIES).await;
    app.assert_mail_count(&unknown, Kind::Any, 0).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_throttled_per_address_silently_and_per_ip_with_429() {
    let app = TestApp::builder().set("resend_per_hour", "2").set("rate_limit_resend_per_minute", "5").start().await;
    let a = app.active().await;
    // The address and the login share one budget: two emails, then nothing (still 202).
    for body in [json!({"email": a.email}), json!({"login": a.login.to_uppercase()}), json!({"email": a.email})] {
        assert_eq!(json_status(forgot(&app, body).await, 202).await, json!({"status": "accepted"}));
    }
    app.assert_mail_count(&a.email, Kind::PasswordReset, 2).await;
    // An hour later the address has a new budget.
    app.clock.advance(3601);
    json_status(forgot(&app, json!({"email": a.email})).await, 202).await;
    app.assert_mail_count(&a.email, Kind::PasswordReset, 3).await;
    // Five requests a minute from one IP address, then 429.
    json_status(forgot(&app, json!({"email": unique_email()})).await, 202).await;
    let resp = forgot(&app, json!({"email": unique_email()})).await;
    assert!(resp.headers().contains_key("retry-after"));
    assert_error(resp, 429, "rate_limited").await;
    app.stop().await;
}

/// A database that does not answer is not a dead link: the page says to try again later (503),
/// and the link works once the database is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reset_page_says_try_again_later_when_the_database_does_not_answer() {
    let app = TestApp::builder().set("database_pool_size", "2").start().await;
    let a = app.active().await;
    json_status(forgot(&app, json!({"email": a.email})).await, 202).await;
    let link = reset_link(&app, &a.email, 1).await;
    let outage = app.hold_all_connections().await;
    let (status, page) = open(&app, &link).await;
    assert_eq!(status, 503, "{page}");
    assert!(page.contains("try again later") || page.contains("Please try again later"), "{page}");
    assert!(page.contains("the link still works") && !page.contains("does not work"), "{page}");
    assert!(!page.contains("action=\"/forgot-password\""), "no new link offered for a link that may be fine: {page}");
    let posted = app
        .client
        .post(app.url("/reset-password"))
        .form(&[("token", token_of(&link)), ("new_password", strong_password().as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 503);
    let page = posted.text().await.unwrap();
    assert!(page.contains("try again") && page.contains("name=\"token\""), "the form stays: {page}");
    outage.release().await;
    let (status, page) = open(&app, &link).await;
    assert_eq!(status, 200, "the link works after the outage: {page}");
    assert_eq!(confirm(&app, token_of(&link), &strong_password()).await.status(), 204);
    app.stop().await;
}

/// "Resend" and "forgot password" each have their own budget, per address and per IP: a
/// customer who used up the one can still use the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resend_and_forgot_password_have_budgets_of_their_own() {
    let app = TestApp::builder().set("resend_per_hour", "1").set("rate_limit_resend_per_minute", "2").start().await;
    let a = app.active().await;
    // "Resend" used up: one email an hour for the address, two requests a minute from the IP.
    assert_eq!(app.resend(&a.email).await.status(), 202);
    assert_eq!(app.resend(&a.email).await.status(), 202);
    assert_error(app.resend(&a.email).await, 429, "rate_limited").await;
    app.assert_mail_count(&a.email, Kind::PasswordReset, 1).await;
    // The forgot-password form still sends a link, by API and by page.
    json_status(forgot(&app, json!({"email": a.email})).await, 202).await;
    app.assert_mail_count(&a.email, Kind::PasswordReset, 2).await;
    let page = app.client.post(app.url("/forgot-password")).form(&[("email", a.email.as_str())]).send().await.unwrap();
    assert_eq!(page.status(), 200, "the page's request is not refused by the resend's budget");
    // Now its own budgets are used up, and they hold.
    assert_error(forgot(&app, json!({"email": a.email})).await, 429, "rate_limited").await;
    app.assert_mail_count(&a.email, Kind::PasswordReset, 2).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_reset_needs_a_captcha_when_configured() {
    let app = TestApp::builder().captcha().start().await;
    let email = unique_email();
    assert_error(forgot(&app, json!({"email": email})).await, 400, "captcha_required").await;
    let bad = json!({"email": email, "captcha_token": "20000000-aaaa-bbbb-cccc-000000000002"});
    assert_error(forgot(&app, bad).await, 403, "captcha_failed").await;
    let good = json!({"email": email, "captcha_token": crate::harness::captcha::GOOD_TOKEN});
    assert_eq!(json_status(forgot(&app, good).await, 202).await, json!({"status": "accepted"}));
    // The page's form carries the widget, and the page's CSP lets it load (and nothing inline).
    let page = app.get("/forgot-password").await;
    let csp = header(&page, "content-security-policy");
    assert!(csp.contains("script-src https://hcaptcha.com https://*.hcaptcha.com;"), "{csp}");
    let scripts = csp_directive(&csp, "script-src").unwrap_or_default();
    assert_eq!(scripts, "https://hcaptcha.com https://*.hcaptcha.com", "no inline code, no other host: {csp}");
    let html = page.text().await.unwrap();
    assert_eq!(inline_scripts(&html), 0, "{html}");
    assert!(html.contains("class=\"h-captcha\" data-sitekey=") && html.contains("js.hcaptcha.com/1/api.js"), "{html}");
    let without = TestApp::builder().start().await;
    let plain = without.get("/forgot-password").await;
    assert!(!header(&plain, "content-security-policy").contains("hcaptcha"));
    assert!(!plain.text().await.unwrap().contains("h-captcha"));
    without.stop().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unverified_account_resets_by_login_and_the_link_confirms_its_address() {
    let app = TestApp::builder().start().await;
    let (email, _, creds) = app.provisioned().await;
    json_status(forgot(&app, json!({"login": creds.login})).await, 202).await;
    let link = reset_link(&app, &email, 1).await;
    let password = strong_password();
    assert_eq!(confirm(&app, token_of(&link), &password).await.status(), 204);
    let c = app.customer();
    let v = json_status(c.login(&email, &password).await, 200).await;
    assert_eq!(v["must_change_password"], false, "the chosen password is the account's own");
    assert_eq!(json_status(c.me().await, 200).await["status"], "active");
    assert_error(app.customer().login(&creds.login, &creds.password).await, 401, "invalid_credentials").await;
    app.mail.wait_for(&email, Kind::PasswordChanged, 1, MAIL_TIMEOUT).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspended_account_gets_no_link_and_cannot_use_an_earlier_one() {
    let app = TestApp::builder().start().await;
    let support = app.admin("support").await;
    let a = app.active().await;
    json_status(forgot(&app, json!({"email": a.email})).await, 202).await;
    let link = reset_link(&app, &a.email, 1).await;
    assert_eq!(support.post(&format!("/accounts/{}/suspend", a.login), &json!({})).await.status(), 204);
    assert_error(confirm(&app, token_of(&link), &strong_password()).await, 403, "account_suspended").await;
    let v = json_status(forgot(&app, json!({"email": a.email})).await, 202).await;
    assert_eq!(v, json!({"status": "accepted"}));
    app.assert_mail_count(&a.email, Kind::PasswordReset, 1).await;
    // The suspension ended the link: it does not come back with the account.
    assert_eq!(support.post(&format!("/accounts/{}/reinstate", a.login), &json!({})).await.status(), 204);
    assert_error(confirm(&app, token_of(&link), &strong_password()).await, 410, "token_expired").await;
    json_status(app.customer().login(&a.login, &a.password).await, 200).await;
    app.stop().await;
}

/// The resend form, asked by an active account, sends a reset link only, also while its
/// temporary password expired unused: an address alone never replaces a password (a new
/// temporary one comes only from an administrator).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resend_for_an_active_account_sends_a_reset_link_even_after_the_temporary_password_expired() {
    let app = TestApp::builder().start().await;
    let (email, creds) = app.verified().await;
    app.clock.advance(73 * 3600);
    let refused =
        assert_error(app.customer().login(&creds.login, &creds.password).await, 401, "temporary_password_expired")
            .await;
    assert!(refused["message"].as_str().unwrap().contains("/forgot-password"), "{refused}");
    assert_eq!(app.resend(&email).await.status(), 202);
    let link = reset_link(&app, &email, 1).await;
    // Only the credentials email of the order: no new temporary password was sent.
    app.assert_mail_count(&email, Kind::Credentials, 1).await;
    let subjects: Vec<String> = app.mail.to(&email).iter().map(|m| m.subject.to_lowercase()).collect();
    assert!(subjects.iter().all(|s| !s.contains("new temporary password")), "{subjects:?}");
    let password = strong_password();
    assert_eq!(confirm(&app, token_of(&link), &password).await.status(), 204);
    let v = json_status(app.customer().login(&email, &password).await, 200).await;
    assert_eq!(v["must_change_password"], false);

    let a = app.active().await;
    assert_eq!(app.resend(&a.email).await.status(), 202);
    reset_link(&app, &a.email, 1).await;
    app.stop().await;
}

/// A link asked for before the customer changed the password in the cabinet no longer works
/// after it (it could be in a mailbox the customer no longer trusts).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_link_issued_before_a_password_change_is_refused_after_it() {
    let app = TestApp::builder().start().await;
    let a = app.active().await;
    json_status(forgot(&app, json!({"email": a.email})).await, 202).await;
    let link = reset_link(&app, &a.email, 1).await;
    assert_eq!(open(&app, &link).await.0, 200, "the link works before the change");
    let changed = strong_password();
    assert_eq!(a.customer.change_password(&a.password, &changed).await.status(), 204);
    assert_error(confirm(&app, token_of(&link), &strong_password()).await, 410, "token_expired").await;
    assert_eq!(open(&app, &link).await.0, 410);
    json_status(app.customer().login(&a.login, &changed).await, 200).await;
    app.stop().await;
}

/// Two confirmations of one link at the same moment: exactly one sets its password, the other
/// is told the link was used; the winner's password works, the loser's does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_confirms_of_one_link_set_the_password_once() {
    let app = TestApp::builder().start().await;
    let a = app.active().await;
    json_status(forgot(&app, json!({"email": a.email})).await, 202).await;
    let link = reset_link(&app, &a.email, 1).await;
    let (first, second) = (strong_password(), strong_password());
    let (r1, r2) = tokio::join!(confirm(&app, token_of(&link), &first), confirm(&app, token_of(&link), &second));
    let (s1, s2) = (r1.status().as_u16(), r2.status().as_u16());
    let (won, lost, loser) = match (s1, s2) {
        (204, _) => (&first, &second, r2),
        (_, 204) => (&second, &first, r1),
        _ => panic!("neither confirmation succeeded: {s1} {s2}"),
    };
    assert_error(loser, 409, "token_used").await;
    json_status(app.customer().login(&a.login, won).await, 200).await;
    assert_error(app.customer().login(&a.login, lost).await, 401, "invalid_credentials").await;
    app.mail.wait_for(&a.email, Kind::PasswordChanged, 1, MAIL_TIMEOUT).await;
    app.assert_no_pending_jobs().await;
    app.assert_mail_count(&a.email, Kind::PasswordChanged, 1).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_log_in_with_their_email_address_in_any_case_under_the_same_lockout() {
    let app = TestApp::builder().set("login_failures_per_hour", "3").start().await;
    let a = app.active().await;
    let mixed: String =
        a.email.chars().enumerate().map(|(i, c)| if i % 2 == 0 { c.to_ascii_uppercase() } else { c }).collect();
    for login in [a.email.clone(), mixed.clone(), format!("  {}  ", a.email.to_uppercase())] {
        let c = app.customer();
        json_status(c.login(&login, &a.password).await, 200).await;
        assert_eq!(json_status(c.me().await, 200).await["login"], a.login, "the login stays the identifier");
    }
    // A wrong password by email answers like an address nobody has.
    let by_email =
        assert_error(app.customer().login(&mixed, "Wrong-password-123").await, 401, "invalid_credentials").await;
    let nobody =
        assert_error(app.customer().login(&unique_email(), "Wrong-password-123").await, 401, "invalid_credentials")
            .await;
    assert_eq!(by_email, nobody);
    // One counter per account, whichever name was typed: 3 failures, then locked.
    assert_error(app.customer().login(&a.login, "Wrong-password-123").await, 401, "invalid_credentials").await;
    assert_error(app.customer().login(&a.email, "Wrong-password-123").await, 401, "invalid_credentials").await;
    assert_error(app.customer().login(&a.email, &a.password).await, 429, "too_many_attempts").await;
    assert_error(app.customer().login(&a.login, &a.password).await, 429, "too_many_attempts").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_the_password_in_the_cabinet_sends_a_password_changed_email() {
    let app = TestApp::builder().start().await;
    let a = app.active().await;
    // Choosing the first own password (replacing the temporary one) is no news to the customer.
    app.assert_mail_count(&a.email, Kind::PasswordChanged, 0).await;
    let password = strong_password();
    assert_eq!(a.customer.change_password(&a.password, &password).await.status(), 204);
    let mail = app.mail.wait_for(&a.email, Kind::PasswordChanged, 1, MAIL_TIMEOUT).await;
    assert!(mail.text.contains("If it wasn't you"), "{}", mail.text);
    app.assert_mail_count(&a.email, Kind::PasswordChanged, 1).await;
    app.stop().await;
}

/// The "password changed" email states when the change was made, in UTC and saying so, and
/// what to do if it was not the customer — also when it goes out late (the worker busy with
/// another email) and the account changed again meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_changed_email_states_when_the_change_was_made() {
    let (server, gate) = smtp::gated();
    let app = TestApp::builder().smtp_at(server.addr.port(), server.store.clone()).start().await;
    let a = app.active().await;
    // The mail server holds another email: the worker waits on it.
    gate.set(Hold::BeforeMail);
    json_status(forgot(&app, json!({"email": a.email})).await, 202).await;
    let deadline = Instant::now() + MAIL_TIMEOUT;
    while gate.waiting() == 0 {
        assert!(Instant::now() < deadline, "the worker never reached the mail server");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before = app.clock.now();
    let new_password = strong_password();
    assert_eq!(a.customer.change_password(&a.password, &new_password).await.status(), 204);
    let after = app.clock.now();
    // Two hours later, before that email goes out, the customer saves a setting.
    app.clock.advance(2 * 3600);
    let later = app.customer();
    json_status(later.login(&a.login, &new_password).await, 200).await;
    let saved = later
        .client
        .put(app.url("/api/v1/me/preferences"))
        .json(&json!({"renewal_reminders": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 200, "{}", saved.text().await.unwrap());
    gate.set(Hold::Nothing);
    let mail = app.mail.wait_for(&a.email, Kind::PasswordChanged, 1, MAIL_TIMEOUT).await;
    let stated: Vec<String> = [before, after]
        .iter()
        .map(|t| format!("was changed on {}", keyturn::i18n::format::date_time(keyturn::i18n::Locale::En, *t)))
        .collect();
    assert!(stated[0].ends_with("\u{a0}UTC"), "the zone is named: {}", stated[0]);
    assert!(stated.iter().any(|s| mail.text.contains(s.as_str())), "expected {stated:?} in: {}", mail.text);
    assert!(mail.text.contains("If it wasn't you") && mail.text.contains("/forgot-password"), "{}", mail.text);
    app.stop().await;
}

/// The pages in a real browser at a phone's width: the cabinet's "Forgot password?" link, the
/// form, the emailed link, the new password, then a login by email address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forgot_password_through_the_pages_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let Some(browser) = crate::harness::browser::browser_or_skip(&dir.path().join("chromium-profile")).await else {
        return;
    };
    const WAIT: Duration = Duration::from_secs(15);
    let app = TestApp::builder().start().await;
    let a = app.active().await;
    browser.cmd(reqwest::Method::POST, "/window/rect", Some(json!({"width": 390, "height": 844}))).await;
    let fits = "return document.documentElement.scrollWidth <= document.documentElement.clientWidth;";

    browser.goto(&format!("{}/cabinet", app.base)).await;
    browser.wait_for_visible("#forgot", WAIT).await;
    browser.click("#forgot").await;
    browser.wait_for_text("Forgot your password?", WAIT).await;
    assert_eq!(browser.script(fits, json!([])).await, true, "the form page scrolls sideways at 390 px");
    browser.type_into("#email", &a.email).await;
    browser.click("button[type=submit]").await;
    browser.wait_for_text("Check your email", WAIT).await;

    let link = reset_link(&app, &a.email, 1).await;
    browser.goto(&link.replace(&app.public_url, &app.base)).await;
    browser.wait_for_text("Choose a new password", WAIT).await;
    assert_eq!(browser.script(fits, json!([])).await, true, "the reset page scrolls sideways at 390 px");
    browser.type_into("#new_password", "short").await;
    browser.click("button[type=submit]").await;
    browser.wait_for_text("at least 12 characters", WAIT).await;
    let password = "lighthouse-marmalade-47-quietly";
    browser.type_into("#new_password", password).await;
    browser.click("button[type=submit]").await;
    browser.wait_for_text("Password changed", WAIT).await;
    browser.screenshot("reset-1-changed").await;

    browser.click("a.button").await;
    browser.wait_for_visible("#login-form", WAIT).await;
    let page = browser.text().await;
    assert!(page.contains("Login or email"), "{page}");
    browser.type_into("#l", &a.email.to_uppercase()).await;
    browser.type_into("#p", password).await;
    browser.click("#login-form button").await;
    let cabinet = browser.wait_for_text("Logged in as", WAIT).await;
    assert!(cabinet.contains(&a.login), "{cabinet}");
    assert_eq!(browser.script(fits, json!([])).await, true, "the cabinet scrolls sideways at 390 px");
    browser.screenshot("reset-2-cabinet").await;
    assert_error(a.customer.me().await, 401, "unauthenticated").await;

    // An expired temporary password: the login says so and points to the way back in.
    let (_, expired) = app.verified().await;
    app.clock.advance(73 * 3600);
    browser.click("#logout").await;
    browser.wait_for_visible("#login-form", WAIT).await;
    browser.clear("#l").await;
    browser.clear("#p").await;
    browser.type_into("#l", &expired.login).await;
    browser.type_into("#p", &expired.password).await;
    browser.click("#login-form button").await;
    // (The page's own hint mentions expired temporary passwords too: wait for the answer's words.)
    let said = browser.wait_for_text("below to get a link", WAIT).await;
    assert!(said.contains("Your temporary password has expired."), "{said}");
    let focused = browser.script("return document.activeElement && document.activeElement.id;", json!([])).await;
    assert_eq!(focused, "forgot", "the \"Forgot password?\" link is offered");
    browser.click("#forgot").await;
    browser.wait_for_text("Forgot your password?", WAIT).await;
    app.stop().await;
}
