//! Support enrols TOTP, suspends an account and revokes it; sends a given-up email again once
//! the mail server is back; extends a customer's access, exports their data and erases it.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{dead_emails, log_in, shown, WAIT};
use crate::harness::browser::browser_or_skip;
use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_support_admin_enrols_totp_then_suspends_and_revokes_an_account_in_the_admin_portal() {
    let dir = tempfile::tempdir().unwrap();
    let Some(browser) = browser_or_skip(&dir.path().join("chromium-profile")).await else { return };
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    owner.enrol_totp(app.clock.now()).await;
    let required =
        owner.request(reqwest::Method::PUT, "/settings/require-totp", Some(&json!({"required": true}))).await;
    assert_eq!(required.status(), 204);
    let support = app.new_admin("support").await;
    let (email, _, _) = app.provisioned().await;

    // Until TOTP is set up, the portal offers the enrolment and nothing else.
    log_in(&browser, Some(&app.public_url), &support).await;
    browser.wait_for_text("required before you can continue", WAIT).await;
    assert!(!shown(&browser, "#app").await);
    browser.click("#enrol-start").await;
    browser.wait_for_visible("#enrol-form", WAIT).await;
    let secret = browser.script("return document.getElementById('enrol-key').textContent;", json!([])).await;
    let secret = secret.as_str().unwrap().to_string();
    assert!(browser.text().await.contains("otpauth://totp/"));
    browser.screenshot("admin-support-1-enrol").await;
    let code = keyturn::admin::access::totp::code_at(&secret, app.clock.now()).unwrap();
    browser.type_into("#enrol-code", &code).await;
    browser.click("#enrol-form button[type=submit]").await;
    browser.wait_for_text("Two-factor authentication is on", WAIT).await;
    assert!(!shown(&browser, "button[data-tab=orders]").await, "support may not read orders");

    browser.type_into("#a-q", &email).await;
    browser.click("#account-search button[type=submit]").await;
    browser.wait_for_visible("button[data-action=suspend]", WAIT).await;
    browser.click("button[data-action=suspend]").await;
    browser.wait_for_text("Account suspended", WAIT).await;
    browser.wait_for_visible("button[data-action=reinstate]", WAIT).await;
    assert!(browser.text().await.contains("suspended"));
    browser.screenshot("admin-support-2-suspended").await;

    // Revoking cannot be undone: it is done only once confirmed, and then for good.
    browser.click("button[data-action=revoke]").await;
    browser.wait_for_visible("#confirm-no", WAIT).await;
    browser.click("#confirm-no").await;
    browser.wait_for_text("nothing was done", WAIT).await;
    browser.click("button[data-action=revoke]").await;
    browser.wait_for_visible("#confirm-yes", WAIT).await;
    browser.click("#confirm-yes").await;
    browser.wait_for_text("revoked.", WAIT).await;
    let found = json_status(owner.get(&format!("/accounts?q={email}")).await, 200).await;
    assert_eq!(found[0]["status"], "revoked");
    assert!(!shown(&browser, "button[data-action=reinstate]").await, "a revoked account is offered a reinstatement");

    // The next login asks for a code (a new one: a code works once).
    browser.click("#logout").await;
    browser.wait_for_text("Logged out.", WAIT).await;
    app.clock.advance(60);
    log_in(&browser, None, &support).await;
    browser.wait_for_visible("#totp", WAIT).await;
    let code = keyturn::admin::access::totp::code_at(&secret, app.clock.now()).unwrap();
    browser.type_into("#totp", &code).await;
    browser.click("#login-form button[type=submit]").await;
    browser.wait_for_visible("#account-search", WAIT).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn support_sends_a_given_up_email_again_then_extends_exports_and_erases_a_customer() {
    let dir = tempfile::tempdir().unwrap();
    let Some(browser) = browser_or_skip(&dir.path().join("chromium-profile")).await else { return };
    // The mail server is down and every email is given up after one attempt.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let store = smtp::Store::default();
    let app = TestApp::builder().smtp_at(port, store.clone()).set("outbox_max_attempts", "1").start().await;
    let owner = app.admin("owner").await;
    let support = app.new_admin("support").await;
    let email = unique_email();
    let order_id = app.order(&email).await;
    app.pay_by_callback(&order_id, "authenticated").await;
    let dead = dead_emails(&owner, &email, 2).await;
    let credentials = dead.iter().find(|e| e["kind"] == "credentials").expect("the credentials email is dead");
    let email_id = credentials["email_id"].as_str().unwrap();
    let login = credentials["login"].as_str().unwrap().to_string();

    log_in(&browser, Some(&app.public_url), &support).await;
    browser.wait_for_visible("#account-search", WAIT).await;
    browser.click("button[data-tab=emails]").await;
    let again = format!("button[data-email='{email_id}']");
    browser.wait_for_visible(&again, WAIT).await;
    let outbox = browser.text().await;
    let error = credentials["last_error"].as_str().unwrap();
    assert!(outbox.contains(&email) && outbox.contains(&login) && outbox.contains(error), "the outbox: {outbox}");
    browser.screenshot("admin-support-3-outbox").await;

    // The mail server is back: "Send again" delivers fresh credentials.
    smtp::spawn_on(std::net::TcpListener::bind(("127.0.0.1", port)).unwrap(), store);
    browser.click(&again).await;
    browser.wait_for_text("is queued again", WAIT).await;
    let creds = app.mail.credentials(&email, 1).await;
    assert_eq!(creds.login, login);
    browser.wait_until_with("return !document.querySelector(arguments[0]);", json!([again]), WAIT).await;
    assert!(browser.text().await.contains("payment_confirmation"), "the other given-up email stays listed");
    // Listed as sent once the worker has recorded it.
    browser.click("#e-status option[value=sent]").await;
    let sent = "return [...document.querySelectorAll('#email-table tbody tr')]
        .some((r) => r.cells.length > 4 && r.cells[1].textContent === 'credentials' && r.cells[4].textContent === 'sent');";
    let deadline = Instant::now() + WAIT;
    loop {
        browser.click("#email-filter button[type=submit]").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        if browser.script(sent, json!([])).await == json!(true) {
            break;
        }
        assert!(Instant::now() < deadline, "never listed as sent: {}", browser.text().await);
    }

    // Extend access by ten days.
    let before = access_until(&owner, &login).await;
    browser.click("button[data-tab=accounts]").await;
    browser.type_into("#a-q", &email).await;
    browser.click("#account-search button[type=submit]").await;
    browser.wait_for_visible(&format!("button[data-action=extend][data-login='{login}']"), WAIT).await;
    browser.click("button[data-action=extend]").await;
    browser.wait_for_visible("#extend-days", WAIT).await;
    let service = browser.script("return document.getElementById('extend-service').value;", json!([])).await;
    assert_eq!(service, json!("demo"), "the account's service is offered");
    browser.clear("#extend-days").await;
    browser.type_into("#extend-days", "10").await;
    browser.click("#extend-form button[type=submit]").await;
    browser.wait_for_text("extended by 10 days", WAIT).await;
    assert_eq!(access_until(&owner, &login).await - before, 10 * 86_400);

    // Export: the customer's data, downloaded as a file.
    browser.click("button[data-action=export]").await;
    browser.wait_for_text("is downloaded as", WAIT).await;
    let file = browser.download(&format!("keyturn-{login}.json"), WAIT).await;
    let export: Value = serde_json::from_slice(&file).expect("the export is JSON");
    assert_eq!(
        (export["account"]["login"].as_str(), export["account"]["email"].as_str()),
        (Some(&*login), Some(&*email))
    );
    browser.screenshot("admin-support-4-exported").await;

    // Erase: a confirmation that names the login, then the password (the login's proof is old).
    app.clock.advance(6 * 60);
    browser.click("button[data-action=erase]").await;
    browser.wait_for_visible("#confirm-yes", WAIT).await;
    let confirm = browser.script("return document.getElementById('confirm').innerText;", json!([])).await;
    assert!(confirm.as_str().unwrap().contains(&format!("Erase {login}'s data")), "{confirm}");
    browser.screenshot("admin-support-5-erase-confirm").await;
    browser.click("#confirm-yes").await;
    browser.wait_for_visible("#reauth-password", WAIT).await;
    browser.type_into("#reauth-password", &support.password).await;
    browser.click("#reauth-form button[type=submit]").await;
    browser.wait_for_text("is erased", WAIT).await;
    let erased = json_status(owner.get(&format!("/accounts/{login}/export")).await, 200).await;
    assert_eq!(erased["account"]["status"], "revoked");
    assert!(!erased.to_string().contains(&email), "the address is still there: {erased}");
    // Listed by its login now, revoked, with nothing left to do but export what remains.
    let revoked = "const row = document.querySelector('#account-table tbody tr');
        return row.cells[0].textContent === arguments[0] && row.cells[3].textContent === 'revoked'
            && !document.querySelector('button[data-action=suspend], button[data-action=revoke]');";
    browser.wait_until_with(revoked, json!([login]), WAIT).await;
    assert!(!shown(&browser, "#export-link").await, "the erased data is still offered");
    browser.screenshot("admin-support-6-erased").await;
    let entry = &owner.audit("action=account.erase").await[0];
    assert_eq!(entry["actor"].as_str(), Some(support.username.as_str()));
    app.stop().await;
}

/// When the account's first service ends (unix seconds), as the admin API says.
async fn access_until(admin: &AdminActor, login: &str) -> i64 {
    let found = json_status(admin.get(&format!("/accounts?q={login}")).await, 200).await;
    let until = found[0]["services"][0]["active_until"].as_str().expect("a service").to_string();
    chrono::DateTime::parse_from_rfc3339(&until).unwrap().timestamp()
}
