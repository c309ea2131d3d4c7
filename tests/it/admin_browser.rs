//! The merchant's admin portal (`/admin`): in a real browser, an operator logs in, captures an
//! authorised payment, refunds part of it after confirming the password, and creates a
//! pay-by-link invoice. Without a browser: the page and its script are served under the strict
//! CSP, and the script's role and currency tables agree with the server's.

use std::time::Duration;

use keyturn::admin::roles::{allows, Permission, Role};
use serde_json::json;

use crate::harness::browser::{browser_or_skip, Driver};
use crate::harness::*;

const WAIT: Duration = Duration::from_secs(15);
const SCRIPT: &str = include_str!("../../assets/admin.js");

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

    browser.goto(&format!("{}/admin", app.public_url)).await;
    browser.wait_for_visible("#login-form", WAIT).await;
    browser.type_into("#u", &operator.username).await;
    browser.type_into("#pw", &operator.password).await;
    browser.click("#login-form button[type=submit]").await;
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
    browser.wait_for_visible("#login-form", WAIT).await;
    browser.type_into("#u", &viewer.username).await;
    browser.type_into("#pw", &viewer.password).await;
    browser.click("#login-form button[type=submit]").await;
    browser.wait_for_visible(&open, WAIT).await;
    browser.click(&open).await;
    browser.wait_for_text("partially_refunded", WAIT).await;
    let buttons = "return document.querySelectorAll('button[data-action], input.refund-amount').length;";
    assert_eq!(browser.script(buttons, json!([])).await, json!(0), "a viewer's order page offers operations");
    browser.click("button[data-tab=invoices]").await;
    browser.wait_for_text("Grace Hopper", WAIT).await;
    assert!(!shown(&browser, "#invoice-form").await, "a viewer is offered the invoice form");
    browser.screenshot("admin-6-viewer").await;
    browser.click("#logout").await;
    browser.wait_for_text("Logged out.", WAIT).await;

    browser.goto(&link).await;
    browser.wait_for_text("Pay your invoice", WAIT).await;
    browser.screenshot("admin-7-invoice-page").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_support_admin_enrols_totp_then_suspends_an_account_in_the_admin_portal() {
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
    browser.goto(&format!("{}/admin", app.public_url)).await;
    browser.wait_for_visible("#login-form", WAIT).await;
    browser.type_into("#u", &support.username).await;
    browser.type_into("#pw", &support.password).await;
    browser.click("#login-form button[type=submit]").await;
    browser.wait_for_text("required before you can continue", WAIT).await;
    assert!(!shown(&browser, "#app").await);
    browser.click("#enrol-start").await;
    browser.wait_for_visible("#enrol-form", WAIT).await;
    let secret = browser.script("return document.getElementById('enrol-key').textContent;", json!([])).await;
    let secret = secret.as_str().unwrap().to_string();
    assert!(browser.text().await.contains("otpauth://totp/"));
    browser.screenshot("admin-support-1-enrol").await;
    let code = keyturn::admin::totp::code_at(&secret, app.clock.now()).unwrap();
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

    // The next login asks for a code (a new one: a code works once).
    browser.click("#logout").await;
    browser.wait_for_text("Logged out.", WAIT).await;
    app.clock.advance(60);
    browser.type_into("#u", &support.username).await;
    browser.type_into("#pw", &support.password).await;
    browser.click("#login-form button[type=submit]").await;
    browser.wait_for_visible("#totp", WAIT).await;
    let code = keyturn::admin::totp::code_at(&secret, app.clock.now()).unwrap();
    browser.type_into("#totp", &code).await;
    browser.click("#login-form button[type=submit]").await;
    browser.wait_for_visible("#account-search", WAIT).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_page_and_its_script_are_served_under_the_strict_csp() {
    let app = TestApp::builder().start().await;
    let page = app.get("/admin").await;
    assert_eq!(page.status(), 200);
    assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
    let csp = header(&page, "content-security-policy");
    for directive in ["default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"] {
        assert!(csp.split(';').any(|d| d.trim() == directive), "CSP {csp:?} lacks {directive:?}");
    }
    let html = page.text().await.unwrap();
    assert!(html.contains("<script src=\"/assets/admin.js\"></script>"), "{html}");
    assert_eq!(html.matches("<script").count(), 1, "inline scripts: {html}");
    assert!(!has_inline_handler(&html), "inline event handlers: {html}");

    let script = app.get("/assets/admin.js").await;
    assert_eq!(script.status(), 200);
    assert_eq!(header(&script, "content-type"), "text/javascript; charset=utf-8");
    assert_eq!(script.text().await.unwrap(), SCRIPT);
    assert!(!SCRIPT.contains("innerHTML") && !SCRIPT.contains("insertAdjacentHTML"), "data must go in as text");
    app.stop().await;
}

/// `<tag … onclick=…>`-style attributes.
fn has_inline_handler(html: &str) -> bool {
    html.split('<').any(|tag| {
        let tag = tag.split('>').next().unwrap_or_default();
        tag.split_whitespace().skip(1).any(|attr| attr.starts_with("on") && attr.contains('='))
    })
}

async fn shown(browser: &Driver, css: &str) -> bool {
    let script = "return document.querySelector(arguments[0]).getClientRects().length > 0;";
    browser.script(script, json!([css])).await == json!(true)
}

fn header(resp: &reqwest::Response, name: &str) -> String {
    resp.headers().get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
}

/// `NAME: "role role",` lines of the script's ROLES table.
fn script_roles() -> Vec<(String, Vec<String>)> {
    let table = SCRIPT.split("const ROLES = {").nth(1).and_then(|t| t.split("};").next()).expect("ROLES table");
    table
        .lines()
        .filter_map(|l| l.trim().strip_suffix("\",")?.split_once(": \""))
        .map(|(p, roles)| (p.to_string(), roles.split(' ').map(String::from).collect()))
        .collect()
}

#[test]
fn the_portal_hides_exactly_what_the_server_refuses() {
    let table = script_roles();
    assert_eq!(table.len(), 5, "{table:?}");
    for (name, roles) in table {
        let permission = Permission::ALL.into_iter().find(|p| format!("{p:?}") == name).expect("a permission");
        for role in Role::ALL {
            assert_eq!(roles.iter().any(|r| r == role.as_str()), allows(role, permission), "{role:?} {name}");
        }
    }
}

#[test]
fn the_portal_formats_money_with_the_servers_exponents() {
    let list = |name: &str| -> Vec<String> {
        let rest = SCRIPT.split(&format!("const {name} = \"")).nth(1).expect(name);
        rest.split('"').next().unwrap().split(' ').map(String::from).collect()
    };
    let (zero, three) = (list("EXPONENT_0"), list("EXPONENT_3"));
    // Every three-letter code, so a currency added to src/money.rs is missed here too.
    for a in b'A'..=b'Z' {
        for b in b'A'..=b'Z' {
            for c in b'A'..=b'Z' {
                let code = String::from_utf8(vec![a, b, c]).unwrap();
                let script = if zero.contains(&code) {
                    0
                } else if three.contains(&code) {
                    3
                } else {
                    2
                };
                assert_eq!(script, keyturn::money::exponent(&code), "{code}");
            }
        }
    }
}
