//! The merchant's admin portal (`/admin`) in a real browser, one file per kind of admin:
//! operators (capture, refund, invoices; a viewer reading the audit log), support (TOTP, account
//! actions, the email outbox, a customer's data), owners (services, admins, audit paging), and
//! every role seeing exactly the controls the server accepts from it. Without a browser: the
//! page and its scripts are served under the strict CSP, and the script's currency table agrees
//! with the server's.

mod buy_links;
mod confirmations;
mod operators;
mod owners;
mod roles;
mod support;

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::harness::browser::Driver;
use crate::harness::*;

const WAIT: Duration = Duration::from_secs(15);
const SCRIPT: &str = include_str!("../../../assets/admin.js");
const SCRIPTS: [(&str, &str); 8] = [
    ("/assets/admin.js", SCRIPT),
    ("/assets/admin-accounts.js", include_str!("../../../assets/admin-accounts.js")),
    ("/assets/admin-manage.js", include_str!("../../../assets/admin-manage.js")),
    ("/assets/admin-webhooks.js", include_str!("../../../assets/admin-webhooks.js")),
    ("/assets/admin-keys.js", include_str!("../../../assets/admin-keys.js")),
    ("/assets/admin-oidc.js", include_str!("../../../assets/admin-oidc.js")),
    ("/assets/admin-accesses.js", include_str!("../../../assets/admin-accesses.js")),
    ("/assets/admin-sales.js", include_str!("../../../assets/admin-sales.js")),
];

/// Opens the portal's login form (already on the page, or at `url`) and logs `admin` in.
async fn log_in(browser: &Driver, url: Option<&str>, admin: &AdminActor) {
    if let Some(url) = url {
        browser.goto(&format!("{url}/admin")).await;
    }
    browser.wait_for_visible("#login-form", WAIT).await;
    browser.type_into("#u", &admin.username).await;
    browser.type_into("#pw", &admin.password).await;
    browser.click("#login-form button[type=submit]").await;
}

/// Waits until `n` emails to `to` are given up; returns them.
async fn dead_emails(admin: &AdminActor, to: &str, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + MAIL_TIMEOUT;
    loop {
        let v = json_status(admin.get("/emails?status=dead").await, 200).await;
        let mine: Vec<Value> = v.as_array().unwrap().iter().filter(|e| e["to"] == to).cloned().collect();
        if mine.len() == n {
            return mine;
        }
        assert!(Instant::now() < deadline, "the emails were never given up: {v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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
    assert_eq!(html.matches("<script").count(), SCRIPTS.len(), "inline scripts: {html}");
    assert!(!has_inline_handler(&html), "inline event handlers: {html}");

    for (path, source) in SCRIPTS {
        assert!(html.contains(&format!("<script src=\"{path}\"></script>")), "{html}");
        let script = app.get(path).await;
        assert_eq!(script.status(), 200);
        assert_eq!(header(&script, "content-type"), "text/javascript; charset=utf-8");
        assert_eq!(script.text().await.unwrap(), source);
        for markup in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"] {
            assert!(!source.contains(markup), "{path} uses {markup}: data must go in as text");
        }
    }
    app.stop().await;
}

/// `<tag … onclick=…>`-style attributes.
fn has_inline_handler(html: &str) -> bool {
    html.split('<').any(|tag| {
        let tag = tag.split('>').next().unwrap_or_default();
        tag.split_whitespace().skip(1).any(|attr| attr.starts_with("on") && attr.contains('='))
    })
}

/// Says yes in the confirmation a payment operation asks for; returns what it showed.
async fn confirm_operation(browser: &Driver) -> String {
    browser.wait_for_visible("#op-confirm-yes", WAIT).await;
    let shown = browser.script("return document.getElementById('op-confirm').textContent;", json!([])).await;
    browser.click("#op-confirm-yes").await;
    shown.as_str().unwrap_or_default().to_string()
}

/// Whether an element matching `css` is on the page and shown.
async fn shown(browser: &Driver, css: &str) -> bool {
    let script = "const e = document.querySelector(arguments[0]); return !!e && e.getClientRects().length > 0;";
    browser.script(script, json!([css])).await == json!(true)
}

fn header(resp: &reqwest::Response, name: &str) -> String {
    resp.headers().get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
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
