//! `keyturn demo`: runs the whole flow against a throwaway instance over real HTTP and
//! prints each step with its timing — order, sandbox card page, 3-D Secure, signed callback,
//! credentials email, verification, login, password change, cabinet. With `--gateway NAME`
//! the sandbox calls back in that gateway's dialect, signed with throwaway secrets.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use reqwest::redirect::Policy;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::clock::Clock;
use crate::config::Settings;
use crate::payments::gateways::GatewayId;
use crate::sandbox::dialects::callback_path;

struct Steps {
    started: Instant,
    last: Instant,
    n: usize,
}

impl Steps {
    fn done(&mut self, what: &str) {
        self.n += 1;
        let now = Instant::now();
        println!("{:>2}. {:<62} {:>7.1} ms", self.n, what, (now - self.last).as_secs_f64() * 1000.0);
        self.last = now;
    }
}

/// Decodes a quoted-printable body (soft line breaks and `=XX` escapes).
pub fn decode_quoted_printable(s: &str) -> String {
    let joined = s.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or(""), 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn order_suffix() -> String {
    crate::crypto::random_id("c")[2..10].to_string()
}

fn field<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    text.lines().find_map(|l| l.trim().strip_prefix(prefix)).map(str::trim)
}

fn read_credentials(mail_dir: &Path) -> anyhow::Result<Option<(String, String, String)>> {
    for entry in std::fs::read_dir(mail_dir)? {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("eml") {
            continue;
        }
        let text = decode_quoted_printable(&std::fs::read_to_string(&path)?);
        if let (Some(login), Some(password)) = (field(&text, "Login:"), field(&text, "Password:")) {
            let token = text
                .split("verify-email?token=")
                .nth(1)
                .map(|rest| rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect())
                .ok_or_else(|| anyhow!("credentials email without a link"))?;
            return Ok(Some((login.to_string(), password.to_string(), token)));
        }
    }
    Ok(None)
}

async fn expect(resp: reqwest::Response, status: StatusCode, what: &str) -> anyhow::Result<reqwest::Response> {
    if resp.status() != status {
        let got = resp.status();
        let body = resp.text().await.unwrap_or_default();
        bail!("{what}: expected {status}, got {got}: {body}");
    }
    Ok(resp)
}

fn cookie_of(resp: &reqwest::Response) -> anyhow::Result<String> {
    resp.headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(String::from)
        .ok_or_else(|| anyhow!("no session cookie"))
}

/// Runs the demo; `keep` leaves the data folder behind; the sandbox speaks `gateway`'s dialect.
pub async fn run(keep: bool, database_url: Option<String>, gateway: &str) -> anyhow::Result<()> {
    let dialect: GatewayId =
        gateway.parse().map_err(|_| anyhow!("unknown gateway `{gateway}`: one of {}", GatewayId::names()))?;
    let dir: PathBuf = std::env::temp_dir().join(crate::crypto::random_id("keyturn-demo"));
    std::fs::create_dir_all(&dir)?;
    let result = flow(&dir, database_url, dialect).await;
    if keep {
        println!("data kept in {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

async fn flow(dir: &Path, database_url: Option<String>, dialect: GatewayId) -> anyhow::Result<()> {
    let mut steps = Steps { started: Instant::now(), last: Instant::now(), n: 0 };
    let mut pairs = vec![
        ("data_dir", dir.to_string_lossy().into_owned()),
        ("listen", "127.0.0.1:0".into()),
        ("worker_poll_ms", "100".into()),
        ("sandbox_enabled", "true".into()),
        ("sandbox_dialect", dialect.as_str().into()),
    ];
    if let Some(url) = database_url {
        pairs.push(("database_url", url));
    }
    // Settings that enable the dialect's gateway with throwaway secrets.
    let generated = dialect.dialect().demo_settings(dir)?;
    if !generated.is_empty() {
        pairs.extend(generated);
        steps.done(&dialect.dialect().demo_step(dialect));
    }
    let settings = Settings::from_pairs(pairs)?;
    let mail_dir = settings.mail_dir();
    let app = crate::app::start(settings, Clock::system()).await?;
    // A scratch PostgreSQL database gets no demo service at start: the demo brings its own.
    crate::catalog::service::ensure_demo_service(&app.state.db, app.state.clock.now()).await?;
    let base = app.public_url();
    println!(
        "keyturn demo — throwaway instance at {base} ({:?} database, data in {})",
        app.state.db.backend(),
        dir.display()
    );
    match dialect {
        GatewayId::Sandbox => println!("the sandbox calls back in its own dialect (Standard Webhooks)"),
        d => println!(
            "the sandbox calls back in {d}'s dialect (format and signature, sandbox-only secrets) at {}",
            callback_path(d)
        ),
    }
    steps.done("start: migrate the database, seed the demo service, listen");
    let http = reqwest::Client::builder().redirect(Policy::none()).build()?;

    let services: Value = http.get(format!("{base}/api/v1/services")).send().await?.json().await?;
    let service = services[0]["slug"].as_str().context("catalog is empty")?.to_string();
    steps.done(&format!("GET  /api/v1/services → `{service}`"));

    let order: Value = expect(
        http.post(format!("{base}/api/v1/orders"))
            .json(&json!({"service": service, "name": "Demo Customer", "email": format!("demo.{}@example.com", &order_suffix())}))
            .send()
            .await?,
        StatusCode::CREATED,
        "place order",
    )
    .await?
    .json()
    .await?;
    let order_id = order["order_id"].as_str().context("order_id")?.to_string();
    steps.done(&format!("POST /api/v1/orders → {order_id}"));

    expect(http.get(order["payment_url"].as_str().unwrap_or_default()).send().await?, StatusCode::OK, "pay page")
        .await?;
    steps.done("GET  /pay/{order_id}: the customer picks the sandbox gateway");

    let resp = expect(
        http.post(format!("{base}/sandbox/checkout/{order_id}"))
            .form(&[("card_number", "4000 0000 0000 3220"), ("exp", "12/30"), ("cvc", "123")])
            .send()
            .await?,
        StatusCode::SEE_OTHER,
        "card page",
    )
    .await?;
    let challenge = resp.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    steps.done("POST sandbox card page with 4000 0000 0000 3220 → 3-D Secure");

    expect(
        http.post(format!("{base}{challenge}")).form(&[("code", "1234")]).send().await?,
        StatusCode::SEE_OTHER,
        "3-D Secure",
    )
    .await?;
    steps.done(&format!("POST 3-D Secure challenge, code 1234 → {} callback sent", dialect.as_str()));

    let deadline = Instant::now() + Duration::from_secs(30);
    let creds = loop {
        let status: Value = http.get(format!("{base}/api/v1/orders/{order_id}")).send().await?.json().await?;
        if status["status"] == "provisioned" {
            if let Some(c) = read_credentials(&mail_dir)? {
                break c;
            }
        }
        if Instant::now() > deadline {
            bail!("the order was not provisioned within 30 s (status {})", status["status"]);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let (login, password, token) = creds;
    steps.done(&format!("{} callback verified → order provisioned, credentials mailed ({login})", dialect.as_str()));

    expect(http.get(format!("{base}/verify-email?token={token}")).send().await?, StatusCode::OK, "verify page").await?;
    let refused =
        http.post(format!("{base}/api/v1/session")).json(&json!({"login": login, "password": password})).send().await?;
    expect(refused, StatusCode::FORBIDDEN, "login before verification").await?;
    steps.done("GET verify page (consumes nothing); login refused: email_not_verified");

    expect(
        http.post(format!("{base}/api/v1/verify-email")).json(&json!({"token": token})).send().await?,
        StatusCode::OK,
        "verify",
    )
    .await?;
    steps.done("POST /api/v1/verify-email → account active");

    let resp = expect(
        http.post(format!("{base}/api/v1/session")).json(&json!({"login": login, "password": password})).send().await?,
        StatusCode::OK,
        "login",
    )
    .await?;
    let cookie = cookie_of(&resp)?;
    steps.done("POST /api/v1/session with the temporary password → must change it");

    let new_password = "demo-Tangerine-viaduct-92";
    let resp = expect(
        http.post(format!("{base}/api/v1/me/password"))
            .header("cookie", &cookie)
            .json(&json!({"current_password": password, "new_password": new_password}))
            .send()
            .await?,
        StatusCode::NO_CONTENT,
        "password change",
    )
    .await?;
    let cookie = cookie_of(&resp)?;
    steps.done("POST /api/v1/me/password → own password set, session renewed");

    let me: Value = expect(
        http.get(format!("{base}/api/v1/me")).header("cookie", &cookie).send().await?,
        StatusCode::OK,
        "cabinet",
    )
    .await?
    .json()
    .await?;
    let until = me["services"][0]["active_until"].as_str().unwrap_or("?").to_string();
    steps
        .done(&format!("GET  /api/v1/me → {} active until {until}", me["services"][0]["slug"].as_str().unwrap_or("?")));

    app.stop().await;
    steps.done("graceful stop");
    println!("the whole flow took {:.0} ms", steps.started.elapsed().as_secs_f64() * 1000.0);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::decode_quoted_printable;

    #[test]
    fn decodes_soft_breaks_and_escapes() {
        assert_eq!(decode_quoted_printable("token=3Dab=\r\ncd"), "token=abcd");
    }
}
