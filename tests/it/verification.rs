//! Email verification links and resending them.

use serde_json::json;

use crate::harness::customer::session_cookie_value;
use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_token_is_single_use_and_tamper_proof() {
    let app = TestApp::builder().start().await;
    let (email, _, creds) = app.provisioned().await;

    // A mail scanner prefetching the link twice changes nothing.
    for _ in 0..2 {
        assert_eq!(app.get(&format!("/verify-email?token={}", creds.token)).await.status(), 200);
    }

    // Tampered and garbage tokens.
    let mut tampered = creds.token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert_error(app.verify(&tampered).await, 400, "invalid_token").await;
    for garbage in ["", "x", "' OR 1=1 --", "\u{0}", &"A".repeat(2000)] {
        assert_error(app.verify(garbage).await, 400, "invalid_token").await;
    }

    // Confirming does not log anyone in.
    let resp = app.verify(&creds.token).await;
    assert!(session_cookie_value(&resp).is_none(), "verification set a session cookie");
    assert_eq!(json_status(resp, 200).await, json!({"status": "active"}));

    // Double click: the second POST is told the link was used.
    assert_error(app.verify(&creds.token).await, 409, "token_used").await;
    app.mail.wait_for(&email, Kind::Activation, 1, MAIL_TIMEOUT).await;
    app.assert_mail_count(&email, Kind::Activation, 1).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_simultaneous_clicks_activate_once() {
    let app = TestApp::builder().start().await;
    let (email, _, creds) = app.provisioned().await;
    let answers = futures_util::future::join_all((0..10).map(|_| app.verify(&creds.token))).await;
    let mut statuses = vec![];
    for resp in answers {
        let status = resp.status().as_u16();
        let v: serde_json::Value = resp.json().await.unwrap();
        if status != 200 {
            assert_eq!((status, v["error"].as_str().unwrap_or("")), (409, "token_used"), "{v}");
        }
        statuses.push(status);
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    app.mail.wait_for(&email, Kind::Activation, 1, MAIL_TIMEOUT).await;
    app.assert_mail_count(&email, Kind::Activation, 1).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_link_expires_after_48_hours_and_resend_recovers() {
    let app = TestApp::builder().start().await;
    let (email, _, creds) = app.provisioned().await;
    app.clock.advance(48 * 3600 + 60);
    assert_error(app.verify(&creds.token).await, 410, "token_expired").await;
    assert_error(app.customer().login(&creds.login, &creds.password).await, 403, "email_not_verified").await;

    // A fresh link (and password) gets the customer in.
    assert_eq!(app.resend(&email).await.status(), 202);
    let fresh = app.mail.credentials(&email, 2).await;
    assert_eq!(fresh.login, creds.login);
    json_status(app.verify(&fresh.token).await, 200).await;
    let login = json_status(app.customer().login(&fresh.login, &fresh.password).await, 200).await;
    assert_eq!(login["must_change_password"], true);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resend_answers_202_for_unknown_and_known_addresses() {
    let app = TestApp::builder().start().await;
    let nobody = unique_email();
    let resp = app.resend(&nobody).await;
    assert_eq!(resp.status(), 202);
    let unknown_body = resp.bytes().await.unwrap();

    let (email, _, old) = app.provisioned().await;
    let resp = app.resend(&email).await;
    assert_eq!(resp.status(), 202);
    assert_eq!(resp.bytes().await.unwrap(), unknown_body, "known and unknown addresses answered differently");

    let new = app.mail.credentials(&email, 2).await;
    assert_eq!(new.login, old.login);
    assert_ne!(new.password, old.password);
    assert_ne!(new.token, old.token);

    // The old link and the old password stop working, and the old link says why: a newer
    // email replaced it (not "expired"). The new ones work.
    assert_error(app.verify(&old.token).await, 410, "token_replaced").await;
    let page = app.client.post(app.url("/verify-email")).form(&[("token", old.token.as_str())]).send().await.unwrap();
    assert_eq!(page.status(), 410);
    assert!(page.text().await.unwrap().contains("A newer email replaced this link"), "the page does not say why");
    json_status(app.verify(&new.token).await, 200).await;
    assert_error(app.customer().login(&old.login, &old.password).await, 401, "invalid_credentials").await;
    json_status(app.customer().login(&new.login, &new.password).await, 200).await;

    // Nothing is ever sent to an address we do not know.
    app.assert_mail_count(&nobody, Kind::Any, 0).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resend_for_an_active_account_sends_a_reset_link_not_a_new_password() {
    let app = TestApp::builder().start().await;
    let active = app.active().await;
    assert_eq!(app.resend(&active.email).await.status(), 202);
    app.mail.wait_for(&active.email, Kind::PasswordReset, 1, MAIL_TIMEOUT).await;
    app.assert_mail_count(&active.email, Kind::Credentials, 1).await;
    let again = app.customer();
    json_status(again.login(&active.login, &active.password).await, 200).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resend_is_throttled_per_address() {
    let app = TestApp::builder().set("resend_per_hour", "3").start().await;
    let (email, _, _) = app.provisioned().await;
    for _ in 0..5 {
        assert_eq!(app.resend(&email).await.status(), 202);
    }
    // The original email plus three resends; the 4th and 5th send nothing.
    app.mail.wait_for(&email, Kind::Credentials, 4, MAIL_TIMEOUT).await;
    app.assert_mail_count(&email, Kind::Credentials, 4).await;

    // The newest password is the one that works.
    let latest = app.mail.credentials(&email, 4).await;
    json_status(app.verify(&latest.token).await, 200).await;
    json_status(app.customer().login(&latest.login, &latest.password).await, 200).await;
    let earlier = app.mail.credentials(&email, 3).await;
    assert_error(app.customer().login(&earlier.login, &earlier.password).await, 401, "invalid_credentials").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resend_throttle_window_is_one_hour() {
    let app = TestApp::builder().set("resend_per_hour", "1").start().await;
    let (email, _, _) = app.provisioned().await;
    assert_eq!(app.resend(&email).await.status(), 202);
    assert_eq!(app.resend(&email).await.status(), 202);
    app.mail.wait_for(&email, Kind::Credentials, 2, MAIL_TIMEOUT).await;
    app.assert_mail_count(&email, Kind::Credentials, 2).await;

    app.clock.advance(3600 + 60);
    assert_eq!(app.resend(&email).await.status(), 202);
    app.mail.wait_for(&email, Kind::Credentials, 3, MAIL_TIMEOUT).await;
    app.stop().await;
}

/// A suspended account's link is not consumed: the answer says why (API and page), and the
/// same link works once the account is reinstated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspended_account_keeps_its_link_until_reinstated() {
    let app = TestApp::builder().start().await;
    let support = app.admin("support").await;
    let (email, _, creds) = app.provisioned().await;
    let login = creds.login.clone();
    assert_eq!(support.post(&format!("/accounts/{login}/suspend"), &json!({})).await.status(), 204);

    assert_error(app.verify(&creds.token).await, 403, "account_suspended").await;
    let page = app.client.post(app.url("/verify-email")).form(&[("token", creds.token.as_str())]).send().await.unwrap();
    assert_eq!(page.status(), 403);
    let text = page.text().await.unwrap();
    assert!(text.contains("suspended") && !text.contains("account is active"), "{text}");
    let found = json_status(support.get(&format!("/accounts?q={email}")).await, 200).await;
    assert_eq!(found[0]["status"], "suspended", "nothing was activated");

    assert_eq!(support.post(&format!("/accounts/{login}/reinstate"), &json!({})).await.status(), 204);
    assert_eq!(json_status(app.verify(&creds.token).await, 200).await, json!({"status": "active"}));
    app.mail.wait_for(&email, Kind::Activation, 1, MAIL_TIMEOUT).await;
    json_status(app.customer().login(&login, &creds.password).await, 200).await;
    app.stop().await;
}

/// With hCaptcha on, the resend form on the verification pages carries the widget (the resend
/// is refused without its answer), and the page's CSP lets it load; the form's post works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_resend_form_carries_the_captcha_widget_when_captcha_is_on() {
    let app = TestApp::builder().captcha().start().await;
    let bad_link = app.get(&format!("/verify-email?token={}", "x".repeat(200))).await;
    assert_eq!(bad_link.status(), 400);
    let csp = bad_link.headers().get("content-security-policy").unwrap().to_str().unwrap().to_string();
    assert_eq!(
        csp_directive(&csp, "script-src").as_deref(),
        Some("https://hcaptcha.com https://*.hcaptcha.com"),
        "{csp}"
    );
    let page = bad_link.text().await.unwrap();
    assert!(page.contains("action=\"/verify-email/resend\""), "{page}");
    assert!(page.contains("class=\"h-captcha\" data-sitekey=") && page.contains("js.hcaptcha.com/1/api.js"), "{page}");
    assert_eq!(inline_scripts(&page), 0, "{page}");
    // A failed confirmation offers the same form.
    let failed = app.client.post(app.url("/verify-email")).form(&[("token", "unknown-token")]).send().await.unwrap();
    assert_eq!(failed.status(), 400);
    assert!(
        failed.text().await.unwrap().contains("class=\"h-captcha\""),
        "the form offered after a failure lacks the widget"
    );

    // The form as the browser posts it: refused without the widget's answer (and shown again), sent with it.
    let email = unique_email();
    let resend = |token: Option<&str>| {
        let mut form = vec![("email", email.clone())];
        if let Some(t) = token {
            form.push(("h-captcha-response", t.to_string()));
        }
        app.client.post(app.url("/verify-email/resend")).form(&form).send()
    };
    let refused = resend(None).await.unwrap();
    assert_eq!(refused.status(), 400);
    let page = refused.text().await.unwrap();
    assert!(page.contains("Please complete the captcha.") && page.contains("class=\"h-captcha\""), "{page}");
    let sent = resend(Some(crate::harness::captcha::GOOD_TOKEN)).await.unwrap();
    assert_eq!(sent.status(), 200);
    assert!(sent.text().await.unwrap().contains("Check your email"));

    // Without captcha: no widget, and the strict CSP of every page.
    let plain = TestApp::builder().start().await;
    let resp = plain.get("/verify-email?token=").await;
    assert!(!resp.headers().get("content-security-policy").unwrap().to_str().unwrap().contains("hcaptcha"));
    assert!(!resp.text().await.unwrap().contains("h-captcha"));
    plain.stop().await;
    app.stop().await;
}
