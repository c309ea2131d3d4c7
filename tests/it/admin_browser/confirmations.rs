//! Money never moves on one click: a refund shows its amount and the customer in a dialog,
//! "No" sends nothing, "Yes" refunds, and the customer gets a `refund` email (their cabinet then
//! shows the access as ended). An invoice's link is sent by email from its row. On a phone
//! (390 px) the portal's tables scroll inside themselves, never the page.

use reqwest::Method;
use serde_json::json;

use super::{confirm_operation, log_in, WAIT};
use crate::harness::browser::{browser_or_skip, Driver};
use crate::harness::*;

/// Counts the portal's refund requests.
const COUNT_REFUNDS: &str = "window.refunds = 0; const real = window.fetch;
    window.fetch = (url, opts) => { if (String(url).endsWith('/refund')) window.refunds += 1; return real(url, opts); };";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_asks_with_its_amount_and_the_customer_is_told_by_email() {
    let dir = tempfile::tempdir().unwrap();
    let Some(browser) = browser_or_skip(&dir.path().join("chromium-profile")).await else { return };
    let app = TestApp::builder().start().await;
    let operator = app.new_admin("operator").await;
    let viewer = app.admin("viewer").await;
    // A customer who paid at the sandbox (which can refund) and uses their account.
    let email = unique_email();
    let order_id = app.order(&email).await;
    app.pay_with_card(&order_id, "4242424242424242", "").await;
    let creds = app.mail.credentials(&email, 1).await;
    json_status(app.verify(&creds.token).await, 200).await;
    let customer = app.customer();
    json_status(customer.login(&creds.login, &creds.password).await, 200).await;
    let resp = customer.change_password(&creds.password, &strong_password()).await;
    assert_eq!(resp.status(), 204);
    assert_eq!(json_status(customer.me().await, 200).await["services"][0]["state"], "active");

    log_in(&browser, Some(&app.public_url), &operator).await;
    let open = format!("button[data-order='{order_id}']");
    browser.wait_for_visible(&open, WAIT).await;
    browser.click(&open).await;
    browser.wait_for_visible("button[data-action=refund]", WAIT).await;
    browser.script(COUNT_REFUNDS, json!([])).await;

    // "No": the dialog showed the amount and the customer (masked), and nothing was sent.
    browser.click("button[data-action=refund]").await;
    browser.wait_for_visible("#op-confirm-no", WAIT).await;
    let asked = browser.script("return document.getElementById('op-confirm').textContent;", json!([])).await;
    let asked = asked.as_str().unwrap().to_string();
    let masked = format!("{}***@", &email[..1]);
    assert!(asked.contains("Refund 19.90 EUR") && asked.contains(&masked), "the confirmation: {asked}");
    assert!(!asked.contains(&email), "the full address is shown: {asked}");
    browser.screenshot("confirm-1-refund-asked").await;
    browser.click("#op-confirm-no").await;
    browser.wait_for_text("nothing was done", WAIT).await;
    assert_eq!(browser.script("return window.refunds;", json!([])).await, json!(0), "a refund was sent after No");
    assert_eq!(viewer.payment_reaching(&order_id, "succeeded").await["refunded_minor"], 0);

    // "Yes": refunded, and the customer is told.
    browser.click("button[data-action=refund]").await;
    let asked = confirm_operation(&browser).await;
    assert!(asked.contains("19.90 EUR"), "{asked}");
    browser.wait_for_text("Refunded 19.90 EUR", WAIT).await;
    assert_eq!(browser.script("return window.refunds;", json!([])).await, json!(1));
    app.wait_for_status(&order_id, "refunded").await;
    let mail = app.mail.wait_for(&email, Kind::Other, 1, MAIL_TIMEOUT).await;
    assert!(mail.subject.contains("refund"), "{}", mail.subject);
    assert!(mail.text.contains("€19.90 of your payment of €19.90"), "{}", mail.text);
    assert!(mail.text.contains("has ended with this refund"), "{}", mail.text);
    // The cabinet shows the access taken back as ended, not "active until" a past time.
    let me = json_status(customer.me().await, 200).await;
    assert_eq!(me["services"][0]["state"], "ended", "{me}");
    app.run_pending_jobs().await;
    app.assert_no_pending_jobs().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invoice_link_is_sent_by_email_from_the_portal() {
    let dir = tempfile::tempdir().unwrap();
    let Some(browser) = browser_or_skip(&dir.path().join("chromium-profile")).await else { return };
    let app = TestApp::builder().start().await;
    let operator = app.new_admin("operator").await;
    let email = unique_email();
    let body = json!({"name": "Grace Hopper", "email": email, "service": "demo"});
    let created = json_status(app.admin("operator").await.post("/invoices", &body).await, 201).await;
    let invoice_id = created["invoice_id"].as_str().unwrap().to_string();

    log_in(&browser, Some(&app.public_url), &operator).await;
    browser.wait_for_visible("button[data-tab=invoices]", WAIT).await;
    browser.click("button[data-tab=invoices]").await;
    let send = format!("button[data-send-invoice='{invoice_id}']");
    browser.wait_for_visible(&send, WAIT).await;
    browser.click(&send).await;
    let said = browser.wait_for_text("is on its way to", WAIT).await;
    let domain = email.split('@').nth(1).unwrap();
    assert!(said.contains(&format!("on its way to ***@{domain}.")), "{said}");
    let mail = app.mail.wait_for(&email, Kind::Other, 1, MAIL_TIMEOUT).await;
    assert!(mail.text.contains(&format!("/invoice/{invoice_id}")), "{}", mail.text);
    let audit = operator.audit_as_owner(&app, "action=invoice.send").await;
    assert_eq!(audit.len(), 1, "{audit:?}");
    app.stop().await;
}

/// Sizes the browser's viewport to a phone's width.
async fn phone(browser: &Driver) {
    browser.cmd(Method::POST, "/window/rect", Some(json!({"width": 390, "height": 844}))).await;
}

/// The page's width and the viewport's (the page scrolls sideways when the first is larger),
/// with the shown elements that stick out, for the failure message.
async fn fits(browser: &Driver) -> (i64, i64, String) {
    let v = browser
        .script(
            "const w = document.documentElement.clientWidth;
             const out = [...document.querySelectorAll('body *')].filter((e) => e.getClientRects().length
                 && e.getBoundingClientRect().right > w + 1 && !e.parentElement.closest('table')).map((e) => e.tagName + '#' + e.id);
             return [document.documentElement.scrollWidth, w, out.slice(0, 12).join(' ')];",
            json!([]),
        )
        .await;
    (v[0].as_i64().unwrap(), v[1].as_i64().unwrap(), v[2].as_str().unwrap_or_default().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_portal_fits_a_phone_and_its_tables_scroll_inside() {
    let dir = tempfile::tempdir().unwrap();
    let Some(browser) = browser_or_skip(&dir.path().join("chromium-profile")).await else { return };
    let app = TestApp::builder().start().await;
    let owner = app.new_admin("owner").await;
    // Long values that would widen a table: an order and an invoice.
    let (_, order_id, _) = app.provisioned().await;
    let body = json!({"name": "Grace Brewster Murray Hopper", "email": unique_email(), "service": "demo"});
    json_status(app.admin("operator").await.post("/invoices", &body).await, 201).await;

    phone(&browser).await;
    log_in(&browser, Some(&app.public_url), &owner).await;
    let open = format!("button[data-order='{order_id}']");
    browser.wait_for_visible(&open, WAIT).await;
    let width = browser.script("return window.innerWidth;", json!([])).await;
    assert!(width.as_i64().unwrap() <= 400, "the viewport is not a phone's: {width}");
    let tabs = [
        "orders",
        "invoices",
        "accounts",
        "accesses",
        "emails",
        "audit",
        "services",
        "admins",
        "webhooks",
        "api-keys",
        "oidc-clients",
    ];
    for tab in tabs {
        browser.click(&format!("button[data-tab={tab}]")).await;
        browser.wait_until(&format!("return !document.getElementById('{tab}').hidden;"), WAIT).await;
        let (scroll, client, wide) = fits(&browser).await;
        assert!(scroll <= client, "the {tab} tab scrolls the page sideways: {scroll} > {client} ({wide})");
    }
    browser.click("button[data-tab=orders]").await;
    browser.click(&open).await;
    browser.wait_for_visible("#d-payments", WAIT).await;
    let (scroll, client, wide) = fits(&browser).await;
    assert!(scroll <= client, "the order page scrolls sideways: {scroll} > {client} ({wide})");
    // A table wider than the phone scrolls inside itself (never the page): it is a scroll box.
    let overflow =
        browser.script("return getComputedStyle(document.getElementById('d-payments')).overflowX;", json!([])).await;
    assert_eq!(overflow, json!("auto"), "the payments table is no scroll box on a phone");
    browser.screenshot("portal-390-order").await;
    app.stop().await;
}
