//! The cabinet and the renewal link in headless Chromium: a customer in grace sees the warning,
//! turns reminders off, and Renew (in the cabinet or on the link's page) leads to `/pay`.

use std::time::Duration;

use serde_json::json;

use crate::harness::browser::browser_or_skip;

use super::*;

const WAIT: Duration = Duration::from_secs(15);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_real_browser_the_cabinet_warns_in_grace_and_renew_leads_to_the_payment_page() {
    let dir = tempfile::tempdir().unwrap();
    let Some(browser) = browser_or_skip(&dir.path().join("chromium-profile")).await else { return };
    let app = TestApp::builder().start().await;
    let a = app.active().await;
    app.clock.advance(31 * DAY);

    browser.goto(&format!("{}/cabinet", app.public_url)).await;
    browser.wait_for_visible("#login-form", WAIT).await;
    browser.type_into("#l", &a.login).await;
    browser.type_into("#p", &a.password).await;
    browser.click("#login-form button").await;
    let cabinet = browser.wait_for_text("renew to keep it", WAIT).await;
    assert!(cabinet.contains("Demo service"), "{cabinet}");
    browser.screenshot("renew-1-grace").await;

    // Reminders off, as the API then says.
    browser.click("#reminders").await;
    browser.wait_for_text("Renewal reminders are off.", WAIT).await;
    relogin(&a).await;
    assert_eq!(json_status(a.customer.me().await, 200).await["renewal_reminders"], false);

    browser.click("button[data-renew=demo]").await;
    let pay = browser.wait_for_text("Pay for your order", WAIT).await;
    assert!(pay.contains("€19.90"), "{pay}");
    let from_cabinet = browser.url().await;
    assert!(from_cabinet.contains("/pay/ord_"), "{from_cabinet}");
    browser.screenshot("renew-2-pay").await;

    // The link from a reminder email: its page, then the button, to the same open order.
    let link = app.renewal_link(&a.login, "demo", 10 * DAY).await;
    browser.goto(&app.url(&link)).await;
    browser.wait_for_text("Renew your subscription", WAIT).await;
    browser.screenshot("renew-3-link").await;
    browser.click("form button[type=submit]").await;
    browser.wait_for_text("Pay for your order", WAIT).await;
    assert_eq!(browser.url().await, from_cabinet, "the link and the cabinet share the open renewal order");

    // Support sees the customer among the accesses in grace in the admin portal.
    let support = app.new_admin("support").await;
    browser.goto(&format!("{}/admin", app.public_url)).await;
    browser.wait_for_visible("#login-form", WAIT).await;
    browser.type_into("#u", &support.username).await;
    browser.type_into("#pw", &support.password).await;
    browser.click("#login-form button[type=submit]").await;
    browser.wait_for_visible("button[data-tab=accesses]", WAIT).await;
    browser.click("button[data-tab=accesses]").await;
    browser.wait_for_visible("#access-filter", WAIT).await;
    browser.script("document.getElementById('ac-state').value = 'grace';", json!([])).await;
    browser.click("#access-filter button[type=submit]").await;
    let script = "const t = document.querySelector('#access-table tbody'); \
                  return !!t && t.textContent.includes(arguments[0]) && t.textContent.includes('in grace');";
    browser.wait_until_with(script, json!([a.login]), WAIT).await;
    browser.screenshot("renew-4-admin-accesses").await;
    app.stop().await;
}
