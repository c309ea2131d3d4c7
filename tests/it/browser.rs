//! The customer's pages in a real browser (headless Chromium via chromedriver): a
//! site-builder form → the pay page → the sandbox card page → 3-D Secure → the return
//! page → the verification page → "You are in". Screenshots land in target/browser/.
//!
//! Runs when chromedriver is installed (`.ci/run` installs it and sets
//! KEYTURN_REQUIRE_BROWSER=1, which turns a missing browser into a failure).

use std::path::Path;
use std::time::{Duration, Instant};

use crate::harness::browser::{browser_or_skip, processes_using};

fn credentials_from(mail_dir: &Path, to: &str) -> Option<(String, String, String)> {
    for entry in std::fs::read_dir(mail_dir).ok()? {
        let raw = std::fs::read_to_string(entry.ok()?.path()).ok()?;
        let text = keyturn::demo::decode_quoted_printable(&raw);
        if !text.contains(to) || !text.contains("Password:") {
            continue;
        }
        let login = text.lines().find_map(|l| l.trim().strip_prefix("Login:"))?.trim().to_string();
        let password = text.lines().find_map(|l| l.trim().strip_prefix("Password:"))?.trim().to_string();
        let link = text.split_whitespace().find(|w| w.contains("/verify-email?token="))?.trim_matches(['<', '>', '"']);
        return Some((login, password, link.to_string()));
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_pays_and_confirms_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("chromium-profile");
    let Some(browser) = browser_or_skip(&profile).await else { return };
    let data = dir.path().join("data");
    let settings = keyturn::config::Settings::from_pairs([
        ("data_dir", data.to_string_lossy().as_ref()),
        ("listen", "127.0.0.1:0"),
        ("worker_poll_ms", "100"),
    ])
    .unwrap();
    let mail_dir = settings.mail_dir();
    let app = keyturn::app::start(settings, keyturn::clock::Clock::system()).await.unwrap();
    let base = app.public_url();

    // A merchant's site-builder page (Tilda-style field names) posting to us.
    let form = format!(
        "<form method='post' action='{base}/forms/order'>\
         <input name='service' value='demo' type='hidden'>\
         <input name='Name' id='n'><input name='Email' id='e'><input name='Phone' id='p'>\
         <button id='go' type='submit'>Buy</button></form>"
    );
    let merchant = dir.path().join("merchant.html");
    std::fs::write(&merchant, form).unwrap();
    browser.goto(&format!("file://{}", merchant.display())).await;
    browser.type_into("#n", "Browser Customer").await;
    browser.type_into("#e", "browser.customer@example.com").await;
    browser.type_into("#p", "+7 777 123 45 67").await;
    browser.click("#go").await;

    let pay = browser.wait_for_text("Pay for your order", Duration::from_secs(10)).await;
    assert!(pay.contains("€19.90"), "pay page shows the amount: {pay}");
    browser.screenshot("1-pay").await;
    browser.click("a.button").await;

    browser.wait_for_text("Card payment", Duration::from_secs(10)).await;
    browser.type_into("input[name=card_number]", "4000 0000 0000 3220").await;
    browser.type_into("input[name=exp]", "12/30").await;
    browser.type_into("input[name=cvc]", "123").await;
    browser.screenshot("2-card").await;
    browser.click("button[type=submit]").await;

    browser.wait_for_text("Confirm your payment", Duration::from_secs(10)).await;
    browser.type_into("input[name=code]", "1234").await;
    browser.click("button[type=submit]").await;

    // The return page refreshes itself until the signed callback has marked the order paid.
    let done = browser.wait_for_text("Payment received", Duration::from_secs(20)).await;
    assert!(done.contains("***@example.com"), "the address is masked on the page: {done}");
    assert!(browser.url().await.contains("/return"));
    browser.screenshot("3-paid").await;

    let deadline = Instant::now() + Duration::from_secs(20);
    let (login, password, link) = loop {
        if let Some(c) = credentials_from(&mail_dir, "browser.customer@example.com") {
            break c;
        }
        assert!(Instant::now() < deadline, "no credentials email");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(login.starts_with("kt-"));

    // Opening the link only shows a page; pressing the button confirms.
    browser.goto(&link).await;
    browser.wait_for_text("Confirm your email address", Duration::from_secs(10)).await;
    browser.screenshot("4-verify").await;
    browser.click("button[type=submit]").await;
    browser.wait_for_text("You are in", Duration::from_secs(10)).await;
    browser.screenshot("5-active").await;

    // The cabinet: log in with the temporary password, choose a new one, see the service.
    browser.click("a.button").await;
    browser.wait_for_text("Your cabinet", Duration::from_secs(10)).await;
    browser.type_into("#l", &login).await;
    browser.type_into("#p", &password).await;
    browser.click("#login-form button").await;
    browser.wait_for_text("Choose your own password", Duration::from_secs(10)).await;
    browser.type_into("#n", "short").await;
    browser.click("#change-form button").await;
    browser.wait_for_text("at least 12 characters", Duration::from_secs(10)).await;
    let new_password = "lighthouse-marmalade-47-quietly";
    browser.clear("#n").await;
    browser.type_into("#n", new_password).await;
    browser.click("#change-form button").await;
    let cabinet = browser.wait_for_text("Password saved", Duration::from_secs(10)).await;
    assert!(cabinet.contains("Demo service"), "the cabinet lists the service: {cabinet}");
    assert!(cabinet.contains(&login));
    browser.screenshot("6-cabinet").await;

    // Back/reload of the confirmation does not consume anything twice.
    browser.goto(&link).await;
    browser.click("button[type=submit]").await;
    browser.wait_for_text("already used", Duration::from_secs(10)).await;
    app.stop().await;
}

/// Chromium ends with the test that started it (it used to outlive chromedriver).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_ends_with_its_test() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("chromium-profile");
    let Some(browser) = browser_or_skip(&profile).await else { return };
    browser.goto("about:blank").await;
    assert!(processes_using(&profile) > 0, "the running browser is not seen by its profile");
    drop(browser);
    let deadline = Instant::now() + Duration::from_secs(10);
    while processes_using(&profile) > 0 {
        assert!(Instant::now() < deadline, "{} Chromium processes outlived their test", processes_using(&profile));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
