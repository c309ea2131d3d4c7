//! Login flood benchmark: starts `keyturn serve` (this build's binary) on a throwaway SQLite
//! database on 127.0.0.1, floods it with correct logins at several times its hashing capacity,
//! probes the catalog and a session check meanwhile, and prints throughput, latencies and the
//! server's peak memory against the targets of the hardening issue.
//!
//! Run: `cargo bench --bench login_flood` (release profile). Knobs (environment):
//! `FLOOD_SECS` (20), `FLOOD_FACTOR` (10), `FLOOD_THREADS` (available cores; passed to the server
//! as `hash_workers`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use keyturn::accounts::model as accounts;
use keyturn::db::Db;

#[path = "common/mod.rs"]
mod common;
use common::{knob, serve, summary};

const PASSWORD: &str = "flood-bench correct horse battery";
const ACCOUNTS: usize = 64;
/// Upper bound on the requests one run may send, whatever the knobs say.
const MAX_REQUESTS: usize = 50_000;

fn argon() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(19456, 2, 1, Some(32)).expect("params"))
}

/// Raw argon2id hashes per second on `threads` threads, each hashing into its own memory.
fn raw_rate(threads: usize, secs: f64) -> f64 {
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(secs);
    let handles: Vec<_> = (0..threads)
        .map(|i| {
            std::thread::spawn(move || {
                let argon = argon();
                let mut memory = vec![Block::new(); argon.params().block_count()];
                let mut out = [0u8; 32];
                let mut n = 0u32;
                while Instant::now() < deadline && n < 10_000 {
                    argon.hash_password_into_with_memory(b"raw", &[i as u8; 16], &mut out, &mut memory).expect("hash");
                    n += 1;
                }
                n
            })
        })
        .collect();
    let total: u32 = handles.into_iter().map(|h| h.join().expect("raw hashing thread")).sum();
    f64::from(total) / started.elapsed().as_secs_f64()
}

/// Creates `ACCOUNTS` active accounts (`kt-flood<i>`) sharing one password hash.
async fn seed(url: &str) -> anyhow::Result<()> {
    let url = url.to_string();
    let db = tokio::task::spawn_blocking(move || Db::connect(&url, 2)).await??;
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    let hash = argon().hash_password(PASSWORD.as_bytes(), &salt).map_err(|e| anyhow::anyhow!("{e}"))?.to_string();
    let now = chrono::Utc::now().timestamp();
    db.write(move |c| {
        for i in 0..ACCOUNTS {
            let a = common::account(&format!("kt-flood{i}"), Some(hash.clone()), now);
            accounts::insert(c, &a)?;
        }
        Ok(())
    })
    .await?;
    Ok(())
}

/// `VmHWM` (peak resident memory) of a process, in MB.
fn peak_rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(f64::NAN);
    kb / 1024.0
}

struct Login {
    status: u16,
    took: Duration,
    done: Instant,
}

async fn login(client: &reqwest::Client, base: &str, i: usize) -> Login {
    let started = Instant::now();
    let body = serde_json::json!({"login": format!("kt-flood{}", i % ACCOUNTS), "password": PASSWORD});
    let status = match client.post(format!("{base}/api/v1/session")).json(&body).send().await {
        Ok(r) => {
            let s = r.status().as_u16();
            let _ = r.bytes().await;
            s
        }
        Err(_) => 0,
    };
    Login { status, took: started.elapsed(), done: Instant::now() }
}

/// GETs the catalog and the session check in turn until `until`; returns both latency lists.
async fn probe(
    client: reqwest::Client,
    base: String,
    cookie: String,
    until: Instant,
) -> (Vec<Duration>, Vec<Duration>) {
    let (mut catalog, mut me) = (Vec::new(), Vec::new());
    while Instant::now() < until && catalog.len() < 10_000 {
        for (path, out) in [("/api/v1/services", &mut catalog), ("/api/v1/me", &mut me)] {
            let started = Instant::now();
            let r = client.get(format!("{base}{path}")).header("cookie", &cookie).send().await;
            let ok = matches!(&r, Ok(r) if r.status().is_success());
            if let Ok(r) = r {
                let _ = r.bytes().await;
            }
            assert!(ok, "{path} failed during the flood");
            out.push(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (catalog, me)
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "ok"
    } else {
        "MISSED"
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let threads: usize = knob("FLOOD_THREADS", cores);
    let secs: f64 = knob("FLOOD_SECS", 20.0);
    let factor: f64 = knob("FLOOD_FACTOR", 10.0);

    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("keyturn.db").display());
    seed(&url).await?;
    let raw_before = raw_rate(threads, 3.0);
    println!("login_flood: {threads} hashing thread(s), {secs} s at {factor}x capacity, SQLite");
    let (mut child, base) = serve(dir.path(), &url, &[("KEYTURN_HASH_WORKERS", threads.to_string())])?;
    let client = reqwest::Client::builder().pool_max_idle_per_host(512).build()?;

    let first = client
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({"login": "kt-flood0", "password": PASSWORD}))
        .send()
        .await?;
    anyhow::ensure!(first.status() == 200, "a single login failed: {}", first.status());
    let cookie = first.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let cookie = cookie.split(';').next().unwrap_or_default().to_string();

    let rate = factor * raw_before;
    let total = ((rate * secs).ceil() as usize).min(MAX_REQUESTS);
    let started = Instant::now();
    let until = started + Duration::from_secs_f64(secs);
    let prober = tokio::spawn(probe(client.clone(), base.clone(), cookie, until));
    let base = Arc::new(base);
    let mut sent = Vec::with_capacity(total);
    for k in 0..total {
        tokio::time::sleep_until((started + Duration::from_secs_f64(k as f64 / rate)).into()).await;
        let (client, base) = (client.clone(), base.clone());
        sent.push(tokio::spawn(async move { login(&client, &base, k).await }));
    }
    let mut results = Vec::with_capacity(total);
    for h in sent {
        results.push(h.await?);
    }
    let (catalog, me) = prober.await?;
    let peak = peak_rss_mb(child.id());
    let _ = child.kill();
    let _ = child.wait();
    let raw_after = raw_rate(threads, 3.0);
    let raw = (raw_before + raw_after) / 2.0;

    let ok: Vec<&Login> = results.iter().filter(|l| l.status == 200).collect();
    let refused: Vec<Duration> = results.iter().filter(|l| l.status == 503).map(|l| l.took).collect();
    let other = results.len() - ok.len() - refused.len();
    let span = ok.iter().map(|l| l.done).max().map_or(f64::NAN, |end| (end - started).as_secs_f64());
    let logins_per_sec = ok.len() as f64 / span;

    println!("  raw argon2id m=19456,t=2,p=1        {raw:.1} hashes/s on {threads} thread(s) (before {raw_before:.1}, after {raw_after:.1})");
    println!(
        "  flood                              {} logins sent ({rate:.0}/s): {} succeeded, {} refused 503, {other} other",
        results.len(),
        ok.len(),
        refused.len()
    );
    println!("  logins/s                           {logins_per_sec:.1} = {:.2} x raw", logins_per_sec / raw);
    let refused_p99 = summary("refused logins (503)", refused);
    summary("successful logins", ok.iter().map(|l| l.took).collect());
    let catalog_p99 = summary("catalog GET /api/v1/services", catalog);
    let me_p99 = summary("session check GET /api/v1/me", me);
    println!("  peak RSS (VmHWM) of keyturn serve  {peak:.0} MB");
    println!("targets:");
    println!("  peak RSS <= 150 MB                 {}", verdict(peak <= 150.0));
    println!("  logins/s >= 0.9 x raw              {}", verdict(logins_per_sec >= 0.9 * raw));
    println!("  cheap calls p99 < 50 ms            {}", verdict(catalog_p99 < 50.0 && me_p99 < 50.0));
    println!("  refused logins p99 < 10 ms         {}", verdict(refused_p99 < 10.0));
    anyhow::ensure!(other == 0, "{other} logins got neither 200 nor 503");
    Ok(())
}
