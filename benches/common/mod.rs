//! What the benchmarks share: knobs, starting `keyturn serve`, latency summaries.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::time::Duration;

use keyturn::accounts::model::{self as accounts, Account};

pub fn knob<T: FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Starts the server; returns it and its base URL (read from its first line of output).
pub fn serve(dir: &std::path::Path, url: &str, env: &[(&str, String)]) -> anyhow::Result<(Child, String)> {
    let log = std::fs::File::create(dir.join("server.log"))?;
    let mut child = Command::new(env!("CARGO_BIN_EXE_keyturn"))
        .arg("serve")
        .env("KEYTURN_DATA_DIR", dir)
        .env("KEYTURN_DATABASE_URL", url)
        .env("KEYTURN_LISTEN", "127.0.0.1:0")
        .env("KEYTURN_RATE_LIMIT_LOGIN_PER_MINUTE", "1000000")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped stdout")).read_line(&mut line)?;
    let addr = line.split_whitespace().nth(3).filter(|a| a.starts_with("127.0.0.1:"));
    let Some(addr) = addr else {
        let _ = child.kill();
        anyhow::bail!("the server did not start (see {}/server.log): {line:?}", dir.display());
    };
    Ok((child, format!("http://{addr}")))
}

/// The `q`-quantile of latencies, in ms.
pub fn quantile(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

pub fn summary(name: &str, mut v: Vec<Duration>) -> f64 {
    v.sort();
    let p99 = quantile(&v, 0.99);
    println!(
        "  {name:<34} n={:<6} p50 {:>7.1} ms   p99 {:>7.1} ms   max {:>7.1} ms",
        v.len(),
        quantile(&v, 0.5),
        p99,
        quantile(&v, 1.0)
    );
    p99
}

/// An active, verified account `login` (email `<login>@example.test`) with this password hash.
pub fn account(login: &str, password_hash: Option<String>, now: i64) -> Account {
    Account {
        id: keyturn::crypto::random_id("acc").into(),
        login: login.to_string(),
        email: format!("{login}@example.test"),
        name: format!("Bench {login}"),
        status: accounts::ACTIVE,
        password_hash,
        must_change_password: false,
        temp_password_expires_at: None,
        email_verified_at: Some(now),
        failed_logins: 0,
        failed_window_start: 0,
        created_at: now,
        updated_at: now,
        renewal_reminders: true,
        locale: "en".into(),
    }
}
