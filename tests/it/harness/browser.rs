//! A real browser for the tests: headless Chromium driven through chromedriver's WebDriver
//! API. Screenshots land in target/browser/; downloads in a `downloads` folder next to the
//! profile.
//!
//! Browser tests run when chromedriver is installed (`.ci/run` installs it and sets
//! KEYTURN_REQUIRE_BROWSER=1, which turns a missing browser into a failure).
//!
//! The browser ends with its test: dropping the [`Driver`] ends the WebDriver session (so
//! chromedriver quits Chromium) and then kills chromedriver's process group, where Chromium
//! and its helpers live, so nothing outlives the test even when it panicked.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};

pub struct Driver {
    child: Child,
    base: String,
    session: String,
    http: reqwest::Client,
    downloads: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        end_session(&self.base, &self.session);
        // chromedriver leads its own process group (see `start`): the browser is in it too.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `DELETE /session/{id}`: chromedriver quits the browser. Written by hand over a socket,
/// because `Drop` cannot await.
fn end_session(base: &str, session: &str) {
    let Some(addr) = base.strip_prefix("http://") else { return };
    let Ok(mut stream) = TcpStream::connect(addr) else { return };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let request =
        format!("DELETE /session/{session} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_ok() {
        let _ = stream.read_to_end(&mut Vec::new());
    }
}

/// How many running processes were started with `profile` as their Chromium profile
/// (`--user-data-dir`): the browser of one test, which must not outlive it.
pub fn processes_using(profile: &Path) -> usize {
    let needle = format!("--user-data-dir={}", profile.display());
    let Ok(procs) = std::fs::read_dir("/proc") else { return 0 };
    procs
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().bytes().all(|b| b.is_ascii_digit()))
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .filter(|cmdline| String::from_utf8_lossy(cmdline).split('\0').any(|arg| arg == needle))
        .count()
}

fn find(bin: &str) -> Option<PathBuf> {
    ["/usr/bin", "/usr/local/bin", "/usr/lib/chromium"].iter().map(|d| Path::new(d).join(bin)).find(|p| p.exists())
}

/// A browser with its profile under `profile`, or `None` when chromium or chromedriver is not
/// installed: the caller then skips its test. With KEYTURN_REQUIRE_BROWSER set, a missing
/// browser fails the test instead.
pub async fn browser_or_skip(profile: &Path) -> Option<Driver> {
    let driver = Driver::start(profile).await;
    if driver.is_none() {
        assert!(
            std::env::var("KEYTURN_REQUIRE_BROWSER").is_err(),
            "KEYTURN_REQUIRE_BROWSER is set but chromium/chromedriver are not installed"
        );
        eprintln!("browser test skipped: install chromium and chromium-driver to run it");
    }
    driver
}

impl Driver {
    pub async fn start(profile: &Path) -> Option<Driver> {
        let driver = find("chromedriver")?;
        let chromium = find("chromium")?;
        let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            // Its own process group, which Chromium joins: killed as one on drop.
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let base = format!("http://127.0.0.1:{port}");
        let downloads = profile.with_file_name("downloads");
        std::fs::create_dir_all(&downloads).ok()?;
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
                         format!("--user-data-dir={}", profile.display())],
                // chromedriver lets a headless browser download when a folder is set.
                "prefs": {"download.default_directory": downloads.to_string_lossy(),
                          "download.prompt_for_download": false}
            }
        }}});
        let resp: Value = http.post(format!("{base}/session")).json(&caps).send().await.ok()?.json().await.ok()?;
        let session = resp["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {resp}")).to_string();
        Some(Driver { child, base, session, http, downloads })
    }

    /// One WebDriver command of this session; panics on a WebDriver error.
    pub async fn cmd(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let v = self.try_cmd(method, path, body).await;
        assert!(v["value"]["error"].is_null(), "webdriver {path}: {v}");
        v["value"].clone()
    }

    /// One WebDriver command; the whole answer, errors included.
    async fn try_cmd(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{}", self.base, self.session, path);
        let mut req = self.http.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.expect("webdriver").json().await.expect("webdriver json")
    }

    pub async fn goto(&self, url: &str) {
        self.cmd(Method::POST, "/url", Some(json!({ "url": url }))).await;
    }

    /// The element's WebDriver id (it must be there already).
    pub async fn element(&self, css: &str) -> String {
        let v = self.cmd(Method::POST, "/element", Some(json!({"using": "css selector", "value": css}))).await;
        v.as_object().and_then(|o| o.values().next()).and_then(|id| id.as_str()).expect("element id").to_string()
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css).await;
        self.cmd(Method::POST, &format!("/element/{id}/value"), Some(json!({ "text": text }))).await;
    }

    /// Empties an input.
    pub async fn clear(&self, css: &str) {
        let id = self.element(css).await;
        self.cmd(Method::POST, &format!("/element/{id}/clear"), Some(json!({}))).await;
    }

    /// Clicks the element `css` names. The page may re-render it between finding and clicking
    /// (a list reloading): then it is found again, a few times, before giving up.
    pub async fn click(&self, css: &str) {
        for _ in 0..5 {
            let id = self.element(css).await;
            let v = self.try_cmd(Method::POST, &format!("/element/{id}/click"), Some(json!({}))).await;
            match v["value"]["error"].as_str() {
                None => return,
                Some("stale element reference") => tokio::time::sleep(Duration::from_millis(100)).await,
                Some(_) => panic!("webdriver click {css}: {v}"),
            }
        }
        panic!("{css} kept being replaced while it was clicked");
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page; returns its value.
    pub async fn script(&self, script: &str, args: Value) -> Value {
        self.cmd(Method::POST, "/execute/sync", Some(json!({"script": script, "args": args}))).await
    }

    /// The page's visible text, read in one script call (the return page reloads itself, so
    /// a body element fetched first could go stale before its text is read).
    pub async fn text(&self) -> String {
        let v = self.script("return document.body ? document.body.innerText : '';", json!([])).await;
        v.as_str().unwrap_or_default().to_string()
    }

    pub async fn url(&self) -> String {
        self.cmd(Method::GET, "/url", None).await.as_str().unwrap_or_default().to_string()
    }

    pub async fn wait_for_text(&self, needle: &str, timeout: Duration) -> String {
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

    /// Waits until `script` (a function body) returns true.
    pub async fn wait_until(&self, script: &str, timeout: Duration) {
        self.wait_until_with(script, json!([]), timeout).await;
    }

    /// Waits until an element matching `css` is on the page and shown.
    pub async fn wait_for_visible(&self, css: &str, timeout: Duration) {
        let shown = "const e = document.querySelector(arguments[0]); return !!e && e.getClientRects().length > 0;";
        self.wait_until_with(shown, json!([css]), timeout).await;
    }

    /// Waits until `script` (a function body; `arguments` holds `args`) returns true.
    pub async fn wait_until_with(&self, script: &str, args: Value, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.script(script, args.clone()).await != json!(true) {
            assert!(Instant::now() < deadline, "never true: {script} {args}; the page shows:\n{}", self.text().await);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The contents of the downloaded file `name`, once the browser has finished saving it.
    pub async fn download(&self, name: &str, timeout: Duration) -> Vec<u8> {
        let path = self.downloads.join(name);
        let deadline = Instant::now() + timeout;
        // Chromium writes to `name.crdownload` and renames it when done.
        while !path.exists() {
            assert!(Instant::now() < deadline, "{name} was never downloaded; the page shows:\n{}", self.text().await);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        std::fs::read(&path).expect("the download")
    }

    pub async fn screenshot(&self, name: &str) {
        let b64 = self.cmd(Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD.decode(b64.as_str().unwrap_or_default()).expect("png");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("screenshot");
    }
}
