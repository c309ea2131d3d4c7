//! The customer's pages in a real browser (headless Chromium via chromedriver): a
//! site-builder form → the pay page → the sandbox card page → 3-D Secure → the return
//! page → the verification page → "You are in". Screenshots land in target/browser/.
//!
//! Runs when chromedriver is installed (`.ci/run` installs it and sets
//! KEYTURN_REQUIRE_BROWSER=1, which turns a missing browser into a failure).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};

struct Driver {
    child: Child,
    base: String,
    session: String,
    http: reqwest::Client,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find(bin: &str) -> Option<PathBuf> {
    ["/usr/bin", "/usr/local/bin", "/usr/lib/chromium"].iter().map(|d| Path::new(d).join(bin)).find(|p| p.exists())
}

impl Driver {
    async fn start(profile: &Path) -> Option<Driver> {
        let driver = find("chromedriver")?;
        let chromium = find("chromium")?;
        let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        while http.get(format!("{base}/status")).send().await.is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium.to_string_lossy(),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-quic", "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", "--window-size=900,1100",
                         format!("--user-data-dir={}", profile.display())]
            }
        }}});
        let resp: Value = http.post(format!("{base}/session")).json(&caps).send().await.ok()?.json().await.ok()?;
        let session = resp["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {resp}")).to_string();
        Some(Driver { child, base, session, http })
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{}", self.base, self.session, path);
        let mut req = self.http.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let v: Value = req.send().await.expect("webdriver").json().await.expect("webdriver json");
        assert!(v["value"]["error"].is_null(), "webdriver {path}: {v}");
        v["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", Some(json!({ "url": url }))).await;
    }

    async fn element(&self, css: &str) -> String {
        let v = self.cmd(reqwest::Method::POST, "/element", Some(json!({"using": "css selector", "value": css}))).await;
        v.as_object().and_then(|o| o.values().next()).and_then(|id| id.as_str()).expect("element id").to_string()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css).await;
        self.cmd(reqwest::Method::POST, &format!("/element/{id}/value"), Some(json!({ "text": text }))).await;
    }

    async fn click(&self, css: &str) {
        let id = self.element(css).await;
        self.cmd(reqwest::Method::POST, &format!("/element/{id}/click"), Some(json!({}))).await;
    }

    /// The page's visible text, read in one script call (the return page reloads itself, so
    /// a body element fetched first could go stale before its text is read).
    async fn text(&self) -> String {
        let script = json!({"script": "return document.body ? document.body.innerText : '';", "args": []});
        self.cmd(reqwest::Method::POST, "/execute/sync", Some(script)).await.as_str().unwrap_or_default().to_string()
    }

    async fn url(&self) -> String {
        self.cmd(reqwest::Method::GET, "/url", None).await.as_str().unwrap_or_default().to_string()
    }

    async fn wait_for_text(&self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let t = self.text().await;
            if t.contains(needle) {
                return t;
            }
            assert!(Instant::now() < deadline, "page never showed {needle:?}; it shows:\n{t}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn screenshot(&self, name: &str) {
        let b64 = self.cmd(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD.decode(b64.as_str().unwrap_or_default()).expect("png");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("screenshot");
    }
}

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
    let Some(browser) = Driver::start(&profile).await else {
        assert!(
            std::env::var("KEYTURN_REQUIRE_BROWSER").is_err(),
            "KEYTURN_REQUIRE_BROWSER is set but chromium/chromedriver are not installed"
        );
        eprintln!("browser test skipped: install chromium and chromium-driver to run it");
        return;
    };
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
    assert!(pay.contains("19.90 EUR"), "pay page shows the amount: {pay}");
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
    let field = browser.element("#n").await;
    browser.cmd(reqwest::Method::POST, &format!("/element/{field}/clear"), Some(json!({}))).await;
    browser.type_into("#n", new_password).await;
    browser.click("#change-form button").await;
    let cabinet = browser.wait_for_text("Password saved", Duration::from_secs(10)).await;
    assert!(cabinet.contains("Demo service (30 days)"), "the cabinet lists the service: {cabinet}");
    assert!(cabinet.contains(&login));
    browser.screenshot("6-cabinet").await;

    // Back/reload of the confirmation does not consume anything twice.
    browser.goto(&link).await;
    browser.click("button[type=submit]").await;
    browser.wait_for_text("already used", Duration::from_secs(10)).await;
    app.stop().await;
}
