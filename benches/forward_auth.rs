//! Forward-auth benchmark: starts `keyturn serve` (this build's binary) on a throwaway SQLite
//! database, gives one customer a session and an access, then sends `GET /auth/verify` at a
//! steady rate (default 500 requests/s, open loop) and the catalog `GET /api/v1/services` at
//! the same rate, and prints both latency distributions against the target (p99 < 5 ms).
//!
//! Run: `cargo bench --bench forward_auth` (release profile). Knobs (environment):
//! `VERIFY_RPS` (500), `VERIFY_SECS` (10 per phase).

use std::sync::Arc;
use std::time::{Duration, Instant};

use keyturn::accounts::model as accounts;
use keyturn::crypto::{random_token, token_hash};
use keyturn::db::Db;
use keyturn::sessions::model::{self as sessions, Session};

#[path = "common/mod.rs"]
mod common;
use common::{knob, serve, summary};

/// An active customer with a 30-day access to the demo service and a live session; returns the
/// session token.
async fn seed(url: &str) -> anyhow::Result<String> {
    let url = url.to_string();
    let db = tokio::task::spawn_blocking(move || Db::connect(&url, 2)).await??;
    let token = random_token();
    let hash = token_hash(&token);
    let now = chrono::Utc::now().timestamp();
    db.write(move |c| {
        let a = common::account("kt-bench", None, now);
        let id = a.id.clone();
        accounts::insert(c, &a)?;
        accounts::extend_access(c, &id, "demo", 30, now)?;
        let s = Session {
            id_hash: hash,
            account_id: id.to_string(),
            created_at: now,
            last_seen_at: now,
            absolute_expires_at: now + 12 * 3600,
        };
        sessions::insert(c, &s)?;
        Ok(())
    })
    .await?;
    Ok(token)
}

/// Sends GET `path` at `rps` for `secs` (each request on its own schedule, not waiting for the
/// previous one); returns the latencies. Any answer but 200 fails the run.
async fn phase(client: &reqwest::Client, base: &str, path: &str, cookie: &str, rps: f64, secs: f64) -> Vec<Duration> {
    let total = (rps * secs).ceil() as usize;
    let url = Arc::new(format!("{base}{path}"));
    let cookie = Arc::new(cookie.to_string());
    let started = Instant::now();
    let mut sent = Vec::with_capacity(total);
    for k in 0..total {
        tokio::time::sleep_until((started + Duration::from_secs_f64(k as f64 / rps)).into()).await;
        let (client, url, cookie) = (client.clone(), url.clone(), cookie.clone());
        sent.push(tokio::spawn(async move {
            let t = Instant::now();
            let r = client.get(url.as_str()).header("cookie", cookie.as_str()).send().await;
            let status = match r {
                Ok(r) => {
                    let s = r.status().as_u16();
                    let _ = r.bytes().await;
                    s
                }
                Err(_) => 0,
            };
            (status, t.elapsed())
        }));
    }
    let mut took = Vec::with_capacity(total);
    for h in sent {
        let (status, t) = h.await.expect("request task");
        assert_eq!(status, 200, "{path} answered {status}");
        took.push(t);
    }
    took
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rps: f64 = knob("VERIFY_RPS", 500.0);
    let secs: f64 = knob("VERIFY_SECS", 10.0);
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("keyturn.db").display());
    let (mut child, base) = serve(dir.path(), &url, &[])?;
    let token = seed(&url).await?;
    let cookie = format!("keyturn_session={token}");
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build()?;
    let check = client.get(format!("{base}/auth/verify?service=demo")).header("cookie", &cookie).send().await?;
    anyhow::ensure!(check.status() == 200, "the seeded session does not pass: {}", check.status());

    println!("forward_auth: {rps} requests/s for {secs} s per phase, SQLite, one instance");
    // A second of warm-up, then the measured phases.
    phase(&client, &base, "/auth/verify?service=demo", &cookie, rps, 1.0).await;
    let verify = phase(&client, &base, "/auth/verify?service=demo", &cookie, rps, secs).await;
    let catalog = phase(&client, &base, "/api/v1/services", "", rps, secs).await;
    let _ = child.kill();
    let _ = child.wait();
    let verify_p99 = summary("forward auth GET /auth/verify", verify);
    let catalog_p99 = summary("catalog GET /api/v1/services", catalog);
    println!("targets:");
    println!("  /auth/verify p99 < 5 ms            {}", if verify_p99 < 5.0 { "ok" } else { "MISSED" });
    println!("  (catalog p99 for comparison        {catalog_p99:.1} ms)");
    Ok(())
}
