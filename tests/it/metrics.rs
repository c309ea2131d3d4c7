//! `/metrics` on `metrics_listen` (DESIGN §9): what happened shows in the families an operator
//! alerts on, labelled by route template (never by a path with ids in it), and the text parses
//! with the Prometheus project's own Python parser (tests/interop/metrics_parse.py, pinned in
//! requirements.txt; `.ci/run` sets KEYTURN_INTEROP=1, which turns a missing parser into a failure).

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

use crate::harness::*;

/// Every sample as the independent parser read it: (name, labels, value).
fn parsed(text: &str) -> Option<Vec<(String, Value, f64)>> {
    let ready = Command::new("python3").args(["-c", "import prometheus_client"]).status().is_ok_and(|s| s.success());
    if !ready {
        assert!(
            std::env::var("KEYTURN_INTEROP").is_err(),
            "KEYTURN_INTEROP is set but prometheus-client is not installed (pip install -r tests/interop/requirements.txt)"
        );
        eprintln!("metrics parse skipped: pip install -r tests/interop/requirements.txt");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("metrics.txt");
    std::fs::write(&file, text).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/metrics_parse.py");
    let out = Command::new("python3").arg(script).arg(&file).output().unwrap();
    assert!(
        out.status.success(),
        "the Prometheus parser refused the text: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                (v["name"].as_str().unwrap().to_string(), v["labels"].clone(), v["value"].as_f64().unwrap())
            })
            .collect(),
    )
}

/// The value of the sample `name` whose labels include `labels`.
fn value(samples: &[(String, Value, f64)], name: &str, labels: Value) -> Option<f64> {
    samples
        .iter()
        .find(|(n, l, _)| n == name && labels.as_object().unwrap().iter().all(|(k, v)| l.get(k) == Some(v)))
        .map(|(_, _, v)| *v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_show_requests_callbacks_logins_and_queues() {
    let app = TestApp::builder().set("metrics_listen", "127.0.0.1:0").start().await;
    let metrics_url = app.metrics_url();

    // A paid order, a forged callback, a failed and a good login, a page, a scanner's path.
    let (email, order_id, creds) = app.provisioned().await;
    let forged =
        app.signed_callback_with(b"not-the-key-at-all-not-the-key!!", "evt_forged", app.clock.now(), b"{}").await;
    assert_eq!(forged.status(), 400);
    let customer = app.customer();
    assert_eq!(customer.login(&creds.login, "wrong-password-1").await.status(), 401);
    json_status(app.verify(&creds.token).await, 200).await;
    json_status(customer.login(&creds.login, &creds.password).await, 200).await;
    assert_eq!(app.get("/buy/demo").await.status(), 200);
    assert_eq!(app.get("/wp-login.php").await.status(), 404);
    app.mail.wait_for(&email, Kind::Activation, 1, MAIL_TIMEOUT).await;

    // The service's own listener does not serve the metrics.
    assert_eq!(app.get("/metrics").await.status(), 404);

    let resp = reqwest::get(&metrics_url).await.unwrap();
    assert_eq!(resp.status(), 200);
    let content_type = resp.headers()["content-type"].to_str().unwrap().to_string();
    assert!(content_type.starts_with("application/openmetrics-text"), "{content_type}");
    let text = resp.text().await.unwrap();
    // Labelled by template: no order id, login or token in the text.
    for secret in [order_id.as_str(), creds.login.as_str(), creds.token.as_str(), email.as_str()] {
        assert!(!text.contains(secret), "{secret} appears in the metrics:\n{text}");
    }
    let Some(s) = parsed(&text) else { return };

    let requests = |route: &str, method: &str, status: &str| {
        value(&s, "keyturn_http_requests_total", json!({"route": route, "method": method, "status": status}))
    };
    assert_eq!(requests("/buy/:slug", "GET", "200"), Some(1.0), "{text}");
    assert_eq!(requests("/api/v1/orders", "POST", "201"), Some(1.0), "{text}");
    assert_eq!(requests("/api/v1/session", "POST", "401"), Some(1.0), "{text}");
    assert_eq!(requests("unmatched", "GET", "404"), Some(2.0), "the scanner and /metrics asked of the service: {text}");
    assert_eq!(requests("/api/v1/payments/:gateway/callback", "POST", "400"), Some(1.0), "{text}");
    let latency_count = value(&s, "keyturn_http_request_duration_seconds_count", json!({"route": "/buy/:slug"}));
    assert_eq!(latency_count, Some(1.0), "one latency observation for the page");
    let all_bucket = value(
        &s,
        "keyturn_http_request_duration_seconds_bucket",
        json!({"route": "/buy/:slug", "method": "GET", "le": "+Inf"}),
    );
    assert_eq!(all_bucket, Some(1.0));

    let callbacks =
        |outcome: &str| value(&s, "keyturn_payment_callbacks_total", json!({"gateway": "sandbox", "outcome": outcome}));
    assert_eq!(callbacks("provisioned"), Some(1.0), "{text}");
    assert_eq!(callbacks("invalid_signature"), Some(1.0), "{text}");

    let logins = |outcome: &str| value(&s, "keyturn_logins_total", json!({"outcome": outcome}));
    assert_eq!(logins("success"), Some(1.0), "{text}");
    assert_eq!(logins("invalid_credentials"), Some(1.0), "{text}");

    // Confirmation, credentials and activation went out; nothing waits or died.
    assert!(value(&s, "keyturn_emails_total", json!({"outcome": "sent"})).unwrap_or(0.0) >= 3.0, "{text}");
    assert_eq!(value(&s, "keyturn_dead_letters", json!({"queue": "mail"})), Some(0.0));
    assert_eq!(value(&s, "keyturn_dead_letters", json!({"queue": "webhook"})), Some(0.0));
    assert!(value(&s, "keyturn_queue_pending", json!({"queue": "mail"})).is_some());
    assert!(value(&s, "keyturn_queue_oldest_age_seconds", json!({"queue": "mail"})).is_some());
    assert_eq!(value(&s, "keyturn_database_up", json!({})), Some(1.0));
    assert_eq!(value(&s, "keyturn_password_hashing_queue", json!({})), Some(0.0), "no login in flight");
    assert!(value(&s, "keyturn_password_hashing_queue_capacity", json!({})).unwrap() >= 1.0);
    app.stop().await;
}

/// An email that cannot be sent shows as a dead letter, and its age while it waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_email_shows_in_the_dead_letters() {
    // The mail server is down and every email is given up after one attempt.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = TestApp::builder()
        .smtp_at(port, smtp::Store::default())
        .set("outbox_max_attempts", "1")
        .set("metrics_listen", "127.0.0.1:0")
        .start()
        .await;
    let order_id = app.order(&unique_email()).await;
    app.pay_by_callback(&order_id, "authenticated").await;
    // Confirmation and credentials: both given up.
    let deadline = std::time::Instant::now() + MAIL_TIMEOUT;
    let (text, s) = loop {
        let text = reqwest::get(&app.metrics_url()).await.unwrap().text().await.unwrap();
        let Some(s) = parsed(&text) else { return };
        if value(&s, "keyturn_dead_letters", json!({"queue": "mail"})) == Some(2.0) {
            break (text, s);
        }
        assert!(std::time::Instant::now() < deadline, "the emails never showed as dead letters:\n{text}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!(value(&s, "keyturn_emails_total", json!({"outcome": "dead"})), Some(2.0), "{text}");
    assert_eq!(value(&s, "keyturn_queue_pending", json!({"queue": "mail"})), Some(0.0), "{text}");
    app.stop().await;
}
