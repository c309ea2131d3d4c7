//! Running it: the CLI (demo, check-config, migrate), hashing saturation that turns logins
//! away without starving anything else, and a database outage answered with 503 and
//! recovered from without a restart.

use std::process::Command;
use std::time::{Duration, Instant};

use diesel::{Connection, RunQueryDsl};
use serde_json::json;

use crate::harness::*;

fn keyturn(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keyturn"));
    cmd.args(args).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run keyturn")
}

#[test]
fn demo_runs_the_whole_flow_and_exits_zero() {
    let out = keyturn(&["demo"], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "demo failed: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    for step in ["POST /api/v1/orders", "3-D Secure", "credentials mailed", "/api/v1/me", "graceful stop"] {
        assert!(stdout.contains(step), "demo output lacks {step:?}:\n{stdout}");
    }
}

#[test]
fn check_config_names_the_bad_setting_and_migrate_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_string_lossy().into_owned();
    let out = keyturn(&["check-config"], &[("KEYTURN_DATA_DIR", &data), ("KEYTURN_RESEND_PER_HOUR", "lots")]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("resend_per_hour"));

    let out = keyturn(&["check-config"], &[("KEYTURN_DATA_DIR", &data), ("KEYTURN_SANDBOX_ENABLED", "false")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("settings are valid"));

    let first = keyturn(&["migrate"], &[("KEYTURN_DATA_DIR", &data)]);
    assert!(first.status.success());
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite")).unwrap().count();
    assert!(String::from_utf8_lossy(&first.stdout).contains(&format!("({migrations} migrations applied now)")));
    let again = keyturn(&["migrate"], &[("KEYTURN_DATA_DIR", &data)]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("(0 migrations applied now)"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_flood_is_turned_away_at_once_while_pages_stay_fast() {
    let app = TestApp::builder().set("hash_workers", "1").set("hash_queue", "1").start().await;
    let mut logins = Vec::new();
    for i in 0..12 {
        let client = app.client.clone();
        let url = app.url("/api/v1/session");
        logins.push(tokio::spawn(async move {
            let body = json!({"login": format!("kt-nobody{i}"), "password": "wrong password guess"});
            let resp = client.post(url).json(&body).send().await.unwrap();
            let status = resp.status().as_u16();
            let retry = resp.headers().get("retry-after").is_some();
            let v: serde_json::Value = resp.json().await.unwrap();
            (status, v["error"].as_str().unwrap_or_default().to_string(), retry)
        }));
    }
    // While the hashing pool is saturated, everything else answers promptly.
    let started = Instant::now();
    assert_eq!(app.get("/api/v1/services").await.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(2), "catalog slowed by the login flood");
    let mut busy = 0;
    let mut refused = 0;
    for l in logins {
        match l.await.unwrap() {
            (503, code, retry) => {
                assert_eq!(code, "server_busy");
                assert!(retry, "503 without Retry-After");
                busy += 1;
            }
            (401, code, _) => {
                assert_eq!(code, "invalid_credentials");
                refused += 1;
            }
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert!(busy > 0, "no login was turned away (refused {refused})");
    assert!(refused > 0, "every login was turned away");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_excess_login_is_refused_before_it_waits_for_the_database() {
    let app = TestApp::builder().set("hash_workers", "1").set("hash_queue", "0").start().await;
    let a = app.active().await;
    // The hashing pool is full and a long write holds the database: an excess login is
    // answered 503 at once instead of queueing for the write turn first.
    let place = app.hold_hashing_place();
    let writing = app.hold_write().await;
    let resp = tokio::time::timeout(Duration::from_secs(5), a.customer.login(&a.login, &a.password))
        .await
        .expect("an excess login waited for the database");
    assert!(resp.headers().get("retry-after").is_some(), "503 without Retry-After");
    assert_error(resp, 503, "server_busy").await;
    writing.release().await;
    drop(place);
    // Once the place is free, the same login goes through.
    json_status(a.customer.login(&a.login, &a.password).await, 200).await;
    app.stop().await;
}

fn set_connections(pg_url: &str, allow: bool) {
    let url = url::Url::parse(pg_url).unwrap();
    let name = url.path().trim_start_matches('/').to_string();
    let mut admin_url = url.clone();
    admin_url.set_path("/postgres");
    let mut conn = diesel::PgConnection::establish(admin_url.as_str()).unwrap();
    diesel::sql_query(format!("ALTER DATABASE {name} ALLOW_CONNECTIONS {allow}")).execute(&mut conn).unwrap();
    if !allow {
        diesel::sql_query(format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        ))
        .execute(&mut conn)
        .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_outage_answers_503_and_recovers_without_restart() {
    if db::is_mysql() {
        eprintln!("database outage test skipped on MariaDB: the outage is made with PostgreSQL's ALLOW_CONNECTIONS");
        return;
    }
    let app = TestApp::builder().start().await;
    let Some(pg) = app.pg_url() else {
        eprintln!("database outage test skipped: it needs KEYTURN_TEST_DATABASE_URL (PostgreSQL)");
        return;
    };
    let email = unique_email();
    let order_id = app.order(&email).await;
    let body = app.success_body(&order_id, "sbp_outage", "authenticated").await;

    let pg_down = pg.clone();
    tokio::task::spawn_blocking(move || set_connections(&pg_down, false)).await.unwrap();
    assert_eq!(app.get("/readyz").await.status(), 503);
    let resp = app.post_json("/api/v1/orders", &json!({"service": "demo", "name": "A", "email": unique_email()})).await;
    assert_eq!(resp.status(), 503, "order intake during the outage");
    assert!(resp.headers().get("retry-after").is_some());
    // A gateway's callback during the outage gets 503, so the gateway retries later.
    let id = "evt_outage";
    let ts = app.clock.now();
    assert_eq!(app.signed_callback(id, ts, &body).await.status(), 503);

    let pg_up = pg.clone();
    tokio::task::spawn_blocking(move || set_connections(&pg_up, true)).await.unwrap();
    assert_eq!(app.get("/readyz").await.status(), 200, "recovered without a restart");
    assert_eq!(app.signed_callback(id, app.clock.now(), &body).await.status(), 200, "the retry is applied");
    app.mail.wait_for(&email, Kind::Credentials, 1, MAIL_TIMEOUT).await;
    app.stop().await;
}

/// A database that does not answer is named as such ("Connection refused"), not as a bad URL.
#[test]
fn an_unreachable_database_is_reported_with_its_real_cause() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_string_lossy().into_owned();
    let port = crate::harness::process::free_port();
    let url = format!("postgres://postgres@127.0.0.1:{port}/keyturn");
    let out = keyturn(&["migrate"], &[("KEYTURN_DATA_DIR", &data), ("KEYTURN_DATABASE_URL", &url)]);
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(said.to_lowercase().contains("connection refused"), "the cause is not named:\n{said}");
    assert!(!said.contains("Invalid connection url"), "reported as a bad URL:\n{said}");
}

/// The real binary during a PostgreSQL outage: the cause is logged once (not once per
/// attempt), the recovery once, and requests meanwhile get 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_is_logged_once_with_its_cause() {
    if db::base_url().is_none() || db::is_mysql() {
        eprintln!("skipped: needs {} on PostgreSQL (an outage of a SQLite file is not a thing)", db::ENV);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut instance =
        crate::harness::process::Instance::new(&dir.path().join("data"), smtp::shared().addr.port()).await;
    let mut life = instance.serve().await;
    let app = life.driver(smtp::shared().store.clone());
    let pg = instance.database();
    let down = pg.clone();
    tokio::task::spawn_blocking(move || set_connections(&down, false)).await.unwrap();
    let during = (0..6).map(|_| app.get("/readyz"));
    for resp in futures_util::future::join_all(during).await {
        assert_eq!(resp.status(), 503);
    }
    tokio::task::spawn_blocking(move || set_connections(&pg, true)).await.unwrap();
    assert_eq!(app.get("/readyz").await.status(), 200, "recovered without a restart");
    life.kill();
    let logs = life.logs();
    assert_eq!(logs.matches("db_connect_failed").count(), 1, "the outage flooded the log:\n{logs}");
    assert!(logs.contains("not currently accepting connections"), "the cause is not named:\n{logs}");
    assert!(logs.contains("db_connect_restored"), "the recovery is not logged:\n{logs}");
    assert!(!logs.contains("Invalid connection url"), "reported as a bad URL:\n{logs}");
    assert!(logs.matches("event=\"worker_db_error\"").count() <= 1, "the mail worker flooded the log:\n{logs}");
    assert!(
        logs.matches("event=\"webhook_worker_db_error\"").count() <= 1,
        "the webhook worker flooded the log:\n{logs}"
    );
}

/// SIGHUP loads the email templates again: a merchant's edited override is used from the next
/// email on, without a restart; an override that does not load is refused with its reason and
/// the previous templates stay in use (the server keeps serving).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_the_email_templates() {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("templates");
    let subject = templates.join("en/payment_confirmation/subject.txt.j2");
    std::fs::create_dir_all(subject.parent().unwrap()).unwrap();
    std::fs::write(&subject, "Thanks, first edition\n").unwrap();
    let mut instance = crate::harness::process::Instance::new(&dir.path().join("data"), smtp::shared().addr.port())
        .await
        .set("templates_dir", &templates.to_string_lossy());
    let life = instance.serve().await;
    let app = life.driver(smtp::shared().store.clone());
    let hup = |life: &crate::harness::process::Keyturn, seen: usize, event: &str| {
        // SAFETY: kill(2) on our own child's pid.
        assert_eq!(unsafe { libc::kill(life.pid() as libc::pid_t, libc::SIGHUP) }, 0);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while life.logs().matches(event).count() <= seen {
            assert!(std::time::Instant::now() < deadline, "no {event} after SIGHUP:\n{}", life.logs());
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let subject_of_next_order = || async {
        let email = unique_email();
        let order_id = app.order(&email).await;
        app.pay_by_callback(&order_id, "authenticated").await;
        app.mail.wait_for(&email, Kind::Confirmation, 1, MAIL_TIMEOUT).await.subject
    };
    assert_eq!(subject_of_next_order().await, "Thanks, first edition");

    std::fs::write(&subject, "Thanks, second edition\n").unwrap();
    hup(&life, 0, "templates_reloaded");
    assert_eq!(subject_of_next_order().await, "Thanks, second edition");

    // One body part alone: refused, the second edition stays, the server keeps serving.
    let text_only = templates.join("en/payment_confirmation/body.txt.j2");
    std::fs::write(&text_only, "Only the text part\n").unwrap();
    hup(&life, 0, "templates_reload_failed");
    assert!(life.logs().contains("override both body parts or neither"), "{}", life.logs());
    assert_eq!(subject_of_next_order().await, "Thanks, second edition");
    assert_eq!(app.get("/readyz").await.status(), 200);
}
