//! The storefront in a real browser at a phone's width (390 px): a merchant's page on another
//! origin, with a strict CSP of its own, carries the embed snippet → Buy → the hosted order page
//! → pay in the sandbox → the credentials email → the cabinet; Tilda's success redirect lands on
//! the payment page. Every keyturn page on the way must fit the width without sideways scrolling.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::browser::{browser_or_skip, Driver};
use crate::harness::*;

const WAIT: Duration = Duration::from_secs(15);

/// Serves `html` to every request from another origin (another port), with a strict CSP that
/// allows scripts from keyturn's origin only. Runs until the test ends.
async fn merchant_site(html: String, keyturn: &str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let csp = format!("default-src 'self'; script-src {keyturn}; style-src 'self'; img-src 'self'");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let (html, csp) = (html.clone(), csp.clone());
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let _ = socket.read(&mut buf).await;
                let resp = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Security-Policy: {csp}\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{html}",
                    html.len()
                );
                let _ = socket.write_all(resp.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}")
}

/// The page fits a 390 px wide screen: nothing scrolls sideways.
async fn fits(browser: &Driver, what: &str) {
    let v = browser
        .script(
            "const d = document.documentElement; return [d.scrollWidth, d.clientWidth, window.innerWidth];",
            json!([]),
        )
        .await;
    let (scroll, client, inner) = (v[0].as_i64().unwrap(), v[1].as_i64().unwrap(), v[2].as_i64().unwrap());
    assert!(inner <= 400, "the window is not phone-sized ({inner} px) on {what}");
    assert!(scroll <= client, "{what} scrolls sideways at {inner} px: scrollWidth {scroll} > clientWidth {client}");
}

async fn phone_sized(browser: &Driver) {
    browser.cmd(Method::POST, "/window/rect", Some(json!({"width": 390, "height": 844}))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buyer_goes_from_a_merchant_page_with_the_snippet_to_the_cabinet_on_a_phone() {
    let dir = tempfile::tempdir().unwrap();
    let Some(browser) = browser_or_skip(&dir.path().join("chromium-profile")).await else { return };
    let app = TestApp::builder().set("embed_target", "same_window").start().await;
    let base = app.public_url.clone();
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Merchant</title></head><body>\
         <h1>Our course</h1><p>Buy it here:</p><script src=\"{base}/embed.js\" data-service=\"demo\" \
         data-label=\"Buy the course\" async></script></body></html>"
    );
    let merchant = merchant_site(html, &base).await;
    phone_sized(&browser).await;

    browser.goto(&format!("{merchant}/")).await;
    browser.wait_for_visible("a.keyturn-buy", WAIT).await;
    assert!(browser.text().await.contains("Buy the course"));
    browser.click("a.keyturn-buy").await;
    browser.wait_for_text("Continue to payment", WAIT).await;
    assert!(browser.url().await.starts_with(&format!("{base}/buy/demo")), "the snippet opened our order page");
    fits(&browser, "the order page").await;

    // A mistake the server catches (the browser's own checks are switched off for it).
    browser.script("document.querySelector('form').noValidate = true;", json!([])).await;
    browser.type_into("#name", "Phone Buyer").await;
    browser.type_into("#email", "not-an-address").await;
    browser.click("button[type=submit]").await;
    browser.wait_for_text("Email is not a valid address.", WAIT).await;
    fits(&browser, "the order page with an error").await;
    let kept = browser.script("return document.querySelector('#name').value;", json!([])).await;
    assert_eq!(kept, json!("Phone Buyer"), "the typed name is kept");

    let email = unique_email();
    browser.clear("#email").await;
    browser.type_into("#email", &email).await;
    browser.click("button[type=submit]").await;
    browser.wait_for_text("Pay for your order", WAIT).await;
    fits(&browser, "the payment page").await;
    browser.click("a.button").await;

    browser.wait_for_text("Card payment", WAIT).await;
    fits(&browser, "the sandbox card page").await;
    browser.type_into("input[name=card_number]", "4242 4242 4242 4242").await;
    browser.type_into("input[name=exp]", "12/30").await;
    browser.type_into("input[name=cvc]", "123").await;
    browser.click("button[type=submit]").await;
    let done = browser.wait_for_text("Payment received", Duration::from_secs(25)).await;
    assert!(done.contains("a temporary password"), "a new customer is told what comes: {done}");
    fits(&browser, "the return page").await;

    let creds = app.mail.credentials(&email, 1).await;
    browser.goto(&creds.link).await;
    browser.wait_for_text("Confirm your email address", WAIT).await;
    fits(&browser, "the verification page").await;
    browser.click("button[type=submit]").await;
    browser.wait_for_text("You are in", WAIT).await;
    fits(&browser, "the confirmed page").await;

    browser.click("a.button").await;
    browser.wait_for_text("Your cabinet", WAIT).await;
    fits(&browser, "the cabinet's login").await;
    browser.type_into("#l", &creds.login).await;
    browser.type_into("#p", &creds.password).await;
    browser.click("#login-form button").await;
    browser.wait_for_text("Choose your own password", WAIT).await;
    browser.type_into("#n", &strong_password()).await;
    browser.click("#change-form button").await;
    let cabinet = browser.wait_for_text("Password saved", WAIT).await;
    assert!(cabinet.contains("Demo service"), "{cabinet}");
    fits(&browser, "the cabinet").await;

    // The other pages a customer may meet.
    for (path, shows) in [
        ("/", "Demo service"),
        ("/pay/ord_unknown", "Go back"),
        ("/forms/tilda/continue?ref=0123456789abcdef0123456789abcdef", "Preparing"),
    ] {
        browser.goto(&format!("{base}{path}")).await;
        browser.wait_for_text(shows, WAIT).await;
        fits(&browser, path).await;
    }
    // "Go back" works under our CSP: back to the page before (not the link's fallback, "/").
    browser.goto(&format!("{base}/buy/demo")).await;
    browser.wait_for_text("Continue to payment", WAIT).await;
    browser.goto(&format!("{base}/pay/ord_unknown")).await;
    browser.wait_for_text("Go back", WAIT).await;
    browser.click("a[data-back]").await;
    browser.wait_until("return location.pathname === '/buy/demo';", WAIT).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tildas_success_redirect_brings_the_browser_to_payment() {
    let dir = tempfile::tempdir().unwrap();
    let Some(browser) = browser_or_skip(&dir.path().join("chromium-profile")).await else { return };
    let key = "tilda-key-0123456789abcdef";
    let app = TestApp::builder().set("tilda_key", key).set("tilda_service", "demo").start().await;
    phone_sized(&browser).await;
    // The browser may arrive before Tilda's call: the page waits, then moves on.
    let reference = "77889900aabbccdd77889900aabbccdd";
    browser.goto(&format!("{}/forms/tilda/continue?ref={reference}", app.public_url)).await;
    browser.wait_for_text("Preparing your order", WAIT).await;
    let email = unique_email();
    let fields = [
        ("Name", "Tilda Phone"),
        ("Email", email.as_str()),
        ("tranid", "77:88"),
        ("keyturn_ref", reference),
        ("api_key", key),
    ];
    let resp = app.client.post(app.url("/forms/tilda")).form(&fields).send().await.unwrap();
    assert_eq!(resp.text().await.unwrap(), "ok");
    browser.wait_for_text("Pay for your order", WAIT).await;
    fits(&browser, "the payment page after Tilda").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buy_button_opens_exactly_one_new_tab_and_the_merchant_page_stays() {
    let dir = tempfile::tempdir().unwrap();
    let Some(browser) = browser_or_skip(&dir.path().join("chromium-profile")).await else { return };
    let app = TestApp::builder().set("embed_target", "new_tab").start().await;
    let base = app.public_url.clone();
    // A button (no href), and the snippet included twice, as merchants paste it per button.
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Merchant</title></head><body>\
         <h1>Our course</h1><button id=\"buy\" data-keyturn-buy=\"demo\">Buy now</button>\
         <script src=\"{base}/embed.js\"></script><script src=\"{base}/embed.js\"></script></body></html>"
    );
    let merchant = merchant_site(html, &base).await;
    browser.goto(&format!("{merchant}/")).await;
    browser.wait_for_visible("#buy", WAIT).await;
    let home = browser.cmd(Method::GET, "/window", None).await;
    browser.click("#buy").await;

    let deadline = std::time::Instant::now() + WAIT;
    let tab = loop {
        let handles = browser.cmd(Method::GET, "/window/handles", None).await;
        let others: Vec<Value> = handles.as_array().unwrap().iter().filter(|h| **h != home).cloned().collect();
        if !others.is_empty() {
            break others;
        }
        assert!(std::time::Instant::now() < deadline, "no new tab opened");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(tab.len(), 1, "one click opened {} tabs", tab.len());
    browser.cmd(Method::POST, "/window", Some(json!({ "handle": tab[0] }))).await;
    browser.wait_for_text("Continue to payment", WAIT).await;
    assert!(browser.url().await.starts_with(&format!("{base}/buy/demo")));
    let opener = browser.script("return window.opener === null;", json!([])).await;
    assert_eq!(opener, json!(true), "the order page cannot reach back into the merchant's page");

    // By now a stray fallback navigation of the merchant's page would have happened.
    let handles = browser.cmd(Method::GET, "/window/handles", None).await;
    assert_eq!(handles.as_array().unwrap().len(), 2, "{handles}");
    browser.cmd(Method::POST, "/window", Some(json!({ "handle": home }))).await;
    assert!(browser.url().await.starts_with(&merchant), "the merchant's page navigated away");
    assert!(browser.text().await.contains("Our course"));
    app.stop().await;
}
