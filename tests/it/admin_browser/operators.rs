//! An operator captures an authorised payment, refunds part of it after confirming the
//! password (through a faked gateway outage), and creates a pay-by-link invoice; a viewer sees
//! the same without the buttons and reads the audit log.

use serde_json::json;

use super::{confirm_operation, log_in, shown, WAIT};
use crate::harness::browser::{browser_or_skip, Driver};
use crate::harness::*;

/// Records the Idempotency-Key of every refund request and answers the first with a 502
/// without sending it, as a gateway outage would.
const FAKE_OUTAGE: &str = "window.refundKeys = []; const real = window.fetch; let down = true;
    window.fetch = (url, opts) => {
        if (!String(url).endsWith('/refund')) return real(url, opts);
        window.refundKeys.push(opts.headers['Idempotency-Key']);
        if (!down) return real(url, opts);
        down = false;
        const body = JSON.stringify({error: 'gateway_unavailable', message: 'The gateway did not answer.'});
        return Promise.resolve(new Response(body, {status: 502, headers: {'Content-Type': 'application/json'}}));
    };";

async fn refund(browser: &Driver, amount: &str) {
    browser.wait_for_visible("input.refund-amount", WAIT).await;
    browser.clear("input.refund-amount").await;
    browser.type_into("input.refund-amount", amount).await;
    browser.click("button[data-action=refund]").await;
    confirm_operation(browser).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_captures_refunds_and_invoices_in_the_admin_portal() {
    let dir = tempfile::tempdir().unwrap();
    let Some(browser) = browser_or_skip(&dir.path().join("chromium-profile")).await else { return };
    let app = TestApp::builder().set("capture", "manual").start().await;
    let operator = app.new_admin("operator").await;
    let viewer = app.admin("viewer").await;
    // The customer chooses their name: the portal must show it as text, never as markup.
    let email = unique_email();
    let order = json!({"service": "demo", "name": "Ada <b>Lovelace</b>", "email": email});
    let placed = json_status(app.post_json("/api/v1/orders", &order).await, 201).await;
    let order_id = placed["order_id"].as_str().unwrap().to_string();
    app.pay_with_card(&order_id, "4242424242424242", "").await;
    viewer.payment_reaching(&order_id, "authorized").await;

    log_in(&browser, Some(&app.public_url), &operator).await;
    let open = format!("button[data-order='{order_id}']");
    browser.wait_for_visible(&open, WAIT).await;
    let orders = browser.text().await;
    assert!(orders.contains(&operator.username) && orders.contains("operator"), "who is logged in: {orders}");
    assert!(!shown(&browser, "button[data-tab=accounts]").await, "an operator may not read accounts");
    browser.screenshot("admin-1-orders").await;

    browser.click(&open).await;
    let detail = browser.wait_for_text("Ada <b>Lovelace</b>", WAIT).await;
    assert!(detail.contains("authorized") && detail.contains("19.90 EUR"), "the payment: {detail}");
    let markup = browser.script("return document.querySelectorAll('#order-detail b').length;", json!([])).await;
    assert_eq!(markup, json!(0), "the name was inserted as markup");
    browser.screenshot("admin-2-authorized").await;

    browser.click("button[data-action=capture]").await;
    let asked = confirm_operation(&browser).await;
    assert!(asked.contains("Capture 19.90 EUR") && asked.contains("Ada <b>Lovelace</b>"), "the confirmation: {asked}");
    browser.wait_for_text("Captured 19.90 EUR", WAIT).await;
    app.wait_for_status(&order_id, "provisioned").await;
    assert!(browser.text().await.contains("succeeded"));

    // The login's password proof has run out: the refund asks for the password first. The first
    // try meets a gateway outage (faked in the page): the retry must reuse its Idempotency-Key.
    app.clock.advance(6 * 60);
    browser.script(FAKE_OUTAGE, json!([])).await;
    refund(&browser, "5.00").await;
    browser.wait_for_text("The gateway did not answer", WAIT).await;
    browser.wait_for_text("press Refund again", WAIT).await;
    let kept = browser.script("return document.querySelector('input.refund-amount').value;", json!([])).await;
    assert_eq!(kept, json!("5.00"), "the unfinished refund is offered again as it was");
    browser.click("button[data-action=refund]").await;
    confirm_operation(&browser).await;
    browser.wait_for_visible("#reauth-password", WAIT).await;
    browser.screenshot("admin-3-reauth").await;
    browser.type_into("#reauth-password", &operator.password).await;
    browser.click("#reauth-form button[type=submit]").await;
    let refunded = browser.wait_for_text("Refunded 5.00 EUR", WAIT).await;
    assert!(refunded.contains("partially_refunded"), "the payment after the refund: {refunded}");
    // A second refund is a new action with a new key.
    refund(&browser, "1.00").await;
    browser.wait_for_text("Refunded 1.00 EUR", WAIT).await;
    let keys = browser.script("return window.refundKeys;", json!([])).await;
    let keys: Vec<&str> = keys.as_array().unwrap().iter().map(|k| k.as_str().unwrap()).collect();
    assert_eq!(keys.len(), 4, "502, 403 reauthentication_required, 200, 200: {keys:?}");
    assert!(keys[..3].iter().all(|k| *k == keys[0]) && keys[3] != keys[0], "{keys:?}");
    let payment = viewer.payment_reaching(&order_id, "partially_refunded").await;
    assert_eq!((payment["captured_minor"].as_i64(), payment["refunded_minor"].as_i64()), (Some(1990), Some(600)));
    browser.screenshot("admin-4-refunded").await;

    browser.click("button[data-tab=invoices]").await;
    browser.wait_for_visible("#inv-name", WAIT).await;
    browser.wait_until("return document.getElementById('inv-service').value === 'demo';", WAIT).await;
    browser.type_into("#inv-name", "Grace Hopper").await;
    browser.type_into("#inv-email", &unique_email()).await;
    browser.click("#invoice-form button[type=submit]").await;
    browser.wait_for_text("Invoice created", WAIT).await;
    let link = browser.script("return document.getElementById('inv-link').value;", json!([])).await;
    let link = link.as_str().unwrap().to_string();
    assert!(link.starts_with(&format!("{}/invoice/inv_", app.public_url)), "the link: {link}");
    let listed = browser.wait_for_text("Grace Hopper", WAIT).await;
    assert!(listed.contains("pending_payment"), "the invoice list: {listed}");
    browser.click("#inv-copy").await;
    browser.wait_until("return /copied|Ctrl\\+C/.test(document.getElementById('message').textContent);", WAIT).await;
    browser.screenshot("admin-5-invoice").await;

    browser.click("#logout").await;
    browser.wait_for_text("Logged out.", WAIT).await;

    // A viewer sees the same orders and invoices, without a button that would be refused.
    log_in(&browser, None, &viewer).await;
    browser.wait_for_visible(&open, WAIT).await;
    browser.click(&open).await;
    browser.wait_for_text("partially_refunded", WAIT).await;
    let buttons = "return document.querySelectorAll('button[data-action], input.refund-amount').length;";
    assert_eq!(browser.script(buttons, json!([])).await, json!(0), "a viewer's order page offers operations");
    browser.click("button[data-tab=invoices]").await;
    browser.wait_for_text("Grace Hopper", WAIT).await;
    assert!(!shown(&browser, "#invoice-form").await, "a viewer is offered the invoice form");
    browser.screenshot("admin-6-viewer").await;

    // The viewer reads the audit log, filtered down to what the operator did.
    browser.click("button[data-tab=audit]").await;
    browser.wait_for_text("admin.login", WAIT).await;
    browser.type_into("#au-actor", &operator.username).await;
    browser.click("#audit-filter button[type=submit]").await;
    let only = "const rows = [...document.querySelectorAll('#audit-table tbody tr')];
        return rows.length > 1 && rows.every((r) => r.cells[1].textContent === arguments[0]);";
    browser.wait_until_with(only, json!([operator.username]), WAIT).await;
    let audit = browser.text().await;
    for action in ["admin.login", "admin.reauth", "payment.capture", "payment.refund", "invoice.create"] {
        assert!(audit.contains(action), "the operator's {action} is not in the audit log: {audit}");
    }
    browser.screenshot("admin-6-viewer-audit").await;
    browser.click("#logout").await;
    browser.wait_for_text("Logged out.", WAIT).await;

    browser.goto(&link).await;
    browser.wait_for_text("Pay your invoice", WAIT).await;
    browser.screenshot("admin-7-invoice-page").await;
    app.stop().await;
}
