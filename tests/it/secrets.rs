//! Secrets at rest and in logs: the temporary password, the verification token,
//! session ids and card numbers never appear in the database (SQLite's files, or every row
//! of every table on PostgreSQL) or the logs — on the backend under test.

use std::path::Path;

use crate::harness::customer::session_cookie_value;
use crate::harness::process::Instance;
use crate::harness::*;

const CARD: &str = "4242424242424242";

/// Every file under `dir` that contains `needle` (raw bytes).
fn files_containing(dir: &Path, needle: &str) -> Vec<String> {
    let mut hits = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                    hits.push(path.display().to_string());
                }
            }
        }
    }
    hits
}

/// Runs the flow on `app` through the sandbox pages; returns the secrets it saw.
async fn flow_collecting_secrets(app: &TestApp) -> Vec<(&'static str, String)> {
    let email = unique_email();
    let order_id = app.order(&email).await;
    app.pay_with_card(&order_id, CARD, "").await;
    let first = app.mail.credentials(&email, 1).await;
    // A resend: a second temporary password and token.
    assert_eq!(app.resend(&email).await.status(), 202);
    let second = app.mail.credentials(&email, 2).await;
    json_status(app.verify(&second.token).await, 200).await;

    let customer = app.customer();
    let login = customer.login(&second.login, &second.password).await;
    let temp_session = session_cookie_value(&login).expect("session cookie");
    assert_eq!(login.status(), 200);
    let new_password = strong_password();
    let change = customer.change_password(&second.password, &new_password).await;
    assert_eq!(change.status(), 204);
    let session = session_cookie_value(&change).unwrap_or_else(|| temp_session.clone());
    json_status(customer.me().await, 200).await;
    let _ = customer.login(&second.login, "Wrong-password-for-the-log-1").await;
    vec![
        ("first temporary password", first.password),
        ("first verification token", first.token),
        ("second temporary password", second.password),
        ("second verification token", second.token),
        ("new password", new_password),
        ("session id (temporary)", temp_session),
        ("session id", session),
        ("card number", CARD.to_string()),
        ("email address", email),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_plaintext_secrets_in_the_database() {
    let mut app = TestApp::builder().start().await;
    let secrets = flow_collecting_secrets(&app).await;
    let pg = app.pg_url();
    if pg.is_none() {
        let db_files: Vec<String> = std::fs::read_dir(app.data_dir())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("keyturn.db"))
            .collect();
        assert!(db_files.iter().any(|n| n == "keyturn.db"), "no SQLite file in the data dir: {db_files:?}");
    }

    // While running (SQLite: WAL not checkpointed) and after a clean shutdown.
    for moment in ["running", "stopped"] {
        if moment == "stopped" {
            app.shutdown().await;
        }
        let rows = match &pg {
            Some(url) => {
                let url = url.clone();
                tokio::task::spawn_blocking(move || db::dump_text(&url)).await.unwrap()
            }
            None => String::new(),
        };
        if pg.is_some() {
            assert!(
                rows.contains("\"pending_verification\"") || rows.contains("\"active\""),
                "the dump read no accounts"
            );
        }
        for (what, secret) in &secrets {
            if *what == "email address" {
                continue; // the address is data the order needs, not a secret
            }
            let hits = files_containing(app.data_dir(), secret);
            assert!(hits.is_empty(), "{what} found in plaintext ({moment}) in {hits:?}");
            assert!(!rows.contains(secret.as_str()), "{what} found in plaintext ({moment}) in a PostgreSQL row");
        }
    }
}

/// Runs the real binary (`keyturn serve`, on the backend under test) with its output
/// captured, drives the whole flow, then searches the captured logs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_never_contain_secrets_or_full_email_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = smtp::shared();
    let mut instance = Instance::new(&dir.path().join("data"), smtp.addr.port()).await;
    let mut keyturn = instance.serve().await;
    let app = keyturn.driver(smtp.store.clone());
    let secrets = flow_collecting_secrets(&app).await;
    keyturn.kill();

    let logs = keyturn.logs();
    // The security events are there (so the logs were really captured)...
    for event in ["authn_login_fail", "authn_login_success"] {
        assert!(logs.contains(event), "no {event} event in the logs:\n{logs}");
    }
    // ...and none of the secrets.
    for (what, secret) in &secrets {
        assert!(!logs.contains(secret.as_str()), "{what} appears in the logs:\n{logs}");
    }
}
